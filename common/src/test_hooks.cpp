#include "bock/common/test_hooks.hpp"

#ifdef BOCK_TEST_HOOKS
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace bock::test_hooks {

void kill_point(const char* name) {
    static const char* wanted = std::getenv("BOCK_TEST_KILL_POINT");
    if (wanted && std::strcmp(wanted, name) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace bock::test_hooks
#endif

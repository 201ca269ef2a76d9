// Helpers shared by bock-oci's commands.
#include <fcntl.h>
#include <unistd.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

bool is_rootless() { return !paths::running_as_root(); }

Result<std::string> state_root(const GlobalOptions& g) {
    if (!g.root.empty()) return g.root;
    return runtime::default_state_root();
}

Result<void> check_preserved_fds(int n) {
    if (n < 0) return make_error("--preserve-fds {}: must not be negative", n);
    for (int fd = 3; fd < 3 + n; ++fd)
        if (::fcntl(fd, F_GETFD) < 0) return errno_error("--preserve-fds {}: fd {}", n, fd);
    return ok();
}

int fail(const Error& e) {
    log::report(e);
    return 1;
}

}  // namespace bock::oci

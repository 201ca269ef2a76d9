// Helpers shared by bock-oci's commands.
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

int fail(const Error& e) {
    log::report(e);
    return 1;
}

}  // namespace bock::oci

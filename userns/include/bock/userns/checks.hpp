// Host checks shared by `bock doctor` and by the error paths of the session:
// each returns what it found and, when something is wrong, how to fix it.
#pragma once

#include <string>

#include "bock/common/error.hpp"

namespace bock::userns {

struct CheckResult {
    bool ok = false;
    std::string detail;  // what was found ("user.max_user_namespaces = 0")
    std::string fix;     // how to fix it, empty when ok
};

// Unprivileged user namespaces allowed? Looks at
// kernel.unprivileged_userns_clone (when present), user.max_user_namespaces
// and tries unshare(CLONE_NEWUSER) in a child.
CheckResult check_userns_allowed();
// newuidmap / newgidmap present, owned by root and setuid (or with file caps).
CheckResult check_idmap_program(const std::string& name);

}  // namespace bock::userns

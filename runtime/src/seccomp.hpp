// linux.seccomp: the names of the spec (actions, operators, architectures,
// flags) and the filter. The parent builds the filter with libseccomp and
// exports it as a classic BPF program before clone; the child only hands
// that program to the kernel (load_seccomp), without allocating.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

struct SeccompProgram {
    std::vector<sock_filter> filter;  // empty: no filter to load
    unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* for seccomp(2)
};

// Name checks for the parser (spec.cpp).
bool seccomp_action_known(std::string_view name);
// SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry a number (errnoRet).
bool seccomp_action_takes_errno(std::string_view name);
bool seccomp_op_known(std::string_view name);
bool seccomp_arch_known(std::string_view name);
std::optional<unsigned int> seccomp_flag_value(std::string_view name);

// Builds the filter (parent side, before clone). Syscall names this
// libseccomp does not know are skipped with a debug log, as runc does.
// SCMP_ACT_NOTIFY / listenerPath are refused for now.
Result<SeccompProgram> build_seccomp(const Seccomp& s);

// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog): 0 or -errno. Safe in the
// child (no allocation). The caller holds CAP_SYS_ADMIN or has set
// no_new_privs; EACCES otherwise.
int load_seccomp(const SeccompProgram& p);

}  // namespace bock::runtime

// linux.seccomp: the names of the spec (actions, operators, architectures,
// flags) and the filter. The parent builds the filter with libseccomp and
// exports it as a classic BPF program before clone; the child only hands
// that program to the kernel (load_seccomp), without allocating.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

// linux.seccomp.listenerPath (seccomp_notify.hpp): where the notify fd
// goes, with the runtime-spec state the caller fills in before clone.
struct SeccompListener {
    std::string path;      // empty: the filter has no SCMP_ACT_NOTIFY rule
    std::string metadata;  // listenerMetadata
    nlohmann::json state;  // ociVersion, id, status, bundle, annotations (pid added on delivery)
};

struct SeccompProgram {
    std::vector<sock_filter> filter;  // empty: no filter to load
    unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* for seccomp(2)
    SeccompListener listener;         // with a path: flags has NEW_LISTENER
};

// Name checks for the parser (spec.cpp).
bool seccomp_action_known(std::string_view name);
// SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry a number (errnoRet).
bool seccomp_action_takes_errno(std::string_view name);
bool seccomp_op_known(std::string_view name);
bool seccomp_arch_known(std::string_view name);
// The libseccomp token of "SCMP_ARCH_X86_64" (0: unknown).
uint32_t seccomp_arch_token(std::string_view name);
std::optional<unsigned int> seccomp_flag_value(std::string_view name);

// seccomp_enosys.cpp: the instructions put in front of libseccomp's
// program so that a system call newer than every one the profile names
// returns ENOSYS, not the default action (runc's -ENOSYS stub); empty when
// the default action allows or already returns ENOSYS.
Result<std::vector<sock_filter>> enosys_stub(const Seccomp& s, uint32_t default_action);

// Builds the filter (parent side, before clone). Syscall names this
// libseccomp does not know are skipped with a debug log, as runc does;
// the -ENOSYS stub goes in front.
// SCMP_ACT_NOTIFY needs listenerPath and is refused as the default action
// and for sendmsg (the runtime hands the listener fd over with it, after
// the load); a listenerPath without any notify rule is ignored.
Result<SeccompProgram> build_seccomp(const Seccomp& s);

// build_seccomp through a cache of compiled filters in `dir` (none when
// empty, or when the filter has a listener): one file per filter, named by
// a hash of its key and holding the key (the linux.seccomp object, the
// kernel release, libseccomp's version) in full, compared before use.
Result<SeccompProgram> build_seccomp_cached(const Seccomp& s, const std::string& dir);

// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog): 0 or -errno; with a
// listener, the notify fd (> 0). Safe in the child (no allocation). The
// caller holds CAP_SYS_ADMIN or has set no_new_privs; EACCES otherwise.
int load_seccomp(const SeccompProgram& p);

}  // namespace bock::runtime

// The -ENOSYS stub: a few BPF instructions put in front of the filter
// libseccomp exports, so that a system call newer than every system call a
// profile names returns ENOSYS instead of the profile's default action.
//
// Why (runc does the same, libcontainer/seccomp/patchbpf): profiles list
// system calls by name, so one written before a system call existed (an
// older runtime's default, a hand-written allow list) denies it with its
// default errno, usually EPERM. glibc and runtimes fall back to an older
// call only on ENOSYS (clone3 -> clone, close_range -> a loop, openat2 ->
// openat, faccessat2 -> faccessat): with EPERM they fail instead. "Newer"
// is approximated, as in runc, by a larger number than the largest one the
// profile names for that architecture (new system calls are appended to
// each table).
//
// Not added when the default action lets the call through (SCMP_ACT_ALLOW,
// SCMP_ACT_LOG) or already returns ENOSYS. x32 calls on x86_64 (the
// 0x40000000 bit) go straight to libseccomp's filter: Bock does not
// compute x32 maxima.
//
// The layout (classic BPF jumps only go forward, at most 255 instructions
// with jt/jf; the stub is at most a few dozen):
//
//   ld  [arch]
//   jeq ARCH_1, 0, skip_1        one block per architecture of the filter
//   ld  [nr]
//   [jset 0x40000000 -> filter]  x86_64 only
//   jgt MAX_1 -> enosys, filter
//   ...
//   ja  filter                   an architecture without a block
//   enosys: ret ERRNO(ENOSYS)
//   filter: libseccomp's program (it loads the arch itself again)
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cerrno>
#include <cstddef>

#include "bock/common/log.hpp"
#include "seccomp.hpp"

namespace bock::runtime {

namespace {

constexpr uint32_t kX32Bit = 0x40000000U;

struct ArchMax {
    uint32_t audit_arch;
    uint32_t max_nr;
};

bool permissive_or_enosys(uint32_t default_action) {
    return default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG ||
           default_action == SCMP_ACT_ERRNO(ENOSYS);
}

// The largest number among the profile's names, per architecture of the
// filter (the native one and the profile's; x32 left out).
std::vector<ArchMax> last_syscalls(const Seccomp& s) {
    std::vector<uint32_t> arches{seccomp_arch_native()};
    for (const auto& name : s.architectures) arches.push_back(seccomp_arch_token(name));
    std::vector<ArchMax> out;
    for (uint32_t arch : arches) {
        if (arch == 0 || arch == SCMP_ARCH_X32) continue;
        bool seen = false;
        for (const auto& a : out) seen = seen || a.audit_arch == arch;
        if (seen) continue;
        int max_nr = -1;
        for (const auto& sc : s.syscalls)
            for (const auto& name : sc.names) {
                int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
                if (nr > max_nr) max_nr = nr;  // unknown: __NR_SCMP_ERROR; pseudo calls: < 0
            }
        if (max_nr <= 0) {
            log::debug("linux.seccomp: no system call named for architecture {:#x}, no -ENOSYS stub for it", arch);
            continue;
        }
        out.push_back({arch, static_cast<uint32_t>(max_nr)});
    }
    return out;
}

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

}  // namespace

Result<std::vector<sock_filter>> enosys_stub(const Seccomp& s, uint32_t default_action) {
    std::vector<sock_filter> out;
    if (permissive_or_enosys(default_action)) return out;
    std::vector<ArchMax> arches = last_syscalls(s);
    if (arches.empty()) return out;

    // Jumps to the two targets, fixed up once the stub's length is known.
    std::vector<size_t> jt_enosys, jt_filter, jf_filter;
    out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    for (const auto& a : arches) {
        bool x86_64 = a.audit_arch == AUDIT_ARCH_X86_64;
        out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.audit_arch, 0, x86_64 ? 3 : 2));
        out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
        if (x86_64) {
            jt_filter.push_back(out.size());
            out.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 0));
        }
        jt_enosys.push_back(out.size());
        jf_filter.push_back(out.size());
        out.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, a.max_nr, 0, 0));
        log::debug("linux.seccomp: system calls above {} (architecture {:#x}) return ENOSYS", a.max_nr, a.audit_arch);
    }
    out.push_back(stmt(BPF_JMP | BPF_JA | BPF_K, 1));  // no block for this architecture
    const size_t enosys = out.size();
    out.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
    const size_t filter = out.size();

    auto offset = [&](size_t from, size_t to) -> Result<uint8_t> {
        size_t d = to - from - 1;
        if (d > 255) return make_error("linux.seccomp: the -ENOSYS stub is too long ({} instructions)", out.size());
        return static_cast<uint8_t>(d);
    };
    for (size_t i : jt_enosys) out[i].jt = BOCK_TRY(offset(i, enosys));
    for (size_t i : jt_filter) out[i].jt = BOCK_TRY(offset(i, filter));
    for (size_t i : jf_filter) out[i].jf = BOCK_TRY(offset(i, filter));
    return out;
}

}  // namespace bock::runtime

// linux.seccomp to a BPF program, in the parent before clone (libseccomp:
// seccomp_init, seccomp_arch_add, seccomp_rule_add_array, then
// seccomp_export_bpf into a memfd that is read back into the plan), and
// the allocation-free load in the child.
//
// What follows runc's choices: a rule whose action equals the default
// action is left out (libseccomp refuses it); a syscall name unknown to
// this libseccomp is skipped with a debug log (profiles list syscalls of
// newer kernels); when one argument index appears in several conditions of
// a rule, each condition becomes a rule of its own (libseccomp cannot AND
// two conditions on one argument, so runc ORs them); a system call newer
// than every one the profile names returns ENOSYS (seccomp_enosys.cpp).
#include "seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "bock/common/fd.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock::runtime {

namespace {

struct ActionName {
    const char* name;
    uint32_t value;     // with a zero errno for the two that take one
    bool takes_errno;
};

constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

struct OpName {
    const char* name;
    scmp_compare op;
};

constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct ArchName {
    const char* name;
    uint32_t token;
};

constexpr ArchName kArches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

struct FlagName {
    const char* name;
    unsigned int value;
};

constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

const ActionName* find_action(std::string_view name) {
    for (const auto& a : kActions)
        if (name == a.name) return &a;
    return nullptr;
}

// The libseccomp action value; the errno defaults to EPERM as in runc.
// SCMP_ACT_NOTIFY only with a listener (`listener`).
Result<uint32_t> action_value(std::string_view name, const std::optional<uint32_t>& errno_ret,
                              std::string_view field, bool listener) {
    const ActionName* a = find_action(name);
    if (!a) return make_error("{}: unknown action `{}`", field, name);
    if (name == "SCMP_ACT_NOTIFY" && !listener)
        return make_error("{}: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath (the unix socket of the seccomp "
                          "agent that receives the notify fd)",
                          field);
    if (!a->takes_errno) return a->value;
    return a->value | (errno_ret.value_or(EPERM) & 0xffffU);
}

using FilterCtx = std::unique_ptr<void, decltype(&seccomp_release)>;

Result<void> add_rules(scmp_filter_ctx ctx, const SeccompSyscall& sc, size_t i, uint32_t default_action,
                       bool listener) {
    std::string field = fmt::format("linux.seccomp.syscalls[{}]", i);
    uint32_t action = BOCK_TRY(action_value(sc.action, sc.errno_ret, field + ".action", listener));
    if (action == SCMP_ACT_NOTIFY)
        for (const auto& name : sc.names)
            if (name == "sendmsg")
                return make_error("{}: SCMP_ACT_NOTIFY cannot be used for `sendmsg` (the runtime hands the "
                                  "listener its fd with it, after the filter is loaded)",
                                  field);
    if (action == default_action) {
        log::debug("{}: same action as the default, left out", field);
        return ok();
    }
    std::vector<scmp_arg_cmp> conds;
    bool repeated = false;
    unsigned seen = 0;
    for (size_t k = 0; k < sc.args.size(); ++k) {
        const SeccompArg& a = sc.args[k];
        scmp_compare op = SCMP_CMP_EQ;
        bool found = false;
        for (const auto& o : kOps)
            if (a.op == o.name) {
                op = o.op;
                found = true;
            }
        if (!found) return make_error("{}.args[{}].op: unknown operator `{}`", field, k, a.op);
        if (a.index > 5) return make_error("{}.args[{}].index: must be 0 to 5", field, k);
        if (seen & (1U << a.index)) repeated = true;
        seen |= 1U << a.index;
        conds.push_back({a.index, op, a.value, a.value_two});
    }
    for (const auto& name : sc.names) {
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
            log::debug("{}: unknown syscall `{}`, skipped", field, name);
            continue;
        }
        auto add = [&](unsigned n, const scmp_arg_cmp* c) -> Result<void> {
            int r = seccomp_rule_add_array(ctx, action, nr, n, c);
            if (r < 0) return Error(-r, fmt::format("{}: add the rule for `{}`", field, name));
            return ok();
        };
        if (!repeated) {
            BOCK_TRY(add(static_cast<unsigned>(conds.size()), conds.data()));
        } else {
            for (const auto& c : conds) BOCK_TRY(add(1, &c));
        }
    }
    return ok();
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
    Fd fd(::memfd_create("bock-seccomp", MFD_CLOEXEC));
    if (!fd) return errno_error("linux.seccomp: create a memfd for the filter");
    int r = seccomp_export_bpf(ctx, fd.get());
    if (r < 0) return Error(-r, "linux.seccomp: export the filter as BPF");
    return BOCK_TRY_CTX(sys::read_bpf_program(fd.get()), "linux.seccomp");
}

}  // namespace

bool seccomp_action_known(std::string_view name) { return find_action(name) != nullptr; }

bool seccomp_action_takes_errno(std::string_view name) {
    const ActionName* a = find_action(name);
    return a && a->takes_errno;
}

bool seccomp_op_known(std::string_view name) {
    for (const auto& o : kOps)
        if (name == o.name) return true;
    return false;
}

bool seccomp_arch_known(std::string_view name) { return seccomp_arch_token(name) != 0; }

uint32_t seccomp_arch_token(std::string_view name) {
    for (const auto& a : kArches)
        if (name == a.name) return a.token;
    return 0;
}

std::optional<unsigned int> seccomp_flag_value(std::string_view name) {
    for (const auto& f : kFlags)
        if (name == f.name) return f.value;
    return std::nullopt;
}

namespace {

bool uses_notify(const Seccomp& s) {
    for (const auto& sc : s.syscalls)
        if (sc.action == "SCMP_ACT_NOTIFY") return true;
    return false;
}

Result<SeccompListener> plan_listener(const Seccomp& s) {
    SeccompListener l;
    if (s.listener_path.empty()) {
        if (!s.listener_metadata.empty())
            return make_error("linux.seccomp.listenerMetadata: only allowed with linux.seccomp.listenerPath");
        return l;
    }
    if (!uses_notify(s)) {
        log::debug("linux.seccomp.listenerPath: no SCMP_ACT_NOTIFY rule, the listener is not used");
        return l;
    }
    if (s.listener_path.size() >= sizeof(sockaddr_un::sun_path))
        return make_error("linux.seccomp.listenerPath `{}`: path too long for a unix socket (at most {} bytes)",
                          s.listener_path, sizeof(sockaddr_un::sun_path) - 1);
    l.path = s.listener_path;
    l.metadata = s.listener_metadata;
    return l;
}

}  // namespace

Result<SeccompProgram> build_seccomp(const Seccomp& s) {
    SeccompProgram out;
    out.listener = BOCK_TRY(plan_listener(s));
    const bool listener = !out.listener.path.empty();
    if (s.default_action == "SCMP_ACT_NOTIFY")
        return make_error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the "
                          "runtime's own system calls after the load would wait for the listener)");
    for (size_t i = 0; i < s.flags.size(); ++i) {
        auto v = seccomp_flag_value(s.flags[i]);
        if (!v) return make_error("linux.seccomp.flags[{}]: unknown flag `{}`", i, s.flags[i]);
        out.flags |= *v;
    }
    uint32_t def =
        BOCK_TRY(action_value(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction", listener));
    FilterCtx ctx(seccomp_init(def), &seccomp_release);
    if (!ctx) return make_error("linux.seccomp: libseccomp refused the default action `{}`", s.default_action);
    for (size_t i = 0; i < s.architectures.size(); ++i) {
        uint32_t token = seccomp_arch_token(s.architectures[i]);
        if (!token)
            return make_error("linux.seccomp.architectures[{}]: unknown architecture `{}`", i, s.architectures[i]);
        int r = seccomp_arch_add(ctx.get(), token);
        if (r < 0 && r != -EEXIST)  // the native one is there already
            return Error(-r, fmt::format("linux.seccomp.architectures[{}]: add `{}`", i, s.architectures[i]));
    }
    for (size_t i = 0; i < s.syscalls.size(); ++i) BOCK_TRY(add_rules(ctx.get(), s.syscalls[i], i, def, listener));
    out.filter = BOCK_TRY(enosys_stub(s, def));
    std::vector<sock_filter> prog = BOCK_TRY(export_bpf(ctx.get()));
    out.filter.insert(out.filter.end(), prog.begin(), prog.end());
    if (out.filter.size() > BPF_MAXINSNS)
        return make_error("linux.seccomp: the filter has {} instructions, the kernel accepts at most {}",
                          out.filter.size(), BPF_MAXINSNS);
    if (listener) {
        out.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // The kernel refuses TSYNC with a listener unless a failed sync
        // is reported as ESRCH (the fd is the return value).
        if (out.flags & SECCOMP_FILTER_FLAG_TSYNC) out.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    return out;
}

int load_seccomp(const SeccompProgram& p) {
    long r = sys::raw::seccomp_set_filter(p.filter.data(), p.filter.size(), p.flags);
    if (r < 0) return static_cast<int>(r);
    if (p.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return static_cast<int>(r);  // the notify fd
    if (r > 0) return -ESRCH;  // TSYNC: thread r could not be synchronized
    return 0;
}

}  // namespace bock::runtime

#include <errno.h>
#include <sched.h>
#include <seccomp.h>


#include "bock/common/log.hpp"
#include "sandbox.hpp"

namespace bock::netns {

namespace {

// The deny list, kept readable in seccomp.rules.
const char* const kBlocked[] = {
#define BLOCK(name) #name,
#include "seccomp.rules"
#undef BLOCK
};

// Namespace flags of clone(2): a thread is fine, a new namespace is not.
constexpr uint64_t kCloneNamespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                      CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

}  // namespace

SeccompFilter::~SeccompFilter() {
    if (ctx_) seccomp_release(static_cast<scmp_filter_ctx>(ctx_));
}

Result<void> SeccompFilter::load() {
    if (int r = seccomp_load(static_cast<scmp_filter_ctx>(ctx_)); r < 0) return Error(-r, "seccomp: load the filter");
    return ok();
}

Result<SeccompFilter> SeccompFilter::build() {
    SeccompFilter filter(seccomp_init(SCMP_ACT_ALLOW));
    if (!filter.ctx_) return make_error("seccomp: init failed");
    struct {
        scmp_filter_ctx c;
        scmp_filter_ctx get() const { return c; }
    } ctx{static_cast<scmp_filter_ctx>(filter.ctx_)};
    // Every thread gets the filter (and no_new_privs), the forwarder's too.
    if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); r < 0)
        return Error(-r, "seccomp: ask for thread sync");
    for (const char* name : kBlocked) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            log::debug("seccomp: `{}` is unknown here; not blocked", name);
            continue;
        }
        if (int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); r < 0)
            return Error(-r, fmt::format("seccomp: block `{}`", name));
    }
    // One rule per flag: rules of one call are or'ed, a flag set is denied.
    for (uint64_t flag = 1; flag; flag <<= 1) {
        if (!(kCloneNamespaces & flag)) continue;
        if (int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
            r < 0)
            return Error(-r, "seccomp: clone rule");
    }
    // clone3's flags are behind a pointer: callers fall back to clone.
    if (int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); r < 0)
        return Error(-r, "seccomp: clone3 rule");
    return filter;
}

}  // namespace bock::netns

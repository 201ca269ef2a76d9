// bock-netns's seccomp filter: the deny list of seccomp.rules, compiled to
// BPF at build time by bock-netns-bpfgen (netns-helper/bpfgen/) and
// loaded here for every thread as the last step before ready.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include <iterator>

#include "bock/common/sys.hpp"
#include "sandbox.hpp"

namespace bock::netns {

namespace {

constexpr sock_filter kProgram[] = {
#include "seccomp_bpf.inc"
};

}  // namespace

Result<void> load_seccomp_filter() {
    // Set already when the sandbox is on; TSYNC passes it to every thread.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno_error("set no_new_privs");
    long r = sys::raw::seccomp_set_filter(kProgram, std::size(kProgram), SECCOMP_FILTER_FLAG_TSYNC);
    if (r < 0) return Error(static_cast<int>(-r), "seccomp: load the filter");
    if (r > 0) return make_error("seccomp: thread {} could not take the filter", r);
    return ok();
}

}  // namespace bock::netns

// `bock top CONTAINER [DESCRIPTORS...]` (issue 18): the container's
// processes as podman shows them, read from /proc (rootless too). The
// descriptors are podman's (psgo's): user, pid, ppid, pcpu, etime, tty,
// time, args, comm, group, nice, pgid, rgroup, ruser, vsz, rss, state,
// stime, hpid, huser, hgroup, seccomp, label, capamb, capbnd, capeff,
// capinh, capprm, and the AIX format ones (%C %G %P %U %a %c %g %n %p %r
// %t %u %x %y %z), given as separate words or separated by commas.
// Users and groups are named from the container's own /etc/passwd and
// /etc/group; pids are those of the container's pid namespace (hpid: the
// host's).
#pragma once

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct TopTable {
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;  // one per process, by pid
};

// Descriptors as given; empty: podman's default
// (user, pid, ppid, pcpu, etime, tty, time, args).
Result<TopTable> top_container(Context& ctx, const std::string& key, const std::vector<std::string>& descriptors);

// The descriptors `top` knows (for --help and completion).
std::vector<std::string> top_descriptors();

}  // namespace bock::engine

// --userns/--uidmap/--gidmap ([userns], [root-userns]), resource limits
// ([limits], [root-limits]) and bock.conf ([config], [root-config]), shared
// by the rootless and root suites (userns_scenarios.cpp).
#pragma once

namespace bock::test {

// Rootless keep-id: the user's uid/gid inside, a host file of the user's
// (bind-mounted) readable, writable and shown as theirs, new files theirs
// on the host; the image's owners shown right through the id shift; no
// copy of the image per container. Without keep-id: root inside.
void check_keep_id();
// Volumes with the container's own user namespace: a new named volume's
// copy-up under keep-id keeps the image's owners as seen inside; `:U`
// under --uidmap chowns to the mapped id, not the session's same number.
void check_userns_volumes();
// --uidmap/--gidmap, keep-id:uid=,gid=, --userns=host, auto, ns:PATH and
// the errors of bad input (nothing left behind).
void check_userns_modes();
// The default network (bock-netns, the host's loopback allowed) with a
// user namespace of the container's own: keep-id and --uidmap in the
// foreground, auto detached and restarted, keep-id created, started and
// restarted, each reaching a server on the host's loopback.
void check_userns_network();
// Root: keep-id refused; --uidmap 0:100000:65536 maps and shifts the image;
// auto from /etc/subuid's `containers` range (or its error when absent).
void check_root_userns();

// Rootless here (cgroup v1): --memory refused with the fix named, nothing
// left; --ignore-limits and ignore_limits in bock.conf run without.
void check_limits_refused_rootless();
// Root: --memory 32m OOM-kills a 64 MiB allocation (137), --pids-limit
// stops forks, --cpus and --cpu-shares written to the cgroup.
void check_limits_enforced_root();

// bock.conf: a key changes behaviour (storage driver; rootless also the
// default network), an unknown key is warned with FILE:LINE, a malformed
// file fails with FILE:LINE, `bock info` lists the files read.
void check_config_file();

}  // namespace bock::test

// User namespaces (--userns, --uidmap, --gidmap: run_userns.cpp) and
// resource limits (--memory, --cpus, ...: run_limits.cpp) of `bock run` and
// `bock create`. Both are worked out from the request before anything of
// the container is made (bad input leaves nothing behind), then applied to
// the record, the root's mount and the spec. Engine-private.
#pragma once

#include <optional>
#include <map>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/run.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::engine {

struct UsernsPlan {
    std::string mode;         // as asked: "", host, keep-id..., auto..., ns:PATH, or "uidmap"
    bool new_userns = false;  // the container gets a user namespace of its own
    std::string join_path;    // ns:PATH
    // The container's maps; host_id is an id of the namespace bock runs in
    // (the rootless session's, or the host's as root).
    std::vector<runtime::IdMap> uids, gids;
    // keep-id: the process runs as these ids unless -u says otherwise.
    std::optional<std::pair<uint32_t, uint32_t>> keep_id_user;
    uid_t host_uid = 0;  // keep-id: whose name and home the entry gets
    // The id shift of the container's root (bock-fuse-overlay's and
    // fuse-overlayfs's uidmapping/gidmapping), so the image's files show
    // their owners under the container's mapping; empty: no shift.
    std::string shift_uids, shift_gids;
};

// Parses and checks --userns/--uidmap/--gidmap; `auto` picks a free range.
Result<UsernsPlan> plan_userns(const Context& ctx, const RunRequest& req);
// Into the record (restarts mount the root with the same shift; `auto`
// finds the ranges in use there).
void record_userns(const UsernsPlan& plan, ContainerRecord& record);
// The container's root must be reachable by the container's root user to
// be bound (the runtime's child does it inside the new namespace): where
// the maps leave out the owner of the run root, the run root, its
// containers/ and the bundle (and the store, its containers/ and the
// container's storage directory, where a detached container's network files
// are) get o+x (0711, as podman does), and a parent
// that others cannot search is an error naming it.
Result<void> make_root_reachable(const Context& ctx, const UsernsPlan& plan, const std::string& bundle,
                                 const std::string& storage);
// keep-id: the user's entry in the container's /etc/passwd and /etc/group
// when the image has none for those ids (as podman), written inside the
// mounted root.
Result<void> add_keep_id_user(const Context& ctx, const UsernsPlan& plan, const std::string& rootfs);
// Into the spec: the user namespace and its maps, keep-id's user.
void apply_userns(const UsernsPlan& plan, const RunRequest& req, runtime::Spec& spec);
// "C:H:N" of each map entry.
std::vector<std::string> format_id_maps(const std::vector<runtime::IdMap>& maps);
// The id of the namespace bock runs in that a container's `id` is, through
// its recorded maps ("C:H:N" each); none when the maps leave it out.
std::optional<uint32_t> outer_id(const std::vector<std::string>& maps, uint32_t id);

// What the host can enforce: one entry per limit flag.
struct LimitSupport {
    std::string flag;  // --memory
    bool holds = false;
    std::string why;   // when it does not
};
struct LimitsReport {
    bool any = false;         // cgroups can hold limits here at all
    std::string why;          // when not: the reason
    std::string fix;          // and what to do
    std::string where;        // where the containers' cgroups go ("/bock/ID", a delegated directory)
    std::string delegated;    // rootless cgroup v2: the delegated cgroup (from the root), else ""
    std::vector<LimitSupport> limits;
};
LimitsReport limits_report(const Context& ctx);

struct LimitsPlan {
    std::optional<runtime::Resources> resources;
    std::vector<std::string> asked;  // the flags given, for messages
    std::string delegated;           // rootless v2: cgroupsPath goes below it
};

// Parses the limit flags and checks that the host can enforce them:
// refused (125, with the fix) where they cannot hold, unless
// --ignore-limits or the config's ignore_limits (then a warning and none).
Result<LimitsPlan> plan_limits(const Context& ctx, const RunRequest& req);
void apply_limits(const LimitsPlan& plan, const std::string& id, runtime::Spec& spec);

// bock.conf's defaults for what the request leaves unset: the network,
// the DNS upstream, the log size (run_config.cpp).
RunRequest with_config_defaults(const Context& ctx, const RunRequest& req);
// The image's io.bock.security.* labels (a Bockfile's `security:`) for
// what the command line (`asked`) leaves unset: read-only root,
// capabilities, seccomp unconfined, no-new-privileges (run_config.cpp).
void apply_image_security(RunRequest& req, const RunRequest& asked, const std::map<std::string, std::string>& labels);

}  // namespace bock::engine

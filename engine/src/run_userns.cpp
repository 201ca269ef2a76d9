// --userns, --uidmap, --gidmap (docs/userns.md).
//
// Ids here are those of the namespace bock runs in: the rootless session's
// (0 is the user, 1..N the subordinate range) or the host's as root. A
// container with its own user namespace maps its ids onto those; its root's
// files are shown through the FUSE overlay's id shift (fuse-overlayfs's
// uidmapping=C:S:N for
// each map entry C:S:N a file stored as the image's uid C shows as S, which
// the container's namespace shows as C again), so the image's owners hold
// under any mapping without a copy of the image.
#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/userns/subid.hpp"
#include "run_isolation.hpp"
#include "run_security.hpp"

namespace bock::engine {
namespace {

Result<uint32_t> parse_id(std::string_view text, std::string_view what) {
    if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), ::isdigit))
        return make_error("{}: `{}` is not a number", what, text);
    uint64_t v = std::stoull(std::string(text));
    if (v > 0xfffffffeull) return make_error("{}: {} is too large", what, text);
    return static_cast<uint32_t>(v);
}

// "C:H:N" -> one map entry.
Result<runtime::IdMap> parse_map_entry(const std::string& text, std::string_view flag) {
    auto parts = strings::split(text, ':');
    if (parts.size() != 3 || std::count(text.begin(), text.end(), ':') != 2)
        return make_error("{} `{}`: must be CONTAINER:HOST:SIZE", flag, text).with_hint("e.g. --uidmap 0:1:65536");
    runtime::IdMap m;
    m.container_id = BOCK_TRY(parse_id(parts[0], flag));
    m.host_id = BOCK_TRY(parse_id(parts[1], flag));
    m.size = BOCK_TRY(parse_id(parts[2], flag));
    if (m.size == 0) return make_error("{} `{}`: SIZE must be at least 1", flag, text);
    return m;
}

// How many ids of the namespace bock runs in can be given to a container:
// the session's (/proc/self/uid_map inside it: 0 and the range) or all.
uint64_t outer_ids(const Context& ctx, const char* map_file) {
    if (!ctx.rootless) return 0xffffffffull;
    uint64_t end = 0;
    auto text = fs::read_file(map_file).value_or("");
    for (auto line : strings::split(text, '\n')) {
        unsigned long in = 0, out = 0, n = 0;
        if (std::sscanf(line.c_str(), "%lu %lu %lu", &in, &out, &n) == 3) end = std::max<uint64_t>(end, in + n);
    }
    return end;
}

Result<void> check_inside(const std::vector<runtime::IdMap>& maps, uint64_t outer, std::string_view what) {
    for (const auto& m : maps)
        if (uint64_t(m.host_id) + m.size > outer)
            return make_error("{}: ids {}-{} are not mapped in the rootless session (0-{} are)", what, m.host_id,
                              uint64_t(m.host_id) + m.size - 1, outer - 1)
                .with_hint("map fewer ids, or give the user a larger range (usermod --add-subuids/--add-subgids), "
                           "then end the session's holder so the next command maps it (docs/process-model.md)");
    return ok();
}

// keep-id's maps: the container's `inner` is the user (0 in the session),
// its ids below it the first subordinate ids, the rest the same ids.
std::vector<runtime::IdMap> keep_id_maps(uint32_t inner, uint64_t outer) {
    std::vector<runtime::IdMap> v;
    uint64_t below = std::min<uint64_t>(inner, outer > 0 ? outer - 1 : 0);
    if (below > 0) v.push_back({0, 1, static_cast<uint32_t>(below)});
    v.push_back({inner, 0, 1});
    if (outer > uint64_t(inner) + 1) v.push_back({inner + 1, inner + 1, static_cast<uint32_t>(outer - inner - 1)});
    return v;
}

// "keep-id:uid=N,gid=N", "auto:size=N": the options after the colon.
Result<std::vector<std::pair<std::string, std::string>>> mode_options(std::string_view mode, std::string_view rest) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& kv : strings::split(rest, ',')) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) return make_error("--userns={}: option `{}` must be KEY=VALUE", mode, kv);
        out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return out;
}

// Ranges given to other `auto` containers (host side).
std::vector<std::pair<uint64_t, uint64_t>> ranges_in_use(const Context& ctx, bool uids) {
    std::vector<std::pair<uint64_t, uint64_t>> used;
    auto all = list_containers(ctx);
    if (!all) return used;
    for (const auto& c : *all) {
        if (!c.rec.userns.starts_with("auto")) continue;
        for (const auto& s : uids ? c.rec.uid_map : c.rec.gid_map)
            if (auto m = parse_map_entry(s, "record")) used.emplace_back(m->host_id, uint64_t(m->host_id) + m->size);
    }
    return used;
}

// The first `size` ids of `pool` that no other auto container has.
std::optional<uint32_t> pick_free(const std::vector<userns::IdRange>& pool,
                                  const std::vector<std::pair<uint64_t, uint64_t>>& used, uint32_t size) {
    for (const auto& r : pool) {
        uint64_t start = r.start, end = uint64_t(r.start) + r.count;
        while (start + size <= end) {
            bool clash = false;
            for (const auto& [a, b] : used)
                if (start < b && a < start + size) {
                    start = std::max(start, b);
                    clash = true;
                }
            if (!clash) return static_cast<uint32_t>(start);
        }
    }
    return std::nullopt;
}

Result<std::vector<userns::IdRange>> auto_pool(const Context& ctx, bool uids) {
    if (ctx.rootless) {
        uint64_t outer = outer_ids(ctx, uids ? "/proc/self/uid_map" : "/proc/self/gid_map");
        if (outer < 2) return std::vector<userns::IdRange>{};
        return std::vector<userns::IdRange>{{1, static_cast<uint32_t>(outer - 1)}};
    }
    uid_t containers_uid = static_cast<uid_t>(-1);
    if (auto* pw = ::getpwnam("containers")) containers_uid = pw->pw_uid;
    return userns::read_subids(uids ? "/etc/subuid" : "/etc/subgid", "containers", containers_uid);
}

Result<void> plan_auto(const Context& ctx, std::string_view opts, UsernsPlan& p) {
    uint32_t size = 65536;
    for (const auto& [k, v] : BOCK_TRY(mode_options("auto", opts))) {
        if (k == "size") size = BOCK_TRY(parse_id(v, "--userns=auto:size"));
        else return make_error("--userns=auto: unknown option `{}`", k).with_hint("known: size=N");
    }
    if (size == 0) return make_error("--userns=auto:size=0: the size must be at least 1");
    for (bool uids : {true, false}) {
        auto pool = BOCK_TRY(auto_pool(ctx, uids));
        if (pool.empty())
            return make_error("--userns=auto: no {} to pick from", ctx.rootless ? "subordinate ids in the rootless session"
                                                                                : fmt::format("range for the user `containers` in {}", uids ? "/etc/subuid" : "/etc/subgid"))
                .with_hint(ctx.rootless ? "give the user a range: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER"
                                        : "add one: echo containers:2147483647:2147483648 | tee -a /etc/subuid /etc/subgid");
        auto start = pick_free(pool, ranges_in_use(ctx, uids), size);
        if (!start)
            return make_error("--userns=auto: no free range of {} ids is left in {}", size,
                              ctx.rootless ? "the rootless session" : (uids ? "/etc/subuid (containers)" : "/etc/subgid (containers)"))
                .with_hint("remove containers made with --userns=auto, or ask for fewer ids (--userns=auto:size=N)");
        (uids ? p.uids : p.gids).push_back({0, *start, size});
    }
    return ok();
}

}  // namespace

std::vector<std::string> format_id_maps(const std::vector<runtime::IdMap>& maps) {
    std::vector<std::string> out;
    for (const auto& m : maps) out.push_back(fmt::format("{}:{}:{}", m.container_id, m.host_id, m.size));
    return out;
}

std::optional<uint32_t> outer_id(const std::vector<std::string>& maps, uint32_t id) {
    for (const auto& s : maps) {
        auto m = parse_map_entry(s, "record");
        if (m && m->container_id <= id && uint64_t(id) < uint64_t(m->container_id) + m->size)
            return m->host_id + (id - m->container_id);
    }
    return std::nullopt;
}

Result<UsernsPlan> plan_userns(const Context& ctx, const RunRequest& req) {
    UsernsPlan p;
    p.mode = req.userns;
    std::string_view mode = req.userns;
    std::string_view name = mode.substr(0, mode.find(':'));
    std::string_view opts = mode.find(':') == std::string_view::npos ? "" : mode.substr(mode.find(':') + 1);
    bool maps_given = !req.uidmap.empty() || !req.gidmap.empty();
    if (maps_given && !mode.empty() && mode != "host" && mode != "private")
        return make_error("--uidmap/--gidmap and --userns={} cannot be used together", mode)
            .with_hint("give either the maps or a --userns mode");
    uint64_t outer_u = outer_ids(ctx, "/proc/self/uid_map"), outer_g = outer_ids(ctx, "/proc/self/gid_map");

    if (maps_given) {
        p.mode = "";
        for (const auto& s : req.uidmap) p.uids.push_back(BOCK_TRY(parse_map_entry(s, "--uidmap")));
        for (const auto& s : req.gidmap) p.gids.push_back(BOCK_TRY(parse_map_entry(s, "--gidmap")));
        // As podman: one of them alone serves for both.
        if (p.gids.empty()) p.gids = p.uids;
        if (p.uids.empty()) p.uids = p.gids;
        BOCK_TRY(check_inside(p.uids, outer_u, "--uidmap"));
        BOCK_TRY(check_inside(p.gids, outer_g, "--gidmap"));
        p.new_userns = true;
    } else if (mode.empty() || mode == "host") {
        // podman's meaning: as root no user namespace; rootless the
        // rootless one (the session), which is where containers run anyway.
        return p;
    } else if (name == "keep-id") {
        if (!ctx.rootless)
            return make_error("--userns=keep-id is for rootless containers: as root the ids inside are the host's already")
                .with_hint("drop --userns=keep-id, or map ids with --uidmap/--gidmap");
        uint32_t uid = ctx.host_uid, gid = ctx.host_gid;
        for (const auto& [k, v] : BOCK_TRY(mode_options("keep-id", opts))) {
            if (k == "uid") uid = BOCK_TRY(parse_id(v, "--userns=keep-id:uid"));
            else if (k == "gid") gid = BOCK_TRY(parse_id(v, "--userns=keep-id:gid"));
            else return make_error("--userns=keep-id: unknown option `{}`", k).with_hint("known: uid=N, gid=N");
        }
        p.uids = keep_id_maps(uid, outer_u);
        p.gids = keep_id_maps(gid, outer_g);
        p.keep_id_user = std::make_pair(uid, gid);
        p.host_uid = ctx.host_uid;
        p.new_userns = true;
    } else if (name == "auto") {
        BOCK_TRY(plan_auto(ctx, opts, p));
        p.new_userns = true;
    } else if (name == "ns") {
        std::string path(opts);
        if (path.empty()) return make_error("--userns=ns: a path is required").with_hint("e.g. --userns=ns:/proc/PID/ns/user");
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return errno_error("--userns=ns:{}", path);
        ::close(fd);
        p.join_path = path;
        // The maps of a process's namespace (/proc/PID/ns/user) are known:
        // the image is shifted for them as for a namespace of its own.
        if (path.starts_with("/proc/") && path.ends_with("/ns/user")) {
            std::string proc = path.substr(0, path.size() - 8);
            auto read_maps = [](const std::string& file) {
                std::vector<runtime::IdMap> maps;
                for (const auto& line : strings::split(fs::read_file(file).value_or(""), '\n')) {
                    unsigned long in = 0, out = 0, n = 0;
                    if (std::sscanf(line.c_str(), "%lu %lu %lu", &in, &out, &n) == 3)
                        maps.push_back({static_cast<uint32_t>(in), static_cast<uint32_t>(out), static_cast<uint32_t>(n)});
                }
                return maps;
            };
            p.uids = read_maps(proc + "/uid_map");
            p.gids = read_maps(proc + "/gid_map");
            // The identity of our own namespace needs no shift.
            auto identity = [&](const std::vector<runtime::IdMap>& m) {
                return m.size() == 1 && m[0].container_id == 0 && m[0].host_id == 0 && uint64_t(m[0].size) >= outer_u;
            };
            if (identity(p.uids) && identity(p.gids)) p.uids.clear(), p.gids.clear();
        }
        if (p.uids.empty() || p.gids.empty()) {
            p.uids.clear();
            p.gids.clear();
            return p;
        }
    } else {
        return make_error("--userns={}: unknown mode", mode)
            .with_hint("host, keep-id[:uid=N,gid=N], auto[:size=N] or ns:PATH");
    }
    // The shift, in fuse-overlayfs's syntax: the container's own maps
    // (a file stored as C+i shows as S+i, which the container sees as C+i),
    // read the same way by fuse-overlayfs and bock-fuse-overlay.
    auto shift = [](const std::vector<runtime::IdMap>& maps) {
        std::string s;
        for (const auto& m : maps) s += fmt::format("{}{}:{}:{}", s.empty() ? "" : ":", m.container_id, m.host_id, m.size);
        return s;
    };
    p.shift_uids = shift(p.uids);
    p.shift_gids = shift(p.gids);
    return p;
}

Result<void> make_root_reachable(const Context& ctx, const UsernsPlan& plan, const std::string& bundle,
                                 const std::string& storage) {
    if (!plan.new_userns && plan.join_path.empty()) return ok();
    // The run root belongs to 0 of the namespace bock runs in (the user in
    // the session, root): a container that maps 0 may search it (its root
    // has CAP_DAC_OVERRIDE over ids it maps).
    for (const auto& m : plan.uids)
        if (m.host_id == 0) return ok();
    // A detached container's network files are bound from its storage
    // directory in the store (docs/networking.md): that chain too.
    for (const auto& dir : {ctx.run_root, fs::join(ctx.run_root, "containers"), bundle, ctx.store_root,
                            fs::join(ctx.store_root, "containers"), storage}) {
        struct stat st{};
        if (::stat(dir.c_str(), &st) < 0) return errno_error("stat `{}`", dir);
        if ((st.st_mode & 0711) != 0711 && ::chmod(dir.c_str(), (st.st_mode & 07777) | 0711) < 0)
            return errno_error("chmod `{}`", dir);
    }
    for (const auto& top : {ctx.run_root, ctx.store_root})
    for (std::string dir = top; dir.size() > 1;) {
        dir = dir.substr(0, dir.rfind('/'));
        if (dir.empty()) break;
        struct stat st{};
        if (::stat(dir.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH))
            return make_error("the container's root user cannot reach its root filesystem: `{}` is not searchable "
                              "by other users (mode {:o})",
                              dir, st.st_mode & 07777)
                .with_hint(fmt::format("chmod o+x {}, set BOCK_RUNROOT to a directory below searchable ones, or map "
                                       "your own id into the container (--userns=keep-id)",
                                       dir));
    }
    return ok();
}

Result<void> add_keep_id_user(const Context& ctx, const UsernsPlan& plan, const std::string& rootfs) {
    if (!plan.keep_id_user) return ok();
    auto [uid, gid] = *plan.keep_id_user;
    Fd root = BOCK_TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    // Opened inside the root: a symlink there cannot point at the host's files.
    auto add = [&](const char* file, const std::string& line, uint32_t id) -> Result<void> {
        auto fd = sys::openat2(root.get(), file, O_RDWR | O_APPEND | O_CLOEXEC, 0,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (!fd) {
            if (fd.error().code() == ENOENT) return ok();  // an image without the file
            return std::move(fd).error().wrap(fmt::format("keep-id: open /{} in the container", file));
        }
        std::string text;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd->get(), buf, sizeof buf)) != 0;) {
            if (n < 0) return errno_error("keep-id: read /{} in the container", file);
            text.append(buf, static_cast<size_t>(n));
        }
        for (const auto& l : strings::split(text, '\n')) {
            auto f = strings::split(l, ':');
            if (f.size() > 2 && f[2] == std::to_string(id)) return ok();  // the image has it
        }
        std::string add_text = (text.empty() || text.back() == '\n' ? "" : "\n") + line + "\n";
        if (::write(fd->get(), add_text.data(), add_text.size()) != static_cast<ssize_t>(add_text.size()))
            return errno_error("keep-id: append to /{} in the container", file);
        return ok();
    };
    std::string name = "user", home = "/";
    if (auto* pw = ::getpwuid(ctx.host_uid)) {
        name = pw->pw_name;
        home = pw->pw_dir;
    }
    BOCK_TRY(add("etc/passwd", fmt::format("{}:*:{}:{}:{}:{}:/bin/sh", name, uid, gid, name, home), uid));
    BOCK_TRY(add("etc/group", fmt::format("{}:x:{}:", name, gid), gid));
    return ok();
}

void record_userns(const UsernsPlan& plan, ContainerRecord& record) {
    record.userns = plan.mode;
    record.uid_map = format_id_maps(plan.uids);
    record.gid_map = format_id_maps(plan.gids);
    record.shift_uids = plan.shift_uids;
    record.shift_gids = plan.shift_gids;
}

void apply_userns(const UsernsPlan& plan, const RunRequest& req, runtime::Spec& spec) {
    // The default ping_group_range (run_security.cpp) was computed for the
    // session's groups: the container's own map may be smaller, and the
    // kernel refuses a range it does not map. A --sysctl given is kept.
    bool given = std::any_of(req.security.sysctls.begin(), req.security.sysctls.end(), [](const std::string& s) {
        return s.starts_with("net.ipv4.ping_group_range=") || s.starts_with("net/ipv4/ping_group_range=");
    });
    auto ping_range = [&](const std::vector<runtime::IdMap>& gids) {
        if (auto it = spec.sysctl.find("net.ipv4.ping_group_range"); it != spec.sysctl.end() && !given) {
            std::vector<std::pair<uint64_t, uint64_t>> ranges;
            for (const auto& g : gids) ranges.emplace_back(g.container_id, uint64_t(g.container_id) + g.size);
            it->second = ping_group_range_of(std::move(ranges));
        }
    };
    if (!plan.join_path.empty()) {
        spec.namespaces.push_back({"user", plan.join_path});
        // A namespace joined by /proc/PID/ns/user: its groups are that
        // process's gid_map; another path: nothing known, no default.
        std::vector<runtime::IdMap> gids;
        std::string path = plan.join_path;
        if (path.starts_with("/proc/") && path.ends_with("/ns/user")) {
            auto map = fs::read_file(path.substr(0, path.size() - 8) + "/gid_map");
            for (const auto& l : strings::split(map.value_or(""), '\n')) {
                unsigned in = 0, out = 0, n = 0;
                if (std::sscanf(l.c_str(), "%u %u %u", &in, &out, &n) == 3 && n) gids.push_back({in, out, n});
            }
        }
        if (gids.empty() && !given) spec.sysctl.erase("net.ipv4.ping_group_range");
        ping_range(gids);
        return;
    }
    if (!plan.new_userns) return;
    spec.namespaces.push_back({"user", ""});
    spec.uid_mappings = plan.uids;
    spec.gid_mappings = plan.gids;
    ping_range(plan.gids);
    if (plan.keep_id_user && !req.user) {
        spec.process.user.uid = plan.keep_id_user->first;
        spec.process.user.gid = plan.keep_id_user->second;
        spec.process.user.additional_gids.clear();
        // As podman: HOME is the user's (their entry in /etc/passwd), unless -e set it.
        bool home_given = false;
        for (const auto& e : req.env) home_given = home_given || e == "HOME" || e.starts_with("HOME=");
        if (!home_given)
            if (auto* pw = ::getpwuid(plan.host_uid)) strings::set_env(spec.process.env, std::string("HOME=") + pw->pw_dir);
    }
    // devpts's gid=5 must be a group of the container's namespace.
    for (auto& m : spec.mounts)
        if (m.type == "devpts")
            std::erase_if(m.options, [&](const std::string& o) {
                return o == "gid=5" && std::none_of(plan.gids.begin(), plan.gids.end(), [](const runtime::IdMap& g) {
                           return g.container_id <= 5 && 5 < uint64_t(g.container_id) + g.size;
                       });
            });
}

}  // namespace bock::engine

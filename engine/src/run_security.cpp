// The default security profile of containers Bock creates and the options
// that change it (docs/security.md). What it starts from is the runtime's
// default_spec (runc's shape); what it makes of it is podman's default:
// podman's capability set, Bock's seccomp profile, no_new_privs, masked
// and read-only paths, ping through net.ipv4.ping_group_range.
#include "run_security.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/exec.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/runtime/features.hpp"
#include "container_dirs.hpp"
#include "seccomp_profile.hpp"
#include "user_lookup.hpp"

namespace bock::engine {

const std::vector<std::string>& default_capabilities() {
    static const std::vector<std::string> caps = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",       "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"};
    return caps;
}

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

void erase(std::vector<std::string>& v, const std::string& s) { v.erase(std::remove(v.begin(), v.end(), s), v.end()); }

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The options as parsed from --security-opt.
struct SecOpts {
    std::string seccomp;  // empty: the default profile; "unconfined"; a file
    std::optional<bool> no_new_privs;
    std::vector<std::string> mask, unmask;
};

Result<SecOpts> parse_security_opts(const std::vector<std::string>& opts) {
    SecOpts o;
    for (const auto& opt : opts) {
        // podman takes "seccomp=FILE" and Docker's older "seccomp:FILE".
        auto sep = opt.find_first_of("=:");
        std::string key = opt.substr(0, sep), value = sep == std::string::npos ? "" : opt.substr(sep + 1);
        if (key == "seccomp" && !value.empty()) {
            o.seccomp = value;
        } else if (key == "no-new-privileges") {
            if (value.empty() || value == "true") o.no_new_privs = true;
            else if (value == "false") o.no_new_privs = false;
            else return make_error("--security-opt `{}`: no-new-privileges takes true or false", opt);
        } else if ((key == "mask" || key == "unmask") && !value.empty()) {
            for (auto& p : strings::split(value, ':')) {
                if (p != "ALL" && (p.empty() || p[0] != '/'))
                    return make_error("--security-opt `{}`: `{}` is not an absolute path", opt, p);
                (key == "mask" ? o.mask : o.unmask).push_back(p);
            }
        } else {
            return make_error("--security-opt `{}`: unknown option", opt)
                .with_hint("use seccomp=FILE|unconfined, no-new-privileges[=true|false], mask=PATH[:PATH], "
                           "unmask=ALL|PATH[:PATH]");
        }
    }
    return o;
}

// "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN".
Result<std::string> cap_name(const std::string& typed, const char* flag) {
    std::string n = upper(typed);
    if (!n.starts_with("CAP_")) n = "CAP_" + n;
    const auto known = runtime::features()["linux"]["capabilities"];
    for (const auto& k : known)
        if (k.get<std::string>() == n) return n;
    return make_error("{} `{}`: unknown capability", flag, typed).with_hint("see `man 7 capabilities` for the names");
}

// The bounding set: the default (or, --privileged, every capability bock
// holds), --cap-drop ALL, --cap-add, then the named --cap-drops.
Result<std::vector<std::string>> capability_set(const SecurityOptions& o, std::vector<std::string>& added) {
    const auto held = runtime::held_capabilities();
    std::vector<std::string> set = o.privileged ? held : default_capabilities();
    if (!o.privileged && !o.default_caps.empty()) {
        set.clear();
        for (const auto& c : o.default_caps) set.push_back(BOCK_TRY(cap_name(c, "bock.conf default_capabilities")));
    }
    auto upper_has = [](const std::vector<std::string>& v, const char* s) {
        return std::any_of(v.begin(), v.end(), [&](const std::string& x) { return upper(x) == s; });
    };
    if (upper_has(o.cap_drop, "ALL")) set.clear();
    if (upper_has(o.cap_add, "ALL")) set = held;
    for (const auto& c : o.cap_add) {
        if (upper(c) == "ALL") {
            added = held;
            continue;
        }
        auto n = BOCK_TRY(cap_name(c, "--cap-add"));
        if (!has(held, n))
            return make_error("--cap-add {}: bock itself does not hold {}, so the container cannot get it", c, n)
                .with_hint("drop the flag; capabilities bock lacks (`grep Cap /proc/self/status`) cannot be given");
        if (!has(set, n)) set.push_back(n);
        if (!has(added, n)) added.push_back(n);
    }
    for (const auto& c : o.cap_drop) {
        if (upper(c) == "ALL") continue;
        auto n = BOCK_TRY(cap_name(c, "--cap-drop"));
        erase(set, n);
        erase(added, n);
    }
    return set;
}

// podman's rule: uid 0 gets the whole set; another user keeps it as its
// bounding set and gets only the capabilities added by name, as ambient ones.
void apply_capabilities(runtime::Spec& spec, const std::vector<std::string>& set, std::vector<std::string> added) {
    auto& p = spec.process;
    p.cap_bounding = set;
    if (p.user.uid == 0) {
        p.cap_effective = p.cap_permitted = set;
        p.cap_inheritable = std::vector<std::string>{};
        p.cap_ambient.reset();
        return;
    }
    p.cap_effective = p.cap_permitted = p.cap_inheritable = p.cap_ambient = added;
}

Result<void> apply_seccomp(const SecOpts& o, bool privileged, const std::vector<std::string>& caps,
                           runtime::Spec& spec) {
    std::string text, source;
    if (o.seccomp == "unconfined" || (privileged && o.seccomp.empty())) {
        spec.seccomp.reset();
        return ok();
    }
    if (o.seccomp.empty()) {
        text = std::string(default_seccomp_json);
        source = "the default seccomp profile";
    } else {
        text = BOCK_TRY_CTX(fs::read_file(o.seccomp), "--security-opt seccomp");
        source = "--security-opt seccomp=" + o.seccomp;
    }
    spec.seccomp = BOCK_TRY(seccomp_from_profile(text, source, native_seccomp_target(caps)));
    return ok();
}

// The namespaced sysctls (runc's list): IPC's kernel.* and fs.mqueue.*,
// the network's net.*; the UTS ones are --hostname's.
enum class SysctlNs { ipc, net, none };
SysctlNs sysctl_namespace(const std::string& key) {
    static const char* ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
                                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (const char* k : ipc)
        if (key == k) return SysctlNs::ipc;
    if (key.starts_with("fs.mqueue.")) return SysctlNs::ipc;
    if (key.starts_with("net.")) return SysctlNs::net;
    return SysctlNs::none;
}

const runtime::Namespace* find_ns(const runtime::Spec& spec, const std::string& type) {
    for (const auto& n : spec.namespaces)
        if (n.type == type) return &n;
    return nullptr;
}
bool own_ns(const runtime::Spec& spec, const std::string& type) {
    auto* n = find_ns(spec, type);
    return n && n->path.empty();
}

// net.ipv4.ping_group_range for every group this process has mapped,
// from 0 to the end of the adjacent ranges starting there (the kernel
// refuses an end that is not mapped): "0 65536" in a rootless session of
// a user with a subordinate range, "0 2147483647" as root. bock-netns
// writes the same value into the networks it serves, so whichever of the
// two writes last, it is this one.
std::string ping_group_range() {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // first, last + 1
    auto map = fs::read_file("/proc/self/gid_map");
    for (const auto& l : strings::split(map.value_or(""), '\n')) {
        unsigned long long in = 0, out = 0, n = 0;
        if (std::sscanf(l.c_str(), "%llu %llu %llu", &in, &out, &n) == 3 && n) ranges.emplace_back(in, in + n);
    }
    return ping_group_range_of(std::move(ranges));
}

}  // namespace

std::string ping_group_range_of(std::vector<std::pair<uint64_t, uint64_t>> ranges) {
    std::sort(ranges.begin(), ranges.end());
    uint64_t end = 0;
    for (const auto& r : ranges)
        if (r.first <= end) end = std::max(end, r.second);
    if (end == 0) return "1 0";  // nothing mapped from 0: the kernel's default (nobody)
    return fmt::format("0 {}", std::min<uint64_t>(end - 1, 2147483647));
}

namespace {

Result<void> apply_sysctls(const SecurityOptions& o, runtime::Spec& spec) {
    // ping without CAP_NET_RAW: ICMP echo sockets for the container's groups.
    if (own_ns(spec, "network")) spec.sysctl["net.ipv4.ping_group_range"] = ping_group_range();
    for (const auto& s : o.sysctls) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) return make_error("--sysctl `{}`: must be KEY=VALUE", s);
        std::string key = s.substr(0, eq);
        std::replace(key.begin(), key.end(), '/', '.');
        switch (sysctl_namespace(key)) {
            case SysctlNs::ipc:
                if (!own_ns(spec, "ipc"))
                    return make_error("--sysctl {}: the container shares another IPC namespace", key)
                        .with_hint("drop --ipc, or the sysctl");
                break;
            case SysctlNs::net:
                if (!own_ns(spec, "network"))
                    return make_error("--sysctl {}: the container shares another network namespace", key)
                        .with_hint("set it in the network's owner, or use a network of the container's own");
                break;
            case SysctlNs::none:
                return make_error("--sysctl {}: not a namespaced sysctl, it would change the host", key)
                    .with_hint("only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.* can be set per "
                               "container (the host name: --hostname)");
        }
        spec.sysctl[key] = s.substr(eq + 1);
    }
    return ok();
}

// The path of namespace `ns` of a running container (--pid container:NAME).
Result<std::string> container_ns(const Context& ctx, const std::string& flag, const std::string& name,
                                 const char* ns, std::string* hostname) {
    auto other = BOCK_TRY(find_container(ctx, name));
    if (other.status != "running")
        return make_error("{} container:{}: the container is not running", flag, name)
            .with_hint(fmt::format("start it first (`bock start {}`)", name));
    auto pid_text = BOCK_TRY_CTX(fs::read_file(ContainerDirs::for_id(ctx, other.rec.id).pid_file()),
                                 fmt::format("{} container:{}: find its process", flag, name));
    if (hostname) *hostname = other.rec.hostname;
    return fmt::format("/proc/{}/ns/{}", std::atoi(pid_text.c_str()), ns);
}

runtime::Mount* find_mount(runtime::Spec& spec, const std::string& dest) {
    for (auto& m : spec.mounts)
        if (m.destination == dest) return &m;
    return nullptr;
}

void bind_host(runtime::Spec& spec, const std::string& dest, bool exists_on_host) {
    auto* m = find_mount(spec, dest);
    if (!exists_on_host) {
        if (m) spec.mounts.erase(spec.mounts.begin() + (m - spec.mounts.data()));
        return;
    }
    runtime::Mount b{dest, "bind", dest, {"rbind", "nosuid", "nodev"}};
    if (m) *m = b;
    else spec.mounts.push_back(b);
}

// --pid, --ipc, --uts: host or container:NAME (private: the default).
Result<void> apply_namespaces(const Context& ctx, const SecurityOptions& o, runtime::Spec& spec) {
    struct {
        const std::string& mode;
        const char* flag;
        const char* type;
    } sharing[] = {{o.pid, "--pid", "pid"}, {o.ipc, "--ipc", "ipc"}, {o.uts, "--uts", "uts"}};
    for (const auto& s : sharing) {
        if (s.mode.empty() || s.mode == "private") continue;
        std::string other_host;
        if (s.mode == "host") {
            std::erase_if(spec.namespaces, [&](const runtime::Namespace& n) { return n.type == s.type; });
        } else if (s.mode.starts_with("container:") && s.mode.size() > 10) {
            auto path = BOCK_TRY(container_ns(ctx, s.flag, s.mode.substr(10), s.type, &other_host));
            bool found = false;
            for (auto& n : spec.namespaces)
                if (n.type == s.type) n.path = path, found = true;
            if (!found) spec.namespaces.push_back({s.type, path});
        } else {
            return make_error("{} `{}`: host, private or container:NAME", s.flag, s.mode);
        }
        const std::string type = s.type;
        if (type == "uts") {
            // The host name is the other namespace's: not set, and $HOSTNAME says it.
            if (s.mode == "host") {
                char buf[256] = {};
                ::gethostname(buf, sizeof buf - 1);
                other_host = buf;
            }
            spec.hostname.clear();
            strings::set_env(spec.process.env, "HOSTNAME=" + other_host);
        } else if (type == "pid" && s.mode == "host" && ctx.rootless) {
            // A new procfs of the host's pid namespace needs CAP_SYS_ADMIN
            // over it; the host's /proc is bound instead (podman's way).
            bind_host(spec, "/proc", true);
        } else if (type == "ipc" && s.mode == "host") {
            bind_host(spec, "/dev/shm", fs::exists("/dev/shm"));
            if (ctx.rootless) bind_host(spec, "/dev/mqueue", fs::is_dir("/dev/mqueue"));
        }
    }
    return ok();
}

// NAME=SOFT[:HARD]: nofile=1024:2048, core=-1, nproc=unlimited.
Result<void> apply_ulimits(const Context& ctx, const SecurityOptions& o, bool can_raise, runtime::Spec& spec) {
    static const struct {
        const char* name;
        int resource;
    } kNames[] = {{"as", RLIMIT_AS},           {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
                  {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
                  {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
                  {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
                  {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
                  {"stack", RLIMIT_STACK}};
    auto value = [](const std::string& t, const std::string& u) -> Result<uint64_t> {
        if (t == "-1" || t == "unlimited") return uint64_t(RLIM_INFINITY);
        char* end = nullptr;
        errno = 0;
        unsigned long long v = std::strtoull(t.c_str(), &end, 10);
        if (t.empty() || *end || errno || t[0] == '-')
            return make_error("--ulimit `{}`: `{}` is not a number, -1 or unlimited", u, t);
        return uint64_t(v);
    };
    for (const auto& u : o.ulimits) {
        auto eq = u.find('=');
        if (eq == std::string::npos) return make_error("--ulimit `{}`: must be NAME=SOFT[:HARD]", u);
        std::string name = u.substr(0, eq), rest = u.substr(eq + 1);
        int res = -1;
        for (const auto& n : kNames)
            if (name == n.name) res = n.resource;
        if (res < 0)
            return make_error("--ulimit `{}`: unknown limit `{}`", u, name)
                .with_hint("one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, "
                           "rtprio, rttime, sigpending, stack");
        auto colon = rest.find(':');
        uint64_t soft = BOCK_TRY(value(rest.substr(0, colon), u));
        uint64_t hard = colon == std::string::npos ? soft : BOCK_TRY(value(rest.substr(colon + 1), u));
        if (soft > hard) return make_error("--ulimit `{}`: the soft limit is above the hard one", u);
        struct rlimit own {};
        ::getrlimit(res, &own);
        if (!can_raise && hard > own.rlim_max)
            return make_error("--ulimit `{}`: the hard limit is above bock's own ({}), which {} cannot raise", u,
                              own.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(own.rlim_max),
                              ctx.rootless ? "a user" : "a process without CAP_SYS_RESOURCE")
                .with_hint(fmt::format("ask for at most {} (or raise the user's limit: ulimit -H, limits.conf)",
                                       own.rlim_max));
        std::string type = "RLIMIT_" + upper(name);
        std::erase_if(spec.process.rlimits, [&](const runtime::Rlimit& r) { return r.type == type; });
        spec.process.rlimits.push_back({type, soft, hard});
    }
    return ok();
}

// HOST[:CONTAINER[:PERMS]]; PERMS is r, w, m in any combination.
struct DeviceArg {
    std::string host, container, perms = "rwm";
};
Result<DeviceArg> parse_device(const std::string& arg) {
    auto parts = strings::split(arg, ':');
    auto is_perms = [](const std::string& p) {
        return !p.empty() && p.find_first_not_of("rwm") == std::string::npos;
    };
    DeviceArg d;
    if (parts.empty() || parts.size() > 3 || parts[0].empty() || parts[0][0] != '/')
        return make_error("--device `{}`: must be HOST[:CONTAINER[:PERMS]] with absolute paths", arg);
    d.host = parts[0];
    d.container = d.host;
    if (parts.size() == 2 && is_perms(parts[1])) d.perms = parts[1];
    else if (parts.size() >= 2) d.container = parts[1];
    if (parts.size() == 3) d.perms = parts[2];
    if (d.container.empty() || d.container[0] != '/' || !is_perms(d.perms))
        return make_error("--device `{}`: must be HOST[:CONTAINER[:PERMS]] (PERMS: r, w, m)", arg);
    return d;
}

// Root makes the node (linux.devices); rootless, the kernel refuses
// mknod, so the host's node is bind-mounted (read-only without w).
Result<void> add_device(const Context& ctx, const DeviceArg& d, const std::string& typed, runtime::Spec& spec) {
    struct stat st {};
    if (::stat(d.host.c_str(), &st) < 0)
        return errno_error("--device `{}`: `{}`", typed, d.host).with_hint("name a device node of the host, e.g. /dev/fuse");
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return make_error("--device `{}`: `{}` is not a device node", typed, d.host)
            .with_hint("name a character or block device, e.g. /dev/fuse (files and directories: -v)");
    std::erase_if(spec.devices, [&](const runtime::Device& x) { return x.path == d.container; });
    if (!ctx.rootless) {
        runtime::Device dev;
        dev.path = d.container;
        dev.type = S_ISCHR(st.st_mode) ? "c" : "b";
        dev.major = major(st.st_rdev);
        dev.minor = minor(st.st_rdev);
        dev.file_mode = st.st_mode & 07777;
        dev.uid = 0;
        dev.gid = 0;
        spec.devices.push_back(dev);
        return ok();
    }
    std::vector<std::string> opts = {"bind", "nosuid", "noexec"};
    if (d.perms.find('w') == std::string::npos) opts.push_back("ro");
    spec.mounts.push_back({d.container, "bind", d.host, opts});
    return ok();
}

// --privileged: the host's device nodes in /dev (not its terminals).
Result<void> add_host_devices(const Context& ctx, runtime::Spec& spec) {
    auto names = BOCK_TRY(fs::list_dir("/dev"));
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        if (n.starts_with("tty") || n == "console" || n == "ptmx" || n == "null" || n == "zero" || n == "full" ||
            n == "random" || n == "urandom")
            continue;
        std::string p = "/dev/" + n;
        struct stat st {};
        if (::lstat(p.c_str(), &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) continue;
        BOCK_TRY(add_device(ctx, DeviceArg{p, p, "rwm"}, "--privileged", spec));
    }
    return ok();
}

Result<void> apply_read_only(const SecurityOptions& o, runtime::Spec& spec) {
    spec.root_readonly = true;
    if (!o.read_only_tmpfs) return ok();
    for (const char* d : {"/tmp", "/var/tmp", "/run"}) {
        if (find_mount(spec, d)) continue;
        spec.mounts.push_back({d, "tmpfs", "tmpfs",
                               {"rw", "nosuid", "nodev", std::string(d) == "/run" ? "mode=755" : "mode=1777"}});
    }
    return ok();
}

Result<void> apply_shm_size(const SecurityOptions& o, runtime::Spec& spec) {
    if (o.shm_size.empty()) return ok();
    auto bytes = BOCK_TRY_CTX(parse_size(o.shm_size), "--shm-size");
    if (bytes == 0) return make_error("--shm-size `{}`: must be more than 0", o.shm_size);
    auto* m = find_mount(spec, "/dev/shm");
    if (!m || m->type != "tmpfs")
        return make_error("--shm-size: /dev/shm is not the container's own (--ipc shares another)")
            .with_hint("drop --shm-size or --ipc");
    std::erase_if(m->options, [](const std::string& x) { return x.starts_with("size="); });
    m->options.push_back(fmt::format("size={}k", (bytes + 1023) / 1024));
    return ok();
}

Result<void> apply_groups(const SecurityOptions& o, const std::string& rootfs, runtime::Spec& spec) {
    if (o.group_add.empty()) return ok();
    Fd rootfd = BOCK_TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    auto& gids = spec.process.user.additional_gids;
    for (const auto& g : o.group_add) {
        if (g.empty()) return make_error("--group-add: a group name or id is needed");
        auto u = BOCK_TRY_CTX(resolve_user(rootfd.get(), "0:" + g), fmt::format("--group-add {}", g));
        if (std::find(gids.begin(), gids.end(), u.gid) == gids.end()) gids.push_back(u.gid);
    }
    return ok();
}

// --env-file entries go under -e's, which are applied again on top.
Result<void> apply_env_files(const RunRequest& req, runtime::Spec& spec) {
    if (req.security.env_files.empty()) return ok();
    auto& env = spec.process.env;
    auto put = [&](const std::string& e) {
        if (e.find('=') != std::string::npos) strings::set_env(env, e);
        else if (const char* v = std::getenv(e.c_str())) strings::set_env(env, e + "=" + v);
    };
    for (const auto& f : req.security.env_files)
        for (const auto& e : BOCK_TRY(read_env_file(f))) put(e);
    for (const auto& e : req.env) put(e);
    return ok();
}

}  // namespace

Result<void> apply_security(const Context& ctx, const RunRequest& req, const std::string& rootfs,
                            runtime::Spec& spec) {
    const SecurityOptions& o = req.security;
    auto sec = BOCK_TRY(parse_security_opts(o.security_opt));

    // The namespaces first: what the sysctls and mounts below may touch
    // depends on them.
    BOCK_TRY(apply_namespaces(ctx, o, spec));
    BOCK_TRY(apply_groups(o, rootfs, spec));
    std::vector<std::string> added;
    auto caps = BOCK_TRY(capability_set(o, added));
    apply_capabilities(spec, caps, added);
    BOCK_TRY(apply_seccomp(sec, o.privileged, caps, spec));
    spec.process.no_new_privileges = sec.no_new_privs.value_or(!o.privileged);

    // Masked and read-only paths: the runtime's default list plus what
    // podman masks besides; none with --privileged.
    for (const char* p : {"/sys/dev/block", "/sys/fs/selinux"})
        if (!has(spec.masked_paths, p)) spec.masked_paths.push_back(p);
    if (o.privileged) {
        spec.masked_paths.clear();
        spec.readonly_paths.clear();
        if (auto* sys = find_mount(spec, "/sys")) erase(sys->options, "ro");
        BOCK_TRY(add_host_devices(ctx, spec));
    }
    for (const auto& p : sec.unmask) {
        if (p == "ALL") {
            spec.masked_paths.clear();
            spec.readonly_paths.clear();
        }
        erase(spec.masked_paths, p);
        erase(spec.readonly_paths, p);
    }
    for (const auto& p : sec.mask)
        if (!has(spec.masked_paths, p)) spec.masked_paths.push_back(p);

    if (o.read_only) BOCK_TRY(apply_read_only(o, spec));
    for (const auto& d : o.devices) BOCK_TRY(add_device(ctx, BOCK_TRY(parse_device(d)), d, spec));
    BOCK_TRY(apply_sysctls(o, spec));
    BOCK_TRY(apply_shm_size(o, spec));
    BOCK_TRY(apply_ulimits(ctx, o, !ctx.rootless && has(runtime::held_capabilities(), "CAP_SYS_RESOURCE"), spec));
    BOCK_TRY(apply_env_files(req, spec));
    for (const auto& a : o.annotations) {
        auto eq = a.find('=');
        if (eq == 0 || eq == std::string::npos) return make_error("--annotation `{}`: must be KEY=VALUE", a);
        spec.annotations[a.substr(0, eq)] = a.substr(eq + 1);
    }
    return ok();
}

}  // namespace bock::engine

// Building the plan (plan.hpp) from a parsed spec, in the parent, before
// clone: paths resolved, mount options turned into flags and data, names of
// capabilities, limits and namespaces turned into numbers.
#include "plan.hpp"
#include "bock/userns/session.hpp"

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/paths.hpp"

namespace bock::runtime {

namespace {

constexpr const char* kDefaultPath = paths::kDefaultPath;

struct FlagOption {
    const char* name;
    bool clear;  // "rw", "suid", ... clear the flag
    unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},      {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},        {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},   {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},     {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},       {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"symfollow", true, MS_NOSYMFOLLOW},
};

struct PropagationOption {
    const char* name;
    unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct RlimitName {
    const char* name;
    int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

struct NamespaceType {
    const char* name;
    int flag;
};

constexpr NamespaceType kNamespaces[] = {
    {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET},
    {"mount", CLONE_NEWNS},  {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int namespace_flag(std::string_view type) {
    for (const auto& n : kNamespaces)
        if (type == n.name) return n.flag;
    return 0;
}

Result<std::string> absolute_dir(const std::string& path, std::string_view what) {
    // A root filesystem that is itself a symlink could be swapped to point
    // anywhere on the host between checks: refused, as runc does.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return make_error("{} `{}`: is a symbolic link; the root filesystem must be a directory", what, path);
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) return errno_error("{} `{}`", what, path);
    if (!fs::is_dir(buf)) return Error(ENOTDIR, fmt::format("{} `{}`", what, path));
    return std::string(buf);
}

Result<void> plan_namespaces(const Spec& spec, Plan& p) {
    for (const auto& ns : spec.namespaces) {
        int flag = namespace_flag(ns.type);
        if (ns.path.empty()) {
            if (flag == CLONE_NEWTIME) continue;  // unshared by the child (process_attrs.cpp)
            p.clone_flags |= static_cast<unsigned long>(flag);
            continue;
        }
        auto fd = BOCK_TRY_CTX(sys::open(ns.path, O_RDONLY), fmt::format("join the {} namespace", ns.type));
        NamespaceJoin j{std::move(fd), flag, ns.path};
        // A user namespace is joined first: it decides what the others allow.
        if (flag == CLONE_NEWUSER)
            p.joins.insert(p.joins.begin(), std::move(j));
        else
            p.joins.push_back(std::move(j));
    }
    bool join_user = false;
    for (const auto& j : p.joins) {
        p.join_mount = p.join_mount || j.nstype == CLONE_NEWNS;
        join_user = join_user || j.nstype == CLONE_NEWUSER;
    }
    if (!p.join_mount && !(p.clone_flags & CLONE_NEWNS))
        return make_error("linux.namespaces: the runtime needs a `mount` namespace, new or joined by path");
    p.new_user = p.clone_flags & CLONE_NEWUSER;
    // A mount namespace belongs to the user namespace it was made in; a
    // new user namespace never owns one that exists already.
    if (p.join_mount && p.new_user)
        return make_error("linux.namespaces: a `mount` namespace joined by path needs the `user` namespace that "
                          "owns it, joined by path too (not a new one)");
    // Without privilege the namespaces made at clone (and a pid namespace
    // joined) must be made from inside the joined user namespace; so too
    // for uid 0 of a user namespace (bock in its rootless session), whose
    // new namespaces would belong to its own user namespace, over which
    // the joined one gives no capability.
    p.clone_in_joined_user = join_user && (::geteuid() != 0 || userns::in_user_namespace());
    p.new_net = p.clone_flags & CLONE_NEWNET;
    if (p.new_user) {
        if (spec.uid_mappings.empty() || spec.gid_mappings.empty())
            return make_error("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
        for (const auto& m : spec.uid_mappings) p.mappings.uids.push_back({m.container_id, m.host_id, m.size});
        for (const auto& m : spec.gid_mappings) p.mappings.gids.push_back({m.container_id, m.host_id, m.size});
        auto own = [](const std::vector<userns::IdMapping>& v, uint32_t id) {
            return v.size() == 1 && v[0].size == 1 && v[0].host_id == id;
        };
        p.mappings.single = own(p.mappings.uids, ::geteuid()) && own(p.mappings.gids, ::getegid());
        // With CAP_SETUID over our own namespace (root, or uid 0 of a
        // session) the maps can be written directly, ranges included.
        p.write_maps_directly = ::geteuid() == 0;
    }
    if (!spec.hostname.empty()) {
        if (!(p.clone_flags & CLONE_NEWUTS))
            return make_error("hostname: setting the hostname needs a new `uts` namespace");
        p.set_hostname = true;
        p.hostname = spec.hostname;
    }
    if (!spec.domainname.empty()) {
        if (!(p.clone_flags & CLONE_NEWUTS))
            return make_error("domainname: setting the domain name needs a new `uts` namespace");
        p.set_domainname = true;
        p.domainname = spec.domainname;
    }
    return ok();
}

Result<void> plan_mounts(const Spec& spec, const RunOptions& opts, Plan& p) {
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const Mount& m = spec.mounts[i];
        std::string field = fmt::format("mounts[{}]", i);
        MountPlan mp;
        mp.destination = m.destination;
        mp.rel_dest = BOCK_TRY_CTX(relative_destination(m.destination), field + ".destination");
        mp.fstype = m.type;
        mp.source = m.source;
        BOCK_TRY_CTX(apply_mount_options(mp, m.options), field + ".options");
        if (m.type == "bind" || m.type == "rbind") {
            mp.bind = true;
            mp.recursive = mp.recursive || m.type == "rbind";
        }
        if (mp.bind) {
            mp.fstype.clear();
            if (mp.source.empty()) return make_error("{}.source: a bind mount needs a source", field);
            if (mp.source[0] != '/') mp.source = fs::join(opts.bundle.empty() ? "." : opts.bundle, mp.source);
            struct stat st;
            if (p.join_mount) {
                mp.stat_in_child = true;  // the source is a path of the joined namespace
            } else {
                if (::stat(mp.source.c_str(), &st) < 0)
                    return errno_error("{}.source: bind source `{}`", field, mp.source);
                mp.dest_is_file = !S_ISDIR(st.st_mode);
            }
            if (mp.rel_dest == "dev") p.make_devices = false;
        } else if (m.type.empty()) {
            return make_error("{}.type: must name a filesystem type (or bind)", field);
        } else if (m.type == "sysfs") {
            mp.kind = MountPlan::Kind::sysfs;
        } else if (m.type == "cgroup" || m.type == "cgroup2") {
            mp.kind = MountPlan::Kind::cgroup;
        }
        if (mp.source.empty()) mp.source = m.type;
        if (m.type == "devpts" && mp.data.find("gid=") != std::string::npos) {
            std::string nogid;
            size_t start = 0;
            while (start <= mp.data.size()) {
                size_t end = mp.data.find(',', start);
                if (end == std::string::npos) end = mp.data.size();
                std::string opt = mp.data.substr(start, end - start);
                if (opt.rfind("gid=", 0) != 0 && !opt.empty()) nogid += (nogid.empty() ? "" : ",") + opt;
                start = end + 1;
            }
            mp.data_nogid = nogid.empty() ? std::string(",") : nogid;  // non-empty marks "retry"
        }
        p.mounts.push_back(std::move(mp));
    }
    return ok();
}

void add_device(Plan& p, const std::string& path, mode_t type, unsigned major, unsigned minor,
                mode_t perm, uid_t uid, gid_t gid) {
    for (auto& d : p.devices)
        if (d.path == path) {
            d.mode = type | perm;
            d.dev = makedev(major, minor);
            d.uid = uid;
            d.gid = gid;
            return;
        }
    p.devices.push_back({path, path.substr(1), type | perm, makedev(major, minor), uid, gid});
}

Result<void> plan_devices(const Spec& spec, Plan& p) {
    if (!p.make_devices) return ok();
    struct {
        const char* path;
        unsigned major, minor;
    } std_devs[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    // A joined mount namespace may have its /dev already: the standard
    // nodes are only made where missing there (as crun).
    for (const auto& d : std_devs) {
        add_device(p, d.path, S_IFCHR, d.major, d.minor, 0666, 0, 0);
        p.devices.back().if_missing = p.join_mount;
    }
    for (size_t i = 0; i < spec.devices.size(); ++i) {
        const Device& d = spec.devices[i];
        std::string rel = BOCK_TRY_CTX(relative_destination(d.path), fmt::format("linux.devices[{}].path", i));
        mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
        add_device(p, "/" + rel, type, static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor),
                   d.file_mode.value_or(0666) & 07777, d.uid.value_or(0), d.gid.value_or(0));
    }
    return ok();
}

}  // namespace

Result<void> plan_process(const Spec& spec, Plan& p) {
    const Process& proc = spec.process;
    p.command = proc.args.at(0);
    p.arg_storage = proc.args;
    p.env_storage = proc.env;
    std::string path = kDefaultPath;
    for (const auto& e : proc.env)
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        p.path_dirs.push_back(dir.empty() ? "." : dir);
        start = end + 1;
    }
    p.uid = proc.user.uid;
    p.gid = proc.user.gid;
    p.groups.assign(proc.user.additional_gids.begin(), proc.user.additional_gids.end());
    if (proc.user.umask) {
        p.set_umask = true;
        p.umask = static_cast<mode_t>(*proc.user.umask);
    }
    p.cwd = proc.cwd;
    if (proc.terminal && proc.console_size) {
        p.console_rows = static_cast<unsigned short>(std::min<uint32_t>(proc.console_size->height, 0xffff));
        p.console_cols = static_cast<unsigned short>(std::min<uint32_t>(proc.console_size->width, 0xffff));
    }
    p.no_new_privs = proc.no_new_privileges;
    for (size_t i = 0; i < proc.rlimits.size(); ++i) {
        const Rlimit& r = proc.rlimits[i];
        int res = -1;
        for (const auto& n : kRlimits)
            if (r.type == n.name) res = n.resource;
        if (res < 0) return make_error("process.rlimits[{}].type: unknown limit `{}`", i, r.type);
        p.rlimits.push_back({r.type, res, static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)});
    }

    if (auto last = fs::read_file("/proc/sys/kernel/cap_last_cap")) p.cap_last = std::atoi(last->c_str());
    p.set_caps = proc.cap_bounding || proc.cap_effective || proc.cap_permitted || proc.cap_inheritable ||
                 proc.cap_ambient;
    if (p.set_caps) {
        auto mask = [&](const std::optional<std::vector<std::string>>& v, const char* f) -> Result<uint64_t> {
            if (!v) return uint64_t{0};
            return cap_mask(*v, fmt::format("process.capabilities.{}", f));
        };
        uint64_t known = p.cap_last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (p.cap_last + 1)) - 1;
        p.cap_bounding = BOCK_TRY(mask(proc.cap_bounding, "bounding")) & known;
        p.cap_effective = BOCK_TRY(mask(proc.cap_effective, "effective")) & known;
        p.cap_permitted = BOCK_TRY(mask(proc.cap_permitted, "permitted")) & known;
        p.cap_inheritable = BOCK_TRY(mask(proc.cap_inheritable, "inheritable")) & known;
        p.cap_ambient = BOCK_TRY(mask(proc.cap_ambient, "ambient")) & known;
    }
    return ok();
}

Result<std::string> relative_destination(std::string_view dest) {
    std::string out;
    size_t i = 0;
    while (i < dest.size()) {
        size_t j = dest.find('/', i);
        if (j == std::string_view::npos) j = dest.size();
        std::string_view comp = dest.substr(i, j - i);
        if (comp == "..") return make_error("`{}`: `..` is not allowed in a container path", dest);
        if (!comp.empty() && comp != ".") {
            if (!out.empty()) out += '/';
            out += comp;
        }
        i = j + 1;
    }
    if (out.empty()) return make_error("`{}`: must name a path below the root", dest);
    if (out.size() >= PATH_MAX - 64) return make_error("`{}`: path too long", dest.substr(0, 64));
    return out;
}

Result<void> apply_mount_options(MountPlan& m, const std::vector<std::string>& options) {
    for (const auto& o : options) {
        bool done = false;
        for (const auto& f : kFlagOptions)
            if (o == f.name) {
                if (f.clear)
                    m.flags &= ~f.flag;
                else
                    m.flags |= f.flag;
                done = true;
            }
        for (const auto& pr : kPropagation)
            if (o == pr.name) {
                m.propagation = pr.flags;
                done = true;
            }
        if (o == "bind" || o == "rbind") {
            m.bind = true;
            m.recursive = m.recursive || o == "rbind";
            done = true;
        }
        if (o == "tmpcopyup" || o == "remount") done = true;  // not supported; harmless to ignore
        if (o == "idmap" || o == "ridmap") {
            m.idmap = true;
            m.idmap_recursive = o == "ridmap";
            done = true;
        }
        if (!done) {
            if (!m.data.empty()) m.data += ',';
            m.data += o;
        }
    }
    return ok();
}

Result<uint64_t> cap_mask(const std::vector<std::string>& names, std::string_view field) {
    uint64_t mask = 0;
    for (const auto& n : names) {
        cap_value_t v;
        if (cap_from_name(n.c_str(), &v) < 0 || v < 0 || v > 63)
            return make_error("{}: unknown capability `{}`", field, n);
        mask |= uint64_t{1} << v;
    }
    return mask;
}

Result<Plan> build_plan(const Spec& spec, const RunOptions& opts) {
    Plan p;
    BOCK_TRY(plan_namespaces(spec, p));
    std::string root = spec.root_path;
    if (root[0] != '/') root = fs::join(opts.bundle.empty() ? "." : opts.bundle, root);
    // In a joined mount namespace the path means what it means there: the
    // child opens it (refusing a symlink as the last component).
    if (p.join_mount) {
        char cwd[PATH_MAX];
        if (root[0] != '/' && !::getcwd(cwd, sizeof cwd)) return errno_error("root.path `{}`", root);
        p.rootfs = root[0] == '/' ? root : fs::join(cwd, root);
    } else {
        p.rootfs = BOCK_TRY(absolute_dir(root, "root.path"));
    }
    // Our mounts must not propagate back to the host: rslave (the default)
    // or rprivate for the pivot; shared, slave and unbindable go on the new
    // root afterwards (pivot_root refuses a shared mount, and a `/` made
    // unbindable could not be bound).
    p.rootfs_propagation = MS_REC | MS_SLAVE;
    if (!spec.rootfs_propagation.empty()) {
        bool found = false;
        for (const auto& pr : kPropagation)
            if (spec.rootfs_propagation == pr.name) {
                p.root_propagation_after = pr.flags;
                if (pr.flags == (MS_REC | MS_PRIVATE)) p.rootfs_propagation = pr.flags;
                found = true;
            }
        if (!found)
            return make_error("linux.rootfsPropagation: unknown propagation `{}`", spec.rootfs_propagation);
    }
    BOCK_TRY(plan_mounts(spec, opts, p));
    p.bind_devices = opts.rootless || p.new_user;
    BOCK_TRY(plan_devices(spec, p));
    p.masked_paths = spec.masked_paths;
    p.readonly_paths = spec.readonly_paths;
    p.root_readonly = spec.root_readonly;
    for (const auto& [key, value] : spec.sysctl) {
        if (key.find('/') != std::string::npos || key.find("..") != std::string::npos || key.empty())
            return make_error("linux.sysctl: bad key `{}`", key);
        std::string path = "/proc/sys/" + key;
        for (size_t i = 10; i < path.size(); ++i)
            if (path[i] == '.') path[i] = '/';
        p.sysctls.push_back({key, path, value});
    }
    BOCK_TRY(plan_process(spec, p));
    p.preserve_fds = opts.preserve_fds;
    BOCK_TRY(plan_process_attrs(spec, p));
    BOCK_TRY(check_idmap_mounts(spec, p));
    p.hooks = BOCK_TRY(parse_hooks(spec.raw));
    p.bundle = opts.bundle;
    p.oci_version = spec.oci_version;
    p.annotations = spec.annotations;
    if (spec.seccomp) p.seccomp = BOCK_TRY(build_seccomp_cached(*spec.seccomp, opts.seccomp_cache_dir));
    return p;
}

void link_exec_arrays(Plan& p) {
    p.argv.clear();
    for (auto& a : p.arg_storage) p.argv.push_back(a.data());
    p.argv.push_back(nullptr);
    p.envp.clear();
    for (auto& e : p.env_storage) p.envp.push_back(e.data());
    p.envp.push_back(nullptr);
}

}  // namespace bock::runtime

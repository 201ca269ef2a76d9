// What `bock run`/`bock create` mount (run_volumes.hpp), as a list of
// stages: parse the flags into mounts (-v, --mount, --tmpfs, then
// --volumes-from and the image's VOLUME entries where nothing explicit is
// mounted), claim the volumes under the volume lock with the container's
// record, and — once the root is mounted — copy the image's files into new
// volumes, chown `:U` sources and add the mounts to the spec.
#include "run_volumes.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/volumes.hpp"
#include "bock/image/inspect.hpp"
#include "container_dirs.hpp"
#include "copy_tree.hpp"
#include "run_isolation.hpp"
#include "volume_store.hpp"

namespace bock::engine {
namespace {

// One mount as the flags ask for it, before any volume exists.
struct MountSpec {
    std::string flag;         // the flag as typed, for messages
    std::string type;         // bind | volume | tmpfs
    std::string source;       // a host path (bind), a volume name ("": anonymous)
    std::string destination;  // absolute, cleaned
    bool readonly = false;
    bool copy = true;    // volumes: copy the image's files in on first use (nocopy: not)
    bool chown = false;  // U
    bool overlay = false;  // O
    std::string propagation;
    std::vector<std::string> options;       // tmpfs options
    std::vector<std::string> volume_opts;   // --mount volume-opt=K=V
    std::vector<std::string> mode;          // what was typed after the destination (Docker's Mode)
};

const std::set<std::string> kPropagations = {"private", "rprivate", "shared", "rshared", "slave", "rslave"};

// Docker's cleaning of a container path (filepath.Clean): `..` stops at
// `/`, so `/../../etc` is the root's /etc, never the host's.
Result<std::string> clean_destination(const std::string& dst, const std::string& flag) {
    if (dst.empty() || dst[0] != '/')
        return make_error("{}: the destination `{}` must be an absolute path in the container", flag, dst)
            .with_exit(125);
    std::vector<std::string> parts;
    for (const auto& c : strings::split(dst, '/')) {
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(c);
    }
    if (parts.empty()) return make_error("{}: cannot mount over the container's `/`", flag).with_exit(125);
    std::string out;
    for (const auto& p : parts) out += "/" + p;
    return out;
}

Result<void> check_source(MountSpec& m) {
    if (m.type == "bind") {
        if (m.source.empty() || m.source[0] != '/')
            return make_error("{}: the bind source `{}` must be an absolute path", m.flag, m.source)
                .with_hint(fmt::format("give the full path, e.g. $PWD/{}", m.source))
                .with_exit(125);
        struct stat st;
        if (::stat(m.source.c_str(), &st) < 0)
            return errno_error("{}: bind source `{}`", m.flag, m.source)
                .with_hint("create it first: Bock does not create a missing bind source (as podman; Docker "
                           "would create an empty directory)")
                .with_exit(125);
    } else if (m.type == "volume" && !m.source.empty() && !valid_volume_name(m.source)) {
        if (m.source[0] == '.' || m.source.find('/') != std::string::npos)
            return make_error("{}: the bind source `{}` must be an absolute path", m.flag, m.source)
                .with_hint("give the full path, e.g. $PWD/" + m.source)
                .with_exit(125);
        return make_error("{}: `{}` is not a valid volume name", m.flag, m.source)
            .with_hint("use letters, digits, `_`, `.` and `-` (2 characters or more), or an absolute path to bind")
            .with_exit(125);
    }
    if (m.overlay && (m.type == "tmpfs" || m.source.empty()))
        return make_error("{}: `O` (an overlay) needs a source directory or a named volume", m.flag).with_exit(125);
    if (m.overlay && m.source.find_first_of(",:") != std::string::npos)
        return make_error("{}: `O`: the source `{}` contains `,` or `:`, which overlay cannot take", m.flag, m.source)
            .with_exit(125);
    return ok();
}

// tmpfs options Bock passes to the kernel: flags and the data tmpfs knows.
Result<void> check_tmpfs_options(const std::vector<std::string>& opts, const std::string& flag) {
    static const std::set<std::string> flags = {"ro", "rw", "noexec", "exec", "nosuid", "suid", "nodev", "dev",
                                                "sync", "async", "dirsync", "noatime", "atime", "nodiratime",
                                                "diratime", "relatime", "norelatime", "strictatime"};
    static const std::vector<std::string> data = {"size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks=", "huge="};
    for (const auto& o : opts) {
        if (flags.count(o)) continue;
        if (std::any_of(data.begin(), data.end(), [&](const std::string& d) { return o.starts_with(d); })) continue;
        return make_error("{}: unknown tmpfs option `{}`", flag, o)
            .with_hint("known: size=, mode=, uid=, gid=, nr_inodes=, ro, rw, exec, noexec, suid, nosuid, dev, nodev, ...")
            .with_exit(125);
    }
    return ok();
}

// -v [SRC:]DST[:OPTS]
Result<MountSpec> parse_volume_flag(const std::string& text) {
    MountSpec m;
    m.flag = fmt::format("-v `{}`", text);
    auto parts = strings::split(text, ':');
    if (parts.empty() || parts.size() > 3 || text.empty())
        return make_error("{}: expected [SRC:]DST[:OPTIONS]", m.flag).with_exit(125);
    std::string dst = parts.size() == 1 ? parts[0] : parts[1];
    if (parts.size() >= 2) {
        m.source = parts[0];
        if (m.source.empty()) return make_error("{}: empty source", m.flag).with_exit(125);
    }
    m.type = !m.source.empty() && m.source[0] == '/' ? "bind" : "volume";
    m.destination = BOCK_TRY(clean_destination(dst, m.flag));
    if (parts.size() == 3) {
        for (const auto& o : strings::split(parts[2], ',')) {
            if (o == "ro" || o == "readonly") m.readonly = true;
            else if (o == "rw") m.readonly = false;
            else if (o == "z" || o == "Z") {}  // SELinux relabelling: no SELinux here (docs/volumes.md)
            else if (o == "U") m.chown = true;
            else if (o == "O") m.overlay = true;
            else if (o == "nocopy") m.copy = false;
            else if (o == "copy") m.copy = true;
            else if (kPropagations.count(o) && m.type == "bind") m.propagation = o;
            else if (o == "bind" || o == "rbind") {}
            else
                return make_error("{}: unknown option `{}`", m.flag, o)
                    .with_hint("options: ro, rw, z, Z, U, O, nocopy, and for bind mounts a propagation (rprivate, "
                               "rshared, rslave, ...)")
                    .with_exit(125);
            m.mode.push_back(o);
        }
    }
    BOCK_TRY(check_source(m));
    return m;
}

Result<bool> parse_bool(const std::string& key, const std::string& v, const std::string& flag) {
    if (v.empty() || v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    return make_error("{}: `{}={}`: expected true or false", flag, key, v).with_exit(125);
}

// --mount type=bind|volume|tmpfs,src=,dst=,ro,... (Docker's syntax)
Result<MountSpec> parse_mount_flag(const std::string& text) {
    MountSpec m;
    m.flag = fmt::format("--mount `{}`", text);
    m.type = "volume";
    std::string dst, tmpfs_size, tmpfs_mode;
    for (const auto& field : strings::split(text, ',')) {
        if (field.empty()) continue;
        auto eq = field.find('=');
        std::string k = field.substr(0, eq), v = eq == std::string::npos ? "" : field.substr(eq + 1);
        if (k == "type") m.type = v;
        else if (k == "source" || k == "src") m.source = v;
        else if (k == "destination" || k == "dst" || k == "target") dst = v;
        else if (k == "readonly" || k == "ro") m.readonly = BOCK_TRY(parse_bool(k, v, m.flag));
        else if (k == "volume-opt") m.volume_opts.push_back(v);
        else if (k == "volume-nocopy") m.copy = !BOCK_TRY(parse_bool(k, v, m.flag));
        else if (k == "tmpfs-size") tmpfs_size = v;
        else if (k == "tmpfs-mode") tmpfs_mode = v;
        else if (k == "bind-propagation") {
            if (!kPropagations.count(v)) return make_error("{}: bind-propagation `{}`: unknown", m.flag, v).with_exit(125);
            m.propagation = v;
        } else if (k == "U" || k == "chown") m.chown = BOCK_TRY(parse_bool(k, v, m.flag));
        else if (k == "relabel" || k == "consistency") {}  // SELinux / macOS only: nothing to do here
        else
            return make_error("{}: unknown key `{}`", m.flag, k)
                .with_hint("keys: type, source|src, destination|dst|target, readonly|ro, volume-opt, volume-nocopy, "
                           "tmpfs-size, tmpfs-mode, bind-propagation, U")
                .with_exit(125);
    }
    if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs")
        return make_error("{}: type `{}`: bind, volume or tmpfs", m.flag, m.type).with_exit(125);
    if (dst.empty()) return make_error("{}: a destination (dst= or target=) is required", m.flag).with_exit(125);
    m.destination = BOCK_TRY(clean_destination(dst, m.flag));
    if (m.type == "bind" && m.source.empty()) return make_error("{}: a bind mount needs src=", m.flag).with_exit(125);
    if (m.type == "tmpfs" && !m.source.empty())
        return make_error("{}: a tmpfs mount takes no source", m.flag).with_exit(125);
    if (m.type != "tmpfs" && (!tmpfs_size.empty() || !tmpfs_mode.empty()))
        return make_error("{}: tmpfs-size and tmpfs-mode are for type=tmpfs", m.flag).with_exit(125);
    if (m.type != "volume" && !m.volume_opts.empty())
        return make_error("{}: volume-opt is for type=volume", m.flag).with_exit(125);
    if (m.type != "bind" && !m.propagation.empty())
        return make_error("{}: bind-propagation is for type=bind", m.flag).with_exit(125);
    if (m.type == "tmpfs") {
        m.options = {"nosuid", "nodev", "noexec"};
        if (!tmpfs_size.empty()) m.options.push_back(fmt::format("size={}", BOCK_TRY(parse_size(tmpfs_size))));
        if (!tmpfs_mode.empty()) {
            char* end = nullptr;
            unsigned long mode = std::strtoul(tmpfs_mode.c_str(), &end, 8);
            if (tmpfs_mode.empty() || *end || mode > 07777)
                return make_error("{}: tmpfs-mode `{}`: an octal mode such as 1777", m.flag, tmpfs_mode).with_exit(125);
            m.options.push_back(fmt::format("mode={:o}", mode));
        }
    }
    if (m.readonly) m.mode.push_back("ro");
    BOCK_TRY(check_source(m));
    return m;
}

// --tmpfs DST[:OPTS]
Result<MountSpec> parse_tmpfs_flag(const std::string& text) {
    MountSpec m;
    m.flag = fmt::format("--tmpfs `{}`", text);
    m.type = "tmpfs";
    auto colon = text.find(':');
    m.destination = BOCK_TRY(clean_destination(text.substr(0, colon), m.flag));
    m.options = {"rw", "noexec", "nosuid", "nodev"};  // podman's defaults; the flag's options come after and win
    if (colon != std::string::npos) {
        auto opts = strings::split(text.substr(colon + 1), ',');
        std::erase(opts, std::string());
        BOCK_TRY(check_tmpfs_options(opts, m.flag));
        m.options.insert(m.options.end(), opts.begin(), opts.end());
        for (const auto& o : opts) if (o == "ro") m.readonly = true;
    }
    return m;
}

// --volumes-from CONTAINER[:ro|rw]: the container's volumes and binds at
// the same destinations (its tmpfs mounts are its own).
Result<std::vector<MountSpec>> parse_volumes_from(const Context& ctx, const std::string& text) {
    std::string name = text, mode;
    if (auto colon = text.rfind(':'); colon != std::string::npos) {
        name = text.substr(0, colon);
        mode = text.substr(colon + 1);
        if (mode != "ro" && mode != "rw")
            return make_error("--volumes-from `{}`: the mode must be ro or rw", text).with_exit(125);
    }
    auto c = BOCK_TRY_CTX(find_container(ctx, name), fmt::format("--volumes-from `{}`", text));
    std::vector<MountSpec> out;
    for (const auto& j : c.rec.mounts) {
        MountSpec m;
        m.flag = fmt::format("--volumes-from `{}`", text);
        m.type = j.value("Type", "");
        if (m.type != "volume" && m.type != "bind") continue;
        m.source = m.type == "volume" ? j.value("Name", "") : j.value("Source", "");
        m.destination = j.value("Destination", "");
        m.readonly = mode.empty() ? !j.value("RW", true) : mode == "ro";
        m.propagation = j.value("Propagation", "");
        m.copy = false;
        if (m.readonly) m.mode.push_back("ro");
        out.push_back(std::move(m));
    }
    return out;
}

// The image's VOLUME entries (its config's Volumes object).
Result<std::vector<std::string>> image_volumes(const Context& ctx, const image::ImageRecord& img) {
    auto doc = BOCK_TRY(image::inspect_image(*ctx.store, img));
    std::vector<std::string> out;
    if (doc.contains("Config") && doc["Config"].contains("Volumes") && doc["Config"]["Volumes"].is_object())
        for (const auto& [k, v] : doc["Config"]["Volumes"].items()) out.push_back(k);
    return out;
}

Result<std::vector<MountSpec>> collect_mounts(const Context& ctx, const RunRequest& req,
                                              const image::ImageRecord& img) {
    std::vector<MountSpec> out;
    std::set<std::string> dests;
    auto add = [&](MountSpec m) -> Result<void> {
        if (!dests.insert(m.destination).second)
            return make_error("{}: duplicate mount destination `{}`", m.flag, m.destination)
                .with_hint("mount one thing at each path")
                .with_exit(125);
        out.push_back(std::move(m));
        return ok();
    };
    for (const auto& v : req.volumes) BOCK_TRY(add(BOCK_TRY(parse_volume_flag(v))));
    for (const auto& v : req.mounts) BOCK_TRY(add(BOCK_TRY(parse_mount_flag(v))));
    for (const auto& v : req.tmpfs) BOCK_TRY(add(BOCK_TRY(parse_tmpfs_flag(v))));
    // What is mounted explicitly wins over --volumes-from and the image.
    for (const auto& v : req.volumes_from)
        for (auto& m : BOCK_TRY(parse_volumes_from(ctx, v)))
            if (dests.insert(m.destination).second) out.push_back(std::move(m));
    for (const auto& path : BOCK_TRY(image_volumes(ctx, img))) {
        MountSpec m;
        m.flag = fmt::format("the image's VOLUME `{}`", path);
        m.type = "volume";
        auto d = clean_destination(path, m.flag);
        if (!d) {
            log::warn("{}", d.error().to_string());
            continue;
        }
        m.destination = *d;
        if (dests.insert(m.destination).second) out.push_back(std::move(m));
    }
    return out;
}

nlohmann::json describe_mount(const MountSpec& m, const VolumeRecord* vol) {
    nlohmann::json j{{"Type", m.type},
                     {"Destination", m.destination},
                     {"RW", !m.readonly},
                     {"Mode", fmt::format("{}", fmt::join(m.mode, ","))},
                     {"Propagation", m.propagation}};
    if (vol) {
        j["Name"] = vol->name;
        j["Driver"] = vol->driver;
        j["Source"] = vol->mountpoint;
        j["CopyUp"] = m.copy;
    } else {
        j["Source"] = m.source;
    }
    if (!m.options.empty()) j["Options"] = m.options;
    if (m.chown) j["Chown"] = true;
    if (m.overlay) j["Overlay"] = true;
    return j;
}

// Copies the image's directory at `dst` (resolved inside the root) into
// an empty volume: owners, modes and times kept, symlinks as symlinks.
Result<void> copy_up(const Context& ctx, int rootfd, const std::string& dst, const std::string& data) {
    auto src = sys::openat2(rootfd, dst, O_RDONLY | O_DIRECTORY, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (!src) {
        if (src.error().code() == ENOENT || src.error().code() == ENOTDIR) return ok();  // nothing there to copy
        return std::move(src).error().wrap(fmt::format("open `{}` in the container", dst));
    }
    Fd out = BOCK_TRY(sys::open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (!BOCK_TRY(fs::list_dir_at(out.get())).empty()) return ok();  // Docker copies into an empty volume only
    // With a single-ID mapping only the user's id exists here: the copies
    // keep the session's owner (the image's owners are xattrs there).
    CopyTreeOptions opts;
    opts.keep_owners = !ctx.single_id;
    BOCK_TRY_CTX(copy_children(src->get(), out.get(), opts), fmt::format("copy the image's `{}` into the volume", dst));
    struct stat st;
    if (::fstat(src->get(), &st) < 0) return errno_error("stat `{}`", dst);
    if (opts.keep_owners && ::fchown(out.get(), st.st_uid, st.st_gid) < 0) return errno_error("chown `{}`", data);
    if (::fchmod(out.get(), st.st_mode & 07777) < 0) return errno_error("chmod `{}`", data);
    return ok();
}

// chown -R without following symlinks (each symlink itself is chowned).
Result<void> chown_tree(int dirfd, uid_t uid, gid_t gid, const std::string& path) {
    for (const auto& n : BOCK_TRY(fs::list_dir_at(dirfd))) {
        struct stat st;
        if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("stat `{}/{}`", path, n);
        if (::fchownat(dirfd, n.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return errno_error("chown `{}/{}` to {}:{}", path, n, uid, gid);
        if (S_ISDIR(st.st_mode)) {
            Fd sub = BOCK_TRY(sys::openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            BOCK_TRY(chown_tree(sub.get(), uid, gid, path + "/" + n));
        }
    }
    return ok();
}

Result<void> chown_source(const std::string& source, uid_t uid, gid_t gid) {
    Fd fd = BOCK_TRY(sys::open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    auto r = [&]() -> Result<void> {
        if (::fchown(fd.get(), uid, gid) < 0) return errno_error("chown `{}` to {}:{}", source, uid, gid);
        struct stat st;
        if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) BOCK_TRY(chown_tree(fd.get(), uid, gid, source));
        return ok();
    }();
    if (!r)
        return std::move(r).error().wrap("`U`").with_hint(
            "the container's user must be mapped (rootless: a subordinate range in /etc/subuid and /etc/subgid)");
    return ok();
}

int depth(const std::string& p) { return static_cast<int>(std::count(p.begin(), p.end(), '/')); }

}  // namespace

Result<void> claim_volumes(const Context& ctx, const RunRequest& req, const image::ImageRecord& img,
                           ContainerRecord& record) {
    auto specs = BOCK_TRY(collect_mounts(ctx, req, img));
    record.mounts = nlohmann::json::array();
    if (specs.empty()) return ok();
    bool any_volume = std::any_of(specs.begin(), specs.end(), [](const MountSpec& m) { return m.type == "volume"; });
    std::optional<FileLock> lock;
    if (any_volume) lock = BOCK_TRY(lock_volumes(ctx));
    for (const auto& m : specs) {
        if (m.type != "volume") {
            record.mounts.push_back(describe_mount(m, nullptr));
            continue;
        }
        VolumeRecord vol;
        if (m.source.empty()) {
            vol.name = BOCK_TRY(new_container_id());
            vol.anonymous = true;
            vol.container = record.id;
            vol = BOCK_TRY(create_volume_locked(ctx, vol));
        } else if (auto found = load_volume(ctx, m.source)) {
            vol = *found;
            if (!m.volume_opts.empty())
                log::warn("{}: volume `{}` exists already: volume-opt is used only when it is created", m.flag, m.source);
        } else if (found.error().code() == ENOENT) {
            vol.name = m.source;  // a named volume is created on first use
            vol.options = BOCK_TRY_CTX(parse_volume_opts(m.volume_opts), m.flag);
            vol = BOCK_TRY(create_volume_locked(ctx, vol));
        } else {
            return std::move(found).error();
        }
        if (m.overlay && !vol.options.empty())
            return make_error("{}: `O` needs a volume whose files are in the store (not a tmpfs or bind volume)", m.flag)
                .with_exit(125);
        record.mounts.push_back(describe_mount(m, &vol));
    }
    // Saved while the lock is held: `bock volume rm` sees this container.
    return save_record(ctx, record);
}

Result<void> apply_volumes(const Context& ctx, const ContainerRecord& record, const std::string& rootfs,
                           const std::string& storage_dir, runtime::Spec& spec) {
    if (record.mounts.empty()) return ok();
    Fd rootfd = BOCK_TRY(sys::open(rootfs, O_PATH | O_DIRECTORY));
    std::vector<runtime::Mount> added;
    int index = 0;
    for (const auto& j : record.mounts) {
        const std::string type = j.value("Type", ""), dst = j.value("Destination", "");
        std::string source = j.value("Source", "");
        bool ro = !j.value("RW", true);
        std::vector<std::string> opts = j.value("Options", std::vector<std::string>{});
        if (type == "tmpfs") {
            added.push_back({dst, "tmpfs", "tmpfs", opts});
            continue;
        }
        bool bind_it = true;
        if (type == "volume") {
            const std::string name = j.value("Name", "");
            auto vol = BOCK_TRY(load_volume(ctx, name));
            std::string vtype = vol.options.count("type") ? vol.options["type"] : "";
            auto o = vol.options.count("o") ? strings::split(vol.options["o"], ',') : std::vector<std::string>{};
            std::erase(o, std::string());
            if (vtype == "tmpfs") {
                if (ro) o.push_back("ro");
                added.push_back({dst, "tmpfs", "tmpfs", o});
                bind_it = false;
            } else if (vtype == "none") {
                source = vol.options["device"];
            } else {
                source = vol.mountpoint;
                if (vol.needs_copy_up) {
                    // The first container to mount it fills it (under the
                    // lock: two first uses at once copy once).
                    auto lock = BOCK_TRY(lock_volumes(ctx));
                    vol = BOCK_TRY(load_volume(ctx, name));
                    if (vol.needs_copy_up) {
                        if (j.value("CopyUp", true))
                            BOCK_TRY_CTX(copy_up(ctx, rootfd.get(), dst, vol.mountpoint), fmt::format("volume `{}`", name));
                        vol.needs_copy_up = false;
                        BOCK_TRY(save_volume(ctx, vol));
                    }
                }
            }
        }
        if (j.value("Chown", false) && bind_it) {
            // The container's user as the namespace bock runs in has it:
            // through the container's own maps when it has a user
            // namespace (--userns, --uidmap), else the same ids.
            uid_t uid = spec.process.user.uid;
            gid_t gid = spec.process.user.gid;
            if (!record.uid_map.empty() || !record.gid_map.empty()) {
                auto u = outer_id(record.uid_map, uid);
                auto g = outer_id(record.gid_map, gid);
                if (!u || !g)
                    return make_error("`U`: the container's user {}:{} is not mapped by its user namespace", uid, gid)
                        .with_hint("map that user (--uidmap/--gidmap), or run as a mapped one (--user)")
                        .with_exit(125);
                uid = *u;
                gid = *g;
            }
            BOCK_TRY(chown_source(source, uid, gid));
        }
        if (!bind_it) continue;
        if (j.value("Overlay", false)) {
            // Writes go to an upper directory of the container's own,
            // removed with it: the source is never written.
            std::string base = fs::join(storage_dir, fmt::format("volume-overlay/{}", index++));
            BOCK_TRY(fs::mkdir_p(base + "/upper", 0755));
            BOCK_TRY(fs::mkdir_p(base + "/work", 0700));
            std::vector<std::string> o = {"lowerdir=" + source, "upperdir=" + base + "/upper", "workdir=" + base + "/work"};
            if (ctx.rootless) o.push_back("userxattr");
            if (ro) o.push_back("ro");
            added.push_back({dst, "overlay", "overlay", o});
            continue;
        }
        std::vector<std::string> o = {"rbind", ro ? "ro" : "rw"};
        if (auto p = j.value("Propagation", ""); !p.empty()) o.push_back(p);
        added.push_back({dst, "bind", source, o});
    }
    // Parents before what is mounted inside them (Docker sorts the same way).
    std::stable_sort(added.begin(), added.end(),
                     [](const runtime::Mount& a, const runtime::Mount& b) { return depth(a.destination) < depth(b.destination); });
    spec.mounts.insert(spec.mounts.end(), added.begin(), added.end());
    return ok();
}

}  // namespace bock::engine

// The local volume driver (volumes.hpp): records in the store, the volume
// lock, create/ls/inspect/rm/prune. Crash safety by ordering, as the image
// store does (docs/storage.md): a volume is made in .tmp/ and renamed into
// place, and removed by renaming it into .tmp/ first, so a volume directory
// that exists is always complete and a killed command leaves only .tmp/
// debris, which the next change empties.
#include "bock/engine/volumes.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/events.hpp"
#include "container_dirs.hpp"
#include "volume_store.hpp"

namespace bock::engine {

std::string volumes_root(const Context& ctx) { return fs::join(ctx.store_root, "volumes"); }
std::string volume_dir(const Context& ctx, const std::string& name) { return fs::join(volumes_root(ctx), name); }

bool valid_volume_name(const std::string& n) {
    auto ok_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    };
    if (n.size() < 2 || n.size() > 255 || !ok_char(n[0]) || n[0] == '_' || n[0] == '.' || n[0] == '-') return false;
    return std::all_of(n.begin(), n.end(), ok_char);
}

nlohmann::json VolumeRecord::to_json() const {
    nlohmann::json j{{"name", name},           {"driver", driver},       {"created", created},
                     {"labels", labels},       {"options", options},     {"anonymous", anonymous},
                     {"needs_copy_up", needs_copy_up}};
    if (!container.empty()) j["container"] = container;
    return j;
}

nlohmann::json VolumeRecord::describe() const {
    return {{"Name", name},
            {"Driver", driver},
            {"Mountpoint", mountpoint},
            {"CreatedAt", time::rfc3339(created)},
            {"Labels", labels},
            {"Scope", "local"},
            {"Options", options},
            {"Anonymous", anonymous},
            {"NeedsCopyUp", needs_copy_up}};
}

namespace {

Result<VolumeRecord> parse_record(const Context& ctx, const std::string& name, const std::string& text,
                                  const std::string& path) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error("volume record `{}` is not a JSON object", path);
    VolumeRecord r;
    try {
        r.name = j.value("name", name);
        r.driver = j.value("driver", "local");
        r.created = j.value("created", int64_t{0});
        if (auto e = j.find("labels"); e != j.end() && e->is_object())
            r.labels = e->get<std::map<std::string, std::string>>();
        if (auto e = j.find("options"); e != j.end() && e->is_object())
            r.options = e->get<std::map<std::string, std::string>>();
        r.anonymous = j.value("anonymous", false);
        r.container = j.value("container", "");
        r.needs_copy_up = j.value("needs_copy_up", true);
    } catch (const nlohmann::json::exception& e) {
        return make_error("volume record `{}`: {}", path, e.what());
    }
    r.mountpoint = fs::join(volume_dir(ctx, name), "_data");
    return r;
}

Result<std::map<std::string, std::string>> parse_labels(const std::vector<std::string>& labels) {
    std::map<std::string, std::string> out;
    for (const auto& l : labels) {
        auto eq = l.find('=');
        if (l.empty() || eq == 0) return make_error("--label `{}`: must be KEY=VALUE", l).with_exit(125);
        out[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    return out;
}

// Every container record that mounts the volume (any status: a stopped
// container keeps its volumes, as Docker's do).
Result<std::vector<ContainerInfo>> containers_using(const Context& ctx, const std::string& name) {
    std::vector<ContainerInfo> out;
    for (const auto& c : BOCK_TRY(list_containers(ctx)))
        for (const auto& m : c.rec.mounts)
            if (m.value("Type", "") == "volume" && m.value("Name", "") == name) {
                out.push_back(c);
                break;
            }
    return out;
}

std::string describe_users(const std::vector<ContainerInfo>& users) {
    std::string s;
    for (const auto& c : users) s += (s.empty() ? "" : ", ") + (c.rec.name.empty() ? c.rec.id.substr(0, 12) : c.rec.name);
    return s;
}

// With the lock held: renames the volume into .tmp/ (it is gone from then
// on), then deletes it.
Result<void> delete_volume_locked(const Context& ctx, const std::string& name) {
    std::string from = volume_dir(ctx, name);
    std::string to = fs::join(volumes_root(ctx), ".tmp/rm-" + name);
    if (::rename(from.c_str(), to.c_str()) < 0) return errno_error("remove volume `{}`: rename `{}`", name, from);
    BOCK_TRY_CTX(fs::remove_all(to), fmt::format("remove volume `{}`", name));
    record_event(ctx, "volume", "remove", name, {});
    return ok();
}

}  // namespace

Result<FileLock> lock_volumes(const Context& ctx) {
    std::string root = volumes_root(ctx);
    BOCK_TRY(fs::mkdir_p(root, 0700));
    auto lock = BOCK_TRY(FileLock::acquire(fs::join(root, ".lock"), FileLock::Mode::exclusive,
                                           "the volumes of " + ctx.store_root));
    std::string tmp = fs::join(root, ".tmp");
    BOCK_TRY(fs::remove_all(tmp));
    BOCK_TRY(fs::mkdir_p(tmp, 0700));
    return lock;
}

Result<VolumeRecord> load_volume(const Context& ctx, const std::string& name) {
    if (!valid_volume_name(name)) return Error(ENOENT, fmt::format("no such volume: {}", name));
    std::string path = fs::join(volume_dir(ctx, name), "volume.json");
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT)
            return Error(ENOENT, fmt::format("no such volume: {}", name)).with_hint("see `bock volume ls`").with_exit(1);
        return std::move(text).error();
    }
    return parse_record(ctx, name, *text, path);
}

Result<void> save_volume(const Context& ctx, const VolumeRecord& rec) {
    return fs::write_file_replace(fs::join(volume_dir(ctx, rec.name), "volume.json"), rec.to_json().dump(2), 0600,
                                  true);
}

Result<std::map<std::string, std::string>> parse_volume_opts(const std::vector<std::string>& opts) {
    std::map<std::string, std::string> out;
    for (const auto& o : opts) {
        auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error("--opt `{}`: must be KEY=VALUE", o).with_hint("e.g. --opt type=tmpfs --opt o=size=64m");
        std::string k = o.substr(0, eq), v = o.substr(eq + 1);
        if (k != "type" && k != "device" && k != "o")
            return make_error("--opt `{}`: the local driver knows type, device and o", o);
        out[k] = v;
    }
    if (out.empty()) return out;
    std::string type = out.count("type") ? out["type"] : "";
    if (type == "tmpfs") {
        if (out.count("device") && out["device"] != "tmpfs")
            return make_error("--opt device=`{}`: a tmpfs volume takes no device (or device=tmpfs)", out["device"]);
    } else if (type == "none") {
        auto o = out.count("o") ? strings::split(out["o"], ',') : std::vector<std::string>{};
        if (std::find(o.begin(), o.end(), "bind") == o.end() && std::find(o.begin(), o.end(), "rbind") == o.end())
            return make_error("--opt type=none needs --opt o=bind (a bind mount of --opt device=DIR)");
        if (!out.count("device") || out["device"].empty() || out["device"][0] != '/')
            return make_error("--opt type=none: --opt device= must name an absolute host directory");
        if (!fs::is_dir(out["device"]))
            return make_error("--opt device=`{}`: no such directory", out["device"])
                .with_hint("create the directory first (Bock does not create bind sources)");
    } else {
        return make_error("--opt type=`{}`: the local driver mounts type=tmpfs or type=none (with o=bind)", type)
            .with_hint("other file systems (nfs, ext4 on a device) need privileges Bock does not use");
    }
    return out;
}

Result<VolumeRecord> create_volume_locked(const Context& ctx, VolumeRecord rec) {
    if (!valid_volume_name(rec.name))
        return make_error("`{}` is not a valid volume name", rec.name)
            .with_hint("use letters, digits, `_`, `.` and `-`, starting with a letter or a digit (2 characters or more)")
            .with_exit(125);
    std::string final_dir = volume_dir(ctx, rec.name);
    if (fs::exists(final_dir)) return Error(EEXIST, fmt::format("volume `{}` already exists", rec.name));
    rec.created = time::now();
    std::string tmp = fs::join(volumes_root(ctx), ".tmp/new-" + rec.name);
    BOCK_TRY(fs::mkdir_p(tmp, 0700));
    // The data directory's mode is what a container sees at the mount
    // point until the image's directory is copied over it.
    BOCK_TRY(fs::mkdir_p(fs::join(tmp, "_data"), 0755));
    BOCK_TRY(fs::write_file_atomic(fs::join(tmp, "volume.json"), rec.to_json().dump(2), 0600));
    if (::rename(tmp.c_str(), final_dir.c_str()) < 0) return errno_error("create volume `{}`: rename into place", rec.name);
    if (auto dir = sys::open(volumes_root(ctx), O_RDONLY | O_DIRECTORY)) (void)::fsync(dir->get());
    rec.mountpoint = fs::join(final_dir, "_data");
    record_event(ctx, "volume", "create", rec.name, {});
    return rec;
}

Result<VolumeRecord> create_volume(const Context& ctx, const VolumeCreateRequest& req) {
    VolumeRecord rec;
    rec.name = req.name.empty() ? BOCK_TRY(new_container_id()) : req.name;
    rec.labels = BOCK_TRY(parse_labels(req.labels));
    rec.options = BOCK_TRY(parse_volume_opts(req.opts));
    auto lock = BOCK_TRY(lock_volumes(ctx));
    auto r = create_volume_locked(ctx, rec);
    if (!r && r.error().code() == EEXIST)
        return std::move(r).error().with_hint("choose another name, or remove it first with `bock volume rm`");
    return r;
}

Result<std::vector<VolumeRecord>> list_volumes(const Context& ctx) {
    std::vector<VolumeRecord> out;
    std::string root = volumes_root(ctx);
    if (!fs::exists(root)) return out;
    for (const auto& n : BOCK_TRY_CTX(fs::list_dir(root), "list volumes")) {
        if (!valid_volume_name(n) || !fs::is_dir(fs::join(root, n))) continue;  // .lock, .tmp
        auto r = load_volume(ctx, n);
        if (!r) {
            log::warn("volume `{}`: {}", n, r.error().to_string());
            continue;
        }
        out.push_back(std::move(*r));
    }
    return out;
}

Result<VolumeRecord> find_volume(const Context& ctx, const std::string& name) { return load_volume(ctx, name); }

Result<std::vector<std::string>> volume_users(const Context& ctx, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& c : BOCK_TRY(containers_using(ctx, name)))
        out.push_back(c.rec.name.empty() ? c.rec.id.substr(0, 12) : c.rec.name);
    return out;
}

Result<void> remove_volume(const Context& ctx, const std::string& name, bool force) {
    auto lock = BOCK_TRY(lock_volumes(ctx));
    BOCK_TRY(load_volume(ctx, name));
    auto users = BOCK_TRY(containers_using(ctx, name));
    if (!users.empty() && !force)
        return make_error("volume `{}` is in use by container(s) {}", name, describe_users(users))
            .with_hint(fmt::format("remove those containers first (`bock rm`), or remove them with the volume: "
                                   "`bock volume rm -f {}`",
                                   name))
            .with_exit(2);
    for (const auto& c : users) {
        // A container's removal takes no volume lock: the one held here
        // only keeps new containers from claiming this volume meanwhile.
        BOCK_TRY_CTX(remove_container(ctx, c.rec.id, true),
                     fmt::format("remove container {} (it uses volume `{}`)", c.rec.id.substr(0, 12), name));
    }
    return delete_volume_locked(ctx, name);
}

Result<std::vector<std::string>> prune_volumes(const Context& ctx) {
    auto lock = BOCK_TRY(lock_volumes(ctx));
    std::set<std::string> used;
    for (const auto& c : BOCK_TRY(list_containers(ctx)))
        for (const auto& m : c.rec.mounts)
            if (m.value("Type", "") == "volume") used.insert(m.value("Name", ""));
    std::vector<std::string> removed;
    for (const auto& v : BOCK_TRY(list_volumes(ctx))) {
        if (used.count(v.name)) continue;
        BOCK_TRY(delete_volume_locked(ctx, v.name));
        removed.push_back(v.name);
    }
    return removed;
}

nlohmann::json docker_mounts(const ContainerRecord& rec) {
    auto out = nlohmann::json::array();
    for (const auto& m : rec.mounts) {
        nlohmann::json d = nlohmann::json::object();
        for (const char* k : {"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"})
            if (m.contains(k)) d[k] = m[k];
        out.push_back(std::move(d));
    }
    return out;
}

void remove_anonymous_volumes(const Context& ctx, const std::string& id) {
    auto run = [&]() -> Result<void> {
        if (!fs::exists(volumes_root(ctx))) return ok();
        auto lock = BOCK_TRY(lock_volumes(ctx));
        for (const auto& v : BOCK_TRY(list_volumes(ctx))) {
            if (!v.anonymous || v.container != id) continue;
            auto users = BOCK_TRY(containers_using(ctx, v.name));
            std::erase_if(users, [&](const ContainerInfo& c) { return c.rec.id == id; });
            if (!users.empty()) {
                log::notice(fmt::format("anonymous volume {} kept: used by {}", v.name.substr(0, 12), describe_users(users)));
                continue;
            }
            BOCK_TRY(delete_volume_locked(ctx, v.name));
        }
        return ok();
    };
    if (auto r = run(); !r) log::warn("anonymous volumes of container {}: {}", id.substr(0, 12), r.error().to_string());
}

}  // namespace bock::engine

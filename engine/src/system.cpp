// rename, container prune, system df and system prune (system.hpp), each a
// short list of stages over the container records and the image store.
#include "bock/engine/system.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/events.hpp"
#include "bock/engine/images.hpp"
#include "container_dirs.hpp"
#include "volume_store.hpp"

namespace bock::engine {
namespace {

bool valid_container_name(const std::string& n) {
    if (n.empty() || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

bool stopped(const ContainerInfo& c) { return c.status != "running" && c.status != "created"; }

}  // namespace

Result<std::string> rename_container(const Context& ctx, const std::string& key, const std::string& new_name) {
    if (!valid_container_name(new_name))
        return make_error("invalid container name `{}`", new_name)
            .with_hint("names are letters, digits and _ . -, starting with a letter or digit")
            .with_exit(125);
    auto c = BOCK_TRY(find_container(ctx, key));
    for (const auto& o : BOCK_TRY(list_containers(ctx)))
        if (o.rec.name == new_name && o.rec.id != c.rec.id)
            return make_error("the container name `{}` is already in use by container {}", new_name, o.rec.id.substr(0, 12))
                .with_hint("remove or rename that container first");
    auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
    std::string old = rec.name;
    rec.name = new_name;
    BOCK_TRY(save_record(ctx, rec));
    record_event(ctx, "container", "rename", rec.id, {{"name", new_name}, {"oldName", old}, {"image", rec.image}});
    return rec.id;
}

Result<std::vector<std::string>> prune_containers(const Context& ctx, std::optional<int64_t> until) {
    std::vector<std::string> out;
    for (const auto& c : BOCK_TRY(list_containers(ctx))) {
        if (!stopped(c) || (until && c.rec.created >= *until)) continue;
        auto r = remove_container(ctx, c.rec.id, false);
        if (!r) {
            log::report(r.error());
            continue;
        }
        out.push_back(*r);
    }
    BOCK_TRY(release_orphan_leases(ctx));
    return out;
}

Result<int64_t> parse_time_arg(const std::string& s) {
    if (s.empty()) return make_error("empty time").with_exit(125);
    if (std::all_of(s.begin(), s.end(), ::isdigit)) return static_cast<int64_t>(std::stoll(s));
    // A duration: NhNmNs, before now.
    int64_t secs = 0, num = -1;
    bool duration = true;
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            num = (num < 0 ? 0 : num) * 10 + (c - '0');
        } else if ((c == 'h' || c == 'm' || c == 's') && num >= 0) {
            secs += num * (c == 'h' ? 3600 : c == 'm' ? 60 : 1);
            num = -1;
        } else {
            duration = false;
            break;
        }
    }
    if (duration && num < 0) return time::now() - secs;
    struct tm tm{};
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end && (*end == 'Z' || *end == 0)) return static_cast<int64_t>(::timegm(&tm));
    return make_error("cannot read the time `{}`", s)
        .with_hint("give unix seconds, an RFC 3339 time (2026-12-06T21:00:00Z) or a duration (10m, 2h)")
        .with_exit(125);
}

Result<SystemDf> system_df(Context& ctx) {
    SystemDf df;
    auto containers = BOCK_TRY(list_containers(ctx));
    auto images = BOCK_TRY(list_images(ctx));
    std::map<std::string, uint64_t> users;  // image id -> containers
    std::set<std::string> used_by_running;
    for (const auto& c : containers) users[c.rec.image_id]++;

    // Each layer directory once, and which images use it.
    std::map<std::string, uint64_t> layer_size;
    std::map<std::string, int> layer_images;
    std::set<std::string> used_layers;  // layers of images some container uses
    for (const auto& img : images)
        for (const auto& dir : ctx.store->layer_dirs(img)) {
            if (!layer_size.contains(dir)) layer_size[dir] = BOCK_TRY(disk_usage(dir));
            layer_images[dir]++;
            if (users.contains(img.config.hex)) used_layers.insert(dir);
        }
    uint64_t containers_total = BOCK_TRY(disk_usage(fs::join(ctx.store_root, "containers")));
    uint64_t store_total = BOCK_TRY(disk_usage(ctx.store_root));
    // Volumes (docs/volumes.md): their own row; not counted as images.
    DfRow vrow{"Local Volumes"};
    std::string vroot = volumes_root(ctx);
    uint64_t volumes_total = fs::exists(vroot) ? BOCK_TRY(disk_usage(vroot)) : 0;
    for (const auto& v : BOCK_TRY(list_volumes(ctx))) {
        uint64_t size = BOCK_TRY(disk_usage(volume_dir(ctx, v.name)));
        vrow.total++;
        bool used = false;
        for (const auto& c : containers)
            for (const auto& m : c.rec.mounts) used = used || (m.value("Type", "") == "volume" && m.value("Name", "") == v.name);
        if (used) vrow.active++;
        else vrow.reclaimable += size;
        df.volumes.push_back({v.name, size, used});
    }
    vrow.size = volumes_total;
    store_total -= std::min(store_total, volumes_total);

    DfRow irow{"Images"}, crow{"Containers"};
    irow.total = images.size();
    irow.size = store_total - std::min(store_total, containers_total);
    for (const auto& img : images) {
        DfImage d{img.name.empty() ? "<none>" : img.name, img.config.hex};
        d.containers = users.contains(img.config.hex) ? users[img.config.hex] : 0;
        if (d.containers) irow.active++;
        for (const auto& dir : ctx.store->layer_dirs(img)) {
            d.size += layer_size[dir];
            if (layer_images[dir] > 1) d.shared += layer_size[dir];
        }
        df.images.push_back(d);
    }
    for (const auto& [dir, size] : layer_size)
        if (!used_layers.contains(dir)) irow.reclaimable += size;

    crow.total = containers.size();
    crow.size = containers_total;
    for (const auto& c : containers) {
        DfContainer d{c.rec.id, c.rec.name, c.rec.image, c.status};
        d.created = c.rec.created;
        d.size = BOCK_TRY(disk_usage(ContainerDirs::for_id(ctx, c.rec.id).storage));
        if (stopped(c)) crow.reclaimable += d.size;
        else crow.active++;
        df.containers.push_back(d);
    }
    df.rows = {irow, crow, vrow};
    return df;
}

Result<PruneReport> system_prune(Context& ctx, bool all) {
    PruneReport rep;
    uint64_t before = BOCK_TRY(disk_usage(ctx.store_root));
    rep.containers = BOCK_TRY(prune_containers(ctx, std::nullopt));
    rep.images = BOCK_TRY(prune_images(ctx, all));
    for (const auto& id : rep.images) record_event(ctx, "image", "remove", id, {});
    uint64_t after = BOCK_TRY(disk_usage(ctx.store_root));
    rep.reclaimed = before > after ? before - after : 0;
    return rep;
}

}  // namespace bock::engine

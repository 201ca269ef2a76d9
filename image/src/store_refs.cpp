// Reference counting: what keeps content alive (image records and the
// leases of the containers made from them), removing names and images, tagging, prune
// and the gc that deletes what nothing references. Every change runs under
// the writer lock; the index is written before anything is deleted, so a
// crash in between leaves only unreferenced content for the next gc.

#include <set>

#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/image/store.hpp"
#include "store_internal.hpp"

namespace bock::image {

using detail::StorePaths;
using detail::WriteSession;

namespace detail {

std::vector<std::string> list_dir(const std::string& dir) {
    return fs::list_dir(dir).value_or(std::vector<std::string>{});
}

Result<void> gc_locked(const StorePaths& p, const std::vector<ImageRecord>& records) {
    std::set<std::string> blobs, layers;
    for (const auto& r : records) {
        blobs.insert(r.manifest.hex);
        blobs.insert(r.config.hex);
        for (const auto& d : r.diff_ids) layers.insert(d.hex);
        auto mtext = BOCK_TRY_CTX(read_blob(p, r.manifest), "gc: refusing to delete anything");
        auto m = BOCK_TRY_CTX(parse_manifest(mtext), "gc: refusing to delete anything");
        for (const auto& l : m.layers) blobs.insert(l.digest.hex);
    }
    // A container's layers stay while its lease exists, even once its image
    // is gone. A lease that cannot be read stops gc before it deletes anything.
    auto users = BOCK_TRY_CTX(read_leases(p), "gc: refusing to delete anything");
    for (const auto& c : users) {
        for (const auto& d : c.layers) layers.insert(d.hex);
        if (c.layers.empty())  // an old record: keep the layers of its image
            for (const auto& r : records)
                if (r.name == c.image || (!c.image_id.empty() && r.config.hex == c.image_id))
                    for (const auto& d : r.diff_ids) layers.insert(d.hex);
    }
    for (const auto& n : list_dir(p.blobs()))
        if (!blobs.contains(n)) BOCK_TRY(fs::remove_all(p.blobs() + "/" + n).context("gc"));
    for (const auto& n : list_dir(p.layers()))
        if (!layers.contains(n)) BOCK_TRY(fs::remove_all(p.layers() + "/" + n).context("gc"));
    return ok();
}

}  // namespace detail

namespace {


Error in_use_error(std::string_view typed, const std::vector<Lease>& users) {
    std::string ids;
    for (size_t i = 0; i < users.size() && i < 3; i++) ids += (i ? ", " : "") + users[i].holder.substr(0, 12);
    if (users.size() > 3) ids += fmt::format(" and {} more", users.size() - 3);
    return make_error("image `{}` is in use by container {}", typed, ids)
        .with_hint(fmt::format("remove the container first (bock rm {}), or use `bock rmi -f` to untag it "
                               "(its content stays until the container is removed)",
                               users[0].holder.substr(0, 12)))
        .with_exit(2);
}


}  // namespace


Result<RemoveResult> Store::remove_image(std::string_view typed, bool force) {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto rec = BOCK_TRY(lookup(typed));
    if (!rec) return Error(ENOENT, fmt::format("image `{}` not found", typed)).with_exit(1);
    auto records = BOCK_TRY(detail::read_index(p));
    // A name removes that reference; an id removes every name of the image.
    bool by_name = false;
    if (!rec->name.empty())
        if (auto ref = Reference::parse(typed))
            for (const auto& c : local_candidates(*ref)) by_name |= c.str() == rec->name;
    RemoveResult out;
    auto matches = [&](const ImageRecord& r) {
        return by_name ? r.name == rec->name : r.manifest == rec->manifest;
    };
    size_t left = 0;
    for (const auto& r : records)
        if (r.manifest == rec->manifest && !matches(r)) left++;
    bool keep_dangling = false;
    if (left == 0) {
        auto all = BOCK_TRY_CTX(detail::read_leases(p), "refusing to delete anything");
        auto users = detail::users_of(all, records, rec->config);
        if (!users.empty()) {
            if (!force) return in_use_error(typed, users);
            keep_dangling = true;
        }
    }
    std::erase_if(records, [&](const ImageRecord& r) {
        if (!matches(r)) return false;
        if (!r.name.empty()) out.untagged.push_back(r.name);
        return true;
    });
    if (keep_dangling) {
        ImageRecord d = *rec;
        d.name.clear();
        records.push_back(d);
    } else if (left == 0) {
        out.deleted.push_back(rec->config.str());
    }
    BOCK_TRY(detail::write_index(p, records).context(fmt::format("remove `{}`", typed)));
    if (auto r = detail::gc_locked(p, records); !r) log::warn("{}", r.error().to_string());
    return out;
}

Result<std::vector<std::string>> Store::remove(std::string_view typed) {
    auto r = BOCK_TRY(remove_image(typed, false));
    return r.untagged;
}

Result<ImageRecord> Store::tag(std::string_view source, const Reference& target) {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto rec = BOCK_TRY(lookup(source));
    if (!rec) return Error(ENOENT, fmt::format("image `{}` not found", source)).with_exit(1);
    if (!target.digest.empty())
        return make_error("tag `{}`: a tag cannot contain a digest", target.str()).with_hint("use NAME[:TAG]");
    ImageRecord t = *rec;
    t.name = target.str();
    BOCK_TRY_CTX(detail::add_to_index(p, {t}), fmt::format("tag `{}`", t.name));
    return t;
}

Result<std::vector<std::string>> Store::prune(bool all) {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto records = BOCK_TRY(detail::read_index(p));
    auto users = BOCK_TRY_CTX(detail::read_leases(p), "prune: refusing to delete anything");
    std::set<std::string> used;  // manifests in use
    for (const auto& r : records)
        if (!detail::users_of(users, records, r.config).empty()) used.insert(r.manifest.hex);
    std::set<std::string> dangling_only;  // manifests with no name
    for (const auto& r : records)
        if (r.name.empty()) dangling_only.insert(r.manifest.hex);
    for (const auto& r : records)
        if (!r.name.empty()) dangling_only.erase(r.manifest.hex);
    std::vector<std::string> deleted;
    std::erase_if(records, [&](const ImageRecord& r) {
        if (used.contains(r.manifest.hex)) return false;
        if (!all && !dangling_only.contains(r.manifest.hex)) return false;
        if (std::find(deleted.begin(), deleted.end(), r.config.str()) == deleted.end())
            deleted.push_back(r.config.str());
        return true;
    });
    BOCK_TRY(detail::write_index(p, records).context("prune images"));
    BOCK_TRY(detail::gc_locked(p, records));
    return deleted;
}

Result<void> Store::gc() {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto records = BOCK_TRY(detail::read_index(p));
    return detail::gc_locked(p, records);
}

}  // namespace bock::image

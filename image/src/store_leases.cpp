// Leases: what keeps an image's content alive while a container uses it.
//   <root>/leases/<holder>.json  {"holder", "image", "image_id", "layers": [diff ids]}
// Taken under the store's shared lock (a writer, and so gc, waits), written
// atomically; gc reads them under the writer lock and fails closed: a lease
// or a lease directory it cannot read stops it before anything is deleted.

#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/lock.hpp"
#include "bock/common/log.hpp"
#include "bock/image/store.hpp"
#include "store_internal.hpp"

namespace bock::image {

using detail::StorePaths;

namespace detail {
namespace {

bool valid_holder(std::string_view h) {
    if (h.empty() || h.size() > 128 || h.front() == '.') return false;
    for (char c : h)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

nlohmann::json lease_json(const Lease& l) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& d : l.layers) layers.push_back(d.str());
    return {{"holder", l.holder}, {"image", l.image}, {"image_id", l.image_id}, {"layers", layers}};
}

Result<Lease> parse_lease(const std::string& text, const std::string& path) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("holder") || !j["holder"].is_string())
        return make_error("lease `{}` is not a lease (expected a JSON object with a holder)", path);
    Lease l;
    l.holder = j["holder"];
    if (auto i = j.find("image"); i != j.end() && i->is_string()) l.image = *i;
    if (auto i = j.find("image_id"); i != j.end() && i->is_string()) l.image_id = *i;
    if (auto i = j.find("layers"); i != j.end() && i->is_array())
        for (const auto& d : *i) {
            if (!d.is_string()) return make_error("lease `{}`: a layer is not a digest", path);
            auto dg = Digest::parse(d.get<std::string>());
            if (!dg) return make_error("lease `{}`: a layer is not a digest", path);
            l.layers.push_back(*dg);
        }
    return l;
}

}  // namespace

Result<std::vector<Lease>> read_leases(const StorePaths& p) {
    std::vector<Lease> out;
    const std::string dir = p.leases();
    auto all = fs::list_dir(dir);
    if (!all)
        return std::move(all.error()
                             .wrap(fmt::format("read the lease directory `{}`", dir))
                             .with_hint("it records which images containers use; restore it (owned by the store's "
                                        "user, mode 0700) before removing images"));
    for (const auto& n : *all) {
        if (!n.ends_with(".json") || n.front() == '.') continue;
        std::string path = dir + "/" + n;
        auto text = fs::read_file(path);
        if (!text)
            return std::move(text).error().wrap(fmt::format("read lease `{}`", path))
                .with_hint("fix or remove the file (removing it lets gc delete what that container uses)");
        out.push_back(BOCK_TRY(parse_lease(*text, path)));
    }
    return out;
}

Result<void> migrate_leases(const StorePaths& p) {
    auto session = BOCK_TRY(WriteSession::begin(p));
    if (fs::exists(p.leases())) return ok();  // another process migrated first
    std::string staging = p.tmp() + "/leases.new";
    BOCK_TRY(fs::remove_all(staging));
    BOCK_TRY(fs::mkdir_p(staging, 0700));
    // The older front end's records. Fail closed: a record that cannot be
    // read might be a container whose layers a gc would delete.
    const std::string dir = p.root + "/containers";
    for (const auto& id : list_dir(dir)) {
        if (id.size() != 64) continue;
        std::string path = dir + "/" + id + "/container.json";
        if (!fs::exists(path)) continue;  // a container that was still being created: no layers in use yet
        auto text = fs::read_file(path);
        if (!text)
            return std::move(text).error().wrap(fmt::format("migrate container record `{}` into a lease", path));
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (!j.is_object()) return make_error("migrate container record `{}`: not a JSON object", path);
        Lease l;
        l.holder = id;
        if (auto i = j.find("image"); i != j.end() && i->is_string()) l.image = *i;
        if (auto i = j.find("image_id"); i != j.end() && i->is_string()) l.image_id = *i;
        if (auto i = j.find("layers"); i != j.end() && i->is_array())
            for (const auto& d : *i)
                if (d.is_string())
                    if (auto dg = Digest::parse(d.get<std::string>())) l.layers.push_back(*dg);
        BOCK_TRY(fs::write_file_atomic(staging + "/" + id + ".json", lease_json(l).dump(), 0600));
    }
    if (::rename(staging.c_str(), p.leases().c_str()) < 0)
        return errno_error("rename `{}` to `{}`", staging, p.leases());
    return ok();
}

std::vector<Lease> users_of(const std::vector<Lease>& all, const std::vector<ImageRecord>& records,
                            const Digest& config) {
    std::vector<Lease> out;
    for (const auto& l : all) {
        bool uses = !l.image_id.empty() && l.image_id == config.hex;
        if (l.image_id.empty())
            for (const auto& r : records)
                if (!r.name.empty() && r.name == l.image && r.config == config) uses = true;
        if (uses) out.push_back(l);
    }
    return out;
}

}  // namespace detail

Result<std::vector<Lease>> Store::leases() const { return detail::read_leases(StorePaths{root_}); }

Result<void> Store::take_lease(const std::string& holder, const ImageRecord& rec) const {
    StorePaths p{root_};
    if (!detail::valid_holder(holder)) return make_error("lease holder `{}` is not a valid name", holder);
    auto lock = BOCK_TRY(FileLock::acquire(p.lock(), FileLock::Mode::shared, "the image store " + p.root));
    auto records = BOCK_TRY(detail::read_index(p));
    bool stored = false;
    for (const auto& r : records) stored |= r.manifest == rec.manifest;
    if (!stored)
        return make_error("image `{}` was removed while the container was being created", rec.name)
            .with_hint("run the command again");
    Lease l{holder, rec.name, rec.config.hex, rec.diff_ids};
    return fs::write_file_atomic(p.leases() + "/" + holder + ".json", detail::lease_json(l).dump(), 0600)
        .context(fmt::format("take a lease on image `{}`", rec.name));
}

Result<void> Store::release_lease(const std::string& holder) const {
    if (!detail::valid_holder(holder)) return make_error("lease holder `{}` is not a valid name", holder);
    std::string path = StorePaths{root_}.leases() + "/" + holder + ".json";
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return errno_error("release lease `{}`", path);
    return ok();
}

}  // namespace bock::image

// The image operations of `bock` (images.hpp): pull/push/copy policy,
// loading and saving, listing with podman's JSON, tags and removal.
#include "bock/engine/images.hpp"

#include <algorithm>
#include <map>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/events.hpp"
#include "bock/engine/run.hpp"
#include "bock/image/credentials.hpp"
#include "bock/image/default_image.hpp"
#include "bock/image/inspect.hpp"
#include "bock/image/registries_conf.hpp"

namespace bock::engine {
namespace {

template <class Opts>
Opts access_options(const RegistryAccess& a) {
    Opts o;
    o.tls_verify = a.tls_verify;
    o.cert_dir = a.cert_dir;
    o.authfile = a.authfile;
    return o;
}

image::PullOptions pull_options(const RegistryAccess& a, const PullProgressHooks& p) {
    auto o = access_options<image::PullOptions>(a);
    o.progress = p.line;
    o.on_blob = p.blob;
    return o;
}

}  // namespace

Result<ImageRecord> pull_image(Context& ctx, const PullRequest& req) {
    BOCK_TRY(image::Reference::parse(req.name));
    auto opts = pull_options(req.access, req.progress);
    if (!req.platform.empty()) opts.platform = BOCK_TRY(image::Platform::parse(req.platform));
    auto conf = BOCK_TRY(image::load_registries_conf());
    auto rec = BOCK_TRY(image::pull_with_config(*ctx.store, req.name, opts, conf));
    record_event(ctx, "image", "pull", rec.config.hex, {{"name", req.name}});
    return rec;
}

Result<PullPolicy> parse_pull_policy(const std::string& s) {
    if (s == "missing") return PullPolicy::missing;
    if (s == "always") return PullPolicy::always;
    if (s == "never") return PullPolicy::never;
    return make_error("--pull=`{}`: expected missing, always or never", s);
}

Result<void> ensure_image(Context& ctx, const std::string& typed, PullPolicy policy, const PullProgressHooks& progress) {
    if (policy == PullPolicy::never) return ok();
    if (policy == PullPolicy::missing && BOCK_TRY(ctx.store->lookup(typed))) return ok();
    auto ref = image::Reference::parse(typed);
    if (!ref) return ok();  // an id prefix, or a bad name: run's lookup says why
    for (const auto& cand : image::local_candidates(*ref))
        if (cand.str() == image::default_image_name) return ok();  // built locally on demand
    auto conf = BOCK_TRY(image::load_registries_conf());
    auto r = image::pull_with_config(*ctx.store, typed, pull_options({}, progress), conf);
    if (r) return ok();
    Error last = std::move(r).error();
    if (policy == PullPolicy::missing)
        return std::move(last)
            .wrap(fmt::format("image `{}` is not in the local store, and pulling it failed", typed))
            .with_hint(ref->had_domain ? "check the name and the registry, or load it with `bock load -i ARCHIVE`"
                                       : "load it with `bock load -i ARCHIVE`, or name its registry: "
                                         "bock run REGISTRY/NAME[:TAG]");
    return last;
}

Result<PushResult> push_image(Context& ctx, const PushRequest& req) {
    // As `bock run` finds it (the default busybox image is made on demand).
    auto rec = BOCK_TRY(resolve_image(ctx, req.image));
    std::string dest = req.dest.empty() ? rec.name : req.dest;
    PushResult out{rec.name, dest, "", false};
    // docker:// (or none) goes to a registry; oci:, oci-archive:,
    // docker-archive: are the store's transports.
    if (dest.starts_with("dir:"))
        return make_error("push to `{}`: the `dir:` transport is not supported", dest)
            .with_hint("use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE");
    if (!dest.starts_with("docker://")) {
        auto loc = BOCK_TRY(image::Location::parse(dest));
        if (loc.kind != image::Location::Kind::local && loc.kind != image::Location::Kind::docker) {
            BOCK_TRY(image::write_from_store(*ctx.store, {rec}, loc));
            out.destination = loc.str();
            // The OCI forms keep the manifest (and its digest).
            if (loc.kind != image::Location::Kind::docker_archive) out.digest = rec.manifest.str();
            return out;
        }
    }
    if (dest.starts_with("docker://")) dest = dest.substr(9);
    auto ref = BOCK_TRY(image::Reference::parse(dest));
    auto opts = access_options<image::PushOptions>(req.access);
    opts.progress = req.progress;
    out.destination = ref.str();
    out.registry = true;
    if (req.progress) req.progress(fmt::format("Pushing {} to {}", rec.name, ref.str()));
    out.digest = BOCK_TRY(ctx.store->push(rec, ref, opts)).str();
    return out;
}

Result<std::string> copy_image(Context& ctx, const std::string& src, const std::string& dst,
                               const RegistryAccess& access) {
    auto s = BOCK_TRY(image::Location::parse(src));
    auto d = BOCK_TRY(image::Location::parse(dst));
    if (s.path == "-" || d.path == "-")
        return make_error("`bock copy` reads and writes files, not `-`").with_hint("use bock load / bock save for pipes");
    // docker:// on either side: the registry pull and push.
    image::CopyHooks hooks;
    hooks.pull = [&](const image::Reference& ref) -> Result<ImageRecord> {
        auto conf = BOCK_TRY(image::load_registries_conf());
        return image::pull_with_config(*ctx.store, ref.str(), access_options<image::PullOptions>(access), conf);
    };
    hooks.push = [&](const ImageRecord& rec, const image::Reference& dest) -> Result<void> {
        BOCK_TRY(ctx.store->push(rec, dest, access_options<image::PushOptions>(access)));
        return ok();
    };
    return image::copy_image(*ctx.store, s, d, hooks);
}

Result<ImageRecord> import_image(Context& ctx, const std::string& tarball, const std::string& name,
                                 const ImportOptions& opts) {
    return image::import_rootfs(*ctx.store, tarball, name, opts);
}

Result<std::vector<ImageRecord>> load_images(Context& ctx, const std::string& input) {
    image::Location src;
    src.path = input;
    src.kind = input != "-" && fs::is_dir(input) ? image::Location::Kind::oci
                                                 : image::Location::Kind::oci_archive;  // either archive format
    return image::read_into_store(*ctx.store, src);
}

Result<void> save_images(Context& ctx, const std::vector<std::string>& names, const std::string& format,
                         const std::string& out) {
    std::vector<ImageRecord> recs;
    for (const auto& n : names) {
        auto rec = BOCK_TRY(resolve_image(ctx, n));
        // Saved under the name typed (as podman), when it is a name.
        if (auto ref = image::Reference::parse(n); ref && !rec.name.empty()) {
            for (const auto& c : image::local_candidates(*ref))
                if (auto f = BOCK_TRY(ctx.store->find(c)); f && f->manifest == rec.manifest) {
                    rec.name = f->name;
                    break;
                }
        }
        recs.push_back(rec);
    }
    image::Location dst;
    dst.kind = format == "docker-archive" ? image::Location::Kind::docker_archive
               : format == "oci-dir"      ? image::Location::Kind::oci
                                          : image::Location::Kind::oci_archive;
    dst.path = out;
    return image::write_from_store(*ctx.store, recs, dst);
}

Result<std::vector<ImageRecord>> list_images(Context& ctx) { return ctx.store->list(); }

std::pair<std::string, std::string> repository_and_tag(const ImageRecord& rec) {
    std::string repo = "<none>", tag = "<none>";
    if (auto ref = image::Reference::parse(rec.name); ref && !rec.name.empty()) {
        repo = ref->repository();
        if (!ref->tag.empty()) tag = ref->tag;
    }
    return {repo, tag};
}

Result<nlohmann::json> images_json(Context& ctx) {
    auto images = BOCK_TRY(ctx.store->list());
    auto leases = BOCK_TRY(ctx.store->leases());
    std::vector<std::string> order;
    std::map<std::string, std::vector<const ImageRecord*>> by_id;
    for (const auto& i : images) {
        if (!by_id.contains(i.manifest.hex)) order.push_back(i.manifest.hex);
        by_id[i.manifest.hex].push_back(&i);
    }
    auto arr = nlohmann::json::array();
    for (const auto& m : order) {
        const auto& recs = by_id[m];
        const auto& i = *recs.front();
        auto names = nlohmann::json::array(), digests = nlohmann::json::array();
        for (const auto* r : recs) {
            if (r->name.empty()) continue;
            names.push_back(r->name);
            if (auto ref = image::Reference::parse(r->name)) {
                std::string d = ref->repository() + "@" + i.manifest.str();
                if (std::find(digests.begin(), digests.end(), d) == digests.end()) digests.push_back(d);
            }
        }
        int used = 0;
        for (const auto& l : leases) used += l.image_id == i.config.hex;
        std::vector<std::string> diff;
        for (const auto& d : i.diff_ids) diff.push_back(d.str());
        arr.push_back({{"Id", i.config.hex},
                       {"ParentId", ""},
                       {"RepoTags", names},
                       {"RepoDigests", digests},
                       {"Names", names},
                       {"Digest", i.manifest.str()},
                       {"Created", i.created},
                       {"CreatedAt", time::rfc3339(i.created)},
                       {"Size", i.size},
                       {"SharedSize", 0},
                       {"VirtualSize", i.size},
                       {"Containers", used},
                       {"Dangling", names.empty()},
                       {"Layers", diff}});
    }
    return arr;
}

Result<std::optional<nlohmann::json>> inspect_image(Context& ctx, const std::string& name) {
    auto rec = BOCK_TRY(ctx.store->lookup(name));
    if (!rec) return std::optional<nlohmann::json>{};
    return std::optional<nlohmann::json>{BOCK_TRY(image::inspect_image(*ctx.store, *rec))};
}

Result<void> tag_image(Context& ctx, const std::string& source, const std::string& target) {
    auto ref = BOCK_TRY_CTX(image::Reference::parse(target), fmt::format("tag `{}`", target));
    BOCK_TRY(ctx.store->tag(source, ref));
    record_event(ctx, "image", "tag", source, {{"name", ref.str()}});
    return ok();
}

Result<RemovedImage> remove_image(Context& ctx, const std::string& name, bool force) {
    auto r = BOCK_TRY(ctx.store->remove_image(name, force));
    for (const auto& u : r.untagged) record_event(ctx, "image", "untag", u, {{"name", name}});
    for (const auto& d : r.deleted) record_event(ctx, "image", "remove", d, {{"name", name}});
    return RemovedImage{r.untagged, r.deleted};
}

Result<std::vector<std::string>> prune_images(Context& ctx, bool all) { return ctx.store->prune(all); }

std::string registry_of(std::string_view arg) { return image::registry_of(arg); }

Result<void> login(const std::string& registry, const std::string& user, const std::string& password,
                   const RegistryAccess& access) {
    image::Credentials c;
    c.username = user;
    c.password = password;
    c.source = "the command line";
    BOCK_TRY(image::check_login(registry, c, access.tls_verify, access.cert_dir));
    return image::save_credentials(image::login_auth_file(access.authfile), registry, c);
}

Result<std::pair<std::string, bool>> logout(const std::string& registry, const std::string& authfile) {
    std::string file = image::login_auth_file(authfile);
    bool removed = BOCK_TRY(image::remove_credentials(file, registry));
    return std::pair{file, removed};
}

}  // namespace bock::engine

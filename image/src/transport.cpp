// Transport names (skopeo's), reading locations into the store, writing
// stored images out, and `bock copy` between them.
#include "bock/image/transport.hpp"

#include <fcntl.h>

#include "bock/common/fs.hpp"
#include "bock/common/lock.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "transport_internal.hpp"

namespace bock::image {

using detail::NamedSource;
using detail::SourceImage;
using detail::StorePaths;
using Kind = Location::Kind;

std::string_view transport_name(Kind k) {
    switch (k) {
    case Kind::local: return "local";
    case Kind::docker: return "docker";
    case Kind::oci: return "oci";
    case Kind::oci_archive: return "oci-archive";
    case Kind::docker_archive: return "docker-archive";
    }
    return "?";
}

Result<Location> Location::parse(std::string_view s) {
    Location l;
    auto colon = s.find(':');
    std::string_view prefix = colon == std::string_view::npos ? std::string_view{} : s.substr(0, colon);
    std::string_view rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon + 1);
    auto path_and_ref = [&](Kind k) -> Result<Location> {
        l.kind = k;
        auto c = rest.find(':');
        l.path = std::string(rest.substr(0, c));
        if (c != std::string_view::npos) l.ref = std::string(rest.substr(c + 1));
        if (l.path.empty()) return make_error("`{}`: missing path after `{}:`", s, prefix);
        if (c != std::string_view::npos && l.ref.empty()) return make_error("`{}`: empty tag after the path", s);
        return l;
    };
    if (prefix == "docker") {
        if (!rest.starts_with("//")) return make_error("`{}`: expected docker://REFERENCE", s);
        l.kind = Kind::docker;
        l.ref = std::string(rest.substr(2));
        BOCK_TRY_CTX(Reference::parse(l.ref), fmt::format("`{}`", s));
        return l;
    }
    if (prefix == "oci") return path_and_ref(Kind::oci);
    if (prefix == "oci-archive") return path_and_ref(Kind::oci_archive);
    if (prefix == "docker-archive") return path_and_ref(Kind::docker_archive);
    if (prefix == "dir" || prefix == "containers-storage" || prefix == "docker-daemon" || prefix == "sif" ||
        prefix == "ostree")
        return make_error("`{}`: the `{}:` transport is not supported", s, prefix)
            .with_hint("use docker://, oci:, oci-archive:, docker-archive: or a local image name");
    l.kind = Kind::local;
    l.ref = std::string(s);
    if (l.ref.empty()) return make_error("empty image name");
    return l;
}

std::string Location::str() const {
    switch (kind) {
    case Kind::local: return ref;
    case Kind::docker: return "docker://" + ref;
    default: return fmt::format("{}:{}{}{}", transport_name(kind), path, ref.empty() ? "" : ":", ref);
    }
}

namespace {

// A reference path component from a file or directory name.
std::string name_from_path(const std::string& path) {
    std::string base = path;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    if (auto s = base.rfind('/'); s != std::string::npos) base = base.substr(s + 1);
    for (const char* ext : {".tar.gz", ".tgz", ".tar"})
        if (base.size() > std::string_view(ext).size() && base.ends_with(ext)) base.resize(base.size() - std::string_view(ext).size());
    std::string out;
    for (char c : base) {
        char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool okc = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
        if (okc) out += l;
        else if (!out.empty() && out.back() != '-' && (l == '.' || l == '_' || l == '-')) out += l;
        else if (!out.empty() && out.back() != '-') out += '-';
    }
    while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
    return out.empty() ? "image" : out;
}

// The images of a non-local location; archives are unpacked into `tmpdir`.
struct Opened {
    Fd root;
    std::string shown;
    std::vector<SourceImage> images;
};

Result<Opened> open_location(const Location& loc, const std::string& tmpdir) {
    Opened o;
    o.shown = loc.path == "-" ? "stdin" : loc.path;
    std::string dir = loc.path;
    if (loc.is_archive()) {
        if (loc.path != "-" && fs::is_dir(loc.path))
            return make_error("`{}` is a directory, not an archive", loc.path).with_hint(fmt::format("use oci:{}", loc.path));
        BOCK_TRY_CTX(detail::unpack(loc.path, tmpdir), fmt::format("read `{}`", o.shown));
        dir = tmpdir;
    }
    o.root = BOCK_TRY(sys::open(dir, O_RDONLY | O_DIRECTORY));
    bool oci = detail::exists_in(o.root.get(), "oci-layout") && detail::exists_in(o.root.get(), "index.json");
    bool docker = detail::exists_in(o.root.get(), "manifest.json");
    if (loc.kind == Kind::oci || (loc.kind == Kind::oci_archive && oci) || (oci && !docker)) {
        o.images = BOCK_TRY(detail::oci_sources(o.root.get(), o.shown, loc.ref));
    } else if (docker) {
        o.images = BOCK_TRY(detail::docker_sources(o.root.get(), o.shown, loc.ref));
    } else {
        return make_error("`{}` is not an image archive: no oci-layout or manifest.json found", o.shown);
    }
    return o;
}

// The stored name of a source image without a given name.
std::string default_name(const Location& loc, const SourceImage& s) {
    if (!s.names.empty()) return s.names[0];
    if (loc.kind == Kind::docker_archive || s.tag.empty()) return "";
    std::string tag = s.tag;
    if (auto r = Reference::parse("localhost/" + name_from_path(loc.path) + ":" + tag)) return r->str();
    return "";
}

Error docker_not_wired(const Location& l) {
    return make_error("`{}`: docker:// is handled by `bock pull`/`bock push`, not wired into this command yet",
                      l.str())
        .with_hint("use `bock pull`/`bock push` for registries");
}

}  // namespace

Result<std::vector<ImageRecord>> read_into_store(Store& store, const Location& src, std::optional<std::string> name) {
    if (src.kind == Kind::local || src.kind == Kind::docker)
        return make_error("`{}`: not an oci, oci-archive or docker-archive location", src.str());
    StorePaths p{store.root()};
    StoreOptions opts = store.options();
    const std::string what = fmt::format("read `{}`", src.str());
    auto session = BOCK_TRY(detail::WriteSession::begin(p));
    detail::NewContentGuard guard(p);  // a refused archive leaves the store as it was
    std::string tmpdir = BOCK_TRY(fs::make_temp_dir(p.tmp(), "archive-"));
    auto body = [&]() -> Result<std::vector<ImageRecord>> {
        auto o = BOCK_TRY(open_location(src, tmpdir));
        if (name && o.images.size() != 1)
            return make_error("a name can only be given for a single image, `{}` has {}", o.shown, o.images.size());
        std::vector<ImageRecord> out;
        for (const auto& s : o.images) {
            std::vector<std::string> names;
            if (name) names.push_back(BOCK_TRY(Reference::parse(*name)).str());
            else if (!s.names.empty()) names = s.names;
            else names.push_back(default_name(src, s));
            auto rec = BOCK_TRY(detail::store_source(p, s, names[0], opts));
            for (const auto& n : names) {
                rec.name = n;
                out.push_back(rec);
            }
        }
        BOCK_TRY(detail::add_to_index(p, out));
        return out;
    };
    auto r = body();
    (void)fs::remove_all(tmpdir);
    if (!r) {
        // The guard drops what this read added: the store is as it was.
        return std::move(r).error().wrap(what);
    }
    guard.keep();
    return r;
}

Result<void> write_from_store(const Store& store, const std::vector<ImageRecord>& images, const Location& dst) {
    if (dst.kind == Kind::local || dst.kind == Kind::docker)
        return make_error("`{}`: not an oci, oci-archive or docker-archive location", dst.str());
    if (images.empty()) return make_error("write `{}`: no image given", dst.str());
    if (!dst.ref.empty() && images.size() != 1)
        return make_error("`{}`: a tag can only be given for a single image", dst.str());
    StorePaths p{store.root()};
    // Readers of blobs hold the shared lock: no gc removes them meanwhile.
    auto lock = BOCK_TRY(FileLock::acquire(p.lock(), FileLock::Mode::shared, "the image store " + p.root));
    std::vector<SourceImage> sources;
    for (const auto& rec : images) sources.push_back(BOCK_TRY(detail::source_from_store(p, rec)));
    std::vector<NamedSource> named;
    for (size_t i = 0; i < images.size(); i++) {
        std::string tag = !dst.ref.empty() ? dst.ref : images[i].name;
        if (dst.kind == Kind::docker_archive && !tag.empty()) tag = BOCK_TRY(Reference::parse(tag)).familiar();
        named.push_back({tag, &sources[i]});
    }
    const std::string what = fmt::format("write `{}`", dst.str());
    switch (dst.kind) {
    case Kind::oci: return detail::write_oci_dir(dst.path, named).context(what);
    case Kind::oci_archive: return detail::write_oci_archive_file(dst.path, named).context(what);
    case Kind::docker_archive: return detail::write_docker_archive_file(dst.path, named).context(what);
    default: return make_error("{}: unsupported destination", what);
    }
}

Result<std::string> copy_image(Store& store, const Location& src, const Location& dst, const CopyHooks& hooks) {
    if (src.kind == Kind::docker) {
        if (!hooks.pull) return docker_not_wired(src);
        auto rec = BOCK_TRY(hooks.pull(BOCK_TRY(Reference::parse(src.ref))));
        if (dst.kind == Kind::local) {
            if (!dst.ref.empty()) BOCK_TRY(store.tag(rec.config.str(), BOCK_TRY(Reference::parse(dst.ref))));
            return rec.manifest.str();
        }
        Location local;
        local.ref = rec.config.str();
        return copy_image(store, local, dst, hooks);
    }
    if (dst.kind == Kind::docker) {
        if (!hooks.push) return docker_not_wired(dst);
        auto dest = BOCK_TRY(Reference::parse(dst.ref));
        ImageRecord rec;
        if (src.kind == Kind::local) {
            auto found = BOCK_TRY(store.lookup(src.ref));
            if (!found) return Error(ENOENT, fmt::format("image `{}` not found in the local store", src.ref)).with_exit(1);
            rec = *found;
        } else {
            auto recs = BOCK_TRY(read_into_store(store, src, dest.str()));
            if (recs.size() != 1) return make_error("`{}` holds {} images: name one", src.str(), recs.size());
            rec = recs.front();
        }
        BOCK_TRY(hooks.push(rec, dest));
        return rec.manifest.str();
    }
    if (src.kind == Kind::local) {
        auto rec = BOCK_TRY(store.lookup(src.ref));
        if (!rec) return Error(ENOENT, fmt::format("image `{}` not found in the local store", src.ref)).with_exit(1);
        if (dst.kind == Kind::local) {
            auto t = BOCK_TRY(store.tag(rec->config.str(), BOCK_TRY(Reference::parse(dst.ref))));
            return t.manifest.str();
        }
        BOCK_TRY(write_from_store(store, {*rec}, dst));
        return rec->manifest.str();
    }
    if (dst.kind == Kind::local) {
        auto recs = BOCK_TRY(read_into_store(store, src, dst.ref));
        return recs.front().manifest.str();
    }
    // Between two non-local locations, through the store's tmp/ (under
    // its writer lock, which also clears what a killed copy left there).
    StorePaths p{store.root()};
    auto session = BOCK_TRY(detail::WriteSession::begin(p));
    std::string tmpdir = BOCK_TRY(fs::make_temp_dir(p.tmp(), "copy-"));
    auto body = [&]() -> Result<std::string> {
        auto o = BOCK_TRY(open_location(src, tmpdir));
        if (!dst.ref.empty() && o.images.size() != 1)
            return make_error("`{}`: a tag can only be given for a single image, `{}` has {}", dst.str(), o.shown,
                              o.images.size());
        std::vector<NamedSource> named;
        for (const auto& s : o.images) {
            std::string tag = dst.ref;
            if (tag.empty()) tag = dst.kind == Kind::docker_archive ? default_name(src, s) : (s.tag.empty() ? default_name(src, s) : s.tag);
            if (dst.kind == Kind::docker_archive && !tag.empty()) tag = BOCK_TRY(Reference::parse(tag)).familiar();
            named.push_back({tag, &s});
        }
        switch (dst.kind) {
        case Kind::oci: BOCK_TRY(detail::write_oci_dir(dst.path, named)); break;
        case Kind::oci_archive: BOCK_TRY(detail::write_oci_archive_file(dst.path, named)); break;
        default: BOCK_TRY(detail::write_docker_archive_file(dst.path, named)); break;
        }
        return o.images.front().manifest_desc.digest.str();
    };
    auto r = body();
    (void)fs::remove_all(tmpdir);
    if (!r) return std::move(r).error().wrap(fmt::format("copy `{}` to `{}`", src.str(), dst.str()));
    return r;
}

}  // namespace bock::image

// Loading images: OCI layout directories, and OCI or `docker save` archives
// (unpacked into tmp/ first, then imported from there).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/store.hpp"
#include "path_util.hpp"
#include "store_internal.hpp"

namespace bock::image {

namespace detail {

namespace {

using nlohmann::json;

constexpr const char* ref_name_annotation = "org.opencontainers.image.ref.name";
constexpr const char* containerd_name_annotation = "io.containerd.image.name";
constexpr uint64_t max_archive_bytes = uint64_t{256} << 30;
constexpr uint64_t max_archive_entries = 1'000'000;

// Opens a file of an unpacked archive or layout: symlinks inside it resolve
// as if `root` were "/", so nothing outside can be read.
Result<Fd> open_in(int root, const std::string& rel, const std::string& shown) {
    int fd = sys::raw::openat2(root, rel.c_str(), O_RDONLY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) return Error(-fd, fmt::format("open `{}` in `{}`", rel, shown));
    return Fd(fd);
}

Result<std::string> read_in(int root, const std::string& rel, const std::string& shown) {
    Fd fd = BOCK_TRY(open_in(root, rel, shown));
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read `{}` in `{}`", rel, shown);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (64u << 20)) return make_error("`{}` in `{}`: too large for a json document", rel, shown);
    }
    return out;
}

bool exists_in(int root, const std::string& rel) {
    struct stat st;
    return ::fstatat(root, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string blob_rel(const Digest& d) { return "blobs/" + d.algorithm + "/" + d.hex; }

// Copies a blob of the layout into the store, checked against its descriptor.
Result<Descriptor> copy_blob(const StorePaths& p, int root, const std::string& shown, const Descriptor& d) {
    if (fs::exists(p.blob(d.digest))) return d;
    Fd fd = BOCK_TRY(open_in(root, blob_rel(d.digest), shown));
    return put_blob_fd(p, fd.get(), d, fmt::format("blob {}", d.digest.str()));
}

Result<std::string> image_name(const Descriptor& d, const std::optional<std::string>& name, size_t count,
                               const std::string& shown) {
    if (name) {
        if (count != 1)
            return make_error("a name can only be given for a single image, `{}` has {}", shown, count);
        return BOCK_TRY(Reference::parse(*name)).str();
    }
    auto it = d.annotations.find(ref_name_annotation);
    if (it != d.annotations.end() && it->second.find_first_of("/:") != std::string::npos)
        return BOCK_TRY(Reference::parse(it->second)).str();
    if (auto c = d.annotations.find(containerd_name_annotation); c != d.annotations.end())
        return BOCK_TRY(Reference::parse(c->second)).str();
    if (it != d.annotations.end())
        return make_error("image {} in `{}` is named only `{}` (a tag without a repository): give it a name",
                          d.digest.str(), shown, it->second);
    return make_error("image {} in `{}` has no name ({} annotation): give it a name", d.digest.str(), shown,
                      ref_name_annotation);
}

// Picks the manifest for this machine out of an image index.
Result<Descriptor> pick_platform(int root, const std::string& shown, const Descriptor& index_desc) {
    auto text = BOCK_TRY(read_in(root, blob_rel(index_desc.digest), shown));
    if (sha256_of(text) != index_desc.digest)
        return make_error("index {} in `{}`: digest mismatch", index_desc.digest.str(), shown);
    try {
        auto j = json::parse(text);
        for (const auto& m : j.at("manifests")) {
            auto d = BOCK_TRY(parse_descriptor(m));
            if (!d.platform) continue;
            if (Platform::host().matches(*d.platform)) return d;
        }
    } catch (const json::exception& e) {
        return make_error("index {} in `{}`: {}", index_desc.digest.str(), shown, e.what());
    }
    return make_error("index {} in `{}`: no manifest for {}", index_desc.digest.str(), shown, Platform::host().str());
}

Result<ImageRecord> import_one(const StorePaths& p, int root, const std::string& shown, Descriptor d,
                               const std::string& name, const StoreOptions& opts) {
    if (d.media_type == media::oci_index || d.media_type == media::docker_list)
        d = BOCK_TRY(pick_platform(root, shown, d));
    auto fetch = [&](const Descriptor& b) -> Result<void> {
        BOCK_TRY(copy_blob(p, root, shown, b));
        return ok();
    };
    return fetch_image(p, d, name, fetch, opts);
}

Result<std::vector<ImageRecord>> import_oci(const StorePaths& p, int root, const std::string& shown,
                                            std::optional<std::string> name, const StoreOptions& opts) {
    auto text = BOCK_TRY(read_in(root, "index.json", shown));
    std::vector<Descriptor> manifests;
    try {
        auto j = json::parse(text);
        for (const auto& m : j.at("manifests")) manifests.push_back(BOCK_TRY_CTX(parse_descriptor(m), "index.json"));
    } catch (const json::exception& e) {
        return make_error("index.json in `{}`: {}", shown, e.what());
    }
    if (manifests.empty()) return make_error("`{}` holds no images (index.json lists no manifests)", shown);
    std::vector<ImageRecord> out;
    for (const auto& d : manifests) {
        auto n = BOCK_TRY(image_name(d, name, manifests.size(), shown));
        out.push_back(BOCK_TRY(import_one(p, root, shown, d, n, opts)));
    }
    return out;
}

std::string layer_media_type(const std::string& blob_path) {
    unsigned char m[4] = {};
    if (Fd fd{::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC)}; fd.valid()) {
        if (::pread(fd.get(), m, sizeof m, 0) != sizeof m) return media::oci_layer_tar;
    }
    if (m[0] == 0x1f && m[1] == 0x8b) return media::oci_layer_gzip;
    if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return media::oci_layer_zstd;
    return media::oci_layer_tar;
}

Result<std::vector<ImageRecord>> import_docker(const StorePaths& p, int root, const std::string& shown,
                                               const StoreOptions& opts) {
    auto text = BOCK_TRY(read_in(root, "manifest.json", shown));
    struct Entry {
        std::string config;
        std::vector<std::string> tags, layers;
    };
    std::vector<Entry> entries;
    try {
        for (const auto& e : json::parse(text)) {
            Entry x;
            x.config = e.at("Config").get<std::string>();
            if (auto t = e.find("RepoTags"); t != e.end() && !t->is_null()) x.tags = t->get<std::vector<std::string>>();
            x.layers = e.at("Layers").get<std::vector<std::string>>();
            entries.push_back(std::move(x));
        }
    } catch (const json::exception& e) {
        return make_error("manifest.json in `{}`: {}", shown, e.what());
    }
    std::vector<ImageRecord> out;
    for (const auto& e : entries) {
        if (e.tags.empty()) return make_error("image `{}` in `{}` has no RepoTags: it needs a name", e.config, shown);
        Manifest m;
        m.media_type = media::oci_manifest;
        Fd cfd = BOCK_TRY(open_in(root, e.config, shown));
        m.config = BOCK_TRY(put_blob_fd(p, cfd.get(), std::nullopt, e.config));
        m.config.media_type = media::oci_config;
        for (const auto& l : e.layers) {
            Fd lfd = BOCK_TRY(open_in(root, l, shown));
            auto d = BOCK_TRY(put_blob_fd(p, lfd.get(), std::nullopt, l));
            d.media_type = layer_media_type(p.blob(d.digest));
            m.layers.push_back(d);
        }
        auto md = BOCK_TRY(put_blob_data(p, serialize(m), "manifest"));
        std::string first = BOCK_TRY(Reference::parse(e.tags[0])).str();
        auto rec = BOCK_TRY(commit_image(p, first, md.digest, opts));
        for (const auto& t : e.tags) {
            rec.name = BOCK_TRY(Reference::parse(t)).str();
            out.push_back(rec);
        }
    }
    return out;
}

// Unpacks an image archive into `dir`: directories, regular files and
// symlinks that stay inside; nothing else.
Result<void> unpack(const std::string& path, const std::string& dir) {
    ArchiveReader a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    int r = path == "-" ? archive_read_open_fd(a.get(), 0, 1 << 16)
                        : archive_read_open_filename(a.get(), path.c_str(), 1 << 16);
    if (r != ARCHIVE_OK) return make_error("open: {}", archive_err(a.get()));
    Fd root = BOCK_TRY(sys::open(dir, O_RDONLY | O_DIRECTORY));
    uint64_t total = 0, count = 0;
    for (;;) {
        struct archive_entry* e;
        r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return make_error("read: {}", archive_err(a.get()));
        if (++count > max_archive_entries) return make_error("more than {} entries", max_archive_entries);
        std::string_view name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (name.starts_with("/")) return make_error("entry `{}`: absolute path", name);
        auto comps = BOCK_TRY_CTX(split_entry_path(name), "entry");
        if (comps.empty()) continue;
        // The parent, created as needed, never through a symlink.
        int cur = ::fcntl(root.get(), F_DUPFD_CLOEXEC, 3);
        Fd parent(cur);
        for (size_t i = 0; i + 1 < comps.size(); i++) {
            int fd = open_beneath(parent.get(), comps[i], O_PATH | O_DIRECTORY);
            if (fd == -ENOENT) {
                if (::mkdirat(parent.get(), comps[i].c_str(), 0700) < 0 && errno != EEXIST)
                    return errno_error("entry `{}`: mkdir", name);
                fd = open_beneath(parent.get(), comps[i], O_PATH | O_DIRECTORY);
            }
            if (fd < 0) return Error(-fd, fmt::format("entry `{}`: parent `{}`", name, comps[i]));
            parent.reset(fd);
        }
        const std::string& leaf = comps.back();
        if (archive_entry_hardlink(e)) return make_error("entry `{}`: hard links are not allowed", name);
        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
            if (::mkdirat(parent.get(), leaf.c_str(), 0700) < 0 && errno != EEXIST)
                return errno_error("entry `{}`: mkdir", name);
            break;
        case AE_IFLNK: {
            // Old `docker save` links identical layers: allowed when the
            // target stays inside the archive.
            std::string_view target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
            if (target.starts_with("/")) return make_error("entry `{}`: symlink to an absolute path", name);
            bool inside = true;
            {  // lexical resolution of "a/b/../c"
                int depth = static_cast<int>(comps.size()) - 1;
                size_t i = 0;
                while (i <= target.size()) {
                    size_t j = target.find('/', i);
                    if (j == std::string_view::npos) j = target.size();
                    auto c = target.substr(i, j - i);
                    if (c == "..") depth--;
                    else if (!c.empty() && c != ".") depth++;
                    if (depth < 0) inside = false;
                    i = j + 1;
                }
            }
            if (!inside) return make_error("entry `{}`: symlink `{}` leaves the archive", name, target);
            ::unlinkat(parent.get(), leaf.c_str(), 0);
            if (::symlinkat(std::string(target).c_str(), parent.get(), leaf.c_str()) < 0)
                return errno_error("entry `{}`: symlink", name);
            break;
        }
        case AE_IFREG: {
            ::unlinkat(parent.get(), leaf.c_str(), 0);
            int fdn = ::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fdn < 0) return errno_error("entry `{}`: create", name);
            Fd out(fdn);
            char buf[1 << 16];
            for (;;) {
                la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
                if (n < 0) return make_error("entry `{}`: {}", name, archive_err(a.get()));
                if (n == 0) break;
                total += static_cast<uint64_t>(n);
                if (total > max_archive_bytes) return make_error("larger than {} GiB", max_archive_bytes >> 30);
                int w = sys::raw::write_all(out.get(), buf, static_cast<size_t>(n));
                if (w < 0) return Error(-w, fmt::format("entry `{}`: write", name));
            }
            break;
        }
        default:
            return make_error("entry `{}`: only files and directories are allowed in an image archive", name);
        }
    }
    return ok();
}

}  // namespace

Result<std::vector<ImageRecord>> import_oci_layout_locked(const StorePaths& p, const std::string& dir,
                                                          std::optional<std::string> name,
                                                          const StoreOptions& opts) {
    Fd root = BOCK_TRY(sys::open(dir, O_RDONLY | O_DIRECTORY));
    if (!exists_in(root.get(), "oci-layout")) return make_error("`{}` is not an OCI layout: no oci-layout file", dir);
    return import_oci(p, root.get(), dir, std::move(name), opts);
}

}  // namespace detail

Result<std::vector<ImageRecord>> Store::load_archive(const std::string& path) {
    detail::StorePaths p{root_};
    const std::string shown = path == "-" ? "stdin" : path;
    const std::string what = fmt::format("load `{}`", shown);
    auto session = BOCK_TRY(detail::WriteSession::begin(p));
    detail::NewContentGuard guard(p);  // a refused archive leaves the store as it was
    std::string dir = BOCK_TRY(fs::make_temp_dir(p.tmp(), "archive-"));
    BOCK_TRY_CTX(detail::unpack(path, dir), what);
    Fd root = BOCK_TRY(sys::open(dir, O_RDONLY | O_DIRECTORY));
    std::vector<ImageRecord> records;
    if (detail::exists_in(root.get(), "oci-layout") && detail::exists_in(root.get(), "index.json")) {
        records = BOCK_TRY_CTX(detail::import_oci(p, root.get(), shown, std::nullopt, opts_), what);
    } else if (detail::exists_in(root.get(), "manifest.json")) {
        records = BOCK_TRY_CTX(detail::import_docker(p, root.get(), shown, opts_), what);
    } else {
        return make_error("`{}` is not an image archive: no oci-layout or manifest.json found", shown);
    }
    BOCK_TRY_CTX(detail::add_to_index(p, records), what);
    guard.keep();
    (void)fs::remove_all(dir);
    return records;
}

}  // namespace bock::image

// Writing images to an OCI layout directory, an OCI archive and a
// `docker save` archive. Blobs are copied unchanged (and verified while
// copied) where the format allows; docker-archive layers are decompressed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "tar_out.hpp"
#include "transport_internal.hpp"

namespace bock::image::detail {

using nlohmann::json;

namespace {

constexpr const char* oci_layout_text = R"({"imageLayoutVersion":"1.0.0"})";

int64_t fd_size(int fd) {
    struct stat st;
    return ::fstat(fd, &st) == 0 ? st.st_size : -1;
}

// Copies a blob into the layout's blobs/ through a temporary file in the
// layout's root, verifying its digest.
Result<void> put_layout_blob(const std::string& dir, const Digest& d, int in, std::string_view data) {
    std::string dest = dir + "/blobs/sha256/" + d.hex;
    if (fs::exists(dest)) return ok();
    std::string tmp = dir + "/.bock-blob-XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return errno_error("create a temporary file in `{}`", dir);
    Fd out(fd);
    struct Unlink {
        std::string path;
        bool armed = true;
        ~Unlink() {
            if (armed) ::unlink(path.c_str());
        }
    } guard{tmp};
    ::fchmod(fd, 0644);
    Sha256 h;
    if (in < 0) {
        h.update(data);
        if (int r = sys::raw::write_all(fd, data.data(), data.size()); r < 0) return Error(-r, fmt::format("write `{}`", tmp));
    } else {
        char buf[1 << 16];
        for (;;) {
            ssize_t n = ::read(in, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("read blob {}", d.str());
            if (n == 0) break;
            h.update(buf, static_cast<size_t>(n));
            if (int r = sys::raw::write_all(fd, buf, static_cast<size_t>(n)); r < 0)
                return Error(-r, fmt::format("write `{}`", tmp));
        }
    }
    if (Digest got = h.finish(); got != d) return make_error("blob {}: digest mismatch (got {})", d.str(), got.str());
    if (::fsync(fd) < 0) return errno_error("fsync `{}`", tmp);
    out.reset();
    if (::rename(tmp.c_str(), dest.c_str()) < 0) return errno_error("rename `{}` to `{}`", tmp, dest);
    guard.armed = false;
    return ok();
}

Descriptor index_entry(const NamedSource& n) {
    Descriptor d = n.image->manifest_desc;
    if (d.media_type.empty()) d.media_type = media::oci_manifest;
    d.annotations.clear();
    if (!n.tag.empty()) d.annotations[kRefNameAnnotation] = n.tag;
    return d;
}

// Writes a blob into the tar from `fd`, verifying its digest on the way.
Result<void> tar_blob(TarOut& t, const std::string& name, const SourceImage& s, const Digest& d) {
    Fd fd = BOCK_TRY(s.open_blob(d));
    int64_t size = fd_size(fd.get());
    if (size < 0) return errno_error("stat blob {}", d.str());
    BOCK_TRY(t.begin_file(name, size));
    Sha256 h;
    char buf[1 << 16];
    int64_t left = size;
    while (left > 0) {
        ssize_t n = ::read(fd.get(), buf, static_cast<size_t>(std::min<int64_t>(left, sizeof buf)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read blob {}", d.str());
        if (n == 0) return make_error("blob {} shrank while being written", d.str());
        h.update(buf, static_cast<size_t>(n));
        BOCK_TRY(t.write(buf, static_cast<size_t>(n), name));
        left -= n;
    }
    if (Digest got = h.finish(); got != d) return make_error("blob {}: digest mismatch (got {})", d.str(), got.str());
    return ok();
}

}  // namespace

Result<SourceImage> source_from_store(const StorePaths& p, const ImageRecord& rec) {
    SourceImage s;
    if (!rec.name.empty()) s.names.push_back(rec.name);
    s.manifest_json = BOCK_TRY(read_blob(p, rec.manifest));
    s.manifest = BOCK_TRY_CTX(parse_manifest(s.manifest_json), fmt::format("manifest {}", rec.manifest.str()));
    s.manifest_desc.media_type = s.manifest.media_type.empty() ? media::oci_manifest : s.manifest.media_type;
    s.manifest_desc.digest = rec.manifest;
    s.manifest_desc.size = static_cast<int64_t>(s.manifest_json.size());
    s.config_json = BOCK_TRY(read_blob(p, rec.config));
    s.config = BOCK_TRY_CTX(parse_image_config(s.config_json), fmt::format("config {}", rec.config.str()));
    s.open_blob = [p](const Digest& d) { return sys::open(p.blob(d), O_RDONLY); };
    return s;
}

Result<void> write_oci_dir(const std::string& dir, const std::vector<NamedSource>& images) {
    BOCK_TRY(fs::mkdir_p(dir, 0755));
    const std::string layout = dir + "/oci-layout";
    const std::string index_path = dir + "/index.json";
    json index = {{"schemaVersion", 2}, {"mediaType", media::oci_index}, {"manifests", json::array()}};
    if (fs::exists(layout)) {
        if (fs::exists(index_path)) {
            auto text = BOCK_TRY(fs::read_file(index_path));
            index = json::parse(text, nullptr, false);
            if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
                return make_error("`{}`: index.json is not an OCI image index", dir).with_hint("use another directory");
        }
    } else {
        if (!list_dir(dir).empty())
            return make_error("`{}` exists and is not an OCI layout (no oci-layout file)", dir)
                .with_hint("give an empty or new directory");
        BOCK_TRY(fs::write_file_atomic(layout, oci_layout_text, 0644));
    }
    BOCK_TRY(fs::mkdir_p(dir + "/blobs/sha256", 0755));
    for (const auto& n : images) {
        const SourceImage& s = *n.image;
        BOCK_TRY(put_layout_blob(dir, s.manifest.config.digest, -1, s.config_json));
        for (const auto& l : s.manifest.layers) {
            if (fs::exists(dir + "/blobs/sha256/" + l.digest.hex)) continue;
            Fd fd = BOCK_TRY(s.open_blob(l.digest));
            BOCK_TRY(put_layout_blob(dir, l.digest, fd.get(), {}));
        }
        BOCK_TRY(put_layout_blob(dir, s.manifest_desc.digest, -1, s.manifest_json));
    }
    // index.json last: an entry with the same tag is replaced, others kept.
    auto& manifests = index["manifests"];
    for (const auto& n : images) {
        if (!n.tag.empty()) {
            json kept = json::array();
            for (const auto& m : manifests) {
                auto a = m.find("annotations");
                bool same = a != m.end() && a->is_object() && a->value(kRefNameAnnotation, "") == n.tag;
                if (!same) kept.push_back(m);
            }
            manifests = kept;
        }
        manifests.push_back(to_json(index_entry(n)));
    }
    return fs::write_file_atomic(index_path, index.dump(-1, ' ', false, json::error_handler_t::replace), 0644)
        .context(fmt::format("write `{}`", index_path));
}

Result<void> write_oci_archive_file(const std::string& file, const std::vector<NamedSource>& images) {
    json index = {{"schemaVersion", 2}, {"mediaType", media::oci_index}, {"manifests", json::array()}};
    for (const auto& n : images) index["manifests"].push_back(to_json(index_entry(n)));
    auto t = BOCK_TRY(TarOut::open(file));
    BOCK_TRY(t.file("oci-layout", oci_layout_text));
    BOCK_TRY(t.file("index.json", index.dump(-1, ' ', false, json::error_handler_t::replace)));
    BOCK_TRY(t.dir("blobs"));
    BOCK_TRY(t.dir("blobs/sha256"));
    std::set<std::string> done;
    for (const auto& n : images) {
        const SourceImage& s = *n.image;
        if (done.insert(s.manifest.config.digest.hex).second)
            BOCK_TRY(t.file("blobs/sha256/" + s.manifest.config.digest.hex, s.config_json));
        for (const auto& l : s.manifest.layers)
            if (done.insert(l.digest.hex).second) BOCK_TRY(tar_blob(t, "blobs/sha256/" + l.digest.hex, s, l.digest));
        if (done.insert(s.manifest_desc.digest.hex).second)
            BOCK_TRY(t.file("blobs/sha256/" + s.manifest_desc.digest.hex, s.manifest_json));
    }
    return t.commit();
}

Result<void> write_docker_archive_file(const std::string& file, const std::vector<NamedSource>& images) {
    json manifest = json::array();
    auto t = BOCK_TRY(TarOut::open(file));
    std::set<std::string> done;
    for (const auto& n : images) {
        const SourceImage& s = *n.image;
        std::string config_name = s.manifest.config.digest.hex + ".json";
        if (done.insert(config_name).second) BOCK_TRY(t.file(config_name, s.config_json));
        json layers = json::array();
        for (size_t i = 0; i < s.manifest.layers.size(); i++) {
            const Digest& blob = s.manifest.layers[i].digest;
            const Digest& diff = s.config.diff_ids[i];
            std::string name = diff.hex + ".tar";
            layers.push_back(name);
            if (!done.insert(name).second) continue;
            if (blob == diff) {
                BOCK_TRY(tar_blob(t, name, s, blob));
                continue;
            }
            // A compressed blob: once to learn the tar's size (and check the
            // diff_id), once to write it.
            const std::string shown = fmt::format("layer {}", blob.str());
            int64_t size = 0;
            Sha256 h;
            {
                Fd fd = BOCK_TRY(s.open_blob(blob));
                BOCK_TRY(decompress_fd(fd.get(), shown, [&](const char* b, size_t len) -> Result<void> {
                    h.update(b, len);
                    size += static_cast<int64_t>(len);
                    return ok();
                }));
            }
            if (Digest got = h.finish(); got != diff)
                return make_error("{}: diff_id mismatch (uncompressed content is {})", shown, got.str());
            BOCK_TRY(t.begin_file(name, size));
            Fd fd = BOCK_TRY(s.open_blob(blob));
            int64_t written = 0;
            BOCK_TRY(decompress_fd(fd.get(), shown, [&](const char* b, size_t len) -> Result<void> {
                written += static_cast<int64_t>(len);
                if (written > size) return make_error("{}: changed while being written", shown);
                return t.write(b, len, name);
            }));
            if (written != size) return make_error("{}: changed while being written", shown);
        }
        json tags = json::array();
        if (!n.tag.empty()) tags.push_back(n.tag);
        manifest.push_back({{"Config", config_name}, {"RepoTags", tags}, {"Layers", layers}});
    }
    BOCK_TRY(t.file("manifest.json", manifest.dump()));
    return t.commit();
}

}  // namespace bock::image::detail

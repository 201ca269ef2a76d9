// Image documents from layer tars, and OCI / docker-save archive writing.
#include "bock/image/archive_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "archive_util.hpp"
#include "bock/common/sys.hpp"

namespace bock::image {

Result<ImageParts> make_image_parts(ImageConfig config, const std::vector<std::string>& layer_tar_paths) {
    ImageParts p;
    config.diff_ids.clear();
    p.manifest.schema_version = 2;
    p.manifest.media_type = media::oci_manifest;
    for (const auto& path : layer_tar_paths) {
        Digest d = BOCK_TRY(sha256_of_file(path));
        struct stat st;
        if (::stat(path.c_str(), &st) < 0) return errno_error("stat `{}`", path);
        config.diff_ids.push_back(d);
        p.manifest.layers.push_back({media::oci_layer_tar, d, st.st_size, {}, {}});
        p.layers.push_back({d, path, {}});
    }
    p.config = std::move(config);
    p.config_json = serialize(p.config);
    p.config_digest = sha256_of(p.config_json);
    p.manifest.config = {media::oci_config, p.config_digest, static_cast<int64_t>(p.config_json.size()), {}, {}};
    p.manifest_json = serialize(p.manifest);
    p.manifest_digest = sha256_of(p.manifest_json);
    return p;
}

namespace {

class TarOut {
public:
    static Result<TarOut> open(const std::string& out) {
        TarOut t;
        t.name_ = out == "-" ? "stdout" : out;
        if (out != "-") t.fd_ = BOCK_TRY(sys::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644));
        t.a_.reset(archive_write_new());
        if (!t.a_) return make_error("write `{}`: out of memory", t.name_);
        archive_write_set_format_pax_restricted(t.a_.get());
        archive_write_add_filter_none(t.a_.get());
        if (archive_write_open_fd(t.a_.get(), out == "-" ? 1 : t.fd_.get()) != ARCHIVE_OK)
            return t.error("open");
        return t;
    }

    Result<void> dir(const std::string& path) {
        detail::ArchiveEntry e(entry(path, AE_IFDIR, 0755, 0));
        if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return error(path);
        return ok();
    }

    Result<void> file(const std::string& path, std::string_view data) {
        detail::ArchiveEntry e(entry(path, AE_IFREG, 0644, static_cast<int64_t>(data.size())));
        if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return error(path);
        return write(data.data(), data.size(), path);
    }

    Result<void> host_file(const std::string& path, const std::string& host) {
        Fd fd = BOCK_TRY(sys::open(host, O_RDONLY));
        struct stat st;
        if (::fstat(fd.get(), &st) < 0) return errno_error("stat `{}`", host);
        detail::ArchiveEntry e(entry(path, AE_IFREG, 0644, st.st_size));
        if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return error(path);
        char buf[65536];
        int64_t left = st.st_size;
        while (left > 0) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("read `{}`", host);
            if (n == 0) return make_error("read `{}`: file shrank while being written", host);
            BOCK_TRY(write(buf, static_cast<size_t>(n), path));
            left -= n;
        }
        return ok();
    }

    Result<void> close() {
        if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("close");
        if (fd_.valid() && ::fsync(fd_.get()) < 0) return errno_error("fsync `{}`", name_);
        return ok();
    }

private:
    static struct archive_entry* entry(const std::string& path, mode_t type, mode_t mode, int64_t size) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, path.c_str());
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, mode);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        return e;
    }
    Result<void> write(const void* buf, size_t len, const std::string& path) {
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            la_ssize_t n = archive_write_data(a_.get(), p, len);
            if (n < 0) return error(path);
            p += n;
            len -= static_cast<size_t>(n);
        }
        return ok();
    }
    Error error(std::string_view what) const {
        return make_error("write `{}`: {}: {}", name_, what, detail::archive_err(a_.get()));
    }

    std::string name_;
    Fd fd_;
    detail::ArchiveWriter a_;
};

}  // namespace

Result<void> write_oci_archive(const std::string& out, const std::vector<OciArchiveImage>& images,
                               const std::vector<ArchiveBlob>& blobs) {
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", media::oci_index}};
    index["manifests"] = nlohmann::json::array();
    for (const auto& img : images) {
        Descriptor d = img.manifest;
        if (d.media_type.empty()) d.media_type = media::oci_manifest;
        if (!img.name.empty()) d.annotations["org.opencontainers.image.ref.name"] = img.name;
        index["manifests"].push_back(to_json(d));
    }
    auto t = BOCK_TRY(TarOut::open(out));
    BOCK_TRY(t.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    BOCK_TRY(t.file("index.json", index.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    BOCK_TRY(t.dir("blobs"));
    BOCK_TRY(t.dir("blobs/sha256"));
    std::set<std::string> done;
    for (const auto& b : blobs) {
        if (!done.insert(b.digest.hex).second) continue;
        std::string name = "blobs/sha256/" + b.digest.hex;
        if (b.path.empty())
            BOCK_TRY(t.file(name, b.data));
        else
            BOCK_TRY(t.host_file(name, b.path));
    }
    return t.close();
}

Result<void> write_docker_archive(const std::string& out, const std::vector<std::string>& repo_tags,
                                  const ImageParts& parts) {
    nlohmann::json m = nlohmann::json::object();
    std::string config_name = parts.config_digest.hex + ".json";
    m["Config"] = config_name;
    m["RepoTags"] = repo_tags;
    m["Layers"] = nlohmann::json::array();
    for (size_t i = 0; i < parts.layers.size(); i++) m["Layers"].push_back(fmt::format("{}/layer.tar", i));
    nlohmann::json manifest = nlohmann::json::array({m});
    auto t = BOCK_TRY(TarOut::open(out));
    BOCK_TRY(t.file(config_name, parts.config_json));
    for (size_t i = 0; i < parts.layers.size(); i++) {
        BOCK_TRY(t.dir(fmt::format("{}", i)));
        const auto& l = parts.layers[i];
        if (l.path.empty())
            BOCK_TRY(t.file(fmt::format("{}/layer.tar", i), l.data));
        else
            BOCK_TRY(t.host_file(fmt::format("{}/layer.tar", i), l.path));
    }
    BOCK_TRY(t.file("manifest.json", manifest.dump()));
    return t.close();
}

}  // namespace bock::image

// Image documents from layer tars, and OCI / docker-save archive writing.
#include "bock/image/archive_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "archive_util.hpp"
#include "tar_out.hpp"
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

namespace detail {

Result<TarOut> TarOut::open(const std::string& out) {
    TarOut t;
    t.name_ = out == "-" ? "stdout" : out;
    t.out_ = out;
    struct stat st;
    if (out != "-" && ::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        // A device or a pipe (/dev/stdout, a fifo): written in place.
        t.fd_ = BOCK_TRY(sys::open(out, O_WRONLY));
    } else if (out != "-") {
        t.tmp_ = out + ".tmp-XXXXXX";
        int fd = ::mkostemp(t.tmp_.data(), O_CLOEXEC);
        if (fd < 0) {
            t.tmp_.clear();
            return errno_error("create `{}`", out);
        }
        t.fd_ = Fd(fd);
        ::fchmod(fd, 0644);
    }
    t.a_ = archive_write_new();
    if (!t.a_) return make_error("write `{}`: out of memory", t.name_);
    archive_write_set_format_pax_restricted(t.a_);
    archive_write_add_filter_none(t.a_);
    archive_write_set_bytes_in_last_block(t.a_, 1);
    if (archive_write_open_fd(t.a_, out == "-" ? 1 : t.fd_.get()) != ARCHIVE_OK) return t.error("open");
    return t;
}

TarOut::TarOut(TarOut&& o) noexcept
    : name_(std::move(o.name_)), out_(std::move(o.out_)), tmp_(std::move(o.tmp_)), fd_(std::move(o.fd_)),
      a_(o.a_), committed_(o.committed_) {
    o.a_ = nullptr;
    o.tmp_.clear();
}

TarOut::~TarOut() {
    if (a_) archive_write_free(a_);
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

static struct archive_entry* new_entry(const std::string& path, mode_t type, mode_t mode, int64_t size) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, 0, 0);
    return e;
}

Result<void> TarOut::dir(const std::string& path) {
    ArchiveEntry e(new_entry(path, AE_IFDIR, 0755, 0));
    if (archive_write_header(a_, e.get()) < ARCHIVE_WARN) return error(path);
    return ok();
}

Result<void> TarOut::begin_file(const std::string& path, int64_t size) {
    ArchiveEntry e(new_entry(path, AE_IFREG, 0644, size));
    if (archive_write_header(a_, e.get()) < ARCHIVE_WARN) return error(path);
    return ok();
}

Result<void> TarOut::file(const std::string& path, std::string_view data) {
    BOCK_TRY(begin_file(path, static_cast<int64_t>(data.size())));
    return write(data.data(), data.size(), path);
}

Result<void> TarOut::fd_file(const std::string& path, int fd, int64_t size, const std::string& shown) {
    BOCK_TRY(begin_file(path, size));
    char buf[1 << 16];
    int64_t left = size;
    while (left > 0) {
        ssize_t n = ::read(fd, buf, static_cast<size_t>(std::min<int64_t>(left, sizeof buf)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read `{}`", shown);
        if (n == 0) return make_error("read `{}`: file shrank while being written", shown);
        BOCK_TRY(write(buf, static_cast<size_t>(n), path));
        left -= n;
    }
    return ok();
}

Result<void> TarOut::host_file(const std::string& path, const std::string& host) {
    Fd fd = BOCK_TRY(sys::open(host, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return errno_error("stat `{}`", host);
    return fd_file(path, fd.get(), st.st_size, host);
}

Result<void> TarOut::write(const void* buf, size_t len, const std::string& path) {
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
        la_ssize_t n = archive_write_data(a_, p, len);
        if (n < 0) return error(path);
        p += n;
        len -= static_cast<size_t>(n);
    }
    return ok();
}

Result<void> TarOut::commit() {
    if (archive_write_close(a_) != ARCHIVE_OK) return error("close");
    if (fd_.valid() && !tmp_.empty()) {
        if (::fsync(fd_.get()) < 0) return errno_error("fsync `{}`", tmp_);
        fd_.reset();
        if (::rename(tmp_.c_str(), out_.c_str()) < 0) return errno_error("rename `{}` to `{}`", tmp_, out_);
    }
    committed_ = true;
    return ok();
}

Error TarOut::error(std::string_view what) const {
    return make_error("write `{}`: {}: {}", name_, what, archive_err(a_));
}

}  // namespace detail

using detail::TarOut;

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
    return t.commit();
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
    return t.commit();
}

}  // namespace bock::image

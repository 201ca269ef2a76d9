// Deterministic uncompressed tar layers: pax (restricted) format, mtime 0,
// no user or group names; the sha256 is computed over the bytes as written.
#include "bock/image/layer_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive_util.hpp"
#include "bock/common/sys.hpp"

namespace bock::image {

struct LayerWriter::Impl {
    std::string path;
    Fd fd;
    Sha256 hash;
    detail::ArchiveWriter a;
    int write_errno = 0;
    bool finished = false;

    static la_ssize_t write_cb(struct archive*, void* data, const void* buf, size_t len) {
        auto* self = static_cast<Impl*>(data);
        const char* p = static_cast<const char*>(buf);
        size_t left = len;
        while (left > 0) {
            ssize_t n = ::write(self->fd.get(), p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                self->write_errno = errno;
                return -1;
            }
            p += n;
            left -= static_cast<size_t>(n);
        }
        self->hash.update(buf, len);
        return static_cast<la_ssize_t>(len);
    }

    Error error(std::string_view what) const {
        if (write_errno) return Error(write_errno, fmt::format("write layer `{}`", path));
        return make_error("write layer `{}`: {}: {}", path, what, detail::archive_err(a.get()));
    }

    // Clean relative name: no leading '/' or "./".
    static std::string clean(std::string_view p) {
        while (p.starts_with("./") || p.starts_with("/")) p.remove_prefix(p.front() == '/' ? 1 : 2);
        while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
        return std::string(p);
    }

    Result<void> header(std::string_view path, mode_t type, mode_t mode, uid_t uid, gid_t gid,
                        int64_t size, const char* symlink = nullptr, const char* hardlink = nullptr) {
        if (finished) return make_error("write layer `{}`: already finished", this->path);
        // Constructed, not assigned: `name = "."` makes GCC 12 at -O3 report a
        // false -Wrestrict inside std::string's replace (GCC bug 105651).
        const std::string cleaned = clean(path);
        const std::string name = cleaned.empty() ? std::string(".") : cleaned;
        detail::ArchiveEntry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), name.c_str());
        if (hardlink) {
            archive_entry_set_hardlink(e.get(), clean(hardlink).c_str());
            archive_entry_set_size(e.get(), 0);
        } else {
            archive_entry_set_filetype(e.get(), type);
            archive_entry_set_size(e.get(), size);
        }
        archive_entry_set_perm(e.get(), mode & 07777);
        archive_entry_set_uid(e.get(), uid);
        archive_entry_set_gid(e.get(), gid);
        archive_entry_set_mtime(e.get(), 0, 0);
        if (symlink) archive_entry_set_symlink(e.get(), symlink);
        if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN) return error(name);
        return ok();
    }

    Result<void> data(const void* buf, size_t len) {
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            la_ssize_t n = archive_write_data(a.get(), p, len);
            if (n < 0) return error("data");
            p += n;
            len -= static_cast<size_t>(n);
        }
        return ok();
    }
};

LayerWriter::LayerWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LayerWriter::~LayerWriter() = default;
LayerWriter::LayerWriter(LayerWriter&&) noexcept = default;
LayerWriter& LayerWriter::operator=(LayerWriter&&) noexcept = default;

Result<LayerWriter> LayerWriter::create(const std::string& tar_path) {
    auto impl = std::make_unique<Impl>();
    impl->path = tar_path;
    impl->fd = BOCK_TRY(sys::open(tar_path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    impl->a.reset(archive_write_new());
    if (!impl->a) return make_error("write layer `{}`: out of memory", tar_path);
    archive_write_set_format_pax_restricted(impl->a.get());
    archive_write_add_filter_none(impl->a.get());
    if (archive_write_open(impl->a.get(), impl.get(), nullptr, &Impl::write_cb, nullptr) != ARCHIVE_OK)
        return impl->error("open");
    return LayerWriter(std::move(impl));
}

Result<void> LayerWriter::add_dir(const std::string& path, mode_t mode, uid_t uid, gid_t gid) {
    return impl_->header(path, AE_IFDIR, mode, uid, gid, 0);
}

Result<void> LayerWriter::add_file(const std::string& path, std::string_view content, mode_t mode,
                                   uid_t uid, gid_t gid) {
    BOCK_TRY(impl_->header(path, AE_IFREG, mode, uid, gid, static_cast<int64_t>(content.size())));
    return impl_->data(content.data(), content.size());
}

Result<void> LayerWriter::add_host_file(const std::string& path, const std::string& host_path, mode_t mode,
                                        uid_t uid, gid_t gid) {
    Fd fd = BOCK_TRY(sys::open(host_path, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return errno_error("stat `{}`", host_path);
    if (!S_ISREG(st.st_mode)) return make_error("add `{}` to layer: not a regular file", host_path);
    BOCK_TRY(impl_->header(path, AE_IFREG, mode, uid, gid, st.st_size));
    char buf[65536];
    int64_t left = st.st_size;
    while (left > 0) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `{}`", host_path);
        }
        if (n == 0) return make_error("read `{}`: file shrank while being added", host_path);
        BOCK_TRY(impl_->data(buf, static_cast<size_t>(n)));
        left -= n;
    }
    return ok();
}

Result<void> LayerWriter::add_symlink(const std::string& path, const std::string& target) {
    return impl_->header(path, AE_IFLNK, 0777, 0, 0, 0, target.c_str());
}

Result<void> LayerWriter::add_hardlink(const std::string& path, const std::string& target) {
    return impl_->header(path, AE_IFREG, 0644, 0, 0, 0, nullptr, target.c_str());
}

Result<void> LayerWriter::add_whiteout(const std::string& path) {
    std::string p = Impl::clean(path);
    auto slash = p.rfind('/');
    std::string wh = slash == std::string::npos ? ".wh." + p : p.substr(0, slash + 1) + ".wh." + p.substr(slash + 1);
    return add_file(wh, "", 0644);
}

Result<void> LayerWriter::add_opaque(const std::string& dir) {
    std::string d = Impl::clean(dir);
    if (d.empty() || d == ".") return add_file(".wh..wh..opq", "", 0644);
    return add_file(d + "/.wh..wh..opq", "", 0644);
}

Result<Digest> LayerWriter::finish() {
    if (impl_->finished) return make_error("write layer `{}`: already finished", impl_->path);
    impl_->finished = true;
    if (archive_write_close(impl_->a.get()) != ARCHIVE_OK) return impl_->error("close");
    if (::fsync(impl_->fd.get()) < 0) return errno_error("fsync `{}`", impl_->path);
    impl_->fd.reset();
    return impl_->hash.finish();
}

}  // namespace bock::image

// Unpacking image archives safely (into the store's tmp/, then read by
// transport_read.cpp), and Store::load_archive / import_oci_layout.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "archive_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/store.hpp"
#include "bock/image/transport.hpp"
#include "path_util.hpp"
#include "store_internal.hpp"
#include "transport_internal.hpp"

namespace bock::image {

namespace detail {

using nlohmann::json;

namespace {
constexpr uint64_t max_archive_bytes = uint64_t{256} << 30;
constexpr uint64_t max_archive_entries = 1'000'000;
}  // namespace

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
    BOCK_TRY(for_each_chunk(fd.get(), fmt::format("`{}` in `{}`", rel, shown), [&](const char* data, size_t len) -> Result<void> {
        out.append(data, len);
        if (out.size() > (64u << 20)) return make_error("`{}` in `{}`: too large for a json document", rel, shown);
        return ok();
    }));
    return out;
}

bool exists_in(int root, const std::string& rel) {
    struct stat st;
    return ::fstatat(root, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
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

}  // namespace detail

Result<std::vector<ImageRecord>> Store::load_archive(const std::string& path) {
    Location src;
    src.kind = Location::Kind::oci_archive;  // either archive format is read
    src.path = path;
    return read_into_store(*this, src);
}

Result<std::vector<ImageRecord>> Store::import_oci_layout(const std::string& dir, std::optional<std::string> name) {
    Location src;
    src.kind = Location::Kind::oci;
    src.path = dir;
    return read_into_store(*this, src, std::move(name));
}

}  // namespace bock::image

// Extended attributes, read from the layer holding the file and written on
// its upper copy. The overlay's own markers (trusted./user.overlay.*) and
// the owner record (user.containers.override_stat) are the filesystem's
// bookkeeping: hidden from listings and refused to callers.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "ops.hpp"

namespace bock::fuseov {

namespace {

bool reserved(const char* name) {
    return std::strncmp(name, "trusted.overlay.", 16) == 0 || std::strncmp(name, "user.overlay.", 13) == 0 ||
           std::strcmp(name, "user.containers.override_stat") == 0;
}

// The path (through /proc/self/fd) of the layer that holds what `ino` shows;
// "" when it is gone.
std::string visible_path(Fs& fs, fuse_ino_t ino) {
    std::lock_guard lock(fs.mu);
    Node* n = fs.node_of(ino);
    struct stat st;
    int layer = fs.locate(n, &st);
    if (layer < 0) return {};
    return fs.proc_path(layer, fs.path(n));
}

}  // namespace

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
    Fs& fs = fs_of(req);
    if (reserved(name)) return (void)fuse_reply_err(req, ENODATA);
    std::string path = visible_path(fs, ino);
    if (path.empty()) return (void)fuse_reply_err(req, ENOENT);
    std::vector<char> buf(size);
    ssize_t n = ::lgetxattr(path.c_str(), name, size ? buf.data() : nullptr, size);
    if (n < 0) return (void)fuse_reply_err(req, errno);
    if (size == 0) return (void)fuse_reply_xattr(req, static_cast<size_t>(n));
    fuse_reply_buf(req, buf.data(), static_cast<size_t>(n));
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    Fs& fs = fs_of(req);
    std::string path = visible_path(fs, ino);
    if (path.empty()) return (void)fuse_reply_err(req, ENOENT);
    ssize_t total = ::llistxattr(path.c_str(), nullptr, 0);
    if (total < 0) return (void)fuse_reply_err(req, errno);
    std::vector<char> all(static_cast<size_t>(total) + 1);
    total = ::llistxattr(path.c_str(), all.data(), all.size());
    if (total < 0) return (void)fuse_reply_err(req, errno);
    std::string out;
    for (ssize_t off = 0; off < total; off += std::strlen(all.data() + off) + 1)
        if (!reserved(all.data() + off)) out.append(all.data() + off, std::strlen(all.data() + off) + 1);
    if (size == 0) return (void)fuse_reply_xattr(req, out.size());
    if (out.size() > size) return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, out.data(), out.size());
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
    Fs& fs = fs_of(req);
    if (reserved(name)) return (void)fuse_reply_err(req, EPERM);
    std::lock_guard lock(fs.mu);
    Node* n = fs.node_of(ino);
    if (int err = fs.copy_up(n)) return (void)fuse_reply_err(req, -err);
    int r = ::lsetxattr(fs.proc_path(kUpper, fs.path(n)).c_str(), name, value, size, flags);
    fuse_reply_err(req, r < 0 ? errno : 0);
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
    Fs& fs = fs_of(req);
    if (reserved(name)) return (void)fuse_reply_err(req, ENODATA);
    std::lock_guard lock(fs.mu);
    Node* n = fs.node_of(ino);
    if (int err = fs.copy_up(n)) return (void)fuse_reply_err(req, -err);
    int r = ::lremovexattr(fs.proc_path(kUpper, fs.path(n)).c_str(), name);
    fuse_reply_err(req, r < 0 ? errno : 0);
}

}  // namespace bock::fuseov

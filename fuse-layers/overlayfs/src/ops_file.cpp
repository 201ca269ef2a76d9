// Open files. A file opened for writing is copied up first; reads and
// writes then go straight to the descriptor (spliced, no copy through this
// process where the kernel allows) without taking the tree lock. The
// kernel's page cache is kept across opens (all writes pass through it),
// except for files with several names.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "ops.hpp"

namespace bock::fuseov {

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    Fs& fs = fs_of(req);
    int fd;
    bool keep_cache = false;
    {
        std::lock_guard lock(fs.mu);
        Node* n = fs.node_of(ino);
        bool write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
        int layer;
        struct stat st;
        if (write) {
            if (int err = fs.copy_up(n)) return (void)fuse_reply_err(req, -err);
        }
        layer = fs.locate(n, &st);
        if (layer < 0) return (void)fuse_reply_err(req, ENOENT);
        // Every change of this file's data goes through this node's page
        // cache, unless another name (a hard link) writes it too.
        keep_cache = st.st_nlink == 1;
        int flags = (fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_NOFOLLOW | O_CLOEXEC;
        fd = ::openat(fs.layers[layer].fd.get(), fs.path(n).c_str(), flags);
        if (fd < 0) return (void)fuse_reply_err(req, errno);
        n->fds.push_back(fd);
    }
    fi->fh = static_cast<uint64_t>(fd);
    fi->keep_cache = keep_cache;
    if (fuse_reply_open(req, fi) == -ENOENT) forget_fd(fs, ino, fd);
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
    buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    buf.buf[0].fd = static_cast<int>(fi->fh);
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void op_write_buf(fuse_req_t req, fuse_ino_t, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
    fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
    out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
    out.buf[0].fd = static_cast<int>(fi->fh);
    out.buf[0].pos = off;
    ssize_t n = fuse_buf_copy(&out, in, static_cast<fuse_buf_copy_flags>(0));
    if (n < 0) return (void)fuse_reply_err(req, static_cast<int>(-n));
    fuse_reply_write(req, static_cast<size_t>(n));
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void forget_fd(Fs& fs, fuse_ino_t ino, int fd) {
    {
        std::lock_guard lock(fs.mu);
        auto& fds = fs.node_of(ino)->fds;
        for (auto it = fds.begin(); it != fds.end(); ++it)
            if (*it == fd) {
                fds.erase(it);
                break;
            }
    }
    ::close(fd);
}

void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    forget_fd(fs_of(req), ino, static_cast<int>(fi->fh));
    fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
    int fd = static_cast<int>(fi->fh);
    int r = datasync ? ::fdatasync(fd) : ::fsync(fd);
    fuse_reply_err(req, r < 0 ? errno : 0);
}

void op_fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t off, off_t len, fuse_file_info* fi) {
    int r = ::fallocate(static_cast<int>(fi->fh), mode, off, len);
    fuse_reply_err(req, r < 0 ? errno : 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
    Fs& fs = fs_of(req);
    int layer = fs.layers[0].fd ? kUpper : 1;
    struct statvfs sv;
    if (::fstatvfs(fs.layers[layer].fd.get(), &sv) < 0) return (void)fuse_reply_err(req, errno);
    fuse_reply_statfs(req, &sv);
}

}  // namespace bock::fuseov

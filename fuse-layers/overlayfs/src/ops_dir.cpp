// Directory listings. opendir takes a snapshot of the merged listing (the
// offsets the kernel sees are indexes into it); readdirplus looks every
// entry up as well, so `find` and `ls -l` cost one request per directory
// page instead of one per name.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "ops.hpp"

namespace bock::fuseov {

namespace {

struct DirHandle {
    std::vector<DirEntry> entries;  // "." and ".." first
};

DirHandle* handle(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

void read_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
    Fs& fs = fs_of(req);
    DirHandle* h = handle(fi);
    std::vector<char> buf(size);
    size_t used = 0;
    std::lock_guard lock(fs.mu);
    Node* dir = fs.node_of(ino);
    for (size_t i = static_cast<size_t>(off); i < h->entries.size(); ++i) {
        const DirEntry& d = h->entries[i];
        size_t room = size - used;
        size_t len;
        if (!plus) {
            struct stat st{};
            st.st_ino = d.ino;
            st.st_mode = static_cast<mode_t>(d.type) << 12;
            len = fuse_add_direntry(req, buf.data() + used, room, d.name.c_str(), &st, static_cast<off_t>(i + 1));
        } else if (d.name == "." || d.name == "..") {
            fuse_entry_param e{};
            e.attr.st_ino = d.ino;
            e.attr.st_mode = S_IFDIR;
            len = fuse_add_direntry_plus(req, buf.data() + used, room, d.name.c_str(), &e, static_cast<off_t>(i + 1));
        } else {
            Found f = fs.find(dir, d.name);
            if (!f.exists) continue;  // removed since opendir
            Node* n = fs.get_child(dir, d.name, f);
            fuse_entry_param e;
            fs.fill_entry(n, fs.shown(f.layer, fs.path(n), f.st), &e);
            len = fuse_add_direntry_plus(req, buf.data() + used, room, d.name.c_str(), &e, static_cast<off_t>(i + 1));
            if (len > room) fs.unref(n, 1);  // not sent: the kernel will not count it
        }
        if (len > room) break;
        used += len;
    }
    fuse_reply_buf(req, buf.data(), used);
}

}  // namespace

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    Fs& fs = fs_of(req);
    auto* h = new DirHandle;
    {
        std::lock_guard lock(fs.mu);
        Node* dir = fs.node_of(ino);
        h->entries.push_back(DirEntry{".", 1, DT_DIR});  // glibc hides d_ino 0
        h->entries.push_back(DirEntry{"..", 1, DT_DIR});
        if (int err = merged_list(fs, dir, &h->entries)) {
            delete h;
            return (void)fuse_reply_err(req, -err);
        }
    }
    fi->fh = reinterpret_cast<uint64_t>(h);
    fi->cache_readdir = 0;
    if (fuse_reply_open(req, fi) == -ENOENT) delete h;
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    read_dir(req, ino, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    read_dir(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    delete handle(fi);
    fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
    Fs& fs = fs_of(req);
    std::string rel;
    {
        std::lock_guard lock(fs.mu);
        rel = fs.path(fs.node_of(ino));
    }
    if (!fs.layers[0].fd) return (void)fuse_reply_err(req, 0);
    int fd = ::openat(fs.layers[0].fd.get(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return (void)fuse_reply_err(req, 0);  // not in the upper: nothing to sync
    int r = ::fsync(fd);
    int err = r < 0 ? errno : 0;
    ::close(fd);
    fuse_reply_err(req, err);
}

}  // namespace bock::fuseov

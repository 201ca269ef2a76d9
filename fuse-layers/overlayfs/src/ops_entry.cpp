// Name operations: lookup, forget, getattr/setattr and everything that
// creates, removes or renames a name. New names are built in the work
// directory and renamed into the upper (replacing a whiteout atomically);
// removing a name that a lower still holds leaves a whiteout.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "ops.hpp"

namespace bock::fuseov {

namespace {

// Replies with the entry of `name` under `parent` (after it was created).
void reply_new_entry(Fs& fs, fuse_req_t req, Node* parent, const std::string& name) {
    Found f = fs.find(parent, name);
    if (!f.exists) {
        fuse_reply_err(req, EIO);
        return;
    }
    Node* n = fs.get_child(parent, name, f);
    fuse_entry_param e;
    fs.fill_entry(n, fs.shown(f.layer, fs.path(n), f.st), &e);
    fuse_reply_entry(req, &e);
}

// Owner of a new name: the caller, with the group of a setgid parent.
void owner_for_new(Fs& fs, fuse_req_t req, Node* parent, uid_t* uid, gid_t* gid) {
    const fuse_ctx* ctx = fuse_req_ctx(req);
    *uid = ctx->uid;
    *gid = ctx->gid;
    if (auto st = fs.attr(parent); st && (st->st_mode & S_ISGID)) *gid = st->st_gid;
}

// What every new name needs (the caller holds fs.mu): a writable mount, the
// parent copied up, the name free. Returns 0 or the errno to reply.
int may_create(Fs& fs, Node* parent, const char* name) {
    if (!fs.writable) return EROFS;
    if (int err = fs.copy_up(parent)) return -err;
    if (fs.find(parent, name).exists) return EEXIST;
    return 0;
}

// Common path of mkdir/mknod/symlink: `make` builds the object at a work
// name; it is then placed, owned and (a directory over a whiteout) opaque.
template <class Make>
void create_node(fuse_req_t req, fuse_ino_t parent_ino, const char* name, bool is_dir, Make make) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    Node* parent = fs.node_of(parent_ino);
    if (int err = may_create(fs, parent, name)) return (void)fuse_reply_err(req, err);
    std::string rel = fs.child_path(parent, name);
    std::string tmp = fs.tmp_name();
    if (int err = make(fs.work.get(), tmp)) return (void)fuse_reply_err(req, -err);
    bool over_whiteout = false;
    if (int err = fs.place(tmp, rel, is_dir, &over_whiteout)) {
        ::unlinkat(fs.work.get(), tmp.c_str(), is_dir ? AT_REMOVEDIR : 0);
        return (void)fuse_reply_err(req, -err);
    }
    uid_t uid;
    gid_t gid;
    owner_for_new(fs, req, parent, &uid, &gid);
    struct stat st;
    bool is_link = ::fstatat(fs.layers[0].fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    fs.set_owner(rel, uid, gid, is_link);
    if (is_dir && (over_whiteout || fs.exists_in_lowers(parent, name))) (void)fs.set_opaque(rel);
    reply_new_entry(fs, req, parent, name);
}

}  // namespace

void op_lookup(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    Node* parent = fs.node_of(parent_ino);
    Found f = fs.find(parent, name);
    if (!f.exists) return (void)fuse_reply_err(req, ENOENT);
    Node* n = fs.get_child(parent, name, f);
    fuse_entry_param e;
    fs.fill_entry(n, fs.shown(f.layer, fs.path(n), f.st), &e);
    fuse_reply_entry(req, &e);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
    Fs& fs = fs_of(req);
    {
        std::lock_guard lock(fs.mu);
        fs.unref(fs.node_of(ino), nlookup);
    }
    fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
    Fs& fs = fs_of(req);
    {
        std::lock_guard lock(fs.mu);
        for (size_t i = 0; i < count; ++i) fs.unref(fs.node_of(forgets[i].ino), forgets[i].nlookup);
    }
    fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    auto st = fs.attr(fs.node_of(ino));
    if (!st) return (void)fuse_reply_err(req, st.error().code());
    fuse_reply_attr(req, &*st, fs.opt.timeout);
}

static void times_from(const struct stat* attr, int to_set, struct timespec ts[2]) {
    ts[0] = {0, UTIME_OMIT};
    ts[1] = {0, UTIME_OMIT};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) ts[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME) ts[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) ts[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME) ts[1] = attr->st_mtim;
}

// A file unlinked while open (open, unlink, ftruncate/fchmod): only its
// descriptors reach it. It lives in the upper (it was opened for writing)
// or in a lower (then it cannot change).
static void setattr_unlinked(Fs& fs, fuse_req_t req, Node* n, struct stat* attr, int to_set, fuse_file_info* fi) {
    int fd = fi ? static_cast<int>(fi->fh) : n->fds.front();
    int err = 0;
    if (to_set & FUSE_SET_ATTR_MODE && ::fchmod(fd, attr->st_mode & 07777) < 0) err = errno;
    if (!err && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        uint32_t uid = static_cast<uint32_t>(-1), gid = static_cast<uint32_t>(-1);
        if ((to_set & FUSE_SET_ATTR_UID) && !fs.opt.uids.to_outer(attr->st_uid, &uid)) err = EINVAL;
        if ((to_set & FUSE_SET_ATTR_GID) && !fs.opt.gids.to_outer(attr->st_gid, &gid)) err = EINVAL;
        if (!err && ::fchown(fd, uid, gid) < 0) err = errno;
    }
    if (!err && (to_set & FUSE_SET_ATTR_SIZE) && ::ftruncate(fd, attr->st_size) < 0) err = errno;
    if (!err && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))) {
        struct timespec ts[2];
        times_from(attr, to_set, ts);
        if (::futimens(fd, ts) < 0) err = errno;
    }
    if (err) return (void)fuse_reply_err(req, err);
    auto st = fs.attr(n);
    if (!st) return (void)fuse_reply_err(req, st.error().code());
    fuse_reply_attr(req, &*st, fs.opt.timeout);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    Node* n = fs.node_of(ino);
    if (!n->linked && !n->fds.empty()) return setattr_unlinked(fs, req, n, attr, to_set, fi);
    if (int err = fs.copy_up(n)) return (void)fuse_reply_err(req, -err);
    std::string rel = fs.path(n);
    int up = fs.layers[0].fd.get();
    int err = 0;
    if (to_set & FUSE_SET_ATTR_MODE) err = fs.chmod_upper(rel, attr->st_mode);
    if (!err && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
        err = fs.set_owner(rel, (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1),
                           (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1), n->type == S_IFLNK);
    if (!err && (to_set & FUSE_SET_ATTR_SIZE)) {
        // An open file's descriptor may be read-only (opened before); use a fresh one.
        (void)fi;
        int fd = ::openat(up, rel.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, attr->st_size) < 0) err = -errno;
        if (fd >= 0) ::close(fd);
    }
    if (!err && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                           FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
        struct timespec ts[2];
        times_from(attr, to_set, ts);
        if (::utimensat(up, rel.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) err = -errno;
    }
    if (err) return (void)fuse_reply_err(req, -err);
    fs.mark_links_stale(n);
    auto st = fs.attr(n);
    if (!st) return (void)fuse_reply_err(req, st.error().code());
    fuse_reply_attr(req, &*st, fs.opt.timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    Node* n = fs.node_of(ino);
    struct stat st;
    int layer = fs.locate(n, &st);
    if (layer < 0) return (void)fuse_reply_err(req, ENOENT);
    char buf[PATH_MAX + 1];
    ssize_t len = ::readlinkat(fs.layers[layer].fd.get(), fs.path(n).c_str(), buf, PATH_MAX);
    if (len < 0) return (void)fuse_reply_err(req, errno);
    buf[len] = '\0';
    fuse_reply_readlink(req, buf);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
    create_node(req, parent, name, false, [&](int wfd, const std::string& tmp) {
        return ::mknodat(wfd, tmp.c_str(), mode, rdev) < 0 ? -errno : 0;
    });
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
    create_node(req, parent, name, true, [&](int wfd, const std::string& tmp) {
        if (::mkdirat(wfd, tmp.c_str(), mode & 07777) < 0) return -errno;
        // mkdir(2) drops S_ISGID-less bits the kernel gave; set them exactly.
        return ::fchmodat(wfd, tmp.c_str(), mode & 07777, 0) < 0 ? -errno : 0;
    });
}

void op_symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
    create_node(req, parent, name, false, [&](int wfd, const std::string& tmp) {
        return ::symlinkat(target, wfd, tmp.c_str()) < 0 ? -errno : 0;
    });
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent_ino, const char* new_name) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    if (!fs.writable) return (void)fuse_reply_err(req, EROFS);
    Node* n = fs.node_of(ino);
    Node* np = fs.node_of(new_parent_ino);
    if (int err = fs.copy_up(n)) return (void)fuse_reply_err(req, -err);
    if (int err = fs.copy_up(np)) return (void)fuse_reply_err(req, -err);
    if (fs.find(np, new_name).exists) return (void)fuse_reply_err(req, EEXIST);
    std::string rel = fs.child_path(np, new_name);
    int up = fs.layers[0].fd.get();
    bool had_whiteout = false;
    if (auto r = fs.remove_whiteout_if_any(rel, &had_whiteout); !r) return (void)fuse_reply_err(req, r.error().code());
    if (::linkat(up, fs.path(n).c_str(), up, rel.c_str(), 0) < 0) {
        int err = errno;
        if (had_whiteout) (void)fs.make_whiteout(rel);
        return (void)fuse_reply_err(req, err);
    }
    fs.mark_stale(ino);  // its nlink (and, copied up, its inode) changed
    reply_new_entry(fs, req, np, new_name);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    if (!fs.writable) return (void)fuse_reply_err(req, EROFS);
    Node* parent = fs.node_of(parent_ino);
    Found f = fs.find(parent, name);
    if (!f.exists) return (void)fuse_reply_err(req, ENOENT);
    if (f.type == S_IFDIR) return (void)fuse_reply_err(req, EISDIR);
    std::string rel = fs.child_path(parent, name);
    bool in_lowers = fs.exists_in_lowers(parent, name);
    if (in_lowers) {
        if (int err = fs.copy_up(parent)) return (void)fuse_reply_err(req, -err);
    }
    if (f.layer == kUpper && ::unlinkat(fs.layers[0].fd.get(), rel.c_str(), 0) < 0)
        return (void)fuse_reply_err(req, errno);
    if (in_lowers) {
        if (auto r = fs.make_whiteout(rel); !r) return (void)fuse_reply_err(req, r.error().code());
    }
    if (Node* n = fs.child(parent, name)) fs.detach(n);
    fuse_reply_err(req, 0);
}

// Empties an upper directory that the merged view shows empty: only
// whiteouts can be left in it.
static int clear_whiteouts(Fs& fs, Node* parent, const std::string& name) {
    std::string rel = fs.child_path(parent, name);
    int fd = ::openat(fs.layers[0].fd.get(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -errno;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = -errno;
        ::close(fd);
        return err;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    int err = 0;
    for (auto& nm : names)
        if (::unlinkat(::dirfd(d), nm.c_str(), 0) < 0) err = -errno;
    ::closedir(d);
    return err;
}

static int merged_empty(Fs& fs, Node* parent, const std::string& name, const Found& f) {
    Node walk;
    walk.parent = parent;
    walk.name = name;
    walk.type = S_IFDIR;
    walk.lowers = f.lowers;
    std::vector<DirEntry> entries;
    if (int err = merged_list(fs, &walk, &entries)) return err;
    return entries.empty() ? 0 : -ENOTEMPTY;
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    if (!fs.writable) return (void)fuse_reply_err(req, EROFS);
    Node* parent = fs.node_of(parent_ino);
    Found f = fs.find(parent, name);
    if (!f.exists) return (void)fuse_reply_err(req, ENOENT);
    if (f.type != S_IFDIR) return (void)fuse_reply_err(req, ENOTDIR);
    if (int err = merged_empty(fs, parent, name, f)) return (void)fuse_reply_err(req, -err);
    std::string rel = fs.child_path(parent, name);
    bool in_lowers = fs.exists_in_lowers(parent, name);
    if (in_lowers) {
        if (int err = fs.copy_up(parent)) return (void)fuse_reply_err(req, -err);
    }
    if (f.layer == kUpper) {
        if (int err = clear_whiteouts(fs, parent, name)) return (void)fuse_reply_err(req, -err);
        if (::unlinkat(fs.layers[0].fd.get(), rel.c_str(), AT_REMOVEDIR) < 0) return (void)fuse_reply_err(req, errno);
    }
    if (in_lowers) {
        if (auto r = fs.make_whiteout(rel); !r) return (void)fuse_reply_err(req, r.error().code());
    }
    if (Node* n = fs.child(parent, name)) fs.detach(n);
    fuse_reply_err(req, 0);
}

void op_rename(fuse_req_t req, fuse_ino_t parent_ino, const char* name, fuse_ino_t new_parent_ino,
               const char* new_name, unsigned int flags) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    if (!fs.writable) return (void)fuse_reply_err(req, EROFS);
    if (flags & ~RENAME_NOREPLACE) return (void)fuse_reply_err(req, EINVAL);
    Node* parent = fs.node_of(parent_ino);
    Node* np = fs.node_of(new_parent_ino);
    Found src = fs.find(parent, name);
    if (!src.exists) return (void)fuse_reply_err(req, ENOENT);
    Found dst = fs.find(np, new_name);
    if (dst.exists) {
        if (flags & RENAME_NOREPLACE) return (void)fuse_reply_err(req, EEXIST);
        if (src.type == S_IFDIR && dst.type != S_IFDIR) return (void)fuse_reply_err(req, ENOTDIR);
        if (src.type != S_IFDIR && dst.type == S_IFDIR) return (void)fuse_reply_err(req, EISDIR);
        if (dst.type == S_IFDIR) {
            if (int err = merged_empty(fs, np, new_name, dst)) return (void)fuse_reply_err(req, -err);
        }
    }
    // The node being moved: the kernel's, or a walk node.
    Node walk;
    Node* n = fs.child(parent, name);
    if (!n) {
        walk.parent = parent;
        walk.name = name;
        walk.type = src.type;
        walk.layer = src.layer;
        walk.lowers = src.lowers;
        n = &walk;
    }
    if (n == np || (src.type == S_IFDIR && [&] {
            for (Node* p = np; p; p = p->parent)
                if (p == n) return true;
            return false;
        }()))
        return (void)fuse_reply_err(req, EINVAL);
    bool src_in_lowers = fs.exists_in_lowers(parent, name);
    bool dst_in_lowers = fs.exists_in_lowers(np, new_name);
    int err = 0;
    if (src.type == S_IFDIR && !n->lowers.empty()) {
        err = fs.copy_up_tree(n);
        if (!err) fs.clear_lowers_under(n);
    } else {
        err = fs.copy_up(n);
    }
    if (!err) err = fs.copy_up(np);
    if (!err && src_in_lowers) err = fs.copy_up(parent);
    if (err) return (void)fuse_reply_err(req, -err);
    std::string from = fs.child_path(parent, name), to = fs.child_path(np, new_name);
    int up = fs.layers[0].fd.get();
    if (dst.exists && dst.layer == kUpper && dst.type == S_IFDIR) {
        if ((err = clear_whiteouts(fs, np, new_name))) return (void)fuse_reply_err(req, -err);
    }
    bool removed = false;
    if (auto r = fs.remove_whiteout_if_any(to, &removed); !r) return (void)fuse_reply_err(req, r.error().code());
    if (::renameat(up, from.c_str(), up, to.c_str()) < 0) {
        err = errno;
        if (removed) (void)fs.make_whiteout(to);
        return (void)fuse_reply_err(req, err);
    }
    if (src.type == S_IFDIR && dst_in_lowers) (void)fs.set_opaque(to);
    if (src_in_lowers) {
        if (auto r = fs.make_whiteout(from); !r) return (void)fuse_reply_err(req, r.error().code());
    }
    if (n != &walk) {
        fs.move(n, np, new_name);
    } else if (Node* old = fs.child(np, new_name)) {
        fs.detach(old);
    }
    fuse_reply_err(req, 0);
}

void op_create(fuse_req_t req, fuse_ino_t parent_ino, const char* name, mode_t mode, fuse_file_info* fi) {
    Fs& fs = fs_of(req);
    std::lock_guard lock(fs.mu);
    Node* parent = fs.node_of(parent_ino);
    if (int err = may_create(fs, parent, name)) return (void)fuse_reply_err(req, err);
    std::string rel = fs.child_path(parent, name);
    // No whiteout in the way (the common case): created in place, as empty
    // as one built in the work directory. Over a whiteout: built there and
    // swapped in.
    int fd = ::openat(fs.layers[0].fd.get(), rel.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      mode & 07777);
    if (fd < 0 && errno != EEXIST) return (void)fuse_reply_err(req, errno);
    if (fd < 0) {
        std::string tmp = fs.tmp_name();
        int wfd = fs.work.get();
        fd = ::openat(wfd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
        if (fd < 0) return (void)fuse_reply_err(req, errno);
        bool over_whiteout = false;
        if (int err = fs.place(tmp, rel, false, &over_whiteout)) {
            ::close(fd);
            ::unlinkat(wfd, tmp.c_str(), 0);
            return (void)fuse_reply_err(req, -err);
        }
    }
    uid_t uid;
    gid_t gid;
    owner_for_new(fs, req, parent, &uid, &gid);
    uint32_t ou, og;
    bool already = fs.opt.uids.to_outer(uid, &ou) && fs.opt.gids.to_outer(gid, &og) && ou == ::geteuid() &&
                   og == ::getegid() && !fs.layers[0].override_stat;
    if (!already) fs.set_owner(rel, uid, gid, false);  // a new file is the creator's already
    if ((fi->flags & O_ACCMODE) == O_RDONLY) {  // creat(2) with O_RDONLY: give the kernel what it asked for
        ::close(fd);
        fd = ::openat(fs.layers[0].fd.get(), rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return (void)fuse_reply_err(req, errno);
    }
    Found f = fs.find(parent, name);
    Node* n = fs.get_child(parent, name, f);
    n->fds.push_back(fd);
    fuse_entry_param e;
    fs.fill_entry(n, fs.shown(f.layer, rel, f.st), &e);
    fi->fh = static_cast<uint64_t>(fd);
    if (fuse_reply_create(req, &e, fi) == -ENOENT) {  // interrupted: the kernel does not know the node
        n->fds.pop_back();
        fs.unref(n, 1);
        ::close(fd);
    }
}

}  // namespace bock::fuseov

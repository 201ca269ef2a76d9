// Copy-up: the first change to a file or directory of a lower layer copies
// it (data, mode, owner, xattrs, times) into the upper, built in the work
// directory and renamed into place so a crash never leaves half a file
// under its name. A file with hard links in its layer is copied once and
// linked under every name of it that the merged view shows, so the links
// stay one inode with the right nlink.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "state.hpp"

namespace bock::fuseov {

namespace {

bool private_xattr(const char* name) {
    return std::strncmp(name, "trusted.overlay.", 16) == 0 || std::strncmp(name, "user.overlay.", 13) == 0;
}

// Copies xattrs between two /proc/self/fd paths (not following a final symlink).
int copy_xattrs(const std::string& from, const std::string& to) {
    std::vector<char> names(4096);
    ssize_t n = ::llistxattr(from.c_str(), names.data(), names.size());
    if (n < 0 && errno == ERANGE) {
        n = ::llistxattr(from.c_str(), nullptr, 0);
        if (n > 0) {
            names.resize(n);
            n = ::llistxattr(from.c_str(), names.data(), names.size());
        }
    }
    if (n < 0) return errno == ENOTSUP ? 0 : -errno;
    std::vector<char> value(4096);
    for (ssize_t off = 0; off < n; off += std::strlen(names.data() + off) + 1) {
        const char* name = names.data() + off;
        if (private_xattr(name)) continue;
        ssize_t v = ::lgetxattr(from.c_str(), name, value.data(), value.size());
        if (v < 0 && errno == ERANGE) {
            v = ::lgetxattr(from.c_str(), name, nullptr, 0);
            if (v > 0) {
                value.resize(v);
                v = ::lgetxattr(from.c_str(), name, value.data(), value.size());
            }
        }
        if (v < 0) continue;  // e.g. trusted.* unreadable inside a user namespace
        if (::lsetxattr(to.c_str(), name, value.data(), v, 0) < 0 && errno != EPERM && errno != ENOTSUP)
            return -errno;
    }
    return 0;
}

int copy_data(int in, int out, off_t size) {
    off_t done = 0;
    while (done < size) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(size - done), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) break;
        if (n < 0) return -errno;
        if (n == 0) return 0;  // the file shrank: a layer does not, but stop
        done += n;
    }
    char buf[1 << 16];
    while (done < size) {
        ssize_t n = ::pread(in, buf, sizeof buf, done);
        if (n < 0) return -errno;
        if (n == 0) break;
        for (ssize_t w = 0; w < n;) {
            ssize_t k = ::pwrite(out, buf + w, n - w, done + w);
            if (k < 0) return -errno;
            w += k;
        }
        done += n;
    }
    return 0;
}

}  // namespace

// Creates the copy of `rel` from `layer` in the work directory under `tmp`,
// with its metadata. 0 or -errno.
static int build_copy(Fs& fs, int layer, const std::string& rel, const struct stat& st, const std::string& tmp) {
    int lfd = fs.layers[layer].fd.get(), wfd = fs.work.get();
    int err = 0;
    if (S_ISREG(st.st_mode)) {
        int in = ::openat(lfd, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) return -errno;
        int out = ::openat(wfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0) {
            err = -errno;
            ::close(in);
            return err;
        }
        err = copy_data(in, out, st.st_size);
        ::close(in);
        ::close(out);
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(st.st_size + 1 > 4096 ? st.st_size + 1 : 4096, '\0');
        ssize_t n = ::readlinkat(lfd, rel.c_str(), target.data(), target.size());
        if (n < 0) return -errno;
        target.resize(n);
        if (::symlinkat(target.c_str(), wfd, tmp.c_str()) < 0) return -errno;
    } else if (S_ISDIR(st.st_mode)) {
        if (::mkdirat(wfd, tmp.c_str(), 0700) < 0) return -errno;
    } else {
        if (::mknodat(wfd, tmp.c_str(), st.st_mode & S_IFMT, st.st_rdev) < 0) return -errno;
    }
    if (err == 0 && ::fchownat(wfd, tmp.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
        errno != EINVAL)
        err = -errno;
    std::string wpath = "/proc/self/fd/" + std::to_string(wfd) + "/" + tmp;
    if (err == 0) err = copy_xattrs(fs.proc_path(layer, rel), wpath);
    if (err == 0 && !S_ISLNK(st.st_mode) && ::fchmodat(wfd, tmp.c_str(), st.st_mode & 07777, 0) < 0) err = -errno;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (err == 0 && ::utimensat(wfd, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) err = -errno;
    if (err) {
        if (S_ISDIR(st.st_mode)) ::unlinkat(wfd, tmp.c_str(), AT_REMOVEDIR);
        else ::unlinkat(wfd, tmp.c_str(), 0);
    }
    return err;
}

int Fs::copy_up_dir_path(const std::string& rel) {
    if (!writable) return -EROFS;
    if (rel == ".") return 0;
    int up = layers[0].fd.get();
    struct stat st;
    if (::fstatat(up, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    auto slash = rel.rfind('/');
    if (int err = copy_up_dir_path(slash == std::string::npos ? "." : rel.substr(0, slash))) return err;
    // The topmost lower holding the directory gives its metadata.
    for (size_t layer = 1; layer < layers.size(); ++layer) {
        if (::fstatat(layers[layer].fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        std::string tmp = tmp_name();
        if (int err = build_copy(*this, static_cast<int>(layer), rel, st, tmp)) return err;
        if (::renameat(work.get(), tmp.c_str(), up, rel.c_str()) < 0) {
            int err = -errno;
            ::unlinkat(work.get(), tmp.c_str(), AT_REMOVEDIR);
            return err;
        }
        return 0;
    }
    return -ENOENT;
}

// Every path of the layer holding the inode (scanned once per layer).
static void scan_links(Fs& fs, int layer) {
    if (fs.links_scanned[layer]) return;
    fs.links_scanned[layer] = true;
    std::vector<std::string> dirs{"."};
    while (!dirs.empty()) {
        std::string dir = dirs.back();
        dirs.pop_back();
        int fd = ::openat(fs.layers[layer].fd.get(), dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        DIR* d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            continue;
        }
        while (dirent* e = ::readdir(d)) {
            if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
            std::string rel = dir == "." ? e->d_name : dir + "/" + e->d_name;
            struct stat st;
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
            if (S_ISDIR(st.st_mode)) dirs.push_back(rel);
            else if (S_ISREG(st.st_mode) && st.st_nlink > 1) fs.links[layer][st.st_ino].push_back(rel);
        }
        ::closedir(d);
    }
}

// Whether the merged view shows `rel` from `layer` (not hidden above it).
static bool visible_from(Fs& fs, const std::string& rel, int layer) {
    Node* dir = &fs.root;
    size_t start = 0;
    Found f;
    std::vector<Node> chain;  // throw-away nodes for the walk, not in the table
    chain.reserve(16);
    while (true) {
        size_t slash = rel.find('/', start);
        std::string name = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        f = fs.find(dir, name);
        if (!f.exists) return false;
        if (slash == std::string::npos) break;
        if (f.type != S_IFDIR) return false;
        chain.emplace_back();
        chain.back().parent = dir;
        chain.back().name = name;
        chain.back().type = S_IFDIR;
        chain.back().lowers = f.lowers;
        dir = &chain.back();
        start = slash + 1;
    }
    return f.layer == layer;
}

int Fs::copy_up(Node* n) {
    if (!writable) return -EROFS;
    struct stat st;
    int layer = locate(n, &st);
    if (layer < 0) return -ENOENT;
    if (layer == kUpper) return 0;
    std::string rel = path(n);
    if (n->type == S_IFDIR) return copy_up_dir_path(rel);
    auto slash = rel.rfind('/');
    if (int err = copy_up_dir_path(slash == std::string::npos ? "." : rel.substr(0, slash))) return err;
    std::string tmp = tmp_name();
    if (int err = build_copy(*this, layer, rel, st, tmp)) return err;
    int up = layers[0].fd.get();
    if (::renameat(work.get(), tmp.c_str(), up, rel.c_str()) < 0) {
        int err = -errno;
        ::unlinkat(work.get(), tmp.c_str(), 0);
        return err;
    }
    n->layer = kUpper;
    if (n->linked && n != &root) mark_stale(ino_of(n));  // its inode number is the copy's now
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        scan_links(*this, layer);
        for (const auto& other : links[layer][st.st_ino]) {
            if (other == rel || !visible_from(*this, other, layer)) continue;
            auto s = other.rfind('/');
            if (copy_up_dir_path(s == std::string::npos ? "." : other.substr(0, s)) != 0) continue;
            if (::linkat(up, rel.c_str(), up, other.c_str(), 0) == 0)
                if (Node* sibling = node_at(other)) mark_stale(ino_of(sibling));
        }
    }
    return 0;
}

// Copies a whole directory of the merged view into the upper and makes
// every directory in it opaque: after a rename its old lowers no longer
// lie under its path.
int Fs::copy_up_tree(Node* dir) {
    if (int err = copy_up(dir)) return err;
    std::string rel = path(dir);
    // The merged listing, without creating nodes the kernel does not know.
    std::vector<std::pair<std::string, mode_t>> entries;
    {
        std::vector<int> order{kUpper};
        order.insert(order.end(), dir->lowers.begin(), dir->lowers.end());
        std::vector<std::string> seen;
        for (int layer : order) {
            int fd = ::openat(layers[layer].fd.get(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) continue;
            DIR* d = ::fdopendir(fd);
            if (!d) {
                ::close(fd);
                continue;
            }
            while (dirent* e = ::readdir(d)) {
                std::string name = e->d_name;
                if (name == "." || name == "..") continue;
                bool dup = false;
                for (auto& s : seen) dup = dup || s == name;
                if (dup) continue;
                seen.push_back(name);
            }
            ::closedir(d);
        }
        for (auto& name : seen) {
            Found f = find(dir, name);
            if (f.exists) entries.emplace_back(name, f.type);
        }
    }
    for (auto& [name, type] : entries) {
        Node tmp_node;  // a walk node, never handed to the kernel
        Found f = find(dir, name);
        tmp_node.parent = dir;
        tmp_node.name = name;
        tmp_node.type = type;
        tmp_node.layer = f.layer;
        tmp_node.lowers = f.lowers;
        int err = type == S_IFDIR ? copy_up_tree(&tmp_node) : copy_up(&tmp_node);
        if (err) return err;
    }
    if (auto r = set_opaque(rel); !r) return -(r.error().code() ? r.error().code() : EIO);
    dir->lowers.clear();
    return 0;
}

}  // namespace bock::fuseov

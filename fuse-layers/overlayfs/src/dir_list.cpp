// The merged listing of a directory: the upper's entries, then each lower's
// top-down, a name shown once (from its topmost layer), whiteouts hiding the
// names below them, an opaque directory ending the descent (Node::lowers is
// already cut there).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_set>

#include "state.hpp"

namespace bock::fuseov {

int merged_list(Fs& fs, Node* dir, std::vector<DirEntry>* out) {
    std::string rel = fs.path(dir);
    std::vector<int> order;
    if (fs.layers[0].fd) order.push_back(kUpper);
    order.insert(order.end(), dir->lowers.begin(), dir->lowers.end());
    std::unordered_set<std::string> seen;
    bool any = false;
    for (int layer : order) {
        int fd = ::openat(fs.layers[layer].fd.get(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue;
            return -errno;
        }
        DIR* d = ::fdopendir(fd);
        if (!d) {
            int err = -errno;
            ::close(fd);
            return err;
        }
        any = true;
        // Whiteouts in the xattr form only sit in a directory marked "x".
        std::string dpath = fs.proc_path(layer, rel);
        char mark[2];
        bool xattr_whiteouts = ::lgetxattr(dpath.c_str(), "user.overlay.opaque", mark, 2) == 1 ||
                               ::lgetxattr(dpath.c_str(), "trusted.overlay.opaque", mark, 2) == 1;
        while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (name == "." || name == ".." || seen.count(name)) continue;
            seen.insert(name);
            if (e->d_type == DT_CHR || e->d_type == DT_UNKNOWN || (e->d_type == DT_REG && xattr_whiteouts)) {
                struct stat st;
                if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    fs.is_whiteout(layer, rel == "." ? name : rel + "/" + name, st))
                    continue;
            }
            out->push_back(DirEntry{name, e->d_ino, e->d_type});
        }
        ::closedir(d);
    }
    return any ? 0 : -ENOENT;
}

}  // namespace bock::fuseov

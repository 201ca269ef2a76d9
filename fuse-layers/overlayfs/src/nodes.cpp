// The node table: names the kernel has looked up, their lookup counts, and
// how a name resolves through the layers (upper first, whiteouts and opaque
// directories honoured).
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "state.hpp"

namespace bock::fuseov {

Fs::Fs() {
    root.nlookup = 1;  // the kernel never forgets the root
    root.type = S_IFDIR;
}

std::string Fs::path(const Node* n) const {
    if (n == &root) return ".";
    std::vector<const std::string*> parts;
    for (const Node* p = n; p && p != &root; p = p->parent) parts.push_back(&p->name);
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (!out.empty()) out += '/';
        out += **it;
    }
    return out;
}

std::string Fs::child_path(const Node* parent, const std::string& name) const {
    return parent == &root ? name : path(parent) + "/" + name;
}

Node* Fs::child(Node* parent, const std::string& name) {
    auto it = table_.find(Key{parent, name});
    return it == table_.end() ? nullptr : it->second;
}

Node* Fs::get_child(Node* parent, const std::string& name, const Found& f) {
    Node* n = child(parent, name);
    if (n && (n->type != f.type)) {  // replaced behind a cached name: a new node
        detach(n);
        n = nullptr;
    }
    if (!n) {
        n = new Node;
        n->parent = parent;
        n->name = name;
        n->type = f.type;
        parent->children++;
        table_.emplace(Key{parent, name}, n);
    }
    n->layer = f.layer;
    n->lowers = f.lowers;
    n->nlookup++;
    return n;
}

void Fs::detach(Node* n) {
    if (!n->linked || n == &root) return;
    table_.erase(Key{n->parent, n->name});
    n->linked = false;
}

void Fs::unref(Node* n, uint64_t count) {
    if (n == &root) return;
    n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
    while (n != &root && n->nlookup == 0 && n->children == 0) {
        Node* parent = n->parent;
        detach(n);
        delete n;
        parent->children--;
        n = parent;
    }
}

void Fs::move(Node* n, Node* new_parent, const std::string& new_name) {
    if (n->linked) table_.erase(Key{n->parent, n->name});
    if (Node* old = child(new_parent, new_name); old && old != n) detach(old);
    n->parent->children--;
    n->parent = new_parent;
    n->name = new_name;
    new_parent->children++;
    table_.emplace(Key{new_parent, new_name}, n);
    n->linked = true;
}

void Fs::clear_lowers_under(Node* dir) {
    for (auto& [key, n] : table_) {
        for (const Node* p = n; p; p = p->parent)
            if (p == dir) {
                n->lowers.clear();
                break;
            }
    }
    dir->lowers.clear();
}

Found Fs::find(Node* parent, const std::string& name) {
    Found f;
    std::string rel = child_path(parent, name);
    auto look = [&](int layer) -> bool {  // false: stop looking further down
        if (layer == kUpper && !layers[0].fd) return true;
        struct stat st;
        if (::fstatat(layers[layer].fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return true;
        if (is_whiteout(layer, rel, st)) return false;
        if (!f.exists) {
            f.exists = true;
            f.layer = layer;
            f.type = st.st_mode & S_IFMT;
            f.st = st;
            if (!S_ISDIR(st.st_mode)) return false;
            if (layer != kUpper) f.lowers.push_back(layer);
            return !is_opaque(layer, rel);
        }
        if (!S_ISDIR(st.st_mode)) return false;  // a non-directory below a directory ends the stack
        f.lowers.push_back(layer);
        return !is_opaque(layer, rel);
    };
    if (!look(kUpper)) return f;
    for (int layer : parent->lowers)
        if (!look(layer)) break;
    return f;
}

bool Fs::exists_in_lowers(Node* parent, const std::string& name) {
    std::string rel = child_path(parent, name);
    for (int layer : parent->lowers) {
        struct stat st;
        if (::fstatat(layers[layer].fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        return !is_whiteout(layer, rel, st);
    }
    return false;
}

int Fs::locate(Node* n, struct stat* st) {
    std::string rel = path(n);
    if (layers[0].fd && ::fstatat(layers[0].fd.get(), rel.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !is_whiteout(kUpper, rel, *st)) {
        n->layer = kUpper;
        return kUpper;
    }
    int layer = n->type == S_IFDIR ? (n->lowers.empty() ? -1 : n->lowers[0]) : n->layer;
    if (layer <= kUpper) return -1;
    if (::fstatat(layers[layer].fd.get(), rel.c_str(), st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
    return layer;
}

struct stat Fs::shown(int layer, const std::string& rel, struct stat st) {
    uid_t uid;
    gid_t gid;
    mode_t mode;
    if (layers[layer].override_stat && !S_ISLNK(st.st_mode) && read_override(layer, rel, &uid, &gid, &mode)) {
        st.st_uid = uid;
        st.st_gid = gid;
        st.st_mode = (st.st_mode & S_IFMT) | (mode & 07777);
    }
    st.st_uid = opt.uids.to_inner(st.st_uid);
    st.st_gid = opt.gids.to_inner(st.st_gid);
    return st;
}

Result<struct stat> Fs::attr(Node* n) {
    struct stat st;
    int layer = n->linked ? locate(n, &st) : -1;
    if (layer < 0 && !n->fds.empty()) {  // unlinked while open: the file itself
        if (::fstat(n->fds.front(), &st) < 0) return Error(errno, "fstat");
        st.st_uid = opt.uids.to_inner(st.st_uid);
        st.st_gid = opt.gids.to_inner(st.st_gid);
        return st;
    }
    if (layer < 0) return Error(ENOENT, "gone");
    return shown(layer, path(n), st);
}

Node* Fs::node_at(const std::string& rel) {
    Node* n = &root;
    size_t start = 0;
    while (n && start <= rel.size()) {
        size_t slash = rel.find('/', start);
        if (slash == std::string::npos) slash = rel.size();
        n = child(n, rel.substr(start, slash - start));
        start = slash + 1;
    }
    return n;
}

void Fs::mark_links_stale(Node* n) {
    if (!writable || n->type != S_IFREG) return;
    int up = layers[0].fd.get();
    struct stat st;
    if (::fstatat(up, path(n).c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_nlink < 2) return;
    for (auto& [key, other] : table_) {
        if (other == n || other->type != S_IFREG) continue;
        struct stat o;
        if (::fstatat(up, path(other).c_str(), &o, AT_SYMLINK_NOFOLLOW) == 0 && o.st_ino == st.st_ino && o.st_dev == st.st_dev)
            mark_stale(ino_of(other));
    }
}

void Fs::flush_stale() {
    if (!has_stale_.exchange(false)) return;
    std::vector<fuse_ino_t> inos;
    {
        std::lock_guard lock(mu);
        inos.swap(stale_);
    }
    for (fuse_ino_t ino : inos) fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
}

void Fs::fill_entry(Node* n, const struct stat& st, fuse_entry_param* e) {
    *e = fuse_entry_param{};
    e->ino = ino_of(n);
    e->attr = st;
    e->attr_timeout = opt.timeout;
    e->entry_timeout = opt.timeout;
}

}  // namespace bock::fuseov

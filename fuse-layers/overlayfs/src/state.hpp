// The state of one bock-fuse-overlay mount: its layers and the table of
// nodes the kernel knows about (FUSE's lookup counts).
//
// Layers are numbered 0 = upper, 1..n = lowers top-first. A node is a name
// under a parent node; its path inside every layer is the same relative
// path, recomputed from the parents (a rename moves a whole subtree by
// changing one node). Directories remember which lowers hold them
// (`lowers`, top-first, cut at an opaque one); the upper is always looked
// at first, so a copy-up never leaves a stale node. Every operation that
// touches the tree holds `mu`; reads and writes on open files do not.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bock/common/fd.hpp"
#include "bock/fuseov/options.hpp"

namespace bock::fuseov {

inline constexpr int kUpper = 0;

struct Layer {
    std::string path;
    Fd fd;                      // O_PATH | O_DIRECTORY
    bool override_stat = false; // the root carries user.containers.override_stat
};

struct Node {
    Node* parent = nullptr;
    std::string name;
    uint64_t nlookup = 0;
    uint64_t children = 0;  // nodes whose parent this is
    bool linked = true;     // still in the table under (parent, name)
    mode_t type = 0;        // S_IFMT bits
    int layer = kUpper;     // where a non-directory was found (upper checked first anyway)
    std::vector<int> lowers;  // directories: lowers holding it, top-first
    std::vector<int> fds;     // open files: an unlinked file is still stat'ed through them
};

// What a name resolves to in the merged view.
struct Found {
    bool exists = false;
    mode_t type = 0;
    int layer = -1;           // topmost layer holding it
    std::vector<int> lowers;  // directories: lowers holding it (after layer, if layer is the upper)
    struct stat st{};         // raw stat in `layer`
};

class Fs {
public:
    Options opt;
    std::vector<Layer> layers;  // [0] upper (fd invalid when read-only)
    Fd work;
    bool writable = false;
    bool in_userns_root = false;  // opaque markers go to user.overlay.* (else trusted.overlay.*)
    std::mutex mu;
    Node root;

    Fs();
    fuse_session* se = nullptr;
    Result<void> open_layers();
    // Nodes whose cached attributes went stale (hard links copied up or
    // linked): the kernel is told after the reply, outside the lock.
    void mark_stale(fuse_ino_t ino) {
        stale_.push_back(ino);
        has_stale_ = true;
    }
    void flush_stale();  // call without holding mu
    // The other names of a hard-linked upper file are other nodes: marks
    // them stale when `n`'s attributes changed (call holding mu).
    void mark_links_stale(Node* n);
    Node* node_at(const std::string& rel);  // a node in the table by path, or null

    // ---- node table (nodes.cpp); callers hold mu ----
    Node* node_of(fuse_ino_t ino) { return ino == FUSE_ROOT_ID ? &root : reinterpret_cast<Node*>(ino); }
    fuse_ino_t ino_of(Node* n) { return n == &root ? FUSE_ROOT_ID : reinterpret_cast<fuse_ino_t>(n); }
    std::string path(const Node* n) const;            // "." for the root, else "a/b"
    std::string child_path(const Node* parent, const std::string& name) const;
    Node* child(Node* parent, const std::string& name);  // in the table, or null
    Node* get_child(Node* parent, const std::string& name, const Found& f);  // creates; nlookup += 1
    void unref(Node* n, uint64_t count);              // forget
    void detach(Node* n);                             // unlinked or replaced: out of the table
    void move(Node* n, Node* new_parent, const std::string& new_name);
    // After a directory was copied whole and made opaque: no node under it
    // looks into the lowers any more.
    void clear_lowers_under(Node* dir);
    // Resolves `name` under `parent` through the layers.
    Found find(Node* parent, const std::string& name);
    // The layer a node lives in now (upper first), -1 if gone; st filled.
    int locate(Node* n, struct stat* st);
    // Stat as the container sees it: override_stat applied, ids mapped.
    Result<struct stat> attr(Node* n);
    struct stat shown(int layer, const std::string& rel, struct stat st);
    bool exists_in_lowers(Node* parent, const std::string& name);
    void fill_entry(Node* n, const struct stat& st, fuse_entry_param* e);

    // ---- layer helpers (layers.cpp) ----
    std::string proc_path(int layer, const std::string& rel) const;
    bool is_whiteout(int layer, const std::string& rel, const struct stat& st);
    bool is_opaque(int layer, const std::string& rel);
    Result<void> set_opaque(const std::string& rel);
    Result<void> make_whiteout(const std::string& rel);
    Result<void> remove_whiteout_if_any(const std::string& rel, bool* removed);
    // Reads "UID:GID:MODE[:TYPE]" of a file; false when absent.
    bool read_override(int layer, const std::string& rel, uid_t* uid, gid_t* gid, mode_t* mode);
    // Sets the owner of a new or copied-up upper file to a container id pair;
    // falls back to user.containers.override_stat when the filesystem refuses.
    int set_owner(const std::string& rel, uid_t inner_uid, gid_t inner_gid, bool is_link);
    int chmod_upper(const std::string& rel, mode_t mode);

    // ---- copy-up (copy_up.cpp) ----
    // Makes the node's entry (and its parents) exist in the upper. 0 or -errno.
    int copy_up(Node* n);
    int copy_up_dir_path(const std::string& rel);  // a directory and its parents
    int copy_up_tree(Node* dir);                   // a whole directory, for rename
    // Moves a node built in the work directory to `rel` in the upper,
    // replacing a whiteout there (atomically, also for directories).
    int place(const std::string& tmp, const std::string& rel, bool is_dir, bool* replaced_whiteout);

private:
    struct Key {
        const Node* parent;
        std::string name;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const {
            return std::hash<std::string>()(k.name) ^ (std::hash<const void*>()(k.parent) * 31);
        }
    };
    std::unordered_map<Key, Node*, KeyHash> table_;
    uint64_t tmp_counter_ = 0;
    std::vector<fuse_ino_t> stale_;
    std::atomic<bool> has_stale_{false};

public:
    std::string tmp_name();  // a fresh name in the work directory
    // Hard links of layer files, built on the first copy-up of a file with
    // nlink > 1: per layer, inode -> the relative paths holding it.
    std::vector<std::unordered_map<ino_t, std::vector<std::string>>> links;
    std::vector<bool> links_scanned;
};

// The merged listing of a directory (dir_list.cpp).
struct DirEntry {
    std::string name;
    ino_t ino = 0;
    unsigned char type = 0;  // DT_*
};
int merged_list(Fs& fs, Node* dir, std::vector<DirEntry>* out);  // 0 or -errno; no "." and ".."

// Operations (ops_*.cpp) and the session (session.cpp).
const fuse_lowlevel_ops& lowlevel_ops();
Result<int> run(Options opt);

}  // namespace bock::fuseov

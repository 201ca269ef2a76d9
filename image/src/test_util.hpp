// Helpers for the image library's unit tests: temporary directories and
// tars written entry by entry (including hostile ones).
#pragma once

// Tests build TarEntry with designated initializers and leave fields out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bock/common/fs.hpp"
#include "bock/image/store.hpp"

namespace bock::image::testing {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/bock-image-test-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() { (void)fs::remove_all(path); }
    std::string operator/(const std::string& s) const { return path + "/" + s; }
};

struct TarEntry {
    std::string path;
    mode_t type = AE_IFREG;
    std::string content;
    std::string link;       // symlink target
    std::string hardlink;   // hardlink target
    mode_t mode = 0644;
    unsigned uid = 0, gid = 0;
    dev_t rdev = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
    // Sparse regions (offset, length): `content` is the whole file, holes
    // included; only the regions are stored.
    std::vector<std::pair<int64_t, int64_t>> sparse;
};

inline bool write_tar(const std::string& out, const std::vector<TarEntry>& entries, bool gzip = false) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip) archive_write_add_filter_gzip(a);
    if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) return false;
    for (const auto& t : entries) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, t.path.c_str());
        if (!t.hardlink.empty()) {
            archive_entry_set_hardlink(e, t.hardlink.c_str());
        } else {
            archive_entry_set_filetype(e, t.type);
            archive_entry_set_size(e, t.type == AE_IFREG ? static_cast<la_int64_t>(t.content.size()) : 0);
        }
        archive_entry_set_perm(e, t.mode);
        archive_entry_set_uid(e, t.uid);
        archive_entry_set_gid(e, t.gid);
        if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.link.c_str());
        if (t.type == AE_IFCHR || t.type == AE_IFBLK) archive_entry_set_rdev(e, t.rdev);
        for (const auto& [k, v] : t.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
        for (const auto& [off, len] : t.sparse) archive_entry_sparse_add_entry(e, off, len);
        archive_write_header(a, e);
        if (t.type == AE_IFREG && !t.content.empty()) archive_write_data(a, t.content.data(), t.content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return true;
}

// The store options of whoever runs the tests: rootless and single-ID
// unless root (the unit tests do not enter a user namespace).
inline StoreOptions test_store_options() {
    StoreOptions o;
    o.rootless = ::getuid() != 0;
    o.single_id = ::getuid() != 0;
    return o;
}

inline bool lexists(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace bock::image::testing

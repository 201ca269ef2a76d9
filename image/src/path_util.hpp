// Private path helpers for writing archive entries below a root directory
// without ever following a symlink out of it.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/sys.hpp"

namespace bock::image::detail {

// Splits an archive path into components: leading '/' and "." dropped;
// ".." anywhere is refused.
inline Result<std::vector<std::string>> split_entry_path(std::string_view p) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string_view::npos) j = p.size();
        auto c = p.substr(i, j - i);
        if (c == "..") return make_error("path `{}` contains `..`", p);
        if (!c.empty() && c != ".") out.emplace_back(c);
        i = j + 1;
    }
    return out;
}

inline std::string join_components(const std::vector<std::string>& c, size_t n) {
    std::string s;
    for (size_t i = 0; i < n && i < c.size(); i++) {
        if (i) s += '/';
        s += c[i];
    }
    return s;
}

// Opens `name` below `dir` without following symlinks and without leaving
// `dir`; returns an fd or -errno.
inline int open_beneath(int dir, const std::string& name, int flags) {
    return sys::raw::openat2(dir, name.c_str(), flags | O_CLOEXEC, 0,
                             RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

}  // namespace bock::image::detail

// NewContentGuard: a failed load or pull takes back what it wrote.
#include <dirent.h>

#include <algorithm>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "store_internal.hpp"

namespace bock::image::detail {

namespace {

std::vector<std::string> names_in(const std::string& dir) {
    auto out = list_dir(dir);
    std::sort(out.begin(), out.end());
    return out;
}

void remove_new(const std::string& dir, const std::vector<std::string>& before) {
    for (const auto& n : names_in(dir)) {
        if (std::binary_search(before.begin(), before.end(), n)) continue;
        if (auto r = fs::remove_all(dir + "/" + n); !r) log::warn("{}", r.error().to_string());
    }
}

}  // namespace

NewContentGuard::NewContentGuard(const StorePaths& p)
    : p_(p), blobs_(names_in(p.blobs())), layers_(names_in(p.layers())) {}

NewContentGuard::~NewContentGuard() {
    if (keep_) return;
    remove_new(p_.blobs(), blobs_);
    remove_new(p_.layers(), layers_);
    remove_new(p_.tmp(), {});
}

}  // namespace bock::image::detail

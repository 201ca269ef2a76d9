// The versions of the libraries image/ is built on, for `bock version`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bock::image {

// {"libcurl", "7.88.1"}, {"libarchive", "3.6.2"}, ... as loaded at run time.
std::vector<std::pair<std::string, std::string>> library_versions();

}  // namespace bock::image

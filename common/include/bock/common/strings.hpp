// Small string helpers used across folders (one copy, not one per file).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bock::strings {

// The non-empty fields of `s` separated by `sep` ("a,,b," -> {"a", "b"}).
std::vector<std::string> split(std::string_view s, char sep);
// The words of `s` separated by spaces, tabs and newlines; views into `s`.
std::vector<std::string_view> split_ws(std::string_view s);

}  // namespace bock::strings

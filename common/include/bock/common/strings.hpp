// Small string helpers used across folders (one copy, not one per file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bock::strings {

// The non-empty fields of `s` separated by `sep` ("a,,b," -> {"a", "b"}).
std::vector<std::string> split(std::string_view s, char sep);
// The words of `s` separated by spaces, tabs and newlines; views into `s`.
std::vector<std::string_view> split_ws(std::string_view s);

// Levenshtein distance, for "did you mean" suggestions.
// Bytes as podman prints sizes, in powers of 1000: "512 B", "1.23 MB".
std::string human_size(uint64_t bytes);

size_t edit_distance(std::string_view a, std::string_view b);

// `s` without leading and trailing white space.
std::string trim(std::string_view s);
// The environment variable `name`, or `fallback` when unset or empty.
std::string env_or(const char* name, std::string fallback = {});

// An environment list of "K=V" entries: set_env replaces K's entry or
// appends `kv` (a bare "K" is matched and kept as is); has_env says
// whether K has an entry.
void set_env(std::vector<std::string>& env, const std::string& kv);
bool has_env(const std::vector<std::string>& env, std::string_view key);

}  // namespace bock::strings

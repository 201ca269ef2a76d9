// /etc/subuid and /etc/subgid: "name-or-uid:start:count" lines, '#' comments,
// several ranges per user. Malformed lines are errors naming file and line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::userns {

struct IdRange {
    uint32_t start = 0;
    uint32_t count = 0;
    bool operator==(const IdRange&) const = default;
};

// Ranges of `user` (matched by name or by decimal uid) in the text of a
// subid file. `filename` is only used in error messages ("FILE:LINE: ...").
Result<std::vector<IdRange>> parse_subids(std::string_view text, std::string_view filename,
                                          std::string_view user, uid_t uid);

// Reads and parses a subid file; a missing file yields no ranges.
Result<std::vector<IdRange>> read_subids(const std::string& path, std::string_view user, uid_t uid);

}  // namespace bock::userns

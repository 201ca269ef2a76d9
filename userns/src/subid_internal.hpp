// Private to userns/: every entry of a subid file, whoever owns it. Used to
// suggest a range that does not collide with existing ones.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/userns/subid.hpp"

namespace bock::userns {

struct SubidEntry {
    std::string owner;  // name or decimal uid, as written
    IdRange range;
};

Result<std::vector<SubidEntry>> parse_subid_entries(std::string_view text, std::string_view filename);
// A missing file yields no entries.
Result<std::vector<SubidEntry>> read_subid_entries(const std::string& path);

}  // namespace bock::userns

// Private to userns/: how a free subordinate range is suggested.
#pragma once

#include <string>
#include <vector>

#include "bock/userns/idmap.hpp"
#include "subid_internal.hpp"

namespace bock::userns {

// The first 65536-id block at 100000 + 65536*k that overlaps no entry.
IdRange free_subid_range(const std::vector<SubidEntry>& taken);

// "usermod --add-subuids A-B --add-subgids A-B NAME", with a range that is
// free in both files.
std::string usermod_command(const UserIdentity& who, const std::string& subuid_path = "/etc/subuid",
                            const std::string& subgid_path = "/etc/subgid");

}  // namespace bock::userns

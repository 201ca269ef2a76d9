// `bock doctor`: one line per check, each with the fix when it fails.
#pragma once

#include <string>
#include <vector>

#include "bock/engine/context.hpp"

namespace bock::engine {

enum class Severity { ok, info, warn, fail };

struct DoctorCheck {
    std::string name;
    Severity severity = Severity::ok;
    std::string detail;
    std::string fix;
};

// Runs every check; `fail` means `bock run` cannot work.
std::vector<DoctorCheck> run_doctor(const Context& ctx);
// The cgroup line alone: version, delegation, whether limits hold.
DoctorCheck check_cgroups(const Context& ctx);

}  // namespace bock::engine

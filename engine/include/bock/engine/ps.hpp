// `bock ps`: the status line, podman's JSON entry, the fields --format
// templates see, and --filter.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// "running", "paused", "created", "exited": the status with a frozen
// running container shown as paused.
std::string state_name(const ContainerInfo& c);
// "Up 5 seconds (healthy)", "Exited (0) 2 minutes ago", "Created", "Paused".
std::string status_text(const Context& ctx, const ContainerInfo& c);

// One entry of `bock ps --format json` (podman's: Id, Names, Image,
// ImageID, Command, Created, CreatedAt, State, Status, ExitCode, Labels, ...).
nlohmann::json ps_json(const Context& ctx, const ContainerInfo& c);

// What {{.Field}} reads in `bock ps --format`: podman's template names
// (.ID .Names .Image .ImageID .Command .CreatedAt .Created .RunningFor
// .Status .State .Ports .Labels .Mounts .Networks .Size .Pid .ExitCode
// .AutoRemove). .ID and .Command are shortened unless no_trunc.
nlohmann::json ps_fields(const Context& ctx, const ContainerInfo& c, bool no_trunc);

// --filter KEY=VALUE: status, name (substring), id (prefix), label (KEY
// or KEY=VALUE), ancestor (image name or id), exited (code), health
// (starting, healthy, unhealthy, none). One key given twice matches either value; different
// keys must all match (Docker's rule).
class PsFilter {
public:
    static Result<PsFilter> parse(const std::vector<std::string>& filters);
    bool matches(const Context& ctx, const ContainerInfo& c) const;
    // A status or exited filter lists stopped containers without -a.
    bool implies_all() const;

private:
    std::vector<std::pair<std::string, std::string>> terms_;
};

}  // namespace bock::engine

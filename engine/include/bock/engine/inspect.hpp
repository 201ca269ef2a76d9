// `bock inspect` for containers: Docker's field names (Id, Created, Path,
// Args, State{...,Health}, Image, Name, RestartCount, Driver, Mounts,
// Config{...}, HostConfig{...}, NetworkSettings), from the container
// record, its health state and the facts (its process).
#pragma once

#include <nlohmann/json.hpp>

#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

nlohmann::json inspect_container(const Context& ctx, const ContainerInfo& c);

}  // namespace bock::engine

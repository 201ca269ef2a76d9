// Private to compose/: the typed model made from the merged YAML tree
// (parse.cpp), called by load_project().
#pragma once

#include <yaml-cpp/yaml.h>

#include "bock/compose/model.hpp"

namespace bock::compose {

// Fills p.services, p.volumes and p.networks from the merged, interpolated
// tree; p.name and p.directory are set. Errors name the key
// (services.web.ports[0]).
Result<void> parse_model(const YAML::Node& root, Project& p);

}  // namespace bock::compose

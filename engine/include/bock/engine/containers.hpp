// Containers kept after they exit (`bock run` without --rm): listing and
// removal. Detached containers come with the container workflow issue.
#pragma once

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/frontend/context.hpp"

namespace bock::frontend {

struct ContainerInfo {
    std::string id;
    std::string image;
    std::string command;
    std::string status;  // "running" (in progress) or "exited"
    int exit_code = 0;
};

Result<std::vector<ContainerInfo>> list_containers(const Context& ctx);
// Removes an exited container by id or unique id prefix; returns its id.
Result<std::string> remove_container(const Context& ctx, const std::string& id_or_prefix);

}  // namespace bock::frontend

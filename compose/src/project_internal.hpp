// Private to compose/: shared by up.cpp, down.cpp and logs.cpp.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "bock/compose/project.hpp"

namespace bock::compose {

// The label value, "" when absent.
std::string label_of(const engine::ContainerInfo& c, const std::string& key);
// The containers of the given services (all services when empty), not one-off.
Result<std::vector<engine::ContainerInfo>> service_containers(const engine::Context& ctx, const Project& p,
                                                             const std::vector<std::string>& services);
// engine::remove_container, tried again (up to 5 times, 200 ms apart) when
// it fails right after a stop: the container's cleanup may still be
// writing in its directory ("directory not empty", seen under load; an
// engine race between `stop` and `rm`, to be fixed there).
Result<std::string> remove_container(engine::Context& ctx, const std::string& id, bool force);
// A progress line on stderr, as docker compose prints them: " Container NAME  Started".
void progress(const std::string& kind, const std::string& name, const std::string& what);

// Follows the logs of `containers` (id, name), each line prefixed with
// the name, until all have stopped, `*interrupted` is set, or — with
// first_exit — the first one stops (its id returned).
Result<std::string> follow_logs(engine::Context& ctx, const std::vector<std::pair<std::string, std::string>>& containers,
                                const engine::LogsOptions& opts, volatile std::sig_atomic_t* interrupted, bool first_exit);

}  // namespace bock::compose

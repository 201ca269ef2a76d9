// bock-oci events [--stats] [--interval D] ID: the container's resource
// statistics as runc prints them, one JSON object a line:
//   {"type":"stats","id":"ID","data":{"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":..}}
// --stats prints one and exits; otherwise one every interval (default 5s;
// "500ms", "2s", "1m") until the container stops.
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>

#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

Result<std::chrono::milliseconds> parse_interval(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0) return make_error("--interval `{}`: not a duration (such as 500ms, 5s, 1m)", text);
    long n = std::stol(text.substr(0, i));
    std::string unit = text.substr(i);
    if (unit == "ms") return std::chrono::milliseconds(n);
    if (unit == "s" || unit.empty()) return std::chrono::milliseconds(n * 1000);
    if (unit == "m") return std::chrono::milliseconds(n * 60000);
    return make_error("--interval `{}`: unknown unit `{}` (ms, s or m)", text, unit);
}

Result<void> events(const GlobalOptions& g, const std::string& id, bool once, const std::string& interval) {
    auto every = BOCK_TRY(parse_interval(interval));
    if (every.count() <= 0) return make_error("--interval must be positive");
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    if (runtime::container_status(root, st) == runtime::Status::stopped)
        return make_error("container `{}` is not running", id);
    auto cg = runtime::CgroupPaths::from_json(st.cgroup);
    for (;;) {
        nlohmann::json ev = {{"type", "stats"}, {"id", id}, {"data", runtime::cgroup_stats(cg)}};
        std::cout << ev.dump() << std::endl;
        if (once) return ok();
        std::this_thread::sleep_for(every);
        if (runtime::container_status(root, st) == runtime::Status::stopped) return ok();
    }
}

}  // namespace

void add_events_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("events", "print a container's resource statistics as JSON");
    auto id = std::make_shared<std::string>();
    auto once = std::make_shared<bool>(false);
    auto interval = std::make_shared<std::string>("5s");
    cmd->add_flag("--stats", *once, "print the statistics once and exit");
    cmd->add_option("--interval", *interval, "time between statistics (default 5s)");
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->callback([&g, id, once, interval, &exit_code] {
        auto r = events(g, *id, *once, *interval);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci

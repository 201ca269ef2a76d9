// `bock stats [--no-stream] [--interval N] [--format json|table|TEMPLATE]
// [CONTAINER...]`: CPU, memory, network and block I/O, pids and pressure
// of running containers (engine/include/bock/engine/stats.hpp). Where a
// figure does not come from the container's own cgroup, one line on
// stderr says where it comes from and what is missing.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "bock/engine/format.hpp"
#include "bock/engine/stats.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

constexpr const char* kStatsTable =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.CPU}}"
    "\t{{.AVGCPU}}\t{{.PSI}}";
const std::map<std::string, std::string> kStatsHeaders = {
    {"ID", "ID"},           {"Name", "NAME"},         {"CPUPerc", "CPU %"},          {"MemUsage", "MEM USAGE / LIMIT"},
    {"MemPerc", "MEM %"},   {"NetIO", "NET IO"},      {"BlockIO", "BLOCK IO"},       {"PIDs", "PIDS"},
    {"CPU", "CPU TIME"},    {"AVGCPU", "AVG CPU %"},  {"PSI", "PSI CPU/MEM/IO"},     {"UpTime", "UP TIME"},
    {"MemUsageBytes", "MEM USAGE"}};

}  // namespace

void add_stats(CLI::App& app) {
    auto* cmd = app.add_subcommand("stats", "Display CPU, memory, network, block I/O, pids and pressure of containers");
    auto keys = std::make_shared<std::vector<std::string>>();
    auto no_stream = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    auto interval = std::make_shared<int>(5);
    cmd->add_option("CONTAINER", *keys, "Container names, ids or unique id prefixes (default: every running one)");
    cmd->add_flag("--no-stream", *no_stream, "Print one sample and exit");
    cmd->add_option("--format", *format,
                    "json, table (default), or a template such as '{{.Name}} {{.CPUPerc}} {{.PSI}}'");
    cmd->add_option("-i,--interval", *interval, "Seconds between samples when streaming (default 5)")
        ->check(CLI::PositiveNumber);
    cmd->footer("PSI CPU/MEM/IO: pressure, `some avg10` of each: the container's cgroup2 group where it has one, "
                "else the host's.\nWithout a cgroup of its own (rootless on cgroup v1) CPU, memory, pids and block "
                "I/O come from /proc; a line on stderr says so.");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::optional<engine::Template> tmpl;
            if (*format != "json")
                tmpl = BOCK_TRY(engine::Template::parse(*format == "table" ? kStatsTable : *format, kStatsHeaders));
            auto ctx = BOCK_TRY(engine::open_context());
            std::map<std::string, engine::ContainerStats> previous;
            bool tty = ::isatty(1) == 1;
            bool noted = false;
            for (;;) {
                auto all = BOCK_TRY(engine::sample_stats(ctx, *keys, previous));
                std::string text;
                if (*format == "json") {
                    auto arr = nlohmann::json::array();
                    for (const auto& s : all) arr.push_back(engine::stats_json(s));
                    text = arr.dump(2) + "\n";
                } else {
                    std::vector<nlohmann::json> docs;
                    for (const auto& s : all) docs.push_back(engine::stats_fields(s));
                    text = BOCK_TRY(tmpl->render_all(docs));
                }
                if (!*no_stream && tty) text = "\033[2J\033[H" + text;  // podman redraws in place
                fmt::print("{}", text);
                std::fflush(stdout);
                if (!noted) {
                    for (const auto& n : engine::stats_notes(all)) log::notice("note: " + n);
                    noted = true;
                }
                if (*no_stream) return 0;
                previous.clear();
                for (auto& s : all) previous[s.id] = std::move(s);
                std::this_thread::sleep_for(std::chrono::seconds(*interval));
            }
        });
    });
}

}  // namespace bock::cli

// `bock ps [-a] [-q] [--format json|table]`: containers, newest first, with
// the status derived from facts (a container whose bock was killed shows
// as exited, with the reason).
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

std::string status_text(const engine::ContainerInfo& c) {
    if (c.status == "running") return "Up " + time::duration(time::now() - c.rec.started);
    if (c.status == "created") return "Created";
    if (c.status == "exited") {
        std::string code = c.exit_code ? std::to_string(*c.exit_code) : "unknown";
        std::string when = c.finished > 0 ? " " + time::ago(c.finished) : "";
        if (!c.exit_code && !c.reason.empty()) return fmt::format("Exited ({}: {}){}", code, c.reason, when);
        return fmt::format("Exited ({}){}", code, when);
    }
    return "Unknown: " + c.reason;
}

std::string command_text(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    if (s.size() > 20) s = s.substr(0, 17) + "...";
    return "\"" + s + "\"";
}

nlohmann::json to_json(const engine::ContainerInfo& c) {
    nlohmann::json j{{"Id", c.rec.id},
                     {"Names", nlohmann::json::array({c.rec.name})},
                     {"Image", c.rec.image},
                     {"ImageID", c.rec.image_id},
                     {"Command", c.rec.command},
                     {"Created", c.rec.created},
                     {"CreatedAt", time::rfc3339(c.rec.created)},
                     {"StartedAt", c.rec.started},
                     {"ExitedAt", c.finished},
                     {"State", c.status},
                     {"Status", status_text(c)},
                     {"Exited", c.status == "exited"},
                     {"Ports", nlohmann::json::array()},
                     {"AutoRemove", c.rec.auto_remove}};
    j["ExitCode"] = c.exit_code ? nlohmann::json(*c.exit_code) : nlohmann::json();
    if (!c.reason.empty()) j["Reason"] = c.reason;
    j["RestartCount"] = c.rec.restart_count;
    if (c.rec.detached) j["MonitorPid"] = c.rec.monitor_pid;
    return j;
}

}  // namespace

void add_ps(CLI::App& app) {
    auto* cmd = app.add_subcommand("ps", "List containers");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    cmd->add_flag("-a,--all", *all, "Show exited containers too");
    cmd->add_flag("-q,--quiet", *quiet, "Show only ids");
    cmd->add_option("--format", *format, "Output format: table (default) or json")
        ->check(CLI::IsMember({"json", "table"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto list = BOCK_TRY(engine::list_containers(ctx));
            std::erase_if(list, [&](const engine::ContainerInfo& c) { return !*all && c.status != "running"; });
            if (*format == "json") {
                auto arr = nlohmann::json::array();
                for (const auto& c : list) arr.push_back(to_json(c));
                fmt::print("{}\n", arr.dump(2));
                return 0;
            }
            if (*quiet) {
                for (const auto& c : list) fmt::print("{}\n", c.rec.id.substr(0, 12));
                return 0;
            }
            fmt::print("{:<14} {:<32} {:<22} {:<16} {:<28} {:<10} {}\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                       "STATUS", "PORTS", "NAMES");
            for (const auto& c : list)
                fmt::print("{:<14} {:<32} {:<22} {:<16} {:<28} {:<10} {}\n", c.rec.id.substr(0, 12), c.rec.image,
                           command_text(c.rec.command), time::ago(c.rec.created), status_text(c), "", c.rec.name);
            return 0;
        });
    });
}

}  // namespace bock::cli

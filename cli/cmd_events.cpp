// `bock events [--follow] [--since T] [--until T] [--filter K=V]... [--format json]`:
// the engine's event log (engine/include/bock/engine/events.hpp), printed;
// with --follow, new events as they are recorded (until --until, or ^C).
#include "bock/common/time.hpp"
#include "bock/engine/events.hpp"
#include "bock/engine/system.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_events(CLI::App& app) {
    auto* cmd = app.add_subcommand("events", "Show the recorded container and image events");
    auto since = std::make_shared<std::string>();
    auto until = std::make_shared<std::string>();
    auto filters = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    cmd->add_flag("--follow,--stream", *follow, "Keep printing new events as they are recorded (until --until, or ^C)");
    cmd->add_option("--since", *since, "Only events at or after TIME (unix seconds, RFC 3339, or 10m/2h ago)");
    cmd->add_option("--until", *until, "Only events at or before TIME");
    cmd->add_option("-f,--filter", *filters, "type=, event=, container= or image= (repeatable)");
    cmd->add_option("--format", *format, "json: one JSON object a line");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            engine::EventQuery q;
            if (!since->empty()) q.since = BOCK_TRY(engine::parse_time_arg(*since));
            if (!until->empty()) q.until = BOCK_TRY(engine::parse_time_arg(*until));
            for (const auto& f : *filters) {
                auto eq = f.find('=');
                std::string k = f.substr(0, eq);
                if (eq == std::string::npos || (k != "type" && k != "event" && k != "container" && k != "image"))
                    return make_error("unsupported filter `{}`", f)
                        .with_hint("use type=, event=, container= or image=")
                        .with_exit(125);
                q.filters.emplace_back(k, f.substr(eq + 1));
            }
            if (!format->empty() && *format != "json")
                return make_error("--format `{}`: only json is supported", *format).with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto print = [&](const engine::Event& e) {
                if (*format == "json") {
                    nlohmann::json j{{"Time", time::rfc3339_ns(e.time_ns)}, {"TimeNano", e.time_ns}, {"Type", e.type},
                                     {"Status", e.action}, {"ID", e.id}, {"Attributes", e.attrs}};
                    if (auto n = e.attrs.find("name"); n != e.attrs.end()) j["Name"] = n->second;
                    if (auto i = e.attrs.find("image"); i != e.attrs.end()) j["Image"] = i->second;
                    fmt::print("{}\n", j.dump());
                } else {
                    std::string attrs;
                    for (const auto& [k, v] : e.attrs) attrs += (attrs.empty() ? "" : ", ") + k + "=" + v;
                    fmt::print("{} {} {} {}{}\n", time::rfc3339_ns(e.time_ns), e.type, e.action, e.id,
                               attrs.empty() ? "" : " (" + attrs + ")");
                }
                std::fflush(stdout);  // a reader of --follow sees each event as it comes
                return true;
            };
            if (*follow) {
                BOCK_TRY(engine::follow_events(ctx, q, print));
                return 0;
            }
            for (const auto& e : BOCK_TRY(engine::read_events(ctx, q))) print(e);
            return 0;
        });
    });
}

}  // namespace bock::cli

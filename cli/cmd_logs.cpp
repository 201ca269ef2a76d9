// `bock logs [-f] [--since T] [--until T] [--tail N] [-t] CONTAINER`.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_logs(CLI::App& app) {
    auto* cmd = app.add_subcommand("logs", "Show a container's output");
    auto id = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    auto ts = std::make_shared<bool>(false);
    auto since = std::make_shared<std::string>();
    auto until = std::make_shared<std::string>();
    auto tail = std::make_shared<int>(-1);
    cmd->add_flag("-f,--follow", *follow, "Follow the output until the container stops");
    cmd->add_flag("-t,--timestamps", *ts, "Show each line's time (RFC 3339, nanoseconds)");
    cmd->add_option("--since", *since, "Lines since a time: RFC 3339, unix seconds, or a duration (10m)");
    cmd->add_option("--until", *until, "Lines until a time (same forms)");
    cmd->add_option("-n,--tail", *tail, "Only the last N lines");
    cmd->add_option("CONTAINER", *id, "Container name, id or unique id prefix")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            engine::LogsOptions o;
            o.follow = *follow;
            o.timestamps = *ts;
            if (!since->empty()) o.since_ns = BOCK_TRY(engine::parse_log_time(*since));
            if (!until->empty()) o.until_ns = BOCK_TRY(engine::parse_log_time(*until));
            if (*tail >= 0) o.tail = static_cast<size_t>(*tail);
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::print_logs(ctx, *id, o));
            return 0;
        });
    });
}

}  // namespace bock::cli

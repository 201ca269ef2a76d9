// `bock stop [-t N] CONTAINER...`: the stop signal, SIGKILL after the
// timeout (at once when PID 1 does not catch the signal); all in parallel.
#include <thread>

#include "bock/engine/containers.hpp"
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_stop(CLI::App& app) {
    auto* cmd = app.add_subcommand("stop", "Stop one or more containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<int>(-1);
    auto all = std::make_shared<bool>(false);
    cmd->add_option("-t,--time", *timeout, "Seconds to wait before SIGKILL (default: the container's --stop-timeout, 10)");
    cmd->add_flag("-a,--all", *all, "Stop every running container");
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (ids->empty() && !*all) return make_error("stop: name at least one container, or pass --all").with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto targets = *ids;
            if (*all)
                for (const auto& c : BOCK_TRY(engine::list_containers(ctx)))
                    if (c.status == "running") targets.push_back(c.rec.id);
            std::optional<int> t;
            if (*timeout >= 0) t = *timeout;
            // One thread per container: each waits its own timeout.
            std::vector<std::optional<Error>> errors(targets.size());
            std::vector<std::thread> threads;
            for (size_t i = 0; i < targets.size(); i++)
                threads.emplace_back([&, i] {
                    auto r = engine::stop_container(ctx, targets[i], t);
                    if (!r) errors[i] = r.error();
                });
            for (auto& th : threads) th.join();
            int rc = 0;
            for (size_t i = 0; i < targets.size(); i++) {
                if (errors[i]) {
                    log::report(*errors[i]);
                    rc = 125;
                } else {
                    fmt::print("{}\n", targets[i]);
                }
            }
            return rc;
        });
    });
}

}  // namespace bock::cli

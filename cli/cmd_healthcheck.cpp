// `bock healthcheck run CONTAINER`: one health check now (the monitor runs
// it on the container's interval). Exit 0 when the check passed, 1 when it
// failed; the container's status (starting, healthy, unhealthy) goes to
// its health.json, shown by `bock ps` and `bock inspect`.
#include "bock/engine/health.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_healthcheck(CLI::App& app) {
    auto* group = app.add_subcommand("healthcheck", "Run a container's health check");
    group->require_subcommand(1);
    auto* run = group->add_subcommand("run", "Run the health check of a running container once");
    auto name = std::make_shared<std::string>();
    run->add_option("CONTAINER", *name, "Container name or id")->required();
    run->footer("Exit status: 0 healthy, 1 unhealthy (this check failed), 125 if bock failed.");
    run->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto r = BOCK_TRY(engine::run_healthcheck(ctx, *name));
            if (r.passed) return 0;
            fmt::print("{}\n", r.status == "unhealthy" ? "unhealthy" : "check failed (" + r.status + ")");
            return 1;
        });
    });
}

}  // namespace bock::cli

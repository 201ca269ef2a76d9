// `bock run`: in the foreground (the runtime called in this process), or
// with -d/-i/-t under a monitor (docs/monitor.md).
#include "bock/common/fs.hpp"
#include "bock/engine/images.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/run.hpp"
#include "commands.hpp"
#include "container_flags.hpp"
#include "progress.hpp"

namespace bock::cli {

void add_run(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "Run a command in a new container");
    auto f = add_container_flags(cmd, true);
    cmd->footer("Usage: bock run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
                "Exit status: the command's; 125 if bock failed, 126 if the command cannot be\n"
                "executed, 127 if it is not found. With -d: 0 and the container's id.");
    cmd->callback([=] {
        if (int rc = finish_container_flags(cmd, *f, "run")) {
            exit_code = rc;
            return;
        }
        const auto& req = f->req;
        guarded([&]() -> Result<int> {
            if (!f->cidfile.empty() && fs::exists(f->cidfile))
                return make_error("--cidfile `{}` already exists", f->cidfile).with_hint("remove it, or name another file");
            auto policy = BOCK_TRY(engine::parse_pull_policy(f->pull));
            auto ctx = BOCK_TRY(engine::open_context());
            PullProgress progress(PullProgress::detect(false));
            BOCK_TRY(engine::ensure_image(ctx, req.image, policy, progress.hooks()));
            if (req.detach) {
                auto id = BOCK_TRY(engine::create_container(ctx, req, true));
                if (!f->cidfile.empty()) BOCK_TRY(write_cidfile(f->cidfile, id));
                fmt::print("{}\n", id);
                return 0;
            }
            if (engine::needs_monitor(req) || req.restart != "no" || req.log_driver != "json-file") {
                engine::AttachOptions ao;
                ao.stdin = req.interactive;
                ao.detach_keys = f->detach_keys;
                return engine::run_attached(ctx, req, ao);
            }
            return engine::run_container(ctx, req);
        });
    });
}

}  // namespace bock::cli

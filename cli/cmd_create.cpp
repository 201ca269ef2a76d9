// `bock create`: a container set up under its monitor, its process
// waiting to be released by `bock start`.
#include "bock/engine/images.hpp"
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"
#include "container_flags.hpp"
#include "progress.hpp"

namespace bock::cli {

void add_create(CLI::App& app) {
    auto* cmd = app.add_subcommand("create", "Create a container without starting it");
    auto f = add_container_flags(cmd, false);
    cmd->footer("Usage: bock create [OPTIONS] IMAGE [COMMAND [ARG...]]\nPrints the container's id; `bock start` runs it.");
    cmd->callback([=] {
        if (int rc = finish_container_flags(cmd, *f, "create")) {
            exit_code = rc;
            return;
        }
        guarded([&]() -> Result<int> {
            auto policy = BOCK_TRY(engine::parse_pull_policy(f->pull));
            auto ctx = BOCK_TRY(engine::open_context());
            PullProgress progress(PullProgress::detect(false));
            BOCK_TRY(engine::ensure_image(ctx, f->req.image, policy, progress.hooks()));
            auto id = BOCK_TRY(engine::create_container(ctx, f->req, false));
            if (!f->cidfile.empty()) BOCK_TRY(write_cidfile(f->cidfile, id));
            fmt::print("{}\n", id);
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock pull [--platform P] [-q] IMAGE`: through registries.conf, with the
// progress display.
#include "bock/engine/images.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

void add_pull(CLI::App& app) {
    auto* cmd = app.add_subcommand("pull", "Pull an image from a registry");
    auto req = std::make_shared<engine::PullRequest>();
    auto quiet = std::make_shared<bool>(false);
    cmd->add_flag("--tls-verify", req->access.tls_verify,
                  "Use https and verify certificates (default true; loopback registries use http)");
    cmd->add_option("--platform", req->platform, "Platform to pull from an index: OS/ARCH[/VARIANT] (default: this machine)");
    cmd->add_flag("-q,--quiet", *quiet, "Print only the image id");
    auto access = add_registry_flags(cmd, false);
    cmd->add_option("IMAGE", req->name, "Image to pull: [REGISTRY/]NAME[:TAG|@DIGEST]")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            req->access.cert_dir = access->cert_dir;
            req->access.authfile = access->authfile;
            PullProgress progress(PullProgress::detect(*quiet));
            req->progress = progress.hooks();
            // Threads (downloads, extraction) start inside the pull, after
            // open_context has joined the rootless session.
            auto ctx = BOCK_TRY(engine::open_context());
            auto rec = BOCK_TRY(engine::pull_image(ctx, *req));
            fmt::print("{}\n", rec.config.hex);
            return 0;
        });
    });
}

}  // namespace bock::cli

#include <unistd.h>

#include "bock/frontend/context.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/registries_conf.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

void add_pull(CLI::App& app) {
    auto* cmd = app.add_subcommand("pull", "Pull an image from a registry");
    auto name = std::make_shared<std::string>();
    auto tls_verify = std::make_shared<bool>(true);
    auto platform = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    cmd->add_flag("--tls-verify", *tls_verify,
                  "Use https and verify certificates (default true; loopback registries use http)");
    cmd->add_option("--platform", *platform, "Platform to pull from an index: OS/ARCH[/VARIANT] (default: this machine)");
    cmd->add_flag("-q,--quiet", *quiet, "Print only the image id");
    auto access = add_registry_flags(cmd, false);
    cmd->add_option("IMAGE", *name, "Image to pull: [REGISTRY/]NAME[:TAG|@DIGEST]")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ref = BOCK_TRY(image::Reference::parse(*name));
            image::PullOptions opts;
            opts.tls_verify = *tls_verify;
            opts.cert_dir = access->cert_dir;
            opts.authfile = access->authfile;
            if (!platform->empty()) opts.platform = BOCK_TRY(image::Platform::parse(*platform));
            // Threads (downloads, extraction) start inside Store::pull, after
            // open_context has joined the rootless session.
            PullProgress progress(PullProgress::detect(*quiet));
            progress.attach(opts);
            auto ctx = BOCK_TRY(frontend::open_context());
            auto conf = BOCK_TRY(image::load_registries_conf());  // short names, mirrors, blocked
            auto rec = BOCK_TRY(image::pull_with_config(*ctx.store, *name, opts, conf));
            fmt::print("{}\n", rec.config.hex);
            return 0;
        });
    });
}

}  // namespace bock::cli

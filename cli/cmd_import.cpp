// `bock import [-c CHANGE]... [-m MSG] ROOTFS.tar[.gz] NAME`, like podman import.
#include "bock/frontend/context.hpp"
#include "bock/image/transport.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_import(CLI::App& app) {
    auto* cmd = app.add_subcommand("import", "Create a single-layer image from a root filesystem tarball");
    auto file = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto opts = std::make_shared<image::ImportOptions>();
    cmd->add_option("-c,--change", opts->changes,
                    "Apply an instruction: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR or USER (repeatable)");
    cmd->add_option("-m,--message", opts->message, "Comment recorded in the image's history");
    cmd->add_option("TARBALL", *file, "Tarball (plain, gzip, zstd or xz; - for standard input)")->required();
    cmd->add_option("NAME", *name, "Name of the new image")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto rec = BOCK_TRY(image::import_rootfs(*ctx.store, *file, *name, *opts));
            fmt::print("{}\n", rec.config.hex);
            return 0;
        });
    });
}

}  // namespace bock::cli

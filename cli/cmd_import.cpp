// `bock import [-c CHANGE]... [-m MSG] ROOTFS.tar[.gz] NAME`, like podman import.
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_import(CLI::App& app) {
    auto* cmd = app.add_subcommand("import", "Create a single-layer image from a root filesystem tarball");
    auto file = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto opts = std::make_shared<engine::ImportOptions>();
    cmd->add_option("-c,--change", opts->changes,
                    "Apply an instruction: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR or USER (repeatable)");
    cmd->add_option("-m,--message", opts->message, "Comment recorded in the image's history");
    cmd->add_option("TARBALL", *file, "Tarball (plain, gzip, zstd or xz; - for standard input)")->required();
    cmd->add_option("NAME", *name, "Name of the new image")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto rec = BOCK_TRY(engine::import_image(ctx, *file, *name, *opts));
            fmt::print("{}\n", rec.config.hex);
            return 0;
        });
    });
}

}  // namespace bock::cli

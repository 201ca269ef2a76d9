#include <unistd.h>

#include "bock/frontend/run.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_save(CLI::App& app) {
    auto* cmd = app.add_subcommand("save", "Write an image to an OCI archive");
    auto output = std::make_shared<std::string>("-");
    auto name = std::make_shared<std::string>();
    cmd->add_option("-o,--output", *output, "File to write (default: standard output)");
    cmd->add_option("IMAGE", *name, "Image name or id")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (*output == "-" && ::isatty(1))
                return make_error("refusing to write an archive to a terminal").with_hint("use -o FILE or redirect");
            auto ctx = BOCK_TRY(frontend::open_context());
            auto rec = BOCK_TRY(frontend::resolve_image(ctx, *name));
            BOCK_TRY(ctx.store->save_oci_archive(rec, *output));
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock load [-i FILE|DIR]`: an OCI archive, a `docker save` archive (also
// multi-image) or an OCI layout directory; standard input by default.
#include <unistd.h>

#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_load(CLI::App& app) {
    auto* cmd = app.add_subcommand("load", "Load images from an OCI archive, a `docker save` archive or an OCI layout directory");
    auto input = std::make_shared<std::string>("-");
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("-i,--input", *input, "Archive or OCI layout directory to read (default: standard input)");
    cmd->add_flag("-q,--quiet", *quiet, "Print nothing");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (*input == "-" && ::isatty(0))
                return make_error("refusing to read an archive from a terminal")
                    .with_hint("use -i FILE or redirect standard input");
            auto ctx = BOCK_TRY(engine::open_context());
            auto loaded = BOCK_TRY(engine::load_images(ctx, *input));
            if (!*quiet)
                for (const auto& r : loaded)
                    fmt::print("Loaded image: {}\n", r.name.empty() ? "sha256:" + r.config.hex : r.name);
            return 0;
        });
    });
}

}  // namespace bock::cli

#include "bock/common/fs.hpp"
#include "bock/frontend/context.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_load(CLI::App& app) {
    auto* cmd = app.add_subcommand("load", "Load images from an OCI archive, a `docker save` archive or an OCI layout directory");
    auto input = std::make_shared<std::string>("-");
    cmd->add_option("-i,--input", *input, "Archive or OCI layout directory to read (default: standard input)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto loaded = *input != "-" && fs::is_dir(*input)
                              ? BOCK_TRY(ctx.store->import_oci_layout(*input))
                              : BOCK_TRY(ctx.store->load_archive(*input));
            for (const auto& r : loaded) fmt::print("Loaded image: {}\n", r.name);
            return 0;
        });
    });
}

}  // namespace bock::cli

#include "bock/frontend/context.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_load(CLI::App& app) {
    auto* cmd = app.add_subcommand("load", "Load images from an OCI or `docker save` archive");
    auto input = std::make_shared<std::string>("-");
    cmd->add_option("-i,--input", *input, "Archive to read (default: standard input)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto loaded = BOCK_TRY(ctx.store->load_archive(*input));
            for (const auto& r : loaded) fmt::print("Loaded image: {}\n", r.name);
            return 0;
        });
    });
}

}  // namespace bock::cli

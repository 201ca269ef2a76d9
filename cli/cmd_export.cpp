// `bock export [-o FILE] CONTAINER`: the container's flattened root
// filesystem as a tar (stdout, refused on a terminal), for `bock import`.
#include <unistd.h>

#include "bock/engine/commit.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_export(CLI::App& app) {
    auto* cmd = app.add_subcommand("export", "Write a container's filesystem as a tar archive");
    auto container = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    cmd->add_option("-o,--output", *out, "Write to this file instead of standard output");
    cmd->add_option("CONTAINER", *container, "Container name or id")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (out->empty() && ::isatty(1))
                return make_error("refusing to write a tar archive to a terminal").with_hint("use -o FILE or redirect the output");
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::export_container(ctx, *container, out->empty() ? "-" : *out));
            return 0;
        });
    });
}

}  // namespace bock::cli

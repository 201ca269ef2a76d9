// `bock attach [--no-stdin] [--detach-keys K] CONTAINER`.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_attach(CLI::App& app) {
    auto* cmd = app.add_subcommand("attach", "Attach to a running container's terminal or output");
    auto id = std::make_shared<std::string>();
    auto no_stdin = std::make_shared<bool>(false);
    auto keys = std::make_shared<std::string>("ctrl-p,ctrl-q");
    cmd->add_flag("--no-stdin", *no_stdin, "Do not send stdin");
    cmd->add_option("--detach-keys", *keys, "Keys that detach (default ctrl-p,ctrl-q)");
    cmd->add_option("CONTAINER", *id, "Container name, id or unique id prefix")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            engine::AttachOptions o;
            o.stdin = !*no_stdin;
            o.detach_keys = *keys;
            auto code = BOCK_TRY(engine::attach_container(ctx, *id, o));
            return code.value_or(0);
        });
    });
}

}  // namespace bock::cli

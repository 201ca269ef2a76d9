#include <unistd.h>

#include <cstdlib>

#include "bock/engine/context.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_unshare(CLI::App& app) {
    auto* cmd = app.add_subcommand("unshare", "Run a command inside the rootless session's namespaces (like podman unshare)");
    cmd->prefix_command();
    cmd->footer("Usage: bock unshare [COMMAND [ARG...]]   (default: $SHELL)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto args = cmd->remaining();
            auto ctx = BOCK_TRY(engine::open_context());
            if (!ctx.rootless) log::info("running as root: no session to enter, running the command directly");
            if (args.empty()) {
                const char* sh = std::getenv("SHELL");
                args.push_back(sh && *sh ? sh : "/bin/sh");
            }
            ::setenv("BOCK_UNSHARE", "1", 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execvp(argv[0], argv.data());
            int err = errno;
            return Error(err, fmt::format("exec `{}`", args[0])).with_exit(err == ENOENT ? 127 : 126);
        });
    });
}

}  // namespace bock::cli

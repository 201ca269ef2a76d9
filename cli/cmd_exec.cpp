// `bock exec [-i] [-t] [-d] [-u USER] [-w DIR] [-e K=V] [--env-file F]
// [--privileged] CONTAINER COMMAND [ARG...]`: another process in a running
// container (engine/src/exec.cpp).
#include <unistd.h>

#include "bock/engine/exec.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_exec(CLI::App& app) {
    auto req = std::make_shared<engine::ExecRequest>();
    auto* cmd = app.add_subcommand("exec", "Run a process in a running container");
    cmd->add_flag("-i,--interactive", req->interactive, "Keep stdin open and connect it to the process");
    cmd->add_flag("-t,--tty", req->tty, "Give the process a terminal (proxied by bock; resized with yours)");
    cmd->add_flag("-d,--detach", req->detach, "Return once the process runs (its output is discarded)");
    auto* u = cmd->add_option("-u,--user", "UID[:GID] or NAME[:GROUP] to run as (default: the container's)");
    auto* w = cmd->add_option("-w,--workdir", "Working directory inside the container (default: the container's)");
    cmd->add_option("-e,--env", req->env, "Set an environment variable (K=V, or K to copy it)")->allow_extra_args(false);
    cmd->add_option("--env-file", req->env_files, "Read environment variables from a file (K=V lines)")
        ->allow_extra_args(false);
    cmd->add_flag("--privileged", req->privileged, "Give the process every capability bock holds");
    cmd->prefix_command();  // CONTAINER and everything after it
    cmd->footer("Usage: bock exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
                "Exit status: the command's; 125 if bock failed, 126 if the command cannot be\n"
                "executed, 127 if it is not found.");
    cmd->callback([=] {
        auto rest = cmd->remaining();
        if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
        if (!rest.empty() && rest[0].starts_with("-")) {
            exit_code = usage_error(cmd, "unknown flag: " + rest[0].substr(0, rest[0].find('=')));
            return;
        }
        if (rest.size() < 2) {
            exit_code = usage_error(cmd, rest.empty() ? "exec: a container and a command are required"
                                                      : "exec: a command is required");
            return;
        }
        req->container = rest[0];
        req->args.assign(rest.begin() + 1, rest.end());
        if (u->count()) req->user = u->as<std::string>();
        if (w->count()) req->workdir = w->as<std::string>();
        guarded([&]() -> Result<int> {
            if (req->tty && req->interactive && !::isatty(0))
                return make_error("exec -it: the input device is not a terminal")
                    .with_hint("drop -t, or run bock from a terminal");
            if (req->tty && req->detach)
                return make_error("exec: -t and -d together are not supported yet (no one would hold the terminal)")
                    .with_hint("drop -t for a detached process");
            auto ctx = BOCK_TRY(engine::open_context());
            return engine::exec_in_container(ctx, *req);
        });
    });
}

}  // namespace bock::cli

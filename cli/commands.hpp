// The `bock` commands: each file cmd_<verb>.cpp adds one subcommand to the
// CLI11 app and runs it through the engine (engine/), builder or compose. A command's callback
// stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace bock::cli {

extern int exit_code;

void add_run(CLI::App& app);
void add_images(CLI::App& app);
void add_rmi(CLI::App& app);
void add_load(CLI::App& app);
void add_pull(CLI::App& app);
void add_save(CLI::App& app);
void add_doctor(CLI::App& app);
void add_unshare(CLI::App& app);
void add_ps(CLI::App& app);
void add_port(CLI::App& app);
void add_network(CLI::App& app);
void add_rm(CLI::App& app);
void add_tag(CLI::App& app);
void add_inspect(CLI::App& app);
void add_image(CLI::App& app);  // `bock image ls|rm|inspect|tag|prune`
void add_import(CLI::App& app);
void add_copy(CLI::App& app);
void add_diff(CLI::App& app);
void add_commit(CLI::App& app);
void add_export(CLI::App& app);
// issue 18: cp, rename, system df/prune, container prune, events.
void add_cp(CLI::App& app);
void add_rename(CLI::App& app);
void add_events(CLI::App& app);
void add_container_prune(CLI::App& parent);
// issue 18: pause/unpause, top, stats, shell completion.
void add_pause(CLI::App& app);  // pause and unpause
void add_top(CLI::App& app);
void add_stats(CLI::App& app);
void add_completion(CLI::App& app);  // `completion bash|zsh|fish` and the hidden `__complete`
void add_system_prune(CLI::App& parent);
std::string human_size(uint64_t bytes);  // podman's 1.23MB
void add_build(CLI::App& app);
// The same commands under another parent and name (for `bock image`).
CLI::App* add_images_to(CLI::App& parent, const std::string& name);
CLI::App* add_rmi_to(CLI::App& parent, const std::string& name);
CLI::App* add_inspect_to(CLI::App& parent, const std::string& name);
CLI::App* add_tag_to(CLI::App& parent, const std::string& name);
void add_push(CLI::App& app);
void add_login(CLI::App& app);
void add_logout(CLI::App& app);
void add_version(CLI::App& app);
void add_info(CLI::App& app);
void add_exec(CLI::App& app);
void add_healthcheck(CLI::App& app);  // `bock healthcheck run`
// Detached containers (docs/monitor.md).
void add_create(CLI::App& app);
void add_start(CLI::App& app);
void add_stop(CLI::App& app);
void add_kill(CLI::App& app);
void add_restart(CLI::App& app);
void add_wait(CLI::App& app);
void add_logs(CLI::App& app);
void add_attach(CLI::App& app);
void add_container(CLI::App& app);
void add_system(CLI::App& app);
void add_volume(CLI::App& app);
void add_compose(CLI::App& app);  // `bock compose ...` = `bockrose ...` (compose/, docs/compose.md)  // `bock volume create|ls|inspect|rm|prune` (issue 17)
// The prune commands' question; true when the answer is yes (cli/cmd_prune.cpp).
bool confirmed(const std::string& what);

// Usage errors (cli/usage.cpp). usage_line: "Usage: bock CMD ..." for a
// command; usage_error logs the message and that line and returns 125.
std::string usage_line(const CLI::App* cmd);
int usage_error(const CLI::App* cmd, const std::string& message);
// Up to three commands of `app` close to a mistyped `word`.
std::vector<std::string> closest_commands(const CLI::App& app, const std::string& word);
// podman's commands not built yet: each says so, naming the work that brings it.
void add_not_built(CLI::App& app);
// Puts every command in podman's help groups (Containers, Images, ...).
void group_commands(CLI::App& app);

// Runs fn, turning an Error into one line (+ hint) and its exit status.
template <class F>
void guarded(F&& fn);

// Runs fn(id) -> Result<std::string> for each container the user named, in
// order: a success prints the string (the id as typed, as podman does), a
// failure is reported and makes the exit status 125; the others still run.
template <class F>
int each_container(const std::vector<std::string>& ids, F&& fn);

}  // namespace bock::cli

#include "bock/common/log.hpp"

template <class F>
void bock::cli::guarded(F&& fn) {
    auto r = fn();
    if (!r) {
        log::report(r.error());
        exit_code = r.error().exit_status();
    } else {
        exit_code = *r;
    }
}

template <class F>
int bock::cli::each_container(const std::vector<std::string>& ids, F&& fn) {
    int rc = 0;
    for (const auto& id : ids) {
        auto r = fn(id);
        if (!r) {
            log::report(r.error());
            rc = 125;
        } else {
            fmt::print("{}\n", *r);
        }
    }
    return rc;
}

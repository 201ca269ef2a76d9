// `bock compose` and `bockrose` (the same code: main.cpp dispatches on
// argv[0]): Compose files, daemonless (compose/, docs/compose.md).
//   bockrose [-f FILE]... [-p NAME] [--project-directory DIR] [--env-file F]
//            up|down|ps|logs|config|start|stop|restart|kill|rm|build|exec|ls|create|
//            pause|unpause|top|port|images|wait|pull|push|events ...
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>

#include "bock/builder/build.hpp"
#include "bock/common/strings.hpp"
#include "bock/compose/project.hpp"
#include "bock/engine/exec.hpp"
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

namespace {

struct Global {
    compose::LoadOptions load;
    bool ignore_limits = false;
};

// The project, or its error.
Result<compose::Project> load(const Global& g) {
    auto p = BOCK_TRY(compose::load_project(g.load));
    p.ignore_limits = g.ignore_limits;
    return p;
}

template <class F>
void with_project(const std::shared_ptr<Global>& g, F&& fn) {
    guarded([&]() -> Result<int> {
        auto p = BOCK_TRY(load(*g));
        auto ctx = BOCK_TRY(engine::open_context());
        return fn(ctx, p);  // p is this call's own copy: --scale may change it
    });
}

// A subcommand of the named services (default all): `act` runs with the
// project loaded and the services given; its own flags are added by the
// caller on the returned command, bound to values `act` captured.
using ServicesAction =
    std::function<Result<int>(engine::Context&, const compose::Project&, const std::vector<std::string>&)>;
CLI::App* add_services_command(CLI::App& parent, const std::shared_ptr<Global>& g, const std::string& name,
                               const std::string& help, ServicesAction act) {
    auto* cmd = parent.add_subcommand(name, help);
    auto services = std::make_shared<std::vector<std::string>>();
    cmd->add_option("SERVICE", *services, "Only these services");
    cmd->callback([=] {
        with_project(g, [&](engine::Context& ctx, const compose::Project& p) { return act(ctx, p, *services); });
    });
    return cmd;
}

// -t's value: the services' own grace periods when not given.
std::optional<int> timeout_of(int t) { return t >= 0 ? std::optional<int>(t) : std::nullopt; }

void add_up(CLI::App& parent, const std::shared_ptr<Global>& g) {
    auto* cmd = parent.add_subcommand("up", "Create and start the services' containers (dependencies first)");
    auto o = std::make_shared<compose::UpOptions>();
    cmd->add_flag("-d,--detach", o->detach, "Start and return (else: follow the logs; Ctrl-C stops the project)");
    cmd->add_flag("--build", o->build, "Build the images of services with `build` first");
    cmd->add_flag("--force-recreate", o->force_recreate, "Recreate the containers even if their config is unchanged");
    cmd->add_flag("--no-recreate", o->no_recreate, "Keep existing containers even if their config changed");
    cmd->add_flag("--no-deps", o->no_deps, "Do not start the services the named ones depend on");
    cmd->add_flag("--remove-orphans", o->remove_orphans, "Remove the containers of services no longer in the file");
    cmd->add_flag("--wait", o->wait, "Wait until the services are running and healthy (implies -d)");
    cmd->add_option("--wait-timeout", o->wait_timeout, "Seconds --wait waits at most (default: no limit)");
    cmd->add_flag("--abort-on-container-exit", o->abort_on_container_exit,
                  "Stop the project when any container stops (attached up); exit with its code");
    auto scale = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--scale", *scale, "SERVICE=N: run N containers of the service (over deploy.replicas)")
        ->allow_extra_args(false);
    cmd->add_option("SERVICE", o->services, "Services to start (default: all), with their dependencies");
    cmd->add_option("--exit-code-from", o->exit_code_from,
                    "Exit with this service's container's code (implies --abort-on-container-exit)");
    cmd->callback([=] {
        g->load.named = o->services;
        if (!o->exit_code_from.empty()) o->abort_on_container_exit = true;
        if (o->wait) o->detach = true;
        if (o->detach && o->abort_on_container_exit) {
            exit_code = usage_error(cmd, "--abort-on-container-exit and -d cannot be combined");
            return;
        }
        if (o->force_recreate && o->no_recreate) {
            exit_code = usage_error(cmd, "--force-recreate and --no-recreate cannot be combined");
            return;
        }
        with_project(g, [&](engine::Context& ctx, compose::Project& p) -> Result<int> {
            for (const auto& sc : *scale) {
                auto eq = sc.find('=');
                auto it = p.services.find(sc.substr(0, eq));
                char* end = nullptr;
                long n = eq == std::string::npos ? -1 : std::strtol(sc.c_str() + eq + 1, &end, 10);
                if (it == p.services.end() || n < 0 || *end)
                    return make_error("--scale {}: expected SERVICE=N with a service of the project", sc)
                        .with_hint("e.g. --scale worker=3");
                it->second.replicas = static_cast<int>(n);
            }
            return compose::up(ctx, p, *o);
        });
    });
}

void add_down(CLI::App& parent, const std::shared_ptr<Global>& g) {
    auto* cmd = parent.add_subcommand("down", "Stop and remove the project's containers and networks (-v: volumes)");
    auto o = std::make_shared<compose::DownOptions>();
    auto t = cmd->add_option("-t,--timeout", "Seconds to wait for each container to stop (default: its stop_grace_period)");
    cmd->add_flag("-v,--volumes", o->volumes, "Remove the named volumes declared in the file and anonymous ones");
    cmd->add_flag("--remove-orphans", o->remove_orphans, "Remove the containers of services no longer in the file");
    cmd->add_option("--rmi", o->rmi, "Also remove images: all (every service's) or local (the built ones)")
        ->check(CLI::IsMember({"all", "local"}));
    cmd->callback([=] {
        if (t->count()) o->timeout = t->as<int>();
        guarded([&]() -> Result<int> {
            auto p = load(*g);
            // `down -p NAME` without the file: the project as its containers'
            // labels know it (all of them orphans), and its default network.
            if (!p && p.error().code() == ENOENT && !g->load.project_name.empty() && g->load.files.empty()) {
                compose::Project bare;
                bare.name = g->load.project_name;
                bare.networks["default"] = compose::NetworkDecl{bare.name + "_default", false, false, {}};
                p = std::move(bare);
                o->remove_orphans = true;
            }
            if (!p) return std::move(p.error());
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(compose::down(ctx, *p, *o));
            return 0;
        });
    });
}

void add_ps(CLI::App& parent, const std::shared_ptr<Global>& g) {
    auto* cmd = parent.add_subcommand("ps", "List the project's containers");
    auto all = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    auto services = std::make_shared<std::vector<std::string>>();
    cmd->add_flag("-a,--all", *all, "Also stopped containers");
    cmd->add_option("--format", *format, "table (default) or json");
    cmd->add_option("SERVICE", *services, "Only these services");
    cmd->callback([=] {
        if (*format != "table" && *format != "json") {
            exit_code = usage_error(cmd, "--format: expected table or json, not `" + *format + "`");
            return;
        }
        with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
            BOCK_TRY(compose::print_ps(ctx, p, *services, *all, *format == "json"));
            return 0;
        });
    });
}

void add_logs(CLI::App& parent, const std::shared_ptr<Global>& g) {
    auto* cmd = parent.add_subcommand("logs", "Show the services' logs, each line prefixed with its container");
    auto o = std::make_shared<engine::LogsOptions>();
    auto services = std::make_shared<std::vector<std::string>>();
    auto tail = cmd->add_option("-n,--tail", "Lines from the end of each log (default: all)");
    cmd->add_flag("-f,--follow", o->follow, "Follow until the containers stop");
    cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
    cmd->add_option("SERVICE", *services, "Only these services");
    cmd->callback([=] {
        if (tail->count() && tail->as<std::string>() != "all") o->tail = tail->as<size_t>();
        with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
            BOCK_TRY(compose::print_logs(ctx, p, *services, *o));
            return 0;
        });
    });
}

void add_config(CLI::App& parent, const std::shared_ptr<Global>& g) {
    auto* cmd = parent.add_subcommand("config", "Print the normalised, merged and interpolated model");
    auto format = std::make_shared<std::string>("yaml");
    auto services = std::make_shared<bool>(false), volumes = std::make_shared<bool>(false);
    auto hash = std::make_shared<std::string>();
    cmd->add_option("--format", *format, "yaml (default) or json");
    cmd->add_flag("--services", *services, "Print the service names, one a line");
    cmd->add_flag("--volumes", *volumes, "Print the volume names, one a line");
    cmd->add_option("--hash", *hash, "Print the config hash of these services (SERVICE,... or *)");
    cmd->callback([=] {
        if (*format != "yaml" && *format != "json") {
            exit_code = usage_error(cmd, "--format: expected yaml or json, not `" + *format + "`");
            return;
        }
        guarded([&]() -> Result<int> {
            auto p = BOCK_TRY(load(*g));
            if (*services) {
                for (const auto& [k, s] : p.services) fmt::print("{}\n", k);
            } else if (*volumes) {
                for (const auto& [k, v] : p.volumes) fmt::print("{}\n", k);
            } else if (!hash->empty()) {
                for (const auto& [k, s] : p.services) {
                    auto want = strings::split(*hash, ',');
                    if (*hash != "*" && std::find(want.begin(), want.end(), k) == want.end()) continue;
                    fmt::print("{} {}\n", k, s.config_hash());
                }
            } else if (*format == "json") {
                fmt::print("{}\n", p.to_json().dump(2));
            } else {
                fmt::print("{}", compose::to_yaml(p.to_json()));
            }
            return 0;
        });
    });
}

// stop / restart / kill / rm / start: the named services (default all).
void add_simple(CLI::App& parent, const std::shared_ptr<Global>& g) {
    const char* timeout_help = "Seconds before SIGKILL (default: each service's stop_grace_period)";
    auto stop_t = std::make_shared<int>(-1);
    add_services_command(parent, g, "stop", "Stop the services' containers (dependants first)",
                         [stop_t](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::stop(ctx, p, s, timeout_of(*stop_t)));
                             return 0;
                         })
        ->add_option("-t,--timeout", *stop_t, timeout_help);
    add_services_command(parent, g, "start", "Start the services' existing containers (dependencies first)",
                         [](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::start(ctx, p, s));
                             return 0;
                         });
    auto restart_t = std::make_shared<int>(-1);
    add_services_command(parent, g, "restart", "Stop, then start the services' containers",
                         [restart_t](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::stop(ctx, p, s, timeout_of(*restart_t)));
                             BOCK_TRY(compose::start(ctx, p, s));
                             return 0;
                         })
        ->add_option("-t,--timeout", *restart_t, timeout_help);
    auto sig = std::make_shared<std::string>("SIGKILL");
    add_services_command(parent, g, "kill", "Send a signal to the services' containers",
                         [sig](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             int n = BOCK_TRY(engine::parse_signal_name(*sig));
                             BOCK_TRY(compose::kill(ctx, p, s, n));
                             return 0;
                         })
        ->add_option("-s,--signal", *sig, "The signal (default SIGKILL)");
    auto force = std::make_shared<bool>(false), stop_first = std::make_shared<bool>(false);
    auto* rm = add_services_command(parent, g, "rm", "Remove the services' stopped containers",
                                    [force, stop_first](engine::Context& ctx, const compose::Project& p,
                                                        const auto& s) -> Result<int> {
                                        if (*stop_first) BOCK_TRY(compose::stop(ctx, p, s, std::nullopt));
                                        BOCK_TRY(compose::remove(ctx, p, s, *force));
                                        return 0;
                                    });
    rm->add_flag("-f,--force", *force, "Also running ones (killed)");
    rm->add_flag("-s,--stop", *stop_first, "Stop them first");
}

void add_exec_build(CLI::App& parent, const std::shared_ptr<Global>& g) {
    {
        auto* cmd = parent.add_subcommand("exec", "Run a command in a service's running container");
        auto req = std::make_shared<engine::ExecRequest>();
        auto index = std::make_shared<int>(1);
        auto no_tty = std::make_shared<bool>(false);
        cmd->add_flag("-T,--no-TTY", *no_tty, "No terminal (the default when stdin is not one)");
        cmd->add_flag("-d,--detach", req->detach, "Return once the process runs");
        cmd->add_option("-e,--env", req->env, "Set an environment variable (K=V)")->allow_extra_args(false);
        auto* u = cmd->add_option("-u,--user", "UID[:GID] or NAME[:GROUP]");
        auto* w = cmd->add_option("-w,--workdir", "Working directory inside the container");
        cmd->add_option("--index", *index, "Which replica (default 1)");
        cmd->prefix_command();
        cmd->footer("Usage: bockrose exec [OPTIONS] SERVICE COMMAND [ARG...]");
        cmd->callback([=] {
            auto rest = cmd->remaining();
            if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
            if (rest.size() < 2) {
                exit_code = usage_error(cmd, "exec: a service and a command are required");
                return;
            }
            if (u->count()) req->user = u->as<std::string>();
            if (w->count()) req->workdir = w->as<std::string>();
            bool term = !*no_tty && !req->detach && ::isatty(0) && ::isatty(1);
            req->tty = term;
            req->interactive = term;
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
                auto it = p.services.find(rest[0]);
                if (it == p.services.end())
                    return make_error("no such service: {}", rest[0]).with_hint("`bockrose config --services` lists them");
                req->container = compose::container_name(p, it->second, *index);
                req->args.assign(rest.begin() + 1, rest.end());
                return engine::exec_in_container(ctx, *req);
            });
        });
    }
    {
        auto* cmd = parent.add_subcommand("run", "Run a one-off command in a new container of a service");
        auto o = std::make_shared<compose::RunOptions>();
        auto no_tty = std::make_shared<bool>(false);
        auto* ep = cmd->add_option("--entrypoint", "Override the service's entrypoint");
        auto* nm = cmd->add_option("--name", "The container's name (default: PROJECT-SERVICE-run-XXXXXX)");
        cmd->add_flag("--rm", o->remove, "Remove the container when it exits");
        cmd->add_flag("-d,--detach", o->detach, "Run in the background; print the container's name");
        cmd->add_flag("--no-deps", o->no_deps, "Do not start the services it depends on");
        cmd->add_flag("-T,--no-TTY", *no_tty, "No terminal (the default when stdin is not one)");
        cmd->add_option("-e,--env", o->env, "Set an environment variable (K=V)")->allow_extra_args(false);
        cmd->prefix_command();
        cmd->footer("Usage: bockrose run [OPTIONS] SERVICE [COMMAND [ARG...]]\n"
                    "Exit status: the command's; 125 if bockrose failed.");
        cmd->callback([=] {
            auto rest = cmd->remaining();
            if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
            if (rest.empty()) {
                exit_code = usage_error(cmd, "run: a service is required");
                return;
            }
            o->service = rest[0];
            g->load.named = {rest[0]};
            o->command.assign(rest.begin() + 1, rest.end());
            if (ep->count()) o->entrypoint = ep->as<std::string>();
            if (nm->count()) o->name = nm->as<std::string>();
            o->terminal = !*no_tty && ::isatty(0) && ::isatty(1);
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) { return compose::run_oneoff(ctx, p, *o); });
        });
    }
    {
        auto* cmd = parent.add_subcommand("build", "Build the images of services with `build`");
        auto services = std::make_shared<std::vector<std::string>>();
        cmd->add_option("SERVICE", *services, "Only these services");
        cmd->callback([=] {
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
                for (const auto& [name, s] : p.services) {
                    if (!services->empty() && std::find(services->begin(), services->end(), name) == services->end()) continue;
                    if (!s.build) continue;
                    builder::BuildRequest req;
                    req.context = s.build->context;
                    if (!s.build->dockerfile.empty()) req.file = s.build->context + "/" + s.build->dockerfile;
                    req.target = s.build->target;
                    req.build_args = s.build->args;
                    req.tags = {s.image_name(p.name)};
                    req.progress = [&](std::string_view line) { fmt::print("[{}] {}\n", name, line); };
                    auto r = BOCK_TRY_CTX(builder::build(ctx, req), fmt::format("service `{}`: build", name));
                    fmt::print("{} {}\n", req.tags[0], r.image_id.substr(0, 12));
                }
                return 0;
            });
        });
    }
    {
        auto* cmd = parent.add_subcommand("ls", "List the projects that have containers");
        auto json = std::make_shared<std::string>("table");
        cmd->add_option("--format", *json, "table (default) or json");
        cmd->callback([=] {
            guarded([&]() -> Result<int> {
                auto ctx = BOCK_TRY(engine::open_context());
                std::map<std::string, std::pair<int, int>> projects;  // running, all
                std::map<std::string, std::string> files;
                for (const auto& c : BOCK_TRY(engine::list_containers(ctx))) {
                    auto it = c.rec.labels.find(compose::kProjectLabel);
                    if (it == c.rec.labels.end()) continue;
                    auto& [running, all] = projects[it->second];
                    ++all;
                    if (c.status == "running") ++running;
                    if (auto f = c.rec.labels.find("com.docker.compose.project.config_files"); f != c.rec.labels.end())
                        files[it->second] = f->second;
                }
                if (*json == "json") {
                    auto arr = nlohmann::json::array();
                    for (const auto& [name, n] : projects)
                        arr.push_back({{"Name", name}, {"Status", fmt::format("running({})", n.first)}, {"ConfigFiles", files[name]}});
                    fmt::print("{}\n", arr.dump(2));
                    return 0;
                }
                fmt::print("{:<24} {:<20} {}\n", "NAME", "STATUS", "CONFIG FILES");
                for (const auto& [name, n] : projects)
                    fmt::print("{:<24} {:<20} {}\n", name, fmt::format("running({}/{})", n.first, n.second), files[name]);
                return 0;
            });
        });
    }
}

// create, pause/unpause, top, port, images, wait, pull, push, events:
// one engine operation each (compose/src/ops.cpp).
void add_ops(CLI::App& parent, const std::shared_ptr<Global>& g) {
    {
        auto* cmd = parent.add_subcommand("create", "Create the services' containers without starting them");
        auto o = std::make_shared<compose::UpOptions>();
        o->no_start = true;
        o->detach = true;
        cmd->add_flag("--build", o->build, "Build the images of services with `build` first");
        cmd->add_flag("--force-recreate", o->force_recreate, "Recreate the containers even if their config is unchanged");
        cmd->add_flag("--no-recreate", o->no_recreate, "Keep existing containers even if their config changed");
        cmd->add_flag("--remove-orphans", o->remove_orphans, "Remove the containers of services no longer in the file");
        cmd->add_option("SERVICE", o->services, "Services to create (default: all), with their dependencies");
        cmd->callback([=] {
            g->load.named = o->services;
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) { return compose::up(ctx, p, *o); });
        });
    }
    for (bool freeze : {true, false})
        add_services_command(parent, g, freeze ? "pause" : "unpause",
                             freeze ? "Freeze the services' running containers" : "Thaw the services' paused containers",
                             [freeze](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                                 BOCK_TRY(compose::pause(ctx, p, s, freeze));
                                 return 0;
                             });
    add_services_command(parent, g, "top", "Display the processes of the services' running containers",
                         [](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::print_top(ctx, p, s));
                             return 0;
                         });
    {
        auto* cmd = parent.add_subcommand("port", "Print the host address a service's port is published on");
        auto service = std::make_shared<std::string>(), port = std::make_shared<std::string>();
        auto protocol = std::make_shared<std::string>("tcp");
        auto index = std::make_shared<int>(1);
        cmd->add_option("SERVICE", *service, "The service")->required();
        cmd->add_option("PRIVATE_PORT", *port, "The container's port")->required();
        cmd->add_option("--protocol", *protocol, "tcp (default) or udp");
        cmd->add_option("--index", *index, "Which replica (default 1)");
        cmd->callback([=] {
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
                BOCK_TRY(compose::print_port(ctx, p, *service, *port, *protocol, *index));
                return 0;
            });
        });
    }
    add_services_command(parent, g, "images", "List the images the services' containers use",
                         [](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::print_images(ctx, p, s));
                             return 0;
                         });
    add_services_command(parent, g, "wait", "Wait until the services' containers exit; print their exit codes",
                         [](engine::Context& ctx, const compose::Project& p, const auto& s) {
                             return compose::wait(ctx, p, s);
                         })
        ->footer("Exit status: the first non-zero exit code, else 0.");
    auto ignore = std::make_shared<bool>(false);
    add_services_command(parent, g, "pull", "Pull the services' images (all at once)",
                         [ignore](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::pull(ctx, p, s, *ignore));
                             return 0;
                         })
        ->add_flag("--ignore-pull-failures", *ignore, "Pull what can be pulled; exit 0");
    add_services_command(parent, g, "push", "Push the services' images to their registries",
                         [](engine::Context& ctx, const compose::Project& p, const auto& s) -> Result<int> {
                             BOCK_TRY(compose::push(ctx, p, s));
                             return 0;
                         });
    {
        auto* cmd = parent.add_subcommand("events", "Print the events of the project's containers (follows)");
        auto json = std::make_shared<bool>(false), no_follow = std::make_shared<bool>(false);
        cmd->add_flag("--json", *json, "One JSON object a line");
        cmd->add_flag("--no-follow", *no_follow, "Print the past events and return (bockrose's addition)");
        cmd->callback([=] {
            with_project(g, [&](engine::Context& ctx, const compose::Project& p) -> Result<int> {
                BOCK_TRY(compose::print_events(ctx, p, *json, !*no_follow));
                return 0;
            });
        });
    }
}

}  // namespace

void add_compose(CLI::App& app) {
    auto* cmd = app.add_subcommand("compose", "Run multi-container projects from Compose files (also: bockrose)");
    cmd->require_subcommand(1);
    auto g = std::make_shared<Global>();
    cmd->add_option("-f,--file", g->load.files, "Compose file (repeatable, merged in order; default: compose.yaml, ... "
                                                "and its override; or $COMPOSE_FILE)")
        ->allow_extra_args(false);
    cmd->add_option("-p,--project-name", g->load.project_name,
                    "Project name (default: $COMPOSE_PROJECT_NAME, the file's `name:`, else the directory's name)");
    cmd->add_option("--project-directory", g->load.project_directory, "Base directory of relative paths (default: the first file's)");
    cmd->add_option("--env-file", g->load.env_files, "Variables for interpolation (default: PROJECT_DIR/.env)")
        ->allow_extra_args(false);
    cmd->add_option("--profile", g->load.profiles, "Enable the services of this profile (repeatable; also $COMPOSE_PROFILES)")
        ->allow_extra_args(false);
    cmd->add_flag("--ignore-limits", g->ignore_limits,
                  "Run without deploy.resources.limits where they cannot be enforced (warned; as bock run --ignore-limits)");
    cmd->footer("Docs: docs/compose.md. `bockrose ARGS` is `bock compose ARGS`.");
    add_up(*cmd, g);
    add_down(*cmd, g);
    add_ps(*cmd, g);
    add_logs(*cmd, g);
    add_config(*cmd, g);
    add_simple(*cmd, g);
    add_exec_build(*cmd, g);
    add_ops(*cmd, g);
    cmd->add_subcommand("version", "Print bockrose's version")->callback([] {
        fmt::print("bockrose version {} (bock compose)\n", BOCK_VERSION);
    });
}

}  // namespace bock::cli

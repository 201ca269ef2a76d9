#include "bock/engine/run.hpp"
#include "commands.hpp"
#include "bock/engine/images.hpp"
#include "health_flags.hpp"
#include "progress.hpp"

namespace bock::cli {
namespace {

int unknown_run_flag(const CLI::App* cmd, const std::string& flag) {
    std::string name = flag.substr(0, flag.find('='));
    // -i, -t and their bundles (-it, -ti, -dit...) and long forms.
    bool interactive = name == "--interactive" || name == "--tty" || name == "--detach" ||
                       (!name.starts_with("--") && name.size() > 1 &&
                        name.find_first_not_of("itd", 1) == std::string::npos);
    if (interactive) {
        log::error("run: -i/--interactive, -t/--tty and -d/--detach are not built yet (they come with the monitor "
                   "work, issue 16)");
        return 125;
    }
    return usage_error(cmd, "unknown flag: " + name);
}

}  // namespace

void add_run(CLI::App& app) {
    auto req = std::make_shared<engine::RunRequest>();
    auto* cmd = app.add_subcommand("run", "Run a command in a new container (foreground)");
    cmd->add_flag("--rm", req->remove, "Remove the container when it exits");
    cmd->add_option("-e,--env", req->env, "Set an environment variable (K=V, or K to copy it)")->take_all();
    auto* w = cmd->add_option("-w,--workdir", "Working directory inside the container");
    auto* u = cmd->add_option("-u,--user", "UID[:GID] or NAME[:GROUP] to run as");
    auto* h = cmd->add_option("--hostname", "Container host name (default: the short id)");
    auto* ep = cmd->add_option("--entrypoint", "Override the image's entrypoint");
    cmd->add_option("--network,--net", req->network,
                    "none, host, slirp4netns[:allow_host_loopback=true], container:NAME or ns:PATH "
                    "(default rootless: slirp4netns; root: none)");
    cmd->add_option("-p,--publish", req->publish, "Publish a port: [IP:][HOST:]CONTAINER[/tcp|udp]")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns", req->dns, "A nameserver for /etc/resolv.conf (default 10.0.2.3)")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-search", req->dns_search, "A search domain for /etc/resolv.conf")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-option", req->dns_option, "An option for /etc/resolv.conf")->take_all()->allow_extra_args(false);
    cmd->add_option("--add-host", req->add_host, "NAME:IP in /etc/hosts")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-upstream", req->dns_upstream,
                    "Where 10.0.2.3 forwards DNS: ADDR[:PORT] (default $BOCK_DNS_UPSTREAM, else the host's resolvers)");
    auto pull = std::make_shared<std::string>("missing");
    cmd->add_option("--pull", *pull, "Pull the image: missing (default), always, never")
        ->check(CLI::IsMember({"missing", "always", "never"}));
    cmd->add_option("-l,--label", req->labels, "Set a label on the container (K=V)")->allow_extra_args(false);
    add_health_flags(cmd, req->health);
    cmd->prefix_command();  // IMAGE and everything after it belong to the container
    cmd->footer("Usage: bock run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
                "Exit status: the command's; 125 if bock failed, 126 if the command cannot be\n"
                "executed, 127 if it is not found.");
    cmd->callback([=] {
        auto rest = cmd->remaining();
        if (rest.empty()) {
            log::error("run: an image name is required");
            log::notice("usage: bock run [OPTIONS] IMAGE [COMMAND [ARG...]]");
            exit_code = 125;
            return;
        }
        // prefix_command() stops at the first argument it does not know, so
        // an unknown flag before IMAGE arrives here: name it, as podman does.
        if (rest[0].starts_with("-")) {
            exit_code = unknown_run_flag(cmd, rest[0]);
            return;
        }
        req->image = rest[0];
        req->args.assign(rest.begin() + 1, rest.end());
        if (w->count()) req->workdir = w->as<std::string>();
        if (u->count()) req->user = u->as<std::string>();
        if (h->count()) req->hostname = h->as<std::string>();
        if (ep->count()) req->entrypoint = ep->as<std::string>();
        guarded([&]() -> Result<int> {
            auto policy = BOCK_TRY(engine::parse_pull_policy(*pull));
            auto ctx = BOCK_TRY(engine::open_context());
            PullProgress progress(PullProgress::detect(false));
            BOCK_TRY(engine::ensure_image(ctx, req->image, policy, progress.hooks()));
            return engine::run_container(ctx, *req);
        });
    });
}

}  // namespace bock::cli

#include "container_flags.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "bock/common/fd.hpp"
#include "commands.hpp"
#include "container_flags_security.hpp"
#include "health_flags.hpp"

namespace bock::cli {

std::shared_ptr<ContainerFlags> add_container_flags(CLI::App* cmd, bool run) {
    auto f = std::make_shared<ContainerFlags>();
    auto& req = f->req;
    cmd->add_flag("--rm", req.remove, "Remove the container when it exits");
    cmd->add_option("-e,--env", req.env, "Set an environment variable (K=V, or K to copy it)")->take_all();
    f->workdir = cmd->add_option("-w,--workdir", "Working directory inside the container");
    f->user = cmd->add_option("-u,--user", "UID[:GID] or NAME[:GROUP] to run as");
    f->hostname = cmd->add_option("--hostname", "Container host name (default: the short id)");
    f->entrypoint = cmd->add_option("--entrypoint", "Override the image's entrypoint");
    f->name = cmd->add_option("--name", "Name of the container (unique; generated otherwise)");
    cmd->add_option("--pull", f->pull, "Pull the image: missing (default), always, never")
        ->check(CLI::IsMember({"missing", "always", "never"}));
    if (run) {
        cmd->add_flag("-d,--detach", req.detach, "Run in the background under a monitor and print the id");
        cmd->add_option("--detach-keys", f->detach_keys, "Keys that detach from the container's terminal (default ctrl-p,ctrl-q)");
    }
    cmd->add_flag("-i,--interactive", req.interactive, "Keep stdin open (attach sends it to the container)");
    cmd->add_flag("-t,--tty", req.tty, "Give the container a terminal (a pty)");
    cmd->add_option("--restart", req.restart, "Restart policy: no, on-failure[:N], always, unless-stopped");
    f->stop_signal = cmd->add_option("--stop-signal", "Signal `bock stop` sends first (default SIGTERM)");
    f->stop_timeout = cmd->add_option("--stop-timeout", "Seconds `bock stop` waits before SIGKILL (default 10)");
    cmd->add_option("--cidfile", f->cidfile, "Write the container's id to this file");
    cmd->add_option("--log-driver", req.log_driver, "json-file (default), none or passthrough");
    cmd->add_option("--log-opt", req.log_opts, "Log driver option: max-size=SIZE (rotate at SIZE)")->allow_extra_args(false);
    cmd->add_flag("--init", req.init, "Run Bock's minimal init as PID 1 (reaps zombies, forwards signals)");
    cmd->add_option("--network,--net", req.network,
                    "none, host, slirp4netns[:allow_host_loopback=true], container:NAME, ns:PATH, bridge (root: "
                    "the network `bock` on a host bridge, made on first use), or the NAME of a service network "
                    "(repeatable for several; default rootless: slirp4netns; root: bridge)")
        ->multi_option_policy(CLI::MultiOptionPolicy::Join)
        ->delimiter(',');
    add_svcnet_flags(cmd, req);
    cmd->add_option("-p,--publish", req.publish, "Publish a port: [IP:][HOST:]CONTAINER[/tcp|udp], ports or ranges (8080-8081:80-81) (slirp4netns, or a service network: to the container's address on its first network)")->take_all()->allow_extra_args(false);
    cmd->add_flag("-P,--publish-all", req.publish_all, "Publish every port the image exposes to a free port of the host's");
    cmd->add_option("--dns", req.dns, "A nameserver for /etc/resolv.conf (default 10.0.2.3)")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-search", req.dns_search, "A search domain for /etc/resolv.conf")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-option", req.dns_option, "An option for /etc/resolv.conf")->take_all()->allow_extra_args(false);
    cmd->add_option("--add-host", req.add_host, "NAME:IP in /etc/hosts")->take_all()->allow_extra_args(false);
    cmd->add_option("--dns-upstream", req.dns_upstream,
                    "Where 10.0.2.3 forwards DNS: ADDR[:PORT] (default $BOCK_DNS_UPSTREAM, else the host's resolvers)");
    cmd->add_option("-l,--label", req.labels, "Set a label on the container (K=V)")->allow_extra_args(false);
    add_health_flags(cmd, req.health);
    add_volume_flags(cmd, req);
    add_security_flags(cmd, req.security);
    add_userns_limit_flags(cmd, req);
    cmd->prefix_command();  // IMAGE and everything after it belong to the container
    return f;
}

int finish_container_flags(CLI::App* cmd, ContainerFlags& f, const char* verb) {
    auto rest = cmd->remaining();
    if (rest.empty()) {
        log::error("{}: an image name is required", verb);
        log::notice(fmt::format("usage: bock {} [OPTIONS] IMAGE [COMMAND [ARG...]]", verb));
        return 125;
    }
    // prefix_command() stops at the first argument it does not know, so
    // an unknown flag before IMAGE arrives here: name it, as podman does.
    if (rest[0].starts_with("-")) return usage_error(cmd, "unknown flag: " + rest[0].substr(0, rest[0].find('=')));
    auto& req = f.req;
    req.image = rest[0];
    req.args.assign(rest.begin() + 1, rest.end());
    if (f.workdir->count()) req.workdir = f.workdir->as<std::string>();
    if (f.user->count()) req.user = f.user->as<std::string>();
    if (f.hostname->count()) req.hostname = f.hostname->as<std::string>();
    if (f.entrypoint->count()) req.entrypoint = f.entrypoint->as<std::string>();
    if (f.name->count()) req.name = f.name->as<std::string>();
    if (f.stop_signal->count()) req.stop_signal = f.stop_signal->as<std::string>();
    if (f.stop_timeout->count()) req.stop_timeout = f.stop_timeout->as<int>();
    return 0;
}

Result<void> write_cidfile(const std::string& path, const std::string& id) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return make_error("--cidfile `{}` already exists", path).with_hint("remove it, or name another file");
        return errno_error("--cidfile `{}`", path);
    }
    Fd f(fd);
    if (::write(fd, id.data(), id.size()) != static_cast<ssize_t>(id.size())) return errno_error("write `{}`", path);
    return ok();
}

}  // namespace bock::cli

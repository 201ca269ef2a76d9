// `bock exec` (exec.hpp): the container's own process settings from its
// bundle's config.json, changed by the flags, run by the runtime library's
// exec in the container's namespaces and cgroups.
#include "bock/engine/exec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/containers.hpp"
#include "bock/runtime/exec.hpp"
#include "bock/runtime/features.hpp"
#include "bock/runtime/spec.hpp"
#include "container_dirs.hpp"
#include "running.hpp"
#include "user_lookup.hpp"

namespace bock::engine {
namespace {


// K=V as is; K alone takes bock's own value, and is skipped when bock has none.
void add_env(std::vector<std::string>& env, const std::string& e, std::string_view flag) {
    if (e.find('=') != std::string::npos) {
        strings::set_env(env, e);
    } else if (const char* v = std::getenv(e.c_str())) {
        strings::set_env(env, e + "=" + v);
    } else {
        log::debug("{} {}: not set in bock's environment, skipped", flag, e);
    }
}

}  // namespace

Result<runtime::ContainerState> running_state(const Context& ctx, const ContainerInfo& c) {
    std::string short_id = c.rec.id.substr(0, 12);
    if (c.status != "running")
        return make_error("container {} is not running (status: {})", short_id, c.status)
            .with_hint(fmt::format("start a container first; `bock ps -a` shows {}", short_id));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    auto pid = container_pid(dirs, container_parent(c.rec));
    auto start = pid ? runtime::process_start_time(*pid) : std::nullopt;
    if (!pid || !start)
        return make_error("container {} has no running process (it is starting or has just ended)", short_id)
            .with_hint("try again in a moment, or see `bock ps -a`");
    runtime::ContainerState st;
    st.id = c.rec.id;
    st.bundle = dirs.bundle;
    st.pid = *pid;
    st.start_time = *start;
    st.rootless = ctx.rootless;
    st.owner = ::getuid();
    return st;
}

Result<std::vector<std::string>> read_env_file(const std::string& path) {
    auto text = BOCK_TRY_CTX(fs::read_file(path), "--env-file");
    std::vector<std::string> out;
    for (auto line : strings::split(text, '\n')) {
        auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        line.erase(0, first);
        if (line[0] == '=')
            return make_error("--env-file `{}`: `{}` has no variable name", path, line)
                .with_hint("each line is KEY=VALUE, KEY (taken from the environment) or a # comment");
        out.push_back(line);
    }
    return out;
}

Result<int> exec_in_container(Context& ctx, const ExecRequest& req) {
    if (req.args.empty())
        return make_error("exec: a command is needed").with_hint("bock exec [OPTIONS] CONTAINER COMMAND [ARG...]");
    auto c = BOCK_TRY(find_container(ctx, req.container));
    runtime::ContainerState st = BOCK_TRY(running_state(ctx, c));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);

    // The container's own process is where every setting starts from.
    runtime::Spec spec = BOCK_TRY_CTX(runtime::load_spec(dirs.bundle), fmt::format("exec in container {}", c.rec.id.substr(0, 12)));
    runtime::Process proc = spec.process;
    proc.args = req.args;
    proc.terminal = req.tty;
    proc.console_size.reset();
    for (const auto& file : req.env_files)
        for (const auto& e : BOCK_TRY(read_env_file(file))) add_env(proc.env, e, "--env-file");
    for (const auto& e : req.env) add_env(proc.env, e, "--env");
    if (req.user) {
        Fd rootfd = BOCK_TRY(sys::open(dirs.rootfs, O_PATH | O_DIRECTORY));
        auto user = BOCK_TRY_CTX(resolve_user(rootfd.get(), *req.user), "--user");
        proc.user.uid = user.uid;
        proc.user.gid = user.gid;
        proc.user.additional_gids = user.additional_gids;
    }
    if (req.workdir) {
        if (req.workdir->empty() || (*req.workdir)[0] != '/')
            return make_error("--workdir `{}` must be an absolute path", *req.workdir);
        proc.cwd = *req.workdir;
    }
    if (req.privileged) {
        auto caps = runtime::held_capabilities();
        proc.cap_bounding = proc.cap_effective = proc.cap_permitted = proc.cap_inheritable = caps;
    }

    runtime::ExecOptions opts;
    opts.rootless = ctx.rootless;
    opts.seccomp_cache_dir = fs::join(ctx.store_root, "seccomp-cache");  // as bock run's
    opts.detach = req.detach;
    opts.proxy_stdin = req.interactive;
    opts.timeout_ms = req.timeout_ms;
    Fd devnull;
    if (req.detach && req.output_fd < 0) {
        devnull = BOCK_TRY(sys::open("/dev/null", O_RDWR));
        opts.output_fd = devnull.get();
    } else {
        opts.output_fd = req.output_fd;
    }
    // Without -i the process must not read bock's stdin (Docker's exec):
    // it gets /dev/null instead.
    if (!req.interactive && !req.tty && opts.output_fd < 0) {
        auto null_in = BOCK_TRY(sys::open("/dev/null", O_RDONLY));
        if (::dup2(null_in.get(), 0) < 0) return errno_error("give the exec'd process /dev/null as stdin");
    }
    return runtime::exec_in_container(st, proc, opts);
}

}  // namespace bock::engine

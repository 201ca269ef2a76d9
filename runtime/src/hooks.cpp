// hooks.hpp: parsing and running OCI hooks.
#include "bock/runtime/hooks.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/fd.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/runtime/spec.hpp"
#include "hook_points.hpp"
#include "plan.hpp"

namespace bock::runtime {

namespace {

using nlohmann::json;

Result<std::vector<std::string>> strings(const json& h, const char* key, const std::string& field) {
    std::vector<std::string> out;
    if (!h.contains(key)) return out;
    const json& v = h[key];
    if (!v.is_array()) return make_error("{}.{}: must be an array of strings", field, key);
    for (const auto& s : v) {
        if (!s.is_string()) return make_error("{}.{}: must be an array of strings", field, key);
        out.push_back(s.get<std::string>());
    }
    return out;
}

Result<std::vector<Hook>> parse_list(const json& hooks, const char* kind) {
    std::vector<Hook> out;
    if (!hooks.contains(kind)) return out;
    const json& list = hooks[kind];
    if (!list.is_array()) return make_error("hooks.{}: must be an array", kind);
    for (size_t i = 0; i < list.size(); ++i) {
        std::string field = fmt::format("hooks.{}[{}]", kind, i);
        const json& h = list[i];
        if (!h.is_object()) return make_error("{}: must be an object", field);
        Hook hook;
        if (!h.contains("path") || !h["path"].is_string()) return make_error("{}.path: must be a string", field);
        hook.path = h["path"].get<std::string>();
        if (hook.path.empty() || hook.path[0] != '/')
            return make_error("{}.path: `{}` must be an absolute path", field, hook.path);
        hook.args = BOCK_TRY(strings(h, "args", field));
        hook.env = BOCK_TRY(strings(h, "env", field));
        if (h.contains("timeout")) {
            if (!h["timeout"].is_number_integer() || h["timeout"].get<int64_t>() <= 0)
                return make_error("{}.timeout: must be a positive number of seconds", field);
            hook.timeout = static_cast<int>(std::min<int64_t>(h["timeout"].get<int64_t>(), 1 << 20));
        }
        out.push_back(std::move(hook));
    }
    return out;
}

// The namespaces a hook may enter, user first (it grants the others).
constexpr std::pair<const char*, int> kJoinable[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},   {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},   {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
};

struct NsFd {
    Fd fd;
    int type;
};

Result<std::vector<NsFd>> namespaces_of(pid_t pid) {
    std::vector<NsFd> out;
    for (const auto& [name, type] : kJoinable) {
        std::string theirs = fmt::format("/proc/{}/ns/{}", pid, name);
        struct stat a, b;
        if (::stat(theirs.c_str(), &a) < 0) return errno_error("namespace `{}`", theirs);
        if (::stat(fmt::format("/proc/self/ns/{}", name).c_str(), &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            continue;
        out.push_back({BOCK_TRY(sys::open(theirs, O_RDONLY)), type});
    }
    return out;
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    return fmt::format("exit status {}", WEXITSTATUS(status));
}

// Waits for `pid` (with a pidfd) at most `timeout` seconds; kills it then.
Result<int> wait_hook(pid_t pid, std::optional<int> timeout, const Hook& h, const char* kind) {
    Fd pidfd = BOCK_TRY(sys::pidfd_open(pid));
    int ms = timeout ? *timeout * 1000 : -1;
    for (;;) {
        struct pollfd p = {pidfd.get(), POLLIN, 0};
        int r = ::poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) {
            ::kill(pid, SIGKILL);
            (void)::waitpid(pid, nullptr, 0);
            return make_error("{} hook `{}`: timed out after {} s (killed)", kind, h.path, *timeout);
        }
        break;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return errno_error("wait for the {} hook `{}`", kind, h.path);
    return status;
}

Result<void> run_one(const Hook& h, const char* kind, const std::string& state, pid_t ns_pid) {
    // stdin: the state in a memfd (no pipe to block on or SIGPIPE to catch).
    Fd in(::memfd_create("bock-hook-state", MFD_CLOEXEC));
    if (!in) return errno_error("memfd_create");
    if (::write(in.get(), state.data(), state.size()) != static_cast<ssize_t>(state.size()) ||
        ::lseek(in.get(), 0, SEEK_SET) < 0)
        return errno_error("write the state for the {} hook", kind);
    std::vector<NsFd> ns;
    if (ns_pid > 0) ns = BOCK_TRY_CTX(namespaces_of(ns_pid), fmt::format("{} hook `{}`", kind, h.path));
    std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = h.env;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) return errno_error("fork the {} hook `{}`", kind, h.path);
    if (pid == 0) {
        // No allocation from here: the parent may hold locks of other threads.
        for (const auto& n : ns)
            if (::setns(n.fd.get(), n.type) < 0) ::_exit(124);
        if (::dup2(in.get(), 0) < 0 || ::dup2(2, 1) < 0) ::_exit(124);  // hook output goes to our stderr
        ::signal(SIGPIPE, SIG_DFL);
        ::execve(h.path.c_str(), argv.data(), envp.data());
        ::_exit(errno == ENOENT ? 127 : 126);
    }
    int status = BOCK_TRY(wait_hook(pid, h.timeout, h, kind));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 124 && ns_pid > 0)
        return make_error("{} hook `{}`: cannot enter the container's namespaces", kind, h.path);
    return make_error("{} hook `{}` failed ({})", kind, h.path, describe(status));
}

}  // namespace

Result<Hooks> parse_hooks(const json& config) {
    Hooks out;
    if (!config.is_object() || !config.contains("hooks")) return out;
    const json& h = config["hooks"];
    if (!h.is_object()) return make_error("hooks: must be an object");
    out.prestart = BOCK_TRY(parse_list(h, "prestart"));
    out.create_runtime = BOCK_TRY(parse_list(h, "createRuntime"));
    out.create_container = BOCK_TRY(parse_list(h, "createContainer"));
    out.start_container = BOCK_TRY(parse_list(h, "startContainer"));
    out.poststart = BOCK_TRY(parse_list(h, "poststart"));
    out.poststop = BOCK_TRY(parse_list(h, "poststop"));
    return out;
}

std::string hook_state(const std::string& id, const std::string& status, pid_t pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations, const std::string& oci_version) {
    json j = {{"ociVersion", oci_version.empty() ? "1.1.0" : oci_version},
              {"id", id},
              {"status", status},
              {"bundle", bundle},
              {"annotations", annotations}};
    if (pid > 0) j["pid"] = pid;
    return j.dump();
}

Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state, pid_t ns_pid) {
    for (const auto& h : hooks) BOCK_TRY(run_one(h, kind, state, ns_pid));
    return ok();
}

void run_hooks_warn(const std::vector<Hook>& hooks, const char* kind, const std::string& state) {
    for (const auto& h : hooks)
        if (auto r = run_one(h, kind, state, 0); !r) log::warn("{}", r.error().to_string());
}

Hooks hooks_of_bundle(const std::string& bundle) {
    auto spec = load_spec(bundle);
    if (!spec) {
        log::debug("hooks: {}", spec.error().to_string());
        return {};
    }
    auto hooks = parse_hooks(spec->raw);
    if (!hooks) {
        log::debug("hooks: {}", hooks.error().to_string());
        return {};
    }
    return std::move(*hooks);
}

namespace {

std::string plan_state(const Plan& p, const std::string& id, const char* status, pid_t pid) {
    return hook_state(id, status, pid, p.bundle, p.annotations, p.oci_version);
}

}  // namespace

// The status each hook reads, as crun: "created" from prestart to
// startContainer (the namespaces and mounts exist), "running" for
// poststart, "stopped" for poststop. crun says "starting" to
// startContainer, which is no status of the runtime-spec: Bock (and runc)
// say "created" there. runc says "creating" before startContainer and
// "created" to poststart.
Result<void> run_create_hooks(const Plan& p, const std::string& id, pid_t pid) {
    std::string state = plan_state(p, id, "created", pid);
    BOCK_TRY(run_hooks(p.hooks.prestart, "prestart", state));
    BOCK_TRY(run_hooks(p.hooks.create_runtime, "createRuntime", state));
    return run_hooks(p.hooks.create_container, "createContainer", state, pid);
}

Result<void> run_start_hooks(const Plan& p, const std::string& id, pid_t pid) {
    return run_hooks(p.hooks.start_container, "startContainer", plan_state(p, id, "created", pid), pid);
}

void run_poststart_hooks(const Plan& p, const std::string& id, pid_t pid) {
    run_hooks_warn(p.hooks.poststart, "poststart", plan_state(p, id, "running", pid));
}

void run_poststop_hooks(const Plan& p, const std::string& id) {
    run_hooks_warn(p.hooks.poststop, "poststop", plan_state(p, id, "stopped", 0));
}

}  // namespace bock::runtime

// bock-oci ps [--format table|json] ID: the processes of a container. With
// a cgroup, the pids in its cgroup.procs; without one (rootless without
// delegation), the processes of its pid namespace found through /proc.
// json prints the array of pids (what containerd and podman read); table
// prints UID, PID, PPID and the command line.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "bock/common/fs.hpp"
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

std::string pid_ns(pid_t pid) { return fs::readlink(fmt::format("/proc/{}/ns/pid", pid)).value_or(""); }

// Processes sharing the container process's pid namespace (never ours).
std::vector<pid_t> namespace_pids(pid_t init) {
    std::vector<pid_t> out;
    std::string ns = pid_ns(init);
    if (ns.empty()) return out;
    if (ns == pid_ns(::getpid())) return {init};
    DIR* d = ::opendir("/proc");
    if (!d) return {init};
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long p = std::strtol(e->d_name, &end, 10);
        if (p <= 0 || *end) continue;
        if (pid_ns(static_cast<pid_t>(p)) == ns) out.push_back(static_cast<pid_t>(p));
    }
    ::closedir(d);
    return out;
}

struct ProcInfo {
    uid_t uid = 0;
    pid_t ppid = 0;
    std::string cmd;
};

ProcInfo proc_info(pid_t pid) {
    ProcInfo info;
    struct stat st;
    if (::stat(fmt::format("/proc/{}", pid).c_str(), &st) == 0) info.uid = st.st_uid;
    std::string stat = fs::read_file(fmt::format("/proc/{}/stat", pid)).value_or("");
    if (size_t close = stat.rfind(')'); close != std::string::npos && close + 4 < stat.size())
        info.ppid = static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
    std::string cmd = fs::read_file(fmt::format("/proc/{}/cmdline", pid)).value_or("");
    for (auto& c : cmd)
        if (c == '\0') c = ' ';
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    info.cmd = cmd;
    return info;
}

Result<void> ps(const GlobalOptions& g, const std::string& id, const std::string& format) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    if (runtime::container_status(root, st) == runtime::Status::stopped)
        return make_error("container `{}` is not running", id);
    auto cg = runtime::CgroupPaths::from_json(st.cgroup);
    std::vector<pid_t> pids = cg.empty() ? namespace_pids(st.pid) : BOCK_TRY(runtime::cgroup_pids(cg));
    std::sort(pids.begin(), pids.end());
    if (format == "json") {
        std::cout << nlohmann::json(pids).dump() << "\n";
        return ok();
    }
    std::cout << fmt::format("{:<8} {:>8} {:>8} {}\n", "UID", "PID", "PPID", "CMD");
    for (pid_t p : pids) {
        ProcInfo info = proc_info(p);
        std::cout << fmt::format("{:<8} {:>8} {:>8} {}\n", info.uid, p, info.ppid, info.cmd);
    }
    return ok();
}

}  // namespace

void add_ps_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("ps", "list the processes of a container");
    auto id = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->allow_extras();  // runc passes extra arguments to ps(1); they are ignored here
    cmd->callback([&g, id, format, &exit_code] {
        auto r = ps(g, *id, *format);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci

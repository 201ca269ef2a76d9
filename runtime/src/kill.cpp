// Signalling a container's process from another runtime call (bock-oci
// kill, delete --force): identity by pid and start time, delivery through
// a pidfd so a recycled pid is never hit.
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>

#include "bock/runtime/cgroup.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/runtime/state.hpp"

namespace bock::runtime {

namespace {

struct SignalName {
    const char* name;
    int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},   {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL},   {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

int pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// A pidfd for the recorded process, checked to be the same process.
Result<Fd> open_process(const ContainerState& s) {
    if (s.pid <= 0) return make_error("container `{}` is not running", s.id);
    auto fd = sys::pidfd_open(s.pid);
    if (!fd || !process_alive(s)) return make_error("container `{}` is not running", s.id);
    return std::move(*fd);
}

std::string pid_ns_of(pid_t pid) {
    auto l = fs::readlink(fmt::format("/proc/{}/ns/pid", pid));
    return l ? *l : std::string();
}

// Every other process whose pid namespace is `ns` (the container's own).
void signal_namespace(const std::string& ns, pid_t init, int sig) {
    DIR* d = ::opendir("/proc");
    if (!d) return;
    while (dirent* e = ::readdir(d)) {
        if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
        pid_t pid = static_cast<pid_t>(std::stol(e->d_name));
        if (pid == init || pid_ns_of(pid) != ns) continue;
        auto fd = sys::pidfd_open(pid);
        if (fd) (void)pidfd_send_signal(fd->get(), sig);
    }
    ::closedir(d);
}

}  // namespace

std::optional<uint64_t> process_start_time(pid_t pid) {
    auto text = fs::read_file(fmt::format("/proc/{}/stat", pid));
    if (!text) return std::nullopt;
    auto close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
    // After "pid (comm) ": state is field 3, starttime field 22.
    std::string_view rest(*text);
    rest.remove_prefix(close + 2);
    if (rest[0] == 'Z' || rest[0] == 'X') return std::nullopt;
    for (int field = 3; field < 22; ++field) {
        auto sp = rest.find(' ');
        if (sp == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(sp + 1);
    }
    uint64_t v = 0;
    for (char c : rest) {
        if (c < '0' || c > '9') break;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

bool process_alive(const ContainerState& s) { return process_alive(s.pid, s.start_time); }

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    auto t = process_start_time(pid);
    return t && *t == start_time;
}

std::optional<bool> catches_signal(pid_t pid, int sig) {
    auto text = fs::read_file(fmt::format("/proc/{}/status", pid));
    if (!text) return std::nullopt;
    auto at = text->find("\nSigCgt:\t");
    if (at == std::string::npos) return std::nullopt;
    unsigned long long mask = std::strtoull(text->c_str() + at + 9, nullptr, 16);
    return ((mask >> (sig - 1)) & 1ULL) != 0;
}

Result<int> parse_signal(std::string_view text) {
    if (text.empty()) return make_error("empty signal name");
    if (std::isdigit(static_cast<unsigned char>(text[0]))) {
        int n = 0;
        for (char c : text) {
            if (c < '0' || c > '9' || n > 1000) return make_error("invalid signal `{}`", text);
            n = n * 10 + (c - '0');
        }
        if (n <= 0 || n >= NSIG) return make_error("invalid signal `{}` (1 to {})", text, NSIG - 1);
        return n;
    }
    std::string up;
    for (char c : text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (up.rfind("SIG", 0) == 0) up = up.substr(3);
    for (const auto& s : kSignals)
        if (up == s.name) return s.number;
    return make_error("unknown signal `{}` (use a name like TERM or KILL, or a number)", text);
}

Result<void> signal_container(const ContainerState& s, int sig, bool all) {
    Fd fd = BOCK_TRY(open_process(s));
    if (all) {
        // Without cgroups, "all" is the container's pid namespace, when it
        // has one of its own (never the host's).
        std::string ns = pid_ns_of(s.pid);
        if (!ns.empty() && ns != pid_ns_of(::getpid())) signal_namespace(ns, s.pid, sig);
        // With a cgroup, also every process in it (a container sharing the host's pid namespace).
        if (auto pids = cgroup_pids(CgroupPaths::from_json(s.cgroup)))
            for (pid_t p : *pids) (void)::kill(p, sig);
    }
    if (pidfd_send_signal(fd.get(), sig) < 0) {
        if (errno == ESRCH) return make_error("container `{}` is not running", s.id);
        return errno_error("send signal {} to container `{}` (pid {})", sig, s.id, s.pid);
    }
    return ok();
}

bool wait_stopped(const ContainerState& s, int timeout_ms) {
    auto fd = sys::pidfd_open(s.pid);
    if (!fd) return true;  // already gone
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (process_alive(s)) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        // A pidfd becomes readable when the process exits; poll at most
        // 50 ms at a time (the pid might have been recycled meanwhile).
        struct pollfd p = {fd->get(), POLLIN, 0};
        (void)::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50)));
    }
    return true;
}

}  // namespace bock::runtime

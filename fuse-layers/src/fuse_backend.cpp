// The FUSE backends: fuse-overlayfs and bock-fuse-overlay run as child
// processes of whoever owns the container's life, in their own session (a
// ^C for the container does not reach them), stderr to TARGET.fuse.log.
//  - start: bock-fuse-overlay writes one byte on ready_fd once the mount is
//    live; fuse-overlayfs (-f) has no such fd, so its mount is awaited in
//    /proc/self/mountinfo. Either way a process that exits first fails the
//    start with its log.
//  - pid file TARGET.fuse.pid ("PID BACKEND"): lets a later command find a
//    mount whose process died (its files answer ENOTCONN) and detach it.
//  - stop: detach the mount (the process sees its connection end and
//    exits), then SIGTERM, then SIGKILL, always reaped.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "backends.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"

extern char** environ;

namespace bock::layers {

namespace {

constexpr int kStartTimeoutMs = 10000;

long now_ms() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

std::string unescape_mountinfo(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string log_tail(const std::string& log) {
    auto text = fs::read_file(log);
    if (!text || text->empty()) return "no message";
    std::string t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    if (t.size() > 600) t = "..." + t.substr(t.size() - 600);
    for (auto& ch : t)
        if (ch == '\n') ch = ' ';
    return t;
}

// Waits up to ms for the child to exit; true if it did (reaped).
bool wait_exit(Pid& p, int ms) {
    long end = now_ms() + ms;
    while (true) {
        int status;
        pid_t r = ::waitpid(p.get(), &status, WNOHANG);
        if (r == p.get() || (r < 0 && errno == ECHILD)) {
            (void)p.detach();
            return true;
        }
        if (now_ms() >= end) return false;
        ::usleep(5000);
    }
}

std::string lower_list(const std::vector<std::string>& bottom_first) {
    std::string out;
    for (auto it = bottom_first.rbegin(); it != bottom_first.rend(); ++it) {
        if (!out.empty()) out += ':';
        out += *it;
    }
    return out;
}

Result<void> check_option_paths(const LayersSpec& spec) {
    auto bad = [](const std::string& p) { return p.find_first_of(":,") != std::string::npos; };
    for (const auto& l : spec.lowers)
        if (bad(l)) return make_error("layer `{}` has a ':' or ',' (FUSE overlay options cannot carry it)", l);
    for (const auto* p : {&spec.upper, &spec.work})
        if (bad(*p)) return make_error("`{}` has a ':' or ',' (FUSE overlay options cannot carry it)", *p);
    return ok();
}

}  // namespace

std::string pid_file_for(const std::string& target) {
    std::string t = target;
    while (t.size() > 1 && t.back() == '/') t.pop_back();
    return t + ".fuse.pid";
}

std::string mount_type_at(const std::string& path) {
    char real[PATH_MAX];
    if (!::realpath(path.c_str(), real)) return "";
    std::ifstream f("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(f, line)) {
        // id parent maj:min root mountpoint options [optional...] - fstype source super
        std::vector<std::string> w;
        size_t i = 0;
        while (i < line.size()) {
            size_t j = line.find(' ', i);
            if (j == std::string::npos) j = line.size();
            w.push_back(line.substr(i, j - i));
            i = j + 1;
        }
        if (w.size() < 7 || unescape_mountinfo(w[4]) != real) continue;
        for (size_t k = 6; k + 1 < w.size(); ++k)
            if (w[k] == "-") found = w[k + 1];  // the last mount on the path wins
    }
    return found;
}

// Both FUSE programs open /dev/fuse; said here, before they start, with
// the fix (device nodes of mode 600 are the usual cause).
static Result<void> check_fuse_device() {
    std::string dev = "/dev/fuse";
#ifdef BOCK_TEST_HOOKS
    if (const char* d = std::getenv("BOCK_TEST_FUSE_DEVICE"); d && *d) dev = d;
#endif
    if (::access(dev.c_str(), R_OK | W_OK) == 0) return ok();
    int e = errno;
    return Error(e, fmt::format("`{}` is not readable and writable", dev))
        .with_hint("as root: chmod 666 /dev/fuse (and modprobe fuse if it is missing)");
}

Result<void> mount_fuse(const LayersSpec& spec, Backend which, const std::string& program, MountedRoot& root) {
    BOCK_TRY(check_option_paths(spec));
    BOCK_TRY(check_fuse_device());
    std::vector<std::string> lowers = spec.lowers;
    std::string empty_lower;
    if (lowers.empty()) {  // an image without layers: one empty lower
        empty_lower = fs::join(spec.upper, "../empty-lower");
        BOCK_TRY(fs::mkdir_p(empty_lower, 0755));
        lowers.push_back(empty_lower);
    }
    std::string opts = fmt::format("lowerdir={},upperdir={},workdir={}", lower_list(lowers), spec.upper, spec.work);
    if (!spec.uidmapping.empty()) opts += ",uidmapping=" + spec.uidmapping;
    if (!spec.gidmapping.empty()) opts += ",gidmapping=" + spec.gidmapping;
    FdPair ready = BOCK_TRY(sys::pipe());
    if (which == Backend::bock_fuse) opts += ",ready_fd=3";
    std::vector<std::string> argv{program, "-f", "-o", opts, spec.target};

    std::string log = pid_file_for(spec.target);
    log.replace(log.size() - 4, 4, ".log");
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (which == Backend::bock_fuse) posix_spawn_file_actions_adddup2(&fa, ready.second.get(), 3);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, program.c_str(), &fa, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return Error(rc, fmt::format("start `{}`", program));
    Pid child(pid);
    ready.second.reset();

    std::string name(backend_name(which));
    long deadline = now_ms() + kStartTimeoutMs;
    while (true) {
        if (which == Backend::bock_fuse) {
            struct pollfd p{ready.first.get(), POLLIN, 0};
            int n = ::poll(&p, 1, 50);
            if (n > 0) {
                char c;
                if (::read(ready.first.get(), &c, 1) == 1) break;
                wait_exit(child, 2000);
                return make_error("{} exited before its mount was ready: {}", name, log_tail(log));
            }
        } else {
            if (mount_type_at(spec.target).rfind("fuse", 0) == 0) break;
            ::usleep(5000);
        }
        int status;
        if (::waitpid(child.get(), &status, WNOHANG) == child.get()) {
            (void)child.detach();
            return make_error("{} exited ({}) before its mount was ready: {}", name, exit_code_from_status(status),
                              log_tail(log));
        }
        if (now_ms() > deadline) {
            (void)stop_fuse(spec.target, child, "");
            return make_error("{} did not mount `{}` within {} s: {}", name, spec.target, kStartTimeoutMs / 1000,
                              log_tail(log));
        }
    }
    std::string pid_file = pid_file_for(spec.target);
    if (auto r = fs::write_file_atomic(pid_file, fmt::format("{} {}\n", child.get(), name)); !r)
        log::warn("{}: {}", name, r.error().to_string());
    BackendAccess::helper(root) = std::move(child);
    BackendAccess::pid_file(root) = pid_file;
    return ok();
}

Result<void> stop_fuse(const std::string& target, Pid& helper, const std::string& pid_file) {
    Result<void> result = ok();
    if (auto u = sys::umount(target, MNT_DETACH); !u && u.error().code() != EINVAL && u.error().code() != ENOENT) {
        // Not ours to unmount (mounted by fusermount3 for a user outside a namespace).
        SpawnOptions o;
        o.argv = {"fusermount3", "-u", "-z", target};
        o.capture_stderr = true;
        auto r = run_program(o);
        if (!r || r->exit_code != 0)
            result = make_error("unmount FUSE root `{}`: {}", target, r ? r->err : r.error().to_string());
    }
    if (helper.valid() && !wait_exit(helper, 2000)) {
        (void)helper.kill(SIGTERM);
        if (!wait_exit(helper, 2000)) {
            (void)helper.kill(SIGKILL);
            (void)helper.wait();
        }
    }
    if (!pid_file.empty()) {
        ::unlink(pid_file.c_str());
        std::string log = pid_file.substr(0, pid_file.size() - 4) + ".log";
        ::unlink(log.c_str());
    }
    return result;
}

Result<bool> recover_stale_mount(const std::string& target) {
    std::string pid_file = pid_file_for(target);
    pid_t pid = -1;
    std::string backend;
    if (auto text = fs::read_file(pid_file); text) {
        std::istringstream in(*text);
        in >> pid >> backend;
    }
    auto process_alive = [&] {
        if (pid <= 0 || ::kill(pid, 0) < 0) return false;
        auto cmdline = fs::read_file(fmt::format("/proc/{}/cmdline", pid));
        // The same program on the same target: not a recycled pid.
        return cmdline && cmdline->find(target) != std::string::npos &&
               (cmdline->find("fuse-overlayfs") != std::string::npos ||
                cmdline->find("bock-fuse-overlay") != std::string::npos);
    };
    std::string type = mount_type_at(target);
    bool fuse_mounted = type.rfind("fuse", 0) == 0;
    bool alive = process_alive();
    if (fuse_mounted && alive) return false;  // in use
    bool recovered = false;
    if (fuse_mounted) {
        log::info("removing the stale FUSE mount on `{}` (its process is gone)", target);
        Pid none;
        BOCK_TRY(stop_fuse(target, none, ""));
        recovered = true;
    } else if (alive) {
        log::info("stopping FUSE process {} whose mount on `{}` is gone", pid, target);
        ::kill(pid, SIGTERM);
        // Not our child: wait (2 s, then SIGKILL) until it is gone or a zombie.
        auto gone = [&] {
            auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid));
            return !stat || stat->find(") Z ") != std::string::npos;
        };
        for (int i = 0; i < 200 && !gone(); i++) {
            if (i == 199) ::kill(pid, SIGKILL);
            ::usleep(10000);
        }
        recovered = true;
    }
    if (fs::exists(pid_file)) {
        ::unlink(pid_file.c_str());
        ::unlink((pid_file.substr(0, pid_file.size() - 4) + ".log").c_str());
        recovered = true;
    }
    return recovered;
}

}  // namespace bock::layers

#include "bock/userns/session.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "bock/common/fs.hpp"
#include "bock/common/lock.hpp"
#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "bock/userns/checks.hpp"
#include "idmap_internal.hpp"
#include "session_state.hpp"

namespace bock::userns {
namespace {

constexpr const char* kStateFile = "holder.pid";
constexpr const char* kLockFile = "lock";

// Holder -> parent messages; one write each, smaller than PIPE_BUF so atomic.
enum class MsgKind : int32_t { unshared = 1, ready = 2, failed = 3 };
enum class Stage : int32_t { fork = 1, unshare, setid, mount };
struct HolderMsg {
    MsgKind kind;
    Stage stage;
    int32_t err;
    int32_t pid;
};
// Parent -> holder bytes.
constexpr char kMapped = 'M';
constexpr char kCommitted = 'C';

const char* stage_name(Stage s) {
    switch (s) {
        case Stage::fork: return "fork the session holder";
        case Stage::unshare: return "unshare(CLONE_NEWUSER | CLONE_NEWNS)";
        case Stage::setid: return "become uid 0 in the session";
        case Stage::mount: return "make the session's mounts private";
    }
    return "set up the session holder";
}

std::string session_dir(const std::string& run_root) { return fs::join(run_root, "session"); }

// --- the holder process: only raw system calls from here to pause() ---

void send(int fd, MsgKind kind, Stage stage, int err) {
    HolderMsg m{kind, stage, err, static_cast<int32_t>(::getpid())};
    (void)sys::raw::write_all(fd, &m, sizeof m);
}

// Waits for one byte from the parent; EOF (the parent died) ends the holder.
void await(int fd, char expected) {
    char c = 0;
    if (sys::raw::read_all(fd, &c, 1) != 1 || c != expected) ::_exit(1);
}

void close_fds_from(int first) {
    if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
    long max = ::sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < (max > 0 ? max : 1024); ++fd) ::close(static_cast<int>(fd));
}

// Names the holder in `ps`: its comm (PR_SET_NAME) and its command line, so
// that `ps -o args` shows NAME rather than the arguments of whichever bock
// call started the session. The argv area [arg_start, arg_end) comes from
// /proc/self/stat (fields 48 and 49); it is cleared, NAME written at its
// start, and its last byte made non-NUL, which tells the kernel to report the
// command line as the string at arg_start (its setproctitle convention).
// No allocation: this runs in a forked child.
void name_self(const char* name) {
    ::prctl(PR_SET_NAME, name, 0, 0, 0);
    char buf[2048];
    int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    char* p = ::strrchr(buf, ')');
    if (!p) return;
    // After ") " comes field 3 (state, a letter), then numbers from field 4;
    // arg_start is field 48, arg_end 49.
    p += 2;
    while (*p && *p != ' ') ++p;
    if (*p) ++p;
    unsigned long field[50] = {};
    int i = 4;
    for (; *p && i < 50; ++i) {
        char* end = nullptr;
        field[i] = ::strtoul(p, &end, 10);
        p = end;
        if (*p == ' ') ++p;
    }
    if (i < 50) return;
    char* start = reinterpret_cast<char*>(field[48]);
    char* end = reinterpret_cast<char*>(field[49]);
    size_t len = ::strlen(name);
    if (!start || end <= start || static_cast<size_t>(end - start) < len + 2) return;
    ::memset(start, 0, end - start);
    ::memcpy(start, name, len);
    end[-1] = ' ';
}

// The holder keeps nothing of its parent: its own session (no terminal),
// /dev/null for stdio, no inherited fds (a lock fd would keep the session
// lock held for its whole life), default signals with the terminal ones
// ignored. SIGTERM stays fatal: stop_session relies on it.
[[noreturn]] void holder_main(int to_parent, int from_parent) {
    // A caller that changed its ids (setuid binary, test harness) is not
    // dumpable; its /proc files would then be root's and nobody could write
    // our maps or open our namespaces.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    ::setsid();
    (void)::chdir("/");
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) ::sigaction(sig, &ign, nullptr);

    int w = ::fcntl(to_parent, F_DUPFD, 10);
    int r = ::fcntl(from_parent, F_DUPFD, 10);
    if (w < 0 || r < 0) ::_exit(1);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0)
        for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    if (::dup2(w, 3) < 0 || ::dup2(r, 4) < 0) ::_exit(1);
    close_fds_from(5);
    to_parent = 3;
    from_parent = 4;
    name_self("bock session");

    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
        send(to_parent, MsgKind::failed, Stage::unshare, errno);
        ::_exit(1);
    }
    send(to_parent, MsgKind::unshared, Stage::unshare, 0);
    await(from_parent, kMapped);
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0) {
        send(to_parent, MsgKind::failed, Stage::setid, errno);
        ::_exit(1);
    }
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
        send(to_parent, MsgKind::failed, Stage::mount, errno);
        ::_exit(1);
    }
    send(to_parent, MsgKind::ready, Stage::mount, 0);
    // Only once the parent has recorded us do we stay; if it dies first we
    // would be an unrecorded, unreachable holder.
    await(from_parent, kCommitted);
    // from_parent first: the parent waits for EOF on to_parent, which must
    // mean that both are closed.
    ::close(from_parent);
    ::close(to_parent);
    for (;;) ::pause();
}

// --- the parent side ---

Result<HolderMsg> read_msg(int fd) {
    HolderMsg m{};
    int n = sys::raw::read_all(fd, &m, sizeof m);
    if (n < 0) return Error(-n, "read from the session holder");
    if (n != static_cast<int>(sizeof m)) return make_error("the session holder exited during setup");
    return m;
}

Result<void> send_byte(int fd, char c) {
    int r = sys::raw::write_all(fd, &c, 1);
    if (r < 0) return Error(-r, "write to the session holder");
    return ok();
}

Error holder_failure(const HolderMsg& m) {
    Error e(m.err, stage_name(m.stage));
    if (m.stage == Stage::unshare) {
        auto check = check_userns_allowed();
        e.with_hint(check.ok ? "user namespaces work for other processes: is bock running under a seccomp filter?"
                             : check.fix);
    }
    return e;
}

Result<struct stat> stat_path(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return errno_error("stat `{}`", path);
    return st;
}

Result<bool> in_holder_user_ns(pid_t holder) {
    auto self = BOCK_TRY(stat_path("/proc/self/ns/user"));
    auto theirs = BOCK_TRY(stat_path(fmt::format("/proc/{}/ns/user", holder)));
    return self.st_dev == theirs.st_dev && self.st_ino == theirs.st_ino;
}

Result<void> become_root() {
    if (::getuid() == 0 && ::getgid() == 0) return ok();
    if (::setresgid(0, 0, 0) < 0) return errno_error("setresgid(0) in the session");
    if (::setresuid(0, 0, 0) < 0) return errno_error("setresuid(0) in the session");
    return ok();
}

Result<void> require_single_thread() {
    auto status = BOCK_TRY(fs::read_file("/proc/self/status"));
    auto pos = status.find("\nThreads:");
    if (pos == std::string::npos) return ok();
    long threads = std::strtol(status.c_str() + pos + 9, nullptr, 10);
    if (threads > 1) {
        return Error(EINVAL, fmt::format("the process has {} threads; setns into a user namespace needs exactly one",
                                         threads))
            .with_hint("enter the session before starting any thread (or re-exec into it)");
    }
    return ok();
}

Result<void> join_holder(const HolderState& h) {
    std::string proc = fmt::format("/proc/{}/ns/", h.pid);
    Fd user = BOCK_TRY(sys::open(proc + "user", O_RDONLY));
    Fd mnt = BOCK_TRY(sys::open(proc + "mnt", O_RDONLY));
    // The fds were opened after the liveness check: make sure they belong to
    // the holder and not to a process that took its pid in between.
    if (!holder_alive(h)) return Error(ESRCH, fmt::format("the session holder {} exited", h.pid));

    char cwd[PATH_MAX];
    bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
    BOCK_TRY(sys::setns(user.get(), CLONE_NEWUSER));
    BOCK_TRY(sys::setns(mnt.get(), CLONE_NEWNS));
    BOCK_TRY(become_root());
    // setns(CLONE_NEWNS) moves the cwd to the namespace's root; the session
    // sees the same paths, so go back.
    if (have_cwd && ::chdir(cwd) < 0) log::debug("chdir `{}` in the session: {}", cwd, std::strerror(errno));
    return ok();
}

Result<std::optional<HolderState>> load_live_holder(const std::string& dir) {
    std::string path = fs::join(dir, kStateFile);
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) return std::optional<HolderState>{};
        return std::move(text).error().wrap("read the session state");
    }
    auto st = parse_holder_state(*text);
    if (!st) {
        log::debug("ignoring malformed session state `{}`", path);
        return std::optional<HolderState>{};
    }
    if (!holder_alive(*st)) return std::optional<HolderState>{};
    return st;
}

void print_single_notice(const UserIdentity& who) {
    std::string name = who.name.empty() ? fmt::format("with uid {}", who.uid) : who.name;
    log::notice(fmt::format("no subordinate ID range for user {} in /etc/subuid and /etc/subgid: running with a "
                            "single-ID mapping (only uid {} is mapped); to use a full range, root can run: {}",
                            name, who.uid, usermod_command(who)));
}

// Called with the session lock held and no live holder.
Result<SessionInfo> create_session(const std::string& dir) {
    UserIdentity who = BOCK_TRY(current_user());
    IdMappings plan = BOCK_TRY(plan_rootless_mappings(who));
    auto to_parent = BOCK_TRY(sys::pipe());
    auto to_child = BOCK_TRY(sys::pipe());

    // Double fork: the holder is reparented to init at once, so it is never
    // our zombie and no waitpid(-1) of ours can collect it.
    pid_t mid = ::fork();
    if (mid < 0) return errno_error("fork the session holder");
    if (mid == 0) {
        pid_t h = ::fork();
        if (h == 0) holder_main(to_parent.second.get(), to_child.first.get());
        if (h < 0) send(to_parent.second.get(), MsgKind::failed, Stage::fork, errno);
        ::_exit(0);
    }
    Pid middle(mid);
    to_parent.second.reset();
    to_child.first.reset();
    // ECHILD when the caller ignores SIGCHLD (the kernel reaped it already).
    if (!middle.wait()) middle.detach();

    HolderMsg m = BOCK_TRY(read_msg(to_parent.first.get()));
    if (m.kind == MsgKind::failed) return holder_failure(m);
    Pid holder(m.pid);  // killed on every error path below
    BOCK_TRY_CTX(write_mappings(m.pid, plan), fmt::format("map ids of the session holder {}", m.pid));
    BOCK_TRY(send_byte(to_child.second.get(), kMapped));
    m = BOCK_TRY(read_msg(to_parent.first.get()));
    if (m.kind != MsgKind::ready) return holder_failure(m);

    auto stat = read_proc_stat(holder.get());
    if (!stat) return Error(ESRCH, fmt::format("read `/proc/{}/stat` of the session holder", holder.get()));
    HolderState state{holder.get(), stat->start_time, plan.single};
    BOCK_TRY(fs::write_file_atomic(fs::join(dir, kStateFile), format_holder_state(state), 0600));
    BOCK_TRY(send_byte(to_child.second.get(), kCommitted));
    holder.detach();
    // The holder closes its ends of both pipes right after that byte: wait
    // for the EOF, so that when this returns it holds nothing of ours.
    for (;;) {
        char byte;
        ssize_t n = ::read(to_parent.first.get(), &byte, 1);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        break;
    }
    log::debug("created the rootless session: holder {}, {} mapping", state.pid, plan.single ? "single-ID" : "range");

    if (plan.single) print_single_notice(who);
    BOCK_TRY_CTX(join_holder(state), "join the new session");
    return SessionInfo{state.pid, true, state.single};
}

Result<SessionInfo> enter(const std::string& run_root) {
    std::string dir = session_dir(run_root);
    BOCK_TRY(fs::mkdir_p(dir, 0700));
    auto live = BOCK_TRY(load_live_holder(dir));

    if (in_user_namespace()) {
        if (live && BOCK_TRY(in_holder_user_ns(live->pid))) {
            BOCK_TRY(become_root());
            return SessionInfo{live->pid, false, live->single};
        }
        return Error(EINVAL, "the process is already in a user namespace that is not the session's")
            .with_hint("run bock from the initial user namespace, or set BOCK_RUNROOT to the run root of the "
                       "session this process belongs to");
    }
    BOCK_TRY(require_single_thread());
    if (live) {
        BOCK_TRY_CTX(join_holder(*live), fmt::format("join the session of holder {}", live->pid));
        return SessionInfo{live->pid, false, live->single};
    }

    auto lock = BOCK_TRY(FileLock::acquire(fs::join(dir, kLockFile), FileLock::Mode::exclusive,
                                           fmt::format("the rootless session in {}", dir)));
    live = BOCK_TRY(load_live_holder(dir));  // another process may have won the race
    if (live) {
        BOCK_TRY_CTX(join_holder(*live), fmt::format("join the session of holder {}", live->pid));
        return SessionInfo{live->pid, false, live->single};
    }
    return create_session(dir);
}

// Polls for up to `ms` milliseconds; true once the holder is gone.
bool wait_gone(const HolderState& h, int ms) {
    for (int waited = 0;; waited += 10) {
        int status;
        (void)::waitpid(h.pid, &status, WNOHANG);  // only matters if we are its parent
        if (!holder_alive(h)) return true;
        if (waited >= ms) return false;
        timespec ts{0, 10 * 1000 * 1000};
        ::nanosleep(&ts, nullptr);
    }
}

}  // namespace

// Callers add "enter the rootless session" context themselves.
Result<SessionInfo> enter_session(const std::string& run_root) { return enter(run_root); }

Result<std::optional<pid_t>> find_session(const std::string& run_root) {
    auto live = BOCK_TRY_CTX(load_live_holder(session_dir(run_root)), "find the rootless session");
    if (!live) return std::optional<pid_t>{};
    return std::optional<pid_t>{live->pid};
}

Result<void> stop_session(const std::string& run_root) {
    std::string dir = session_dir(run_root);
    if (!fs::is_dir(dir)) return ok();
    auto lock = BOCK_TRY_CTX(FileLock::acquire(fs::join(dir, kLockFile), FileLock::Mode::exclusive,
                                               fmt::format("the rootless session in {}", dir)),
                             "stop the rootless session");
    auto live = BOCK_TRY_CTX(load_live_holder(dir), "stop the rootless session");
    if (live) {
        if (::kill(live->pid, SIGTERM) < 0 && errno != ESRCH)
            return errno_error("stop the rootless session: kill holder {}", live->pid);
        if (!wait_gone(*live, 1000)) {
            log::debug("session holder {} ignored SIGTERM; sending SIGKILL", live->pid);
            if (::kill(live->pid, SIGKILL) < 0 && errno != ESRCH)
                return errno_error("stop the rootless session: kill holder {}", live->pid);
            if (!wait_gone(*live, 1000))
                return Error(ETIMEDOUT, fmt::format("stop the rootless session: holder {} survived SIGKILL", live->pid));
        }
    }
    // The lock file stays: removing it under a waiter would let two
    // processes hold "the" lock at once.
    std::string state = fs::join(dir, kStateFile);
    if (::unlink(state.c_str()) < 0 && errno != ENOENT)
        return errno_error("stop the rootless session: remove `{}`", state);
    return ok();
}

bool in_user_namespace() {
    auto text = fs::read_file("/proc/self/uid_map");
    if (!text) return false;
    auto map = parse_map(*text);
    if (!map) return false;
    return !(map->size() == 1 && (*map)[0] == IdMapping{0, 0, 4294967295u});
}

}  // namespace bock::userns

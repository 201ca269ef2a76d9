// launch_monitor (monitor_launch.hpp): fork B, create the container in B,
// exec bock-monitor in B.
#include "monitor_launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/test_hooks.hpp"
#include "bock/monitor/protocol.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/state.hpp"
#include "network_setup.hpp"

namespace bock::engine {
namespace {

bool single_threaded() {
    auto status = fs::read_file("/proc/self/status");
    return status && status->find("\nThreads:\t1\n") != std::string::npos;
}

// Every fd from 3 up except those in `keep` (B inherits bock's: lock files
// among them, which must not stay held by the monitor or the container).
void close_other_fds(const std::vector<int>& keep) {
    auto names = fs::list_dir("/proc/self/fd");
    if (!names) return;
    for (const auto& n : *names) {
        int fd = std::atoi(n.c_str());
        if (fd < 3 || std::find(keep.begin(), keep.end(), fd) != keep.end()) continue;
        ::close(fd);  // includes the directory fd list_dir used, already closed: EBADF, harmless
    }
}

Result<Fd> listen_console() {
    ::unlink(monitor::kConsoleSocket);
    Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return errno_error("create the console socket");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, monitor::kConsoleSocket, sizeof monitor::kConsoleSocket);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(s.get(), 1) < 0)
        return errno_error("listen on the console socket");
    return s;
}

Result<Fd> receive_console(int listener) {
    Fd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return errno_error("accept the container's console");
    char buf[256];
    int fd = -1;
    ssize_t n = sys::raw::recv_with_fd(conn.get(), buf, sizeof buf, &fd);
    if (n < 0) return Error(static_cast<int>(-n), "receive the container's pty");
    if (fd < 0) return make_error("the container sent no pty");
    ::unlink(monitor::kConsoleSocket);
    return Fd(fd);
}

struct Pipes {
    FdPair out, err, in;
};

// B: everything between fork and the exec of bock-monitor. Returns only
// on failure, with the error to report.
Result<void> in_monitor_process(const Context& ctx, const ContainerRecord& rec, const ContainerDirs& dirs,
                         runtime::Spec& spec, bool start, const std::string& helper, const std::string& bock,
                         Fd& ready, Pipes& p, ContainerNetwork* net) {
    ::setsid();
    (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (::chdir(dirs.bundle.c_str()) < 0) return errno_error("enter `{}`", dirs.bundle);
    auto own_start = runtime::process_start_time(::getpid()).value_or(0);
    if (auto r = fs::write_file_replace(monitor::kPidFile, fmt::format("{} {}\n", ::getpid(), own_start), 0600, false);
        !r)
        return std::move(r).error();
    test_hooks::kill_point("monitor-pid-written");

    bool passthrough = rec.log_driver == "passthrough";
    Fd null = BOCK_TRY(sys::open("/dev/null", O_RDWR));
    int in = rec.interactive && !rec.tty ? p.in.first.get() : null.get();
    int out = passthrough ? 1 : rec.tty ? null.get() : p.out.second.get();
    int err = passthrough ? 2 : rec.tty ? null.get() : p.err.second.get();
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) return errno_error("set the container's stdio");
    p.in.first.reset();
    p.out.second.reset();
    p.err.second.reset();

    Fd console;
    runtime::RunOptions ro;
    ro.id = rec.id;
    ro.bundle = dirs.bundle;
    ro.rootless = ctx.rootless;
    ro.forward_signals = false;
    ro.pid_file = dirs.pid_file();
    ro.create_parent_death_signal = SIGKILL;
    // The network helper sent the container's pid and network namespace
    // (opened here, the creator) as soon as it is cloned, and awaited
    // before the container can be released.
    if (net) net->attach(ro);
    spec.process.terminal = rec.tty;
    if (rec.tty) {
        console = BOCK_TRY(listen_console());
        ro.console_socket = monitor::kConsoleSocket;
    }
    auto created = runtime::create_container(spec, ro, fs::join(dirs.bundle, monitor::kExecFifo));
    if (!created) return std::move(created).error();
    if (created->cgroup.mode != runtime::CgroupMode::none)
        (void)fs::write_file_replace(monitor::kCgroupFile, created->cgroup.to_json().dump(), 0600, false);
    Fd pty;
    if (rec.tty) pty = BOCK_TRY(receive_console(console.get()));
    console.reset();

    // Our own stdio: nothing of bock's (a caller reading bock's output
    // must see EOF when bock exits); messages go to monitor.log.
    Fd logfd = BOCK_TRY(sys::open(monitor::kLogFile, O_WRONLY | O_CREAT | O_APPEND, 0600));
    (void)::dup2(null.get(), 0);
    (void)::dup2(null.get(), 1);
    (void)::dup2(logfd.get(), 2);

    // Fixed numbers for the monitor: ready 3, stdout 4, stderr 5, stdin 6, pty 7.
    std::vector<std::pair<int, int>> moves;
    moves.emplace_back(ready.get(), 3);
    if (!rec.tty && !passthrough) {
        moves.emplace_back(p.out.first.get(), 4);
        moves.emplace_back(p.err.first.get(), 5);
    }
    if (rec.interactive && !rec.tty) moves.emplace_back(p.in.second.get(), 6);
    if (rec.tty) moves.emplace_back(pty.get(), 7);
    std::vector<int> high;
    for (auto [from, to] : moves) high.push_back(::fcntl(from, F_DUPFD_CLOEXEC, 20));
    for (size_t i = 0; i < moves.size(); i++)
        if (high[i] < 0 || ::dup2(high[i], moves[i].second) < 0) return errno_error("pass fds to the monitor");

    std::vector<std::string> args = {helper, "--id", rec.id, "--dir", dirs.bundle, "--pid",
                                     std::to_string(created->pid), "--ready-fd", "3", "--log-driver",
                                     rec.log_driver, "--log-path", log_path(dirs), "--log-max-size",
                                     std::to_string(rec.log_max_size), "--bock", bock};
    if (!rec.tty && !passthrough) args.insert(args.end(), {"--stdout-fd", "4", "--stderr-fd", "5"});
    if (rec.interactive && !rec.tty) args.insert(args.end(), {"--stdin-fd", "6"});
    if (rec.tty) args.insert(args.end(), {"--pty-fd", "7"});
    if (start) args.push_back("--start");
    if (rec.healthcheck.is_object()) {
        int64_t ns = rec.healthcheck.value("interval_ns", int64_t{0});
        if (ns > 0) args.insert(args.end(), {"--healthcheck-interval-ms", std::to_string(std::max<int64_t>(1, ns / 1000000))});
    }
    args.insert(args.end(), {"--", bock, "container", "cleanup", rec.id});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    test_hooks::kill_point("monitor-before-exec");
    ::execv(argv[0], argv.data());
    return errno_error("exec `{}`", helper);
}

}  // namespace

std::string log_path(const ContainerDirs& dirs) { return fs::join(dirs.storage, "ctr.log"); }

Result<Launched> launch_monitor(const Context& ctx, const ContainerRecord& rec, const ContainerDirs& dirs,
                                runtime::Spec spec, bool start, ContainerNetwork* net) {
    std::string helper = BOCK_TRY_CTX(paths::helper_path("bock-monitor"), "find the container monitor");
    std::string bock = BOCK_TRY_CTX(fs::readlink("/proc/self/exe"), "find the bock executable");
    if (!single_threaded())
        return make_error("internal: the monitor must be forked from a single-threaded bock");
    // What a previous run of this container left.
    for (const char* f : {monitor::kExitFile, monitor::kExecFifo, monitor::kPidFile, monitor::kAttachSocket,
                          monitor::kConsoleSocket, monitor::kCgroupFile})
        (void)::unlink(fs::join(dirs.bundle, f).c_str());
    (void)::unlink(dirs.pid_file().c_str());
    std::string fifo = fs::join(dirs.bundle, monitor::kExecFifo);
    if (::mkfifo(fifo.c_str(), 0622) < 0) return errno_error("create `{}`", fifo);
    (void)::chmod(fifo.c_str(), 0622);

    FdPair ready = BOCK_TRY(sys::pipe());
    Pipes p;
    p.out = BOCK_TRY(sys::pipe());
    p.err = BOCK_TRY(sys::pipe());
    p.in = BOCK_TRY(sys::pipe());
    pid_t b = BOCK_TRY_CTX(sys::clone_fork(0), "fork the container's monitor");
    if (b == 0) {
        ready.first.reset();
        std::vector<int> keep = {ready.second.get(), p.out.first.get(), p.out.second.get(), p.err.first.get(),
                                 p.err.second.get(),  p.in.first.get(),  p.in.second.get()};
        if (net)
            for (int fd : net->inherited_fds()) keep.push_back(fd);
        close_other_fds(keep);
        auto r = in_monitor_process(ctx, rec, dirs, spec, start, helper, bock, ready.second, p, net);
        Error e = r ? make_error("exec bock-monitor returned") : r.error();
        std::string line = fmt::format("E{}\t{}\t{}", e.exit_status(), e.to_string(), e.hint());
        std::replace(line.begin(), line.end(), '\n', ' ');
        line += '\n';
        (void)sys::raw::write_all(ready.second.get(), line.data(), line.size());
        ::_exit(1);
    }
    ready.second.reset();
    p = Pipes{};
    Launched l;
    l.monitor = b;
    l.monitor_start = runtime::process_start_time(b).value_or(0);

    // One line: the container's pid, or the error. The container holds a
    // copy of the pipe until it execs, so read to the newline, not EOF.
    std::string line;
    char c;
    for (;;) {
        ssize_t n = ::read(ready.first.get(), &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') break;
        line += c;
    }
    if (line.empty())
        return make_error("the container's monitor ended before it was ready")
            .with_hint(fmt::format("see {}/{}", dirs.bundle, monitor::kLogFile));
    if (line[0] == 'E') {
        int status = std::atoi(line.c_str() + 1);
        auto t1 = line.find('\t');
        auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        std::string msg = t1 == std::string::npos ? line.substr(1) : line.substr(t1 + 1, t2 - t1 - 1);
        Error e(0, msg);
        if (t2 != std::string::npos && t2 + 1 < line.size()) e.with_hint(line.substr(t2 + 1));
        return std::move(e.with_exit(status ? status : 125));
    }
    l.container = static_cast<pid_t>(std::atoi(line.c_str()));
    return l;
}

}  // namespace bock::engine

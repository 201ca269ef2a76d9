// The monitor's event loop (monitor.hpp, docs/monitor.md). Single
// threaded: one poll(2) over the signalfd (SIGCHLD), the container's
// output, the attach socket and its clients, and the health-check timer.
#include "monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/memory.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/monitor/protocol.hpp"
#include "log_writer.hpp"

namespace bock::monitor {
namespace {

Result<long long> number(const std::string& flag, const char* text) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text, &end, 10);
    if (errno || !end || *end || v < 0) return make_error("{}: `{}` is not a number", flag, text);
    return v;
}

struct Client {
    Fd fd;
};

class Monitor {
public:
    explicit Monitor(const Options& o) : o_(o) {}
    int run();

private:
    Result<void> setup();
    void release_container();
    void ready(const std::string& line);
    void on_output(int& fd, int stream);
    void on_client(size_t i);
    void accept_client();
    void broadcast(Packet kind, std::string_view data);
    void reap();
    void health_tick();
    void drain_outputs();
    void finish();
    void write_terminal_eof();
    void check_terminal_eof();

    const Options& o_;
    Fd sigfd_, listen_, timer_;
    std::optional<LogWriter> log_;
    std::vector<Client> clients_;
    int out_fd_ = -1, err_fd_ = -1, in_fd_ = -1;
    bool exited_ = false;
    int status_ = 0;
    pid_t health_pid_ = 0;
    // -t, stdin closed by a client: the terminal's EOF character written,
    // and again when the terminal's mode changes (check_terminal_eof).
    bool eof_pending_ = false;
    bool shed_ = false;  // the start's code dropped (shed_startup_pages)
    bool eof_canonical_ = false;  // ICANON when it was last written
    int eof_writes_ = 0;
    // The terminal's modes when the monitor started, and whether the
    // program has changed them since (seen when input arrives).
    tcflag_t initial_lflag_ = 0;
    bool terminal_changed_ = false;
};

Result<void> Monitor::setup() {
    (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return errno_error("block SIGCHLD");
    sigfd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd_) return errno_error("signalfd");
    if (::chdir(o_.dir.c_str()) < 0) return errno_error("enter the run directory `{}`", o_.dir);

    // The attach socket, by a relative name (the run directory's path can
    // be longer than sun_path).
    ::unlink(kAttachSocket);
    listen_ = Fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listen_) return errno_error("create the attach socket");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, kAttachSocket, sizeof kAttachSocket);
    if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(listen_.get(), 16) < 0)
        return errno_error("listen on `{}/{}`", o_.dir, kAttachSocket);

    if (o_.log_driver == "json-file" && !o_.log_path.empty())
        log_ = BOCK_TRY(LogWriter::open(o_.log_path, o_.log_max_size));
    if (o_.pty_fd >= 0) {
        out_fd_ = o_.pty_fd;
        in_fd_ = o_.pty_fd;
        struct termios t = {};
        if (::tcgetattr(o_.pty_fd, &t) == 0) initial_lflag_ = t.c_lflag;
    } else {
        out_fd_ = o_.stdout_fd;
        err_fd_ = o_.stderr_fd;
        in_fd_ = o_.stdin_fd;
    }
    for (int fd : {out_fd_, err_fd_})
        if (fd >= 0) (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (o_.healthcheck_interval_ms > 0) {
        timer_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        if (!timer_) return errno_error("timerfd_create");
        struct itimerspec its = {};
        its.it_interval.tv_sec = o_.healthcheck_interval_ms / 1000;
        its.it_interval.tv_nsec = (o_.healthcheck_interval_ms % 1000) * 1000000;
        its.it_value = its.it_interval;
        if (::timerfd_settime(timer_.get(), 0, &its, nullptr) < 0) return errno_error("timerfd_settime");
    }
    return ok();
}

void Monitor::ready(const std::string& line) {
    if (o_.ready_fd < 0) return;
    (void)sys::raw::write_all(o_.ready_fd, line.data(), line.size());
    ::close(o_.ready_fd);
}

// The exec fifo (the runtime's create/start split): opening it for reading
// and taking the byte lets the container's process go on to exec. Waits
// for the byte or for the process to end.
void Monitor::release_container() {
    std::string fifo = kExecFifo;
    Fd pidfd;
    if (auto p = sys::pidfd_open(o_.pid)) pidfd = std::move(*p);
    auto f = sys::open(fifo, O_RDONLY | O_NONBLOCK);
    if (!f) {
        log::error("open the exec fifo: {}", f.error().to_string());
        return;
    }
    for (;;) {
        struct pollfd fds[2] = {{f->get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
        if (::poll(fds, pidfd ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[0].revents & POLLIN) {
            char byte;
            ssize_t n = ::read(f->get(), &byte, 1);
            if (n == 1) break;
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        }
        if ((fds[1].revents & POLLIN) || (fds[0].revents & POLLHUP)) return;  // it ended before its start
    }
    ::unlink(fifo.c_str());
}

void Monitor::broadcast(Packet kind, std::string_view data) {
    char buf[kMaxPacket];
    while (!data.empty() || kind == Packet::exit) {
        size_t n = std::min(data.size(), kMaxPacket - 1);
        buf[0] = static_cast<char>(kind);
        std::memcpy(buf + 1, data.data(), n);
        for (auto& c : clients_)
            if (c.fd && ::send(c.fd.get(), buf, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
                c.fd.reset();  // a slow client loses output rather than stalling the container
        data.remove_prefix(n);
        if (kind == Packet::exit) break;
    }
}

void Monitor::on_output(int& fd, int stream) {
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::string_view d(buf, static_cast<size_t>(n));
            if (log_) log_->write(stream, d);
            broadcast(stream == 2 ? Packet::stderr_data : Packet::stdout_data, d);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        // EOF, or EIO from a pty whose last peer closed.
        if (fd != in_fd_) ::close(fd);
        fd = -1;
        return;
    }
}

void Monitor::accept_client() {
    int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    clients_.push_back(Client{Fd(c)});
}

void Monitor::on_client(size_t i) {
    char buf[kMaxPacket];
    ssize_t n = ::recv(clients_[i].fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        clients_[i].fd.reset();
        return;
    }
    auto kind = static_cast<Packet>(buf[0]);
    std::string_view payload(buf + 1, static_cast<size_t>(n - 1));
    switch (kind) {
        case Packet::stdin_data: {
            if (in_fd_ < 0) break;
            // An EOF character typed ahead, before the program ever set
            // the terminal's modes (script(1) passing on its own EOF, a
            // test's ^D): it may be lost the same way as a closed stdin's
            // (write_terminal_eof), so it is watched the same way. Not
            // once the program has changed the modes: a ^D that ends a
            // `cat` must not end the shell too.
            struct termios t = {};
            bool watch = false;
            if (o_.pty_fd >= 0 && !eof_pending_ && ::tcgetattr(o_.pty_fd, &t) == 0) {
                if (t.c_lflag != initial_lflag_) terminal_changed_ = true;
                char eof = t.c_cc[VEOF] ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
                watch = !terminal_changed_ && (t.c_lflag & ICANON) &&
                        payload.find(eof) != std::string_view::npos;
            }
            (void)sys::raw::write_all(in_fd_, payload.data(), payload.size());
            if (watch) {
                eof_pending_ = true;
                eof_canonical_ = true;
                eof_writes_ = 1;
            }
            break;
        }
        case Packet::resize:
            if (o_.pty_fd >= 0) {
                unsigned rows = 0, cols = 0;
                std::string p(payload);
                if (std::sscanf(p.c_str(), "%u %u", &rows, &cols) == 2) {
                    struct winsize ws = {static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
                    (void)::ioctl(o_.pty_fd, TIOCSWINSZ, &ws);
                }
            }
            break;
        case Packet::stdin_close:
            if (o_.pty_fd < 0 && in_fd_ >= 0) {
                ::close(in_fd_);
                in_fd_ = -1;
            } else if (o_.pty_fd >= 0 && !eof_pending_) {
                eof_pending_ = true;
                write_terminal_eof();
            }
            break;
        default:
            break;
    }
}

void Monitor::reap() {
    struct signalfd_siginfo si;
    while (::read(sigfd_.get(), &si, sizeof si) > 0) {
    }
    for (;;) {
        int st = 0;
        pid_t p = ::waitpid(-1, &st, WNOHANG);
        if (p <= 0) return;
        if (p == o_.pid) {
            exited_ = true;
            status_ = st;
        } else if (p == health_pid_) {
            health_pid_ = 0;
        }
        // Anything else: an orphan reparented to us (we are a subreaper).
    }
}

// A terminal has no half-close: its EOF is the VEOF character (^D), which
// means EOF only to a reader in canonical mode (a line editor in raw mode
// takes ^D on an empty line as EOF too). Written while the terminal is
// canonical but before the program reads, the kernel keeps it as a NUL
// byte that ends an empty line; a program that then switches to raw mode
// (a shell starting its line editor, or back at its prompt after a
// command) reads that NUL instead of EOF and waits forever. So the EOF is
// written again each time the terminal's mode changes while the container
// runs (the run -it hang with stdin at EOF, 1 in 10 runs).
void Monitor::write_terminal_eof() {
    struct termios t = {};
    if (::tcgetattr(o_.pty_fd, &t) < 0) {
        eof_pending_ = false;
        return;
    }
    char eof = t.c_cc[VEOF] ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
    (void)sys::raw::write_all(o_.pty_fd, &eof, 1);
    eof_canonical_ = (t.c_lflag & ICANON) != 0;
    if (++eof_writes_ >= 64) eof_pending_ = false;  // a program that keeps toggling: enough
}

void Monitor::check_terminal_eof() {
    if (!eof_pending_) return;
    struct termios t = {};
    if (::tcgetattr(o_.pty_fd, &t) < 0) {
        eof_pending_ = false;
        return;
    }
    if (((t.c_lflag & ICANON) != 0) != eof_canonical_) write_terminal_eof();
}

// `bock healthcheck run ID`, never two at once, output discarded.
void Monitor::health_tick() {
    uint64_t ticks;
    while (::read(timer_.get(), &ticks, sizeof ticks) > 0) {
    }
    if (health_pid_ || exited_ || o_.bock.empty()) return;
    std::vector<std::string> args = {o_.bock, "healthcheck", "run", o_.id};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto pid = sys::clone_fork(0);
    if (!pid) return;
    if (*pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++) ::dup2(null, fd);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    health_pid_ = *pid;
}

// After the container's PID 1 is gone every process of its pid namespace
// is too, so the pipes reach EOF; a process outside it holding a copy is
// not waited for longer than a second.
void Monitor::drain_outputs() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while ((out_fd_ >= 0 || err_fd_ >= 0) && std::chrono::steady_clock::now() < deadline) {
        struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 100) <= 0) continue;
        if (out_fd_ >= 0 && fds[0].revents) on_output(out_fd_, 1);
        if (err_fd_ >= 0 && fds[1].revents) on_output(err_fd_, 2);
    }
    if (log_) log_->flush();
}

void Monitor::finish() {
    int code = exit_code_from_status(status_);
    nlohmann::json j{{"exit_code", code}, {"time_ns", time::now_ns()}};
    j["signal"] = WIFSIGNALED(status_) ? nlohmann::json(WTERMSIG(status_)) : nlohmann::json();
    std::string path = fs::join(o_.dir, kExitFile);
    if (auto r = fs::write_file_replace(path, j.dump(), 0600, false); !r) log::report(r.error());
    broadcast(Packet::exit, std::to_string(code));
    clients_.clear();
    ::unlink(kAttachSocket);
}

int Monitor::run() {
    if (auto r = setup(); !r) {
        log::report(r.error());
        ready("E125\t" + r.error().to_string() + "\t\n");
        return 125;
    }
    reap();  // the container may have ended before the signalfd existed
    if (o_.start && !exited_) release_container();
    ready(fmt::format("{}\n", o_.pid));

    while (!exited_) {
        std::vector<struct pollfd> fds;
        fds.push_back({sigfd_.get(), POLLIN, 0});
        fds.push_back({listen_.get(), POLLIN, 0});
        fds.push_back({out_fd_, POLLIN, 0});
        fds.push_back({err_fd_, POLLIN, 0});
        fds.push_back({timer_ ? timer_.get() : -1, POLLIN, 0});
        std::erase_if(clients_, [](const Client& c) { return !c.fd; });
        for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
        // While a terminal EOF is pending its mode is looked at every 20 ms.
        // The first second idle sheds the code only the start ran.
        int n = ::poll(fds.data(), fds.size(), eof_pending_ ? 20 : shed_ ? -1 : 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            log::error("poll: {}", std::strerror(errno));
            break;
        }
        if (n == 0 && !shed_) {
            shed_startup_pages();
            shed_ = true;
        }
        check_terminal_eof();
        if (fds[2].revents) on_output(out_fd_, 1);
        if (fds[3].revents) on_output(err_fd_, 2);
        if (fds[1].revents) accept_client();
        if (fds[4].revents) health_tick();
        for (size_t i = 5; i < fds.size(); i++)
            if (fds[i].revents) on_client(i - 5);
        if (fds[0].revents) reap();
    }
    drain_outputs();
    finish();
    if (o_.exit_command.empty()) return 0;

    // The engine's cleanup (`bock container cleanup ID`), in this process:
    // its pid and start time stay the monitor's, so the container counts
    // as being cleaned up until it is done.
    std::vector<std::string> args = o_.exit_command;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    log::error("exec the exit command `{}`: {}", args[0], std::strerror(errno));
    return 125;
}

}  // namespace

Result<Options> parse_args(int argc, char** argv) {
    Options o;
    int i = 1;
    for (; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--") {
            for (i++; i < argc; i++) o.exit_command.push_back(argv[i]);
            break;
        }
        if (a == "--start") {
            o.start = true;
            continue;
        }
        if (i + 1 >= argc) return make_error("{}: a value is required", a).with_hint("see docs/monitor.md");
        const char* v = argv[++i];
        if (a == "--id") o.id = v;
        else if (a == "--dir") o.dir = v;
        else if (a == "--pid") o.pid = static_cast<pid_t>(BOCK_TRY(number(a, v)));
        else if (a == "--stdout-fd") o.stdout_fd = static_cast<int>(BOCK_TRY(number(a, v)));
        else if (a == "--stderr-fd") o.stderr_fd = static_cast<int>(BOCK_TRY(number(a, v)));
        else if (a == "--stdin-fd") o.stdin_fd = static_cast<int>(BOCK_TRY(number(a, v)));
        else if (a == "--pty-fd") o.pty_fd = static_cast<int>(BOCK_TRY(number(a, v)));
        else if (a == "--ready-fd") o.ready_fd = static_cast<int>(BOCK_TRY(number(a, v)));
        else if (a == "--log-driver") o.log_driver = v;
        else if (a == "--log-path") o.log_path = v;
        else if (a == "--log-max-size") o.log_max_size = static_cast<uint64_t>(BOCK_TRY(number(a, v)));
        else if (a == "--healthcheck-interval-ms") o.healthcheck_interval_ms = BOCK_TRY(number(a, v));
        else if (a == "--bock") o.bock = v;
        else return make_error("unknown option `{}`", a).with_hint("see docs/monitor.md");
    }
    if (o.id.empty() || o.dir.empty() || o.pid <= 0)
        return make_error("--id, --dir and --pid are required").with_hint("see docs/monitor.md");
    if (o.log_driver != "json-file" && o.log_driver != "none" && o.log_driver != "passthrough")
        return make_error("--log-driver `{}`: json-file, none or passthrough", o.log_driver);
    return o;
}

int run(const Options& opts) {
    Monitor m(opts);
    return m.run();
}

}  // namespace bock::monitor

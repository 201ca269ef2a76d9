// `bock attach` and the foreground run -i/-t: the client side of the
// monitor's attach socket (bock/monitor/protocol.hpp). Our stdin goes to
// the container (raw when it is a terminal and the container has one; the
// detach keys are looked for in it), its output to our stdout/stderr, our
// window size follows SIGWINCH.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/monitor/protocol.hpp"
#include "bock/runtime/container.hpp"
#include "container_dirs.hpp"
#include "lifecycle_internal.hpp"

namespace bock::engine {
namespace {

using monitor::Packet;

// Raw mode on a terminal for as long as it lives.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd, &saved_) < 0) return;
        struct termios raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd, TCSANOW, &raw) == 0) active_ = true;
    }
    ~RawTerminal() {
        if (active_) (void)::tcsetattr(fd_, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    struct termios saved_ = {};
    bool active_ = false;
};

Result<Fd> connect_attach(const ContainerDirs& dirs) {
    // Through an fd of the directory: the run directory's path can be
    // longer than sun_path.
    Fd dir = BOCK_TRY(sys::open(dirs.bundle, O_PATH | O_DIRECTORY));
    std::string path = fmt::format("/proc/self/fd/{}/{}", dir.get(), monitor::kAttachSocket);
    Fd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!s) return errno_error("create a socket");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return errno_error("connect to the container's monitor").with_hint("is the container running? see `bock ps -a`");
    return s;
}

bool send_packet(int sock, Packet kind, std::string_view data) {
    char buf[monitor::kMaxPacket];
    do {
        size_t n = std::min(data.size(), monitor::kMaxPacket - 1);
        buf[0] = static_cast<char>(kind);
        std::memcpy(buf + 1, data.data(), n);
        if (::send(sock, buf, n + 1, MSG_NOSIGNAL) < 0) return false;
        data.remove_prefix(n);
    } while (!data.empty());
    return true;
}

void send_size(int sock) {
    struct winsize ws = {};
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        (void)send_packet(sock, Packet::resize, fmt::format("{} {}", ws.ws_row, ws.ws_col));
}

// The exit code the monitor recorded, when the socket closed without one.
std::optional<int> recorded_exit(Context& ctx, const std::string& id) {
    for (int i = 0; i < 100; i++) {
        auto c = find_container(ctx, id);
        if (!c) return std::nullopt;
        if (c->status == "exited") return c->exit_code;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

// Our stdin ended: EOF for the container. On a terminal the monitor
// writes its EOF character (and again when the terminal's mode changes:
// docs/monitor.md, "The attach socket").
void end_stdin(int sock, bool& use_stdin) {
    (void)send_packet(sock, Packet::stdin_close, "");
    use_stdin = false;
}

// Complete lines and an EOF already waiting on a canonical terminal,
// passed on; `use_stdin` false after an EOF.
void forward_typeahead(int sock, bool& use_stdin) {
    struct pollfd p = {0, POLLIN, 0};
    while (use_stdin && ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        char in[4096];
        ssize_t n = ::read(0, in, sizeof in);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) end_stdin(sock, use_stdin);
        else if (!send_packet(sock, Packet::stdin_data, std::string_view(in, static_cast<size_t>(n)))) use_stdin = false;
    }
}

// The loop over an attached socket; nullopt when detached by the keys.
Result<std::optional<int>> attach_loop(Context& ctx, const std::string& id, int sock, bool tty,
                                       const AttachOptions& opts, const std::string& keys) {
    bool use_stdin = opts.stdin;
    std::optional<RawTerminal> raw;
    if (tty && use_stdin && ::isatty(0)) {
        // What was typed ahead while our terminal is still canonical is
        // read first: switching it to raw mode would turn a pending EOF
        // (script(1) passes its stdin's EOF on as ^D at once) into a NUL
        // byte, and the container's shell would wait forever.
        forward_typeahead(sock, use_stdin);
        if (use_stdin) raw.emplace(0);
    }
    // SIGWINCH resizes; without a terminal the usual termination signals
    // are passed on to the container (podman's --sig-proxy), which then
    // ends and we with it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (!tty)
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    Fd winch(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (tty) send_size(sock);
    size_t matched = 0;  // bytes of the detach keys seen so far (held back)
    char buf[monitor::kMaxPacket];
    for (;;) {
        struct pollfd fds[3] = {{sock, POLLIN, 0}, {use_stdin ? 0 : -1, POLLIN, 0}, {winch.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return errno_error("poll");
        }
        if (fds[2].revents) {
            struct signalfd_siginfo si;
            while (::read(winch.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGWINCH) {
                    if (tty) send_size(sock);
                } else if (auto r = kill_container(ctx, id, sig); !r) {
                    log::debug("pass signal {} on: {}", sig, r.error().to_string());
                }
            }
        }
        if (fds[0].revents) {
            ssize_t n = ::recv(sock, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                raw.reset();
                return recorded_exit(ctx, id).value_or(-1);
            }
            auto kind = static_cast<Packet>(buf[0]);
            if (kind == Packet::exit) {
                raw.reset();
                return std::atoi(std::string(buf + 1, static_cast<size_t>(n - 1)).c_str());
            }
            int out = kind == Packet::stderr_data ? 2 : 1;
            (void)sys::raw::write_all(out, buf + 1, static_cast<size_t>(n - 1));
        }
        if (use_stdin && fds[1].revents) {
            char in[4096];
            ssize_t n = ::read(0, in, sizeof in);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                end_stdin(sock, use_stdin);
                continue;
            }
            std::string data;
            for (ssize_t i = 0; i < n; i++) {
                char ch = in[i];
                if (!keys.empty() && ch == keys[matched]) {
                    if (++matched == keys.size()) {
                        if (!data.empty()) (void)send_packet(sock, Packet::stdin_data, data);
                        return std::optional<int>{};
                    }
                    continue;
                }
                data.append(keys, 0, matched);  // a partial match was ordinary input after all
                matched = 0;
                if (!keys.empty() && ch == keys[0]) {
                    matched = 1;
                    continue;
                }
                data += ch;
            }
            if (!data.empty() && !send_packet(sock, Packet::stdin_data, data)) use_stdin = false;
        }
    }
}

}  // namespace

Result<std::string> parse_detach_keys(const std::string& text) {
    std::string out;
    size_t i = 0;
    while (i <= text.size() && !text.empty()) {
        size_t comma = std::min(text.find(',', i), text.size());
        std::string k = text.substr(i, comma - i);
        if (k.starts_with("ctrl-") && k.size() == 6) {
            char c = k[5];
            if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 'a' + 1);
            else if (c == '@') out += '\0';
            else if (c == '[') out += '\x1b';
            else if (c == '\\') out += '\x1c';
            else if (c == ']') out += '\x1d';
            else if (c == '^') out += '\x1e';
            else if (c == '_') out += '\x1f';
            else return make_error("--detach-keys `{}`: unknown key `{}`", text, k);
        } else if (k.size() == 1) {
            out += k[0];
        } else {
            return make_error("--detach-keys `{}`: unknown key `{}`", text, k).with_hint("e.g. ctrl-p,ctrl-q or ctrl-a,d");
        }
        i = comma + 1;
        if (comma == text.size()) break;
    }
    return out;
}

Result<std::optional<int>> attach_container(Context& ctx, const std::string& key, const AttachOptions& opts) {
    auto c = BOCK_TRY(find_container(ctx, key));
    if (c.status != "running" && c.status != "created")
        return make_error("container {} is not running", c.rec.id.substr(0, 12)).with_hint("start it with `bock start -a`");
    if (!c.rec.detached) return make_error("container {} runs in the foreground of another bock", c.rec.id.substr(0, 12));
    auto keys = BOCK_TRY(parse_detach_keys(opts.detach_keys));
    auto sock = BOCK_TRY(connect_attach(ContainerDirs::for_id(ctx, c.rec.id)));
    return attach_loop(ctx, c.rec.id, sock.get(), c.rec.tty, opts, c.rec.tty ? keys : "");
}

Result<std::optional<int>> start_attached(Context& ctx, const std::string& key, const AttachOptions& opts) {
    auto c = BOCK_TRY(find_container(ctx, key));
    if (c.status == "running")
        return make_error("container {} is running already", key).with_hint("use `bock attach`");
    if (!c.rec.detached) {
        BOCK_TRY(start_container(ctx, key));
        return std::optional<int>{};
    }
    auto keys = BOCK_TRY(parse_detach_keys(opts.detach_keys));
    if (c.status != "created") {
        // An exited one starts with a new monitor; output before we
        // connect is in its log.
        BOCK_TRY(start_container(ctx, c.rec.id));
        auto sock = BOCK_TRY(connect_attach(ContainerDirs::for_id(ctx, c.rec.id)));
        return attach_loop(ctx, c.rec.id, sock.get(), c.rec.tty, opts, c.rec.tty ? keys : "");
    }
    // A created one is released only once we listen, so no output is missed.
    auto sock = BOCK_TRY(connect_attach(ContainerDirs::for_id(ctx, c.rec.id)));
    BOCK_TRY(start_container(ctx, c.rec.id));
    return attach_loop(ctx, c.rec.id, sock.get(), c.rec.tty, opts, c.rec.tty ? keys : "");
}

Result<int> run_attached(Context& ctx, const RunRequest& req, const AttachOptions& opts) {
    auto keys = BOCK_TRY(parse_detach_keys(opts.detach_keys));
    RunRequest r = req;
    if (r.tty && ::isatty(0)) {
        struct winsize ws = {};
        if (::ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row) r.console_size = std::pair<unsigned, unsigned>{ws.ws_row, ws.ws_col};
    }
    auto id = BOCK_TRY(create_container(ctx, r, false));
    auto dirs = ContainerDirs::for_id(ctx, id);
    auto sock = connect_attach(dirs);
    // Released only once we listen, so no output is missed.
    auto started = start_container(ctx, id);
    if (!sock || !started) {
        (void)remove_container(ctx, id, true);
        if (!sock) return std::move(sock).error();
        return std::move(started).error();
    }
    auto code = BOCK_TRY(attach_loop(ctx, id, sock->get(), r.tty, opts, r.tty ? keys : ""));
    if (!code) return 0;  // detached: it runs on
    if (r.remove) {
        // The cleanup removes it: wait for that, so it is gone when we return.
        for (int i = 0; i < 250 && fs::exists(dirs.record()); i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return *code;
}

}  // namespace bock::engine

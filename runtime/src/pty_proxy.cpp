// The runtime's own pty proxy for `exec -t` without a console socket
// (pty_proxy.hpp).
#include "pty_proxy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock::runtime {

namespace {

// The caller's terminal in raw mode for as long as this lives (only when
// stdin is a terminal); the old settings come back on every path.
class RawMode {
public:
    explicit RawMode(bool wanted) {
        if (!wanted || !::isatty(0) || ::tcgetattr(0, &old_) < 0) return;
        struct termios raw = old_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(0, TCSANOW, &raw) == 0) active_ = true;
    }
    ~RawMode() {
        if (active_) (void)::tcsetattr(0, TCSANOW, &old_);
    }
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

private:
    struct termios old_ = {};
    bool active_ = false;
};

void copy_size(int master) {
    struct winsize ws = {};
    for (int fd : {0, 1})
        if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
            (void)::ioctl(master, TIOCSWINSZ, &ws);
            return;
        }
}

// Reads what `from` has and writes it all to `to`. False at EOF or EIO
// (a pty master whose every peer is closed reads EIO).
bool pump(int from, int to) {
    char buf[8192];
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    return sys::raw::write_all(to, buf, static_cast<size_t>(n)) >= 0;
}

}  // namespace

std::optional<ConsoleSize> caller_console_size() {
    struct winsize ws = {};
    for (int fd : {0, 1})
        if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && (ws.ws_row || ws.ws_col)) return ConsoleSize{ws.ws_row, ws.ws_col};
    return std::nullopt;
}

Result<PtyProxy> PtyProxy::make() {
    auto pair = BOCK_TRY_CTX(sys::socketpair_seqpacket(), "make the terminal's socket pair");
    PtyProxy p;
    p.own_end_ = std::move(pair.first);
    p.process_end_ = std::move(pair.second);
    return p;
}

Result<void> PtyProxy::receive_master() {
    process_end_.reset();
    char name[256];
    int fd = -1;
    ssize_t n = sys::raw::recv_with_fd(own_end_.get(), name, sizeof name, &fd);
    master_ = Fd(fd);
    if (n < 0) return Error(static_cast<int>(-n), "receive the terminal from the exec'd process");
    if (!master_) return make_error("the exec'd process sent no terminal");
    own_end_.reset();
    return ok();
}

Result<int> PtyProxy::run(Pid& proc, int wake_fd, bool forward_stdin) {
    auto pidfd = BOCK_TRY_CTX(sys::pidfd_open(proc.get()), "watch the exec'd process");
    // Without -i the caller's terminal keeps its line discipline: ^C is a
    // SIGINT to the runtime, forwarded to the process.
    RawMode raw(forward_stdin);
    copy_size(master_.get());
    bool stdin_open = forward_stdin, exited = false;
    for (;;) {
        struct pollfd p[4] = {{master_.get(), POLLIN, 0}, {wake_fd, POLLIN, 0}, {pidfd.get(), POLLIN, 0},
                              {stdin_open ? 0 : -1, POLLIN, 0}};
        int r = ::poll(p, 4, exited ? 0 : -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno_error("poll the terminal");
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(master_.get(), 1)) break;
        } else if (exited) {
            break;  // the process is gone and its output is drained
        }
        if (p[1].revents & POLLIN) {
            unsigned char sig[16];
            ssize_t n = ::read(wake_fd, sig, sizeof sig);
            for (ssize_t i = 0; i < n; ++i)
                if (sig[i] == SIGWINCH) copy_size(master_.get());
        }
        if (p[2].revents & POLLIN) exited = true;
        if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(0, master_.get())) stdin_open = false;
        }
    }
    master_.reset();
    return proc.wait();
}

}  // namespace bock::runtime

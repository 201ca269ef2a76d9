// Terminals: the parent connects the --console-socket, the child opens the
// pty and hands its master over (terminal.hpp).
//
// The child opens /dev/pts/ptmx (the container's devpts instance, mounted
// with newinstance,ptmxmode=0666 by the spec's /dev/pts mount; /dev/ptmx as
// the fallback), unlocks it and gets the peer with TIOCGPTPEER, so no path
// of the peer is looked up (no race with a /dev/pts/N swapped under us).
// Then: the size from process.consoleSize, SCM_RIGHTS to the caller, a new
// session with the peer as its controlling terminal, the peer on 0/1/2.
#include "terminal.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bock/common/sys.hpp"
#include "child.hpp"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace bock::runtime {

Result<void> plan_terminal(Plan& plan, bool terminal, const std::string& socket_path) {
    if (!terminal) {
        if (!socket_path.empty())
            return make_error("--console-socket: process.terminal is false, there is no console to send")
                .with_hint("set \"terminal\": true in the process, or drop --console-socket");
        return ok();
    }
    if (socket_path.empty())
        return make_error("process.terminal: a terminal needs --console-socket (the pty master is sent there)")
            .with_hint("pass --console-socket PATH, or set \"terminal\": false");
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path)
        return make_error("--console-socket `{}`: path too long for a unix socket (at most {} bytes)", socket_path,
                          sizeof addr.sun_path - 1);
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return errno_error("--console-socket `{}`: create a socket", socket_path);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
        return errno_error("--console-socket `{}`: connect", socket_path);
    plan.console_socket = std::move(sock);
    return ok();
}

namespace {

// One SCM_RIGHTS message carrying `fd`, with `name` as its data.
int send_fd(int sock, int fd, const char* name) {
    ssize_t n = sys::raw::send_with_fd(sock, name, std::strlen(name), fd);
    return n < 0 ? static_cast<int>(n) : 0;
}

}  // namespace

void setup_terminal(Child& c) {
    const Plan& p = c.plan;
    int sock = p.console_socket.get();
    if (sock < 0) return;
    const char* ptmx = "/dev/pts/ptmx";
    int master = ::open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) {
        ptmx = "/dev/ptmx";
        master = ::open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
    if (master < 0) child_fail(c, Step::terminal, errno, -1, "/dev/pts/ptmx");
    int unlock = 0;
    if (::ioctl(master, TIOCSPTLCK, &unlock) < 0) child_fail(c, Step::terminal, errno, -1, ptmx);
    int peer = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (peer < 0) child_fail(c, Step::terminal, errno, -1, ptmx);
    if (p.console_rows || p.console_cols) {
        struct winsize ws = {p.console_rows, p.console_cols, 0, 0};
        if (::ioctl(peer, TIOCSWINSZ, &ws) < 0) child_fail(c, Step::terminal, errno, -1, "TIOCSWINSZ");
    }
    // The process's user owns its terminal (as runc fixes stdio ownership).
    if (p.uid != 0) (void)::fchown(peer, p.uid, static_cast<gid_t>(-1));
    int r = send_fd(sock, master, ptmx);
    if (r < 0) child_fail(c, Step::console_send, -r);
    ::close(master);
    ::close(sock);
    if (::setsid() < 0) child_fail(c, Step::controlling_tty, errno, -1, "setsid");
    if (::ioctl(peer, TIOCSCTTY, 0) < 0) child_fail(c, Step::controlling_tty, errno, -1, "TIOCSCTTY");
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(peer, fd) < 0) child_fail(c, Step::controlling_tty, errno, fd, "dup2");
    if (peer > 2) ::close(peer);
}

}  // namespace bock::runtime

// Seccomp user notification (seccomp_notify.hpp): the fd's way from the
// container process to the seccomp agent.
//
// Where the filter goes in (process.cpp): with a listener and
// no_new_privs, at the end of the process setup (after the user switch,
// the capabilities and close_range), before the exec-fifo wait of a created
// container, so that `create` itself delivers the fd, as runc and crun do.
// Without no_new_privs the load needs CAP_SYS_ADMIN and stays before the
// user switch. Either way the profile must allow what the runtime does
// after the load: sendmsg (never notified: refused by build_seccomp), then
// recvmsg and close, and, for a created container, open/write/close of the
// exec fifo, then execve; without no_new_privs also prctl, chdir,
// setgroups, setres[ug]id, capget/capset and close_range. A notified one
// of those waits until the agent answers (it has the fd by then).
#include "seccomp_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "child.hpp"
#include "messages.hpp"
#include "plan.hpp"

namespace bock::runtime {

using nlohmann::json;

namespace {

// The state's bundle is absolute (runtime-spec); `run` may be given "." or nothing.
std::string absolute(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char* p = ::realpath(path.empty() ? "." : path.c_str(), nullptr);
    if (!p) return path;
    std::string out = p;
    ::free(p);
    return out;
}

json base_state(const std::string& oci_version, const std::string& id, const char* status,
                const std::string& bundle, const std::map<std::string, std::string>& annotations) {
    json j = {{"ociVersion", oci_version}, {"id", id}, {"status", status}, {"bundle", bundle}};
    if (!annotations.empty()) j["annotations"] = annotations;
    return j;
}

Result<Fd> connect_listener(const std::string& path) {
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)  // checked by build_seccomp too
        return make_error("linux.seccomp.listenerPath `{}`: path too long for a unix socket", path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return errno_error("linux.seccomp.listenerPath `{}`: create a socket", path);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
        return errno_error("linux.seccomp.listenerPath `{}`: connect to the seccomp agent", path);
    return sock;
}

// The whole document in one sendmsg with the fd; the rest, if the socket
// took only part of it, in plain sends.
Result<void> send_state(int sock, const std::string& text, int fd, const std::string& path) {
    ssize_t n = sys::raw::send_with_fd(sock, text.data(), text.size(), fd);
    if (n < 0)
        return Error(static_cast<int>(-n), fmt::format("linux.seccomp.listenerPath `{}`: send the container state", path));
    size_t done = static_cast<size_t>(n);
    while (done < text.size()) {
        n = ::send(sock, text.data() + done, text.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error("linux.seccomp.listenerPath `{}`: send the container state", path);
        done += static_cast<size_t>(n);
    }
    return ok();
}

}  // namespace

void plan_listener_state(Plan& plan, const Spec& spec, const RunOptions& opts) {
    SeccompListener& l = plan.seccomp.listener;
    if (l.path.empty()) return;
    l.state = base_state(spec.oci_version, opts.id, "creating", absolute(opts.bundle), spec.annotations);
}

void plan_listener_state(Plan& plan, const ContainerState& st) {
    SeccompListener& l = plan.seccomp.listener;
    if (l.path.empty()) return;
    l.state = base_state(st.oci_version, st.id, "running", st.bundle, st.annotations);
    l.state["pid"] = st.pid;
}

json container_process_state(const SeccompListener& l, pid_t pid) {
    json state = l.state.is_object() ? l.state : json::object();
    if (!state.contains("pid")) state["pid"] = pid;  // exec: the container's, set by plan_listener_state
    json j = {{"ociVersion", kRuntimeSpecVersion}, {"fds", {"seccompFd"}}, {"pid", pid}, {"state", state}};
    if (!l.metadata.empty()) j["metadata"] = l.metadata;
    return j;
}

Result<void> deliver_to_listener(const Plan& plan, pid_t pid, int sock, Fd notify_fd) {
    const SeccompListener& l = plan.seccomp.listener;
    if (l.path.empty()) return make_error("the container process sent a seccomp notify fd, but there is no listener");
    if (!notify_fd) return make_error("the container process sent no seccomp notify fd");
    Fd conn = BOCK_TRY(connect_listener(l.path));
    BOCK_TRY(send_state(conn.get(), container_process_state(l, pid).dump(), notify_fd.get(), l.path));
    log::debug("seccomp notify fd of process {} sent to `{}`", pid, l.path);
    conn.reset();  // one state per connection (runtime-spec)
    notify_fd.reset();
    int r = send_message(sock, MessageKind::seccomp_done);
    if (r < 0) return Error(-r, "tell the container process the seccomp listener has its fd");
    return ok();
}

void hand_over_listener(Child& c, int notify_fd) {
    int r = send_message_fd(c.sock, MessageKind::seccomp_fd, notify_fd);
    ::close(notify_fd);
    if (r < 0) child_fail(c, Step::seccomp_listener, -r);
    Message m;
    r = recv_message(c.sock, m);
    if (r == 0) ::_exit(125);  // the parent gave up (and said why)
    if (r < 0) child_fail(c, Step::seccomp_listener, -r);
    if (m.kind != MessageKind::seccomp_done) child_fail(c, Step::seccomp_listener, EPROTO);
}

}  // namespace bock::runtime

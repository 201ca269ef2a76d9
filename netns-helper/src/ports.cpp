#include "ports.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "bock/common/fs.hpp"
#include "forwarder.hpp"

namespace bock::netns {

int read_unprivileged_port_start() {
    auto s = fs::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    if (!s) return -1;
    try {
        return std::stoi(*s);
    } catch (...) {
        return -1;
    }
}

std::string describe(const Forward& f) {
    return fmt::format("{} -> {}/{}", f.host.to_string(), f.container_port, proto_name(f.proto));
}

Result<Fd> bind_published(const Forward& f, int port_start) {
    auto what = fmt::format("publish {}/{}", f.host.to_string(), proto_name(f.proto));
    int type = f.proto == Proto::tcp ? SOCK_STREAM : SOCK_DGRAM;
    int s = ::socket(f.host.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_error("{}: socket", what);
    Fd fd(s);
    int one = 1;
    if (f.proto == Proto::tcp) ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len;
    if (f.host.family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_addr = f.host.v4;
        sin->sin_port = htons(f.host.port);
        len = sizeof *sin;
    } else {
        ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = f.host.v6;
        sin6->sin6_port = htons(f.host.port);
        len = sizeof *sin6;
    }
    if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        int e = errno;
        if (e == EADDRINUSE)
            return Error(e, fmt::format("{}: port {} is already in use", what, f.host.port))
                .with_hint("choose another host port, or stop what listens on it");
        if (e == EACCES && port_start >= 0 && f.host.port < port_start)
            return Error(e, fmt::format("{}: port {} is privileged: net.ipv4.ip_unprivileged_port_start is {}", what,
                                        f.host.port, port_start))
                .with_hint(fmt::format("use a host port of {} or above, or as root: sysctl "
                                       "net.ipv4.ip_unprivileged_port_start={}",
                                       port_start, f.host.port));
        if (e == EADDRNOTAVAIL)
            return Error(e, fmt::format("{}: {} is not an address of this host", what, f.host.ip_string()));
        return Error(e, fmt::format("{}: bind", what));
    }
    if (f.proto == Proto::tcp && ::listen(s, 4096) < 0) return errno_error("{}: listen", what);
    return fd;
}

void Ports::attach(Forwarder* fw) {
    fw_ = fw;
    for (auto& [id, fd] : waiting_) {
        auto it = std::find_if(ports_.begin(), ports_.end(), [id = id](const auto& p) { return p.id == id; });
        fw_->add(id, it->f, std::move(fd));
    }
    waiting_.clear();
}

Result<int> Ports::add(const Forward& f, const std::string& owner, pid_t watch_pid) {
    auto fd = BOCK_TRY(bind_published(f, port_start_));
    int id = next_id_++;
    ports_.push_back(PublishedPort{id, f, owner, watch_pid});
    if (fw_)
        fw_->add(id, f, std::move(fd));
    else
        waiting_.emplace_back(id, std::move(fd));
    return id;
}

Result<void> Ports::remove(int id) {
    auto it = std::find_if(ports_.begin(), ports_.end(), [id](const auto& p) { return p.id == id; });
    if (it == ports_.end()) return make_error("remove forward {}: no such forward", id);
    ports_.erase(it);
    if (fw_) fw_->remove(id);
    std::erase_if(waiting_, [id](const auto& w) { return w.first == id; });
    return ok();
}

int Ports::remove_owner(const std::string& owner, pid_t watch_pid) {
    std::vector<int> ids;
    for (const auto& p : ports_)
        if (p.owner == owner && (watch_pid == 0 || p.watch_pid == watch_pid)) ids.push_back(p.id);
    for (int id : ids) (void)remove(id);
    return static_cast<int>(ids.size());
}

void Ports::remove_watching(pid_t pid) {
    std::vector<int> ids;
    for (const auto& p : ports_)
        if (p.watch_pid == pid) ids.push_back(p.id);
    for (int id : ids) (void)remove(id);
}

}  // namespace bock::netns

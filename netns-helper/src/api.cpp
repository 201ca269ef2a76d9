#include "api.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "event_loop.hpp"
#include "ports.hpp"

namespace bock::netns {

namespace {

constexpr size_t kMaxRequest = 64 * 1024;
constexpr size_t kMaxClients = 64;

using nlohmann::json;

json error_reply(const Error& e) {
    json r{{"ok", false}, {"error", e.message()}};
    if (!e.hint().empty()) r["hint"] = e.hint();
    return r;
}

json forward_json(const PublishedPort& p) {
    json j{{"id", p.id},
           {"proto", proto_name(p.f.proto)},
           {"host_ip", p.f.host.ip_string()},
           {"host_port", p.f.host.port},
           {"container_port", p.f.container_port}};
    if (p.f.target) j["container_ip"] = p.f.target->ip_string();
    if (!p.owner.empty()) j["owner"] = p.owner;
    if (p.watch_pid > 0) j["watch_pid"] = p.watch_pid;
    return j;
}

// {"spec": "..."} or {"proto", "host_ip", "host_port", "container_port"},
// and "container_ip" (where to connect; default the loopback).
Result<Forward> forward_from(const json& req);

Result<Forward> forward_fields(const json& req) {
    if (req.contains("spec")) {
        if (!req["spec"].is_string()) return make_error("`spec` must be a string");
        return parse_publish(req["spec"].get<std::string>());
    }
    auto proto = req.value("proto", std::string("tcp"));
    auto ip = req.value("host_ip", std::string());
    if (!req.contains("host_port") || !req["host_port"].is_number_unsigned())
        return make_error("`host_port` must be a number");
    if (!req.contains("container_port") || !req["container_port"].is_number_unsigned())
        return make_error("`container_port` must be a number");
    std::string host = ip.empty() ? "" : (ip.find(':') != std::string::npos ? "[" + ip + "]:" : ip + ":");
    return parse_publish(fmt::format("{}{}:{}/{}", host, req["host_port"].get<unsigned>(),
                                     req["container_port"].get<unsigned>(), proto));
}

Result<Forward> forward_from(const json& req) {
    auto f = BOCK_TRY(forward_fields(req));
    if (req.contains("container_ip")) {
        if (!req["container_ip"].is_string()) return make_error("`container_ip` must be a string");
        auto ip = req["container_ip"].get<std::string>();
        auto a = BOCK_TRY_CTX(parse_host_addr(ip, f.container_port), "container_ip");
        a.port = f.container_port;
        f.target = a;
    }
    return f;
}

}  // namespace

json handle_api_request(const std::string& text, Ports& ports, const WatchPid& watch) {
    json req = json::parse(text, nullptr, false);
    if (req.is_discarded() || !req.is_object()) return error_reply(make_error("request: not a JSON object"));
    try {
        auto op = req.value("op", std::string());
        if (op == "list") {
            json list = json::array();
            for (const auto& p : ports.list()) list.push_back(forward_json(p));
            return json{{"ok", true}, {"forwards", list}};
        }
        if (op == "add") {
            auto f = forward_from(req);
            if (!f) return error_reply(f.error());
            auto owner = req.value("owner", std::string());
            pid_t pid = req.value("watch_pid", pid_t{0});
            if (pid < 0 || (pid > 0 && !watch)) return error_reply(make_error("`watch_pid` {}: not watchable", pid));
            auto id = ports.add(*f, owner, pid);
            if (!id) return error_reply(id.error());
            if (pid > 0)
                if (auto w = watch(pid); !w) {
                    (void)ports.remove(*id);
                    return error_reply(w.error());
                }
            return json{{"ok", true}, {"id", *id}};
        }
        if (op == "remove_owner") {
            if (!req.contains("owner") || !req["owner"].is_string() || req["owner"].get<std::string>().empty())
                return error_reply(make_error("remove_owner: `owner` must be a non-empty string"));
            int n = ports.remove_owner(req["owner"].get<std::string>(), req.value("watch_pid", pid_t{0}));
            return json{{"ok", true}, {"removed", n}};
        }
        if (op == "remove") {
            if (!req.contains("id") || !req["id"].is_number_integer())
                return error_reply(make_error("remove: `id` must be a number"));
            auto r = ports.remove(req["id"].get<int>());
            if (!r) return error_reply(r.error());
            return json{{"ok", true}};
        }
        return error_reply(make_error("unknown op `{}`", op).with_hint("ops: add, list, remove, remove_owner"));
    } catch (const json::exception& e) {
        return error_reply(make_error("request: {}", e.what()));
    }
}

struct ApiServer::Client {
    Fd fd;
    std::string buf;
};

ApiServer::~ApiServer() = default;

Result<std::unique_ptr<ApiServer>> ApiServer::listen(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return make_error("api socket `{}`: path too long", path);
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_error("api socket `{}`: socket", path);
    auto server = std::unique_ptr<ApiServer>(new ApiServer());
    server->fd_ = Fd(s);
    mode_t old = ::umask(0177);
    int r = ::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::umask(old);
    if (r < 0) return errno_error("api socket `{}`: bind", path);
    if (::listen(s, 16) < 0) return errno_error("api socket `{}`: listen", path);
    return server;
}

void ApiServer::serve(EventLoop& loop, Ports& ports) {
    loop_ = &loop;
    ports_ = &ports;
    loop.watch(fd_.get(), POLLIN, [this](short) { accept_clients(); });
}

void ApiServer::accept_clients() {
    for (;;) {
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) return;
        if (clients_.size() >= kMaxClients) {
            ::close(c);
            continue;
        }
        auto client = std::make_unique<Client>();
        client->fd = Fd(c);
        Client* raw = client.get();
        clients_.push_back(std::move(client));
        loop_->watch(c, POLLIN, [this, raw](short) { on_client(raw); });
    }
}

void ApiServer::on_client(Client* c) {
    char chunk[4096];
    bool eof = false;
    for (;;) {
        ssize_t n = ::recv(c->fd.get(), chunk, sizeof chunk, 0);
        if (n > 0) {
            c->buf.append(chunk, static_cast<size_t>(n));
            if (c->buf.size() > kMaxRequest) break;
            continue;
        }
        if (n < 0 && errno == EAGAIN) break;
        eof = true;
        break;
    }
    auto nl = c->buf.find('\n');
    bool complete = nl != std::string::npos || eof || c->buf.size() > kMaxRequest;
    if (!complete) return;
    if (!c->buf.empty()) {
        std::string req = nl != std::string::npos ? c->buf.substr(0, nl) : c->buf;
        WatchPid watch = [this](pid_t pid) { return watch_pid(pid); };
        auto reply = c->buf.size() > kMaxRequest ? error_reply(make_error("request: larger than 64 KiB"))
                                                 : handle_api_request(req, *ports_, watch);
        std::string out = reply.dump() + "\n";
        (void)::send(c->fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    }
    loop_->unwatch(c->fd.get());
    std::erase_if(clients_, [c](const auto& p) { return p.get() == c; });
}

Result<void> ApiServer::watch_pid(pid_t pid) {
    if (watched_.count(pid)) return ok();
    auto fd = BOCK_TRY_CTX(sys::pidfd_open(pid), fmt::format("watch process {}", pid));
    int raw = fd.get();
    watched_.emplace(pid, std::move(fd));
    loop_->watch(raw, POLLIN, [this, pid, raw](short) {
        ports_->remove_watching(pid);
        loop_->unwatch(raw);
        watched_.erase(pid);
        log::debug("process {} exited: its forwards removed", pid);
    });
    return ok();
}

}  // namespace bock::netns

#include "api.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

#include "bock/common/log.hpp"
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
    return json{{"id", p.id},
                {"proto", proto_name(p.f.proto)},
                {"host_ip", p.f.host.ip_string()},
                {"host_port", p.f.host.port},
                {"container_port", p.f.container_port}};
}

// {"spec": "..."} or {"proto", "host_ip", "host_port", "container_port"}.
Result<Forward> forward_from(const json& req) {
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

}  // namespace

json handle_api_request(const std::string& text, Ports& ports) {
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
            auto id = ports.add(*f);
            if (!id) return error_reply(id.error());
            return json{{"ok", true}, {"id", *id}};
        }
        if (op == "remove") {
            if (!req.contains("id") || !req["id"].is_number_integer())
                return error_reply(make_error("remove: `id` must be a number"));
            auto r = ports.remove(req["id"].get<int>());
            if (!r) return error_reply(r.error());
            return json{{"ok", true}};
        }
        return error_reply(make_error("unknown op `{}`", op).with_hint("ops: add, list, remove"));
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
        auto reply = c->buf.size() > kMaxRequest ? error_reply(make_error("request: larger than 64 KiB"))
                                                 : handle_api_request(req, *ports_);
        std::string out = reply.dump() + "\n";
        (void)::send(c->fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    }
    loop_->unwatch(c->fd.get());
    std::erase_if(clients_, [c](const auto& p) { return p.get() == c; });
}

}  // namespace bock::netns

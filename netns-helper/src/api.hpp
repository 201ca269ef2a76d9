// The JSON API on a unix socket (--api-socket), for the engine: one request
// per connection, one JSON object terminated by a newline (or by the
// client's shutdown of its write side), one JSON reply line, then the
// helper closes. The requests and replies are in docs/netns-helper.md.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::netns {

class EventLoop;
class Ports;

// Called for an added forward's `watch_pid`: watch that process and remove
// its forwards when it exits; an error (it is gone already) undoes the add.
using WatchPid = std::function<Result<void>(pid_t)>;

// Handles one request (pure: the unit tests call it directly; without
// `watch`, `watch_pid` is refused).
nlohmann::json handle_api_request(const std::string& text, Ports& ports, const WatchPid& watch = {});

class ApiServer {
public:
    // Binds and listens; the socket file is created with mode 0600.
    static Result<std::unique_ptr<ApiServer>> listen(const std::string& path);
    ~ApiServer();
    // Starts serving on the loop (after the sandbox: the socket is bound).
    void serve(EventLoop& loop, Ports& ports);

private:
    struct Client;
    void accept_clients();
    void on_client(Client* c);
    Result<void> watch_pid(pid_t pid);

    Fd fd_;
    EventLoop* loop_ = nullptr;
    Ports* ports_ = nullptr;
    std::vector<std::unique_ptr<Client>> clients_;
    std::map<pid_t, Fd> watched_;  // pidfds of the processes whose forwards go with them
};

}  // namespace bock::netns

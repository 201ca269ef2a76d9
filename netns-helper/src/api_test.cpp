#include <catch2/catch.hpp>

#include "api.hpp"
#include "ports.hpp"

using namespace bock::netns;
using nlohmann::json;

// No forwarder attached: the listeners are bound for real (127.0.0.1, a
// high UDP port) and wait in the table.
TEST_CASE("the API adds, lists and removes forwards and explains errors", "[netns]") {
    Ports ports(1024);
    auto r = handle_api_request(R"({"op":"list"})", ports);
    CHECK(r["ok"] == true);
    CHECK(r["forwards"].empty());

    r = handle_api_request(R"({"op":"add","spec":"127.0.0.1:0:80"})", ports);
    CHECK(r["ok"] == false);  // port 0 is not a port
    r = handle_api_request(R"({"op":"add","proto":"sctp","host_port":40123,"container_port":80})", ports);
    CHECK(r["ok"] == false);
    CHECK(r["error"].get<std::string>().find("sctp") != std::string::npos);
    r = handle_api_request(R"({"op":"add","host_port":"x","container_port":80})", ports);
    CHECK(r["ok"] == false);

    r = handle_api_request(R"({"op":"add","proto":"udp","host_ip":"127.0.0.1","host_port":40124,"container_port":53})", ports);
    INFO(r.dump());
    REQUIRE(r["ok"] == true);
    int id = r["id"];
    r = handle_api_request(R"({"op":"list"})", ports);
    REQUIRE(r["forwards"].size() == 1);
    CHECK(r["forwards"][0]["proto"] == "udp");
    CHECK(r["forwards"][0]["host_ip"] == "127.0.0.1");

    // The same port again: in use, named.
    r = handle_api_request(R"({"op":"add","spec":"127.0.0.1:40124:53/udp"})", ports);
    CHECK(r["ok"] == false);
    CHECK(r["error"] == "publish 127.0.0.1:40124/udp: port 40124 is already in use");

    CHECK(handle_api_request(json{{"op", "remove"}, {"id", id}}.dump(), ports)["ok"] == true);
    CHECK(handle_api_request(json{{"op", "remove"}, {"id", id}}.dump(), ports)["ok"] == false);
    CHECK(handle_api_request("not json", ports)["ok"] == false);
    CHECK(handle_api_request(R"({"op":"reboot"})", ports)["hint"] == "ops: add, list, remove, remove_owner");
}

TEST_CASE("the API's forwards to an address, by owner, watching a process", "[netns]") {
    Ports ports(1024);
    std::vector<pid_t> watched;
    WatchPid watch = [&](pid_t pid) -> bock::Result<void> {
        if (pid == 999999) return bock::make_error("watch process {}: no such process", pid);
        watched.push_back(pid);
        return bock::ok();
    };
    auto r = handle_api_request(
        R"({"op":"add","spec":"127.0.0.1:40125:80","container_ip":"10.89.0.2","owner":"abc","watch_pid":42})", ports,
        watch);
    INFO(r.dump());
    REQUIRE(r["ok"] == true);
    CHECK(watched == std::vector<pid_t>{42});
    r = handle_api_request(R"({"op":"add","spec":"127.0.0.1:40126:81","owner":"abc"})", ports, watch);
    REQUIRE(r["ok"] == true);
    r = handle_api_request(R"({"op":"list"})", ports);
    REQUIRE(r["forwards"].size() == 2);
    CHECK(r["forwards"][0]["container_ip"] == "10.89.0.2");
    CHECK(r["forwards"][0]["owner"] == "abc");
    CHECK(r["forwards"][0]["watch_pid"] == 42);
    CHECK(!r["forwards"][1].contains("container_ip"));
    // Not an address; a process gone already (the add is undone: the port is free).
    CHECK(handle_api_request(R"({"op":"add","spec":"127.0.0.1:40127:80","container_ip":"web"})", ports)["ok"] == false);
    r = handle_api_request(R"({"op":"add","spec":"127.0.0.1:40127:80","watch_pid":999999})", ports, watch);
    CHECK(r["ok"] == false);
    CHECK(handle_api_request(R"({"op":"add","spec":"127.0.0.1:40127:80","watch_pid":7})", ports)["ok"] == false);
    CHECK(ports.list().size() == 2);
    // The process exited: its forwards go, the others stay.
    ports.remove_watching(42);
    REQUIRE(ports.list().size() == 1);
    CHECK(ports.list()[0].f.container_port == 81);
    r = handle_api_request(R"({"op":"remove_owner","owner":"abc"})", ports);
    CHECK(r["removed"] == 1);
    CHECK(ports.list().empty());
    CHECK(handle_api_request(R"({"op":"remove_owner"})", ports)["ok"] == false);
}

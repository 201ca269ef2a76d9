#include <catch2/catch.hpp>

#include "bock/netns/options.hpp"

using namespace bock::netns;

TEST_CASE("publish specs", "[netns]") {
    auto f = parse_publish("8080:80");
    REQUIRE(f);
    CHECK(f->host.port == 8080);
    CHECK(f->container_port == 80);
    CHECK(f->any_host_ip);
    CHECK(f->proto == Proto::tcp);

    f = parse_publish("127.0.0.1:5353:53/udp");
    REQUIRE(f);
    CHECK(f->host.ip_string() == "127.0.0.1");
    CHECK(f->proto == Proto::udp);
    CHECK(!f->any_host_ip);

    f = parse_publish("[::1]:8080:80/tcp");
    REQUIRE(f);
    CHECK(f->host.family == AF_INET6);
    CHECK(f->host.to_string() == "[::1]:8080");

    CHECK_FALSE(parse_publish("80"));
    CHECK_FALSE(parse_publish("1:2/sctp"));
    CHECK_FALSE(parse_publish("0:80"));
    CHECK_FALSE(parse_publish("70000:80"));
    CHECK_FALSE(parse_publish("nothost:1:2"));
    CHECK(parse_publish("1:2/sctp").error().message().find("sctp") != std::string::npos);
}

TEST_CASE("dns upstream addresses", "[netns]") {
    auto a = parse_host_addr("127.0.0.1", 53);
    REQUIRE(a);
    CHECK(a->to_string() == "127.0.0.1:53");
    a = parse_host_addr("127.0.0.1:5300", 53);
    REQUIRE(a);
    CHECK(a->port == 5300);
    a = parse_host_addr("::1", 53);
    REQUIRE(a);
    CHECK(a->to_string() == "[::1]:53");
    a = parse_host_addr("[::1]:5300", 53);
    REQUIRE(a);
    CHECK(a->port == 5300);
    CHECK_FALSE(parse_host_addr("example.org", 53));
    CHECK_FALSE(parse_host_addr("[::1", 53));
}

TEST_CASE("command lines", "[netns]") {
    auto parse = [](std::vector<std::string> args) {
        std::vector<char*> argv;
        static std::string name = "bock-netns";
        argv.push_back(name.data());
        for (auto& a : args) argv.push_back(a.data());
        bool help = false;
        return parse_options(static_cast<int>(argv.size()), argv.data(), help);
    };
    auto o = parse({"--netns-pid", "42", "--ready-fd", "3", "-p", "8080:80", "--publish", "53:53/udp"});
    REQUIRE(o);
    CHECK(o->watch_pid == 42);
    CHECK(o->publish.size() == 2);
    CHECK(o->mtu == 65520);
    CHECK_FALSE(parse({}));
    CHECK_FALSE(parse({"--netns-pid", "1", "--netns-path", "/x"}));
    CHECK_FALSE(parse({"--netns-pid", "1", "--bogus"}));
    CHECK_FALSE(parse({"--netns-pid", "1", "--mtu", "500"}));
    // The pid (and its namespace) received later: no pid to watch yet; exclusive with
    // the other two and with --userns-path.
    o = parse({"--netns-sock", "4", "--ready-fd", "3"});
    REQUIRE(o);
    CHECK(o->netns_sock == 4);
    CHECK(o->watch_pid == 0);
    CHECK_FALSE(parse({"--netns-sock", "4", "--netns-pid", "1"}));
    CHECK_FALSE(parse({"--netns-sock", "4", "--netns-path", "/x"}));
    CHECK_FALSE(parse({"--netns-sock", "4", "--userns-path", "/proc/1/ns/user"}));
    // Root's service networks: published ports only, no TAP.
    o = parse({"--netns-path", "/proc/self/ns/net", "--forward-only", "--api-socket", "/x.sock"});
    REQUIRE(o);
    CHECK(o->forward_only);
    CHECK_FALSE(parse({"--netns-pid", "1"})->forward_only);
}

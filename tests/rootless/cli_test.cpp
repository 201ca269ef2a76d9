// What `bock` says about its own command line, as a podman user meets it:
// unknown flags and commands named, commands not built yet saying so, ps's
// columns and order, and the session holder's name in ps.
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;
using Catch::Contains;

TEST_CASE("an unknown flag is named, with the command's usage line", "[cli]") {
    // run takes IMAGE and everything after it verbatim; a flag before IMAGE
    // is still checked.
    auto r = cli({"run", "--foo", "busybox", "true"});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Contains("unknown flag: --foo"));
    CHECK_THAT(r.err, Contains("Usage: bock run [OPTIONS] IMAGE"));
    CHECK_THAT(r.err, !Contains("invalid reference"));

    r = cli({"ps", "--foo"});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Contains("unknown flag: --foo"));
    CHECK_THAT(r.err, Contains("Usage: bock ps [OPTIONS]"));

    r = cli({"image", "ls", "--bar=1"});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Contains("unknown flag: --bar"));
    CHECK_THAT(r.err, Contains("Usage: bock image ls"));
}

TEST_CASE("an unknown command is named, with the closest known ones", "[cli]") {
    auto r = cli({"frob"});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Contains("unrecognized command \"frob\""));

    r = cli({"imgaes"});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Contains("unrecognized command \"imgaes\""));
    CHECK_THAT(r.err, Contains("bock images"));
}

TEST_CASE("every podman command is built; compose too", "[cli]") {
    // compose was the last one not built (issue 21): it is now a command
    // with its subcommands, not the "not built yet" placeholder.
    auto c = cli({"compose", "--help"});
    INFO(c.err);
    CHECK(c.code == 0);
    CHECK_THAT(c.out, Contains("up") && Contains("down") && Contains("config"));
    auto x = cli({"compose", "x", "--whatever"});
    CHECK(x.code == 125);
    CHECK_THAT(x.err, !Contains("not built yet"));
    // -i/-t are built (docs/monitor.md; a real terminal is tested in [lifecycle-tty]).
    auto r = cli({"run", "--rm", "-it", "busybox", "true"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_THAT(r.err, !Contains("not built yet"));

    // --help lists commands in podman's groups.
    auto help = cli({"--help"});
    CHECK(help.code == 0);
    for (const char* g : {"Containers", "Images", "System", "Compose"}) CHECK_THAT(help.out, Contains(g));
}

TEST_CASE("ps: podman's columns, newest first, the real exit code", "[cli]") {
    REQUIRE(cli({"run", "busybox", "true"}).code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // CREATED is in seconds
    REQUIRE(cli({"run", "busybox", "sh", "-c", "exit 3"}).code == 3);
    auto r = cli({"ps", "-a"});
    REQUIRE(r.code == 0);
    auto rows = lines(r.out);
    REQUIRE(rows.size() == 3);
    INFO(r.out);
    CHECK(std::regex_search(rows[0], std::regex("^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$")));
    // Newest first: the `exit 3` container, then the `true` one.
    CHECK_THAT(rows[1], Contains("\"sh -c exit 3\"") && Contains("Exited (3)"));
    CHECK_THAT(rows[2], Contains("\"true\"") && Contains("Exited (0)"));
    auto json = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(json.size() == 2);
    CHECK(json[0]["ExitCode"] == 3);
    CHECK(json[0]["Created"].get<int64_t>() > json[1]["Created"].get<int64_t>());
    // NAMES: the last column, a generated name for each.
    for (size_t i = 0; i < 2; ++i) {
        std::string name = json[i]["Names"][0];
        CHECK_FALSE(name.empty());
        CHECK(rows[i + 1].ends_with(name));
    }
    cli({"rm", "-a"});
}

TEST_CASE("the session holder is named `bock session` in ps", "[cli]") {
    if (is_root()) skip("root has no rootless session");
    // Started by a call with a telling command line.
    REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0);
    auto holder = bock::fs::read_file(env_or("BOCK_RUNROOT", "") + "/session/holder.pid");
    REQUIRE(holder);
    std::string pid = std::to_string(std::stoi(*holder));
    auto args = run({"ps", "-o", "args=", "-p", pid});
    CHECK(args.code == 0);
    CHECK(args.out == "bock session\n");
    auto comm = run({"ps", "-o", "comm=", "-p", pid});
    CHECK(comm.out == "bock session\n");
}

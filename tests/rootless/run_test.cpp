// The first thing a user types: `bock run --rm busybox ...` as a normal user.
#include <catch2/catch.hpp>

#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("bock run --rm busybox echo hello prints hello", "[run]") {
    auto r = cli({"run", "--rm", "busybox", "echo", "hello"});
    CHECK(r.code == 0);
    CHECK(r.out == "hello\n");
    // The default image is made on first use, then found locally.
    auto images = cli({"images", "--format", "json"});
    REQUIRE(images.code == 0);
    auto j = nlohmann::json::parse(images.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["Names"][0] == "localhost/busybox:latest");
    auto again = cli({"run", "--rm", "busybox", "echo", "again"});
    CHECK(again.code == 0);
    CHECK(again.out == "again\n");
}

TEST_CASE("the image's Cmd runs when no command is given", "[run]") {
    auto r = run({bin("bock"), "run", "--rm", "busybox"}, std::string("echo from-stdin-shell\n"));
    CHECK(r.code == 0);
    CHECK(r.out == "from-stdin-shell\n");
}

TEST_CASE("exit codes follow Docker's convention", "[exit]") {
    CHECK(cli({"run", "--rm", "busybox", "sh", "-c", "exit 7"}).code == 7);
    CHECK(cli({"run", "--rm", "busybox", "true"}).code == 0);
    CHECK(cli({"run", "--rm", "busybox", "false"}).code == 1);
    // PID 1 of a pid namespace ignores signals it has no handler for, even
    // SIGKILL from inside (the kernel's rule; Docker behaves the same).
    CHECK(cli({"run", "--rm", "busybox", "sh", "-c", "kill -9 $$; echo survived"}).out == "survived\n");

    auto missing = cli({"run", "--rm", "busybox", "no-such-command"});
    CHECK(missing.code == 127);
    int error_lines = 0;
    for (const auto& l : lines(missing.err)) error_lines += l.find("error:") != std::string::npos;
    CHECK(error_lines == 1);
    CHECK_THAT(missing.err, Catch::Contains("no-such-command"));

    auto notexec = cli({"run", "--rm", "busybox", "/etc/passwd"});
    CHECK(notexec.code == 126);
    CHECK_THAT(notexec.err, Catch::Contains("/etc/passwd"));

    auto badflag = cli({"run", "--no-such-flag", "busybox"});
    CHECK(badflag.code == 125);
}

TEST_CASE("environment, working directory, user and hostname", "[env]") {
    auto r = cli({"run", "--rm", "-e", "FOO=bar", "-e", "EMPTY=", "-w", "/tmp/new/dir", "-u", "1000:1001",
                   "--hostname", "box1", "busybox", "sh", "-c",
                   "echo $FOO; echo x${EMPTY}x; pwd; id -u; id -g; hostname; echo $PATH"});
    REQUIRE(r.code == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 7);
    CHECK(l[0] == "bar");
    CHECK(l[1] == "xx");
    CHECK(l[2] == "/tmp/new/dir");
    CHECK(l[3] == "1000");
    CHECK(l[4] == "1001");
    CHECK(l[5] == "box1");
    CHECK(l[6] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    auto named = cli({"run", "--rm", "-u", "nobody", "busybox", "id", "-u"});
    CHECK(named.code == 0);
    CHECK(named.out == "65534\n");
    auto unknown = cli({"run", "--rm", "-u", "nosuchuser", "busybox", "true"});
    CHECK(unknown.code == 125);
    CHECK_THAT(unknown.err, Catch::Contains("nosuchuser"));
}

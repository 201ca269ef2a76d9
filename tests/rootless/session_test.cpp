// The rootless session: signals reach the container, `bock unshare` runs in
// the session, XDG_RUNTIME_DIR falls back to /tmp/bock-run-$UID, and a user
// without a subuid range still runs containers with a single-ID mapping.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("SIGTERM and SIGINT sent to bock reach the container process", "[signals]") {
    for (const char* sig : {"TERM", "INT"}) {
        INFO("signal " << sig);
        // A fresh output file per signal: "ready" must come from this container.
        std::string out = tmp_dir() + "/sig-" + sig + ".out";
        std::string script = fmt::format(
            "{} run --rm busybox sh -c 'trap \"exit 3\" TERM INT; echo ready; while :; do sleep 0.1; done' > {} & "
            "pid=$!; i=0; while ! grep -q ready {} 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; "
            "kill -{} $pid; wait $pid; echo rc=$?",
            bin("bock"), out, out, sig);
        auto r = run({"timeout", "60", "sh", "-c", script});
        CHECK(r.out == "rc=3\n");
    }
}

TEST_CASE("a container killed by a signal gives 128 + the signal", "[signals]") {
    // SIGKILL from the host (an ancestor pid namespace) is always delivered
    // to the container's init, which is bock's direct child.
    std::string out = tmp_dir() + "/kill.out";
    std::string script = fmt::format(
        "{} run --rm busybox sh -c 'echo ready; while :; do sleep 0.1; done' > {} & "
        "pid=$!; i=0; while ! grep -q ready {} 2>/dev/null; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; "
        "kill -KILL $(pgrep -P $pid); wait $pid; echo rc=$?",
        bin("bock"), out, out);
    auto r = run({"timeout", "60", "sh", "-c", script});
    CHECK(r.out == "rc=137\n");
}

TEST_CASE("bock unshare runs commands in the session", "[unshare]") {
    auto id = cli({"unshare", "id", "-u"});
    CHECK(id.code == 0);
    CHECK(id.out == "0\n");
    auto map = cli({"unshare", "cat", "/proc/self/uid_map"});
    CHECK(map.code == 0);
    CHECK(lines(map.out).size() == 2);
    // The session is reused: the same user namespace for two commands.
    auto a = cli({"unshare", "readlink", "/proc/self/ns/user"});
    auto b = cli({"unshare", "readlink", "/proc/self/ns/user"});
    CHECK(a.out == b.out);
    CHECK(cli({"unshare", "sh", "-c", "exit 5"}).code == 5);
    CHECK(cli({"unshare", "no-such-program"}).code == 127);
}

TEST_CASE("without XDG_RUNTIME_DIR the runtime directory is /tmp/bock-run-UID", "[runtime-dir]") {
    std::string dir = fmt::format("/tmp/bock-run-{}", ::getuid());
    auto r = cli({"unshare", "true"}, {"BOCK_RUNROOT=", "XDG_RUNTIME_DIR="});
    CHECK(r.code == 0);
    struct stat st;
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(st.st_uid == ::getuid());
    auto holder = bock::fs::read_file(dir + "/bock/session/holder.pid");
    REQUIRE(holder);
    ::kill(std::stoi(*holder), SIGKILL);
}

TEST_CASE("bock doctor passes for a user with a range", "[doctor]") {
    auto r = cli({"doctor"});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("user namespaces") && Catch::Contains("subordinate ids") &&
                          Catch::Contains("newuidmap") && Catch::Contains("overlay") && Catch::Contains("cgroups"));
    CHECK_THAT(r.out, !Catch::Contains("FAIL"));
}

TEST_CASE("no subuid range: single-ID mapping, said once, doctor names the fix", "[norange]") {
    auto first = cli({"run", "--rm", "busybox", "cat", "/proc/self/uid_map"});
    REQUIRE(first.code == 0);
    auto map = lines(first.out);
    REQUIRE(map.size() == 1);
    CHECK_THAT(map[0], Catch::Matches(fmt::format("\\s*0\\s+{}\\s+1", ::getuid())));
    int said = 0;
    for (const auto& l : lines(first.err))
        if (l.find("single-ID mapping") != std::string::npos) ++said;
    CHECK(said == 1);
    auto second = cli({"run", "--rm", "busybox", "echo", "hello"});
    CHECK(second.code == 0);
    CHECK(second.out == "hello\n");
    CHECK_THAT(second.err, !Catch::Contains("single-ID"));

    auto doc = cli({"doctor"});
    CHECK(doc.code == 0);  // bock run works, with the warning
    CHECK_THAT(doc.out, Catch::Contains("usermod --add-subuids") && Catch::Contains("--add-subgids") &&
                            Catch::Contains(current_user()));
}

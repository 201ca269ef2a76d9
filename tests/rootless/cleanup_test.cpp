// After `bock run --rm` nothing is left but the session's holder process:
// no mount in the session's mount namespace, no other process in its user
// namespace, no state directory.
#include <dirent.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string n = e->d_name; n != "." && n != "..") out.push_back(n);
        ::closedir(d);
    }
    return out;
}

}  // namespace

TEST_CASE("after --rm only the session holder remains", "[cleanup]") {
    REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0);
    REQUIRE(cli({"run", "--rm", "busybox", "sh", "-c", "exit 3"}).code == 3);
    REQUIRE(cli({"run", "--rm", "busybox", "no-such-command"}).code == 127);

    std::string run_root = env_or("BOCK_RUNROOT", "");
    std::string store = env_or("BOCK_ROOT", "");
    auto holder_text = bock::fs::read_file(run_root + "/session/holder.pid");
    REQUIRE(holder_text);
    pid_t holder = std::stoi(*holder_text);
    auto holder_ns = bock::fs::readlink(fmt::format("/proc/{}/ns/user", holder));
    REQUIRE(holder_ns);

    // Mounts: read the holder's view of its mount namespace from the host.
    auto mountinfo = bock::fs::read_file(fmt::format("/proc/{}/mountinfo", holder));
    REQUIRE(mountinfo);
    // (Any overlay of this test's containers is mounted under its run root;
    // other overlays may be there: the namespace began as a copy of the
    // host's, where root tests running beside this one mount theirs.)
    CHECK_THAT(*mountinfo, !Catch::Contains(run_root) && !Catch::Contains(store));

    // Processes: nothing but the holder in the session's user namespace.
    std::vector<std::string> in_session;
    for (const auto& p : entries("/proc")) {
        if (p.find_first_not_of("0123456789") != std::string::npos) continue;
        auto ns = bock::fs::readlink("/proc/" + p + "/ns/user");
        if (ns && *ns == *holder_ns) in_session.push_back(p);
    }
    CHECK(in_session == std::vector<std::string>{std::to_string(holder)});

    // State: no container directories.
    CHECK(entries(run_root + "/containers").empty());
    CHECK(entries(store + "/containers").empty());
}

TEST_CASE("without --rm the container is kept until bock rm", "[cleanup]") {
    REQUIRE(cli({"run", "busybox", "sh", "-c", "echo kept > /marker; exit 4"}).code == 4);
    auto ps = cli({"ps", "-a", "-q"});
    REQUIRE(ps.code == 0);
    auto ids = lines(ps.out);
    REQUIRE(ids.size() == 1);
    std::string holder = *bock::fs::read_file(env_or("BOCK_RUNROOT", "") + "/session/holder.pid");
    auto mountinfo = bock::fs::read_file(fmt::format("/proc/{}/mountinfo", std::stoi(holder)));
    // Its root is unmounted when it exits (remounted by `start`).
    CHECK_THAT(*mountinfo, !Catch::Contains(env_or("BOCK_RUNROOT", "/nonexistent")) &&
                               !Catch::Contains(env_or("BOCK_ROOT", "/nonexistent")));
    auto rm = cli({"rm", ids[0]});
    CHECK(rm.code == 0);
    CHECK(lines(cli({"ps", "-a", "-q"}).out).empty());
    CHECK(entries(env_or("BOCK_ROOT", "") + "/containers").empty());
}

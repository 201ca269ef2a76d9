// Unit tests of the OCI state directory (state.cpp) and signal names
// (kill.cpp): ids, state.json round trip, derived status, parse_signal.
#include "bock/runtime/state.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"

using namespace bock;
using namespace bock::runtime;

namespace {

std::string scratch() {
    auto d = fs::make_temp_dir("/tmp", "bock-state-test-");
    REQUIRE(d);
    return *d;
}

}  // namespace

TEST_CASE("container ids are checked as runc does", "[state]") {
    CHECK(check_container_id("abc_1.2+x-y"));
    CHECK_FALSE(check_container_id(""));
    CHECK_FALSE(check_container_id("."));
    CHECK_FALSE(check_container_id(".."));
    CHECK_FALSE(check_container_id("a/b"));
    CHECK_FALSE(check_container_id("../x"));
    CHECK_FALSE(check_container_id("a b"));
}

TEST_CASE("signal names and numbers", "[state]") {
    CHECK(parse_signal("TERM").value() == SIGTERM);
    CHECK(parse_signal("SIGTERM").value() == SIGTERM);
    CHECK(parse_signal("sigkill").value() == SIGKILL);
    CHECK(parse_signal("KILL").value() == SIGKILL);
    CHECK(parse_signal("9").value() == 9);
    CHECK(parse_signal("USR1").value() == SIGUSR1);
    CHECK_FALSE(parse_signal("NOPE"));
    CHECK_FALSE(parse_signal("0"));
    CHECK_FALSE(parse_signal("99999"));
    CHECK_FALSE(parse_signal("9x"));
    CHECK_THAT(parse_signal("NOPE").error().message(), Catch::Contains("unknown signal `NOPE`"));
}

TEST_CASE("state directory: fifo, state.json round trip, derived status", "[state]") {
    std::string root = scratch() + "/root";
    REQUIRE(make_state_dir(root, "c1"));
    struct stat st;
    REQUIRE(::stat(exec_fifo_path(root, "c1").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK((st.st_mode & 0777) == 0622);
    auto dup = make_state_dir(root, "c1");
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message() == "container `c1` already exists");

    ContainerState s;
    s.id = "c1";
    s.oci_version = "1.1.0";
    s.bundle = "/b";
    s.created = "2026-01-01T00:00:00Z";
    s.pid = ::getpid();
    s.start_time = process_start_time(::getpid()).value_or(0);
    s.annotations = {{"k", "v"}};
    REQUIRE(save_state(root, s));
    auto back = load_state(root, "c1");
    REQUIRE(back);
    CHECK(back->pid == s.pid);
    CHECK(back->start_time == s.start_time);
    CHECK(back->annotations == s.annotations);
    // This process is alive: created while the fifo exists, then running.
    CHECK(container_status(root, *back) == Status::created);
    REQUIRE(::unlink(exec_fifo_path(root, "c1").c_str()) == 0);
    CHECK(container_status(root, *back) == Status::running);
    auto j = state_json(*back, Status::running);
    CHECK(j["status"] == "running");
    CHECK(j["pid"] == s.pid);
    // Another start time: the pid was reused, the container is stopped.
    back->start_time += 1;
    CHECK(container_status(root, *back) == Status::stopped);
    CHECK(state_json(*back, Status::stopped)["pid"] == 0);

    CHECK(list_containers(root).value() == std::vector<std::string>{"c1"});
    REQUIRE(remove_state(root, "c1"));
    auto gone = load_state(root, "c1");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().message() == "container `c1` does not exist");
    CHECK(list_containers(root + "/none").value().empty());
    (void)fs::remove_all(root.substr(0, root.rfind('/')));
}

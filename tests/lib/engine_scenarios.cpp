// The engine's container record and the store's leases, end to end, shared
// by the rootless and root suites (engine_scenarios.hpp).
#include "engine_scenarios.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

std::string store() { return env_or("BOCK_ROOT", ""); }
std::string run_root() { return env_or("BOCK_RUNROOT", ""); }

std::string mount_table() { return session_mount_table(); }

// Waits until `bock ps -q` lists `n` running containers.
std::vector<std::string> wait_running(size_t n) {
    for (int i = 0; i < 200; i++) {
        auto ids = lines(cli({"ps", "-q"}).out);
        if (ids.size() == n) return ids;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("no running container showed up in `bock ps`");
    return {};
}

Pid start_background_run() {
    SpawnOptions o;
    o.argv = {bin("bock"), "run", "busybox", "sleep", "1000"};
    auto p = spawn_program(o);
    REQUIRE(p);
    return std::move(*p);
}

// The container process's pid, from the runtime's pid file (written just
// after the record says "running").
pid_t container_pid(const std::string& id) {
    for (int i = 0; i < 200; i++) {
        if (auto text = fs::read_file(run_root() + "/containers/" + id + "/pid"); text && !text->empty())
            return std::stoi(*text);
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL("the runtime wrote no pid file for container " << id);
    return 0;
}

bool process_gone(pid_t pid) {
    for (int i = 0; i < 100; i++) {
        auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid));
        if (!stat || stat->find(") Z ") != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

}  // namespace

void check_killed_run_is_reconciled() {
    REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0);  // the default image, made once
    Pid bock = start_background_run();
    auto ids = wait_running(1);
    auto ps = nlohmann::json::parse(cli({"ps", "--format", "json"}).out);
    REQUIRE(ps.size() == 1);
    std::string id = ps[0]["Id"];
    CHECK(ps[0]["State"] == "running");
    CHECK(ps[0]["Command"] == nlohmann::json::array({"sleep", "1000"}));
    pid_t container = container_pid(id);
    CHECK_THAT(mount_table(), Catch::Contains(run_root() + "/containers/" + id));
    CHECK(fs::exists(store() + "/leases/" + id + ".json"));

    // SIGKILL the bock that runs it, mid-run.
    REQUIRE(::kill(bock.get(), SIGKILL) == 0);
    auto status = bock.wait();
    REQUIRE(status);
    CHECK(WIFSIGNALED(*status));
    CHECK(process_gone(container));  // it dies with its bock (parent-death signal)

    // ps -a tells the truth: exited, the reason named, not "Up".
    CHECK(lines(cli({"ps", "-q"}).out).empty());
    auto all = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(all.size() == 1);
    CHECK(all[0]["State"] == "exited");
    CHECK(all[0]["ExitCode"].is_null());
    CHECK_THAT(all[0]["Reason"].get<std::string>(), Catch::Contains("was killed"));
    auto table = cli({"ps", "-a"});
    CHECK_THAT(table.out, Catch::Contains("Exited (unknown") && Catch::Contains("killed"));

    // bock rm (no -f needed) removes it: no mount, no lease, no directory.
    auto rm = cli({"rm", ids[0]});
    CHECK(rm.code == 0);
    CHECK_THAT(rm.out, Catch::Contains(id));
    CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
    CHECK(dir_entries(store() + "/leases").empty());
    CHECK(dir_entries(store() + "/containers").empty());
    CHECK(dir_entries(run_root() + "/containers").empty());
    CHECK(lines(cli({"ps", "-a", "-q"}).out).empty());
}

void check_rm_force_running() {
    Pid bock = start_background_run();
    auto ids = wait_running(1);
    std::string id = nlohmann::json::parse(cli({"ps", "--format", "json"}).out)[0]["Id"];
    pid_t container = container_pid(id);

    auto refused = cli({"rm", ids[0]});
    CHECK(refused.code == 2);
    CHECK_THAT(refused.err, Catch::Contains("is running") && Catch::Contains("bock rm -f"));

    auto t0 = std::chrono::steady_clock::now();
    auto rm = cli({"rm", "-f", ids[0]});
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(rm.code == 0);
    CHECK(took < std::chrono::seconds(5));
    auto status = bock.wait();
    REQUIRE(status);
    CHECK(process_gone(container));
    CHECK(lines(cli({"ps", "-a", "-q"}).out).empty());
    CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
    CHECK(dir_entries(store() + "/leases").empty());
    CHECK(dir_entries(store() + "/containers").empty());

    // A name works as well as an id; an unknown one is exit 1 with a hint.
    REQUIRE(cli({"run", "busybox", "true"}).code == 0);
    auto ps = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(ps.size() == 1);
    std::string name = ps[0]["Names"][0];
    CHECK_FALSE(name.empty());
    CHECK(cli({"rm", name}).code == 0);
    auto missing = cli({"rm", "no-such-container"});
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Catch::Contains("no such container: no-such-container"));
}

void check_gc_fails_closed() {
    REQUIRE(cli({"run", "busybox", "true"}).code == 0);  // kept: it holds a lease on busybox
    auto before = lines(cli({"images", "-q"}).out);
    REQUIRE(before.size() == 1);
    auto layers_before = dir_entries(store() + "/layers");
    REQUIRE_FALSE(layers_before.empty());
    auto leases = dir_entries(store() + "/leases");
    REQUIRE(leases.size() == 1);
    std::string lease = store() + "/leases/" + leases[0];
    auto good = fs::read_file(lease);
    REQUIRE(good);

    // The lease cannot be read (it is not a lease any more).
    REQUIRE(fs::write_file(lease, "{ truncated"));
    auto r = cli({"image", "prune", "-a"});
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(lease) && Catch::Contains("refusing to delete anything"));
    CHECK(lines(cli({"images", "-q"}).out) == before);
    CHECK(dir_entries(store() + "/layers") == layers_before);

    // The lease directory cannot be read (a file stands in its place).
    REQUIRE(fs::write_file_atomic(lease, *good));
    std::string dir = store() + "/leases";
    REQUIRE(::rename(dir.c_str(), (dir + ".away").c_str()) == 0);
    REQUIRE(fs::write_file(dir, "not a directory"));
    r = cli({"image", "prune", "-a"});
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(dir));
    CHECK(lines(cli({"images", "-q"}).out) == before);
    CHECK(dir_entries(store() + "/layers") == layers_before);
    REQUIRE(::unlink(dir.c_str()) == 0);
    REQUIRE(::rename((dir + ".away").c_str(), dir.c_str()) == 0);

    // Readable again: the image in use stays, and goes with its container.
    r = cli({"image", "prune", "-a"});
    CHECK(r.code == 0);
    CHECK(lines(cli({"images", "-q"}).out) == before);
    CHECK(cli({"rm", "-a"}).code == 0);
    CHECK(cli({"image", "prune", "-a"}).code == 0);
    CHECK(lines(cli({"images", "-q"}).out).empty());
    CHECK(dir_entries(store() + "/layers").empty());
}

void check_old_store_keeps_layers() {
    REQUIRE(cli({"run", "busybox", "sh", "-c", "echo old > /marker"}).code == 0);
    auto ps = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(ps.size() == 1);
    std::string id = ps[0]["Id"];
    auto images = nlohmann::json::parse(cli({"images", "--format", "json"}).out);
    REQUIRE(images.size() == 1);
    // Rewrite the store as the previous Bock left it: no leases/, and the
    // container record in its old shape (what image/ used to read).
    nlohmann::json old{{"id", id},
                       {"image", "localhost/busybox:latest"},
                       {"image_id", images[0]["Id"]},
                       {"layers", images[0]["Layers"]},
                       {"status", "exited"},
                       {"exit_code", 0},
                       {"command", {"sh", "-c", "echo old > /marker"}}};
    REQUIRE(fs::write_file_atomic(store() + "/containers/" + id + "/container.json", old.dump(2)));
    REQUIRE(fs::remove_all(store() + "/leases"));
    auto layers_before = dir_entries(store() + "/layers");

    // The first command migrates the record into a lease; gc keeps the layers.
    auto prune = cli({"image", "prune", "-a"});
    CHECK(prune.code == 0);
    CHECK(dir_entries(store() + "/leases") == std::vector<std::string>{id + ".json"});
    CHECK(dir_entries(store() + "/layers") == layers_before);
    CHECK(lines(cli({"images", "-q"}).out).size() == 1);
    auto after = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(after.size() == 1);
    CHECK(after[0]["State"] == "exited");
    CHECK(after[0]["ExitCode"] == 0);
    CHECK(cli({"rm", id}).code == 0);
    CHECK(dir_entries(store() + "/leases").empty());
}

}  // namespace bock::test

#include "inspect_scenarios.hpp"

#include <signal.h>
#include <sys/stat.h>
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

// A container running `sleep 1000` in the foreground of a `bock run` in
// the background (until the monitor lands); stopped and reaped at the end.
struct Running {
    Pid bock;
    std::string id;
    // Pid kills and reaps it when it goes.
};

Running start_running(const std::string& image, size_t running_before) {
    SpawnOptions o;
    o.argv = {bin("bock"), "run", image, "sleep", "1000"};
    auto p = spawn_program(o);
    REQUIRE(p);
    Running r{std::move(*p), ""};
    for (int i = 0; i < 200 && r.id.empty(); i++) {
        auto ps = nlohmann::json::parse(cli({"ps", "--format", "json"}).out);
        if (ps.size() > running_before) r.id = ps[0]["Id"];
        else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(!r.id.empty());
    // The pid file comes just after the record says "running".
    for (int i = 0; i < 200 && !fs::exists(run_root() + "/containers/" + r.id + "/pid"); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return r;
}

std::string latest_container() {
    auto j = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(!j.empty());
    return j[0]["Id"].get<std::string>();
}

// uid:gid of a path as the container sees it: inside the rootless session,
// or directly as root.
std::string owner(const std::string& path) {
    auto r = cli({"unshare", "stat", "-c", "%u:%g", path});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return lines(r.out).at(0);
}

std::string host_owner(const std::string& path) {
    struct stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

std::string cp_image() {
    return make_image("localhost/cp-base:1",
                      {"dir /data 0755 0 0\ntext /data/owned 0640 5 6 owned by 5\n"
                       "symlink /data/etclink /etc\nsymlink /data/passwdlink /etc/passwd\n"
                       "symlink /data/up ../../../../../../..\n"});
}

}  // namespace

void check_cp() {
    auto image = cp_image();
    const std::string me = std::to_string(::getuid()) + ":" + std::to_string(::getgid());
    const std::string host = tmp_dir() + "/host";
    REQUIRE(fs::mkdir_p(host + "/in", 0755));
    REQUIRE(fs::write_file_atomic(host + "/in/file", "from the host\n"));
    const std::string marker = "bock-cp-escape-" + std::to_string(::getpid());

    auto running = start_running(image, 0);
    const std::string upper = store() + "/containers/" + running.id + "/upper";

    SECTION("out of a running container, with and without -a") {
        REQUIRE(cli({"cp", running.id + ":/data/owned", host + "/plain"}).code == 0);
        CHECK(host_owner(host + "/plain") == me);
        CHECK(fs::read_file(host + "/plain").value_or("") == "owned by 5");
        auto a = cli({"cp", "-a", running.id + ":/data", host + "/kept"});
        INFO(a.err);
        REQUIRE(a.code == 0);
        CHECK(owner(host + "/kept/owned") == "5:6");
        CHECK(fs::readlink(host + "/kept/etclink").value_or("") == "/etc");  // a link copied as a link
        // -L follows the link inside the container: its /etc/passwd, not the host's.
        REQUIRE(cli({"cp", "-L", running.id + ":/data/passwdlink", host + "/passwd"}).code == 0);
        auto theirs = fs::read_file(host + "/passwd");
        REQUIRE(theirs);
        CHECK(*theirs != fs::read_file("/etc/passwd").value_or(""));
        // A path through a link that climbs out of the root stays inside it.
        REQUIRE(cli({"cp", running.id + ":/data/up/etc/passwd", host + "/passwd2"}).code == 0);
        CHECK(fs::read_file(host + "/passwd2").value_or("") == *theirs);
    }

    SECTION("into a running container: owners, and links pointing outside") {
        auto r = cli({"cp", host + "/in/file", running.id + ":/tmp/"});
        INFO(r.err);
        REQUIRE(r.code == 0);
        CHECK(owner(upper + "/tmp/file") == "0:0");  // the container's root
        // -a keeps the owner, mapped through the session (rootless) as the container sees it.
        REQUIRE(cli({"unshare", "chown", "7:8", host + "/in/file"}).code == 0);
        REQUIRE(cli({"cp", "-a", host + "/in", running.id + ":/copied"}).code == 0);
        CHECK(owner(upper + "/copied/file") == "7:8");
        REQUIRE(cli({"cp", host + "/in/file", running.id + ":/plain"}).code == 0);
        CHECK(owner(upper + "/plain") == "0:0");
        CHECK(fs::is_dir(upper + "/copied"));
        // /data/etclink -> /etc and /data/up -> ../../..: both resolve inside the root.
        REQUIRE(fs::write_file_atomic(host + "/" + marker, "x"));
        REQUIRE(cli({"cp", host + "/" + marker, running.id + ":/data/etclink/"}).code == 0);
        REQUIRE(cli({"cp", host + "/" + marker, running.id + ":/data/up/tmp/"}).code == 0);
        CHECK(fs::exists(upper + "/etc/" + marker));
        CHECK(fs::exists(upper + "/tmp/" + marker));
        CHECK_FALSE(fs::exists("/etc/" + marker));
        CHECK_FALSE(fs::exists("/tmp/" + marker));
    }

    SECTION("tar streams both ways") {
        auto t = cli({"cp", running.id + ":/data", "-"});
        REQUIRE(t.code == 0);
        REQUIRE(fs::write_file_atomic(host + "/data.tar", t.out));
        auto list = run({"tar", "-tvf", host + "/data.tar"});
        CHECK_THAT(list.out, Catch::Contains("data/owned"));
        CHECK_THAT(list.out, Catch::Contains("5/6"));
        auto in = run({bin("bock"), "cp", "-", running.id + ":/tmp"}, t.out);
        INFO(in.err);
        REQUIRE(in.code == 0);
        CHECK(owner(upper + "/tmp/data/owned") == "5:6");
    }

    SECTION("a stopped container: its root is mounted for the copy, then unmounted") {
        REQUIRE(cli({"run", image, "true"}).code == 0);
        auto id = latest_container();
        auto r = cli({"cp", host + "/in/file", id + ":/etc/added"});
        INFO(r.err);
        REQUIRE(r.code == 0);
        REQUIRE(cli({"cp", id + ":/etc/added", host + "/back"}).code == 0);
        CHECK(fs::read_file(host + "/back").value_or("") == "from the host\n");
        CHECK_THAT(cli({"diff", id}).out, Catch::Contains("A /etc/added"));
        auto mounts = cli({"unshare", "cat", "/proc/self/mountinfo"}).out;
        CHECK_THAT(mounts, !Catch::Contains("/containers/" + id + "/rootfs"));
    }

    SECTION("bad input: one clear line, nothing written") {
        auto both = cli({"cp", host + "/in/file", host + "/x"});
        CHECK(both.code == 125);
        CHECK_THAT(both.err, Catch::Contains("CONTAINER:PATH"));
        auto missing = cli({"cp", running.id + ":/no/such", host + "/x"});
        CHECK(missing.code != 0);
        CHECK_THAT(missing.err, Catch::Contains("/no/such"));
        auto nodir = cli({"cp", host + "/in/file", running.id + ":/nodir/"});
        CHECK(nodir.code != 0);
        CHECK_FALSE(fs::exists(host + "/x"));
        auto ghost = cli({"cp", host + "/in/file", "nosuchcontainer:/tmp"});
        CHECK(ghost.code != 0);
        CHECK_THAT(ghost.err, Catch::Contains("no such container"));
    }
}

void check_prune() {
    auto image = cp_image();
    REQUIRE(make_image("localhost/prune-other:1", {"text /other 0644 0 0 other\n"}).size() > 0);

    // rename: unique names, kept after the container exits.
    REQUIRE(cli({"run", image, "true"}).code == 0);
    auto stopped = latest_container();
    auto running = start_running(image, 0);
    REQUIRE(cli({"rename", running.id, "runner"}).code == 0);
    auto taken = cli({"rename", stopped, "runner"});
    CHECK(taken.code != 0);
    CHECK_THAT(taken.err, Catch::Contains("already in use"));
    CHECK(cli({"rename", stopped, "bad/name"}).code == 125);
    REQUIRE(cli({"rename", stopped, "stopper"}).code == 0);
    CHECK(cli({"cp", "runner:/data/owned", tmp_dir() + "/o"}).code == 0);

    // system df: the sizes add up to du of the store.
    auto df = cli({"system", "df", "--format", "json"});
    INFO(df.err);
    REQUIRE(df.code == 0);
    auto rows = nlohmann::json::parse(df.out);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0]["Type"] == "Images");
    CHECK(rows[0]["Total"] == 2);
    CHECK(rows[0]["Active"] == 1);
    CHECK(rows[1]["Total"] == 2);
    CHECK(rows[1]["Active"] == 1);
    CHECK(rows[1]["RawReclaimable"].get<uint64_t>() > 0);
    uint64_t sum = rows[0]["RawSize"].get<uint64_t>() + rows[1]["RawSize"].get<uint64_t>();
    auto du = cli({"unshare", "du", "-s", "-B1", store()});
    REQUIRE(du.code == 0);
    CHECK(sum == std::stoull(du.out));
    auto verbose = cli({"system", "df", "-v"});
    CHECK_THAT(verbose.out, Catch::Contains("stopper"));

    // container prune leaves the running one; system prune -a removes every
    // image but the running container's.
    auto cp = cli({"container", "prune", "-f"});
    REQUIRE(cp.code == 0);
    CHECK(lines(cp.out) == std::vector<std::string>{stopped});
    REQUIRE(cli({"volume", "create", "unused-vol"}).code == 0);
    auto sp = cli({"system", "prune", "-a", "-f", "--volumes"});
    INFO(sp.err);
    REQUIRE(sp.code == 0);
    CHECK(lines(cli({"volume", "ls", "-q"}).out).empty());
    auto ps = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(ps.size() == 1);
    CHECK(ps[0]["Id"] == running.id);
    CHECK(ps[0]["State"] == "running");
    auto imgs = lines(cli({"images", "-q"}).out);
    CHECK(imgs.size() == 1);

    // Once it has stopped, system prune -a leaves an empty store.
    ::kill(running.bock.get(), SIGKILL);
    (void)running.bock.wait();
    running.bock = Pid();
    REQUIRE(cli({"volume", "create", "unused-vol2"}).code == 0);
    auto all = cli({"system", "prune", "-a", "-f", "--volumes"});
    REQUIRE(all.code == 0);
    CHECK(lines(cli({"volume", "ls", "-q"}).out).empty());
    CHECK(lines(cli({"ps", "-a", "-q"}).out).empty());
    CHECK(lines(cli({"images", "-q"}).out).empty());
    CHECK(fs::list_dir(store() + "/layers").value_or(std::vector<std::string>{"?"}).empty());
    CHECK(fs::list_dir(store() + "/containers").value_or(std::vector<std::string>{}).empty());

    // The event log saw it all.
    auto ev = cli({"events", "--format", "json", "--filter", "container=" + running.id.substr(0, 12)});
    REQUIRE(ev.code == 0);
    std::vector<std::string> actions;
    for (const auto& l : lines(ev.out)) actions.push_back(nlohmann::json::parse(l)["Status"]);
    CHECK(actions == std::vector<std::string>{"create", "start", "rename", "remove"});
    auto since = cli({"events", "--since", "1h", "--filter", "type=image", "--filter", "event=remove"});
    CHECK(lines(since.out).size() >= 2);
    CHECK(cli({"events", "--until", "1000", "--format", "json"}).out.empty());
}

}  // namespace bock::test

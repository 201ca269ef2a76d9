// `bock run` on each storage backend forced (fuse-layers' chain wired into
// the engine): files created, modified, deleted, renamed and truncated; a
// lower file deleted in one container intact in another; df; the backend
// recorded; `bock rm` leaves no mount and no FUSE process, also after the
// bock that ran the container was SIGKILLed.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

namespace {

const std::vector<std::string> kBackends{"overlay", "fuse-overlayfs", "bock-fuse", "vfs"};

std::string store() { return env_or("BOCK_ROOT", ""); }
std::string run_root() { return env_or("BOCK_RUNROOT", ""); }

void need_fuse() {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) skip("/dev/fuse is not readable and writable for this user");
}

// The session's mount table (its holder's view).
std::string mount_table() {
    auto holder = fs::read_file(run_root() + "/session/holder.pid");
    REQUIRE(holder);
    auto m = fs::read_file("/proc/" + std::to_string(std::stoi(*holder)) + "/mountinfo");
    REQUIRE(m);
    return *m;
}

// FUSE overlay processes serving a container root of this test's run root
// (zombies excluded: their command line is empty).
std::vector<std::string> fuse_processes() {
    std::vector<std::string> out;
    for (const auto& p : fs::list_dir("/proc").value_or(std::vector<std::string>{})) {
        if (p.find_first_not_of("0123456789") != std::string::npos) continue;
        auto cmd = fs::read_file("/proc/" + p + "/cmdline");
        if (!cmd || cmd->find(run_root() + "/containers/") == std::string::npos) continue;
        if (cmd->find("bock-fuse-overlay") != std::string::npos || cmd->find("fuse-overlayfs") != std::string::npos)
            out.push_back(p + " " + *cmd);
    }
    return out;
}

bool no_fuse_processes() {
    for (int i = 0; i < 100; i++) {
        if (fuse_processes().empty()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return false;
}

std::vector<std::string> container_ids() { return fs::list_dir(store() + "/containers").value_or(std::vector<std::string>{}); }

std::string recorded_driver(const std::string& id) {
    auto text = fs::read_file(store() + "/containers/" + id + "/container.json");
    REQUIRE(text);
    return nlohmann::json::parse(*text).value("storage_driver", "");
}

const char* kFileOps =
    "set -e\n"
    "echo created > /tmp/new; test \"$(cat /tmp/new)\" = created\n"
    "echo appended >> /etc/passwd; tail -n1 /etc/passwd | grep -qx appended\n"
    "rm /etc/group; test ! -e /etc/group\n"
    "mkdir /d1; echo x > /d1/f; mv /d1 /d2; test -f /d2/f; test ! -e /d1\n"
    "mv /etc/passwd /etc/passwd.moved; test ! -e /etc/passwd; grep -q root /etc/passwd.moved\n"
    "head -c 100000 /bin/busybox > /big; truncate -s 10 /big; test $(wc -c < /big) = 10\n"
    ": > /etc/passwd.moved; test ! -s /etc/passwd.moved\n"
    "df -k / | tail -n1\n"
    "echo files-ok\n";

}  // namespace

TEST_CASE("bock run on each forced backend: file operations, df, the backend recorded", "[layers]") {
    need_fuse();
    for (const auto& b : kBackends) {
        INFO("backend " << b);
        auto r = cli({"--storage-driver", b, "run", "--rm", "busybox", "sh", "-c", kFileOps});
        INFO(r.out << r.err);
        CHECK(r.code == 0);
        CHECK_THAT(r.out, Catch::Contains("files-ok"));
        // df: one line "FS SIZE USED AVAIL USE% /" with a non-zero size.
        auto df = r.out.substr(0, r.out.find("files-ok"));
        auto l = lines(df);
        REQUIRE(!l.empty());
        std::istringstream in(l.back());
        std::string fsname, mnt, use;
        long long size = 0, used = -1, avail = -1;
        in >> fsname >> size >> used >> avail >> use >> mnt;
        CHECK(size > 0);
        CHECK(avail >= 0);
        CHECK(mnt == "/");
        if (b == "vfs")
            CHECK_THAT(r.err, Catch::Contains("warning: storage driver vfs") && Catch::Contains("forced by --storage-driver"));
        else
            CHECK_THAT(r.err, !Catch::Contains("warning"));
        CHECK(container_ids().empty());
        CHECK(no_fuse_processes());
    }
}

TEST_CASE("kept containers on each backend: a lower deletion stays private, bock rm leaves nothing", "[layers]") {
    need_fuse();
    for (const auto& b : kBackends) {
        INFO("backend " << b);
        // BOCK_STORAGE_DRIVER for this one, the flag for the other.
        auto a = cli({"run", "busybox", "sh", "-c", "rm /etc/group && test ! -e /etc/group"}, {"BOCK_STORAGE_DRIVER=" + b});
        INFO(a.out << a.err);
        CHECK(a.code == 0);
        auto second = cli({"--storage-driver", b, "run", "busybox", "grep", "-q", "nogroup", "/etc/group"});
        INFO(second.out << second.err);
        CHECK(second.code == 0);
        auto ids = container_ids();
        REQUIRE(ids.size() == 2);
        for (const auto& id : ids) CHECK(recorded_driver(id) == b);
        CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
        CHECK(no_fuse_processes());
        for (const auto& id : ids) {
            auto rm = cli({"rm", id});
            INFO(rm.out << rm.err);
            CHECK(rm.code == 0);
        }
        CHECK(container_ids().empty());
        CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
        CHECK(no_fuse_processes());
    }
}

TEST_CASE("a SIGKILLed bock run on a FUSE backend: bock rm leaves no mount and no FUSE process", "[layers]") {
    need_fuse();
    for (const std::string b : {"bock-fuse", "fuse-overlayfs"}) {
        INFO("backend " << b);
        SpawnOptions o;
        o.argv = {bin("bock"), "--storage-driver", b, "run", "busybox", "sleep", "1000"};
        auto bock = spawn_program(o);
        REQUIRE(bock);
        std::string id;
        for (int i = 0; i < 400 && id.empty(); i++) {
            auto ids = container_ids();
            if (ids.size() == 1 && fs::exists(run_root() + "/containers/" + ids[0] + "/pid")) id = ids[0];
            else std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        REQUIRE(!id.empty());
        CHECK_THAT(mount_table(), Catch::Contains(run_root() + "/containers/" + id));
        CHECK(fuse_processes().size() == 1);
        REQUIRE(::kill(bock->get(), SIGKILL) == 0);
        (void)bock->wait();

        auto rm = cli({"rm", id});
        INFO(rm.out << rm.err);
        CHECK(rm.code == 0);
        CHECK(container_ids().empty());
        CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
        CHECK(no_fuse_processes());
        for (const auto& p : fuse_processes()) ::kill(std::stoi(p), SIGKILL);
    }
}

TEST_CASE("bock info shows the storage driver configured, bock doctor the FUSE fallback", "[layers]") {
    auto chain = cli({"info"});
    CHECK(chain.code == 0);
    CHECK_THAT(chain.out, Catch::Contains("storage_driver: the first that mounts of overlay (userxattr), fuse-overlayfs ("));
    auto flag = cli({"--storage-driver", "bock-fuse", "info"});
    CHECK_THAT(flag.out, Catch::Contains("storage_driver: bock-fuse (forced by --storage-driver)"));
    auto env = cli({"info"}, {"BOCK_STORAGE_DRIVER=vfs"});
    CHECK_THAT(env.out, Catch::Contains("storage_driver: vfs (forced by BOCK_STORAGE_DRIVER)"));
    auto bad = cli({"--storage-driver", "zfs", "run", "--rm", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK_THAT(bad.err, Catch::Contains("unknown storage driver `zfs`"));
    auto doctor = cli({"doctor"});
    INFO(doctor.out << doctor.err);
    CHECK_THAT(doctor.out + doctor.err, Catch::Contains("fallback: fuse-overlayfs"));
}

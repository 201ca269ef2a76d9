// `bock run` on each storage backend forced (fuse-layers' chain wired into
// the engine), shared by the rootless ([layers]) and root ([root-layers])
// suites: files created, modified, deleted, renamed and truncated; a lower
// file deleted in one container intact in another; df; the backend
// recorded; `bock rm` leaves no mount and no FUSE process, also after the
// bock that ran the container was SIGKILLed; the fallback chain; the disk
// a container takes before it writes.
#include "layers_scenarios.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

const std::vector<std::string> kBackends{"overlay", "fuse-overlayfs", "bock-fuse", "vfs"};

std::string store() { return env_or("BOCK_ROOT", ""); }
std::string run_root() { return env_or("BOCK_RUNROOT", ""); }

void need_fuse() {
    if (is_root()) return;
    if (::access("/dev/fuse", R_OK | W_OK) != 0) skip("/dev/fuse is not readable and writable for this user");
}

// The mount table containers are mounted in: the session holder's when
// rootless, the host's as root.
std::string mount_table() {
    if (is_root()) {
        auto m = fs::read_file("/proc/self/mountinfo");
        REQUIRE(m);
        return *m;
    }
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

void check_layers_file_ops() {
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

void check_layers_kept() {
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

void check_layers_killed() {
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

void check_layers_info() {
    auto chain = cli({"info"});
    CHECK(chain.code == 0);
    // userxattr: rootless overlay keeps its whiteouts in user xattrs.
    CHECK_THAT(chain.out, Catch::Contains(is_root() ? "storage_driver: the first that mounts of overlay, fuse-overlayfs ("
                                                    : "storage_driver: the first that mounts of overlay (userxattr), fuse-overlayfs ("));
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

void check_layers_fallback() {
    need_fuse();
    // What the chain chooses, recorded in the container's record; each
    // container is removed with nothing left.
    auto chosen = [](const std::vector<std::string>& env) {
        auto r = cli({"run", "busybox", "sh", "-c", "echo x > /x && cat /x"}, env);
        INFO(r.out << r.err);
        REQUIRE(r.code == 0);
        CHECK(r.out == "x\n");
        auto ids = container_ids();
        REQUIRE(ids.size() == 1);
        std::string driver = recorded_driver(ids[0]);
        REQUIRE(cli({"rm", ids[0]}).code == 0);
        CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
        CHECK(no_fuse_processes());
        return std::make_pair(driver, r.err);
    };
    CHECK(chosen({}).first == "overlay");
    // The kernel refuses (a test hook) -> fuse-overlayfs.
    CHECK(chosen({"BOCK_TEST_REFUSE_OVERLAY=1"}).first == "fuse-overlayfs");
    // fuse-overlayfs not in PATH either -> bock-fuse. PATH keeps only what
    // a rootless bock needs (newuidmap, newgidmap).
    std::string path = tmp_dir() + "/path";
    REQUIRE(fs::mkdir_p(path, 0755));
    for (const char* p : {"newuidmap", "newgidmap"}) REQUIRE(::symlink((std::string("/usr/bin/") + p).c_str(), (path + "/" + p).c_str()) == 0);
    CHECK(chosen({"BOCK_TEST_REFUSE_OVERLAY=1", "PATH=" + path}).first == "bock-fuse");
    // /dev/fuse unusable as well -> vfs, with its warning.
    auto vfs = chosen({"BOCK_TEST_REFUSE_OVERLAY=1", "PATH=" + path, "BOCK_TEST_FUSE_DEVICE=/nonexistent/fuse"});
    CHECK(vfs.first == "vfs");
    CHECK_THAT(vfs.second, Catch::Contains("warning: storage driver vfs"));
    // Forced, the FUSE backends say what is wrong and how to fix it.
    auto forced = cli({"--storage-driver", "bock-fuse", "run", "--rm", "busybox", "true"}, {"BOCK_TEST_FUSE_DEVICE=/nonexistent/fuse"});
    CHECK(forced.code == 125);
    CHECK_THAT(forced.err, Catch::Contains("`/nonexistent/fuse` is not readable and writable") && Catch::Contains("chmod 666 /dev/fuse"));
    CHECK(container_ids().empty());
}

void check_layers_disk_use() {
    need_fuse();
    // A four-layer image: busybox and three more.
    auto image = make_image("localhost/layers-du:1", {"text /etc/one 0644 0 0 1\n", "text /etc/two 0644 0 0 2\n",
                                                      "dir /opt 0755 0 0\ntext /opt/three 0644 0 0 3\n"});
    for (const std::string b : {"overlay", "fuse-overlayfs", "bock-fuse"}) {
        INFO("backend " << b);
        auto r = cli({"--storage-driver", b, "run", image, "true"});
        INFO(r.err);
        REQUIRE(r.code == 0);
        auto ids = container_ids();
        REQUIRE(ids.size() == 1);
        // Counted inside the session, where every file of the container is readable.
        std::vector<std::string> du{"du", "-sk", store() + "/containers/" + ids[0], run_root() + "/containers/" + ids[0]};
        auto d = is_root() ? run(du) : cli([&] { auto a = du; a.insert(a.begin(), "unshare"); return a; }());
        INFO(d.out << d.err);
        long long kib = 0;
        for (const auto& l : lines(d.out)) kib += std::stoll(l);
        CHECK(kib > 0);
        CHECK(kib < 1024);
        REQUIRE(cli({"rm", ids[0]}).code == 0);
    }
}

}  // namespace bock::test

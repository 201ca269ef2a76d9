// containerd (Debian's package) drives bock-oci as its runc binary:
// `ctr run --runc-binary`. Each test starts a private containerd (its own
// root, state and socket under the test's scratch dir, the CRI plugin off),
// imports the busybox image that `bock save` writes, and runs the same
// commands with runc and with bock-oci, which must agree: run --rm (output,
// exit code, PID 1), run -d, task exec, pause/resume, ps, kill, rm.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

class Containerd {
public:
    Containerd() {
        for (const char* p : {"containerd", "ctr", "containerd-shim-runc-v2", "runc"})
            if (!bock::find_program(p)) skip(fmt::format("{} is not installed (package containerd / runc)", p));
        dir_ = tmp_dir() + "/containerd";
        REQUIRE(bock::fs::mkdir_p(dir_));
        sock_ = dir_ + "/containerd.sock";
        // Plugins that need what a test machine lacks (CRI, btrfs, zfs,
        // devmapper, aufs) are off: they only slow the start and log errors.
        REQUIRE(bock::fs::write_file(dir_ + "/config.toml", fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{0}/containerd.sock"
[ttrpc]
  address = "{0}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
)", dir_)));
        bock::SpawnOptions o;
        o.argv = {"sh", "-c", "exec setpriv --pdeathsig KILL containerd --config \"$1/config.toml\" >\"$1/log\" 2>&1",
                  "sh", dir_};
        auto p = bock::spawn_program(o);
        REQUIRE(p);
        pid_ = std::move(*p);
        for (int i = 0; i < 200 && !ready(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        INFO("containerd log: " << bock::fs::read_file(dir_ + "/log").value_or(""));
        REQUIRE(ready());
    }
    ~Containerd() {
        // `ctr run --rm` waited for every task, so no shim is left; the
        // daemon goes, then any mount it left under the scratch dir.
        if (pid_.valid()) {
            (void)pid_.kill(SIGTERM);
            (void)pid_.wait();
        }
        (void)run({"sh", "-c", "grep -F \" $1/\" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount -l",
                   "sh", dir_});
    }
    Containerd(const Containerd&) = delete;
    Containerd& operator=(const Containerd&) = delete;

    Run ctr(std::vector<std::string> args) {
        std::vector<std::string> argv{"timeout", "60", "ctr", "-a", sock_, "-n", "bocktest"};
        argv.insert(argv.end(), args.begin(), args.end());
        Run r = run(argv);
        UNSCOPED_INFO("ctr " << fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << "\nstdout: " << r.out
                             << "\nstderr: " << r.err);
        return r;
    }

    // busybox from Bock's store, as an OCI archive, imported into containerd.
    std::string import_busybox() {
        std::string archive = dir_ + "/busybox.tar";
        REQUIRE(cli({"save", "-o", archive, "busybox"}).code == 0);
        REQUIRE(ctr({"image", "import", "--base-name", "localhost/busybox", archive}).code == 0);
        return "localhost/busybox:latest";
    }

private:
    bool ready() { return ::access(sock_.c_str(), F_OK) == 0 && ctr({"version"}).code == 0; }
    std::string dir_, sock_;
    bock::Pid pid_;
};

}  // namespace

TEST_CASE("root: containerd runs containers with bock-oci as its runc binary", "[root-containerd]") {
    Containerd d;
    auto image = d.import_busybox();
    int n = 0;
    for (std::string runtime : {std::string("runc"), bin("bock-oci")}) {
        INFO("runtime " << runtime);
        std::string id = fmt::format("c{}", n++);
        auto r = d.ctr({"run", "--rm", "--snapshotter", "native", "--runc-binary", runtime, image, id + "a", "echo",
                        "hello from containerd"});
        CHECK(r.code == 0);
        CHECK(r.out == "hello from containerd\n");
        // The container's exit code is the task's.
        r = d.ctr({"run", "--rm", "--snapshotter", "native", "--runc-binary", runtime, image, id + "b", "sh", "-c",
                   "exit 3"});
        CHECK(r.code == 3);
        // Its own pid namespace: the command is PID 1.
        r = d.ctr({"run", "--rm", "--snapshotter", "native", "--runc-binary", runtime, image, id + "c", "sh", "-c",
                   "echo $$"});
        CHECK(r.out == "1\n");
        // Detached: exec into it, pause/resume (v1 freezer), ps, kill, rm.
        REQUIRE(d.ctr({"run", "-d", "--snapshotter", "native", "--runc-binary", runtime, image, id + "d", "sleep",
                       "1000"})
                    .code == 0);
        r = d.ctr({"task", "exec", "--exec-id", "e1", id + "d", "sh", "-c", "echo in-exec; exit 4"});
        CHECK(r.out == "in-exec\n");
        CHECK(r.code == 4);
        CHECK(d.ctr({"task", "pause", id + "d"}).code == 0);
        CHECK_THAT(d.ctr({"task", "ls"}).out, Catch::Contains("PAUSED"));
        CHECK(d.ctr({"task", "resume", id + "d"}).code == 0);
        CHECK_THAT(d.ctr({"task", "ls"}).out, Catch::Contains("RUNNING"));
        r = d.ctr({"task", "ps", id + "d"});
        CHECK(r.code == 0);
        CHECK(lines(r.out).size() >= 2);  // header and the sleep
        CHECK(d.ctr({"task", "kill", "-s", "KILL", id + "d"}).code == 0);
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) {
            gone = d.ctr({"task", "rm", id + "d"}).code == 0;
            if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(gone);
        CHECK(d.ctr({"container", "rm", id + "d"}).code == 0);
        // Nothing is left: no task, no container.
        CHECK(d.ctr({"task", "ls", "-q"}).out.empty());
        CHECK(d.ctr({"container", "ls", "-q"}).out.empty());
    }
}

// podman as root drives bock-oci's cgroups as it drives runc: --memory and
// --pids-limit are visible inside (the v1 cgroup mount), pause/unpause use
// the freezer. The same scenario runs with runc to show both pass.
//
// podman keeps everything under the test's scratch directory (--root,
// --runroot, --tmpdir, vfs storage, no events, no network) and uses the
// cgroupfs manager (no systemd here). The image is busybox built by
// bock-mkimage, loaded into bock, written out with `bock save` and loaded
// into podman.
//
// This machine's root lacks CAP_SYS_RESOURCE, so podman's default rlimits
// (it raises nofile/nproc hard limits) fail with EPERM even with runc:
// every run passes --ulimit nofile=20000:20000 --ulimit nproc=32768:32768.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

namespace {

class Podman {
public:
    Podman() : dir_(tmp_dir() + "/podman") {}
    ~Podman() {
        for (const auto& n : names_) (void)call({"rm", "-f", "-t", "0", n});
    }
    Podman(const Podman&) = delete;
    Podman& operator=(const Podman&) = delete;

    Run call(const std::vector<std::string>& args) {
        std::vector<std::string> argv{"timeout", "120", "podman", "--root", dir_ + "/storage", "--runroot",
                                      dir_ + "/run", "--tmpdir", dir_ + "/tmp", "--storage-driver", "vfs",
                                      "--cgroup-manager", "cgroupfs", "--events-backend", "none"};
        argv.insert(argv.end(), args.begin(), args.end());
        Run r = run(argv);
        UNSCOPED_INFO("podman " << fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << "\nstdout: "
                                << r.out << "\nstderr: " << r.err);
        return r;
    }
    std::string name(const std::string& n) {
        names_.push_back(n);
        return n;
    }

private:
    std::string dir_;
    std::vector<std::string> names_;
};

std::string loaded_busybox(Podman& p) {
    std::string image = make_image("localhost/bock-cgroup-busybox:latest", {}, true, {"sh"});
    std::string archive = tmp_dir() + "/busybox-save.tar";
    Run save = cli({"save", "-o", archive, image});
    INFO(save.err);
    REQUIRE(save.code == 0);
    REQUIRE(p.call({"load", "-i", archive}).code == 0);
    return image;
}

const std::vector<std::string> kUlimits = {"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"};

void check_with_runtime(const std::string& runtime) {
    INFO("runtime: " << runtime);
    Podman p;
    std::string image = loaded_busybox(p);

    std::vector<std::string> args{"run", "--rm", "--runtime", runtime, "--network", "none"};
    args.insert(args.end(), kUlimits.begin(), kUlimits.end());
    for (const char* a : {"--memory", "64m", "--pids-limit", "20"}) args.push_back(a);
    args.push_back(image);
    for (const char* a : {"sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"})
        args.push_back(a);
    Run limits = p.call(args);
    CHECK(limits.code == 0);
    CHECK(lines(limits.out) == std::vector<std::string>{std::to_string(64 << 20), "20"});

    std::string name = p.name("bock-cg-pause");
    std::vector<std::string> detach{"run", "-d", "--name", name, "--runtime", runtime, "--network", "none"};
    detach.insert(detach.end(), kUlimits.begin(), kUlimits.end());
    detach.push_back(image);
    detach.push_back("sleep");
    detach.push_back("300");
    REQUIRE(p.call(detach).code == 0);
    REQUIRE(p.call({"pause", name}).code == 0);
    CHECK(p.call({"inspect", "-f", "{{.State.Status}}", name}).out == "paused\n");
    REQUIRE(p.call({"unpause", name}).code == 0);
    CHECK(p.call({"inspect", "-f", "{{.State.Status}}", name}).out == "running\n");
    Run top = p.call({"top", name});
    CHECK(top.code == 0);
    CHECK_THAT(top.out, Catch::Contains("sleep 300"));
    CHECK(p.call({"rm", "-f", "-t", "0", name}).code == 0);
}

void require_podman() {
    if (run({"sh", "-c", "command -v podman"}).code != 0) skip("podman is not installed");
}

}  // namespace

TEST_CASE("root: podman with bock-oci: --memory, --pids-limit, pause/unpause", "[root-podman-cgroup]") {
    require_podman();
    check_with_runtime(bin("bock-oci"));
}

TEST_CASE("root: podman with runc: the same scenario passes", "[root-podman-cgroup]") {
    require_podman();
    if (run({"sh", "-c", "command -v runc"}).code != 0) skip("runc is not installed");
    check_with_runtime("runc");
}

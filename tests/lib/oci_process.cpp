#include "oci_process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <optional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using nlohmann::json;

// A busybox bundle with the probe at /bock-probe; returns it and its config.
std::string probe_bundle(const std::string& name, json& cfg) {
    std::string b = make_oci_bundle(name);
    REQUIRE(run({"cp", bin("bock-probe"), b + "/rootfs/bock-probe"}).code == 0);
    auto text = fs::read_file(b + "/config.json");
    REQUIRE(text);
    cfg = json::parse(*text);
    cfg["process"]["terminal"] = false;
    return b;
}

Run run_bundle(const std::string& b, const json& cfg, const std::string& id) {
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump(2)));
    auto r = run({bin("bock-oci"), "run", "--bundle", b, id});
    UNSCOPED_INFO("bock-oci run " << id << " -> " << r.code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    return r;
}

json probe_report(const Run& r) {
    REQUIRE(r.code == 0);
    auto j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

json syscall_result(const json& report, const std::string& name) {
    for (const auto& s : report.value("syscalls", json::array()))
        if (s.value("name", "") == name) return s;
    FAIL("the probe did not report syscall " << name);
    return {};
}

json errno_rule(const std::vector<std::string>& names, std::optional<int> errno_ret, json args = nullptr) {
    json r = {{"names", names}, {"action", "SCMP_ACT_ERRNO"}};
    if (errno_ret) r["errnoRet"] = *errno_ret;
    if (!args.is_null()) r["args"] = args;
    return r;
}

void check_settings(const std::string& p) {
    json cfg;
    std::string b = probe_bundle(p + "settings", cfg);
    cfg["process"]["args"] = {"/bock-probe", "syscall", "getcwd",    "syscall", "chdir",
                              "syscall",     "personality", "syscall", "umask",  "read",
                              "/proc/kcore", "list",    "/sys/firmware", "write", "/proc/sys/kernel/hostname"};
    const json caps = {"CAP_CHOWN", "CAP_KILL"};
    cfg["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps},   {"permitted", caps},
                                      {"inheritable", json::array()}, {"ambient", json::array()}};
    // Lower than what the test runs with: this root lacks CAP_SYS_RESOURCE,
    // so a hard limit is never raised.
    struct rlimit cur;
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &cur) == 0);
    rlim_t hard = std::min<rlim_t>(cur.rlim_max, 256), soft = hard / 2;
    cfg["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", soft}, {"hard", hard}}};
    cfg["process"]["noNewPrivileges"] = true;
    cfg["hostname"] = "probe-box";
    json sc = {{"defaultAction", "SCMP_ACT_ALLOW"},
               {"flags", {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
               {"syscalls",
                {errno_rule({"getcwd", "bock_no_such_syscall"}, std::nullopt),  // EPERM; unknown name skipped
                 errno_rule({"chdir"}, 38),
                 // Arguments: personality(0xffffffff) matches, umask(022) does not.
                 errno_rule({"personality"}, 95, {{{"index", 0}, {"value", 0xffffffffULL}, {"op", "SCMP_CMP_EQ"}}}),
                 errno_rule({"umask"}, 13, {{{"index", 0}, {"value", 077}, {"op", "SCMP_CMP_EQ"}}})}}};
#if defined(__x86_64__)
    sc["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#endif
    cfg["linux"]["seccomp"] = sc;
    if (!cfg["linux"].contains("namespaces") ||
        std::none_of(cfg["linux"]["namespaces"].begin(), cfg["linux"]["namespaces"].end(),
                     [](const json& n) { return n.value("type", "") == "uts"; }))
        cfg["linux"]["namespaces"].push_back({{"type", "uts"}});

    json j = probe_report(run_bundle(b, cfg, p + "settings"));
    INFO("probe report: " << j.dump());

    // Capabilities exactly as configured.
    const json& names = j["capabilities"]["names"];
    CHECK(names["bounding"] == caps);
    CHECK(names["effective"] == caps);
    CHECK(names["permitted"] == caps);
    CHECK(names["inheritable"] == json::array());
    CHECK(names["ambient"] == json::array());
    CHECK(j["capabilities"]["CapEff"] == "0000000000000021");
    CHECK(j["capabilities"]["CapBnd"] == "0000000000000021");

    // Seccomp: filter mode, denied syscalls return the configured errno.
    CHECK(j["seccomp"] == 2);
    auto getcwd = syscall_result(j, "getcwd");
    CHECK(getcwd["ret"] == -1);
    CHECK(getcwd["errno"] == EPERM);
    CHECK(syscall_result(j, "chdir")["errno"] == 38);
    CHECK(syscall_result(j, "personality")["errno"] == 95);
    auto um = syscall_result(j, "umask");
    CHECK(um["errno"] == 0);
    CHECK(um["ret"].get<long>() >= 0);

    // Masked and read-only paths.
    const json& kcore = j["read"];
    CHECK((kcore["ok"] == false || kcore.value("content", "x").empty()));
    CHECK(j["list"]["ok"] == true);
    CHECK(j["list"]["entries"] == json::array());
    CHECK(j["write"]["ok"] == false);
    CHECK(j["write"]["errno"] == EROFS);

    CHECK(j["rlimits"]["RLIMIT_NOFILE"]["soft"] == soft);
    CHECK(j["rlimits"]["RLIMIT_NOFILE"]["hard"] == hard);
    CHECK(j["no_new_privs"] == 1);
    CHECK(j["no_new_privs_status"] == 1);
    CHECK(j["hostname"] == "probe-box");
    if (is_root()) {
        CHECK(j["uid_map"] == json::array({json::array({0, 0, 4294967295ULL})}));
    } else {
        CHECK(j["uid_map"] == json::array({json::array({0, ::getuid(), 1})}));
        CHECK(j["gid_map"] == json::array({json::array({0, ::getgid(), 1})}));
    }
    CHECK(j["uid"] == 0);
}

// Without no_new_privs the filter is loaded while the process still holds
// CAP_SYS_ADMIN, before the user switch; and another action than ERRNO.
void check_without_nnp(const std::string& p) {
    json cfg;
    std::string b = probe_bundle(p + "nnp", cfg);
    cfg["process"]["args"] = {"/bock-probe", "syscall", "getppid"};
    cfg["process"]["noNewPrivileges"] = false;
    cfg["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {errno_rule({"getppid"}, 77)}}};
    json j = probe_report(run_bundle(b, cfg, p + "nnp"));
    INFO("probe report: " << j.dump());
    CHECK(j["no_new_privs"] == 0);
    CHECK(j["seccomp"] == 2);
    CHECK(syscall_result(j, "getppid")["errno"] == 77);

    cfg["process"]["noNewPrivileges"] = true;
    cfg["linux"]["seccomp"]["syscalls"] = {{{"names", {"getppid"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}};
    auto killed = run_bundle(b, cfg, p + "kill");
    CHECK(killed.code == 128 + SIGSYS);
}

void check_refused(const std::string& p) {
    json cfg;
    std::string b = probe_bundle(p + "bad", cfg);
    cfg["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                               {"syscalls", {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_BOGUS"}}}}};
    auto bad = run_bundle(b, cfg, p + "bad1");
    CHECK(bad.code == 125);
    CHECK(lines(bad.err).size() == 1);
    CHECK_THAT(bad.err, Catch::Contains("linux.seccomp.syscalls[0].action") && Catch::Contains("SCMP_ACT_BOGUS"));

    cfg["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOTIFY"}, {"listenerPath", "/run/agent.sock"}};
    auto notify = run_bundle(b, cfg, p + "bad2");
    CHECK(notify.code == 125);
    CHECK(lines(notify.err).size() == 1);
    CHECK_THAT(notify.err, Catch::Contains("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"));
}

}  // namespace

void check_oci_process_scenario(const std::string& p) {
    check_settings(p);
    check_without_nnp(p);
    check_refused(p);
}

}  // namespace bock::test

#include "oci_fields.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "oci_lifecycle.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using nlohmann::json;
using lifecycle::Oci;

std::string probe_bundle(const std::string& name) {
    std::string b = make_oci_bundle(name);
    REQUIRE(run({"cp", bin("bock-probe"), b + "/rootfs/bock-probe"}).code == 0);
    return b;
}

Run oci_run(const std::string& b, const json& cfg, const std::string& id) {
    write_oci_config(b, cfg);
    Run r = run({bin("bock-oci"), "run", "--bundle", b, id});
    UNSCOPED_INFO("bock-oci run " << id << " -> " << r.code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    return r;
}

// "monotonic    1000000         0" -> "monotonic 1000000 0"
json squeeze(const json& lines_) {
    json out = json::array();
    for (const auto& l : lines_) {
        std::string in = l.get<std::string>(), o;
        for (char ch : in)
            if (ch != ' ' || (!o.empty() && o.back() != ' ')) o += ch;
        while (!o.empty() && o.back() == ' ') o.pop_back();
        out.push_back(o);
    }
    return out;
}

void check_one_line_error(const Run& r, const std::string& what) {
    CHECK(r.code == 125);
    CHECK(lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::Contains(what));
}

}  // namespace

void check_process_fields_scenario(const std::string& p) {
    std::string b = probe_bundle(p + "fields");
    const json original = read_oci_config(b);
    json cfg = original;
    cfg["process"]["args"] = {"/bock-probe"};
    cfg["process"]["oomScoreAdj"] = 500;
    cfg["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
    cfg["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 5}};
    cfg["linux"]["personality"] = {{"domain", "LINUX32"}};
    cfg["linux"]["namespaces"].push_back({{"type", "time"}});
    cfg["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1000000}, {"nanosecs", 0}}},
                                   {"boottime", {{"secs", 2000000}, {"nanosecs", 0}}}};
    Run r = oci_run(b, cfg, p + "fields");
    REQUIRE(r.code == 0);
    json j = json::parse(r.out, nullptr, false);
    REQUIRE(j.is_object());
    INFO("probe report: " << j.dump());
    CHECK(j["oom_score_adj"] == 500);
    CHECK(j["ioprio"] == ((2 << 13) | 6));
    CHECK(j["scheduler"]["policy"] == 3);  // SCHED_BATCH
    CHECK(j["scheduler"]["nice"] == 5);
    CHECK(j["personality"] == 0x0008);  // PER_LINUX32
    CHECK(squeeze(j["timens_offsets"]) == json::array({"monotonic 1000000 0", "boottime 2000000 0"}));
    CHECK(j["clock_monotonic"].get<long long>() >= 1000000);
    CHECK(j["clock_boottime"].get<long long>() >= 2000000);

    // Without the fields: the runtime's own values pass through.
    json plain = original;
    plain["process"]["args"] = {"/bock-probe"};
    Run r0 = oci_run(b, plain, p + "plain");
    REQUIRE(r0.code == 0);
    json j0 = json::parse(r0.out, nullptr, false);
    CHECK(j0["personality"] == 0);
    CHECK(j0["scheduler"]["policy"] == 0);
    CHECK(squeeze(j0["timens_offsets"]) == json::array({"monotonic 0 0", "boottime 0 0"}));
    CHECK(j0["namespaces"]["time"] != j["namespaces"]["time"]);

    // Refused with one line naming the field.
    json bad = plain;
    bad["process"]["oomScoreAdj"] = 5000;
    check_one_line_error(oci_run(b, bad, p + "bad-oom"), "process.oomScoreAdj");
    bad = plain;
    bad["process"]["scheduler"] = {{"policy", "SCHED_BOGUS"}};
    check_one_line_error(oci_run(b, bad, p + "bad-sched"), "process.scheduler.policy");
    bad = plain;
    bad["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 5}}}};
    check_one_line_error(oci_run(b, bad, p + "bad-time"), "needs a new `time` namespace");
    bad = plain;
    bad["linux"]["personality"] = {{"domain", "SVR4"}};
    check_one_line_error(oci_run(b, bad, p + "bad-pers"), "linux.personality.domain");

    // This host has no AppArmor and no SELinux: asking for them is an error.
    if (fs::read_file("/sys/module/apparmor/parameters/enabled").value_or("N").rfind("Y", 0) != 0) {
        bad = plain;
        bad["process"]["apparmorProfile"] = "bock-test";
        check_one_line_error(oci_run(b, bad, p + "aa"), "AppArmor is not enabled on this host");
    }
    // SELinux labels on a host without SELinux are ignored (runc, crun):
    // the container runs, --debug says so once.
    if (!fs::exists("/sys/fs/selinux/enforce")) {
        json labels = plain;
        labels["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0";
        labels["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0";
        write_oci_config(b, labels);
        Run l = run({bin("bock-oci"), "--debug", "run", "--bundle", b, p + "labels"});
        INFO("stderr: " << l.err);
        CHECK(l.code == 0);
        CHECK(json::parse(l.out, nullptr, false).is_object());
        size_t said = 0;
        for (const auto& line : lines(l.err)) said += line.find("SELinux is not enabled on this host") != std::string::npos;
        CHECK(said == 1);
    }
}

void check_hooks_scenario(const std::string& p) {
    Oci oci(p);
    std::string b = make_oci_bundle(p + "hooks");
    std::string dir = tmp_dir() + "/" + p + "hooks-out";
    REQUIRE(fs::mkdir_p(dir));
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    auto host_hook = [&](const std::string& kind) {
        return json{{"path", "/bin/sh"},
                    {"args", {"sh", "-c",
                              fmt::format("cat > {0}/{1}.json; echo {1} $HOOKVAR >> {0}/order; "
                                          "readlink /proc/self/ns/mnt > {0}/{1}.mnt",
                                          dir, kind)}},
                    {"env", {"HOOKVAR=v-" + kind}}};
    };
    json cfg = read_oci_config(b);
    cfg["process"]["args"] = {"sh", "-c", "sleep 100"};
    cfg["annotations"] = {{"org.bock.test", "hooks"}};
    cfg["hooks"] = {
        {"prestart", {host_hook("prestart")}},
        {"createRuntime", {host_hook("createRuntime")}},
        {"createContainer", {host_hook("createContainer")}},
        // Resolved in the container: its busybox, its /tmp.
        {"startContainer",
         {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /tmp/startContainer.json"}}}}},
        {"poststart", {host_hook("poststart")}},
        {"poststop", {host_hook("poststop")}},
    };
    write_oci_config(b, cfg);
    std::string id = oci.id("hooks");
    REQUIRE(oci.call({"create", "--bundle", b, id}).code == 0);
    int pid = oci.state(id)["pid"];
    CHECK(fs::read_file(dir + "/order").value_or("") ==
          "prestart v-prestart\ncreateRuntime v-createRuntime\ncreateContainer v-createContainer\n");
    json st = json::parse(fs::read_file(dir + "/createRuntime.json").value_or("{}"), nullptr, false);
    CHECK(st["id"] == id);
    // crun's statuses (compared with crun in root.root-oci-hooks-crun).
    CHECK(st["status"] == "created");
    for (const char* kind : {"prestart", "createContainer"})
        CHECK(json::parse(fs::read_file(dir + "/" + kind + ".json").value_or("{}"), nullptr, false)["status"] ==
              "created");
    CHECK(st["pid"] == pid);
    CHECK(st["bundle"] == b);
    CHECK(st["annotations"]["org.bock.test"] == "hooks");
    // createContainer ran in the container's mount namespace, the others in ours.
    auto container_mnt = fs::readlink(fmt::format("/proc/{}/ns/mnt", pid));
    auto own_mnt = fs::readlink("/proc/self/ns/mnt");
    REQUIRE(container_mnt);
    CHECK(fs::read_file(dir + "/createContainer.mnt").value_or("") == *container_mnt + "\n");
    CHECK(fs::read_file(dir + "/prestart.mnt").value_or("") == *own_mnt + "\n");

    REQUIRE(oci.call({"start", id}).code == 0);
    json sc = json::parse(fs::read_file(b + "/rootfs/tmp/startContainer.json").value_or("{}"), nullptr, false);
    CHECK(sc["id"] == id);
    CHECK(sc["status"] == "created");
    CHECK_THAT(fs::read_file(dir + "/order").value_or(""), Catch::EndsWith("poststart v-poststart\n"));
    CHECK(json::parse(fs::read_file(dir + "/poststart.json").value_or("{}"), nullptr, false)["status"] == "running");
    REQUIRE(oci.call({"delete", "--force", id}).code == 0);
    CHECK_THAT(fs::read_file(dir + "/order").value_or(""), Catch::EndsWith("poststop v-poststop\n"));
    CHECK(json::parse(fs::read_file(dir + "/poststop.json").value_or("{}"), nullptr, false)["status"] == "stopped");

    // A failing prestart hook: an error, the container is torn down.
    json fail = cfg;
    fail["hooks"] = {{"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}}}};
    write_oci_config(b, fail);
    std::string id2 = oci.id("hookfail");
    Run f = oci.call({"create", "--bundle", b, id2});
    CHECK(f.code == 1);
    CHECK(lines(f.err).size() == 1);
    CHECK_THAT(f.err, Catch::Contains("prestart hook `/bin/sh` failed (exit status 3)"));
    CHECK_FALSE(fs::exists(oci.root() + "/" + id2));

    // A hook past its timeout is killed.
    json slow = cfg;
    slow["hooks"] = {{"createRuntime", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
    write_oci_config(b, slow);
    auto t0 = std::chrono::steady_clock::now();
    Run s = oci.call({"create", "--bundle", b, oci.id("hookslow")});
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK(s.code == 1);
    CHECK_THAT(s.err, Catch::Contains("createRuntime hook `/bin/sleep`: timed out after 1 s"));
    CHECK(secs < 10);

    // poststop failing is only a warning: delete succeeds.
    json warn = cfg;
    warn["hooks"] = {{"poststop", {{{"path", "/bin/false"}}}}};
    write_oci_config(b, warn);
    std::string id3 = oci.id("poststop");
    REQUIRE(oci.call({"create", "--bundle", b, id3}).code == 0);
    Run d = oci.call({"delete", "--force", id3});
    CHECK(d.code == 0);
    CHECK_THAT(d.err, Catch::Contains("poststop hook `/bin/false` failed"));
    CHECK_FALSE(fs::exists(oci.root() + "/" + id3));

    // A malformed hook is refused before anything is created.
    json bad = cfg;
    bad["hooks"] = {{"prestart", {{{"path", "relative/hook"}}}}};
    write_oci_config(b, bad);
    Run r = oci.call({"create", "--bundle", b, oci.id("hookbad")});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("hooks.prestart[0].path"));
}

void check_features_scenario(const std::string& p) {
    Run f = run({bin("bock-oci"), "features"});
    REQUIRE(f.code == 0);
    json j = json::parse(f.out, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["ociVersionMin"] == "1.0.0");
    CHECK(j["ociVersionMax"] == "1.1.0");
    CHECK(j["hooks"].size() == 6);
    auto has = [](const json& a, const std::string& v) { return std::find(a.begin(), a.end(), v) != a.end(); };
    CHECK(has(j["mountOptions"], "rbind"));
    CHECK(has(j["mountOptions"], "nosymfollow"));
    CHECK(has(j["mountOptions"], "idmap"));
    CHECK(has(j["linux"]["namespaces"], "time"));
    CHECK(has(j["linux"]["capabilities"], "CAP_SYS_ADMIN"));
    CHECK(has(j["linux"]["capabilities"], "CAP_CHOWN"));
    CHECK(j["linux"]["seccomp"]["enabled"] == true);
    CHECK(has(j["linux"]["seccomp"]["actions"], "SCMP_ACT_ERRNO"));
    CHECK(has(j["linux"]["seccomp"]["actions"], "SCMP_ACT_NOTIFY"));  // with listenerPath
    CHECK(has(j["mountOptions"], "rshared"));  // rootfsPropagation too: root.root-oci-propagation
    CHECK(has(j["linux"]["seccomp"]["operators"], "SCMP_CMP_MASKED_EQ"));
    CHECK(has(j["linux"]["seccomp"]["archs"], "SCMP_ARCH_X86_64"));
    CHECK(j["linux"]["cgroup"]["v1"] == true);
    CHECK(j["linux"]["mountExtensions"]["idmap"]["enabled"].is_boolean());
    CHECK(j["annotations"]["io.github.seccomp.libseccomp.version"].is_string());

    Run v = run({bin("bock-oci"), "--version"});
    CHECK(v.code == 0);
    CHECK_THAT(v.out, Catch::StartsWith("bock-oci version "));
    CHECK_THAT(v.out, Catch::Contains("\nspec: 1.1.0\n"));
    CHECK_THAT(v.out, Catch::Contains("\ncommit: "));
    CHECK_THAT(v.out, Catch::Contains("\nlibseccomp: 2."));

    // `spec` (root) or `spec --rootless` as they come run a container; the
    // other one is checked as root too, where both can run.
    std::vector<bool> modes = {!is_root()};
    if (is_root()) modes.push_back(true);
    for (bool rootless : modes) {
        std::string b = tmp_dir() + "/" + p + (rootless ? "spec-rl" : "spec-root");
        REQUIRE(fs::mkdir_p(b + "/rootfs/bin"));
        for (const char* d : {"proc", "dev", "sys", "tmp", "etc"}) REQUIRE(fs::mkdir_p(b + "/rootfs/" + d));
        REQUIRE(run({"cp", "/bin/busybox", b + "/rootfs/bin/busybox"}).code == 0);
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/sh").c_str()) == 0);
        std::vector<std::string> argv{bin("bock-oci"), "spec", "--bundle", b};
        if (rootless) argv.push_back("--rootless");
        REQUIRE(run(argv).code == 0);
        json cfg = read_oci_config(b);  // terminal: false, as an engine without a pty would
        cfg["process"]["args"] = {"sh", "-c", "echo spec-ok"};
        Run r = oci_run(b, cfg, p + (rootless ? "spec-rl" : "spec-root"));
        CHECK(r.code == 0);
        CHECK(r.out == "spec-ok\n");
    }
}

void check_mount_options_scenario(const std::string& p) {
    std::string b = make_oci_bundle(p + "mounts");
    std::string shared = tmp_dir() + "/" + p + "shared";
    REQUIRE(fs::mkdir_p(shared));
    REQUIRE(fs::write_file(shared + "/file", "data\n"));
    REQUIRE(::symlink("file", (shared + "/link").c_str()) == 0);
    REQUIRE(fs::write_file(b + "/single", "single\n"));
    const json original = read_oci_config(b);
    json cfg = original;
    json mounts = cfg["mounts"];
    mounts.push_back({{"destination", "/nosym"}, {"type", "bind"}, {"source", shared},
                      {"options", {"bind", "nosymfollow"}}});
    mounts.push_back({{"destination", "/sized"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                      {"options", {"size=1m", "mode=1770", "nosuid"}}});
    mounts.push_back({{"destination", "/etc/single"}, {"type", "bind"}, {"source", b + "/single"},
                      {"options", {"rbind", "ro", "rprivate"}}});
    cfg["mounts"] = mounts;
    cfg["process"]["args"] = {"sh", "-c",
                              "cat /nosym/file; cat /nosym/link 2>/dev/null || echo nosym-refused; "
                              "busybox stat -c '%a' /sized; busybox df -k /sized | busybox tail -1 | busybox awk '{print $2}'; "
                              "cat /etc/single; echo x > /etc/single 2>/dev/null || echo single-ro"};
    Run r = oci_run(b, cfg, p + "opts");
    CHECK(r.code == 0);
    CHECK(r.out == "data\nnosym-refused\n1770\n1024\nsingle\nsingle-ro\n");

    // linux.devices: mknod as root (any name), a bind of the host's node
    // rootless (the same path must exist on the host).
    json dev = original;
    if (is_root())
        dev["linux"]["devices"] = {{{"path", "/dev/bock-null"}, {"type", "c"}, {"major", 1}, {"minor", 3},
                                    {"fileMode", 0600}, {"uid", 0}, {"gid", 0}}};
    else
        dev["linux"]["devices"] = {{{"path", "/dev/net/tun"}, {"type", "c"}, {"major", 10}, {"minor", 200},
                                    {"fileMode", 0666}, {"uid", 0}, {"gid", 0}}};
    std::string node = dev["linux"]["devices"][0]["path"];
    dev["process"]["args"] = {"sh", "-c", "busybox stat -c '%F %t:%T' " + node};
    Run d = oci_run(b, dev, p + "devices");
    CHECK(d.code == 0);
    CHECK(d.out == (is_root() ? "character special file 1:3\n" : "character special file a:c8\n"));

    // idmap: the container's uid 0 sees the files the host's uid 0 owns.
    json idm = original;
    idm["mounts"].push_back({{"destination", "/idm"}, {"type", "bind"}, {"source", shared},
                             {"options", {"bind", "idmap"}}});
    idm["process"]["args"] = {"sh", "-c", "busybox stat -c '%u' /idm/file"};
    if (is_root()) {
        // A user namespace mapping 0 -> 100000: without idmap the file is
        // the overflow uid; with it uid 0, and what the container's root
        // creates belongs to the host's uid 0.
        idm["linux"]["namespaces"].push_back({{"type", "user"}});
        REQUIRE(::chmod(tmp_dir().c_str(), 0755) == 0);
        REQUIRE(fs::mkdir_p(b + "/rootfs/idm"));
        idm["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        idm["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        idm["process"]["args"] = {"sh", "-c", "busybox stat -c '%u' /idm/file; busybox touch /idm/made-inside"};
        Run ok = oci_run(b, idm, p + "idmap");
        CHECK(ok.code == 0);
        CHECK(ok.out == "0\n");
        struct stat st;
        REQUIRE(::stat((shared + "/made-inside").c_str(), &st) == 0);
        CHECK(st.st_uid == 0);
        json plain = idm;
        plain["mounts"].back()["options"] = {"bind"};
        plain["process"]["args"] = {"sh", "-c", "busybox stat -c '%u' /idm/file"};
        Run no = oci_run(b, plain, p + "noidmap");
        CHECK(no.code == 0);
        CHECK(no.out == "65534\n");
        json noun = original;
        noun["mounts"].push_back(idm["mounts"].back());
        check_one_line_error(oci_run(b, noun, p + "idmap-nouserns"), "`idmap` needs a new `user` namespace");
    } else {
        // The host filesystem belongs to the initial user namespace: the
        // kernel lets only its root id-map it (one clear error).
        Run no = oci_run(b, idm, p + "idmap");
        check_one_line_error(no, "id-map the bind mount `/idm`");
        CHECK_THAT(no.err, Catch::Contains("operation not permitted"));
    }
}

}  // namespace bock::test

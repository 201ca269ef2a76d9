#include "oci_conformance.hpp"

#include <seccomp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "oci_lifecycle.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using nlohmann::json;
using lifecycle::Oci;

constexpr const char* kRunc = "/usr/sbin/runc";

// What Docker's default profile left out of its allow list (or allowed
// only with a capability); left out here too.
const std::set<std::string> kDenied = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
    "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "personality", "pivot_root",
    "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key",
    "set_mempolicy", "setns", "settimeofday", "swapon", "swapoff", "sysfs", "_sysctl", "umount2", "unshare",
    "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
};

// x86_64 numbers: rseq (Linux 4.18) is the newest call of the generated
// default; what the test calls past it and below it.
constexpr int kRseq = 334, kClone3 = 435, kCloseRange = 436, kOpenat2 = 437, kMount = 165;

// The allow list of a runtime default written for Linux 4.18: every
// system call libseccomp knows up to rseq, minus Docker's denials. No
// openat2, close_range, clone3 or faccessat2.
json old_default_profile(const std::set<std::string>& also_left_out = {}) {
    json names = json::array();
    for (int nr = 0; nr <= kRseq; ++nr) {
        char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
        if (!name) continue;
        std::string n = name;
        ::free(name);
        if (!kDenied.count(n) && !also_left_out.count(n)) names.push_back(n);
    }
    return {{"defaultAction", "SCMP_ACT_ERRNO"},
            {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
            {"syscalls", {{{"names", names}, {"action", "SCMP_ACT_ALLOW"}}}}};
}

json parse_probe(const Run& r) {
    json j = json::parse(r.out, nullptr, false);
    INFO("probe output: " << r.out << "\nstderr: " << r.err);
    REQUIRE(j.is_object());
    return j;
}

// The optional fields of the mountinfo line of `/` ("shared:3 master:1").
std::string root_propagation(const std::string& mountinfo) {
    for (const auto& line : lines(mountinfo)) {
        std::istringstream in(line);
        std::vector<std::string> f;
        for (std::string w; in >> w;) f.push_back(w);
        if (f.size() < 7 || f[4] != "/") continue;
        std::string out;
        for (size_t i = 6; i < f.size() && f[i] != "-"; ++i) out += (out.empty() ? "" : " ") + f[i];
        return out.empty() ? "none" : out;
    }
    return "no `/` line";
}

}  // namespace

std::string runc_spec_bundle(const std::string& name) {
    if (::access(kRunc, X_OK) != 0) skip("runc is not installed (its `spec` writes the bundles of this test)");
    std::string b = tmp_dir() + "/" + name;
    REQUIRE(fs::mkdir_p(b + "/rootfs/bin"));
    for (const char* d : {"proc", "dev", "sys", "tmp", "etc", "srv/app"}) REQUIRE(fs::mkdir_p(b + "/rootfs/" + d));
    REQUIRE(run({"cp", "/bin/busybox", b + "/rootfs/bin/busybox"}).code == 0);
    REQUIRE(run({"cp", bin("bock-probe"), b + "/rootfs/bock-probe"}).code == 0);
    for (const char* a : {"sh", "cat", "echo", "sleep", "pwd", "hostname", "readlink", "true", "test"})
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + a).c_str()) == 0);
    std::vector<std::string> argv{kRunc, "spec", "--bundle", b};
    if (!is_root()) argv.push_back("--rootless");
    Run r = run(argv);
    INFO("runc spec: " << r.err);
    REQUIRE(r.code == 0);
    return b;
}

void check_old_seccomp_profile_scenario(const std::string& p) {
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) skip("the generated old profile lists x86_64 system calls");
    Oci oci(p);
    std::string b = runc_spec_bundle(p + "oldseccomp");
    json cfg = read_oci_config(b);
    cfg["process"]["noNewPrivileges"] = false;
    cfg["process"]["cwd"] = "/srv/app";
    if (is_root())  // the user switch, groups and capset all come after the load
        cfg["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {1000, 1001}}};
    cfg["linux"]["seccomp"] = old_default_profile();
    cfg["process"]["args"] = {"/bock-probe",      "syscall", fmt::format("nr:{}", kOpenat2),
                              "syscall",          fmt::format("nr:{}", kCloseRange),
                              "syscall",          fmt::format("nr:{}", kClone3),
                              "syscall",          fmt::format("nr:{}", kMount)};
    write_oci_config(b, cfg);

    std::string id = oci.id("run");
    Run r = oci.call({"run", "--bundle", b, id});
    REQUIRE(r.code == 0);
    json j = parse_probe(r);
    CHECK(j["cwd"] == "/srv/app");
    CHECK(j["no_new_privs"] == 0);
    CHECK(j["uid"] == (is_root() ? 1000 : 0));
    if (is_root()) CHECK(j["groups"] == json::array({1000, 1001}));
    CHECK(j["seccomp"] == 2);  // filter mode
    // Newer than every call the profile names: ENOSYS (glibc falls back);
    // an old call left out: the profile's default errno.
    REQUIRE(j["syscalls"].size() == 4);
    CHECK(j["syscalls"][0]["errno"] == ENOSYS);
    CHECK(j["syscalls"][1]["errno"] == ENOSYS);
    CHECK(j["syscalls"][2]["errno"] == ENOSYS);
    CHECK(j["syscalls"][3]["errno"] == EPERM);

    // A shell in the cwd: busybox's own calls go through the filter.
    json sh = cfg;
    sh["process"]["args"] = {"sh", "-c", "pwd; test -x /bin/busybox && echo exec-ok"};
    write_oci_config(b, sh);
    Run s = oci.call({"run", "--bundle", b, oci.id("sh")});
    CHECK(s.code == 0);
    CHECK(s.out == "/srv/app\nexec-ok\n");

    // exec into it: the container's filter, loaded before the user switch
    // of the exec'd process as well.
    json bg = cfg;
    bg["process"]["args"] = {"sleep", "100"};
    write_oci_config(b, bg);
    std::string c = oci.id("exec");
    REQUIRE(oci.call({"create", "--bundle", b, c}).code == 0);
    REQUIRE(oci.call({"start", c}).code == 0);
    Run e = oci.call({"exec", c, "/bock-probe", "syscall", fmt::format("nr:{}", kOpenat2), "syscall",
                      fmt::format("nr:{}", kMount)});
    REQUIRE(e.code == 0);
    json ej = parse_probe(e);
    CHECK(ej["cwd"] == "/srv/app");
    CHECK(ej["seccomp"] == 2);
    CHECK(ej["syscalls"][0]["errno"] == ENOSYS);
    CHECK(ej["syscalls"][1]["errno"] == EPERM);
    Run e2 = oci.call({"exec", "--cwd", "/", c, "sh", "-c", "pwd"});
    CHECK(e2.code == 0);
    CHECK(e2.out == "/\n");
    CHECK(oci.call({"delete", "--force", c}).code == 0);

    // Negative control: the filter does apply to the runtime's steps after
    // the load. Without fchdir in the allow list the cwd cannot be entered.
    json no_fchdir = cfg;
    no_fchdir["linux"]["seccomp"] = old_default_profile({"fchdir"});
    write_oci_config(b, no_fchdir);
    Run n = oci.call({"run", "--bundle", b, oci.id("nofchdir")});
    CHECK(n.code != 0);
    CHECK_THAT(n.err, Catch::Contains("change to the working directory `/srv/app`: operation not permitted"));
}

void check_namespace_join_scenario(const std::string& p) {
    Oci oci(p);
    std::string a = runc_spec_bundle(p + "join-a");
    REQUIRE(fs::write_file(a + "/rootfs/a-marker", "a-file\n"));
    json ac = read_oci_config(a);
    ac["root"]["readonly"] = false;
    ac["hostname"] = "bock-a";
    ac["process"]["args"] = {"sh", "-c", "echo a-wrote > /tmp/a-wrote; exec sleep 100"};
    bool has_net = false;
    for (const auto& n : ac["linux"]["namespaces"]) has_net = has_net || n["type"] == "network";
    if (!has_net) ac["linux"]["namespaces"].push_back({{"type", "network"}});
    write_oci_config(a, ac);
    std::string ida = oci.id("a");
    REQUIRE(oci.call({"create", "--bundle", a, ida}).code == 0);
    REQUIRE(oci.call({"start", ida}).code == 0);
    REQUIRE(lifecycle::wait_file(a + "/rootfs/tmp/a-wrote"));
    int pid = oci.state(ida)["pid"];
    auto ns_of = [&](const char* ns) { return fs::readlink(fmt::format("/proc/{}/ns/{}", pid, ns)).value_or("?"); };

    // B as an engine writes a container that joins A: the namespaces by
    // path, root.path "/" of A's mount namespace, no mounts of its own.
    std::string b = runc_spec_bundle(p + "join-b");
    json bc = read_oci_config(b);
    bc["root"] = {{"path", "/"}, {"readonly", false}};
    bc["mounts"] = json::array();
    bc["linux"].erase("maskedPaths");
    bc["linux"].erase("readonlyPaths");
    bc.erase("hostname");
    const std::pair<const char*, const char*> joins[] = {
        {"mount", "mnt"}, {"network", "net"}, {"ipc", "ipc"}, {"uts", "uts"}, {"pid", "pid"}, {"user", "user"}};
    json ns = json::array();
    for (const auto& [type, file] : joins) {
        if (std::string(type) == "user" && is_root()) continue;  // root: no user namespace at all
        ns.push_back({{"type", type}, {"path", fmt::format("/proc/{}/ns/{}", pid, file)}});
    }
    bc["linux"]["namespaces"] = ns;
    bc["process"]["args"] = {"sh", "-c",
                             "cat /a-marker /tmp/a-wrote; hostname; "
                             "for n in mnt net ipc uts; do readlink /proc/self/ns/$n; done"};
    write_oci_config(b, bc);
    Run r = oci.call({"run", "--bundle", b, oci.id("b")});
    CHECK(r.code == 0);
    CHECK(r.out == fmt::format("a-file\na-wrote\nbock-a\n{}\n{}\n{}\n{}\n", ns_of("mnt"), ns_of("net"),
                               ns_of("ipc"), ns_of("uts")));

    // Only mount, network, ipc and uts joined (rootless: and the user
    // namespace); a pid namespace of its own, made inside A's user
    // namespace rootless.
    json own_pid = bc;
    own_pid["linux"]["namespaces"].erase(4);
    own_pid["linux"]["namespaces"].push_back({{"type", "pid"}});
    own_pid["process"]["args"] = {"sh", "-c", "cat /a-marker; hostname; echo $$"};
    write_oci_config(b, own_pid);
    Run o = oci.call({"run", "--bundle", b, oci.id("b-pid")});
    CHECK(o.code == 0);
    CHECK(o.out == "a-file\nbock-a\n1\n");
    if (is_root()) {
        // The conformance case: an `unshare -m` copy of the host's mount
        // namespace, where the bundle path resolves; runc spec's own mounts
        // and read-only root go into that namespace.
        pid_t holder = ::fork();
        REQUIRE(holder >= 0);
        if (holder == 0) {
            ::execl("/usr/bin/unshare", "unshare", "-m", "--propagation", "private", "sleep", "100",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        struct Kill {
            pid_t pid;
            ~Kill() {
                ::kill(pid, SIGKILL);
                (void)::waitpid(pid, nullptr, 0);
            }
        } kill_holder{holder};
        std::string own = fs::readlink("/proc/self/ns/mnt").value_or("");
        std::string theirs;
        for (int i = 0; i < 100 && (theirs.empty() || theirs == own); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            theirs = fs::readlink(fmt::format("/proc/{}/ns/mnt", holder)).value_or("");
        }
        REQUIRE(theirs != own);
        std::string h = runc_spec_bundle(p + "join-host");
        json hc = read_oci_config(h);  // root.readonly true, proc, dev, sys, ... as runc writes them
        for (auto& n : hc["linux"]["namespaces"])
            if (n["type"] == "mount") n["path"] = fmt::format("/proc/{}/ns/mnt", holder);
        hc["process"]["args"] = {"sh", "-c",
                                 "readlink /proc/self/ns/mnt; echo x > /dev/null && echo dev-ok; "
                                 "echo x > /x 2>/dev/null || echo root-ro"};
        write_oci_config(h, hc);
        Run hr = oci.call({"run", "--bundle", h, oci.id("b-host")});
        CHECK(hr.code == 0);
        CHECK(hr.out == theirs + "\ndev-ok\nroot-ro\n");
    } else {
        // Rootless a new user namespace can never own A's mount namespace.
        json newuser = bc;
        newuser["linux"]["namespaces"].erase(5);
        newuser["linux"]["namespaces"].push_back({{"type", "user"}});
        write_oci_config(b, newuser);
        Run o = oci.call({"run", "--bundle", b, oci.id("b-user")});
        CHECK(o.code == 125);
        CHECK_THAT(o.err, Catch::Contains("needs the `user` namespace that owns it, joined by path too"));
    }
}

void check_rootfs_propagation_scenario(const std::string& p) {
    Oci oci(p);
    std::string b = runc_spec_bundle(p + "prop");
    // As root the bundle is made a shared mount, so that `slave` has a
    // master to show; rootless the host's mounts are what they are.
    bool shared_source = false;
    if (is_root()) {
        REQUIRE(run({"mount", "--bind", b, b}).code == 0);
        REQUIRE(run({"mount", "--make-shared", b}).code == 0);
        shared_source = true;
    }
    struct Unmount {
        std::string path;
        bool on;
        ~Unmount() {
            if (on) (void)run({"umount", "-l", path});
        }
    } guard{b, shared_source};
    json cfg = read_oci_config(b);
    cfg["process"]["args"] = {"cat", "/proc/self/mountinfo"};
    for (const char* prop : {"shared", "rshared", "slave", "private", "unbindable"}) {
        json c = cfg;
        c["linux"]["rootfsPropagation"] = prop;
        write_oci_config(b, c);
        Run r = oci.call({"run", "--bundle", b, oci.id(prop)});
        INFO("rootfsPropagation " << prop);
        REQUIRE(r.code == 0);
        std::string tags = root_propagation(r.out);
        INFO("optional fields of `/`: " << tags);
        std::string s = prop;
        if (s == "shared" || s == "rshared") {
            CHECK_THAT(tags, Catch::Contains("shared:"));
        } else if (s == "slave") {
            CHECK_THAT(tags, !Catch::Contains("shared:"));
            if (shared_source) CHECK_THAT(tags, Catch::Contains("master:"));
        } else if (s == "private") {
            CHECK(tags == "none");
        } else {
            CHECK_THAT(tags, Catch::Contains("unbindable"));
        }
    }
}

namespace {

const char* const kHookKinds[] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                                  "poststop"};

// Every hook writes its stdin to OUT/KIND.json; startContainer runs in the
// container, so it writes /tmp/startContainer.json of the rootfs.
json hooked_config(const json& base, const std::string& out) {
    json cfg = base;
    cfg["root"]["readonly"] = false;
    cfg["process"]["args"] = {"true"};
    json hooks = json::object();
    for (const char* kind : kHookKinds) {
        std::string file = std::string(kind) == "startContainer" ? "/tmp/startContainer.json"
                                                                 : fmt::format("{}/{}.json", out, kind);
        hooks[kind] = json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + file}}}});
    }
    cfg["hooks"] = hooks;
    return cfg;
}

std::map<std::string, std::string> statuses(const std::string& out, const std::string& rootfs) {
    std::map<std::string, std::string> m;
    for (const char* kind : kHookKinds) {
        std::string file = std::string(kind) == "startContainer" ? rootfs + "/tmp/startContainer.json"
                                                                 : fmt::format("{}/{}.json", out, kind);
        json j = json::parse(fs::read_file(file).value_or("{}"), nullptr, false);
        m[kind] = j.is_object() && j.contains("status") ? j["status"].get<std::string>() : "(no state)";
    }
    return m;
}

}  // namespace

void check_hook_status_against_crun(const std::string& p) {
    if (::access("/usr/bin/crun", X_OK) != 0) skip("crun is not installed");
    std::string b = runc_spec_bundle(p + "hooks");
    const json base = read_oci_config(b);

    std::string crun_out = tmp_dir() + "/" + p + "crun-hooks";
    REQUIRE(fs::mkdir_p(crun_out));
    REQUIRE(::chmod(crun_out.c_str(), 0777) == 0);
    // crun 1.8 refuses a hybrid cgroup host: hide the cgroup2 mount in a
    // mount namespace of its own and run without cgroups. Rootless it runs
    // as podman runs a runtime, as root of `unshare -Ur`, with the config
    // `runc spec --rootless` writes there (its own id as the host id).
    json crun_base = base;
    std::vector<std::string> ns{"unshare", "-m"};
    std::string hide = "mount --make-rprivate / && { umount /sys/fs/cgroup/unified 2>/dev/null || "
                       "mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null || true; }";
    if (!is_root()) {
        std::string spec_dir = tmp_dir() + "/" + p + "crun-spec";
        REQUIRE(fs::mkdir_p(spec_dir));
        Run sp = run({"unshare", "-Ur", kRunc, "spec", "--rootless", "--bundle", spec_dir});
        if (sp.code != 0) skip("runc spec --rootless in `unshare -Ur` failed: " + sp.err);
        crun_base = read_oci_config(spec_dir);
        ns = {"unshare", "-Urm"};
        hide = "{ mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null || true; }";
    }
    write_oci_config(b, hooked_config(crun_base, crun_out));
    std::string script = hide + " && exec crun --root \"$1\" --cgroup-manager=disabled run --bundle \"$2\" \"$3\"";
    std::vector<std::string> argv = ns;
    for (const std::string& a : {std::string("sh"), std::string("-c"), script, std::string("sh"),
                                 tmp_dir() + "/" + p + "crun-state", b, p + "crun"})
        argv.push_back(a);
    Run c = run(argv, std::string(), {"XDG_RUNTIME_DIR=" + tmp_dir()});
    if (c.code != 0) skip("crun does not run here: " + c.err);
    auto crun = statuses(crun_out, b + "/rootfs");
    ::unlink((b + "/rootfs/tmp/startContainer.json").c_str());

    std::string bock_out = tmp_dir() + "/" + p + "bock-hooks";
    REQUIRE(fs::mkdir_p(bock_out));
    write_oci_config(b, hooked_config(base, bock_out));
    Oci oci(p);
    Run r = oci.call({"run", "--bundle", b, oci.id("bock")});
    REQUIRE(r.code == 0);
    auto bock = statuses(bock_out, b + "/rootfs");

    INFO("crun: " << json(crun).dump() << "\nbock-oci: " << json(bock).dump());
    for (const char* kind : {"prestart", "createRuntime", "createContainer", "poststart", "poststop"}) {
        INFO(kind);
        CHECK(bock[kind] == crun[kind]);
    }
    CHECK(bock["prestart"] == "created");
    CHECK(bock["poststart"] == "running");
    CHECK(bock["poststop"] == "stopped");
    // crun says "starting", which is no status of the runtime-spec; Bock
    // (like runc) says "created" (docs/process-model.md, Hooks).
    CHECK(crun["startContainer"] == "starting");
    CHECK(bock["startContainer"] == "created");
}

}  // namespace bock::test

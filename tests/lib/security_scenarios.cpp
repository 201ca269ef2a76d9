#include "security_scenarios.hpp"

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

// The value of a /proc/self/status field as the container's shell sees it.
std::string field(const std::string& status, const std::string& name) {
    for (const auto& l : lines(status))
        if (l.starts_with(name + ":")) {
            auto v = l.substr(name.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    return "<missing " + name + ">";
}

Run sh(const std::vector<std::string>& flags, const std::string& script) {
    std::vector<std::string> a{"run", "--rm", "--network", "none"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"busybox", "sh", "-c", script});
    return cli(a);
}

std::string status(const std::vector<std::string>& flags = {}) {
    auto r = sh(flags, "cat /proc/self/status");
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r.out;
}

// podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
// SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP (bits 0 1 3 4 5 6 7 8 10 18 31).
constexpr const char* kDefaultCaps = "00000000800405fb";

size_t containers() { return lines(cli({"ps", "-a", "-q"}).out).size(); }

}  // namespace

void check_security_defaults() {
    // The default profile, and a blocked call: unshare(2) without
    // CAP_SYS_ADMIN is refused by the filter (EPERM) ...
    auto st = status();
    CHECK(field(st, "Seccomp") == "2");
    CHECK(field(st, "NoNewPrivs") == "1");
    CHECK(field(st, "CapEff") == kDefaultCaps);
    CHECK(field(st, "CapBnd") == kDefaultCaps);
    auto blocked = sh({}, "unshare -U true; echo rc=$?");
    CHECK(blocked.out == "rc=1\n");
    CHECK(blocked.err.find("Operation not permitted") != std::string::npos);
    // ... and lifted with seccomp=unconfined: the same call makes a user
    // namespace, which no capability is needed for.
    auto st2 = status({"--security-opt", "seccomp=unconfined"});
    CHECK(field(st2, "Seccomp") == "0");
    CHECK(field(st2, "CapEff") == kDefaultCaps);
    auto freed = sh({"--security-opt", "seccomp=unconfined"}, "unshare -U true; echo rc=$?");
    INFO(freed.err);
    CHECK(freed.out == "rc=0\n");

    // Masked and read-only paths.
    auto m = sh({}, "grep -c ' /proc/keys ' /proc/self/mountinfo; ls /sys/firmware | wc -l; "
                    "echo 1 > /proc/sys/kernel/shmmax 2>/dev/null || echo ro");
    INFO(m.err);
    CHECK(lines(m.out) == std::vector<std::string>{"1", "0", "ro"});
    // ping without CAP_NET_RAW: an ICMP echo socket, allowed to every
    // mapped group by net.ipv4.ping_group_range; the kernel's default
    // (1 0) refuses it. Raw sockets are refused.
    auto ping = probe({"--network", "none"}, {"ping", "127.0.0.1"});
    CHECK(ping["ping"]["ok"] == true);
    auto user_ping = probe({"--network", "none", "-u", "1000:1000"}, {"ping", "127.0.0.1"});
    CHECK(user_ping["ping"]["ok"] == true);
    CHECK(sh({}, "ping -c 1 127.0.0.1").code != 0);
    auto noping = probe({"--network", "none", "--sysctl", "net.ipv4.ping_group_range=1 0"}, {"ping", "127.0.0.1"});
    CHECK(noping["ping"]["ok"] == false);

    // Capabilities by name, with and without CAP_, and ALL.
    auto add = status({"--cap-add", "NET_ADMIN", "--cap-add", "cap_sys_admin", "--cap-drop", "CHOWN"});
    CHECK(field(add, "CapEff") == "00000000802415fa");  // + bits 12 and 21, - bit 0
    auto none = status({"--cap-drop", "ALL"});
    CHECK(field(none, "CapEff") == "0000000000000000");
    CHECK(field(none, "CapBnd") == "0000000000000000");
    auto only = status({"--cap-drop", "ALL", "--cap-add", "KILL"});
    CHECK(field(only, "CapEff") == "0000000000000020");
    // A user other than 0 keeps the set as its bounding set only, and
    // holds what was added by name.
    auto user = status({"-u", "1000", "--cap-add", "NET_ADMIN"});
    CHECK(field(user, "CapEff") == "0000000000001000");
    CHECK(field(user, "CapBnd") == "00000000800415fb");

    CHECK(field(status({"--security-opt", "no-new-privileges=false"}), "NoNewPrivs") == "0");
    // --privileged: no seccomp, no_new_privs off, every capability bock
    // holds (CAP_SYS_ADMIN and CAP_NET_RAW among them), /proc/kcore not masked.
    auto priv = sh({"--privileged"}, "cat /proc/self/status; test -L /dev/core && echo devs");
    INFO(priv.err);
    REQUIRE(priv.code == 0);
    CHECK(field(priv.out, "Seccomp") == "0");
    CHECK(field(priv.out, "NoNewPrivs") == "0");
    uint64_t eff = std::stoull(field(priv.out, "CapEff"), nullptr, 16);
    CHECK((eff & (uint64_t{1} << 21)) != 0);
    CHECK((eff & (uint64_t{1} << 13)) != 0);

    // A profile of one's own, in the same format; errors name the file.
    std::string prof = tmp_dir() + "/deny-mkdir.json";
    REQUIRE(fs::write_file(prof, R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[)"
                                 R"({"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]})"));
    auto own = sh({"--security-opt", "seccomp=" + prof}, "mkdir /x 2>&1; echo rc=$?");
    CHECK(own.out.find("Permission denied") != std::string::npos);
    std::string bad = tmp_dir() + "/bad.json";
    REQUIRE(fs::write_file(bad, R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"]}]})"));
    size_t before = containers();
    auto refused = sh({"--security-opt", "seccomp=" + bad}, "true");
    CHECK(refused.code == 125);
    CHECK(refused.err.find("syscalls[0].action") != std::string::npos);
    auto unknown_cap = sh({"--cap-add", "NOT_A_CAP"}, "true");
    CHECK(unknown_cap.code == 125);
    CHECK(unknown_cap.err.find("unknown capability") != std::string::npos);
    CHECK(containers() == before);
}

void check_security_options() {
    // --read-only: the root refuses writes, the tmpfs dirs take them.
    auto ro = sh({"--read-only"}, "touch /x 2>/dev/null || echo root-ro; touch /tmp/a /var/tmp/b /run/c && echo tmp-rw");
    INFO(ro.err);
    CHECK(lines(ro.out) == std::vector<std::string>{"root-ro", "tmp-rw"});
    auto ro2 = sh({"--read-only", "--read-only-tmpfs=false"}, "touch /tmp/a 2>/dev/null || echo tmp-ro");
    CHECK(ro2.out == "tmp-ro\n");

    // --sysctl (network and IPC), --ulimit, --shm-size.
    auto r = sh({"--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=123456789", "--ulimit",
                 "nofile=512:768", "--shm-size", "32m"},
                "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; ulimit -n; ulimit -Hn; "
                "df -k /dev/shm | tail -1 | awk '{print $2}'");
    INFO(r.err);
    CHECK(lines(r.out) == std::vector<std::string>{"1", "123456789", "512", "768", "32768"});
    size_t before = containers();
    auto host_sysctl = sh({"--sysctl", "kernel.pid_max=100000"}, "true");
    CHECK(host_sysctl.code == 125);
    CHECK(host_sysctl.err.find("not a namespaced sysctl") != std::string::npos);
    auto high = sh({"--ulimit", "nofile=1:99999999999"}, "true");
    CHECK(high.code == 125);
    CHECK(high.err.find("hint") != std::string::npos);
    CHECK(containers() == before);

    // --env-file under -e; --device; --group-add.
    std::string envfile = tmp_dir() + "/env";
    REQUIRE(fs::write_file(envfile, "# comment\nA=from-file\nB=from-file\n\n"));
    auto e = sh({"--env-file", envfile, "-e", "B=from-flag", "--device", "/dev/null:/dev/mynull", "--group-add",
                 "1234", "--group-add", "4321"},
                "echo $A $B; test -c /dev/mynull && echo hi > /dev/mynull && echo device; id -G");
    INFO(e.err);
    auto el = lines(e.out);
    REQUIRE(el.size() == 3);
    CHECK(el[0] == "from-file from-flag");
    CHECK(el[1] == "device");
    CHECK(el[2].find("1234") != std::string::npos);
    CHECK(el[2].find("4321") != std::string::npos);
    auto nodev = sh({"--device", "/etc/passwd"}, "true");
    CHECK(nodev.code == 125);
    CHECK(nodev.err.find("not a device node") != std::string::npos);

    // --entrypoint, -u, -w, --hostname, --label, --annotation on a created container.
    auto c = cli({"create", "--entrypoint", "/bin/echo", "-u", "12:34", "-w", "/srv", "--hostname", "h1", "--label",
                  "tier=x", "--annotation", "org.example.k=v", "busybox", "hello"});
    INFO(c.err);
    REQUIRE(c.code == 0);
    std::string id = lines(c.out).at(0);
    auto cfg = nlohmann::json::parse(fs::read_file(env_or("BOCK_ROOT", "") + "/containers/" + id + "/config.json").value());
    CHECK(cfg["annotations"]["org.example.k"] == "v");
    CHECK(cfg["process"]["args"] == nlohmann::json::array({"/bin/echo", "hello"}));
    CHECK(cfg["process"]["user"]["uid"] == 12);
    CHECK(cfg["process"]["cwd"] == "/srv");
    CHECK(cfg["hostname"] == "h1");
    auto labels = cli({"inspect", "-f", "{{json .Config.Labels}}", id});
    CHECK(labels.out.find("\"tier\":\"x\"") != std::string::npos);
    REQUIRE(cli({"start", id}).code == 0);
    CHECK(cli({"wait", id}).out == "0\n");
    CHECK(cli({"logs", id}).out == "hello\n");
    (void)cli({"rm", "-f", id});
}

void check_security_namespaces() {
    // --pid host: the shell is not PID 1.
    auto p = sh({"--pid", "host"}, "echo $$");
    INFO(p.err);
    REQUIRE(p.code == 0);
    CHECK(p.out != "1\n");
    CHECK(sh({}, "echo $$").out == "1\n");

    // --uts/--ipc/--pid container:NAME join a running container's.
    auto d = cli({"run", "-d", "--name", "nsowner", "--hostname", "ownerbox", "busybox", "sleep", "100"});
    INFO(d.err);
    REQUIRE(d.code == 0);
    // A process exec'd into it gets the container's filter too.
    auto ex = cli({"exec", "nsowner", "grep", "^Seccomp:", "/proc/self/status"});
    INFO(ex.err);
    CHECK(ex.out == "Seccomp:\t2\n");
    auto j = sh({"--uts", "container:nsowner", "--pid", "container:nsowner", "--ipc", "container:nsowner"},
                "hostname; echo $HOSTNAME; ps -o comm | grep -c sleep");
    INFO(j.err);
    CHECK(lines(j.out) == std::vector<std::string>{"ownerbox", "ownerbox", "1"});
    (void)cli({"rm", "-f", "nsowner"});
    auto gone = sh({"--uts", "container:nsowner"}, "true");
    CHECK(gone.code != 0);
    CHECK(gone.err.find("nsowner") != std::string::npos);
}

}  // namespace bock::test

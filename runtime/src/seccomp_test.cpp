// linux.seccomp: parsing with field paths in errors, serialization, the
// filter built with libseccomp, and loading it in a child.
#include "seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/runtime/spec.hpp"

using namespace bock::runtime;
using nlohmann::json;

namespace {

json base_config() {
    return json::parse(R"({"ociVersion": "1.1.0", "process": {"args": ["true"]}, "root": {"path": "rootfs"}})");
}

bock::Result<Spec> parse_with(const json& seccomp) {
    json c = base_config();
    c["linux"]["seccomp"] = seccomp;
    return parse_spec(c.dump(), "config.json");
}

std::string error_with(const json& seccomp) {
    auto r = parse_with(seccomp);
    REQUIRE_FALSE(r);
    return r.error().to_string();
}

const char* kProfile = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 38,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
              {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
              {"index": 1, "value": 255, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
    {"names": ["ptrace"], "action": "SCMP_ACT_TRACE"},
    {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"}
  ]
})";

}  // namespace

TEST_CASE("linux.seccomp is read field by field", "[seccomp]") {
    auto r = parse_with(json::parse(kProfile));
    REQUIRE(r);
    REQUIRE(r->seccomp);
    const Seccomp& s = *r->seccomp;
    CHECK(s.default_action == "SCMP_ACT_ERRNO");
    CHECK(s.default_errno_ret == 38u);
    CHECK(s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
    CHECK(s.flags.size() == 2);
    REQUIRE(s.syscalls.size() == 5);
    CHECK(s.syscalls[0].names == std::vector<std::string>{"read", "write"});
    CHECK_FALSE(s.syscalls[0].errno_ret);
    REQUIRE(s.syscalls[1].args.size() == 3);
    CHECK(s.syscalls[1].args[2].index == 1);
    CHECK(s.syscalls[1].args[2].value == 255);
    CHECK(s.syscalls[1].args[2].value_two == 3);
    CHECK(s.syscalls[1].args[2].op == "SCMP_CMP_MASKED_EQ");
    CHECK(s.syscalls[2].errno_ret == 5u);

    // Written back as read.
    auto again = parse_spec(to_json(*r).dump(), "again");
    REQUIRE(again);
    REQUIRE(again->seccomp);
    CHECK(to_json(*again)["linux"]["seccomp"] == to_json(*r)["linux"]["seccomp"]);

    auto none = parse_spec(base_config().dump(), "config.json");
    REQUIRE(none);
    CHECK_FALSE(none->seccomp);
}

TEST_CASE("a malformed linux.seccomp names the field", "[seccomp]") {
    using Catch::Contains;
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_NOPE"}}),
               Contains("config.json: linux.seccomp.defaultAction: unknown action `SCMP_ACT_NOPE`"));
    CHECK_THAT(error_with(json::object()), Contains("linux.seccomp.defaultAction: missing"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"}, {"defaultErrnoRet", 1}}),
               Contains("linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_BOGUS"}}}}}),
               Contains("linux.seccomp.syscalls[0].action: unknown action `SCMP_ACT_BOGUS`"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls", {{{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}}}}),
               Contains("linux.seccomp.syscalls[0].names: must name at least one syscall"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_LOG"}, {"errnoRet", 1}}}}}),
               Contains("linux.seccomp.syscalls[0].errnoRet: only allowed with"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls",
                            {{{"names", {"read"}},
                              {"action", "SCMP_ACT_ERRNO"},
                              {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}}}),
               Contains("linux.seccomp.syscalls[0].args[0].index: must be 0 to 5"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls",
                            {{{"names", {"read"}},
                              {"action", "SCMP_ACT_ERRNO"},
                              {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_SAME"}}}}}}}}),
               Contains("linux.seccomp.syscalls[0].args[0].op: unknown operator `SCMP_CMP_SAME`"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_NOPE"}}}),
               Contains("linux.seccomp.flags[0]: unknown flag `SECCOMP_FILTER_FLAG_NOPE`"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}}),
               Contains("linux.seccomp.architectures[0]: unknown architecture `SCMP_ARCH_Z80`"));
    CHECK_THAT(error_with({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", "read"}}),
               Contains("linux.seccomp.syscalls: must be an array of objects"));
    CHECK_THAT(error_with("SCMP_ACT_ALLOW"), Contains("linux.seccomp: must be an object"));
}

TEST_CASE("the filter is built before clone as BPF", "[seccomp]") {
    auto spec = parse_with(json::parse(kProfile));
    REQUIRE(spec);
    auto prog = build_seccomp(*spec->seccomp);
    REQUIRE(prog);
    CHECK(prog->filter.size() > 10);
    CHECK(prog->flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));

    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls.push_back({{"bock_no_such_syscall"}, "SCMP_ACT_ERRNO", std::nullopt, {}});  // skipped
    s.syscalls.push_back({{"getppid"}, "SCMP_ACT_ALLOW", std::nullopt, {}});  // same as the default
    CHECK(build_seccomp(s));

    Seccomp ignored = s;  // a listener without notify rules is not used
    ignored.listener_path = "/run/agent.sock";
    auto quiet = build_seccomp(ignored);
    REQUIRE(quiet);
    CHECK(quiet->listener.path.empty());
    CHECK_FALSE(quiet->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);

    Seccomp notify_action = s;
    notify_action.syscalls.push_back({{"getppid"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
    auto e2 = build_seccomp(notify_action);
    REQUIRE_FALSE(e2);
    CHECK_THAT(e2.error().to_string(), Catch::Contains("linux.seccomp.syscalls[2].action: SCMP_ACT_NOTIFY needs "
                                                       "linux.seccomp.listenerPath"));
}

TEST_CASE("SCMP_ACT_NOTIFY with a listenerPath loads with a new listener", "[seccomp]") {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
    s.listener_path = "/run/agent.sock";
    s.listener_metadata = "meta";
    s.syscalls.push_back({{"getppid"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
    auto prog = build_seccomp(s);
    REQUIRE(prog);
    CHECK(prog->listener.path == "/run/agent.sock");
    CHECK(prog->listener.metadata == "meta");
    CHECK(prog->flags == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                          SECCOMP_FILTER_FLAG_TSYNC_ESRCH));

    Seccomp def = s;
    def.default_action = "SCMP_ACT_NOTIFY";
    auto e = build_seccomp(def);
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().to_string(), Catch::Contains("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be"));

    Seccomp send = s;
    send.syscalls.push_back({{"write", "sendmsg"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
    auto e2 = build_seccomp(send);
    REQUIRE_FALSE(e2);
    CHECK_THAT(e2.error().to_string(), Catch::Contains("linux.seccomp.syscalls[1]: SCMP_ACT_NOTIFY cannot be used "
                                                       "for `sendmsg`"));

    Seccomp meta = s;
    meta.listener_path.clear();
    auto e3 = build_seccomp(meta);
    REQUIRE_FALSE(e3);
    CHECK_THAT(e3.error().to_string(), Catch::Contains("linux.seccomp.listenerMetadata: only allowed with"));

    Seccomp longpath = s;
    longpath.listener_path = "/" + std::string(200, 'x');
    auto e4 = build_seccomp(longpath);
    REQUIRE_FALSE(e4);
    CHECK_THAT(e4.error().to_string(), Catch::Contains("path too long for a unix socket"));

    // The parser keeps both fields and writes them back.
    json cfg = {{"defaultAction", "SCMP_ACT_ALLOW"},
                {"listenerPath", "/run/agent.sock"},
                {"listenerMetadata", "meta"},
                {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    auto spec = parse_with(cfg);
    REQUIRE(spec);
    CHECK(spec->seccomp->listener_path == "/run/agent.sock");
    CHECK(spec->seccomp->listener_metadata == "meta");
    CHECK(spec->seccomp->syscalls.at(0).action == "SCMP_ACT_NOTIFY");
}

// The kernel side: the load returns the notify fd and a notified syscall
// waits for the answer given on it.
TEST_CASE("a loaded notify filter hands out a listener fd", "[seccomp]") {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.listener_path = "/run/agent.sock";
    s.syscalls.push_back({{"getppid"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
    auto prog = build_seccomp(s);
    REQUIRE(prog);
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(10);
        int fd = load_seccomp(*prog);
        if (fd <= 0) ::_exit(11);
        if (::write(pipefd[1], &fd, sizeof fd) != sizeof fd) ::_exit(12);
        // The parent answers through /proc/PID/fd/FD (pidfd_getfd needs ptrace rights; this is our child).
        long r = ::syscall(SYS_getppid);
        ::_exit(r == 4242 ? 0 : 13);
    }
    ::close(pipefd[1]);
    int child_fd = -1;
    REQUIRE(::read(pipefd[0], &child_fd, sizeof child_fd) == sizeof child_fd);
    ::close(pipefd[0]);
    int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)),
                                        child_fd, 0));
    REQUIRE(fd >= 0);
    struct seccomp_notif req = {};
    REQUIRE(::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
    CHECK(req.pid == static_cast<__u32>(pid));
    CHECK(req.data.nr == SYS_getppid);
    struct seccomp_notif_resp resp = {};
    resp.id = req.id;
    resp.val = 4242;
    REQUIRE(::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
    ::close(fd);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a loaded filter returns the configured errno", "[seccomp]") {
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls.push_back({{"getppid"}, "SCMP_ACT_ERRNO", 99u, {}});
    // Only when the first argument is 0xffffffff (a query): personality(0) still works.
    s.syscalls.push_back({{"personality"}, "SCMP_ACT_ERRNO", std::nullopt, {{0, 0xffffffffULL, 0, "SCMP_CMP_EQ"}}});
    auto prog = build_seccomp(s);
    REQUIRE(prog);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(10);
        if (load_seccomp(*prog) < 0) ::_exit(11);
        errno = 0;
        if (::syscall(SYS_getppid) != -1 || errno != 99) ::_exit(12);
        errno = 0;
        if (::syscall(SYS_personality, 0xffffffffUL) != -1 || errno != EPERM) ::_exit(13);
        if (::syscall(SYS_personality, 0UL) < 0) ::_exit(14);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a system call newer than every one the profile names returns ENOSYS", "[seccomp]") {
    Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";  // EPERM
    s.syscalls.push_back({{"exit_group", "exit", "rt_sigreturn", "getppid"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
    int newest = seccomp_syscall_resolve_name("exit_group");
    REQUIRE(newest > 0);
    auto stub = enosys_stub(s, SCMP_ACT_ERRNO(EPERM));
    REQUIRE(stub);
    CHECK_FALSE(stub->empty());
    // Not when the default lets calls through or already says ENOSYS.
    CHECK(enosys_stub(s, SCMP_ACT_ALLOW)->empty());
    CHECK(enosys_stub(s, SCMP_ACT_LOG)->empty());
    CHECK(enosys_stub(s, SCMP_ACT_ERRNO(ENOSYS))->empty());

    auto prog = build_seccomp(s);
    REQUIRE(prog);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ::_exit(10);
        if (load_seccomp(*prog) < 0) ::_exit(11);
        errno = 0;
        if (::syscall(SYS_getppid) < 0) ::_exit(12);  // allowed
        errno = 0;
        if (::syscall(SYS_getpid) != -1 || errno != EPERM) ::_exit(13);  // older, left out: the default
        errno = 0;
        if (::syscall(newest + 1, 0, 0, 0) != -1 || errno != ENOSYS) ::_exit(14);  // newer: ENOSYS
        errno = 0;
        if (::syscall(SYS_close_range, ~0U, ~0U, 0) != -1 || errno != ENOSYS) ::_exit(15);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("compiled filters are kept by their key and recompiled when the file does not match", "[seccomp]") {
    char tmpl[] = "/tmp/bock-seccomp-cache-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string dir = tmpl;
    Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls.push_back({{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 13, {}});
    auto first = build_seccomp_cached(s, dir);
    REQUIRE(first);
    auto fresh = build_seccomp(s);
    REQUIRE(fresh);
    auto files = bock::fs::list_dir(dir);
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    const std::string path = dir + "/" + (*files)[0];
    auto same = [](const SeccompProgram& a, const SeccompProgram& b) {
        return a.flags == b.flags && a.filter.size() == b.filter.size() &&
               std::memcmp(a.filter.data(), b.filter.data(), a.filter.size() * sizeof(sock_filter)) == 0;
    };
    CHECK(same(*first, *fresh));
    // A hit returns the stored program: changed on disk, the change shows.
    auto text = bock::fs::read_file(path);
    REQUIRE(text);
    std::string tampered = *text;
    tampered.back() ^= 1;
    REQUIRE(bock::fs::write_file(path, tampered));
    auto hit = build_seccomp_cached(s, dir);
    REQUIRE(hit);
    CHECK_FALSE(same(*hit, *fresh));
    // Another profile, or a damaged header, compiles again.
    s.syscalls[0].errno_ret = 1;
    auto other = build_seccomp_cached(s, dir);
    REQUIRE(other);
    CHECK(same(*other, *build_seccomp(s)));
    s.syscalls[0].errno_ret = 13;
    REQUIRE(bock::fs::write_file(path, "bock-seccomp-cache 1\nx\n"));
    auto again = build_seccomp_cached(s, dir);
    REQUIRE(again);
    CHECK(same(*again, *fresh));
    (void)bock::fs::remove_all(dir);
}

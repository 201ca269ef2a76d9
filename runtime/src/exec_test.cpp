// exec's process: --process JSON parsing and runc's flag overlay.
#include "bock/runtime/exec.hpp"

#include <catch2/catch.hpp>

#include "plan.hpp"

using namespace bock::runtime;

namespace {

Process base_process() {
    Process p;
    p.args = {"sh"};
    p.env = {"PATH=/bin:/usr/bin", "TERM=xterm", "HOME=/root"};
    p.cwd = "/";
    p.user.uid = 1000;
    p.user.gid = 1000;
    p.no_new_privileges = false;
    p.cap_bounding = std::vector<std::string>{"CAP_CHOWN"};
    p.cap_effective = std::vector<std::string>{"CAP_CHOWN"};
    p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
    return p;
}

}  // namespace

TEST_CASE("exec --process: a runtime-spec process JSON", "[exec]") {
    auto p = parse_process_json(R"({"terminal": true, "consoleSize": {"height": 30, "width": 100},
        "user": {"uid": 5, "gid": 6, "additionalGids": [7]}, "args": ["/bin/echo", "hi"],
        "env": ["A=b"], "cwd": "/tmp", "noNewPrivileges": true,
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20}]})",
                                "proc.json");
    REQUIRE(p);
    CHECK(p->terminal);
    REQUIRE(p->console_size);
    CHECK(p->console_size->height == 30);
    CHECK(p->console_size->width == 100);
    CHECK(p->user.uid == 5);
    CHECK(p->user.gid == 6);
    CHECK(p->user.additional_gids == std::vector<uint32_t>{7});
    CHECK(p->args == std::vector<std::string>{"/bin/echo", "hi"});
    CHECK(p->env == std::vector<std::string>{"A=b"});
    CHECK(p->cwd == "/tmp");
    CHECK(p->no_new_privileges);
    REQUIRE(p->cap_effective);
    CHECK(*p->cap_effective == std::vector<std::string>{"CAP_KILL"});
    REQUIRE(p->rlimits.size() == 1);
    CHECK(p->rlimits[0].soft == 10);
}

TEST_CASE("exec --process: errors name the file and the field", "[exec]") {
    auto bad = parse_process_json("[1]", "p.json");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("p.json") && Catch::Contains("JSON object"));
    auto noargs = parse_process_json(R"({"cwd": "/"})", "p.json");
    REQUIRE_FALSE(noargs);
    CHECK_THAT(noargs.error().message(), Catch::Contains("p.json") && Catch::Contains("process.args"));
    auto relcwd = parse_process_json(R"({"args": ["sh"], "cwd": "tmp"})", "p.json");
    REQUIRE_FALSE(relcwd);
    CHECK_THAT(relcwd.error().message(), Catch::Contains("process.cwd"));
    auto size = parse_process_json(R"({"args": ["sh"], "consoleSize": {"height": -1}})", "p.json");
    REQUIRE_FALSE(size);
    CHECK_THAT(size.error().message(), Catch::Contains("process.consoleSize.height"));
}

TEST_CASE("exec flags overlay config.json's process as runc does", "[exec]") {
    Process base = base_process();
    ExecFlags f;
    f.args = {"id", "-u"};
    auto same = overlay_exec_flags(base, f);
    REQUIRE(same);
    CHECK(same->args == f.args);
    CHECK(same->env == base.env);
    CHECK(same->cwd == "/");
    CHECK(same->user.uid == 1000);
    CHECK_FALSE(same->terminal);
    CHECK(same->rlimits.size() == 1);

    f.env = {"TERM=dumb", "NEW=1"};
    f.cwd = "/work";
    f.user = "7:8";
    f.additional_gids = {9};
    f.caps = {"net_admin", "CAP_KILL"};
    f.no_new_privs = true;
    f.tty = true;
    auto p = overlay_exec_flags(base, f);
    REQUIRE(p);
    CHECK(p->env == std::vector<std::string>{"PATH=/bin:/usr/bin", "TERM=dumb", "HOME=/root", "NEW=1"});
    CHECK(p->cwd == "/work");
    CHECK(p->user.uid == 7);
    CHECK(p->user.gid == 8);
    CHECK(p->user.additional_gids == std::vector<uint32_t>{9});
    CHECK(p->no_new_privileges);
    CHECK(p->terminal);
    REQUIRE(p->cap_bounding);
    CHECK(*p->cap_bounding == std::vector<std::string>{"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_KILL"});
    REQUIRE(p->cap_ambient);
    CHECK(*p->cap_ambient == std::vector<std::string>{"CAP_NET_ADMIN", "CAP_KILL"});
    // The capability names are valid for the plan.
    CHECK(cap_mask(*p->cap_permitted, "caps"));

    f = {};
    f.args = {"sh"};
    f.user = "42";
    auto uid_only = overlay_exec_flags(base, f);
    REQUIRE(uid_only);
    CHECK(uid_only->user.uid == 42);
    CHECK(uid_only->user.gid == 0);  // runc: no :GID means group 0
}

TEST_CASE("exec flags: bad values are refused, naming the flag", "[exec]") {
    Process base = base_process();
    ExecFlags none;
    auto empty = overlay_exec_flags(base, none);
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message(), Catch::Contains("a command is needed"));

    ExecFlags f;
    f.args = {"sh"};
    f.user = "bob";
    auto user = overlay_exec_flags(base, f);
    REQUIRE_FALSE(user);
    CHECK_THAT(user.error().message(), Catch::Contains("--user `bob`"));
    f.user = "1:";
    CHECK_FALSE(overlay_exec_flags(base, f));
    f.user.clear();
    f.cwd = "relative";
    auto cwd = overlay_exec_flags(base, f);
    REQUIRE_FALSE(cwd);
    CHECK_THAT(cwd.error().message(), Catch::Contains("--cwd `relative`"));
    f.cwd.clear();
    f.env = {"=x"};
    CHECK_FALSE(overlay_exec_flags(base, f));
}

#include "bock/userns/checks.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "test_support.hpp"

using namespace bock::userns;

TEST_CASE("check_userns_allowed reports what it found", "[checks]") {
    auto r = check_userns_allowed();
    CHECK_THAT(r.detail, Catch::Contains("unshare(CLONE_NEWUSER)"));
    if (bock::fs::exists("/proc/sys/user/max_user_namespaces"))
        CHECK_THAT(r.detail, Catch::Contains("user.max_user_namespaces = "));
    if (r.ok)
        CHECK(r.fix.empty());
    else
        CHECK_FALSE(r.fix.empty());
}

TEST_CASE("check_idmap_program on a missing program names the package", "[checks]") {
    auto r = check_idmap_program("bock-no-such-idmap-program");
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.detail, Catch::Contains("not found"));
    CHECK(r.fix == "install the uidmap package: apt-get install uidmap");
}

TEST_CASE("check_idmap_program rejects a program that is not setuid root", "[checks]") {
    bock::userns::testing::TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto prog = dir.file("fakeidmap", "#!/bin/sh\n");
    REQUIRE(::chmod(prog.c_str(), 0755) == 0);
    auto r = bock::userns::check_idmap_program(prog);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.detail, Catch::Contains(prog + ": mode 0755 (-rwxr-xr-x)"));
    CHECK(r.fix == "check with `ls -l " + prog + "`: it must be owned by root with the setuid bit (chmod u+s)");
}

TEST_CASE("check_idmap_program accepts the installed newuidmap", "[checks]") {
    if (!bock::fs::exists("/usr/bin/newuidmap")) {
        BOCK_SKIP("/usr/bin/newuidmap is not installed");
    }
    auto r = check_idmap_program("newuidmap");
    INFO(r.detail << " / " << r.fix);
    CHECK(r.ok);
    CHECK_THAT(r.detail, Catch::Contains("newuidmap: mode 4755 (-rwsr-xr-x), owner uid 0"));
}

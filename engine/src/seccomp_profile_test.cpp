#include "seccomp_profile.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "bock/engine/security.hpp"

using namespace bock::engine;

namespace {

bool allows(const bock::runtime::Seccomp& s, const std::string& name, bool with_args = false) {
    return std::any_of(s.syscalls.begin(), s.syscalls.end(), [&](const bock::runtime::SeccompSyscall& r) {
        return r.action == "SCMP_ACT_ALLOW" && r.args.empty() != with_args &&
               std::find(r.names.begin(), r.names.end(), name) != r.names.end();
    });
}

SeccompTarget amd64(std::vector<std::string> caps) {
    return SeccompTarget{"SCMP_ARCH_X86_64", "amd64", "6.1.0", std::move(caps)};
}

}  // namespace

TEST_CASE("the default profile follows the capabilities it is given", "[seccomp-profile]") {
    auto plain = seccomp_from_profile(default_seccomp_json, "default", amd64(default_capabilities()));
    REQUIRE(plain);
    CHECK(plain->default_action == "SCMP_ACT_ERRNO");
    CHECK(plain->default_errno_ret == 1u);
    CHECK(plain->architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
    CHECK(allows(*plain, "read"));
    CHECK(allows(*plain, "chroot"));          // CAP_SYS_CHROOT is in the default set
    CHECK(allows(*plain, "clone", true));     // only without namespace flags
    CHECK_FALSE(allows(*plain, "clone"));
    CHECK_FALSE(allows(*plain, "unshare"));
    CHECK_FALSE(allows(*plain, "keyctl"));

    auto caps = default_capabilities();
    caps.push_back("CAP_SYS_ADMIN");
    auto admin = seccomp_from_profile(default_seccomp_json, "default", amd64(caps));
    REQUIRE(admin);
    CHECK(allows(*admin, "unshare"));
    CHECK(allows(*admin, "clone"));
    CHECK_FALSE(allows(*admin, "clone", true));  // the flag-checked rule is excluded

    auto none = seccomp_from_profile(default_seccomp_json, "default", amd64({}));
    REQUIRE(none);
    CHECK_FALSE(allows(*none, "chroot"));
}

TEST_CASE("profiles: arches, minKernel, and errors that name the entry", "[seccomp-profile]") {
    const char* p = R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
        {"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
        {"names":["b"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["arm64"]}},
        {"names":["c"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.2"}},
        {"names":["d"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"5.19"}}]})";
    auto s = seccomp_from_profile(p, "p.json", amd64({}));
    REQUIRE(s);
    CHECK(s->architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
    REQUIRE(s->syscalls.size() == 2);
    CHECK(s->syscalls[0].names[0] == "b");
    CHECK(s->syscalls[1].names[0] == "d");

    auto bad = seccomp_from_profile(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"KILL"}]})",
                                    "p.json", amd64({}));
    REQUIRE(!bad);
    CHECK(bad.error().message().find("p.json: syscalls[0].action") != std::string::npos);
    CHECK(!seccomp_from_profile("not json", "p.json", amd64({})));
}

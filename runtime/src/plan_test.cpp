// build_plan: a mount namespace given by path, linux.rootfsPropagation.
#include "plan.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"

using namespace bock;
using namespace bock::runtime;
using nlohmann::json;

namespace {

struct TempBundle {
    std::string dir;
    TempBundle() {
        auto d = fs::make_temp_dir("/tmp", "bock-plan-test-");
        REQUIRE(d);
        dir = *d;
        REQUIRE(fs::mkdir_p(dir + "/rootfs"));
    }
    ~TempBundle() { (void)fs::remove_all(dir); }
};

json config(const json& namespaces) {
    return {{"ociVersion", "1.1.0"},
            {"process", {{"args", {"true"}}, {"cwd", "/"}}},
            {"root", {{"path", "rootfs"}}},
            {"mounts", json::array({{{"destination", "/data"}, {"type", "bind"}, {"source", "/only/in/the/joined/ns"},
                                     {"options", {"rbind"}}}})},
            {"linux", {{"namespaces", namespaces}}}};
}

Result<Plan> plan_of(const json& cfg, const std::string& bundle) {
    auto spec = parse_spec(cfg.dump(), "config.json");
    REQUIRE(spec);
    RunOptions o;
    o.id = "t";
    o.bundle = bundle;
    return build_plan(*spec, o);
}

}  // namespace

TEST_CASE("a mount namespace given by path is joined, its paths resolved there", "[plan]") {
    TempBundle b;
    json cfg = config({{{"type", "mount"}, {"path", "/proc/self/ns/mnt"}}, {{"type", "pid"}}});
    cfg["root"]["path"] = "/not/on/this/host";  // the joined namespace decides
    auto p = plan_of(cfg, b.dir);
    REQUIRE(p);
    CHECK(p->join_mount);
    CHECK_FALSE(p->clone_flags & CLONE_NEWNS);
    CHECK(p->rootfs == "/not/on/this/host");
    REQUIRE(p->mounts.size() == 1);
    CHECK(p->mounts[0].stat_in_child);  // the bind source is not looked up here
    REQUIRE_FALSE(p->devices.empty());  // the standard nodes, where the namespace lacks them
    for (const auto& d : p->devices) CHECK(d.if_missing);
    REQUIRE(p->joins.size() == 1);
    CHECK(p->joins[0].nstype == CLONE_NEWNS);

    // A new user namespace never owns an existing mount namespace.
    json with_user = config({{{"type", "mount"}, {"path", "/proc/self/ns/mnt"}}, {{"type", "user"}}});
    auto e = plan_of(with_user, b.dir);
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().to_string(), Catch::Contains("needs the `user` namespace that owns it, joined by path too"));

    // Neither new nor joined: refused.
    auto none = plan_of(config({{{"type", "pid"}}}), b.dir);
    REQUIRE_FALSE(none);
    CHECK_THAT(none.error().to_string(), Catch::Contains("needs a `mount` namespace, new or joined by path"));
}

TEST_CASE("linux.rootfsPropagation goes on the new root after the pivot", "[plan]") {
    TempBundle b;
    json cfg = config({{{"type", "mount"}}});
    cfg["mounts"] = json::array();
    auto plain = plan_of(cfg, b.dir);
    REQUIRE(plain);
    CHECK(plain->rootfs_propagation == (MS_REC | MS_SLAVE));
    CHECK(plain->root_propagation_after == 0);
    CHECK_FALSE(plain->join_mount);

    const std::pair<const char*, unsigned long> cases[] = {
        {"shared", MS_SHARED}, {"rshared", MS_REC | MS_SHARED}, {"slave", MS_SLAVE},
        {"unbindable", MS_UNBINDABLE}, {"private", MS_PRIVATE}};
    for (const auto& [name, flags] : cases) {
        INFO(name);
        cfg["linux"]["rootfsPropagation"] = name;
        auto p = plan_of(cfg, b.dir);
        REQUIRE(p);
        CHECK(p->rootfs_propagation == (MS_REC | MS_SLAVE));  // pivot_root refuses shared
        CHECK(p->root_propagation_after == flags);
    }
    cfg["linux"]["rootfsPropagation"] = "rprivate";
    auto rp = plan_of(cfg, b.dir);
    REQUIRE(rp);
    CHECK(rp->rootfs_propagation == (MS_REC | MS_PRIVATE));
    cfg["linux"]["rootfsPropagation"] = "sideways";
    auto bad = plan_of(cfg, b.dir);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().to_string(), Catch::Contains("linux.rootfsPropagation: unknown propagation `sideways`"));
}

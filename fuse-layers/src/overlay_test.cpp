// Kernel overlayfs mounts. Needs root (or a user namespace); skipped
// otherwise (a failure under CI=true).
#include "bock/layers/overlay.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "bock/common/fs.hpp"

using namespace bock;
using namespace bock::layers;

namespace {

bool can_mount() {
    if (::geteuid() != 0) {
        bock::unit_test::skip("mounting overlayfs needs root (uid " + std::to_string(::geteuid()) + ")");
        return false;
    }
    return true;
}

// Inside a user namespace (e.g. `unshare -Urm`) overlay needs userxattr.
bool in_userns() {
    auto map = fs::read_file("/proc/self/uid_map");
    return map && map->find("4294967295") == std::string::npos;
}

struct TempDir {
    std::string path;
    TempDir() { path = fs::make_temp_dir("/tmp", "bock-overlay-test-").value(); }
    ~TempDir() { (void)fs::remove_all(path); }
};

}  // namespace

TEST_CASE("probe_overlay mounts and removes a throw-away overlay", "[overlay]") {
    if (!can_mount()) return;
    TempDir t;
    auto r = probe_overlay(t.path, in_userns());
    INFO((r ? std::string() : r.error().to_string()));
    CHECK(r);
}

TEST_CASE("the top-most lower wins, writes go to the upper", "[overlay]") {
    if (!can_mount()) return;
    TempDir t;
    OverlaySpec s;
    for (const char* d : {"l1", "l2", "upper", "work", "merged"}) REQUIRE(fs::mkdir_p(t.path + "/" + d));
    REQUIRE(fs::write_file(t.path + "/l1/f", "bottom"));
    REQUIRE(fs::write_file(t.path + "/l2/f", "top"));
    REQUIRE(fs::write_file(t.path + "/l1/only-bottom", "b"));
    s.lowers = {t.path + "/l1", t.path + "/l2"};
    s.upper = t.path + "/upper";
    s.work = t.path + "/work";
    s.target = t.path + "/merged";
    s.userxattr = in_userns();
    {
        auto m = mount_overlay(s);
        REQUIRE(m);
        CHECK(fs::read_file(s.target + "/f").value() == "top");
        CHECK(fs::exists(s.target + "/only-bottom"));
        REQUIRE(fs::write_file(s.target + "/new", "n"));
    }
    CHECK_FALSE(fs::exists(s.target + "/f"));  // unmounted with the ScopedMount
    CHECK(fs::exists(s.upper + "/new"));
}

TEST_CASE("an image without layers gets an empty lower", "[overlay]") {
    if (!can_mount()) return;
    TempDir t;
    for (const char* d : {"c/upper", "c/work", "c/merged"}) REQUIRE(fs::mkdir_p(t.path + "/" + d));
    OverlaySpec s{{}, t.path + "/c/upper", t.path + "/c/work", t.path + "/c/merged", in_userns()};
    auto m = mount_overlay(s);
    REQUIRE(m);
    CHECK(fs::is_dir(t.path + "/c/empty-lower"));
}

TEST_CASE("a failed overlay mount names the target and the lower count", "[overlay]") {
    if (!can_mount()) return;
    TempDir t;
    OverlaySpec s{{t.path + "/missing"}, "", "", t.path, false};
    auto m = mount_overlay(s);
    REQUIRE_FALSE(m);
    CHECK_THAT(m.error().to_string(), Catch::Contains("mount overlay on `" + t.path + "` (1 lower"));
}

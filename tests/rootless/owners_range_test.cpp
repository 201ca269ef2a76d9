// Owners the rootless session cannot map: an error naming the id, the
// range and the fix (with a subordinate range), or the owner recorded in
// user.containers.override_stat (single-ID mapping, user bocknorange).
#include <dirent.h>
#include <sys/xattr.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

namespace {

std::string xattr(const std::string& path) {
    char v[128];
    ssize_t n = ::lgetxattr(path.c_str(), "user.containers.override_stat", v, sizeof v);
    return n < 0 ? "<none>" : std::string(v, static_cast<size_t>(n));
}

// The layer directory holding `rel`, searched in the store.
std::string layer_with(const std::string& rel) {
    std::string layers = env_or("BOCK_ROOT", "") + "/layers";
    DIR* d = ::opendir(layers.c_str());
    REQUIRE(d);
    std::string found;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' && fs::exists(layers + "/" + e->d_name + "/" + rel)) found = layers + "/" + e->d_name;
    ::closedir(d);
    return found;
}

}  // namespace

TEST_CASE("single-ID mapping: owners recorded in user.containers.override_stat", "[norange-owners]") {
    make_image("localhost/owners:single",
               {"dir /srv 0750 1000 1000\ntext /srv/suid 4755 1000 5 x\ntext /srv/mine 0640 0 0 y\n"
                "symlink /srv/link suid\n"},
               false);
    std::string layer = layer_with("srv/suid");
    REQUIRE_FALSE(layer.empty());
    CHECK(xattr(layer + "/srv/suid") == "1000:5:4755:file");
    CHECK(xattr(layer + "/srv") == "1000:1000:0750:dir");
    CHECK(xattr(layer + "/srv/mine") == "0:0:0640:file");  // root's too: fuse-overlayfs wants every entry marked
    CHECK_THAT(xattr(layer), Catch::StartsWith("0:0:") && Catch::EndsWith(":dir"));  // fuse-overlayfs reads the layer
}

TEST_CASE("an owner beyond the subordinate range: error names the uid, the range and the fix", "[hostile-layers]") {
    std::string dir = tmp_dir();
    REQUIRE(fs::write_file(dir + "/far.spec", "text /far 0644 70000 0 x\n"));
    REQUIRE(fs::write_file(dir + "/farg.spec", "text /farg 0644 0 80000 x\n"));
    for (const auto& [spec, want] : {std::pair{"far", "uid 70000 is not mapped (uids 0-65536 are mapped)"},
                                     std::pair{"farg", "gid 80000 is not mapped (gids 0-65536 are mapped)"}}) {
        std::string out = dir + "/" + spec + ".tar";
        auto mk = run({bin("bock-mkimage"), "--out", out, "--name", std::string("localhost/") + spec + ":latest",
                       "--layer", dir + "/" + spec + ".spec"});
        REQUIRE(mk.code == 0);
        auto before = cli({"images", "-q"}).out;
        auto r = cli({"load", "-i", out});
        CHECK(r.code != 0);
        CHECK_THAT(r.err, Catch::Contains(want) && Catch::Contains("usermod --add-subuids") &&
                              Catch::Contains("holder.pid"));
        CHECK_THAT(r.err, !Catch::Contains("invalid argument"));
        CHECK(cli({"images", "-q"}).out == before);
    }
}

TEST_CASE("single-ID mapping through bock run: modes exact, root's files as root, other owners as 65534", "[norange-owners]") {
    // /srv searchable by all: the container's root has no capability over
    // a file whose owner is not mapped.
    auto image = make_image("localhost/owners:run",
                            {"dir /srv 0755 1000 1000\ntext /srv/suid 4755 1000 5 x\ntext /srv/mine 0640 0 0 y\n"
                             "symlink /srv/link suid\n"});
    for (const std::string driver : {"", "fuse-overlayfs", "bock-fuse", "vfs"}) {
        INFO("storage driver " << (driver.empty() ? "(the chain)" : driver));
        std::vector<std::string> args;
        if (!driver.empty()) args = {"--storage-driver", driver};
        for (const char* a : {"run", "--rm"}) args.emplace_back(a);
        args.push_back(image);
        for (const char* a : {"stat", "-c", "%n %u %g %a", "/srv", "/srv/suid", "/srv/mine"}) args.emplace_back(a);
        auto r = cli(args);
        INFO(r.err);
        REQUIRE(r.code == 0);
        if (driver == "vfs")  // a plain copy: every file is the user's, root in the container (docs/fuse-overlay.md)
            CHECK(r.out == "/srv 0 0 755\n/srv/suid 0 0 4755\n/srv/mine 0 0 640\n");
        else
            CHECK(r.out == "/srv 65534 65534 755\n/srv/suid 65534 65534 4755\n/srv/mine 0 0 640\n");
    }
}

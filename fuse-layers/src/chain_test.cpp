// The backend chain's pieces that need no mount: driver names, the helper
// directory rule, pid files, the vfs copy (whiteouts, opaque directories,
// hard links, id shifting).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "backends.hpp"
#include "bock/common/fs.hpp"

using namespace bock;
using namespace bock::layers;

namespace {

struct Dir {
    std::string path;
    Dir() { path = *fs::make_temp_dir("/tmp", "bock-chain-test-"); }
    ~Dir() { (void)fs::remove_all(path); }
};

}  // namespace

TEST_CASE("storage driver names", "[layers]") {
    for (auto name : {"overlay", "fuse-overlayfs", "bock-fuse", "vfs"}) {
        auto b = parse_backend(name);
        REQUIRE(b);
        CHECK(backend_name(*b) == name);
    }
    auto bad = parse_backend("zfs");
    CHECK(bad.error().message() == "unknown storage driver `zfs`");
    CHECK(bad.error().hint() == "storage drivers: overlay, fuse-overlayfs, bock-fuse, vfs");
}

TEST_CASE("the helper directory: BOCK_HELPER_DIR, else beside the executable", "[layers]") {
    ::setenv("BOCK_HELPER_DIR", "/opt/bock-helpers", 1);
    CHECK(default_helper_dir() == "/opt/bock-helpers");
    ::unsetenv("BOCK_HELPER_DIR");
    auto exe = *fs::readlink("/proc/self/exe");
    CHECK(default_helper_dir() == exe.substr(0, exe.rfind('/')));  // the build's bin/ has it, or nothing has
    CHECK(pid_file_for("/run/c/merged/") == "/run/c/merged.fuse.pid");
}

TEST_CASE("a mount point without a FUSE mount or pid file has nothing to recover", "[layers]") {
    Dir d;
    auto r = recover_stale_mount(d.path);
    REQUIRE(r);
    CHECK_FALSE(*r);
    CHECK(mount_type_at(d.path).rfind("fuse", 0) != 0);
}

TEST_CASE("vfs copies the layers with whiteouts, opaque directories and hard links applied", "[layers]") {
    Dir d;
    std::string l1 = d.path + "/l1", l2 = d.path + "/l2", out = d.path + "/out";
    for (auto* p : {&l1, &l2, &out}) REQUIRE(fs::mkdir_p(*p));
    REQUIRE(fs::mkdir_p(l1 + "/dir"));
    REQUIRE(fs::write_file_atomic(l1 + "/dir/old", "old"));
    REQUIRE(fs::write_file_atomic(l1 + "/keep", "keep"));
    REQUIRE(fs::write_file_atomic(l1 + "/gone", "gone"));
    REQUIRE(::link((l1 + "/keep").c_str(), (l1 + "/keep2").c_str()) == 0);
    REQUIRE(fs::mkdir_p(l2 + "/dir"));
    REQUIRE(fs::write_file_atomic(l2 + "/dir/new", "new"));
    bool markers = ::mknod((l2 + "/gone").c_str(), S_IFCHR, makedev(0, 0)) == 0 &&
                   ::setxattr((l2 + "/dir").c_str(), "user.overlay.opaque", "y", 1, 0) == 0;
    if (!markers) WARN("skipped the whiteout part: mknod 0/0 or user xattrs refused here");
    auto bytes = copy_layers({l1, l2}, out, VfsIdMap{});
    REQUIRE(bytes);
    CHECK(*fs::read_file(out + "/keep") == "keep");
    CHECK(*fs::read_file(out + "/dir/new") == "new");
    struct stat a, b;
    REQUIRE(::stat((out + "/keep").c_str(), &a) == 0);
    REQUIRE(::stat((out + "/keep2").c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    if (markers) {
        CHECK_FALSE(fs::exists(out + "/gone"));
        CHECK_FALSE(fs::exists(out + "/dir/old"));
    }
    CHECK(*bytes > 0);
}

TEST_CASE("vfs id mappings parse as fuse-overlayfs's", "[layers]") {
    auto m = parse_vfs_ids("0:1000:10", "");
    REQUIRE(m);
    CHECK(m->uid == std::vector<uint32_t>{0, 1000, 10});
    CHECK(m->gid.empty());
    CHECK(parse_vfs_ids("0:1000", "").error().message() == "id mapping `0:1000` is not CONTAINER:HOST:COUNT triples");
    CHECK(parse_vfs_ids("", "a:1:1").error().message() == "id mapping `a:1:1`: `a` is not a number");
}

#include "bock/image/extract.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::testing;

namespace {

ExtractOptions default_opts() {
    ExtractOptions o;
    o.rootless = ::getuid() != 0;
    o.single_id = ::getuid() != 0;
    return o;
}

// base/root/dest is the destination; everything else under base must stay empty.
struct Sandbox {
    TempDir base;
    std::string dest;
    Sandbox() {
        dest = base / "root/dest";
        REQUIRE(fs::mkdir_p(dest));
    }
    Result<ExtractStats> extract(const std::vector<TarEntry>& entries, ExtractOptions o = default_opts()) {
        std::string tar = base / "layer.tar";
        REQUIRE(write_tar(tar, entries));
        auto fd = sys::open(tar, O_RDONLY);
        REQUIRE(fd);
        auto r = extract_layer(fd->get(), dest, o);
        ::unlink(tar.c_str());
        return r;
    }
    void check_nothing_outside() {
        CHECK_FALSE(lexists(base / "evil"));
        CHECK_FALSE(lexists(base / "root/evil"));
        CHECK_FALSE(lexists("/evil"));
        CHECK_FALSE(lexists("/tmp/evil"));
    }
};

bool empty_dir(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) return false;
    int n = 0;
    while (dirent* e = ::readdir(d)) n += std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..";
    ::closedir(d);
    return n == 0;
}

std::string read(const std::string& p) {
    auto r = fs::read_file(p);
    return r ? *r : std::string("<missing>");
}

}  // namespace

TEST_CASE("extract: regular content, absolute paths made relative") {
    Sandbox s;
    auto r = s.extract({{.path = "dir", .type = AE_IFDIR, .mode = 0755},
                        {.path = "dir/file", .content = "hello"},
                        {.path = "/abs/file", .content = "abs"},
                        {.path = "./dot/file", .content = "dot"},
                        {.path = "sl", .type = AE_IFLNK, .link = "/etc/passwd"},
                        {.path = "hl", .hardlink = "dir/file"}});
    REQUIRE(r);
    CHECK(r->entries == 6);
    CHECK(read(s.dest + "/dir/file") == "hello");
    CHECK(read(s.dest + "/abs/file") == "abs");
    CHECK(read(s.dest + "/dot/file") == "dot");
    CHECK(read(s.dest + "/hl") == "hello");
    CHECK(*fs::readlink(s.dest + "/sl") == "/etc/passwd");
}

TEST_CASE("extract: .. is refused") {
    Sandbox s;
    auto r = s.extract({{.path = "../evil", .content = "x"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("..") != std::string::npos);
    s.check_nothing_outside();
    auto r2 = s.extract({{.path = "/abs/../../evil", .content = "x"}});
    REQUIRE_FALSE(r2);
    s.check_nothing_outside();
}

TEST_CASE("extract: no write through a symlink") {
    Sandbox s;
    auto r = s.extract({{.path = "link", .type = AE_IFLNK, .link = s.base.path},
                        {.path = "link/evil", .content = "x"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("symlink") != std::string::npos);
    s.check_nothing_outside();
    Sandbox s2;
    auto r2 = s2.extract({{.path = "up", .type = AE_IFLNK, .link = "../.."},
                          {.path = "up/evil", .content = "x"}});
    REQUIRE_FALSE(r2);
    s2.check_nothing_outside();
}

TEST_CASE("extract: hardlink outside refused") {
    Sandbox s;
    auto r = s.extract({{.path = "h", .hardlink = "../../etc/passwd"}});
    REQUIRE_FALSE(r);
    CHECK_FALSE(lexists(s.dest + "/h"));
    Sandbox s2;
    auto r2 = s2.extract({{.path = "link", .type = AE_IFLNK, .link = "/etc"},
                          {.path = "h", .hardlink = "link/passwd"}});
    REQUIRE_FALSE(r2);
    CHECK_FALSE(lexists(s2.dest + "/h"));
}

TEST_CASE("extract: duplicates, last entry wins") {
    Sandbox s;
    auto r = s.extract({{.path = "a", .content = "1"},
                        {.path = "a", .content = "2"},
                        {.path = "d", .type = AE_IFDIR},
                        {.path = "d/x", .content = "x"},
                        {.path = "d", .content = "now a file"},
                        {.path = "s", .type = AE_IFLNK, .link = s.base / "target"},
                        {.path = "s", .content = "replaced"},
                        {.path = "m", .type = AE_IFDIR, .mode = 0700},
                        {.path = "m", .type = AE_IFDIR, .mode = 0755}});
    REQUIRE(r);
    CHECK(read(s.dest + "/a") == "2");
    CHECK(read(s.dest + "/d") == "now a file");
    CHECK(read(s.dest + "/s") == "replaced");
    CHECK_FALSE(lexists(s.base / "target"));
    struct stat st;
    REQUIRE(::stat((s.dest + "/m").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("extract: modes, setuid and read-only directories") {
    Sandbox s;
    auto r = s.extract({{.path = "ro", .type = AE_IFDIR, .mode = 0555},
                        {.path = "ro/f", .content = "f", .mode = 0444},
                        {.path = "suid", .content = "x", .mode = 04755},
                        {.path = "sparse", .content = std::string(100000, '\0') + "end"}});
    REQUIRE(r);
    struct stat st;
    REQUIRE(::stat((s.dest + "/ro").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0555);
    REQUIRE(::stat((s.dest + "/suid").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 04755);
    REQUIRE(::stat((s.dest + "/sparse").c_str(), &st) == 0);
    CHECK(st.st_size == 100003);
}

TEST_CASE("extract: whiteouts and opaque directories") {
    if (::getuid() != 0) {
        BOCK_SKIP("mknod of a whiteout needs root or a user namespace");
    }
    for (bool rootless : {false, true}) {
        Sandbox s;
        ExtractOptions o;
        o.rootless = rootless;
        auto r = s.extract({{.path = "dir/.wh.gone", .content = ""},
                            {.path = "op", .type = AE_IFDIR},
                            {.path = "op/.wh..wh..opq", .content = ""}},
                           o);
        REQUIRE(r);
        struct stat st;
        REQUIRE(::lstat((s.dest + "/dir/gone").c_str(), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(st.st_rdev == makedev(0, 0));
        CHECK_FALSE(lexists(s.dest + "/dir/.wh.gone"));
        CHECK_FALSE(lexists(s.dest + "/op/.wh..wh..opq"));
        char v[8] = {};
        const char* key = rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
        REQUIRE(::getxattr((s.dest + "/op").c_str(), key, v, sizeof v) == 1);
        CHECK(v[0] == 'y');
    }
}

TEST_CASE("extract: device nodes skipped rootless") {
    Sandbox s;
    ExtractOptions o;
    o.rootless = true;
    o.single_id = true;
    auto r = s.extract({{.path = "null", .type = AE_IFCHR, .mode = 0666, .rdev = makedev(1, 3)},
                        {.path = "f", .content = "ok"}},
                       o);
    REQUIRE(r);
    CHECK_FALSE(lexists(s.dest + "/null"));
    CHECK(read(s.dest + "/f") == "ok");
}

TEST_CASE("extract: unmappable owners recorded with single_id") {
    Sandbox s;
    std::string tar = s.base / "owners.tar";
    REQUIRE(write_tar(tar, {{.path = "d", .type = AE_IFDIR, .mode = 0750, .uid = 1000, .gid = 1000},
                            {.path = "d/f", .content = "x", .mode = 04711, .uid = 1000, .gid = 5}}));
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    // In a user namespace mapping only our own id, chown to 1000 fails with EINVAL.
    auto run = [&](bool single_id) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (::unshare(CLONE_NEWUSER) < 0) ::_exit(77);
            (void)fs::write_file("/proc/self/setgroups", "deny");
            if (!fs::write_file("/proc/self/uid_map", fmt::format("0 {} 1", uid))) ::_exit(78);
            if (!fs::write_file("/proc/self/gid_map", fmt::format("0 {} 1", gid))) ::_exit(78);
            (void)fs::remove_all(s.dest);
            (void)fs::mkdir_p(s.dest);
            int fd = ::open(tar.c_str(), O_RDONLY);
            ExtractOptions o;
            o.rootless = true;
            o.single_id = single_id;
            auto r = extract_layer(fd, s.dest, o);
            if (!r) (void)fs::write_file(s.base / "error", r.error().to_string() + "\nhint: " + r.error().hint());
            ::_exit(r ? 0 : 1);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    };
    int rc = run(true);
    if (rc == 77) {
        BOCK_SKIP("cannot create a user namespace");
    }
    REQUIRE(rc == 0);
    char v[64] = {};
    ssize_t n = ::getxattr((s.dest + "/d/f").c_str(), "user.containers.override_stat", v, sizeof v - 1);
    REQUIRE(n > 0);
    CHECK(std::string(v, static_cast<size_t>(n)) == "1000:5:4711:file");
    n = ::getxattr((s.dest + "/d").c_str(), "user.containers.override_stat", v, sizeof v - 1);
    REQUIRE(n > 0);
    CHECK(std::string(v, static_cast<size_t>(n)) == "1000:1000:0750:dir");
    // fuse-overlayfs only reads the records of a layer whose root has one.
    n = ::getxattr(s.dest.c_str(), "user.containers.override_stat", v, sizeof v - 1);
    REQUIRE(n > 0);
    CHECK(std::string(v, static_cast<size_t>(n)).starts_with("0:0:"));
    CHECK(run(false) == 1);  // without single_id a chown failure is an error
    // ... naming the id, what is mapped and the fix.
    auto err = fs::read_file(s.base / "error");
    REQUIRE(err);
    CHECK_THAT(*err, Catch::Contains("uid 1000 is not mapped (uids 0 are mapped)") && Catch::Contains("`d`") &&
                         Catch::Contains("usermod --add-subuids 100000-101000"));
}

TEST_CASE("extract: one pass gives the diff_id of the decompressed stream") {
    TempDir t;
    std::vector<TarEntry> entries = {{.path = "a", .content = std::string(100000, 'x')}, {.path = "b", .content = "b"}};
    REQUIRE(write_tar(t / "plain.tar", entries));
    REQUIRE(write_tar(t / "layer.tar.gz", entries, true));
    auto want = sha256_of_file(t / "plain.tar");
    REQUIRE(want);
    for (const char* blob : {"plain.tar", "layer.tar.gz"}) {
        std::string dest = t / (std::string(blob) + ".d");
        REQUIRE(fs::mkdir_p(dest));
        auto fd = sys::open(t / blob, O_RDONLY);
        REQUIRE(fd);
        auto r = extract_layer(fd->get(), dest, default_opts());
        REQUIRE(r);
        CHECK(r->diff_id == *want);
        struct stat st;
        REQUIRE(::stat((t / "plain.tar").c_str(), &st) == 0);
        CHECK(r->uncompressed == static_cast<uint64_t>(st.st_size));
        CHECK(read(dest + "/b") == "b");
    }
}

TEST_CASE("extract: decompression-bomb caps refuse a layer with a clear error") {
    TempDir t;
    REQUIRE(write_tar(t / "bomb.tar.gz", {{.path = "zeros", .content = std::string(4 << 20, '\0')}}, true));
    std::string dest = t / "d";
    REQUIRE(fs::mkdir_p(dest));
    auto o = default_opts();
    SECTION("size") {
        o.limits.max_size = 1 << 20;
        auto fd = sys::open(t / "bomb.tar.gz", O_RDONLY);
        auto r = extract_layer(fd->get(), dest, o);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("decompression bomb") && Catch::Contains("BOCK_LAYER_MAX_SIZE"));
    }
    SECTION("ratio") {
        o.limits.max_ratio = 100;
        o.limits.ratio_after = 1 << 20;
        auto fd = sys::open(t / "bomb.tar.gz", O_RDONLY);
        auto r = extract_layer(fd->get(), dest, o);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("decompression bomb") && Catch::Contains("BOCK_LAYER_MAX_RATIO"));
    }
    SECTION("within the caps") {
        auto fd = sys::open(t / "bomb.tar.gz", O_RDONLY);
        CHECK(extract_layer(fd->get(), dest, o));
    }
}

TEST_CASE("extract: symlink chains, symlinked dirs and symlinks replaced") {
    Sandbox s;
    REQUIRE(fs::mkdir_p(s.base / "outside"));
    // a -> b -> outside directory; writing under either is refused.
    for (const char* via : {"a/evil", "b/evil", "d/evil"}) {
        Sandbox t;
        REQUIRE(fs::mkdir_p(t.base / "outside"));
        auto r = t.extract({{.path = "b", .type = AE_IFLNK, .link = t.base / "outside"},
                            {.path = "a", .type = AE_IFLNK, .link = "b"},
                            {.path = "d", .type = AE_IFLNK, .link = "../../outside"},
                            {.path = via, .content = "x"}});
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains(via) && Catch::Contains("symlink"));
        CHECK(empty_dir(t.base / "outside"));
        t.check_nothing_outside();
    }
    // A symlink replaced by a directory: entries below go into the directory.
    auto r = s.extract({{.path = "s", .type = AE_IFLNK, .link = s.base / "outside"},
                        {.path = "s", .type = AE_IFDIR, .mode = 0755},
                        {.path = "s/f", .content = "inside"}});
    REQUIRE(r);
    CHECK(read(s.dest + "/s/f") == "inside");
    CHECK(empty_dir(s.base / "outside"));
    // A directory replaced by a symlink: later entries below it are refused.
    Sandbox u;
    auto r2 = u.extract({{.path = "d", .type = AE_IFDIR},
                         {.path = "d", .type = AE_IFLNK, .link = "/tmp"},
                         {.path = "d/evil", .content = "x"}});
    REQUIRE_FALSE(r2);
    u.check_nothing_outside();
}

TEST_CASE("extract: hardlinks outside, to symlinks and to skipped devices") {
    for (const char* target : {"/etc/passwd", "../etc/passwd", "./../../../etc/passwd"}) {
        Sandbox s;
        auto r = s.extract({{.path = "h", .hardlink = target}});
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("`h`"));
        CHECK_FALSE(lexists(s.dest + "/h"));
    }
    Sandbox s;
    auto r = s.extract({{.path = "sl", .type = AE_IFLNK, .link = "/etc/shadow"},
                        {.path = "h", .hardlink = "sl"}});
    REQUIRE(r);
    struct stat st;
    REQUIRE(::lstat((s.dest + "/h").c_str(), &st) == 0);
    CHECK(S_ISLNK(st.st_mode));  // a link to the symlink itself, not to its target
    CHECK(st.st_nlink == 2);
    Sandbox d;
    ExtractOptions o;
    o.rootless = true;
    auto r2 = d.extract({{.path = "null", .type = AE_IFCHR, .mode = 0666, .rdev = makedev(1, 3)},
                         {.path = "null2", .hardlink = "null"}},
                        o);
    REQUIRE(r2);
    CHECK_FALSE(lexists(d.dest + "/null2"));
}

TEST_CASE("extract: odd whiteouts") {
    for (const char* bad : {".wh..", "dir/.wh..", ".wh.", "dir/.wh.", ".wh.."}) {
        Sandbox s;
        auto r = s.extract({{.path = "dir", .type = AE_IFDIR}, {.path = bad, .content = ""}});
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("invalid whiteout"));
        CHECK(lexists(s.dest + "/dir"));
        s.check_nothing_outside();
    }
    Sandbox s;
    auto r = s.extract({{.path = ".wh..wh.plnk", .type = AE_IFDIR}, {.path = ".wh..wh.aufs", .content = ""}});
    REQUIRE(r);  // aufs metadata: skipped
    CHECK(empty_dir(s.dest));
}

TEST_CASE("extract: overlay and owner xattrs in the archive are ignored") {
    Sandbox s;
    auto r = s.extract({{.path = "d", .type = AE_IFDIR, .xattrs = {{"trusted.overlay.redirect", "/etc"},
                                                                     {"user.overlay.redirect", "/etc"},
                                                                     {"user.overlay.opaque", "y"},
                                                                     {"user.containers.override_stat", "0:0:4755:file"},
                                                                     {"user.kept", "yes"}}}});
    REQUIRE(r);
    char v[64];
    for (const char* k : {"trusted.overlay.redirect", "user.overlay.redirect", "user.overlay.opaque"})
        CHECK(::getxattr((s.dest + "/d").c_str(), k, v, sizeof v) < 0);
    if (::getuid() == 0)  // rootless the layer is not single-ID here
        CHECK(::getxattr((s.dest + "/d").c_str(), "user.containers.override_stat", v, sizeof v) < 0);
    ssize_t n = ::getxattr((s.dest + "/d").c_str(), "user.kept", v, sizeof v);
    if (n >= 0) CHECK(std::string(v, static_cast<size_t>(n)) == "yes");  // tmpfs may lack user xattrs
}

TEST_CASE("extract: sparse files keep their holes and content") {
    Sandbox s;
    std::string content(8 << 20, '\0');
    content.replace(0, 5, "start");
    content.replace((4 << 20), 6, "middle");
    content.replace(content.size() - 3, 3, "end");
    auto r = s.extract({{.path = "sparse", .content = content, .sparse = {{0, 4096}, {4 << 20, 4096}, {(8 << 20) - 4096, 4096}}},
                        {.path = "zeros", .content = std::string(16 << 20, '\0')}});
    REQUIRE(r);
    CHECK(read(s.dest + "/sparse") == content);
    struct stat st;
    REQUIRE(::stat((s.dest + "/sparse").c_str(), &st) == 0);
    CHECK(st.st_size == (8 << 20));
    CHECK(st.st_blocks * 512 < (1 << 20));
    REQUIRE(::stat((s.dest + "/zeros").c_str(), &st) == 0);
    CHECK(st.st_size == (16 << 20));
    CHECK(st.st_blocks * 512 < (1 << 20));  // zeros are not written out
}

TEST_CASE("extract: long and weird names, fifos") {
    Sandbox s;
    std::string deep;
    for (int i = 0; i < 30; i++) deep += std::string(200, static_cast<char>('a' + i % 26)) + "/";
    deep += "leaf";  // ~6000 bytes: longer than PATH_MAX
    auto r = s.extract({{.path = deep, .content = "deep"},
                        {.path = "new\nline", .content = "nl"},
                        {.path = "back\\slash", .content = "bs"},
                        {.path = "fifo", .type = AE_IFIFO, .mode = 0640}});
    REQUIRE(r);
    CHECK(read(s.dest + "/new\nline") == "nl");
    CHECK(read(s.dest + "/back\\slash") == "bs");
    struct stat st;
    REQUIRE(::lstat((s.dest + "/fifo").c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK((st.st_mode & 07777) == 0640);
    Sandbox t;
    auto r2 = t.extract({{.path = "x/" + std::string(300, 'n'), .content = "x"}, {.path = "bad\n/../evil", .content = "x"}});
    REQUIRE_FALSE(r2);
    CHECK_THAT(r2.error().to_string(), Catch::Contains("nnnn"));
    Sandbox u;
    auto r3 = u.extract({{.path = "bad\n/../evil", .content = "x"}});
    REQUIRE_FALSE(r3);
    CHECK_THAT(r3.error().to_string(), Catch::Contains("bad\\n/../evil"));
    u.check_nothing_outside();
}

TEST_CASE("extract: GNU tar's old sparse format") {
    if (::access("/usr/bin/tar", X_OK) != 0) {
        BOCK_SKIP("GNU tar is not installed");
    }
    TempDir t;
    std::string src = t / "src";
    REQUIRE(fs::mkdir_p(src));
    {
        int fd = ::open((src + "/holey").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::pwrite(fd, "head", 4, 0) == 4);
        REQUIRE(::pwrite(fd, "tail", 4, (6 << 20) - 4) == 4);
        ::close(fd);
    }
    std::string cmd = "cd '" + src + "' && /usr/bin/tar --sparse --format=gnu -cf '" + (t / "gnu.tar") + "' holey";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::string dest = t / "d";
    REQUIRE(fs::mkdir_p(dest));
    auto fd = sys::open(t / "gnu.tar", O_RDONLY);
    REQUIRE(fd);
    REQUIRE(extract_layer(fd->get(), dest, default_opts()));
    std::string want = "head" + std::string((6 << 20) - 8, '\0') + "tail";
    CHECK(read(dest + "/holey") == want);
    struct stat st;
    REQUIRE(::stat((dest + "/holey").c_str(), &st) == 0);
    CHECK(st.st_size == (6 << 20));
    CHECK(st.st_blocks * 512 < (1 << 20));
}

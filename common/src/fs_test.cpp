#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"

using namespace bock;

TEST_CASE("atomic write, read back, remove_all without following symlinks", "[fs]") {
    auto dir = fs::make_temp_dir("/tmp", "bock-fs-test-");
    REQUIRE(dir);
    auto outside = fs::make_temp_dir("/tmp", "bock-fs-outside-");
    REQUIRE(outside);
    REQUIRE(fs::write_file(fs::join(*outside, "keep"), "precious"));

    REQUIRE(fs::mkdir_p(fs::join(*dir, "a/b/c")));
    REQUIRE(fs::write_file_atomic(fs::join(*dir, "a/b/c/f"), "hello", 0600));
    auto back = fs::read_file(fs::join(*dir, "a/b/c/f"));
    REQUIRE(back);
    CHECK(*back == "hello");
    struct stat st;
    REQUIRE(::stat(fs::join(*dir, "a/b/c/f").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // A symlink to a directory outside, and a read-only directory.
    REQUIRE(::symlink(outside->c_str(), fs::join(*dir, "a/link").c_str()) == 0);
    REQUIRE(::chmod(fs::join(*dir, "a/b").c_str(), 0500) == 0);
    REQUIRE(fs::remove_all(*dir));
    CHECK_FALSE(fs::exists(*dir));
    CHECK(fs::exists(fs::join(*outside, "keep")));
    REQUIRE(fs::remove_all(*outside));
    CHECK(fs::remove_all("/tmp/does-not-exist-bock"));
}

TEST_CASE("errors name the path", "[fs]") {
    auto r = fs::read_file("/nonexistent/bock/file");
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string() == "open `/nonexistent/bock/file`: no such file or directory");
    CHECK(fs::join("/a/", "/b") == "/a/b");
    CHECK(fs::join("a", "b/c") == "a/b/c");
}

TEST_CASE("run_program captures output, exit code and stdin", "[subprocess]") {
    SpawnOptions o;
    o.argv = {"sh", "-c", "read x; echo out:$x; echo err >&2; exit 3"};
    o.capture_stdout = o.capture_stderr = true;
    o.stdin_data = "fed\n";
    auto r = run_program(o);
    REQUIRE(r);
    CHECK(r->exit_code == 3);
    CHECK(r->out == "out:fed\n");
    CHECK(r->err == "err\n");

    SpawnOptions missing;
    missing.argv = {"bock-no-such-program"};
    auto m = run_program(missing);
    REQUIRE_FALSE(m);
    CHECK(m.error().code() == ENOENT);
}

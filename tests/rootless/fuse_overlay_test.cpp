// fuse-layers' backends as the unprivileged test user, in user+mount
// namespaces made for the test: the written filesystem cases
// (fuse_overlay_cases.sh) against bock-fuse-overlay, kernel overlayfs and
// fuse-overlayfs, with a full subordinate range (`bock unshare`) and with a
// single-ID mapping (`unshare -Urm`); the backend chain's fallbacks through
// the BOCK_TEST_REFUSE_OVERLAY hook, a PATH without fuse-overlayfs and an
// unusable /dev/fuse.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::string cases_script() { return env_or("BOCK_TEST_SRC", "") + "/tests/rootless/fuse_overlay_cases.sh"; }
std::string bin_dir() {
    std::string b = bin("bock-layers-tool");
    return b.substr(0, b.rfind('/'));
}

void need_fuse() {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) skip("/dev/fuse is not readable and writable for this user");
    if (!bock::fs::exists(cases_script())) skip("missing " + cases_script());
}

// Runs argv in a private mount namespace of the rootless session (full range).
Run in_session(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    std::vector<std::string> a{"unshare", "unshare", "-m", "--propagation", "private"};
    if (!env.empty()) {
        a.push_back("env");
        a.insert(a.end(), env.begin(), env.end());
    }
    a.insert(a.end(), argv.begin(), argv.end());
    return cli(a);
}

void remove_in_session(const std::string& dir) { cli({"unshare", "rm", "-rf", dir}); }

void check_cases(const Run& r) {
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("FAIL") == std::string::npos);
    CHECK(r.out.find("done 0") != std::string::npos);
}

}  // namespace

TEST_CASE("the filesystem cases pass on each backend with a subordinate range", "[fuse-overlay]") {
    need_fuse();
    for (const char* backend : {"bock-fuse", "overlay", "fuse-overlayfs"}) {
        INFO("backend " << backend);
        std::string work = tmp_dir() + "/cases-" + backend;
        auto r = in_session({"sh", cases_script(), bin_dir(), work, backend, "full"});
        check_cases(r);
        if (std::string(backend) == "bock-fuse") {
            // The id shifting and the stale-mount recovery ran.
            CHECK(r.out.find("ok shift-new-on-disk") != std::string::npos);
            CHECK(r.out.find("ok shift-chown-on-disk") != std::string::npos);
            CHECK(r.out.find("ok stale-recover") != std::string::npos);
            CHECK(r.out.find("ok sigterm-unmounted") != std::string::npos);
            CHECK(r.out.find("ok fio-verify-4-writers") != std::string::npos);
            CHECK(r.out.find("ok stress-ng-5s") != std::string::npos);
            CHECK(r.out.find("known") == std::string::npos);  // no difference excused for Bock's own
        }
        remove_in_session(work);
    }
}

TEST_CASE("the filesystem cases pass on each backend with a single-ID mapping", "[fuse-overlay]") {
    need_fuse();
    for (const char* backend : {"bock-fuse", "overlay", "fuse-overlayfs"}) {
        INFO("backend " << backend);
        std::string work = tmp_dir() + "/single-" + backend;
        auto r = run({"unshare", "-Urm", "sh", cases_script(), bin_dir(), work, backend, "single"});
        check_cases(r);
        run({"unshare", "-Ur", "rm", "-rf", work});
    }
}

TEST_CASE("the backend chain falls back and says why", "[fuse-overlay]") {
    need_fuse();
    std::string w = tmp_dir() + "/chain";
    REQUIRE(bock::fs::mkdir_p(w + "/l1").has_value());
    REQUIRE(bock::fs::write_file_atomic(w + "/l1/f", "layer\n").has_value());
    std::string script = fmt::format(
        "set -u; T={}/bock-layers-tool; w={}; fresh() {{ rm -rf $w/u $w/w $w/m; mkdir -p $w/u $w/w $w/m; }}\n"
        "mnt() {{ $T mount --helper-dir {} --userxattr --lower $w/l1 --upper $w/u --work $w/w --target $w/m \"$@\"; }}\n"
        "fresh; echo '== plain'; mnt -- cat $w/m/f\n"
        "fresh; echo '== refused'; BOCK_TEST_REFUSE_OVERLAY=1 mnt -- cat $w/m/f\n"
        "fresh; echo '== no fuse-overlayfs'; BOCK_TEST_REFUSE_OVERLAY=1 PATH=/nonexistent mnt -- /bin/cat $w/m/f\n"
        "fresh; echo '== no /dev/fuse'; mount --bind /dev/null /dev/fuse; BOCK_TEST_REFUSE_OVERLAY=1 mnt -- cat $w/m/f 2>&1\n"
        "fresh; echo '== unknown'; BOCK_STORAGE_DRIVER=zfs mnt 2>&1; echo rc=$?\n",
        bin_dir(), w, bin_dir());
    auto r = run({"unshare", "-Urm", "sh", "-c", script});
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    auto section = [&](const std::string& name) {
        auto start = r.out.find("== " + name + "\n");
        REQUIRE(start != std::string::npos);
        auto end = r.out.find("\n== ", start + 3);
        return r.out.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
    };
    auto plain = section("plain");
    CHECK(plain.find("backend overlay\nwhy first in the chain\nlayer\n") != std::string::npos);
    auto refused = section("refused");
    CHECK(refused.find("backend fuse-overlayfs\n") != std::string::npos);
    CHECK(refused.find("overlay: refused by the test hook BOCK_TEST_REFUSE_OVERLAY") != std::string::npos);
    CHECK(refused.find("layer\n") != std::string::npos);
    auto nofo = section("no fuse-overlayfs");
    CHECK(nofo.find("backend bock-fuse\n") != std::string::npos);
    CHECK(nofo.find("fuse-overlayfs: `fuse-overlayfs` is not in PATH") != std::string::npos);
    CHECK(nofo.find("layer\n") != std::string::npos);
    auto nofuse = section("no /dev/fuse");
    CHECK(nofuse.find("backend vfs\n") != std::string::npos);
    CHECK(nofuse.find("warning: storage driver vfs: the layers were copied into") != std::string::npos);
    CHECK(nofuse.find("on disk for this container alone") != std::string::npos);
    CHECK(nofuse.find("every other backend failed: overlay: refused by the test hook") != std::string::npos);
    CHECK(nofuse.find("fuse-overlayfs: fuse-overlayfs exited") != std::string::npos);
    CHECK(nofuse.find("bock-fuse: bock-fuse exited") != std::string::npos);
    CHECK(nofuse.find("layer\n") != std::string::npos);
    auto unknown = section("unknown");
    CHECK(unknown.find("unknown storage driver `zfs`") != std::string::npos);
    CHECK(unknown.find("rc=125") != std::string::npos);
}

// fuse-layers' written filesystem cases (tests/rootless/fuse_overlay_cases.sh)
// as root in the initial user namespace, where overlay's markers are
// trusted.* xattrs: bock-fuse-overlay, kernel overlayfs and fuse-overlayfs,
// each in a private mount namespace, the upper then read back by kernel
// overlayfs.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("the filesystem cases pass on each backend as root", "[root-fuse-overlay]") {
    std::string script = env_or("BOCK_TEST_SRC", "") + "/tests/rootless/fuse_overlay_cases.sh";
    if (!bock::fs::exists(script)) skip("missing " + script);
    std::string b = bin("bock-layers-tool");
    std::string bin_dir = b.substr(0, b.rfind('/'));
    for (const char* backend : {"bock-fuse", "overlay", "fuse-overlayfs"}) {
        INFO("backend " << backend);
        std::string work = tmp_dir() + "/cases-" + backend;
        auto r = run({"unshare", "-m", "--propagation", "private", "sh", script, bin_dir, work, backend, "full"});
        INFO(r.out << r.err);
        CHECK(r.code == 0);
        CHECK(r.out.find("FAIL") == std::string::npos);
        CHECK(r.out.find("done 0") != std::string::npos);
    }
}

// bock-oci is exec'd for every container: the rule that keeps it lean (only
// glibc loaded, peak RSS no more than crun's), as a test rather than a
// comment (runtime/cli/bock-oci/CMakeLists.txt, CMakeLists.txt's -Os list).
#include <algorithm>
#include <regex>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

TEST_CASE("bock-oci loads only glibc", "[root-oci-lean]") {
    auto d = run({"readelf", "-d", bin("bock-oci")});
    INFO(d.out << d.err);
    REQUIRE(d.code == 0);
    std::vector<std::string> needed;
    const std::regex re(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
    for (const auto& l : lines(d.out))
        if (std::smatch m; std::regex_search(l, m, re)) needed.push_back(m[1]);
    // libc, and the dynamic loader, which glibc 2.34+ lists for its
    // symbols (the vdso is the kernel's, never listed).
    CHECK(std::count(needed.begin(), needed.end(), "libc.so.6") == 1);
    for (const auto& n : needed) {
        INFO(n);
        CHECK((n == "libc.so.6" || n.starts_with("ld-linux")));
    }
}

TEST_CASE("bock-oci run of /bin/true peaks at 3.5 MB or less", "[root-oci-lean]") {
    std::string b = make_oci_bundle("lean");
    auto cfg = read_oci_config(b);
    cfg["process"]["args"] = {"/bin/true"};
    write_oci_config(b, cfg);
    std::string out = tmp_dir() + "/maxrss";
    // Three runs: each must stay under the limit (crun's own run is 3.3 MB).
    for (int i = 0; i < 3; ++i) {
        auto r = run({"/usr/bin/time", "-f", "%M", "-o", out, bin("bock-oci"), "run", "--bundle", b,
                      "lean" + std::to_string(i)});
        INFO(r.err);
        REQUIRE(r.code == 0);
        auto kb = fs::read_file(out);
        REQUIRE(kb);
        long rss_kb = std::stol(*kb);
        INFO("peak RSS " << rss_kb << " KiB");
        CHECK(rss_kb <= 3584);
        WARN("bock-oci run /bin/true: peak RSS " << rss_kb << " KiB");
    }
}

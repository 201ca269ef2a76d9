// A multi-uid image keeps its owners: extraction runs inside the session's
// user namespace, so uid 1000 in the image is subordinate uid 999+base on
// the host and uid 1000 again inside the container.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("files of a multi-uid image keep their owners", "[owners]") {
    auto img = make_image("localhost/owners:1",
                          {"dir /data 0755 0 0\n"
                           "text /data/by-root 0644 0 0 root\n"
                           "text /data/by-1000 0640 1000 1000 user\n"
                           "text /data/by-nobody 0600 65534 65534 nobody\n"
                           "dir /data/sub 0750 1000 100\n"
                           "text /data/setuid 4755 0 0 s\n"});
    auto r = cli({"run", "--rm", img, "stat", "-c", "%n %u:%g %a", "/data/by-root", "/data/by-1000",
                   "/data/by-nobody", "/data/sub", "/data/setuid"});
    REQUIRE(r.code == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 5);
    CHECK(l[0] == "/data/by-root 0:0 644");
    CHECK(l[1] == "/data/by-1000 1000:1000 640");
    CHECK(l[2] == "/data/by-nobody 65534:65534 600");
    CHECK(l[3] == "/data/sub 1000:100 750");
    CHECK(l[4] == "/data/setuid 0:0 4755");

    // On the host the extracted layer holds the subordinate ids.
    // (Some directories in the store belong to subordinate ids and are not
    // readable by the user outside the session: ignore find's complaints.)
    auto found = run({"sh", "-c", "find \"$BOCK_ROOT/layers\" -name by-1000 -printf '%U\\n' 2>/dev/null; true"});
    auto uids = lines(found.out);
    REQUIRE(uids.size() >= 1);
    auto probe_map = probe()["uid_map"];
    long base = probe_map[1][1].get<long>();
    CHECK(std::stol(uids[0]) == base + 999);
}

// The podman scenario of issue 3 for one OCI runtime (podman.hpp): the
// same assertions hold for runc and bock-oci.
#include <catch2/catch.hpp>

#include "podman.hpp"

namespace bock::test::podman {

namespace {

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// "tty" prints /dev/pts/N, "stty size" the pty's size: one line each.
void check_pty_output(const Run& r, const std::string& size) {
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Matches("(.|\\r|\\n)*/dev/pts/[0-9]+\\r?\\n(.|\\r|\\n)*"));
    CHECK_THAT(r.out, Catch::Contains(size));
}

}  // namespace

void check_podman_runtime(const std::string& runtime, const std::string& name,
                          const std::vector<std::string>& extra_run_flags) {
    Podman pm(runtime, name);
    std::string image = pm.busybox_image();
    auto run_flags = with({"run", "--network", "none"}, extra_run_flags);

    Run hi = pm.call(with(run_flags, {"--rm", image, "echo", "hi"}));
    CHECK(hi.code == 0);
    CHECK(hi.out == "hi\n");
    CHECK(pm.call(with(run_flags, {"--rm", image, "sh", "-c", "exit 3"})).code == 3);

    Run d = pm.call(with(run_flags, {"-d", image, "sleep", "1000"}));
    REQUIRE(d.code == 0);
    auto ids = lines(d.out);
    REQUIRE(ids.size() == 1);
    std::string id = ids[0];
    Run in = pm.call({"exec", id, "echo", "in"});
    CHECK(in.code == 0);
    CHECK(in.out == "in\n");
    CHECK(pm.call({"exec", id, "sh", "-c", "exit 5"}).code == 5);
    Run who = pm.call({"exec", "-e", "V=exec-env", "-w", "/tmp", id, "sh", "-c", "echo $V; pwd"});
    CHECK(who.out == "exec-env\n/tmp\n");

    // Through a real pty: podman gives the container a terminal of the
    // caller's size (the runtime sends the master to conmon).
    check_pty_output(pm.tty({"exec", "-it", id, "sh", "-c", "tty; stty size"}, 41, 101), "41 101");
    check_pty_output(pm.tty(with(run_flags, {"--rm", "-it", image, "sh", "-c", "tty; stty size"}), 42, 102),
                     "42 102");

    CHECK(pm.call({"stop", "-t", "1", id}).code == 0);
    Run inspect = pm.call({"inspect", "--format", "{{.State.Status}}", id});
    CHECK(inspect.out == "exited\n");
    CHECK(pm.call({"rm", id}).code == 0);
    Run ps = pm.call({"ps", "-a", "-q"});
    CHECK(ps.code == 0);
    CHECK(ps.out.empty());
}

}  // namespace bock::test::podman

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

// Prints the pty's name and size. podman may pass the caller's size on
// through conmon after the process started (a resize racing with the
// command, with runc as with bock-oci), so the size is polled for 2 s.
const char* kTtyScript =
    "tty; for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); "
    "[ -n \"$s\" ] && [ \"$s\" != \"0 0\" ] && break; sleep 0.2; done; echo \"size $s\"";

void check_pty_output(const Run& r, const std::string& size) {
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Matches("(.|\\r|\\n)*/dev/pts/[0-9]+\\r?\\n(.|\\r|\\n)*"));
    CHECK_THAT(r.out, Catch::Contains("size " + size));
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
    CHECK(pm.call(with(run_flags, {"--rm", image, "no-such-command"})).code == 127);

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
    Run user = pm.call({"exec", "-u", "1234:5678", id, "id"});
    CHECK(user.out == "uid=1234 gid=5678\n");
    Run missing = pm.call({"exec", id, "no-such-command"});
    CHECK(missing.code == 127);
    CHECK_THAT(missing.err, Catch::Contains("no-such-command"));

    // Through a real pty: podman gives the container a terminal of the
    // caller's size (the runtime sends the master to conmon).
    check_pty_output(pm.tty({"exec", "-it", id, "sh", "-c", kTtyScript}, 41, 101), "41 101");
    check_pty_output(pm.tty(with(run_flags, {"--rm", "-it", image, "sh", "-c", kTtyScript}), 42, 102),
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

// bock-oci exec, terminals and --preserve-fds as a normal user (a
// `bock-oci spec --rootless` bundle: its own user namespace).
#include <catch2/catch.hpp>

#include "oci_exec.hpp"

using namespace bock::test::exec;

TEST_CASE("bock-oci exec joins the container's namespaces; flags, --process, --detach", "[oci-exec]") {
    check_exec("rx-");
}

TEST_CASE("bock-oci create and exec with a terminal send the pty master to --console-socket", "[oci-exec]") {
    check_terminal("rt-");
}

TEST_CASE("bock-oci run and exec --preserve-fds pass the caller's fd 3", "[oci-exec]") {
    check_preserve_fds("rf-");
}

// bock-oci exec, terminals and --preserve-fds as root (no user namespace).
#include <catch2/catch.hpp>

#include "oci_exec.hpp"

using namespace bock::test::exec;

TEST_CASE("root: bock-oci exec joins the container's namespaces; flags, --process, --detach", "[root-oci-exec]") {
    check_exec("Rx-");
}

TEST_CASE("root: bock-oci create and exec with a terminal send the pty master to --console-socket",
          "[root-oci-exec]") {
    check_terminal("Rt-");
}

TEST_CASE("root: bock-oci run and exec --preserve-fds pass the caller's fd 3", "[root-oci-exec]") {
    check_preserve_fds("Rf-");
}

// The runtime's half of seccomp notify: the ContainerProcessState document
// and its delivery to listenerPath with the fd attached.
#include "seccomp_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <catch2/catch.hpp>

#include "bock/common/sys.hpp"
#include "messages.hpp"
#include "plan.hpp"

using namespace bock;
using namespace bock::runtime;
using nlohmann::json;

namespace {

Plan listener_plan(const std::string& path) {
    Plan plan;
    plan.seccomp.listener.path = path;
    plan.seccomp.listener.metadata = "agent-meta";
    Spec spec;
    spec.oci_version = "1.1.0";
    spec.annotations = {{"org.bock.test", "notify"}};
    RunOptions opts;
    opts.id = "box";
    opts.bundle = "/srv/bundle";
    plan_listener_state(plan, spec, opts);
    return plan;
}

std::string temp_dir() {
    char tmpl[] = "/tmp/bock-notify-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    return tmpl;
}

}  // namespace

TEST_CASE("the container process state follows the runtime spec", "[seccomp-notify]") {
    Plan plan = listener_plan("/run/agent.sock");
    json j = container_process_state(plan.seccomp.listener, 1234);
    CHECK(j["ociVersion"] == "1.1.0");
    CHECK(j["fds"] == json::array({"seccompFd"}));
    CHECK(j["pid"] == 1234);
    CHECK(j["metadata"] == "agent-meta");
    CHECK(j["state"]["ociVersion"] == "1.1.0");
    CHECK(j["state"]["id"] == "box");
    CHECK(j["state"]["status"] == "creating");
    CHECK(j["state"]["pid"] == 1234);
    CHECK(j["state"]["bundle"] == "/srv/bundle");
    CHECK(j["state"]["annotations"]["org.bock.test"] == "notify");

    plan.seccomp.listener.metadata.clear();
    CHECK_FALSE(container_process_state(plan.seccomp.listener, 1).contains("metadata"));

    ContainerState st;  // exec: the container's state, running, its own pid
    st.id = "box";
    st.oci_version = "1.1.0";
    st.bundle = "/srv/bundle";
    st.pid = 77;
    plan_listener_state(plan, st);
    json e = container_process_state(plan.seccomp.listener, 1234);
    CHECK(e["pid"] == 1234);
    CHECK(e["state"]["pid"] == 77);
    CHECK(e["state"]["status"] == "running");
}

TEST_CASE("the notify fd goes to listenerPath with the state", "[seccomp-notify]") {
    std::string dir = temp_dir();
    std::string path = dir + "/agent.sock";
    Plan plan = listener_plan(path);
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    Fd parent(pair[0]), child(pair[1]);

    SECTION("no listener: an error naming the path") {
        Fd some(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        auto r = deliver_to_listener(plan, 42, parent.get(), std::move(some));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().to_string(), Catch::Contains("linux.seccomp.listenerPath `" + path + "`") &&
                                              Catch::Contains("no such file or directory"));
    }
    SECTION("a listener gets the state, the fd, then EOF; the child SeccompDone") {
        Fd srv(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        struct sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(srv.get(), 1) == 0);
        Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        REQUIRE(deliver_to_listener(plan, 42, parent.get(), std::move(devnull)));

        Fd conn(::accept4(srv.get(), nullptr, nullptr, SOCK_CLOEXEC));
        REQUIRE(conn);
        char buf[4096];
        int fd = -1;
        ssize_t n = sys::raw::recv_with_fd(conn.get(), buf, sizeof buf, &fd);
        REQUIRE(n > 0);
        REQUIRE(fd >= 0);  // an SCM_RIGHTS fd came with the state
        Fd got(fd);
        CHECK(got);
        char rest;
        CHECK(::recv(conn.get(), &rest, 1, 0) == 0);  // closed after one state
        json j = json::parse(std::string(buf, static_cast<size_t>(n)));
        CHECK(j["pid"] == 42);
        CHECK(j["fds"] == json::array({"seccompFd"}));

        Message m;
        REQUIRE(recv_message(child.get(), m) == 1);
        CHECK(m.kind == MessageKind::seccomp_done);
    }
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("a message carries one fd across the socketpair", "[seccomp-notify]") {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    Fd a(pair[0]), b(pair[1]);
    Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(send_message_fd(a.get(), MessageKind::seccomp_fd, devnull.get()) == 0);
    Message m;
    int passed = -1;
    REQUIRE(recv_message(b.get(), m, &passed) == 1);
    Fd got(passed);
    CHECK(m.kind == MessageKind::seccomp_fd);
    REQUIRE(got);
    CHECK(::fcntl(got.get(), F_GETFD) == FD_CLOEXEC);
    REQUIRE(send_message(a.get(), MessageKind::warning) == 0);
    REQUIRE(recv_message(b.get(), m, &passed) == 1);
    CHECK(passed == -1);
}

// commit_config.cpp and tree_walk.cpp without a store: instructions on a
// config's JSON, the history and diff_ids, and an upper directory read as
// OCI entries (whiteouts, opaque dirs, hardlinks, sorted order).
#include "commit_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include "tree_walk.hpp"

using namespace bock;
using namespace bock::image;
using nlohmann::json;

TEST_CASE("commit config: instructions, history, diff_ids; docker fields kept only for docker", "[commit]") {
    json base = {{"architecture", "amd64"}, {"os", "linux"},
                 {"config", {{"Env", {"PATH=/bin", "A=1"}}, {"Healthcheck", {{"Test", {"CMD", "true"}}}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + std::string(64, 'a')}}}},
                 {"history", json::array({{{"created_by", "base"}}})}};
    CommitOptions o;
    o.changes = {"ENV A=2", "CMD [\"sh\"]", "EXPOSE 80 53/udp", "VOLUME /data", "LABEL k=v", "STOPSIGNAL SIGINT"};
    o.timestamp = 86400;
    o.message = "msg";
    o.author = "me";
    Digest d = Sha256().finish();
    auto oci = detail::commit_config(base.dump(), d, o);
    REQUIRE(oci);
    CHECK((*oci)["created"] == "1970-01-02T00:00:00Z");
    CHECK((*oci)["config"]["Env"] == json({"PATH=/bin", "A=2"}));
    CHECK((*oci)["config"]["Cmd"] == json({"sh"}));
    CHECK((*oci)["config"]["ExposedPorts"].contains("80/tcp"));
    CHECK((*oci)["config"]["ExposedPorts"].contains("53/udp"));
    CHECK((*oci)["config"]["Volumes"].contains("/data"));
    CHECK((*oci)["config"]["StopSignal"] == "SIGINT");
    CHECK(!(*oci)["config"].contains("Healthcheck"));
    CHECK((*oci)["rootfs"]["diff_ids"].size() == 2);
    CHECK((*oci)["history"].back()["comment"] == "msg");
    CHECK((*oci)["author"] == "me");
    o.docker_format = true;
    auto docker = detail::commit_config(base.dump(), std::nullopt, o);
    REQUIRE(docker);
    CHECK((*docker)["config"].contains("Healthcheck"));
    CHECK((*docker)["rootfs"]["diff_ids"].size() == 1);
    CHECK((*docker)["history"].back()["empty_layer"] == true);
    json c = json::object();
    CHECK(!detail::apply_instruction(c, "RUN true"));
}

TEST_CASE("an overlay upper dir reads as sorted OCI entries", "[commit]") {
    testing::TempDir t;
    auto p = [&](const std::string& s) { return t.path + "/" + s; };
    REQUIRE(::mkdir(p("b").c_str(), 0755) == 0);
    REQUIRE(::mkdir(p("a").c_str(), 0755) == 0);
    // The user.* forms (rootless, userxattr); as root the kernel's 0/0 device too.
    REQUIRE(::setxattr(p("a").c_str(), "user.overlay.opaque", "y", 1, 0) == 0);
    int w = ::open(p("b/gone").c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(w >= 0);
    ::close(w);
    REQUIRE(::setxattr(p("b/gone").c_str(), "user.overlay.whiteout", "y", 1, 0) == 0);
    if (::geteuid() == 0) REQUIRE(::mknod(p("b/gone2").c_str(), S_IFCHR | 0, makedev(0, 0)) == 0);
    int fd = ::open(p("b/f").c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    REQUIRE(::link(p("b/f").c_str(), p("b/g").c_str()) == 0);
    std::vector<std::string> seen;
    detail::WalkOptions wo;
    wo.overlay_upper = true;
    auto r = detail::walk_tree(t.path, wo, [&](const detail::TreeEntry& e, int, const char*) -> Result<void> {
        std::string s = e.path;
        if (e.whiteout) s += " whiteout";
        if (e.opaque) s += " opaque";
        if (!e.hardlink.empty()) s += " link " + e.hardlink;
        seen.push_back(s);
        return ok();
    });
    REQUIRE(r);
    std::vector<std::string> want{"a opaque", "b", "b/f", "b/g link b/f", "b/gone whiteout"};
    if (::geteuid() == 0) want.push_back("b/gone2 whiteout");
    CHECK(seen == want);
}

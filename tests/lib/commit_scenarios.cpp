#include "commit_scenarios.hpp"

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

// What the container sees of the paths the scenario touches: name, owner,
// mode, type, the files' link counts; the contents and link targets. Run
// from the root directory R (default /) with busybox's applets, so that
// the same script reads a tree unpacked on the host.
const char* view_script =
    "cd \"${R:-/}\" && for p in etc etc/passwd home home/* new newlink newsym data data/* tmp bin/vi; do "
    "  [ -e \"$p\" -o -L \"$p\" ] && busybox stat -c '%n %u %g %a %F' \"$p\"; done; "
    // Link counts of files only: overlay shows 1 for a merged directory.
    "busybox stat -c '%n %h' new newlink; "
    "busybox cat new etc/passwd; busybox readlink newsym; [ new -ef newlink ] && echo same-inode";

const char* change_script =
    "echo hello > /new && echo extra:x:1:1::/:/bin/sh >> /etc/passwd && rm /bin/vi && "
    "rm -rf /data && mkdir /data && chmod 700 /tmp && ln /new /newlink && ln -s /new /newsym && "
    "chown 1:2 /new";

std::string latest_container() {
    auto r = cli({"ps", "-a", "--format", "json"});
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(!j.empty());
    return j[0]["Id"].get<std::string>();
}

std::string base_image() {
    // busybox with a directory of files the container deletes and recreates.
    return make_image("localhost/commit-base:1", {"dir /data 0755 0 0\ntext /data/a 0644 0 0 a\ntext /data/b 0644 5 5 b\n"});
}

}  // namespace

void check_commit_roundtrip() {
    auto base = base_image();
    auto r = cli({"run", base, "sh", "-c", std::string(change_script) + " && " + view_script});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string seen = r.out;
    auto id = latest_container();

    auto d = cli({"diff", id});
    INFO(d.err);
    REQUIRE(d.code == 0);
    CHECK(lines(d.out) == std::vector<std::string>{"C /bin", "D /bin/vi", "C /data", "D /data/a", "D /data/b", "C /etc",
                                                   "C /etc/passwd", "A /new", "A /newlink", "A /newsym", "C /tmp"});

    auto c1 = cli({"commit", "--timestamp", "1700000000", "-c", "LABEL stage=one", id, "localhost/committed:1"});
    INFO(c1.err);
    REQUIRE(c1.code == 0);
    auto c2 = cli({"commit", "--timestamp", "1700000000", "-c", "LABEL stage=one", id, "localhost/committed:2"});
    REQUIRE(c2.code == 0);
    CHECK(c1.out == c2.out);  // same config, hence the same layer digest

    auto again = cli({"run", "--rm", "localhost/committed:1", "sh", "-c", view_script});
    INFO(again.err);
    REQUIRE(again.code == 0);
    CHECK(again.out == seen);

    // Pushed to a registry and read back by other tools: skopeo copies it to
    // an OCI layout and umoci unpacks that as root (inside the session when
    // rootless, so the owners are the image's ids), and the tree read on
    // the host is the one the container saw.
    {
        LocalRegistry reg;
        auto p = cli({"push", "localhost/committed:1", reg.host() + "/committed:1"});
        INFO(p.err);
        REQUIRE(p.code == 0);
        std::string layout = tmp_dir() + "/layout", bundle = tmp_dir() + "/bundle";
        auto s = reg.skopeo({"copy", "docker://" + reg.host() + "/committed:1", "oci:" + layout + ":c"});
        INFO(s.err);
        REQUIRE(s.code == 0);
        auto u = cli({"unshare", "umoci", "unpack", "--image", layout + ":c", bundle});
        INFO(u.out << u.err);
        REQUIRE(u.code == 0);
        auto host = cli({"unshare", "busybox", "sh", "-c", "R=" + bundle + "/rootfs; " + view_script});
        INFO(host.err);
        REQUIRE(host.code == 0);
        CHECK(host.out == seen);
        cli({"unshare", "rm", "-rf", bundle});
    }

    std::string tar = tmp_dir() + "/export.tar";
    auto e = cli({"export", "-o", tar, id});
    INFO(e.err);
    REQUIRE(e.code == 0);
    REQUIRE(cli({"import", tar, "localhost/exported:1"}).code == 0);
    auto imported = cli({"run", "--rm", "localhost/exported:1", "sh", "-c", view_script});
    REQUIRE(imported.code == 0);
    CHECK(imported.out == seen);
}

void check_commit_backends() {
    auto base = base_image();
    for (const std::string driver : {"fuse-overlayfs", "bock-fuse", "vfs"}) {
        INFO("storage driver " << driver);
        auto r = cli({"--storage-driver", driver, "run", base, "sh", "-c", std::string(change_script) + " && " + view_script});
        INFO(r.err);
        REQUIRE(r.code == 0);
        auto id = latest_container();
        auto d = cli({"diff", id});
        INFO(d.err);
        REQUIRE(d.code == 0);
        CHECK(lines(d.out) == std::vector<std::string>{"C /bin", "D /bin/vi", "C /data", "D /data/a", "D /data/b", "C /etc",
                                                       "C /etc/passwd", "A /new", "A /newlink", "A /newsym", "C /tmp"});
        auto c = cli({"commit", id, "localhost/committed-" + driver + ":1"});
        INFO(c.err);
        REQUIRE(c.code == 0);
        auto again = cli({"run", "--rm", "localhost/committed-" + driver + ":1", "sh", "-c", view_script});
        INFO(again.err);
        REQUIRE(again.code == 0);
        CHECK(again.out == r.out);
        REQUIRE(cli({"rm", id}).code == 0);
    }
}

void check_commit_crash_and_empty() {
    auto base = base_image();
    REQUIRE(cli({"run", base, "sh", "-c", "echo x > /x"}).code == 0);
    auto id = latest_container();
    std::string store = env_or("BOCK_ROOT", "");
    for (const char* point : {"commit-blob-partial", "commit-blob-before-rename", "commit-layer-written", "commit-before-index"}) {
        INFO(point);
        auto k = cli({"commit", id, std::string("localhost/killed-") + point}, {std::string("BOCK_TEST_KILL_POINT=") + point});
        CHECK(k.code == 128 + 9);
        CHECK(images_named(std::string("localhost/killed-")).empty());
    }
    // The next writer cleans up, and completes.
    auto ok = cli({"commit", id, "localhost/after-crash:1"});
    INFO(ok.err);
    REQUIRE(ok.code == 0);
    CHECK(fs::list_dir(store + "/tmp").value_or(std::vector<std::string>{"?"}).empty());
    REQUIRE(cli({"run", "--rm", "localhost/after-crash:1", "cat", "/x"}).out == "x\n");

    // Unchanged: no layer, unless --include-empty.
    REQUIRE(cli({"run", base, "true"}).code == 0);
    auto same = latest_container();
    auto layers = [](const std::string& img) {
        auto r = cli({"inspect", img});
        REQUIRE(r.code == 0);
        auto j = nlohmann::json::parse(r.out);
        return j[0]["RootFS"]["Layers"].size();
    };
    REQUIRE(cli({"commit", same, "localhost/unchanged:1"}).code == 0);
    REQUIRE(cli({"commit", "--include-empty", same, "localhost/unchanged:2"}).code == 0);
    CHECK(layers("localhost/unchanged:1") == layers(base));
    CHECK(layers("localhost/unchanged:2") == layers(base) + 1);
}

}  // namespace bock::test

// Image management through the real `bock`: tag, rmi, prune, inspect,
// images --format json; save/load in every format (pipes included), with
// skopeo reading and writing the same files; import; copy between
// transports; failures that leave nothing behind.
#include <dirent.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::vector<std::string> skopeo_env() {
    // Rootless skopeo falls back to a root-owned /run/containers without it.
    return {"XDG_RUNTIME_DIR=" + tmp_dir(), "TMPDIR=" + tmp_dir()};
}

Run skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), "skopeo");
    return run(args, std::nullopt, skopeo_env());
}

std::string skopeo_digest(const std::string& where) {
    auto r = skopeo({"inspect", where});
    INFO("skopeo inspect " << where << ": " << r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out)["Digest"];
}

nlohmann::json inspect(const std::string& image) {
    auto r = cli({"inspect", image});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 1);
    return j[0];
}

std::vector<std::string> dir_names(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
}

// A rootfs tarball from the host's static busybox.
std::string rootfs_tarball(const std::string& name) {
    std::string dir = tmp_dir() + "/rootfs-" + name;
    REQUIRE(run({"mkdir", "-p", dir + "/bin", dir + "/etc"}).code == 0);
    REQUIRE(run({"cp", env_or("BOCK_BUSYBOX", "/bin/busybox"), dir + "/bin/busybox"}).code == 0);
    REQUIRE(run({"sh", "-c", "echo " + name + " > " + dir + "/etc/flavour"}).code == 0);
    std::string tar = tmp_dir() + "/" + name + ".tar.gz";
    REQUIRE(run({"tar", "-C", dir, "-czf", tar, "."}).code == 0);
    return tar;
}

}  // namespace

TEST_CASE("tag, images --format json, inspect, rmi and prune", "[images]") {
    auto img = make_image("localhost/imgs:one", {"text /etc/flavour 0644 0 0 one\n"}, true, {"cat", "/etc/flavour"});
    REQUIRE(cli({"tag", img, "localhost/imgs:alias", "example.com/team/imgs:2"}).code == 0);

    auto j = nlohmann::json::parse(cli({"images", "--format", "json"}).out);
    REQUIRE(j.size() == 1);  // one image, three names
    CHECK(j[0]["Names"].size() == 3);
    CHECK(j[0]["Dangling"] == false);
    auto table = cli({"images"}).out;
    CHECK_THAT(table, Catch::Contains("localhost/imgs") && Catch::Contains("alias") &&
                          Catch::Contains("example.com/team/imgs"));
    CHECK(lines(cli({"images", "-q"}).out).size() == 1);

    auto i = inspect("localhost/imgs:alias");
    CHECK(i["Id"] == j[0]["Id"]);
    CHECK(i["Digest"] == j[0]["Digest"]);
    CHECK(i["RepoTags"].size() == 3);
    CHECK(i["RootFS"]["Type"] == "layers");
    CHECK(i["RootFS"]["Layers"].size() == 2);
    CHECK(i["Config"]["Cmd"] == nlohmann::json({"cat", "/etc/flavour"}));
    CHECK(i["Os"] == "linux");
    CHECK(i["ManifestType"] == "application/vnd.oci.image.manifest.v1+json");
    CHECK_THAT(i["RepoDigests"][0].get<std::string>(), Catch::Contains("@sha256:"));
    CHECK(cli({"image", "inspect", "localhost/imgs:one"}).code == 0);
    auto missing = cli({"inspect", "localhost/none:1"});
    CHECK(missing.code != 0);
    CHECK_THAT(missing.err, Catch::Contains("no such container or image: localhost/none:1"));
    CHECK_THAT(cli({"image", "inspect", "localhost/none:1"}).err, Catch::Contains("no such image"));

    // Removing one name keeps the content for the others.
    auto rmi = cli({"rmi", "localhost/imgs:one"});
    CHECK(rmi.code == 0);
    CHECK_THAT(rmi.out, Catch::Contains("Untagged: localhost/imgs:one"));
    CHECK_THAT(rmi.out, !Catch::Contains("Deleted"));
    CHECK(cli({"run", "--rm", "localhost/imgs:alias"}).out == "one");

    // A kept container holds the image: rmi is refused, naming it.
    REQUIRE(cli({"image", "rm", "example.com/team/imgs:2"}).code == 0);
    REQUIRE(cli({"run", "localhost/imgs:alias", "true"}).code == 0);
    auto cid = lines(cli({"ps", "-aq"}).out);
    REQUIRE(cid.size() == 1);
    auto refused = cli({"rmi", "localhost/imgs:alias"});
    CHECK(refused.code == 2);
    CHECK_THAT(refused.err, Catch::Contains("in use by container " + cid[0]));
    CHECK(cli({"image", "ls", "-q"}).out == lines(cli({"images", "-q"}).out)[0] + "\n");
    // -f untags; the image stays (dangling) while the container exists, and
    // prune -a keeps it.
    auto forced = cli({"rmi", "-f", "localhost/imgs:alias"});
    CHECK(forced.code == 0);
    CHECK_THAT(cli({"images"}).out, Catch::Contains("<none>"));
    REQUIRE(cli({"image", "prune", "-a"}).code == 0);
    CHECK(lines(cli({"images", "-q"}).out).size() == 1);
    REQUIRE(cli({"rm", cid[0]}).code == 0);
    auto pruned = cli({"image", "prune"});
    CHECK(pruned.code == 0);
    CHECK(lines(pruned.out).size() == 1);
    CHECK(cli({"images", "-q"}).out.empty());
    std::string store = env_or("BOCK_ROOT", "");
    REQUIRE(!store.empty());
    CHECK(dir_names(store + "/layers").empty());
    CHECK(dir_names(store + "/blobs/sha256").empty());
}

TEST_CASE("save to stdout, load from stdin; docker-archive read by skopeo and run", "[images]") {
    auto img = make_image("localhost/saved:1", {"text /etc/flavour 0644 0 0 saved\n"}, true, {"cat", "/etc/flavour"});
    auto before = inspect(img);
    std::string oci = tmp_dir() + "/pipe.tar";
    REQUIRE(run({"sh", "-c", bin("bock") + " save " + img + " > " + oci}).code == 0);
    REQUIRE(cli({"rmi", img}).code == 0);
    auto load = run({"sh", "-c", bin("bock") + " load < " + oci});
    CHECK(load.code == 0);
    CHECK_THAT(load.out, Catch::Contains("Loaded image: localhost/saved:1"));
    CHECK(inspect(img)["Digest"] == before["Digest"]);

    // A terminal is refused for both (script gives them one).
    auto tty = run({"script", "-qec", bin("bock") + " save " + img, "/dev/null"});
    CHECK(tty.code != 0);
    CHECK_THAT(tty.out, Catch::Contains("refusing to write an archive to a terminal"));

    std::string docker = tmp_dir() + "/docker.tar";
    REQUIRE(cli({"save", "--format", "docker-archive", "-o", docker, img}).code == 0);
    auto si = skopeo({"inspect", "docker-archive:" + docker});
    INFO(si.err);
    REQUIRE(si.code == 0);
    auto sj = nlohmann::json::parse(si.out);
    CHECK(sj["Layers"] == before["RootFS"]["Layers"]);  // uncompressed layers: digests are the diff_ids
    REQUIRE(cli({"rmi", img}).code == 0);
    auto dl = cli({"load", "-i", docker});
    CHECK(dl.code == 0);
    CHECK_THAT(dl.out, Catch::Contains("localhost/saved:1"));
    CHECK(inspect(img)["Id"] == before["Id"]);  // the config is kept: same image id
    CHECK(cli({"run", "--rm", img}).out == "saved");

    // A multi-image docker archive, as `docker save a b` writes.
    auto other = make_image("localhost/other:2", {"text /etc/flavour 0644 0 0 other\n"}, true, {"cat", "/etc/flavour"});
    std::string multi = tmp_dir() + "/multi.tar";
    REQUIRE(cli({"save", "--format", "docker-archive", "-o", multi, img, other}).code == 0);
    REQUIRE(cli({"rmi", img, other}).code == 0);
    auto ml = cli({"load", "-i", multi});
    CHECK(ml.code == 0);
    CHECK(lines(ml.out).size() == 2);
    CHECK(cli({"run", "--rm", other}).out == "other");
    CHECK(skopeo({"inspect", "docker-archive:" + multi + ":localhost/other:2"}).code == 0);
}

TEST_CASE("oci round trips with skopeo keep digests; copy between transports", "[images]") {
    auto img = make_image("localhost/rt:1", {"text /etc/flavour 0644 0 0 rt\n"}, true, {"cat", "/etc/flavour"});
    std::string digest = inspect(img)["Digest"];
    std::string archive = tmp_dir() + "/rt.tar";
    REQUIRE(cli({"save", "-o", archive, img}).code == 0);
    CHECK(skopeo_digest("oci-archive:" + archive) == digest);

    std::string layout = tmp_dir() + "/layout";
    auto sc = skopeo({"copy", "-q", "--preserve-digests", "oci-archive:" + archive, "oci:" + layout + ":v1"});
    INFO(sc.err);
    REQUIRE(sc.code == 0);
    CHECK(skopeo_digest("oci:" + layout + ":v1") == digest);
    // bock reads skopeo's layout by tag, and adds a second tag beside it.
    REQUIRE(cli({"copy", "oci:" + layout + ":v1", "localhost/fromdir:v1"}).code == 0);
    CHECK(inspect("localhost/fromdir:v1")["Digest"] == digest);
    auto busy = cli({"run", "--rm", "busybox", "true"});
    REQUIRE(busy.code == 0);
    REQUIRE(cli({"copy", "busybox", "oci:" + layout + ":latest"}).code == 0);
    CHECK(skopeo_digest("oci:" + layout + ":v1") == digest);
    CHECK(skopeo_digest("oci:" + layout + ":latest") == inspect("busybox")["Digest"]);
    // And back through skopeo: still the same manifest.
    std::string back = tmp_dir() + "/back.tar";
    REQUIRE(skopeo({"copy", "-q", "--preserve-digests", "oci:" + layout + ":v1", "oci-archive:" + back + ":x"}).code == 0);
    REQUIRE(cli({"rmi", img}).code == 0);
    REQUIRE(cli({"copy", "oci-archive:" + back + ":x", img}).code == 0);
    CHECK(inspect(img)["Digest"] == digest);
    CHECK(cli({"run", "--rm", img}).out == "rt");

    // Non-local to non-local, without touching the image list.
    auto count = lines(cli({"images", "-q"}).out).size();
    std::string out = tmp_dir() + "/fromdir.tar";
    REQUIRE(cli({"copy", "oci:" + layout + ":v1", "docker-archive:" + out + ":localhost/d:1"}).code == 0);
    CHECK(lines(cli({"images", "-q"}).out).size() == count);
    CHECK(skopeo({"inspect", "docker-archive:" + out}).code == 0);
    // docker:// goes to the registry: an unreachable one is one line naming it.
    auto unreachable = cli({"copy", "docker://127.0.0.1:" + std::to_string(closed_port()) + "/x:y", "oci:" + layout + ":z"});
    CHECK(unreachable.code == 125);
    CHECK_THAT(unreachable.err, Catch::Contains("connection refused"));
    // save --format oci-dir adds to the same layout.
    REQUIRE(cli({"save", "--format", "oci-dir", "-o", layout, "busybox"}).code == 0);
    CHECK(skopeo_digest("oci:" + layout + ":v1") == digest);
}

TEST_CASE("import a rootfs tarball and run it", "[images]") {
    auto tar = rootfs_tarball("imported");
    auto r = cli({"import", "-c", "CMD [\"/bin/busybox\", \"cat\", \"/etc/flavour\"]", "-c", "ENV A=b", tar,
                  "localhost/imported:1"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(lines(r.out).size() == 1);
    CHECK(cli({"run", "--rm", "localhost/imported:1", "/bin/busybox", "true"}).code == 0);
    CHECK(cli({"run", "--rm", "localhost/imported:1"}).out == "imported\n");
    auto i = inspect("localhost/imported:1");
    CHECK(i["RootFS"]["Layers"].size() == 1);
    CHECK_THAT(i["Config"]["Env"].dump(), Catch::Contains("A=b"));
    auto bad = cli({"import", "-c", "FROBNICATE x", tar, "localhost/bad:1"});
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Catch::Contains("unsupported instruction"));
}

TEST_CASE("a failed save or load leaves nothing behind", "[images]") {
    auto img = make_image("localhost/fail:1", {"text /etc/flavour 0644 0 0 fail\n"}, true);
    std::string dir = tmp_dir() + "/out";
    REQUIRE(run({"mkdir", "-p", dir}).code == 0);
    CHECK(cli({"save", "-o", dir + "/x.tar", "localhost/nope:1"}).code != 0);
    CHECK(dir_names(dir).empty());

    std::string store = env_or("BOCK_ROOT", "");
    REQUIRE(!store.empty());
    // A docker archive whose second layer is corrupt (the diff_id check fails).
    std::string good = tmp_dir() + "/good.tar";
    REQUIRE(cli({"save", "--format", "docker-archive", "-o", good, img}).code == 0);
    std::string un = tmp_dir() + "/unpacked";
    REQUIRE(run({"mkdir", "-p", un}).code == 0);
    REQUIRE(run({"tar", "-C", un, "-xf", good}).code == 0);
    auto i = inspect(img);
    std::string top = i["RootFS"]["Layers"][1].get<std::string>().substr(7) + ".tar";
    REQUIRE(run({"sh", "-c", "printf 'garbage' >> " + un + "/" + top}).code == 0);
    REQUIRE(cli({"rmi", img}).code == 0);
    auto after_rmi = dir_names(store + "/blobs/sha256");
    std::string bad = tmp_dir() + "/bad.tar";
    REQUIRE(run({"tar", "-C", un, "-cf", bad, "."}).code == 0);
    auto load = cli({"load", "-i", bad});
    CHECK(load.code != 0);
    CHECK_THAT(load.err, Catch::Contains("diff_id mismatch"));
    CHECK(cli({"images", "-q"}).out.find(i["Id"].get<std::string>().substr(0, 12)) == std::string::npos);
    CHECK(dir_names(store + "/blobs/sha256") == after_rmi);
    CHECK(dir_names(store + "/tmp").empty());

    // A save that fails midway (a corrupted blob in the store): no file.
    REQUIRE(cli({"load", "-i", good}).code == 0);
    std::string layer_blob = store + "/blobs/sha256/" + i["RootFS"]["Layers"][1].get<std::string>().substr(7);
    REQUIRE(run({"sh", "-c", "printf 'garbage' >> " + layer_blob}).code == 0);
    for (const char* format : {"oci-archive", "docker-archive"}) {
        auto s = cli({"save", "--format", format, "-o", dir + "/y.tar", img});
        CHECK(s.code != 0);
        CHECK_THAT(s.err, Catch::Contains("mismatch"));
        CHECK(dir_names(dir).empty());
    }
}

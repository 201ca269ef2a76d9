// The pull pipeline end to end: multi-layer images from a private
// docker-registry (tests/lib/registry.hpp) in gzip, zstd and uncompressed
// form, SIGKILL at every named pull kill point followed by a new pull, two
// pulls of the same image at once, and `bock run --pull=...`.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::string store() { return env_or("BOCK_ROOT", ""); }

// A 4-layer archive (busybox + 3 layers of `kib` KiB of pseudo-random
// bytes and some text each); `salt` changes the content.
std::string make_layers_archive(const std::string& name, const std::string& salt, int kib = 512) {
    static int counter = 0;
    std::string dir = fmt::format("{}/pp-{}", tmp_dir(), ++counter);
    REQUIRE(bock::fs::mkdir_p(dir, 0755));
    std::vector<std::string> argv{bin("bock-mkimage"), "--out", dir + "/img.tar", "--name", name, "--busybox",
                                  "--cmd", "sh", "--cmd", "-c", "--cmd", "cat /etc/l1 /etc/l2 /etc/l3; md5sum /d/*"};
    for (int i = 1; i <= 3; i++) {
        std::string data = fmt::format("{}/data{}", dir, i);
        std::string blob;
        uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i) + std::hash<std::string>{}(salt);
        blob.reserve(static_cast<size_t>(kib) << 10);
        for (int k = 0; k < kib << 10; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            // Half random bytes, half text: a realistic mix for gzip/zstd.
            blob += (k / 4096) % 2 ? static_cast<char>(x) : static_cast<char>('a' + x % 7);
        }
        REQUIRE(bock::fs::write_file(data, blob));
        std::string spec = fmt::format("{}/l{}.spec", dir, i);
        REQUIRE(bock::fs::write_file(spec, fmt::format("dir /d 0755 0 0\n"
                                                       "file /d/data{} 0644 0 0 data{}\n"
                                                       "text /etc/l{} 0644 0 0 layer {} {}\\n\n",
                                                       i, i, i, i, salt)));
        argv.insert(argv.end(), {"--layer", spec});
    }
    auto mk = run(argv);
    INFO("bock-mkimage: " << mk.err);
    REQUIRE(mk.code == 0);
    return dir + "/img.tar";
}

// Pushes an OCI archive of bock-mkimage (uncompressed layers) to the
// registry through the distribution API itself, its layers recompressed as
// asked ("gzip", "zstd", or "none": uncompressed, which skopeo never pushes
// to a registry); prints the layer media types, one a line.
const char* push_script = R"PY(
import gzip, hashlib, io, json, subprocess, sys, tarfile, urllib.request
archive, host, name, tag, comp = sys.argv[1:6]
t = tarfile.open(archive)
blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":")[1]).read()
index = json.loads(t.extractfile("index.json").read())
manifest = json.loads(blob(index["manifests"][0]["digest"]))
def upload(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{name}/blobs/uploads/", method="POST"))
    loc = r.headers["Location"]
    loc = loc if loc.startswith("http") else f"http://{host}{loc}"
    sep = "&" if "?" in loc else "?"
    urllib.request.urlopen(urllib.request.Request(f"{loc}{sep}digest={digest}", data=data, method="PUT",
                           headers={"Content-Type": "application/octet-stream"}))
    return digest, len(data)
layers = []
for l in manifest["layers"]:
    data = blob(l["digest"])
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    mt = "application/vnd.oci.image.layer.v1.tar"
    if comp == "gzip":
        data, mt = gzip.compress(data, 6, mtime=0), mt + "+gzip"
    elif comp == "zstd":
        data, mt = subprocess.run(["zstd", "-q", "-3", "-c"], input=data, capture_output=True, check=True).stdout, mt + "+zstd"
    d, n = upload(data)
    layers.append({"mediaType": mt, "digest": d, "size": n})
d, n = upload(blob(manifest["config"]["digest"]))
manifest["config"]["digest"], manifest["config"]["size"] = d, n
manifest["layers"] = layers
manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
urllib.request.urlopen(urllib.request.Request(f"http://{host}/v2/{name}/manifests/{tag}",
    data=json.dumps(manifest).encode(), method="PUT",
    headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
print("\n".join(l["mediaType"] for l in layers))
)PY";

std::vector<std::string> publish_as(const LocalRegistry& reg, const std::string& archive, const std::string& name,
                                    const std::string& compression) {
    auto r = run({"python3", "-c", push_script, archive, reg.host(), name, "1", compression});
    INFO("push: " << r.err);
    REQUIRE(r.code == 0);
    return lines(r.out);
}


size_t count_entries(const std::string& dir) {
    return lines(run({"find", dir, "-mindepth", "1", "-maxdepth", "1"}).out).size();
}

// The expected output of the fixture's command for `salt`.
void check_runs(const std::string& ref, const std::string& salt, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"run", "--rm"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ref);
    auto r = cli(args);
    INFO("run: " << r.err);
    REQUIRE(r.code == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 6);
    CHECK(l[0] == "layer 1 " + salt);
    CHECK(l[2] == "layer 3 " + salt);
}

}  // namespace

TEST_CASE("a pull killed at every pull kill point is completed by the next pull", "[pull-crash]") {
    LocalRegistry reg;
    reg.publish(make_layers_archive("localhost/crash:1", "crash"), "crash:1");
    std::string ref = reg.host() + "/crash:1";
    for (const char* point : {"pull-blob-partial", "pull-layer-partial", "pull-blob-before-rename",
                              "pull-layer-before-rename", "pull-before-index"}) {
        INFO("kill point " << point);
        auto killed = cli({"pull", "-q", ref}, {std::string("BOCK_TEST_KILL_POINT=") + point});
        CHECK(killed.code == 128 + 9);
        CHECK(images_named(reg.host()).empty());  // never an incomplete image

        auto again = cli({"pull", "-q", ref});
        INFO("second pull: " << again.err);
        REQUIRE(again.code == 0);
        auto j = images_named(reg.host());
        REQUIRE(j.size() == 1);
        CHECK(j[0]["Layers"].size() == 4);
        CHECK(count_entries(store() + "/tmp") == 0);  // no leftovers
        CHECK(count_entries(store() + "/layers") == 4);
        CHECK(count_entries(store() + "/blobs/sha256") == 4 + 2);  // layers, config, manifest
        check_runs(ref, "crash");
        // Start the next round from an empty store (rmi collects everything).
        REQUIRE(cli({"rmi", ref}).code == 0);
        CHECK(count_entries(store() + "/layers") == 0);
    }
}

TEST_CASE("two pulls of the same image at once both succeed and store it once", "[pull-concurrent]") {
    LocalRegistry reg;
    reg.publish(make_layers_archive("localhost/both:1", "both"), "both:1");
    std::string ref = reg.host() + "/both:1";
    std::string d = tmp_dir();
    REQUIRE(cli({"images"}).code == 0);  // the store exists
    // A third party holds the store lock for a moment (and says who it is
    // the way bock does, in the lock file), so both pulls meet it: each must
    // name the holder, then both go through.
    auto r = run({"sh", "-c",
                  "echo \"pid $$ (the test's holder)\" >\"$1/lock\"; flock \"$1/lock\" sleep 3 & sleep 0.2; "
                  "\"$2\" pull -q \"$3\" >\"$4/o1\" 2>\"$4/e1\" & p1=$!; "
                  "\"$2\" pull -q \"$3\" >\"$4/o2\" 2>\"$4/e2\" & p2=$!; "
                  "wait $p1; r1=$?; wait $p2; r2=$?; wait; echo $r1 $r2",
                  "sh", store(), bin("bock"), ref, d});
    REQUIRE(r.code == 0);
    auto e1 = bock::fs::read_file(d + "/e1").value_or("");
    auto e2 = bock::fs::read_file(d + "/e2").value_or("");
    INFO("pull 1: " << e1 << "\npull 2: " << e2);
    CHECK(r.out == "0 0\n");
    CHECK_THAT(e1, Catch::Contains("waiting for the lock on the image store") &&
                       Catch::Contains("held by pid") && Catch::Contains("(the test's holder)"));
    CHECK_THAT(e2, Catch::Contains("waiting for the lock on the image store"));
    // The last holder recorded itself.
    CHECK_THAT(bock::fs::read_file(store() + "/lock").value_or(""), Catch::Contains("(bock pull -q " + ref + ")"));
    auto o1 = bock::fs::read_file(d + "/o1").value_or("");
    CHECK(o1 == bock::fs::read_file(d + "/o2").value_or("x"));
    auto j = images_named(reg.host());
    REQUIRE(j.size() == 1);
    CHECK(lines(o1) == std::vector<std::string>{j[0]["Id"].get<std::string>()});
    CHECK(count_entries(store() + "/layers") == 4);
    CHECK(count_entries(store() + "/blobs/sha256") == 6);
    CHECK(count_entries(store() + "/tmp") == 0);
    check_runs(ref, "both");
}

TEST_CASE("gzip, zstd and uncompressed multi-layer images pull and run", "[pull-stream]") {
    LocalRegistry reg;
    for (const char* c : {"gzip", "zstd", "none"}) {
        INFO("compression " << c);
        std::string salt = std::string("fmt-") + c;
        auto types = publish_as(reg, make_layers_archive("localhost/fmt:1", salt, 256), std::string("fmt-") + c, c);
        REQUIRE(types.size() == 4);
        for (const auto& t : types)
            CHECK(t == std::string("application/vnd.oci.image.layer.v1.tar") + (std::string(c) == "none" ? "" : std::string("+") + c));
        std::string ref = reg.host() + "/fmt-" + c + ":1";
        auto p = cli({"pull", ref});
        INFO("pull: " << p.err);
        REQUIRE(p.code == 0);
        // Not a terminal: one line per blob, as podman prints.
        CHECK_THAT(p.err, Catch::Contains("Copying blob sha256:") && Catch::Contains(" done") &&
                              Catch::Contains("Copying config sha256:"));
        CHECK(p.err.find("\x1b[") == std::string::npos);
        check_runs(ref, salt);
    }
    // The busybox layer is shared: a second pull of a gzip image skips it.
    auto again = cli({"pull", reg.host() + "/fmt-gzip:1"});
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Catch::Contains("skipped: already exists"));
}

TEST_CASE("bock run --pull=missing|always|never", "[pull-policy]") {
    LocalRegistry reg;
    reg.publish(make_layers_archive("localhost/pol:1", "one", 64), "pol:1");
    std::string ref = reg.host() + "/pol:1";

    auto never = cli({"run", "--rm", "--pull=never", ref});
    CHECK(never.code == 125);
    CHECK_THAT(never.err, Catch::Contains("not found"));
    CHECK(images_named(reg.host()).empty());

    check_runs(ref, "one");  // default: missing -> pulled
    REQUIRE(images_named(reg.host()).size() == 1);

    reg.publish(make_layers_archive("localhost/pol:1", "two", 64), "pol:1");
    check_runs(ref, "one", {"--pull=missing"});  // present: not pulled again
    check_runs(ref, "one", {"--pull", "never"});
    check_runs(ref, "two", {"--pull=always"});
    REQUIRE(images_named(reg.host()).size() == 1);

    auto bad = cli({"run", "--rm", "--pull=sometimes", ref});
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Catch::Contains("sometimes"));

    auto missing = cli({"run", "--rm", reg.host() + "/nothere:1"});
    CHECK(missing.code == 125);
    CHECK_THAT(missing.err, Catch::Contains("image `" + reg.host() + "/nothere:1` is not in the local store, and "
                                            "pulling it failed") &&
                                Catch::Contains("not found"));
}

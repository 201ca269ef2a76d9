#include "hostile.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/subprocess.hpp"
#include "registry.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

std::set<std::string> names_in(const std::string& dir) {
    std::set<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.insert(n);
    }
    ::closedir(d);
    return out;
}

// What a refused image must leave as it was.
struct StoreState {
    std::string images;
    std::set<std::string> blobs, layers, tmp, around, home, outside, slash_tmp;
    bool operator==(const StoreState&) const = default;
};

std::string store_root() { return env_or("BOCK_ROOT", ""); }

StoreState state(const std::string& outside) {
    StoreState s;
    s.images = cli({"images", "--format", "json"}).out;
    s.blobs = names_in(store_root() + "/blobs/sha256");
    s.layers = names_in(store_root() + "/layers");
    s.tmp = names_in(store_root() + "/tmp");
    s.around = names_in(store_root() + "/..");
    s.home = names_in(env_or("HOME", "/nonexistent"));
    s.outside = names_in(outside);
    for (const auto& n : names_in("/tmp"))
        if (n.starts_with("bock-hostile")) s.slash_tmp.insert(n);
    return s;
}

void check_same(const StoreState& a, const StoreState& b) {
    CHECK(a.images == b.images);
    CHECK(a.blobs == b.blobs);
    CHECK(a.layers == b.layers);
    CHECK(b.tmp.empty());  // no leftovers, not even for the next writer to clean
    CHECK(a.around == b.around);
    CHECK(a.home == b.home);
    CHECK(a.outside == b.outside);
    CHECK(b.slash_tmp.empty());
}

// `stat -c FORMAT PATH` inside the session (rootless files belong to subuids).
std::string stat_of(const std::string& format, const std::string& path) {
    auto r = cli({"unshare", "stat", "-c", format, path});
    return r.code == 0 ? r.out.substr(0, r.out.find_last_not_of('\n') + 1) : "<" + r.err + ">";
}

std::string cat(const std::string& path) {
    auto r = cli({"unshare", "cat", path});
    return r.code == 0 ? r.out : "<missing>";
}

bool has_xattr(const std::string& path, const char* key) {
    char v[256];
    return ::lgetxattr(path.c_str(), key, v, sizeof v) >= 0;
}

// The properties of each case that loads (docs/storage.md, "Hostile input").
void check_loaded(const std::string& name, const std::string& layer, const Run& load, const std::string& outside) {
    INFO("case " << name << " layer " << layer);
    if (name == "duplicates") {
        CHECK(cat(layer + "/a") == "2");
        CHECK(cat(layer + "/d") == "now a file");
        CHECK(stat_of("%F %a", layer + "/f") == "directory 750");
        CHECK(cat(layer + "/f/y") == "y");
        CHECK(stat_of("%F", layer + "/s") == "directory");
        CHECK(cat(layer + "/s/z") == "z");
    } else if (name == "setuid") {
        CHECK(stat_of("%a", layer + "/suid") == "4755");
        CHECK(stat_of("%a", layer + "/sgid") == "2755");
        CHECK(stat_of("%a", layer + "/sticky") == "1777");
        CHECK(stat_of("%a", layer + "/sgid-dir") == "2775");
        // Only reachable through layers/, which only the store's owner can enter.
        struct stat st;
        REQUIRE(::stat((store_root() + "/layers").c_str(), &st) == 0);
        CHECK((st.st_mode & 077) == 0);
    } else if (name == "sparse") {
        std::string content(4 << 20, '\0');
        content.replace(0, 5, "start");
        content.replace(2 << 20, 6, "middle");
        content.replace(content.size() - 3, 3, "end");
        CHECK(cat(layer + "/sparse") == content);
        auto sb = stat_of("%s %b %B", layer + "/sparse");
        long size = 0, blocks = 0, bsize = 0;
        REQUIRE(std::sscanf(sb.c_str(), "%ld %ld %ld", &size, &blocks, &bsize) == 3);
        CHECK(size == (4 << 20));
        CHECK(blocks * bsize < (1 << 20));  // holes, not 4 MiB of zeros
    } else if (name == "devices") {
        CHECK(stat_of("%F %a", layer + "/fifo") == "fifo 640");
        if (is_root()) {
            CHECK(stat_of("%F %t:%T", layer + "/dev/null") == "character special file 1:3");
            CHECK(stat_of("%F %t:%T", layer + "/dev/sda") == "block special file 8:0");
            CHECK(stat_of("%h", layer + "/dev/null2") == "2");
        } else {
            CHECK_FALSE(fs::exists(layer + "/dev/null"));
            CHECK_FALSE(fs::exists(layer + "/dev/null2"));
            // One warning for the layer, not one per node.
            size_t n = 0;
            for (const auto& l : lines(load.err)) n += l.find("device node") != std::string::npos;
            CHECK(n == 1);
            CHECK_THAT(load.err, Catch::Contains("skipped 4 device nodes"));
        }
    } else if (name == "names") {
        auto r = cli({"unshare", "find", layer, "-name", "leaf", "-execdir", "cat", "{}", ";"});
        CHECK(r.out == "deep");
        CHECK(cat(layer + "/new\nline") == "nl");
        CHECK(cat(layer + "/back\\slash") == "bs");
    } else if (name == "xattrs") {
        for (const char* k : {"trusted.overlay.redirect", "user.overlay.redirect", "user.overlay.metacopy",
                              "user.containers.override_stat"})
            CHECK_FALSE(has_xattr(layer + "/d", k));
    } else if (name == "hardlink-symlink") {
        CHECK(stat_of("%F %h", layer + "/h") == "symbolic link 2");
        CHECK(fs::readlink(layer + "/h").value_or("") == outside + "/victim");
        CHECK(cat(outside + "/victim") == "victim");
    } else if (name == "whiteout-odd") {
        CHECK(cat(layer + "/kept") == "kept");
        CHECK_FALSE(fs::exists(layer + "/.wh..wh.plnk"));
        CHECK_FALSE(fs::exists(layer + "/.wh..wh..opq"));
        CHECK(has_xattr(layer, is_root() ? "trusted.overlay.opaque" : "user.overlay.opaque"));
    } else {
        FAIL("no checks for loaded case " << name);
    }
}

nlohmann::json make_corpus(const std::string& outside) {
    std::string dir = tmp_dir() + "/corpus";
    REQUIRE(fs::mkdir_p(outside));
    REQUIRE(fs::write_file(outside + "/victim", "victim"));
    auto t0 = std::chrono::steady_clock::now();
    auto r = run({bin("bock-mkhostile"), "--out", dir, "--outside", outside});
    INFO("bock-mkhostile: " << r.err);
    REQUIRE(r.code == 0);
    WARN("corpus written in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    return nlohmann::json::parse(fs::read_file(dir + "/cases.json").value());
}

void check_refusal(const Run& r, const std::string& error, const std::string& name) {
    INFO("case " << name << ": exit " << r.code << "\nstderr: " << r.err);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(error));
    // One error line, no stack of repeats (pull's progress lines aside).
    size_t errors = 0;
    for (const auto& l : lines(r.err)) errors += l.find("error") != std::string::npos;
    CHECK(errors == 1);
}

}  // namespace

void check_hostile_corpus() {
    std::string outside = tmp_dir() + "/outside";
    auto cases = make_corpus(outside);
    REQUIRE(cli({"images"}).code == 0);  // the store exists before the first snapshot
    auto before = state(outside);
    int refused = 0, loaded = 0;
    for (const auto& c : cases) {
        std::string name = c.at("name"), image = c.at("image");
        auto t0 = std::chrono::steady_clock::now();
        auto r = cli({"load", "-i", c.at("archive").get<std::string>()});
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        INFO("case " << name << " (" << c.at("what").get<std::string>() << ") took " << secs << " s");
        if (c.at("expect") == "refused") {
            refused++;
            check_refusal(r, c.at("error"), name);
            if (name.starts_with("bomb-")) CHECK(secs < 10);  // refused quickly, not after 1-4 GiB
        } else {
            loaded++;
            INFO("stderr: " << r.err);
            REQUIRE(r.code == 0);
            std::string hex = c.at("diff_id").get<std::string>().substr(7);
            check_loaded(name, store_root() + "/layers/" + hex, r, outside);
            REQUIRE(cli({"rmi", image}).code == 0);
        }
        check_same(before, state(outside));
        CHECK(fs::read_file(outside + "/victim").value_or("") == "victim");
    }
    CHECK(refused >= 20);
    CHECK(loaded >= 8);

    // The registry path: the same layers, published where docker-registry
    // accepts them (their digests are right), then `bock pull`.
    LocalRegistry reg;
    for (const auto& c : cases) {
        std::string name = c.at("name");
        if (name != "symlink-abs" && name != "dotdot" && name != "whiteout-via-symlink" && name != "bomb-zstd")
            continue;
        reg.publish(c.at("archive"), "hostile/" + name + ":latest");
        auto published = state(outside);  // skopeo keeps a cache in $HOME
        auto r = cli({"pull", "--tls-verify=false", reg.host() + "/hostile/" + name + ":latest"});
        check_refusal(r, c.at("error"), name);
        check_same(published, state(outside));
        CHECK(published.images == before.images);
    }
}

void check_lying_registry() {
    std::string outside = tmp_dir() + "/outside";
    auto cases = make_corpus(outside);
    std::string dir = tmp_dir() + "/corpus/registry";
    auto lies = nlohmann::json::parse(fs::read_file(dir + "/registry.json").value());
    std::string port_file = tmp_dir() + "/lying-registry.port";
    SpawnOptions o;
    o.argv = {"setpriv", "--pdeathsig", "KILL", "python3", env_or("BOCK_TEST_SRC", ".") + "/tests/lib/lying_registry.py",
              dir, port_file};
    auto p = spawn_program(o);
    REQUIRE(p);
    Pid server = std::move(*p);
    std::string port;
    for (int i = 0; i < 200 && port.empty(); i++) {
        if (auto t = fs::read_file(port_file)) port = *t;
        else std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    REQUIRE_FALSE(port.empty());
    REQUIRE(cli({"images"}).code == 0);
    auto before = state(outside);
    for (const auto& l : lies) {
        std::string image = "127.0.0.1:" + port + "/" + l.at("image").get<std::string>();
        auto t0 = std::chrono::steady_clock::now();
        auto r = cli({"pull", "--tls-verify=false", image});
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        INFO(l.at("what").get<std::string>() << ": took " << secs << " s");
        check_refusal(r, l.at("error"), image);
        CHECK(secs < 10);  // the endless blob is cut off at its descriptor's size
        check_same(before, state(outside));
    }
    (void)server.kill(SIGKILL);
    (void)server.wait();
}

}  // namespace bock::test

// The registry client against a real docker-registry (distribution 2.8) on
// 127.0.0.1: uploads (monolithic, chunked), HEAD, ranged GETs, manifests,
// tags with pagination, referrers, and one client used by several threads.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "registry_client.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::detail;

namespace {

int free_port() {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

struct Registry {
    testing::TempDir dir;
    Pid pid;
    std::string host;
    Registry() {
        REQUIRE(::access("/usr/bin/docker-registry", X_OK) == 0);
        int port = free_port();
        host = "127.0.0.1:" + std::to_string(port);
        REQUIRE(fs::write_file(dir / "config.yml",
                               fmt::format("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                                           "storage:\n  filesystem:\n    rootdirectory: {}\n"
                                           "http:\n  addr: {}\n",
                                           dir / "data", host)));
        SpawnOptions o;
        o.argv = {"setpriv", "--pdeathsig", "KILL", "/usr/bin/docker-registry", "serve", dir / "config.yml"};
        auto p = spawn_program(o);
        REQUIRE(p);
        pid = std::move(*p);
        RegistryClient c(host, "", PullOptions{});
        for (int i = 0; i < 200 && !c.ping(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        REQUIRE(c.ping());
    }
    ~Registry() {
        (void)pid.kill(SIGKILL);
        (void)pid.wait();
    }
};

}  // namespace

TEST_CASE("registry client: upload, HEAD, ranged GET, manifests, tags, referrers, threads", "[registry-client]") {
    Registry reg;
    RegistryClient c(reg.host, "test/repo", ClientOptions{true, "", "", true, std::nullopt});

    // Two blobs: one monolithic, one in 1000-byte chunks.
    std::string data(5000, '\0');
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>('a' + i % 26);
    std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    REQUIRE(fs::write_file(reg.dir / "blob", data));
    REQUIRE(fs::write_file(reg.dir / "config", config));
    Digest bd = sha256_of(data), cd = sha256_of(config);
    CHECK(!*c.blob_exists(bd));
    REQUIRE(c.upload_blob(bd, reg.dir / "blob", static_cast<int64_t>(data.size()), 1000));
    REQUIRE(c.upload_blob(cd, reg.dir / "config", static_cast<int64_t>(config.size())));
    CHECK(*c.blob_exists(bd));
    CHECK(*c.blob_exists(cd));

    // Full and ranged downloads.
    Descriptor d{"application/octet-stream", bd, static_cast<int64_t>(data.size()), {}, {}};
    std::string got;
    BlobSink sink = [&](const char* p, size_t n) -> Result<void> {
        got.append(p, n);
        return ok();
    };
    REQUIRE(c.get_blob(d, sink));
    CHECK(got == data);
    got.clear();
    REQUIRE(c.get_blob(d, sink, 4321));
    CHECK(got == data.substr(4321));

    // A manifest under three tags; HEAD gives its digest.
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", media::oci_manifest},
                        {"config", {{"mediaType", media::oci_config}, {"digest", cd.str()}, {"size", config.size()}}},
                        {"layers", nlohmann::json::array({{{"mediaType", media::oci_layer_tar},
                                                           {"digest", bd.str()},
                                                           {"size", data.size()}}})}};
    std::string body = m.dump();
    for (const char* tag : {"a", "b", "c"}) CHECK(*c.put_manifest(tag, media::oci_manifest, body) == sha256_of(body));
    auto fetched = c.get_manifest("b");
    REQUIRE(fetched);
    CHECK(fetched->body == body);
    CHECK(manifest_kind(*fetched) == ManifestKind::image);
    CHECK(**c.manifest_digest("c") == sha256_of(body));
    CHECK(!*c.manifest_digest("nope"));
    auto tags = c.list_tags(1);  // three pages, through Link headers
    REQUIRE(tags);
    std::sort(tags->begin(), tags->end());
    CHECK(*tags == std::vector<std::string>{"a", "b", "c"});
    auto refs = c.referrers(sha256_of(body));
    REQUIRE(refs);
    CHECK(!*refs);  // distribution 2.8 has no referrers API

    // Cross-repository mount, and one client used by several threads.
    RegistryClient other(reg.host, "test/other", ClientOptions{true, "", "", true, std::nullopt});
    CHECK(*other.mount_blob(bd, "test/repo"));
    CHECK(*other.blob_exists(bd));
    CHECK(!*other.mount_blob(sha256_of("absent"), "test/repo"));
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 4; t++)
        threads.emplace_back([&] {
            for (int i = 0; i < 5; i++) {
                std::string mine;
                BlobSink s = [&](const char* p, size_t n) -> Result<void> {
                    mine.append(p, n);
                    return ok();
                };
                if (other.get_blob(d, s) && mine == data) good++;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(good == 20);

    // Schema1 and errors name the registry.
    auto missing = c.get_manifest("missing");
    REQUIRE(!missing);
    CHECK_THAT(missing.error().message(), Catch::Contains("not found in " + reg.host + "/test/repo"));
}

TEST_CASE("registry client: a server that ignores Range has the skipped bytes dropped", "[registry-client]") {
    // python3's http.server serves files and answers 200 to ranged GETs.
    testing::TempDir dir;
    std::string data(3000, '\0');
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>('A' + i % 23);
    Digest d = sha256_of(data);
    REQUIRE(fs::mkdir_p(dir / "v2/r/blobs"));
    REQUIRE(fs::write_file(dir / ("v2/r/blobs/" + d.str()), data));
    int port = free_port();
    SpawnOptions o;
    o.argv = {"setpriv", "--pdeathsig", "KILL", "/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
              "--directory", dir.path, std::to_string(port)};
    o.capture_stderr = true;
    auto p = spawn_program(o);
    REQUIRE(p);
    Pid server = std::move(*p);
    RegistryClient c("127.0.0.1:" + std::to_string(port), "r", PullOptions{});
    Descriptor desc{"application/octet-stream", d, static_cast<int64_t>(data.size()), {}, {}};
    std::string got;
    BlobSink sink = [&](const char* b, size_t n) -> Result<void> {
        got.append(b, n);
        return ok();
    };
    Result<void> r = make_error("not tried");
    for (int i = 0; i < 100; i++) {
        got.clear();
        r = c.get_blob(desc, sink, 1234);
        if (r) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    (void)server.kill(SIGKILL);
    (void)server.wait();
    REQUIRE(r);
    CHECK(got == data.substr(1234));
}

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/image/credentials.hpp"
#include "registry_client.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using nlohmann::json;

namespace {

// Sets environment variables for one test, restoring them after.
struct EnvGuard {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    void set(const std::string& k, const std::string& v) {
        const char* old = ::getenv(k.c_str());
        saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
        ::setenv(k.c_str(), v.c_str(), 1);
    }
    ~EnvGuard() {
        for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }
};

}  // namespace

TEST_CASE("registry_env_name upper-cases and turns other characters into _", "[credentials]") {
    CHECK(registry_env_name("127.0.0.1:5000") == "127_0_0_1_5000");
    CHECK(registry_env_name("quay.io") == "QUAY_IO");
    CHECK(registry_env_name("my-registry.example.com:443") == "MY_REGISTRY_EXAMPLE_COM_443");
    CHECK(registry_env_name("[::1]:5000") == "___1__5000");
}

TEST_CASE("base64 through OpenSSL round-trips and refuses garbage", "[credentials]") {
    CHECK(base64_encode("alice:s3cret") == "YWxpY2U6czNjcmV0");
    CHECK(base64_encode("") == "");
    for (std::string s : {"a", "ab", "abc", "abcd", "user:pass:with:colons"}) CHECK(*base64_decode(base64_encode(s)) == s);
    CHECK(!base64_decode("abc"));
    CHECK(!base64_decode("!!!!"));
}

TEST_CASE("config.json: auths (normalized keys), identitytoken, errors", "[credentials]") {
    std::string doc = json{{"auths",
                            {{"https://index.docker.io/v1/", {{"auth", base64_encode("hub:pw")}}},
                             {"http://127.0.0.1:5000/", {{"auth", base64_encode("local:pw:x")}}},
                             {"quay.io", {{"identitytoken", "refresh-me"}}},
                             {"empty.io", json::object()}}}}
                          .dump();
    auto hub = credentials_from_config(doc, "f", "docker.io");
    REQUIRE(hub);
    REQUIRE(*hub);
    CHECK((*hub)->username == "hub");
    CHECK((*hub)->password == "pw");
    auto local = *credentials_from_config(doc, "f", "127.0.0.1:5000");
    REQUIRE(local);
    CHECK(local->username == "local");
    CHECK(local->password == "pw:x");  // split at the first ':'
    auto quay = *credentials_from_config(doc, "f", "quay.io");
    REQUIRE(quay);
    CHECK(quay->identity_token == "refresh-me");
    CHECK(quay->username.empty());
    CHECK(!*credentials_from_config(doc, "f", "empty.io"));
    CHECK(!*credentials_from_config(doc, "f", "other.io"));

    auto bad_json = credentials_from_config("{", "/x/auth.json", "quay.io");
    REQUIRE(!bad_json);
    CHECK_THAT(bad_json.error().message(), Catch::Contains("/x/auth.json") && Catch::Contains("invalid json"));
    auto no_colon = credentials_from_config(json{{"auths", {{"a.io", {{"auth", base64_encode("x")}}}}}}.dump(), "f",
                                            "a.io");
    REQUIRE(!no_colon);
    CHECK_THAT(no_colon.error().message(), Catch::Contains("user:password"));
    auto helper = credentials_from_config(json{{"credHelpers", {{"a.io", "bock-no-such-helper"}}}}.dump(), "f", "a.io");
    REQUIRE(!helper);
    CHECK_THAT(helper.error().message(), Catch::Contains("docker-credential-bock-no-such-helper"));
}

TEST_CASE("the credentials chain: env first, then --authfile, podman's file, docker's", "[credentials]") {
    testing::TempDir t;
    EnvGuard env;
    env.set("HOME", t.path);
    env.set("XDG_RUNTIME_DIR", t / "run");
    env.set("XDG_CONFIG_HOME", t / "config");
    env.set("DOCKER_CONFIG", t / "docker");
    env.set("REGISTRY_AUTH_FILE", "");
    ::unsetenv("REGISTRY_AUTH_FILE");
    std::string reg = "127.0.0.1:5000";
    CHECK(!*find_credentials(reg, ""));

    REQUIRE(save_credentials(t / "docker/config.json", reg, Credentials{"docker", "d", "", ""}));
    CHECK((*find_credentials(reg, ""))->username == "docker");
    if (::geteuid() != 0) {
        REQUIRE(save_credentials(t / "run/containers/auth.json", reg, Credentials{"podman", "p", "", ""}));
        CHECK((*find_credentials(reg, ""))->username == "podman");
        CHECK(login_auth_file("") == t / "run/containers/auth.json");
    }
    REQUIRE(save_credentials(t / "mine.json", reg, Credentials{"mine", "m", "", ""}));
    CHECK((*find_credentials(reg, t / "mine.json"))->username == "mine");
    CHECK((*find_credentials("other.io", t / "mine.json")) == std::nullopt);
    auto missing = find_credentials(reg, t / "missing.json");
    REQUIRE(!missing);
    CHECK_THAT(missing.error().message(), Catch::Contains("missing.json"));

    env.set("BOCK_REGISTRY_127_0_0_1_5000_USERNAME", "envuser");
    env.set("BOCK_REGISTRY_127_0_0_1_5000_PASSWORD", "envpw");
    auto e = *find_credentials(reg, t / "mine.json");
    REQUIRE(e);
    CHECK(e->username == "envuser");
    CHECK(e->password == "envpw");
    ::unsetenv("BOCK_REGISTRY_127_0_0_1_5000_PASSWORD");
    CHECK(!find_credentials(reg, ""));  // half-set: an error, not a silent fallback
    ::unsetenv("BOCK_REGISTRY_127_0_0_1_5000_USERNAME");
}

TEST_CASE("save_credentials keeps other keys, writes 0600; remove_credentials", "[credentials]") {
    testing::TempDir t;
    std::string f = t / "sub/dir/auth.json";
    REQUIRE(save_credentials(f, "a.io", Credentials{"u", "p", "", ""}));
    struct stat st {};
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((t / "sub/dir").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    auto j = json::parse(*fs::read_file(f));
    j["credHelpers"] = {{"x.io", "pass"}};
    REQUIRE(fs::write_file(f, j.dump()));
    REQUIRE(save_credentials(f, "b.io", Credentials{"v", "q", "", ""}));
    REQUIRE(save_credentials(f, "a.io", Credentials{"u2", "p2", "", ""}));
    j = json::parse(*fs::read_file(f));
    CHECK(j["credHelpers"]["x.io"] == "pass");
    CHECK(j["auths"]["a.io"]["auth"] == base64_encode("u2:p2"));
    CHECK(j["auths"].size() == 2);
    CHECK(*remove_credentials(f, "a.io"));
    CHECK(!*remove_credentials(f, "a.io"));
    CHECK(json::parse(*fs::read_file(f))["auths"].size() == 1);
    CHECK(*remove_credentials(f, ""));
    CHECK(json::parse(*fs::read_file(f))["auths"].empty());
    CHECK(!*remove_credentials(t / "none.json", "a.io"));
    CHECK(registry_of("docker://quay.io/a/b:1") == "quay.io");
    CHECK(registry_of("127.0.0.1:5000/x") == "127.0.0.1:5000");
    CHECK(registry_of("localhost:5000") == "localhost:5000");
}

TEST_CASE("WWW-Authenticate challenges are parsed", "[credentials]") {
    auto b = detail::parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
    CHECK(b.scheme == "bearer");
    CHECK(b.params["realm"] == "https://auth.docker.io/token");
    CHECK(b.params["service"] == "registry.docker.io");
    CHECK(b.params["scope"] == "repository:library/busybox:pull");
    auto multi = detail::parse_www_authenticate(
        R"(Bearer realm="http://127.0.0.1:1/token", service="svc", scope="repository:a:pull,push repository:b:pull", error="insufficient_scope")");
    CHECK(multi.params["scope"] == "repository:a:pull,push repository:b:pull");
    CHECK(multi.params["error"] == "insufficient_scope");
    auto basic = detail::parse_www_authenticate(R"(Basic realm="bock-test")");
    CHECK(basic.scheme == "basic");
    CHECK(basic.params["realm"] == "bock-test");
    auto unquoted = detail::parse_www_authenticate("BASIC Realm=x, charset=UTF-8");
    CHECK(unquoted.scheme == "basic");
    CHECK(unquoted.params["realm"] == "x");
    CHECK(unquoted.params["charset"] == "UTF-8");
    auto escaped = detail::parse_www_authenticate(R"(Bearer realm="a\"b")");
    CHECK(escaped.params["realm"] == "a\"b");
}

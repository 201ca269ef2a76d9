// Registry authentication end to end against a real docker-registry:
// htpasswd Basic auth, the Bearer token flow (token_server.py), identity
// tokens, environment credentials, a docker-credential helper, login and
// logout, and a TLS registry trusted through --cert-dir.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;
using Catch::Contains;

namespace {

// An environment whose only credentials are the ones the test writes.
std::vector<std::string> isolated_env(const std::string& dir) {
    return {"REGISTRY_AUTH_FILE=" + dir + "/auth.json", "DOCKER_CONFIG=" + dir + "/docker"};
}

std::string publish_hello(const LocalRegistry& reg, const std::string& name_tag, const std::string& msg) {
    reg.publish(fixture_archive("localhost/" + name_tag, {"text /etc/msg 0644 0 0 " + msg + "\n"}, {"cat", "/etc/msg"}),
                name_tag);
    return reg.host() + "/" + name_tag;
}

}  // namespace

TEST_CASE("login, pull, push and logout with htpasswd Basic auth", "[registry-auth]") {
    LocalRegistry reg({"alice", "s3cret", false, false});
    std::string dir = *bock::fs::make_temp_dir(tmp_dir(), "basic-");
    auto env = isolated_env(dir);
    std::string authfile = dir + "/auth.json";
    std::string ref = publish_hello(reg, "hello:1", "basic auth");

    // Anonymous: refused, with the fix in the hint.
    auto anon = cli({"pull", "-q", ref}, env);
    CHECK(anon.code == 125);
    CHECK_THAT(anon.err, Contains("http 401") && Contains("bock login " + reg.host()));

    // A wrong password fails clearly and writes nothing.
    auto bad = cli({"login", "-u", "alice", "-p", "wrong", reg.host()}, env);
    CHECK(bad.code == 125);
    CHECK(lines(bad.err).size() == 1);
    CHECK_THAT(bad.err, Contains("wrong username or password"));
    CHECK(!bock::fs::exists(authfile));

    // The right one, from stdin, is stored (0600) in Docker's format.
    auto good = run({bin("bock"), "login", "-u", "alice", "--password-stdin", reg.host()}, "s3cret\n", env);
    INFO(good.err);
    REQUIRE(good.code == 0);
    CHECK_THAT(good.out, Contains("Login Succeeded"));
    struct stat st {};
    REQUIRE(::stat(authfile.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto j = nlohmann::json::parse(*bock::fs::read_file(authfile));
    CHECK(j["auths"][reg.host()]["auth"] == "YWxpY2U6czNjcmV0");  // base64("alice:s3cret")

    REQUIRE(cli({"pull", "-q", ref}, env).code == 0);
    CHECK(cli({"run", "--rm", ref}, env).out == "basic auth");
    auto push = cli({"push", "-q", "busybox", reg.host() + "/bb:1"}, env);
    REQUIRE(push.code == 0);
    CHECK(lines(push.out) == std::vector<std::string>{reg.digest_of("bb:1")});

    // Logout removes the entry; then the registry refuses again.
    auto out = cli({"logout", reg.host()}, env);
    CHECK(out.code == 0);
    CHECK_THAT(out.out, Contains("Removed login credentials for " + reg.host()));
    CHECK(!nlohmann::json::parse(*bock::fs::read_file(authfile))["auths"].contains(reg.host()));
    CHECK(cli({"pull", "-q", ref}, env).code == 125);
    auto again = cli({"logout", reg.host()}, env);
    CHECK(again.code == 125);
    CHECK_THAT(again.err, Contains("not logged into " + reg.host()));

    // BOCK_REGISTRY_<HOST>_USERNAME/_PASSWORD, with the host mangled.
    std::string var = "BOCK_REGISTRY_127_0_0_1_" + std::to_string(reg.port());
    auto env2 = env;
    env2.push_back(var + "_USERNAME=alice");
    env2.push_back(var + "_PASSWORD=s3cret");
    CHECK(cli({"push", "-q", "busybox", reg.host() + "/bb:env"}, env2).code == 0);
    CHECK(reg.digest_of("bb:env") == reg.digest_of("bb:1"));
    env2.back() = var + "_PASSWORD=nope";
    CHECK(cli({"pull", "-q", reg.host() + "/bb:env"}, env2).code == 125);
}

TEST_CASE("a docker-credential helper named in credHelpers supplies the credentials", "[registry-auth]") {
    LocalRegistry reg({"bob", "helper-pw", false, false});
    std::string dir = *bock::fs::make_temp_dir(tmp_dir(), "helper-");
    auto env = isolated_env(dir);
    std::string ref = publish_hello(reg, "helped:1", "from a helper");
    REQUIRE(bock::fs::mkdir_p(dir + "/bin", 0755));
    REQUIRE(bock::fs::mkdir_p(dir + "/docker", 0700));
    std::string helper = dir + "/bin/docker-credential-bocktest";
    REQUIRE(bock::fs::write_file(helper, fmt::format("#!/bin/sh\n"
                                                     "[ \"$1\" = get ] || exit 2\n"
                                                     "read server\n"
                                                     "echo \"$server\" >> {}/helper.log\n"
                                                     "if [ \"$server\" = {} ]; then\n"
                                                     "  echo '{{\"ServerURL\":\"{}\",\"Username\":\"bob\",\"Secret\":\"helper-pw\"}}'\n"
                                                     "else echo 'credentials not found in native keychain'; exit 1; fi\n",
                                                     dir, reg.host(), reg.host())));
    REQUIRE(::chmod(helper.c_str(), 0755) == 0);
    REQUIRE(bock::fs::write_file(dir + "/docker/config.json",
                                 nlohmann::json{{"credHelpers", {{reg.host(), "bocktest"}}}}.dump()));
    env.push_back("PATH=" + dir + "/bin:" + env_or("PATH", "/usr/bin:/bin"));
    auto pull = cli({"pull", "-q", ref}, env);
    CHECK(pull.code == 0);
    CHECK(cli({"run", "--rm", ref}, env).out == "from a helper");
    CHECK_THAT(*bock::fs::read_file(dir + "/helper.log"), Contains(reg.host()));
}

TEST_CASE("login, pull and push through the Bearer token flow", "[registry-auth]") {
    LocalRegistry reg({"carol", "tok-pw", true, false});
    std::string dir = *bock::fs::make_temp_dir(tmp_dir(), "bearer-");
    auto env = isolated_env(dir);
    std::string authfile = dir + "/auth.json";
    std::string ref = publish_hello(reg, "tok:1", "bearer");

    auto bad = cli({"login", "-u", "carol", "-p", "wrong", reg.host()}, env);
    CHECK(bad.code == 125);
    CHECK_THAT(bad.err, Contains("wrong username or password"));
    CHECK(!bock::fs::exists(authfile));

    REQUIRE(cli({"login", "-u", "carol", "-p", "tok-pw", reg.host()}, env).code == 0);
    REQUIRE(cli({"pull", "-q", ref}, env).code == 0);
    CHECK(cli({"run", "--rm", ref}, env).out == "bearer");
    auto push = cli({"push", ref, reg.host() + "/copy:2"}, env);
    REQUIRE(push.code == 0);
    CHECK(lines(push.out) == std::vector<std::string>{reg.digest_of("tok:1")});
    CHECK(reg.digest_of("copy:2") == reg.digest_of("tok:1"));
    CHECK_THAT(push.err, Contains("mounted from tok"));  // cross-repository mount
    // A push-scoped token for carol (after the challenge's own scope, if any).
    CHECK_THAT(reg.token_log(), Contains("GET carol ") && Contains(" repository:copy:pull,push"));

    // An identitytoken is exchanged through the OAuth2 refresh_token grant.
    std::string idfile = dir + "/identity.json";
    REQUIRE(bock::fs::write_file(
        idfile, nlohmann::json{{"auths", {{reg.host(), {{"identitytoken", "refresh-carol"}}}}}}.dump()));
    auto id = cli({"pull", "-q", "--authfile", idfile, reg.host() + "/copy:2"}, env);
    CHECK(id.code == 0);
    CHECK_THAT(reg.token_log(), Contains("POST refresh_token ok"));
}

TEST_CASE("a TLS registry with a self-signed certificate is trusted through --cert-dir", "[registry-auth]") {
    LocalRegistry reg({"", "", false, true});
    std::string ref = publish_hello(reg, "secure:1", "over tls");
    auto untrusted = cli({"pull", "-q", ref});
    CHECK(untrusted.code == 125);
    CHECK_THAT(untrusted.err, Contains("not trusted") && Contains("--cert-dir"));
    REQUIRE(cli({"pull", "-q", "--cert-dir", reg.cert_dir(), ref}).code == 0);
    CHECK(cli({"run", "--rm", ref}).out == "over tls");
    auto push = cli({"push", "-q", "--cert-dir", reg.cert_dir(), "busybox", reg.host() + "/bb:tls"});
    CHECK(push.code == 0);
    CHECK(lines(push.out) == std::vector<std::string>{reg.digest_of("bb:tls")});
    // --tls-verify=false accepts it without the CA.
    CHECK(cli({"pull", "-q", "--tls-verify=false", reg.host() + "/bb:tls"}).code == 0);
}

TEST_CASE("registries.conf: unqualified search, mirrors, blocked, warnings", "[registry-auth]") {
    LocalRegistry reg;
    LocalRegistry mirror;
    publish_hello(reg, "hello:1", "origin");
    publish_hello(mirror, "hello:1", "mirror");
    std::string conf = tmp_dir() + "/registries.conf";
    std::string closed = "127.0.0.1:" + std::to_string(closed_port());
    REQUIRE(bock::fs::write_file(conf, fmt::format("unqualified-search-registries = [\"{}\", \"{}\"]\n"
                                                   "colour = \"blue\"\n"
                                                   "[[registry]]\n"
                                                   "prefix = \"mirrored.example\"\n"
                                                   "location = \"{}\"\n"
                                                   "[[registry.mirror]]\n"
                                                   "location = \"{}\"\n"
                                                   "[[registry]]\n"
                                                   "location = \"blocked.example\"\n"
                                                   "blocked = true\n",
                                                   closed, reg.host(), reg.host(), mirror.host())));
    std::vector<std::string> env{"BOCK_REGISTRIES_CONF=" + conf};

    // A short name: the first search registry is down, the second has it.
    auto pull = cli({"pull", "hello:1"}, env);
    REQUIRE(pull.code == 0);
    CHECK_THAT(pull.err, Contains(conf + ":2: unknown key `colour`"));
    CHECK_THAT(pull.err, Contains("Trying to pull " + closed + "/hello:1") &&
                             Contains("Trying to pull " + reg.host() + "/hello:1"));
    CHECK(cli({"run", "--rm", reg.host() + "/hello:1"}, env).out == "origin");

    // A mirror comes first; the image keeps the name asked for.
    auto m = cli({"pull", "mirrored.example/hello:1"}, env);
    REQUIRE(m.code == 0);
    CHECK_THAT(m.err, Contains("from " + mirror.host() + "/hello:1"));
    CHECK(cli({"run", "--rm", "mirrored.example/hello:1"}, env).out == "mirror");

    auto blocked = cli({"pull", "blocked.example/x:1"}, env);
    CHECK(blocked.code == 125);
    CHECK_THAT(blocked.err, Contains("blocked") && Contains(conf));
}

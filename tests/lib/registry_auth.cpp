// LocalRegistry's authentication options: an htpasswd file (bcrypt, made
// with python3's crypt, cost 4 so each request stays fast), or the token
// flow with token_server.py signing RS256 JWTs whose x5c header carries the
// self-signed certificate the registry trusts (auth.token.rootcertbundle;
// distribution 2.8 verifies the x5c chain against it).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "registry.hpp"
#include "testlib.hpp"

namespace bock::test {

extern const char* const token_server_py;

void make_self_signed(const std::string& dir) {
    auto r = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out",
                  dir + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                  "subjectAltName=IP:127.0.0.1"});
    INFO("openssl req: " << r.err);
    REQUIRE(r.code == 0);
}

std::string LocalRegistry::auth_config() {
    if (opts_.user.empty()) return "";
    if (!opts_.token) {
        std::string file = dir_ + "/htpasswd";
        if (!fs::exists(file)) {
            auto r = run({"/usr/bin/python3", "-W", "ignore", "-c",
                          "import crypt,sys; print(sys.argv[1] + ':' + crypt.crypt(sys.argv[2], "
                          "crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
                          opts_.user, opts_.password});
            INFO("python3 crypt: " << r.err);
            REQUIRE(r.code == 0);
            REQUIRE(fs::write_file(file, r.out));
        }
        return fmt::format("auth:\n  htpasswd:\n    realm: bock-test\n    path: {}\n", file);
    }
    if (!token_pid_.valid()) {
        std::string script = dir_ + "/token_server.py";
        REQUIRE(fs::write_file(script, token_server_py));
        token_port_file_ = dir_ + "/token-port";
        SpawnOptions o;
        o.argv = {"setpriv",          "--pdeathsig",   "KILL",          "/usr/bin/python3", script,
                  token_port_file_,   dir_ + "/key.pem", dir_ + "/cert.pem", opts_.user,   opts_.password,
                  "bock-test-issuer", "bock-test"};
        auto p = spawn_program(o);
        REQUIRE(p);
        token_pid_ = std::move(*p);
        for (int i = 0; i < 200 && !fs::exists(token_port_file_); i++) {
            int st;
            if (::waitpid(token_pid_.get(), &st, WNOHANG) == token_pid_.get()) {
                token_pid_.detach();
                FAIL("token_server.py exited (python3-cryptography missing?)");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        REQUIRE(fs::exists(token_port_file_));
    }
    auto port = fs::read_file(token_port_file_);
    REQUIRE(port);
    return fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: bock-test\n"
        "    issuer: bock-test-issuer\n    rootcertbundle: {}/cert.pem\n",
        *port, dir_);
}

std::string LocalRegistry::token_log() const {
    auto t = fs::read_file(token_port_file_ + ".log");
    return t ? *t : "";
}

}  // namespace bock::test

namespace bock::test {

std::string fixture_archive(const std::string& name, const std::vector<std::string>& layer_specs,
                            const std::vector<std::string>& cmd) {
    static int counter = 0;
    std::string dir = tmp_dir();
    std::string out = fmt::format("{}/fixture-{}.tar", dir, ++counter);
    std::vector<std::string> argv{bin("bock-mkimage"), "--out", out, "--name", name, "--busybox"};
    for (const auto& c : cmd) argv.insert(argv.end(), {"--cmd", c});
    for (size_t i = 0; i < layer_specs.size(); i++) {
        std::string spec = fmt::format("{}/fixture-{}-{}.spec", dir, counter, i);
        REQUIRE(fs::write_file(spec, layer_specs[i]));
        argv.insert(argv.end(), {"--layer", spec});
    }
    auto mk = run(argv);
    INFO("bock-mkimage: " << mk.err);
    REQUIRE(mk.code == 0);
    return out;
}

}  // namespace bock::test

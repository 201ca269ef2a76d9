#include "registry.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

constexpr const char* registry_bin = "/usr/bin/docker-registry";

int free_port() {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
              ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(s);
    REQUIRE(ok);
    return ntohs(a.sin_port);
}

// GET /v2/ over a raw socket: true when a distribution registry answers 200.
bool port_open(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

// GET /v2/ over a raw socket: true when a distribution registry answers
// (200, or 401 when it wants credentials).
bool v2_answers(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    std::string resp;
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        std::string req = "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (::write(s, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
            char buf[4096];
            ssize_t n;
            while ((n = ::read(s, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
        }
    }
    ::close(s);
    return resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.1 401") ||
           resp.starts_with("HTTP/1.0 401");
}

}  // namespace

std::vector<std::string> skopeo_env(const std::string& dir) {
    // Rootless skopeo falls back to a root-owned /run/containers without it.
    return {"XDG_RUNTIME_DIR=" + dir, "TMPDIR=" + dir};
}

int closed_port() { return free_port(); }

LocalRegistry::LocalRegistry(RegistryOptions opts) : opts_(std::move(opts)) {
    if (::access(registry_bin, X_OK) != 0) skip("docker-registry is not installed (package docker-registry)");
    if (!find_program("skopeo")) skip("skopeo is not installed");
    auto d = fs::make_temp_dir(tmp_dir(), "registry-");
    REQUIRE(d);
    dir_ = *d;
    if (opts_.tls || opts_.token) {
        cert_dir_ = dir_ + "/certs";
        REQUIRE(fs::mkdir_p(cert_dir_, 0755));
        make_self_signed(dir_);
        auto pem = fs::read_file(dir_ + "/cert.pem");
        REQUIRE(pem);
        REQUIRE(fs::write_file(cert_dir_ + "/ca.crt", *pem));
    }
    for (int attempt = 0; attempt < 5; attempt++)
        if (try_start(attempt)) return;
    FAIL("docker-registry did not start on 127.0.0.1 (5 attempts); see " << dir_);
}

bool LocalRegistry::try_start(int attempt) {
    port_ = free_port();
    std::string cfg = fmt::format("{}/config-{}.yml", dir_, attempt);
    std::string tls = opts_.tls ? fmt::format("  tls:\n    certificate: {0}/cert.pem\n    key: {0}/key.pem\n", dir_)
                                : "";
    REQUIRE(fs::write_file(cfg, fmt::format("version: 0.1\n"
                                            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                                            "storage:\n  filesystem:\n    rootdirectory: {}/data\n"
                                            "http:\n  addr: 127.0.0.1:{}\n{}{}",
                                            dir_, port_, tls, auth_config())));
    SpawnOptions o;
    o.argv = {"setpriv", "--pdeathsig", "KILL", registry_bin, "serve", cfg};
    auto p = spawn_program(o);
    REQUIRE(p);
    pid_ = std::move(*p);
    for (int i = 0; i < 200; i++) {
        int st;
        if (::waitpid(pid_.get(), &st, WNOHANG) == pid_.get()) {
            pid_.detach();  // exited (port taken?): reaped, try another port
            return false;
        }
        if (opts_.tls ? port_open(port_) : v2_answers(port_)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    (void)pid_.kill(SIGKILL);
    (void)pid_.wait();
    return false;
}

LocalRegistry::~LocalRegistry() {
    for (Pid* p : {&pid_, &token_pid_}) {
        if (p->valid()) {
            (void)p->kill(SIGKILL);
            (void)p->wait();
        }
    }
}

void LocalRegistry::publish(const std::string& archive, const std::string& name_tag) const {
    auto r = skopeo({"copy", "--quiet", "oci-archive:" + archive, "docker://" + host() + "/" + name_tag});
    INFO("skopeo copy: " << r.err);
    REQUIRE(r.code == 0);
}

std::string LocalRegistry::digest_of(const std::string& name_tag) const {
    auto r = skopeo({"inspect", "docker://" + host() + "/" + name_tag});
    INFO("skopeo inspect: " << r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out).at("Digest").get<std::string>();
}

LocalRegistry::SkopeoRun LocalRegistry::skopeo(std::vector<std::string> args) const {
    // Registry options go after the subcommand; copy names them --src-/--dest-.
    std::vector<std::string> argv{"skopeo", "--tmpdir", dir_, args.at(0)};
    bool copy = args[0] == "copy";
    auto flag = [&](const std::string& name, const std::string& value) {
        if (copy) {
            for (const auto& a : args)
                if (a.starts_with("docker://" + host())) {
                    bool dest = &a == &args.back();
                    argv.push_back(fmt::format("--{}-{}={}", dest ? "dest" : "src", name, value));
                }
        } else {
            argv.push_back(fmt::format("--{}={}", name, value));
        }
    };
    if (opts_.tls) flag("cert-dir", cert_dir_);
    else flag("tls-verify", "false");
    if (!opts_.user.empty()) flag("creds", opts_.user + ":" + opts_.password);
    argv.insert(argv.end(), args.begin() + 1, args.end());
    auto r = run(argv, std::nullopt, skopeo_env(dir_));
    return {r.code, r.out, r.err};
}

}  // namespace bock::test

#include "net_fixtures.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fd.hpp"
#include "testlib.hpp"

namespace bock::test {

sockaddr_in lo_v4(const char* ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    a.sin_port = htons(port);
    return a;
}

std::string http_get_on(const Fd& s, const sockaddr* dst, socklen_t len, const std::string& path) {
    timeval tv{5, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(s.get(), dst, len) != 0) return "";
    std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    if (::send(s.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return "";
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(s.get(), buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

uint16_t lo_free_port(int type) {
    Fd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    auto a = lo_v4("127.0.0.1", 0);
    socklen_t len = sizeof a;
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    return ntohs(a.sin_port);
}

std::string lo_http_get(uint16_t port, const std::string& path, const char* source) {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (source) {
        auto src = lo_v4(source, 0);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
    }
    auto dst = lo_v4("127.0.0.1", port);
    return http_get_on(s, reinterpret_cast<sockaddr*>(&dst), sizeof dst, path);
}

bool lo_port_bound(uint16_t port, int type) {
    Fd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = lo_v4("127.0.0.1", port);
    return ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
}

std::string lo_http_get6(uint16_t port, const std::string& path) {
    Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 dst{};
    dst.sin6_family = AF_INET6;
    dst.sin6_addr = in6addr_loopback;
    dst.sin6_port = htons(port);
    return http_get_on(s, reinterpret_cast<sockaddr*>(&dst), sizeof dst, path);
}


Pid spawn_bock(const std::vector<std::string>& args, const std::string& log) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        int l = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(l, 1);
        ::dup2(l, 2);
        std::vector<std::string> argv = {bin("bock")};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    return Pid(pid);
}

Pid loopback_httpd(const std::string& root, uint16_t port) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        ::execl("/bin/busybox", "busybox", "httpd", "-f", "-p", listen.c_str(), "-h", root.c_str(), nullptr);
        ::_exit(127);
    }
    return Pid(p);
}

const char* const kResolverScript = R"(
import socket, struct, sys, os
port_file, answer = sys.argv[1], socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    q, peer = s.recvfrom(4096)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + answer
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr, peer)
    else:
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question, peer)
)";

}  // namespace bock::test

// bock-dns: the DNS responder of one service network (docs/svcnet-dns.md).
// It answers A/AAAA queries for the network's container names and aliases
// from a hosts file the engine rewrites atomically whenever a container
// joins or leaves (re-read when it changes), and forwards every other query
// to an upstream resolver through a socket opened in the namespace it was
// started in (the host's), before it moves into the service networks'
// namespace to listen on the network's gateway address, UDP port 53.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"

namespace {

using namespace bock;

struct Options {
    std::string netns, hosts, upstream;
    std::vector<std::string> listen;
    int ready_fd = -1;
    int watch_pid = 0;
};

const char* kUsage =
    "usage: bock-dns [--netns PATH] --hosts FILE --listen ADDR [--listen ADDR6] [--upstream ADDR[:PORT]] "
    "[--ready-fd N] [--watch-pid PID]\n";

Result<Options> parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            fmt::print("{}", kUsage);
            std::exit(0);
        }
        if (i + 1 >= argc) return make_error("{}: needs a value", a);
        std::string v = argv[++i];
        if (a == "--netns") o.netns = v;
        else if (a == "--hosts") o.hosts = v;
        else if (a == "--listen") o.listen.push_back(v);
        else if (a == "--upstream") o.upstream = v;
        else if (a == "--ready-fd") o.ready_fd = std::atoi(v.c_str());
        else if (a == "--watch-pid") o.watch_pid = std::atoi(v.c_str());
        else return make_error("unknown option `{}`", a);
    }
    if (o.hosts.empty() || o.listen.empty()) return make_error("--hosts and --listen are required");
    return o;
}

struct Addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
};

// ADDR, ADDR:PORT, [ADDR6]:PORT or ADDR6.
std::optional<Addr> parse_addr(const std::string& s, uint16_t port) {
    std::string ip = s;
    if (!s.empty() && s[0] == '[') {
        auto close = s.find(']');
        if (close == std::string::npos) return std::nullopt;
        ip = s.substr(1, close - 1);
        if (close + 1 < s.size() && s[close + 1] == ':') port = static_cast<uint16_t>(std::atoi(s.c_str() + close + 2));
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        ip = s.substr(0, s.find(':'));
        port = static_cast<uint16_t>(std::atoi(s.c_str() + s.find(':') + 1));
    }
    Addr a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len = sizeof *v6;
    } else {
        return std::nullopt;
    }
    return a;
}

// The first nameserver of /etc/resolv.conf.
std::string system_upstream() {
    auto text = fs::read_file("/etc/resolv.conf");
    if (!text) return "";
    for (const auto& line : strings::split(*text, '\n')) {
        auto w = strings::split_ws(line);
        if (w.size() >= 2 && w[0] == "nameserver") {
            std::string ip(w[1]);
            return ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
        }
    }
    return "";
}

// The network's names: NAME -> addresses, from "IP NAME [ALIAS...]" lines.
class Hosts {
public:
    explicit Hosts(std::string path) : path_(std::move(path)) {}
    // Re-reads the file when it was replaced; false when it is gone (the
    // network was removed).
    bool refresh() {
        struct stat st{};
        if (::stat(path_.c_str(), &st) != 0) return false;
        if (st.st_ino == ino_ && st.st_mtim.tv_nsec == mtime_.tv_nsec && st.st_mtim.tv_sec == mtime_.tv_sec) return true;
        ino_ = st.st_ino;
        mtime_ = st.st_mtim;
        names_.clear();
        auto text = fs::read_file(path_);
        if (!text) return true;
        for (const auto& line : strings::split(*text, '\n')) {
            auto w = strings::split_ws(line);
            for (size_t i = 1; i < w.size(); ++i) names_[lower(std::string(w[i]))].push_back(std::string(w[0]));
        }
        return true;
    }
    const std::vector<std::string>* find(const std::string& name) const {
        auto it = names_.find(name);
        return it == names_.end() ? nullptr : &it->second;
    }
    static std::string lower(std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }

private:
    std::string path_;
    ino_t ino_ = 0;
    timespec mtime_{};
    std::map<std::string, std::vector<std::string>> names_;
};

struct Question {
    std::string name;  // lower case, no final dot
    uint16_t type = 0, klass = 0;
    size_t end = 0;  // offset after the question
};

std::optional<Question> parse_question(const uint8_t* m, size_t len) {
    if (len < 12) return std::nullopt;
    uint16_t qd = static_cast<uint16_t>(m[4] << 8 | m[5]);
    if (qd != 1 || (m[2] & 0x80)) return std::nullopt;  // one question, a query
    Question q;
    size_t p = 12;
    while (p < len && m[p] != 0) {
        size_t l = m[p];
        if (l > 63 || p + 1 + l > len) return std::nullopt;  // no compression in a question
        if (!q.name.empty()) q.name += '.';
        q.name.append(reinterpret_cast<const char*>(m + p + 1), l);
        p += 1 + l;
    }
    if (p + 5 > len) return std::nullopt;
    q.type = static_cast<uint16_t>(m[p + 1] << 8 | m[p + 2]);
    q.klass = static_cast<uint16_t>(m[p + 3] << 8 | m[p + 4]);
    q.end = p + 5;
    q.name = Hosts::lower(q.name);
    return q;
}

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
}

// An authoritative answer with the records of the asked type (none: an
// empty NOERROR answer, the name exists).
std::vector<uint8_t> answer(const uint8_t* m, const Question& q, const std::vector<std::string>& ips,
                            uint8_t rcode = 0) {
    std::vector<uint8_t> out(m, m + q.end);
    out[2] = static_cast<uint8_t>(0x80 | (m[2] & 0x79) | 0x04);  // QR, opcode, AA, RD kept
    out[3] = static_cast<uint8_t>(0x80 | rcode);                  // RA
    uint16_t count = 0;
    for (const auto& ip : ips) {
        uint8_t raw[16];
        bool v6 = ip.find(':') != std::string::npos;
        if ((q.type == 1 && v6) || (q.type == 28 && !v6) || (q.type != 1 && q.type != 28)) continue;
        if (::inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), raw) != 1) continue;
        put16(out, 0xc00c);  // the question's name
        put16(out, q.type);
        put16(out, 1);
        put16(out, 0);
        put16(out, 5);  // TTL 5 s: containers come and go
        put16(out, v6 ? 16 : 4);
        out.insert(out.end(), raw, raw + (v6 ? 16 : 4));
        ++count;
    }
    out[6] = static_cast<uint8_t>(count >> 8);
    out[7] = static_cast<uint8_t>(count);
    out[8] = out[9] = out[10] = out[11] = 0;
    return out;
}

struct Pending {
    uint16_t id = 0, orig_id = 0;
    int listener = -1;
    Addr client;
    std::chrono::steady_clock::time_point sent;
};

int run(const Options& o) {
    std::string up_text = o.upstream.empty() ? system_upstream() : o.upstream;
    std::optional<Addr> upstream;
    Fd up;
    if (!up_text.empty()) {
        upstream = parse_addr(up_text, 53);
        if (!upstream) {
            log::error("--upstream `{}`: not ADDR[:PORT]", up_text);
            return 2;
        }
        // In the namespace bock-dns was started in: the host's resolvers.
        up = Fd(::socket(upstream->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!up) {
            log::error("{}", errno_error("open the upstream socket").to_string());
            return 1;
        }
    }
    // Without --netns (real root, the bridges on the host): where it was started.
    if (!o.netns.empty()) {
        auto ns = sys::open(o.netns, O_RDONLY);
        if (!ns) {
            log::error("{}", ns.error().to_string());
            return 1;
        }
        if (auto r = sys::setns(ns->get(), CLONE_NEWNET); !r) {
            log::error("enter the network namespace `{}`: {}", o.netns, r.error().to_string());
            return 1;
        }
    }
    std::vector<Fd> listeners;
    for (const auto& l : o.listen) {
        auto a = parse_addr(l.find(':') != std::string::npos && l[0] != '[' ? "[" + l + "]" : l, 53);
        if (!a) {
            log::error("--listen `{}`: not an address", l);
            return 2;
        }
        Fd s(::socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        int one = 1;
        if (s) ::setsockopt(s.get(), SOL_IP, IP_FREEBIND, &one, sizeof one);
        if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a->ss), a->len) != 0) {
            log::error("listen on {} port 53: {}", l, std::strerror(errno));
            return 1;
        }
        listeners.push_back(std::move(s));
    }
    // The rootless session's holder: the namespace ends with it, so do we.
    Fd watch;
    if (o.watch_pid > 0) {
        auto w = sys::pidfd_open(o.watch_pid);
        if (!w) {
            log::error("--watch-pid {}: {}", o.watch_pid, w.error().to_string());
            return 1;
        }
        watch = std::move(*w);
    }
    Hosts hosts(o.hosts);
    if (!hosts.refresh()) {
        log::error("hosts file `{}`: missing", o.hosts);
        return 1;
    }
    if (o.ready_fd >= 0) {
        (void)!::write(o.ready_fd, "1", 1);
        ::close(o.ready_fd);
    }
    std::map<uint16_t, Pending> pending;
    uint16_t next_id = static_cast<uint16_t>(::getpid());
    uint8_t buf[4096];
    for (;;) {
        std::vector<pollfd> fds;
        for (const auto& l : listeners) fds.push_back({l.get(), POLLIN, 0});
        if (up) fds.push_back({up.get(), POLLIN, 0});
        if (watch) fds.push_back({watch.get(), POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), 1000);
        if (watch && (fds.back().revents & POLLIN)) return 0;  // the session ended
        if (n < 0 && errno != EINTR) return 1;
        auto now = std::chrono::steady_clock::now();
        std::erase_if(pending, [&](const auto& kv) { return now - kv.second.sent > std::chrono::seconds(5); });
        if (n <= 0) {
            if (!hosts.refresh()) return 0;  // the network is gone
            continue;
        }
        for (size_t i = 0; i < listeners.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) continue;
            Addr from;
            from.len = sizeof from.ss;
            ssize_t len = ::recvfrom(listeners[i].get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from.ss), &from.len);
            if (len <= 0) continue;
            auto q = parse_question(buf, static_cast<size_t>(len));
            if (!q) continue;
            if (!hosts.refresh()) return 0;
            std::vector<uint8_t> reply;
            if (auto ips = q->klass == 1 ? hosts.find(q->name) : nullptr) {
                reply = answer(buf, *q, *ips);
            } else if (upstream && pending.size() < 256) {
                Pending p;
                p.orig_id = static_cast<uint16_t>(buf[0] << 8 | buf[1]);
                do p.id = ++next_id;
                while (pending.count(p.id));
                p.listener = listeners[i].get();
                p.client = from;
                p.sent = now;
                buf[0] = static_cast<uint8_t>(p.id >> 8);
                buf[1] = static_cast<uint8_t>(p.id);
                if (::sendto(up.get(), buf, static_cast<size_t>(len), 0, reinterpret_cast<sockaddr*>(&upstream->ss),
                             upstream->len) == len)
                    pending[p.id] = p;
                continue;
            } else {
                reply = answer(buf, *q, {}, 2);  // SERVFAIL
            }
            (void)::sendto(listeners[i].get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from.ss),
                           from.len);
        }
        if (up && (fds[listeners.size()].revents & POLLIN)) {
            Addr from;
            from.len = sizeof from.ss;
            ssize_t len = ::recvfrom(up.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from.ss), &from.len);
            if (len < 12) continue;
            uint16_t id = static_cast<uint16_t>(buf[0] << 8 | buf[1]);
            auto it = pending.find(id);
            if (it == pending.end()) continue;
            buf[0] = static_cast<uint8_t>(it->second.orig_id >> 8);
            buf[1] = static_cast<uint8_t>(it->second.orig_id);
            (void)::sendto(it->second.listener, buf, static_cast<size_t>(len), 0,
                           reinterpret_cast<sockaddr*>(&it->second.client.ss), it->second.client.len);
            pending.erase(it);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    bock::log::set_program("bock-dns");
    bock::log::init_from_env();
    auto o = parse_args(argc, argv);
    if (!o) {
        bock::log::error("{}", o.error().to_string());
        fmt::print(stderr, "{}", kUsage);
        return 2;
    }
    return run(*o);
}

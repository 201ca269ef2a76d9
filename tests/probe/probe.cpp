// bock-probe: a static program that runs inside a container and prints what
// it sees as one JSON object (crun's tests/init.c, youki's runtimetest).
// No Bock libraries: it must run in an empty root filesystem.
//
//   bock-probe                       the report
//   bock-probe read PATH             + {"read": {"path", "ok", "errno"}}
//   bock-probe write PATH            + {"write": {...}} (creates/truncates PATH)
//   bock-probe list DIR              + {"list": {"path", "ok", "errno", "entries"}}
//   bock-probe syscall NAME          + {"syscall": {"name", "ret", "errno"}} and the same
//                                    appended to "syscalls"; NAME is one of getcwd,
//                                    chdir (to "/"), mkdir (/tmp/.bock-probe-dir, removed),
//                                    getppid, umask (022, restored), personality
//                                    (0xffffffff: a query), made with syscall(2) so a
//                                    seccomp rule on that name is what decides
//   bock-probe exit N                prints the report, then exits with N
// The report includes oom_score_adj, ioprio (ioprio_get's value),
// scheduler {policy, nice}, personality, the time namespace's offsets and
// the monotonic/boottime clocks in seconds.
//   bock-probe ping ADDR             + {"ping": {"addr", "ok", "errno"}}: one ICMP echo
//                                    through an unprivileged ICMP socket (SOCK_DGRAM,
//                                    allowed by net.ipv4.ping_group_range), 5 s timeout
//   bock-probe udp-echo PORT N       no report: answers N datagrams on [::]:PORT (IPv4
//                                    too) with "FROM ADDR: " + the datagram, then exits
// Arguments may be combined: bock-probe read /etc/hostname exit 3
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

using nlohmann::json;

namespace {

const char* const kCapNames[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",         "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",      "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",   "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",          "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

std::string read_link(const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) return "";
    return std::string(buf, static_cast<size_t>(n));
}

json id_map(const char* path) {
    json out = json::array();
    for (const auto& line : lines_of(read_text(path))) {
        std::istringstream in(line);
        unsigned long long a = 0, b = 0, c = 0;
        if (in >> a >> b >> c) out.push_back(json::array({a, b, c}));
    }
    return out;
}

json cap_names(unsigned long long mask) {
    json out = json::array();
    for (int b = 0; b < 64; ++b) {
        if (!(mask & (1ULL << b))) continue;
        if (b < static_cast<int>(sizeof kCapNames / sizeof kCapNames[0]))
            out.push_back(kCapNames[b]);
        else
            out.push_back("CAP_" + std::to_string(b));
    }
    return out;
}

json capabilities_and_status(json& report) {
    json caps = json::object();
    json names = json::object();
    const std::pair<const char*, const char*> sets[] = {{"CapInh", "inheritable"}, {"CapPrm", "permitted"},
                                                        {"CapEff", "effective"},   {"CapBnd", "bounding"},
                                                        {"CapAmb", "ambient"}};
    for (const auto& line : lines_of(read_text("/proc/self/status"))) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        for (const auto& [field, name] : sets)
            if (key == field) {
                caps[field] = value;
                names[name] = cap_names(std::strtoull(value.c_str(), nullptr, 16));
            }
        if (key == "Seccomp") report["seccomp"] = std::atoi(value.c_str());
        if (key == "NoNewPrivs") report["no_new_privs_status"] = std::atoi(value.c_str());
    }
    caps["names"] = names;
    return caps;
}

json mounts() {
    json out = json::array();
    for (const auto& line : lines_of(read_text("/proc/self/mountinfo"))) {
        std::istringstream in(line);
        std::vector<std::string> f;
        for (std::string w; in >> w;) f.push_back(w);
        // id parent maj:min root mount-point options [optional...] - fstype source super-options
        size_t dash = 0;
        for (size_t i = 6; i < f.size(); ++i)
            if (f[i] == "-") {
                dash = i;
                break;
            }
        if (f.size() < 6 || dash == 0 || dash + 3 > f.size()) continue;
        out.push_back({{"mount_point", f[4]},
                       {"root", f[3]},
                       {"options", f[5]},
                       {"fstype", f[dash + 1]},
                       {"source", f[dash + 2]},
                       {"super_options", dash + 3 < f.size() ? f[dash + 3] : ""}});
    }
    return out;
}

json open_fds() {
    json out = json::array();
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return out;
    int own = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd == own) continue;
        out.push_back({{"fd", fd}, {"target", read_link(std::string("/proc/self/fd/") + e->d_name)}});
    }
    ::closedir(d);
    return out;
}

json rlimits() {
    const std::pair<const char*, int> names[] = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
    };
    json out = json::object();
    for (const auto& [name, res] : names) {
        struct rlimit rl;
        if (::getrlimit(static_cast<__rlimit_resource_t>(res), &rl) < 0) continue;
        auto v = [](rlim_t x) { return x == RLIM_INFINITY ? json(-1) : json(static_cast<unsigned long long>(x)); };
        out[name] = {{"soft", v(rl.rlim_cur)}, {"hard", v(rl.rlim_max)}};
    }
    return out;
}

json namespaces() {
    json out = json::object();
    for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
                           "time_for_children", "user", "uts"}) {
        std::string target = read_link(std::string("/proc/self/ns/") + ns);
        if (!target.empty()) out[ns] = target;
    }
    return out;
}

json file_check(const std::string& path, bool write) {
    int fd = write ? ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                   : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    json r = {{"path", path}, {"ok", fd >= 0}, {"errno", err}};
    if (fd >= 0) {
        if (write) {
            const char text[] = "bock-probe\n";
            if (::write(fd, text, sizeof text - 1) < 0) r = {{"path", path}, {"ok", false}, {"errno", errno}};
        } else {
            char buf[4096];
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n >= 0) r["content"] = std::string(buf, static_cast<size_t>(n));
        }
        ::close(fd);
    }
    return r;
}

json list_dir(const std::string& path) {
    json r = {{"path", path}, {"ok", false}, {"errno", 0}, {"entries", json::array()}};
    DIR* d = ::opendir(path.c_str());
    if (!d) {
        r["errno"] = errno;
        return r;
    }
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") r["entries"].push_back(n);
    }
    ::closedir(d);
    r["ok"] = true;
    return r;
}

// Returns false for a name it does not know.
bool syscall_check(const std::string& name, json& out) {
    long ret = -1;
    errno = 0;
    if (name == "getcwd") {
        char buf[4096];
        ret = ::syscall(SYS_getcwd, buf, sizeof buf);
    } else if (name == "chdir") {
        ret = ::syscall(SYS_chdir, "/");
    } else if (name == "mkdir") {
        const char* dir = "/tmp/.bock-probe-dir";
#ifdef SYS_mkdir
        ret = ::syscall(SYS_mkdir, dir, 0700);
#else
        ret = ::syscall(SYS_mkdirat, AT_FDCWD, dir, 0700);
#endif
        int saved = errno;
        if (ret == 0) ::rmdir(dir);
        errno = saved;
    } else if (name == "getppid") {
        ret = ::syscall(SYS_getppid);
    } else if (name == "umask") {
        ret = ::syscall(SYS_umask, 022);
        int saved = errno;
        if (ret >= 0) ::umask(static_cast<mode_t>(ret));
        errno = saved;
    } else if (name == "personality") {
        ret = ::syscall(SYS_personality, 0xffffffffUL);
    } else if (name.rfind("nr:", 0) == 0 && name.size() > 3) {
        // Any number with six zero arguments: what a filter answers
        // (ENOSYS, its errno) or what the call says about zeros (EFAULT...).
        ret = ::syscall(std::atol(name.c_str() + 3), 0L, 0L, 0L, 0L, 0L, 0L);
    } else {
        return false;
    }
    out = {{"name", name}, {"ret", ret}, {"errno", ret < 0 ? errno : 0}};
    return true;
}

}  // namespace

// One echo request through an ICMP datagram socket; the kernel fills in
// the id and checksum.
json ping_check(const std::string& addr) {
    json r = {{"addr", addr}, {"ok", false}, {"errno", 0}};
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    if (::inet_pton(AF_INET, addr.c_str(), &dst.sin_addr) != 1) {
        r["errno"] = EINVAL;
        return r;
    }
    int s = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) {
        r["errno"] = errno;
        return r;
    }
    icmphdr req{};
    req.type = ICMP_ECHO;
    req.un.echo.sequence = htons(1);
    if (::sendto(s, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) {
        r["errno"] = errno;
        ::close(s);
        return r;
    }
    pollfd p{s, POLLIN, 0};
    char buf[256];
    if (::poll(&p, 1, 5000) == 1 && ::recv(s, buf, sizeof buf, 0) >= static_cast<ssize_t>(sizeof req)) {
        icmphdr rep;
        std::memcpy(&rep, buf, sizeof rep);
        r["ok"] = rep.type == ICMP_ECHOREPLY;
    } else {
        r["errno"] = ETIMEDOUT;
    }
    ::close(s);
    return r;
}

int udp_echo(int port, int count) {
    int s = ::socket(AF_INET6, SOCK_DGRAM, 0);
    int off = 0;
    ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("bock-probe: udp-echo");
        return 1;
    }
    std::cout << "listening\n" << std::flush;
    for (int i = 0; i < count; ++i) {
        char buf[2048];
        sockaddr_in6 from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return 1;
        char text[INET6_ADDRSTRLEN] = "";
        ::inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof text);
        std::string who = text;
        if (who.rfind("::ffff:", 0) == 0) who = who.substr(7);
        std::string reply = "FROM " + who + ": " + std::string(buf, static_cast<size_t>(n));
        ::sendto(s, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "udp-echo") return udp_echo(std::atoi(argv[2]), std::atoi(argv[3]));
    json j = json::object();
    j["uid"] = ::getuid();
    j["gid"] = ::getgid();
    j["euid"] = ::geteuid();
    j["egid"] = ::getegid();
    std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
    int ng = ::getgroups(static_cast<int>(groups.size()), groups.data());
    groups.resize(static_cast<size_t>(std::max(ng, 0)));
    j["groups"] = groups;
    j["uid_map"] = id_map("/proc/self/uid_map");
    j["gid_map"] = id_map("/proc/self/gid_map");
    j["setgroups"] = lines_of(read_text("/proc/self/setgroups")).empty()
                         ? ""
                         : lines_of(read_text("/proc/self/setgroups"))[0];
    j["capabilities"] = capabilities_and_status(j);
    j["no_new_privs"] = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    struct utsname u;
    if (::uname(&u) == 0) {
        j["hostname"] = u.nodename;
        j["domainname"] = u.domainname;
    }
    j["namespaces"] = namespaces();
    j["pid"] = ::getpid();
    j["ppid"] = ::getppid();
    j["cgroup"] = lines_of(read_text("/proc/self/cgroup"));
    j["mounts"] = mounts();
    j["fds"] = open_fds();
    j["rlimits"] = rlimits();
    char cwd[4096];
    j["cwd"] = ::getcwd(cwd, sizeof cwd) ? cwd : "";
    json env = json::array();
    for (char** e = environ; e && *e; ++e) env.push_back(*e);
    j["env"] = env;
    j["oom_score_adj"] = std::atoi(read_text("/proc/self/oom_score_adj").c_str());
    j["ioprio"] = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, 0);
    j["scheduler"] = {{"policy", ::sched_getscheduler(0)}, {"nice", errno ? 0 : nice}};
    j["personality"] = ::personality(0xffffffff);
    j["timens_offsets"] = lines_of(read_text("/proc/self/timens_offsets"));
    struct timespec ts;
    if (::clock_gettime(CLOCK_MONOTONIC, &ts) == 0) j["clock_monotonic"] = static_cast<long long>(ts.tv_sec);
    if (::clock_gettime(CLOCK_BOOTTIME, &ts) == 0) j["clock_boottime"] = static_cast<long long>(ts.tv_sec);
    mode_t mask = ::umask(0);
    ::umask(mask);
    j["umask"] = mask;

    int exit_code = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "read" || a == "write") && i + 1 < argc) {
            j[a] = file_check(argv[++i], a == "write");
        } else if (a == "list" && i + 1 < argc) {
            j["list"] = list_dir(argv[++i]);
        } else if (a == "syscall" && i + 1 < argc) {
            json r;
            if (!syscall_check(argv[++i], r)) {
                std::cerr << "bock-probe: unknown syscall `" << argv[i]
                          << "` (use getcwd, chdir, mkdir, getppid, umask, personality, nr:NUMBER)\n";
                return 2;
            }
            j["syscall"] = r;
            j["syscalls"].push_back(r);
        } else if (a == "ping" && i + 1 < argc) {
            j["ping"] = ping_check(argv[++i]);
        } else if (a == "exit" && i + 1 < argc) {
            exit_code = std::atoi(argv[++i]);
        } else {
            std::cerr << "bock-probe: unknown argument `" << a << "` (use read PATH, write PATH, list DIR, syscall NAME, ping ADDR, exit N; or udp-echo PORT N)\n";
            return 2;
        }
    }
    std::cout << j.dump() << "\n";
    std::cout.flush();
    return exit_code;
}

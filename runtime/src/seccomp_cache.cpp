// Compiled seccomp filters kept between runs (seccomp.hpp,
// build_seccomp_cached). libseccomp needs several milliseconds to turn an
// allow list of a few hundred calls on three architectures into BPF;
// `bock run` asks for the same default profile every time, so the program
// is kept in the store, one file per filter:
//   <dir>/<fnv1a64 of the key>.bpf = "bock-seccomp-cache 1\n" FLAGS "\n" KEYLEN "\n" KEY FILTER
// The key is everything the output depends on: the linux.seccomp object as
// JSON, the kernel release (libseccomp probes the kernel's API level) and
// libseccomp's version. It is compared in full, so a hash collision or a
// stale file only costs a compile. Files are written atomically.
#include <linux/filter.h>
#include <sys/utsname.h>

#include <cstring>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/runtime/features.hpp"
#include "seccomp.hpp"

namespace bock::runtime {

namespace {

constexpr std::string_view kMagic = "bock-seccomp-cache 1\n";

std::string cache_key(const Seccomp& s) {
    Spec only;
    only.seccomp = s;
    struct utsname u {};
    ::uname(&u);
    return fmt::format("{}\n{} {}\nlibseccomp {}", to_json(only)["linux"]["seccomp"].dump(), u.release, u.machine,
                       libseccomp_version());
}

uint64_t fnv1a(std::string_view text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// The program stored under `key`, or nothing (missing, other key, damaged).
std::optional<SeccompProgram> read_cached(const std::string& path, const std::string& key) {
    auto text = fs::read_file(path);
    if (!text || !text->starts_with(kMagic)) return std::nullopt;
    std::string_view rest(*text);
    rest.remove_prefix(kMagic.size());
    auto line = [&]() -> std::optional<unsigned long> {
        auto nl = rest.find('\n');
        if (nl == std::string_view::npos || nl == 0) return std::nullopt;
        std::string n(rest.substr(0, nl));
        rest.remove_prefix(nl + 1);
        char* end = nullptr;
        unsigned long v = std::strtoul(n.c_str(), &end, 10);
        if (*end) return std::nullopt;
        return v;
    };
    auto flags = line();
    auto keylen = line();
    if (!flags || !keylen || *keylen > rest.size() || rest.substr(0, *keylen) != key) return std::nullopt;
    rest.remove_prefix(*keylen);
    if (rest.empty() || rest.size() % sizeof(sock_filter) != 0 || rest.size() / sizeof(sock_filter) > BPF_MAXINSNS)
        return std::nullopt;
    SeccompProgram p;
    p.flags = static_cast<unsigned int>(*flags);
    p.filter.resize(rest.size() / sizeof(sock_filter));
    std::memcpy(p.filter.data(), rest.data(), rest.size());
    return p;
}

}  // namespace

Result<SeccompProgram> build_seccomp_cached(const Seccomp& s, const std::string& dir) {
    if (dir.empty() || !s.listener_path.empty()) return build_seccomp(s);
    const std::string key = cache_key(s);
    const std::string path = fs::join(dir, fmt::format("{:016x}.bpf", fnv1a(key)));
    if (auto hit = read_cached(path, key)) return *hit;
    SeccompProgram p = BOCK_TRY(build_seccomp(s));
    if (p.filter.empty()) return p;
    std::string data(kMagic);
    data += fmt::format("{}\n{}\n", p.flags, key.size());
    data += key;
    data.append(reinterpret_cast<const char*>(p.filter.data()), p.filter.size() * sizeof(sock_filter));
    // A cache that cannot be written only costs the next run a compile.
    if (auto r = fs::mkdir_p(dir, 0700); !r) log::debug("seccomp cache: {}", r.error().to_string());
    else if (auto w = fs::write_file_atomic(path, data, 0600); !w) log::debug("seccomp cache: {}", w.error().to_string());
    return p;
}

}  // namespace bock::runtime

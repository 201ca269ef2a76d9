#include "bock/common/paths.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "bock/common/fs.hpp"

namespace bock::paths {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// /tmp/bock-run-$UID: created 0700; refused when someone else owns it or
// others can write it (another user could otherwise plant state there).
Result<std::string> fallback_runtime_dir() {
    std::string dir = fmt::format("/tmp/bock-run-{}", ::getuid());
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return errno_error("create `{}`", dir);
    struct stat st;
    if (::lstat(dir.c_str(), &st) < 0) return errno_error("stat `{}`", dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid())
        return make_error("`{}` is not a directory owned by uid {}", dir, ::getuid())
            .with_hint(fmt::format("remove it or set XDG_RUNTIME_DIR to a directory you own"));
    if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) < 0) return errno_error("chmod `{}`", dir);
    return dir;
}

}  // namespace

bool running_as_root() {
    if (::getuid() != 0) return false;
    auto map = fs::read_file("/proc/self/uid_map");
    if (!map) return true;
    // The initial user namespace maps the whole range onto itself.
    std::string s = *map;
    return s.find("4294967295") != std::string::npos;
}

std::string home_dir() {
    std::string h = env("HOME");
    if (!h.empty()) return h;
    if (passwd* pw = ::getpwuid(::getuid())) return pw->pw_dir;
    return "/";
}

Result<std::string> store_root() {
    std::string r = env("BOCK_ROOT");
    if (!r.empty()) return r;
    if (running_as_root()) return std::string("/var/lib/bock");
    std::string data = env("XDG_DATA_HOME");
    if (data.empty()) data = fs::join(home_dir(), ".local/share");
    return fs::join(data, "bock");
}

Result<std::string> runtime_dir() {
    if (running_as_root()) return std::string("/run");
    std::string x = env("XDG_RUNTIME_DIR");
    if (!x.empty() && fs::is_dir(x)) return x;
    return fallback_runtime_dir();
}

Result<std::string> run_root() {
    std::string r = env("BOCK_RUNROOT");
    if (r.empty()) r = fs::join(BOCK_TRY(runtime_dir()), "bock");
    BOCK_TRY(fs::mkdir_p(r, 0700));
    return r;
}

Result<std::string> helper_path(const std::string& name) {
    std::vector<std::string> tried;
    auto usable = [&](const std::string& p) {
        tried.push_back(p);
        return ::access(p.c_str(), X_OK) == 0;
    };
    if (auto dir = env("BOCK_HELPER_DIR"); !dir.empty()) {
        if (usable(fs::join(dir, name))) return fs::join(dir, name);
    } else if (auto exe = fs::readlink("/proc/self/exe")) {
        std::string dir = exe->substr(0, exe->rfind('/'));
        if (usable(fs::join(dir, name))) return fs::join(dir, name);
        std::string libexec = fs::join(dir, "../libexec/bock/" + name);
        if (usable(libexec)) return libexec;
    }
    std::string list;
    for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
    return Error(ENOENT, fmt::format("helper `{}` not found (looked in: {})", name, list))
        .with_hint("install Bock completely (cmake --install), or point BOCK_HELPER_DIR at the directory holding it");
}

}  // namespace bock::paths

#include "user_lookup.hpp"

#include <linux/openat2.h>
#include <sys/stat.h>

#include <charconv>
#include <optional>
#include <sstream>

#include "bock/common/fd.hpp"
#include "bock/common/sys.hpp"

namespace bock::engine {
namespace {

constexpr uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

std::optional<uint32_t> parse_id(std::string_view s) {
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// Lines of a colon-separated database file inside the rootfs; empty if absent.
std::vector<std::vector<std::string>> read_db(int rootfs_fd, const char* path) {
    std::vector<std::vector<std::string>> rows;
    auto fd = sys::openat2(rootfs_fd, path, O_RDONLY, 0, in_root);
    if (!fd) return rows;
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd->get(), buf, sizeof buf)) > 0 && text.size() < (1u << 22))
        text.append(buf, static_cast<size_t>(n));
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields;
        size_t i = 0;
        for (;;) {
            size_t j = line.find(':', i);
            fields.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
            if (j == std::string::npos) break;
            i = j + 1;
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

}  // namespace

std::map<uint32_t, std::string> id_names(int rootfs_fd, const char* db) {
    std::map<uint32_t, std::string> out;
    for (const auto& r : read_db(rootfs_fd, db))
        if (r.size() >= 3)
            if (auto id = parse_id(r[2])) out.emplace(*id, r[0]);
    return out;
}

Result<ResolvedUser> resolve_user(int rootfs_fd, const std::string& spec) {
    ResolvedUser u;
    u.home = "/";
    std::string user_part = spec, group_part;
    if (auto c = spec.find(':'); c != std::string::npos) {
        user_part = spec.substr(0, c);
        group_part = spec.substr(c + 1);
    }
    // assign(n, c), not `= "0"`: GCC 12 at -O3 reports a false -Wrestrict in
    // std::string's replace for a one-character literal (GCC bug 105651).
    if (user_part.empty()) user_part.assign(1, '0');
    auto passwd = read_db(rootfs_fd, "/etc/passwd");
    std::string user_name;
    bool found = false;
    if (auto id = parse_id(user_part)) {
        u.uid = *id;
        for (auto& r : passwd)
            if (r.size() >= 6 && parse_id(r[2]) == u.uid) {
                u.gid = parse_id(r[3]).value_or(0);
                u.home = r[5];
                user_name = r[0];
                found = true;
                break;
            }
        if (!found) u.gid = 0;
    } else {
        for (auto& r : passwd)
            if (r.size() >= 6 && r[0] == user_part) {
                auto uid = parse_id(r[2]);
                if (!uid) break;
                u.uid = *uid;
                u.gid = parse_id(r[3]).value_or(0);
                u.home = r[5];
                user_name = r[0];
                found = true;
                break;
            }
        if (!found)
            return make_error("unable to find user {}: no matching entries in the image's /etc/passwd",
                              user_part)
                .with_hint("use a numeric UID[:GID], or a user the image defines");
    }
    auto groups = read_db(rootfs_fd, "/etc/group");
    if (!group_part.empty()) {
        if (auto g = parse_id(group_part)) {
            u.gid = *g;
        } else {
            bool gfound = false;
            for (auto& r : groups)
                if (r.size() >= 3 && r[0] == group_part) {
                    if (auto g = parse_id(r[2])) {
                        u.gid = *g;
                        gfound = true;
                    }
                    break;
                }
            if (!gfound)
                return make_error("unable to find group {}: no matching entries in the image's /etc/group",
                                  group_part);
        }
    } else if (!user_name.empty()) {
        // Supplementary groups: every group listing the user as a member.
        for (auto& r : groups) {
            if (r.size() < 4) continue;
            std::istringstream members(r[3]);
            std::string m;
            while (std::getline(members, m, ','))
                if (m == user_name)
                    if (auto g = parse_id(r[2]); g && *g != u.gid) u.additional_gids.push_back(*g);
        }
    }
    if (u.home.empty()) u.home.assign(1, '/');  // see user_part above
    return u;
}

Result<void> mkdir_in_root(int rootfs_fd, const std::string& path) {
    std::string prefix;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        std::string comp = path.substr(i, j - i);
        i = j + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") return make_error("working directory `{}`: `..` is not allowed", path);
        Fd parent = BOCK_TRY(sys::openat2(rootfs_fd, prefix.empty() ? "/" : prefix,
                                          O_PATH | O_DIRECTORY, 0, in_root)
                                 .context(fmt::format("working directory `{}`", path)));
        if (::mkdirat(parent.get(), comp.c_str(), 0755) < 0 && errno != EEXIST)
            return errno_error("create working directory `{}`", path);
        prefix += "/" + comp;
    }
    return ok();
}

}  // namespace bock::engine

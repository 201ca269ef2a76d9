#include "bock/userns/checks.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/subprocess.hpp"

namespace bock::userns {
namespace {

// The value of a sysctl file, trimmed; nullopt when the file is absent.
std::optional<std::string> read_sysctl(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text) return std::nullopt;
    std::string v = *text;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
}

std::string lower_strerror(int err) {
    std::string s = std::strerror(err);
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
    return s;
}

// 0 when a child can unshare(CLONE_NEWUSER), else its errno. The child only
// makes async-signal-safe calls, so this is safe in a threaded process.
int try_unshare_user() {
    pid_t child = ::fork();
    if (child < 0) return errno;
    if (child == 0) {
        if (::unshare(CLONE_NEWUSER) == 0) ::_exit(0);
        ::_exit(errno & 0x7f);
    }
    Pid pid(child);
    auto status = pid.wait();
    if (!status) return status.error().code();
    if (WIFEXITED(*status)) return WEXITSTATUS(*status);
    return ECHILD;
}

std::string mode_string(mode_t m) {
    std::string s = "----------";
    if (S_ISDIR(m)) s[0] = 'd';
    const char* rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if (m & (1u << (8 - i))) s[1 + i] = rwx[i];
    if (m & S_ISUID) s[3] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID) s[6] = (m & S_IXGRP) ? 's' : 'S';
    return s;
}

}  // namespace

CheckResult check_userns_allowed() {
    CheckResult r;
    std::vector<std::string> found;

    auto clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");
    if (clone) found.push_back("kernel.unprivileged_userns_clone = " + *clone);
    auto max = read_sysctl("/proc/sys/user/max_user_namespaces");
    if (max) found.push_back("user.max_user_namespaces = " + *max);
    auto apparmor = read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    if (apparmor) found.push_back("kernel.apparmor_restrict_unprivileged_userns = " + *apparmor);

    int err = try_unshare_user();
    found.push_back(err == 0 ? "unshare(CLONE_NEWUSER) works"
                             : "unshare(CLONE_NEWUSER) fails: " + lower_strerror(err));
    for (size_t i = 0; i < found.size(); ++i) r.detail += (i ? ", " : "") + found[i];

    if (err == 0) {
        r.ok = true;
        return r;
    }
    if (clone && *clone == "0") {
        r.fix = "sysctl -w kernel.unprivileged_userns_clone=1 (now 0)";
    } else if (max && (*max == "0" || err == ENOSPC)) {
        r.fix = fmt::format("sysctl -w user.max_user_namespaces=15000 (now {})", *max);
    } else if (apparmor && *apparmor == "1") {
        r.fix = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (now 1), or give bock an AppArmor profile "
                "with `userns,`";
    } else if (err == EPERM) {
        r.fix = "user namespaces are blocked for this process (a seccomp filter or an outer container?): "
                "run bock outside it or allow unshare(CLONE_NEWUSER)";
    } else if (err == EUSERS) {
        r.fix = "too many nested user namespaces (the kernel allows 32): run bock from a shallower one";
    } else {
        r.fix = "check that the kernel is built with CONFIG_USER_NS=y";
    }
    return r;
}

CheckResult check_idmap_program(const std::string& name) {
    CheckResult r;
    std::optional<std::string> path;
    if (name.find('/') != std::string::npos)
        path = fs::exists(name) ? std::optional<std::string>(name) : std::nullopt;
    else
        path = find_program(name);
    if (!path && name.find('/') == std::string::npos) path = find_program(name, "/usr/bin:/usr/sbin:/bin:/sbin");
    if (!path) {
        r.detail = fmt::format("{} not found in PATH", name);
        r.fix = "install the uidmap package: apt-get install uidmap";
        return r;
    }
    struct stat st;
    if (::stat(path->c_str(), &st) < 0) {
        r.detail = fmt::format("stat `{}`: {}", *path, lower_strerror(errno));
        r.fix = "install the uidmap package: apt-get install uidmap";
        return r;
    }
    bool file_caps = ::getxattr(path->c_str(), "security.capability", nullptr, 0) > 0;
    r.detail = fmt::format("{}: mode {:04o} ({}), owner uid {}{}", *path, st.st_mode & 07777,
                           mode_string(st.st_mode), st.st_uid, file_caps ? ", file capabilities set" : "");
    std::string fix = fmt::format(
        "check with `ls -l {}`: it must be owned by root with the setuid bit (chmod u+s)", *path);
    if (st.st_uid != 0 || (!(st.st_mode & S_ISUID) && !file_caps)) {
        r.fix = fix;
        return r;
    }
    struct statvfs vfs;
    if (::statvfs(path->c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) {
        r.detail += ", on a nosuid mount";
        r.fix = fmt::format("the filesystem holding {} is mounted nosuid: remount it without nosuid", *path);
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace bock::userns

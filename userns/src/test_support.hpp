// Helpers shared by the userns unit tests (not part of the library): temp
// directories, and running a check in a forked child as another user, with
// the child's findings sent back as "key=value" lines.
#pragma once

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"

namespace bock::userns::testing {

struct TestUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    bool switch_to = false;  // the test runs as root and must drop to this user
};

// As root: the named user (if it exists). Otherwise: whoever runs the tests.
inline std::optional<TestUser> test_user(const char* name_when_root) {
    if (::getuid() != 0) {
        passwd* pw = ::getpwuid(::getuid());
        return TestUser{pw ? pw->pw_name : "", ::getuid(), ::getgid(), false};
    }
    passwd* pw = ::getpwnam(name_when_root);
    if (!pw) return std::nullopt;
    return TestUser{pw->pw_name, pw->pw_uid, pw->pw_gid, true};
}

class Report {
public:
    void add(const std::string& key, const std::string& value) {
        std::string v = value;
        for (auto& c : v)
            if (c == '\n') c = '|';
        text_ += key + "=" + v + "\n";
    }
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

using Findings = std::map<std::string, std::string>;

// Forks; the child switches to `user` if asked, runs `fn` and reports. The
// child never returns into Catch: it ends with _exit.
inline Findings run_child(const TestUser& user, const std::function<void(Report&)>& fn) {
    auto p = sys::pipe();
    if (!p) return {{"error", "pipe: " + p.error().to_string()}};
    pid_t pid = ::fork();
    if (pid < 0) return {{"error", "fork failed"}};
    if (pid == 0) {
        p->first.reset();
        Report r;
        bool dropped = true;
        if (user.switch_to) {
            dropped = ::initgroups(user.name.c_str(), user.gid) == 0 && ::setresgid(user.gid, user.gid, user.gid) == 0 &&
                      ::setresuid(user.uid, user.uid, user.uid) == 0;
        }
        ::alarm(20);  // a hung session must fail the test, not hang it
        if (!dropped)
            r.add("error", "cannot switch to user " + user.name);
        else
            fn(r);
        (void)sys::raw::write_all(p->second.get(), r.text().data(), r.text().size());
        ::_exit(0);
    }
    p->second.reset();
    // Read until the child exits rather than until EOF: a holder that leaked
    // the pipe's write end must make the test fail, not hang.
    std::string out;
    char buf[4096];
    int status = 0;
    bool exited = false;
    for (;;) {
        pollfd pfd{p->first.get(), POLLIN, 0};
        int ready = ::poll(&pfd, 1, exited ? 0 : 50);
        if (ready > 0) {
            ssize_t n = ::read(p->first.get(), buf, sizeof buf);
            if (n > 0) {
                out.append(buf, static_cast<size_t>(n));
                continue;
            }
            if (n == 0) break;
        }
        if (exited) break;
        exited = ::waitpid(pid, &status, WNOHANG) == pid;
    }
    if (!exited) ::waitpid(pid, &status, 0);
    Findings f;
    size_t i = 0;
    while (i < out.size()) {
        size_t nl = out.find('\n', i);
        if (nl == std::string::npos) nl = out.size();
        std::string line = out.substr(i, nl - i);
        auto eq = line.find('=');
        if (eq != std::string::npos) f[line.substr(0, eq)] = line.substr(eq + 1);
        i = nl + 1;
    }
    f["exit_status"] = std::to_string(status);
    return f;
}

class TempDir {
public:
    explicit TempDir(const char* prefix = "bock-userns-test-") {
        auto d = fs::make_temp_dir("/tmp", prefix);
        if (d) path_ = *d;
    }
    ~TempDir() {
        if (!path_.empty()) (void)fs::remove_all(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = fs::join(path_, name);
        (void)fs::write_file(p, content);
        return p;
    }

private:
    std::string path_;
};

}  // namespace bock::userns::testing

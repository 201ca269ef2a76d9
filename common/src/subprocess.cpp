#include "bock/common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "bock/common/fd.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/paths.hpp"

extern char** environ;

namespace bock {
namespace {

struct Argv {
    std::vector<char*> ptrs;
    explicit Argv(const std::vector<std::string>& v) {
        for (const auto& s : v) ptrs.push_back(const_cast<char*>(s.c_str()));
        ptrs.push_back(nullptr);
    }
};

struct FileActions {
    posix_spawn_file_actions_t fa;
    FileActions() { posix_spawn_file_actions_init(&fa); }
    ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

struct Started {
    Pid pid;
    Fd in, out, err;  // parent ends (invalid when not piped)
};

Result<Started> start(const SpawnOptions& o, bool pipe_io) {
    if (o.argv.empty()) return make_error("run program: empty command line");
    std::string path = o.argv[0];
    if (path.find('/') == std::string::npos) {
        auto found = find_program(path);
        if (!found) return Error(ENOENT, fmt::format("run `{}`: not found in PATH", path));
        path = *found;
    }
    FileActions fa;
    Started s;
    Fd child_in, child_out, child_err;
    if (pipe_io && o.stdin_data) {
        auto p = BOCK_TRY(sys::pipe());
        child_in = std::move(p.first);
        s.in = std::move(p.second);
        posix_spawn_file_actions_adddup2(&fa.fa, child_in.get(), 0);
    } else if (pipe_io) {
        posix_spawn_file_actions_addopen(&fa.fa, 0, "/dev/null", O_RDONLY, 0);
    }
    if (pipe_io && o.capture_stdout) {
        auto p = BOCK_TRY(sys::pipe());
        s.out = std::move(p.first);
        child_out = std::move(p.second);
        posix_spawn_file_actions_adddup2(&fa.fa, child_out.get(), 1);
    }
    if (pipe_io && o.capture_stderr) {
        auto p = BOCK_TRY(sys::pipe());
        s.err = std::move(p.first);
        child_err = std::move(p.second);
        posix_spawn_file_actions_adddup2(&fa.fa, child_err.get(), 2);
    }
    Argv argv(o.argv);
    std::optional<Argv> envp;
    if (o.env) envp.emplace(*o.env);
    pid_t pid;
    int r = ::posix_spawn(&pid, path.c_str(), &fa.fa, nullptr, argv.ptrs.data(),
                          envp ? envp->ptrs.data() : environ);
    if (r != 0) return Error(r, fmt::format("run `{}`", path));
    s.pid = Pid(pid);
    return s;
}

}  // namespace

std::optional<std::string> find_program(std::string_view name, const char* path_env) {
    if (!path_env) path_env = std::getenv("PATH");
    std::string path = path_env ? path_env : paths::kDefaultPath;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find(':', i);
        if (j == std::string::npos) j = path.size();
        std::string dir = path.substr(i, j - i);
        if (dir.empty()) dir = ".";
        std::string cand = dir + "/" + std::string(name);
        struct stat st;
        if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0)
            return cand;
        i = j + 1;
    }
    return std::nullopt;
}

Result<SpawnResult> run_program(const SpawnOptions& o) {
    Started s = BOCK_TRY(start(o, true));
    SpawnResult res;
    std::string_view to_write = o.stdin_data ? std::string_view(*o.stdin_data) : std::string_view();
    if (s.in && to_write.empty()) s.in.reset();
    if (s.in) ::fcntl(s.in.get(), F_SETFL, O_NONBLOCK);
    char buf[16384];
    while (s.in || s.out || s.err) {
        pollfd pfd[3];
        int n = 0;
        Fd* owners[3];
        if (s.in) { pfd[n] = {s.in.get(), POLLOUT, 0}; owners[n++] = &s.in; }
        if (s.out) { pfd[n] = {s.out.get(), POLLIN, 0}; owners[n++] = &s.out; }
        if (s.err) { pfd[n] = {s.err.get(), POLLIN, 0}; owners[n++] = &s.err; }
        if (::poll(pfd, static_cast<nfds_t>(n), -1) < 0) {
            if (errno == EINTR) continue;
            return errno_error("poll output of `{}`", o.argv[0]);
        }
        for (int k = 0; k < n; ++k) {
            if (!pfd[k].revents) continue;
            Fd& f = *owners[k];
            if (&f == &s.in) {
                ssize_t w = ::write(f.get(), to_write.data(), to_write.size());
                if (w > 0) to_write.remove_prefix(static_cast<size_t>(w));
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || to_write.empty()) f.reset();
                continue;
            }
            ssize_t r = ::read(f.get(), buf, sizeof buf);
            if (r > 0)
                (&f == &s.out ? res.out : res.err).append(buf, static_cast<size_t>(r));
            else if (r == 0 || (errno != EINTR && errno != EAGAIN))
                f.reset();
        }
    }
    res.status = BOCK_TRY(s.pid.wait());
    res.exit_code = exit_code_from_status(res.status);
    return res;
}

Result<Pid> spawn_program(const SpawnOptions& o) {
    Started s = BOCK_TRY(start(o, false));
    return std::move(s.pid);
}

}  // namespace bock

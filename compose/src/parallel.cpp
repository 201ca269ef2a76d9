#include "parallel.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"

namespace bock::compose {

std::vector<std::string> run_parallel(const std::vector<Job>& jobs) {
    std::vector<std::string> failed;
    if (jobs.size() == 1) {
        if (auto r = jobs[0].run(); !r) {
            log::report(r.error());
            failed.push_back(jobs[0].name);
        }
        return failed;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<std::pair<std::string, Pid>> children;
    for (const auto& j : jobs) {
        pid_t pid = ::fork();
        if (pid < 0) {
            log::error("fork for `{}`: {}", j.name, std::strerror(errno));
            failed.push_back(j.name);
            continue;
        }
        if (pid == 0) {
            auto r = j.run();
            if (!r) log::report(r.error());
            std::fflush(stdout);
            std::fflush(stderr);
            ::_exit(r ? 0 : 1);
        }
        children.emplace_back(j.name, Pid(pid));
    }
    for (auto& [name, pid] : children) {
        auto st = pid.wait();
        if (!st || !WIFEXITED(*st) || WEXITSTATUS(*st) != 0) failed.push_back(name);
    }
    return failed;
}

}  // namespace bock::compose

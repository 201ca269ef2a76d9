// Private to compose/: runs jobs at once, each in a forked child (bockrose
// starts no thread: the engine forks and joins namespaces, which threads
// would make unsafe). A child reports its own error on stderr; the
// result is the names of the jobs that failed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::compose {

struct Job {
    std::string name;
    std::function<Result<void>()> run;
};

// One job runs in this process; several run in children, all waited for.
std::vector<std::string> run_parallel(const std::vector<Job>& jobs);

}  // namespace bock::compose

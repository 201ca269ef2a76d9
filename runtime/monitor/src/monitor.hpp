// bock-monitor: one per detached container (docs/monitor.md). It is the
// container process's parent and a child subreaper; it holds the
// container's stdio (pipes, or a pty master), writes the log, serves the
// attach socket, runs the health-check timer, writes its exit file when
// the container ends and then execs the engine's exit command.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::monitor {

struct Options {
    std::string id;
    std::string dir;           // the container's run directory; the monitor's cwd
    pid_t pid = 0;             // the container process (our child)
    int stdout_fd = -1;        // read ends of the container's stdout/stderr pipes
    int stderr_fd = -1;
    int stdin_fd = -1;         // -i without -t: write end of the container's stdin pipe
    int pty_fd = -1;           // -t: the pty master (stdin and stdout)
    std::string log_driver = "json-file";  // json-file | none | passthrough
    std::string log_path;
    uint64_t log_max_size = 0;  // 0: no rotation
    bool start = false;         // release the container (read its exec fifo) first
    int ready_fd = -1;          // gets "PID\n" once the container is released (or, without --start, listening)
    int64_t healthcheck_interval_ms = 0;
    std::string bock;           // the bock executable, for `bock healthcheck run ID`
    std::vector<std::string> exit_command;  // after `--`
};

Result<Options> parse_args(int argc, char** argv);

// Runs until the container has exited; then execs the exit command (only
// returns, with the status to exit with, when there is none or exec fails).
int run(const Options& opts);

}  // namespace bock::monitor

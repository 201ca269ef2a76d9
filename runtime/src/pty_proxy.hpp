// A terminal for a foreground exec when the caller passed no console
// socket (as runc does): the runtime keeps one end of a socketpair as the
// process's "console socket", receives the pty master on the other end
// (the same SCM_RIGHTS message a --console-socket receiver gets), and then
// copies between its own stdio and the master until the process is gone:
// stdin -> master (only when asked, `exec -i`), master -> stdout. While it
// copies, the caller's terminal is in raw mode (restored on every path),
// and the caller's window size is copied onto the pty at the start and on
// each SIGWINCH (the kernel then signals the pty's foreground process
// group, as with any terminal).
#pragma once

#include <optional>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

// The size of the caller's terminal (stdin, else stdout), if it has one.
std::optional<ConsoleSize> caller_console_size();

class PtyProxy {
public:
    static Result<PtyProxy> make();
    // The end the process sends its master over (goes into the plan).
    Fd take_process_end() { return std::move(process_end_); }
    // Once the process exec'd: the master it sent.
    Result<void> receive_master();
    // Copies until the process exits and its output is drained; returns
    // its wait status. `wake_fd` is readable when a signal arrived (one
    // byte: the signal number).
    Result<int> run(Pid& proc, int wake_fd, bool forward_stdin);

private:
    Fd own_end_, process_end_, master_;
};

}  // namespace bock::runtime

// process.terminal with runc's --console-socket protocol: the runtime
// connects to the caller's unix socket before clone; the container's
// process opens a pty in the container's own devpts, sends the master over
// that socket (SCM_RIGHTS, with the ptmx path as the message, as runc) and
// makes the peer its controlling terminal and stdio. The caller (conmon, a
// test's receiver) owns the master from then on.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "plan.hpp"

namespace bock::runtime {

struct Child;

// Parent, before clone: with `terminal`, connects plan.console_socket to
// `socket_path`; a terminal without a socket, or a socket without a
// terminal, is an error naming the fix.
Result<void> plan_terminal(Plan& plan, bool terminal, const std::string& socket_path);

// Child, once the container's /dev/pts is its own (after pivot_root or
// setns into the mount namespace), before the user switch. Does nothing
// without a console socket. Allocation-free.
void setup_terminal(Child& c);

}  // namespace bock::runtime

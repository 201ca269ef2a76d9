// The contract between the engine and bock-monitor (docs/monitor.md): the
// files of a container's run directory the monitor writes, and the packets
// of its attach socket. Header only: the engine includes it without
// linking the monitor.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bock::monitor {

// In the container's run directory (<runroot>/containers/<id>/).
inline constexpr const char kPidFile[] = "monitor.pid";     // "PID STARTTIME\n", before the container exists
inline constexpr const char kExitFile[] = "exit";           // {"exit_code","signal","time_ns"}, atomic
inline constexpr const char kAttachSocket[] = "attach";     // SOCK_SEQPACKET
inline constexpr const char kExecFifo[] = "exec.fifo";      // present from create until start
inline constexpr const char kConsoleSocket[] = "console.sock";  // -t: the runtime sends the pty master here
inline constexpr const char kLogFile[] = "monitor.log";     // the monitor's own messages
inline constexpr const char kCgroupFile[] = "cgroup.json";  // the container's cgroup, for cleanup

// Attach packets: one byte of kind, then the payload. At most
// kMaxPacket bytes in all.
inline constexpr size_t kMaxPacket = 8193;
enum class Packet : uint8_t {
    // monitor -> client
    stdout_data = 1,
    stderr_data = 2,
    exit = 3,  // payload: the exit code as decimal text; the monitor then closes
    // client -> monitor
    stdin_data = 16,
    resize = 17,     // payload: "ROWS COLS"
    // The client's stdin ended: the stdin pipe is closed; with a terminal
    // its EOF character is written (again whenever the terminal's mode
    // changes while the container runs: docs/monitor.md).
    stdin_close = 18,
};

}  // namespace bock::monitor

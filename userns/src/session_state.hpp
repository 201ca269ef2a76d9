// Private to userns/: the session's state file and how a holder is judged
// alive. holder.pid holds "PID STARTTIME single|range"; STARTTIME (field 22
// of /proc/PID/stat) tells a live holder from a recycled pid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bock::userns {

struct HolderState {
    pid_t pid = -1;
    uint64_t start_time = 0;
    bool single = false;
};

std::string format_holder_state(const HolderState& s);
// nullopt for anything but a well-formed line.
std::optional<HolderState> parse_holder_state(std::string_view text);

struct ProcStat {
    char state = '?';  // R, S, D, Z, ...
    uint64_t start_time = 0;
};
// Parses the text of /proc/PID/stat (the command name may hold spaces and ')').
std::optional<ProcStat> parse_proc_stat(std::string_view text);
std::optional<ProcStat> read_proc_stat(pid_t pid);

// Same process (start time), not a zombie, and owned by our real uid.
bool holder_alive(const HolderState& s);

}  // namespace bock::userns

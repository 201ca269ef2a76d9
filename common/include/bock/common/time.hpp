// Times as Bock prints and records them: RFC 3339 in UTC, and podman's
// "N minutes ago" phrases.
#pragma once

#include <cstdint>
#include <string>

namespace bock::time {

// Seconds since the epoch, now.
int64_t now();
// Nanoseconds since the epoch, now (CLOCK_REALTIME).
int64_t now_ns();
// 1970-01-01T00:00:00Z (seconds precision, UTC); "" for t <= 0.
std::string rfc3339(int64_t t);
// 1970-01-01T00:00:00.000000000Z (nanoseconds since the epoch, UTC), as
// the OCI state and the JSON log lines carry times.
std::string rfc3339_ns(int64_t ns);
// "Less than a second ago" ... "3 years ago", as podman words it; "N/A" for t <= 0.
std::string ago(int64_t t);
// "3 seconds", "2 minutes", "5 hours", "4 days" (for "Up ..." / "Exited ... ago").
std::string duration(int64_t seconds);

}  // namespace bock::time

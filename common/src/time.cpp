#include "bock/common/time.hpp"

#include <ctime>

#include <fmt/format.h>

namespace bock::time {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t now_ns() {
    struct timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string rfc3339(int64_t t) {
    if (t <= 0) return "";
    std::time_t tt = static_cast<std::time_t>(t);
    struct tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string rfc3339_ns(int64_t ns) {
    std::time_t tt = static_cast<std::time_t>(ns / 1000000000);
    struct tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:09d}Z", buf, ns % 1000000000);
}

std::string duration(int64_t d) {
    if (d < 1) return "Less than a second";
    auto plural = [](int64_t n, const char* unit) { return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s"); };
    if (d < 60) return plural(d, "second");
    if (d < 3600) return plural(d / 60, "minute");
    if (d < 86400) return plural(d / 3600, "hour");
    if (d < 86400 * 365) return plural(d / 86400, "day");
    return plural(d / (86400 * 365), "year");
}

std::string ago(int64_t t) {
    if (t <= 0) return "N/A";
    return duration(now() - t) + " ago";
}

}  // namespace bock::time

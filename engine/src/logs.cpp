// `bock logs`: the monitor's JSON-lines log (ctr.log.1 then ctr.log), with
// --since/--until/--tail/-t, and -f following the file (across a
// rotation) until the container is no longer running.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <deque>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/lifecycle.hpp"
#include "container_dirs.hpp"
#include "monitor_launch.hpp"

namespace bock::engine {
namespace {

struct Line {
    int64_t time_ns = 0;
    std::string time;
    int stream = 1;
    std::string log;
};

// "2026-12-06T21:30:00.123456789Z" -> ns; -1 when it is not that.
int64_t parse_rfc3339_ns(const std::string& s) {
    struct tm tm = {};
    const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return -1;
    int64_t ns = 0;
    if (*rest == '.') {
        int64_t scale = 100000000;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10) ns += (*rest - '0') * scale;
    }
    if (*rest != 'Z' && *rest != '\0') return -1;
    return static_cast<int64_t>(::timegm(&tm)) * 1000000000 + ns;
}

std::optional<Line> parse_line(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    Line l;
    l.time = j.value("time", "");
    l.time_ns = parse_rfc3339_ns(l.time);
    l.stream = j.value("stream", "stdout") == "stderr" ? 2 : 1;
    l.log = j.value("log", "");
    return l;
}

bool wanted(const Line& l, const LogsOptions& o) {
    if (o.since_ns && l.time_ns < *o.since_ns) return false;
    if (o.until_ns && l.time_ns > *o.until_ns) return false;
    return true;
}

void print(const Line& l, const LogsOptions& o) {
    std::string out = o.timestamps ? l.time + " " + l.log : l.log;
    (void)sys::raw::write_all(l.stream, out.data(), out.size());
}

// Complete lines of `fd` from its current offset; a partial last line is
// kept in `partial` for the next read.
void read_lines(int fd, std::string& partial, std::vector<Line>& out) {
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        partial.append(buf, static_cast<size_t>(n));
    }
    size_t start = 0;
    for (;;) {
        size_t nl = partial.find('\n', start);
        if (nl == std::string::npos) break;
        if (auto l = parse_line(std::string_view(partial).substr(start, nl - start))) out.push_back(std::move(*l));
        start = nl + 1;
    }
    partial.erase(0, start);
}

bool running(Context& ctx, const std::string& id) {
    auto c = find_container(ctx, id);
    return c && (c->status == "running" || c->status == "created");
}

}  // namespace

Result<int64_t> parse_log_time(const std::string& text) {
    if (text.empty()) return make_error("an empty time");
    int64_t ns = parse_rfc3339_ns(text);
    if (ns >= 0) return ns;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (end && end != text.c_str()) {
        std::string unit(end);
        double mult = unit == "" ? -1 : unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
        if (mult < 0) return static_cast<int64_t>(v * 1e9);  // unix seconds
        if (mult > 0) return time::now_ns() - static_cast<int64_t>(v * mult * 1e9);  // a duration ago
    }
    return make_error("time `{}`: not RFC 3339, unix seconds or a duration", text)
        .with_hint("e.g. 2026-12-06T21:00:00Z, 1733518800, 10m");
}

Result<void> print_logs(Context& ctx, const std::string& key, const LogsOptions& opts) {
    auto c = BOCK_TRY(find_container(ctx, key));
    if (c.rec.detached && c.rec.log_driver != "json-file")
        return make_error("container {} logs with the {} driver: there is nothing to read", c.rec.id.substr(0, 12),
                          c.rec.log_driver);
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    std::string path = log_path(dirs);

    std::vector<Line> lines;
    std::string partial;
    if (auto old = sys::open(path + ".1", O_RDONLY)) {
        read_lines(old->get(), partial, lines);
        partial.clear();
    }
    Fd cur;
    if (auto f = sys::open(path, O_RDONLY)) cur = std::move(*f);
    if (cur) read_lines(cur.get(), partial, lines);
    std::erase_if(lines, [&](const Line& l) { return !wanted(l, opts); });
    size_t first = opts.tail && *opts.tail < lines.size() ? lines.size() - *opts.tail : 0;
    for (size_t i = first; i < lines.size(); i++) print(lines[i], opts);
    if (!opts.follow) return ok();

    struct stat st = {};
    if (cur) ::fstat(cur.get(), &st);
    for (;;) {
        bool was_running = running(ctx, c.rec.id);
        std::vector<Line> more;
        if (cur) read_lines(cur.get(), partial, more);
        // Rotated: the rest of the old file was read above; go on with the new one.
        struct stat now = {};
        if (::stat(path.c_str(), &now) == 0 && (!cur || now.st_ino != st.st_ino)) {
            if (auto f = sys::open(path, O_RDONLY)) {
                cur = std::move(*f);
                st = now;
                partial.clear();
                read_lines(cur.get(), partial, more);
            }
        }
        for (const auto& l : more)
            if (wanted(l, opts)) print(l, opts);
        if (opts.until_ns && time::now_ns() > *opts.until_ns) return ok();
        if (!was_running && more.empty()) return ok();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace bock::engine

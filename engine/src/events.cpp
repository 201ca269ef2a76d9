// The event log (events.hpp).
#include "bock/engine/events.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"

namespace bock::engine {
namespace {

std::string log_path(const Context& ctx) { return fs::join(ctx.store_root, "events.jsonl"); }

bool matches(const Event& e, const std::string& key, const std::string& value) {
    if (key == "type") return e.type == value;
    if (key == "event" || key == "action") return e.action == value;
    auto named = [&](const char* t) {
        if (e.type != t) return false;
        auto n = e.attrs.find("name");
        return (n != e.attrs.end() && n->second == value) || (!value.empty() && e.id.starts_with(value));
    };
    if (key == "container") return named("container");
    if (key == "image") {
        auto img = e.attrs.find("image");
        return named("image") || (img != e.attrs.end() && img->second == value);
    }
    return false;
}

}  // namespace

void record_event(const Context& ctx, const std::string& type, const std::string& action, const std::string& id,
                  const EventAttrs& attrs) {
    nlohmann::json j{{"time", time::now_ns()}, {"type", type}, {"action", action}, {"id", id}, {"attributes", attrs}};
    std::string line = j.dump() + "\n";
    auto fd = sys::open(log_path(ctx), O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (!fd) {
        log::warn("event {} {} not recorded: {}", type, action, fd.error().to_string());
        return;
    }
    if (int r = sys::raw::write_all(fd->get(), line.data(), line.size()); r < 0)
        log::warn("event {} {} not recorded: {}", type, action, std::strerror(-r));
}

namespace {

// One line of the log, if it is an event the query wants.
std::optional<Event> parse_line(std::string_view line, const EventQuery& q) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    Event e;
    e.time_ns = j.value("time", int64_t{0});
    e.type = j.value("type", "");
    e.action = j.value("action", "");
    e.id = j.value("id", "");
    if (auto a = j.find("attributes"); a != j.end() && a->is_object())
        for (auto it = a->begin(); it != a->end(); ++it)
            if (it->is_string()) e.attrs[it.key()] = it->get<std::string>();
    int64_t secs = e.time_ns / 1000000000;
    if ((q.since && secs < *q.since) || (q.until && secs > *q.until)) return std::nullopt;
    // Filters with the same key: any of them; different keys: all.
    std::map<std::string, bool> by_key;
    for (const auto& [k, v] : q.filters) by_key[k] = by_key[k] || matches(e, k, v);
    if (!std::all_of(by_key.begin(), by_key.end(), [](const auto& kv) { return kv.second; })) return std::nullopt;
    return e;
}

// The complete lines of `text` from `pos`; `pos` ends after the last one
// (a line still being written is read next time).
template <class F>
void each_line(const std::string& text, size_t& pos, F&& fn) {
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;
        std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        fn(line);
    }
}

}  // namespace

Result<std::vector<Event>> read_events(const Context& ctx, const EventQuery& q) {
    std::vector<Event> out;
    if (!fs::exists(log_path(ctx))) return out;
    auto text = BOCK_TRY_CTX(fs::read_file(log_path(ctx)), "read the event log");
    size_t pos = 0;
    each_line(text, pos, [&](std::string_view line) {
        if (auto e = parse_line(line, q)) out.push_back(std::move(*e));
    });
    return out;
}

Result<void> follow_events(const Context& ctx, const EventQuery& q, const std::function<bool(const Event&)>& emit) {
    // The watch first, so an event appended while the log is read is not missed.
    Fd watch = BOCK_TRY_CTX(sys::inotify_watch(ctx.store_root, IN_CREATE | IN_MODIFY | IN_MOVED_TO),
                            "follow the event log");
    uint64_t offset = 0;
    std::string pending;
    for (;;) {
        // What was appended since the last read.
        if (auto fd = sys::open(log_path(ctx), O_RDONLY)) {
            struct stat st{};
            if (::fstat(fd->get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < offset) {
                offset = 0;  // replaced by a shorter log
                pending.clear();
            }
            char buf[65536];
            for (;;) {
                ssize_t n = ::pread(fd->get(), buf, sizeof buf, static_cast<off_t>(offset));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                pending.append(buf, static_cast<size_t>(n));
                offset += static_cast<uint64_t>(n);
            }
            size_t pos = 0;
            bool more = true;
            each_line(pending, pos, [&](std::string_view line) {
                if (!more) return;
                if (auto e = parse_line(line, q)) more = emit(*e);
            });
            pending.erase(0, pos);
            if (!more) return ok();
        }
        if (q.until && time::now() > *q.until) return ok();
        int timeout_ms = 1000;
        if (q.until) timeout_ms = static_cast<int>(std::clamp<int64_t>((*q.until + 1 - time::now()) * 1000, 0, 1000));
        struct pollfd p{watch.get(), POLLIN, 0};
        int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno != EINTR) return errno_error("wait for new events");
        if (r > 0) {
            alignas(struct inotify_event) char ev[4096];
            while (::read(watch.get(), ev, sizeof ev) > 0) {
            }
        }
    }
}

}  // namespace bock::engine

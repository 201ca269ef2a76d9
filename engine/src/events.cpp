// The event log (events.hpp).
#include "bock/engine/events.hpp"

#include <fcntl.h>
#include <unistd.h>

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

Result<std::vector<Event>> read_events(const Context& ctx, const EventQuery& q) {
    std::vector<Event> out;
    if (!fs::exists(log_path(ctx))) return out;
    auto text = BOCK_TRY_CTX(fs::read_file(log_path(ctx)), "read the event log");
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // a line still being written
        auto j = nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false);
        pos = nl + 1;
        if (!j.is_object()) continue;
        Event e;
        e.time_ns = j.value("time", int64_t{0});
        e.type = j.value("type", "");
        e.action = j.value("action", "");
        e.id = j.value("id", "");
        if (auto a = j.find("attributes"); a != j.end() && a->is_object())
            for (auto it = a->begin(); it != a->end(); ++it)
                if (it->is_string()) e.attrs[it.key()] = it->get<std::string>();
        int64_t secs = e.time_ns / 1000000000;
        if ((q.since && secs < *q.since) || (q.until && secs > *q.until)) continue;
        // Filters with the same key: any of them; different keys: all.
        std::map<std::string, bool> by_key;
        for (const auto& [k, v] : q.filters) by_key[k] = by_key[k] || matches(e, k, v);
        if (std::all_of(by_key.begin(), by_key.end(), [](const auto& kv) { return kv.second; })) out.push_back(e);
    }
    return out;
}

}  // namespace bock::engine

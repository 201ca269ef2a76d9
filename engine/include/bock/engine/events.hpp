// The engine's event log (issue 18): one JSON object a line, appended at
// each step of a container's or an image's life, read by `bock events`.
//   <store>/events.jsonl
//   {"time": NS, "type": "container", "action": "start", "id": ID, "attributes": {...}}
// An append is one write(2) of the whole line with O_APPEND, so lines from
// concurrent commands never interleave; a failure to record is a warning,
// never the command's failure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

using EventAttrs = std::map<std::string, std::string>;

void record_event(const Context& ctx, const std::string& type, const std::string& action, const std::string& id,
                  const EventAttrs& attrs);

struct Event {
    int64_t time_ns = 0;
    std::string type, action, id;
    EventAttrs attrs;
};

struct EventQuery {
    std::optional<int64_t> since, until;  // unix seconds
    // type=, event= (action), container=, image= (id, id prefix or name); one key may repeat (any of).
    std::vector<std::pair<std::string, std::string>> filters;
};
Result<std::vector<Event>> read_events(const Context& ctx, const EventQuery& q);

// `bock events --follow`: `emit` gets every matching event already in the
// log, then each new one as it is appended (inotify on the store
// directory, so a log that does not exist yet is picked up when the first
// event makes it), until q.until has passed or `emit` returns false.
Result<void> follow_events(const Context& ctx, const EventQuery& q, const std::function<bool(const Event&)>& emit);

}  // namespace bock::engine

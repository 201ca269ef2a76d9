#include "bock/common/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"

namespace bock::log {
namespace {

Level g_level = Level::warn;
Format g_format = Format::text;
int g_fd = 2;
std::string g_program = "bock";

const char* level_name(Level l) {
    switch (l) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warning";
        case Level::error: return "error";
        case Level::off: return "off";
    }
    return "?";
}

std::string rfc3339_now() { return time::rfc3339_ns(time::now_ns()); }

void emit(std::string_view line) { (void)sys::raw::write_all(g_fd, line.data(), line.size()); }

}  // namespace

Result<Level> parse_level(std::string_view s) {
    if (s == "debug") return Level::debug;
    if (s == "info") return Level::info;
    if (s == "warn" || s == "warning") return Level::warn;
    if (s == "error") return Level::error;
    if (s == "off" || s == "quiet") return Level::off;
    return make_error("unknown log level `{}` (use debug, info, warn or error)", s);
}

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
bool enabled(Level l) { return l >= g_level && l != Level::off; }
void set_program(std::string_view name) { g_program = std::string(name); }
void set_sink(int fd, Format format) {
    g_fd = fd;
    g_format = format;
}

void init_from_env() {
    const char* v = std::getenv("BOCK_LOG");
    if (!v || !*v) return;
    auto l = parse_level(v);
    if (l)
        g_level = *l;
    else
        write(Level::warn, "BOCK_LOG: " + l.error().message());
}

void write(Level l, std::string_view msg) {
    if (g_format == Format::json) {
        nlohmann::json j = {{"level", l == Level::warn ? "warning" : level_name(l)},
                            {"msg", std::string(msg)},
                            {"time", rfc3339_now()}};
        emit(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
        return;
    }
    emit(fmt::format("{}: {}: {}\n", g_program, level_name(l), msg));
}

void notice(std::string_view msg) {
    if (g_level == Level::off) return;
    if (g_format == Format::json) {
        write(Level::info, msg);
        return;
    }
    emit(fmt::format("{}: {}\n", g_program, msg));
}

void report(const Error& e) {
    write(Level::error, e.to_string());
    if (!e.hint().empty()) {
        if (g_format == Format::json)
            write(Level::error, "hint: " + e.hint());
        else
            emit(fmt::format("{}: hint: {}\n", g_program, e.hint()));
    }
}

}  // namespace bock::log

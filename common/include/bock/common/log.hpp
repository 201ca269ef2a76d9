// Logging to stderr (text: "bock: warning: ...") or to a file as runc-style
// JSON lines ({"level":"error","msg":...,"time":...}). The level comes from
// BOCK_LOG=debug|info|warn|error, overridden by --log-level.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "bock/common/error.hpp"

namespace bock::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
enum class Format { text, json };

Result<Level> parse_level(std::string_view s);
void set_level(Level l);
Level level();
bool enabled(Level l);
// Program name shown in text lines ("bock", "bock-oci").
void set_program(std::string_view name);
// Reads BOCK_LOG; a bad value is reported once as a warning.
void init_from_env();
// Where lines go: an fd (default 2) and its format. The fd is not owned.
void set_sink(int fd, Format format);

void write(Level l, std::string_view msg);

template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
    if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
    if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
    if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
    if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<A>(a)...));
}

// A notice is always shown (it is what the user asked to know, e.g. which
// image a short name resolved to), without a level prefix.
void notice(std::string_view msg);

// Prints an Error as one line ("bock: error: ...") plus its hint line, if any.
void report(const Error& e);

}  // namespace bock::log

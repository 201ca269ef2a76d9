#include "bock/userns/subid.hpp"

#include <cerrno>
#include <optional>
#include <cstdint>

#include "bock/common/fs.hpp"
#include "subid_internal.hpp"

namespace bock::userns {
namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\v\f";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

// Decimal digits only: no sign, no spaces, no hex; nullopt on overflow.
std::optional<uint64_t> parse_decimal(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

constexpr uint64_t kIdSpace = uint64_t{1} << 32;

Error malformed(std::string_view filename, size_t line_no, std::string_view line, std::string_view reason) {
    return Error(EINVAL, fmt::format("{}:{}: malformed entry `{}`: {}", filename, line_no, line, reason));
}

bool owner_matches(std::string_view owner, std::string_view user, uid_t uid) {
    if (!user.empty() && owner == user) return true;
    auto n = parse_decimal(owner);
    return n && *n == uid;
}

}  // namespace

Result<std::vector<SubidEntry>> parse_subid_entries(std::string_view text, std::string_view filename) {
    std::vector<SubidEntry> out;
    size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;

        std::string_view fields[3];
        size_t n = 0;
        std::string_view rest = line;
        for (;;) {
            auto colon = rest.find(':');
            if (n < 3) fields[n] = rest.substr(0, colon);
            ++n;
            if (colon == std::string_view::npos) break;
            rest = rest.substr(colon + 1);
        }
        if (n != 3) return malformed(filename, line_no, line, fmt::format("expected 3 fields `owner:start:count`, found {}", n));
        if (fields[0].empty()) return malformed(filename, line_no, line, "empty owner");
        auto start = parse_decimal(fields[1]);
        if (!start) return malformed(filename, line_no, line, fmt::format("start `{}` is not a decimal number", fields[1]));
        auto count = parse_decimal(fields[2]);
        if (!count) return malformed(filename, line_no, line, fmt::format("count `{}` is not a decimal number", fields[2]));
        if (*count == 0) return malformed(filename, line_no, line, "count is 0");
        if (*start >= kIdSpace) return malformed(filename, line_no, line, fmt::format("start `{}` exceeds 2^32 - 1", *start));
        if (*count >= kIdSpace) return malformed(filename, line_no, line, fmt::format("count `{}` exceeds 2^32 - 1", *count));
        if (*start + *count > kIdSpace) return malformed(filename, line_no, line, "start + count exceeds 2^32");
        out.push_back({std::string(fields[0]), {static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)}});
    }
    return out;
}

Result<std::vector<SubidEntry>> read_subid_entries(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) return std::vector<SubidEntry>{};
        return std::move(text).error();
    }
    return parse_subid_entries(*text, path);
}

Result<std::vector<IdRange>> parse_subids(std::string_view text, std::string_view filename,
                                          std::string_view user, uid_t uid) {
    auto entries = BOCK_TRY(parse_subid_entries(text, filename));
    std::vector<IdRange> out;
    for (const auto& e : entries)
        if (owner_matches(e.owner, user, uid)) out.push_back(e.range);
    return out;
}

Result<std::vector<IdRange>> read_subids(const std::string& path, std::string_view user, uid_t uid) {
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) return std::vector<IdRange>{};
        return std::move(text).error();
    }
    return parse_subids(*text, path, user, uid);
}

}  // namespace bock::userns

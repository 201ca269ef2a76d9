#include "ignore.hpp"

#include <fnmatch.h>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"

namespace bock::builder {

namespace {

bool match_elems(const std::vector<std::string>& p, size_t pi, const std::vector<std::string>& s, size_t si) {
    if (pi == p.size()) return si == s.size();
    if (p[pi] == "**") {
        for (size_t k = si; k <= s.size(); ++k)
            if (match_elems(p, pi + 1, s, k)) return true;
        return false;
    }
    if (si == s.size()) return false;
    if (::fnmatch(p[pi].c_str(), s[si].c_str(), 0) != 0) return false;
    return match_elems(p, pi + 1, s, si + 1);
}

// A pattern as Go's filepath.Clean leaves it, relative: no leading /, no ./, no trailing /.
std::string clean(std::string_view p) {
    std::vector<std::string> out;
    for (auto& e : strings::split(p, '/')) {
        if (e == ".") continue;
        if (e == ".." ) {
            if (!out.empty()) out.pop_back();
            continue;
        }
        out.push_back(e);
    }
    std::string s;
    for (auto& e : out) s += (s.empty() ? "" : "/") + e;
    return s;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
    return match_elems(strings::split(pattern, '/'), 0, strings::split(path, '/'), 0);
}

Result<IgnoreRules> IgnoreRules::load(const std::string& context) {
    for (const char* name : {".containerignore", ".dockerignore"}) {
        auto p = fs::join(context, name);
        if (!fs::exists(p)) continue;
        auto text = BOCK_TRY_CTX(fs::read_file(p), "read the ignore file");
        return parse(text);
    }
    return IgnoreRules{};
}

IgnoreRules IgnoreRules::parse(std::string_view text) {
    IgnoreRules r;
    for (auto& raw : strings::split(text, '\n')) {
        std::string_view l = raw;
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
        while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
        if (l.empty() || l.front() == '#') continue;
        Rule rule;
        if (l.front() == '!') {
            rule.negate = true;
            r.exceptions_ = true;
            l.remove_prefix(1);
        }
        rule.pattern = clean(l);
        if (rule.pattern.empty()) continue;
        r.rules_.push_back(std::move(rule));
    }
    return r;
}

bool IgnoreRules::excluded(std::string_view rel) const {
    bool out = false;
    auto elems = strings::split(rel, '/');
    for (const auto& rule : rules_) {
        auto pe = strings::split(rule.pattern, '/');
        bool m = false;
        // The path itself or a directory above it.
        for (size_t n = elems.size(); n >= 1 && !m; --n) {
            std::vector<std::string> prefix(elems.begin(), elems.begin() + static_cast<long>(n));
            m = match_elems(pe, 0, prefix, 0);
        }
        if (m) out = !rule.negate;
    }
    return out;
}

}  // namespace bock::builder

// .containerignore / .dockerignore (ignore.cpp): patterns relative to the
// context root, `*`, `?`, `[...]` within one path element and `**` across
// elements, `!` re-including; the last pattern that matches a path (or a
// directory above it) decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::builder {

// Whether `pattern` (elements split by /) matches all of `path`.
bool glob_match(std::string_view pattern, std::string_view path);

class IgnoreRules {
public:
    // Reads <context>/.containerignore, else <context>/.dockerignore (none: nothing ignored).
    static Result<IgnoreRules> load(const std::string& context);
    static IgnoreRules parse(std::string_view text);

    // `rel`: a path relative to the context root, without a leading /.
    bool excluded(std::string_view rel) const;
    // Whether some `!` pattern could re-include something below an excluded directory.
    bool has_exceptions() const { return exceptions_; }
    bool empty() const { return rules_.empty(); }

private:
    struct Rule {
        std::string pattern;
        bool negate = false;
    };
    std::vector<Rule> rules_;
    bool exceptions_ = false;
};

}  // namespace bock::builder

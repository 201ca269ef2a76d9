// Variable substitution and word splitting as the Dockerfile reference
// defines them for ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
// VOLUME, WORKDIR and ONBUILD: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word},
// ${VAR:+word}, ${VAR+word}, ${VAR:?message}; single quotes keep text as
// it is, double quotes keep spaces, the escape character (\ or `) quotes
// the next character. Quotes are removed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::builder {

using Vars = std::map<std::string, std::string>;

// The whole text as one word (spaces kept).
Result<std::string> expand_word(std::string_view s, const Vars& vars, char escape = '\\');
// The text split at unquoted white space, each word expanded.
Result<std::vector<std::string>> expand_words(std::string_view s, const Vars& vars, char escape = '\\');
// KEY=VALUE pairs of ENV, LABEL and ARG (the legacy `ENV KEY VALUE` form
// too when `legacy`); a value is nullopt for ARG NAME without a default.
struct KeyValue {
    std::string key;
    std::optional<std::string> value;
};
Result<std::vector<KeyValue>> expand_pairs(std::string_view s, const Vars& vars, char escape, bool legacy);

}  // namespace bock::builder

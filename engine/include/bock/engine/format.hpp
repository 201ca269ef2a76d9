// --format for `bock ps` and `bock inspect`: a small subset of Go's
// text/template that Docker and podman users write, evaluated against the
// JSON document a command would print:
//   {{.A.B}}            a field (path); strings as is, numbers, true/false,
//                       lists as [a b], objects as map[k:v]; a missing
//                       field prints <no value>
//   {{json .A}}         the value as JSON ({{json .}}: the whole document)
//   {{upper .A}} {{lower .A}} {{len .A}} {{join .A ","}}
//   {{.A | json}}       the same functions as a pipeline
//   "table ..."         a header row, then columns aligned on \t
// `\t` and `\n` typed literally are read as tab and newline. Anything else
// ({{if}}, {{range}}, variables) is an error naming it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"

namespace bock::engine {

class Template {
public:
    // `headers` names columns for "table" formats: field path -> header
    // ("ID" -> "CONTAINER ID"); others get their last component upper-cased.
    static Result<Template> parse(std::string_view text, const std::map<std::string, std::string>& headers = {});
    bool is_table() const { return table_; }
    // One document through the template (no newline added).
    Result<std::string> render(const nlohmann::json& doc) const;
    // Every document, one per line; a table gets its header and aligned columns.
    Result<std::string> render_all(const std::vector<nlohmann::json>& docs) const;

    struct Node {
        std::string text;              // literal (when fn and path are empty and !is_action)
        bool is_action = false;
        std::vector<std::string> path; // the field; empty: the document itself
        std::vector<std::string> fns;  // applied in order (json, upper, lower, len, join)
        std::string arg;               // join's separator
    };

private:
    std::vector<Node> nodes_;
    bool table_ = false;
    std::string header_;
};

}  // namespace bock::engine

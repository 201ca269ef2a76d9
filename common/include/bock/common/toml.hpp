// A small strict TOML reader for Bock's configuration files: the subset
// they use — comments, [table] and [dotted.table] headers, bare or quoted
// keys, basic ("...") and literal ('...') strings, integers, booleans and
// arrays of those (over several lines, trailing comma allowed). Anything
// else TOML has (floats, dates, inline tables, multi-line strings, dotted
// keys) is an error saying it is not supported, never a silent misread.
// Errors are "FILE:LINE: what".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::toml {

struct Value {
    enum class Kind { string, integer, boolean, array };
    Kind kind = Kind::string;
    std::string str;
    int64_t integer = 0;
    bool boolean = false;
    std::vector<Value> items;
    std::string_view kind_name() const;
};

struct Entry {
    std::string table;  // "" for the top level, "a.b" for [a.b]
    std::string key;
    Value value;
    int line = 0;
};

// The entries in file order. A key given twice in one table, or a table
// header given twice, is an error (TOML's rule).
Result<std::vector<Entry>> parse(std::string_view text, std::string_view file);

}  // namespace bock::toml

#include "bock/common/toml.hpp"

#include <cctype>
#include <set>

#include <fmt/format.h>

namespace bock::toml {

std::string_view Value::kind_name() const {
    switch (kind) {
        case Kind::string: return "a string";
        case Kind::integer: return "an integer";
        case Kind::boolean: return "a boolean";
        case Kind::array: return "an array";
    }
    return "a value";
}

namespace {

class Parser {
public:
    Parser(std::string_view text, std::string_view file) : s_(text), file_(file) {}

    Result<std::vector<Entry>> run() {
        std::vector<Entry> out;
        std::set<std::string> tables{""}, keys;
        std::string table;
        while (true) {
            skip_blank_lines();
            if (at_end()) break;
            int line = line_;
            if (peek() == '[') {
                ++pos_;
                if (peek() == '[') return err("arrays of tables ([[...]]) are not supported");
                std::string name;
                while (true) {
                    skip_ws();
                    auto part = BOCK_TRY(key_part());
                    name += (name.empty() ? "" : ".") + part;
                    skip_ws();
                    if (peek() == '.') { ++pos_; continue; }
                    break;
                }
                if (peek() != ']') return err("expected `]` after the table name");
                ++pos_;
                BOCK_TRY(end_of_line());
                if (!tables.insert(name).second) return err_at(line, fmt::format("table [{}] is defined twice", name));
                table = name;
                continue;
            }
            auto key = BOCK_TRY(key_part());
            skip_ws();
            if (peek() == '.') return err("dotted keys are not supported: use a [table] header");
            if (peek() != '=') return err(fmt::format("expected `=` after the key `{}`", key));
            ++pos_;
            skip_ws();
            Entry e;
            e.table = table;
            e.key = key;
            e.line = line;
            e.value = BOCK_TRY(value());
            BOCK_TRY(end_of_line());
            if (!keys.insert(table + "\n" + key).second)
                return err_at(line, fmt::format("key `{}` is defined twice", table.empty() ? key : table + "." + key));
            out.push_back(std::move(e));
        }
        return out;
    }

private:
    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    Error err(std::string what) const { return err_at(line_, std::move(what)); }
    Error err_at(int line, std::string what) const { return make_error("{}:{}: {}", file_, line, what); }

    void skip_ws() {
        while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
    }
    void skip_comment() {
        if (peek() == '#')
            while (!at_end() && peek() != '\n') ++pos_;
    }
    // Blank lines, comments and newlines (also inside arrays).
    void skip_blank_lines() {
        while (!at_end()) {
            skip_ws();
            skip_comment();
            if (peek() == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') ++pos_;
            if (peek() == '\n') {
                ++pos_;
                ++line_;
                continue;
            }
            break;
        }
    }
    Result<void> end_of_line() {
        skip_ws();
        skip_comment();
        if (peek() == '\r') ++pos_;
        if (at_end()) return ok();
        if (peek() != '\n') return err(fmt::format("unexpected `{}` after the value", peek()));
        ++pos_;
        ++line_;
        return ok();
    }

    Result<std::string> key_part() {
        if (peek() == '"') return basic_string();
        if (peek() == '\'') return literal_string();
        size_t start = pos_;
        while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_' || peek() == '-')) ++pos_;
        if (pos_ == start) return err(at_end() || peek() == '\n' ? "expected a key" : fmt::format("unexpected `{}`: expected a key", peek()));
        return std::string(s_.substr(start, pos_ - start));
    }

    Result<std::string> basic_string() {
        if (s_.substr(pos_, 3) == "\"\"\"") return err("multi-line strings are not supported");
        ++pos_;
        std::string out;
        while (true) {
            if (at_end() || peek() == '\n') return err("unterminated string");
            char c = s_[pos_++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_end()) return err("unterminated string");
            char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                default: return err(fmt::format("unknown escape `\\{}` in a string", e));
            }
        }
    }

    Result<std::string> literal_string() {
        if (s_.substr(pos_, 3) == "'''") return err("multi-line strings are not supported");
        ++pos_;
        size_t start = pos_;
        while (!at_end() && peek() != '\'' && peek() != '\n') ++pos_;
        if (peek() != '\'') return err("unterminated string");
        std::string out(s_.substr(start, pos_ - start));
        ++pos_;
        return out;
    }

    Result<Value> value() {
        Value v;
        char c = peek();
        if (c == '"' || c == '\'') {
            v.kind = Value::Kind::string;
            v.str = BOCK_TRY(c == '"' ? basic_string() : literal_string());
            return v;
        }
        if (c == '[') {
            ++pos_;
            v.kind = Value::Kind::array;
            while (true) {
                skip_blank_lines();
                if (at_end()) return err("unterminated array");
                if (peek() == ']') {
                    ++pos_;
                    return v;
                }
                v.items.push_back(BOCK_TRY(value()));
                skip_blank_lines();
                if (at_end()) return err("unterminated array");
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() != ']') return err("expected `,` or `]` in an array");
            }
        }
        if (c == '{') return err("inline tables are not supported: use a [table] header");
        size_t start = pos_;
        while (!at_end() && !std::isspace(static_cast<unsigned char>(peek())) && peek() != ',' && peek() != ']' &&
               peek() != '#')
            ++pos_;
        std::string_view word = s_.substr(start, pos_ - start);
        if (word == "true" || word == "false") {
            v.kind = Value::Kind::boolean;
            v.boolean = word == "true";
            return v;
        }
        std::string digits;
        bool ok_int = !word.empty();
        for (size_t i = 0; i < word.size(); ++i) {
            char d = word[i];
            if (std::isdigit(static_cast<unsigned char>(d))) digits += d;
            else if ((d == '+' || d == '-') && i == 0) digits += d;
            else if (d == '_' && i > 0 && i + 1 < word.size()) continue;
            else ok_int = false;
        }
        if (ok_int && digits.size() > (digits[0] == '-' || digits[0] == '+' ? 1u : 0u) && digits.size() <= 19) {
            v.kind = Value::Kind::integer;
            v.integer = std::stoll(digits);
            return v;
        }
        if (word.empty()) return err("expected a value");
        return err(fmt::format("`{}` is not a value this reader knows (strings are quoted; floats and dates are not "
                               "supported)",
                               word));
    }

    std::string_view s_;
    std::string_view file_;
    size_t pos_ = 0;
    int line_ = 1;
};

}  // namespace

Result<std::vector<Entry>> parse(std::string_view text, std::string_view file) { return Parser(text, file).run(); }

}  // namespace bock::toml

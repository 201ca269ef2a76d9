// The Dockerfile word lexer (see expand.hpp): one pass over the text with
// the quote state, expanding variables where the quotes allow it.
#include "bock/builder/expand.hpp"

#include <cctype>
#include <optional>

namespace bock::builder {

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
public:
    Lexer(std::string_view s, const Vars& vars, char escape) : s_(s), vars_(vars), esc_(escape) {}

    // Reads words; `split`: stop a word at unquoted white space.
    Result<std::vector<std::string>> words(bool split) {
        std::vector<std::string> out;
        std::string cur;
        bool have = false;
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (split && std::isspace(static_cast<unsigned char>(c))) {
                if (have) out.push_back(cur), cur.clear(), have = false;
                i_++;
                continue;
            }
            if (c != '$') have = true;  // an unquoted empty $VAR makes no word
            if (c == esc_) {
                i_++;
                if (i_ < s_.size()) cur += s_[i_++];
                else cur += c;
            } else if (c == '\'') {
                i_++;
                auto end = s_.find('\'', i_);
                if (end == std::string_view::npos) return make_error("unterminated single quote in `{}`", std::string(s_));
                cur += s_.substr(i_, end - i_);
                i_ = end + 1;
            } else if (c == '"') {
                i_++;
                bool closed = false;
                while (i_ < s_.size()) {
                    char d = s_[i_];
                    if (d == '"') {
                        closed = true;
                        i_++;
                        break;
                    }
                    if (d == esc_ && i_ + 1 < s_.size() && (s_[i_ + 1] == '"' || s_[i_ + 1] == '$' || s_[i_ + 1] == esc_)) {
                        cur += s_[i_ + 1];
                        i_ += 2;
                    } else if (d == '$') {
                        cur += BOCK_TRY(variable());
                    } else {
                        cur += d;
                        i_++;
                    }
                }
                if (!closed) return make_error("unterminated double quote in `{}`", std::string(s_));
            } else if (c == '$') {
                // Unquoted, a value with spaces is several words (EXPOSE $PORTS).
                auto v = BOCK_TRY(variable());
                if (!split) {
                    cur += v;
                    have = true;
                } else {
                    for (char ch : v) {
                        if (std::isspace(static_cast<unsigned char>(ch))) {
                            if (have && !cur.empty()) out.push_back(cur), cur.clear();
                            have = false;
                        } else {
                            cur += ch;
                            have = true;
                        }
                    }
                }
            } else {
                cur += c;
                i_++;
            }
        }
        if (have || !split) out.push_back(cur);
        return out;
    }

private:
    // At a `$`: the variable's expansion (a lone $ stays).
    Result<std::string> variable() {
        i_++;  // $
        if (i_ >= s_.size()) return std::string("$");
        if (s_[i_] == '{') {
            size_t start = ++i_;
            while (i_ < s_.size() && name_char(s_[i_])) i_++;
            std::string name(s_.substr(start, i_ - start));
            if (name.empty()) return make_error("bad substitution in `{}`: a name must follow ${{", std::string(s_));
            if (i_ >= s_.size()) return make_error("bad substitution in `{}`: missing }}", std::string(s_));
            auto val = lookup(name);
            if (s_[i_] == '}') {
                i_++;
                return val.value_or("");
            }
            bool colon = false;
            if (s_[i_] == ':') colon = true, i_++;
            if (i_ >= s_.size()) return make_error("bad substitution in `{}`: missing }}", std::string(s_));
            char op = s_[i_++];
            if (op != '-' && op != '+' && op != '?')
                return make_error("unsupported substitution `${{{}{}{}...}}` in `{}`", name, colon ? ":" : "", op, std::string(s_))
                    .with_hint("use ${VAR}, ${VAR:-default}, ${VAR:+alternative} or ${VAR:?message}");
            // The word up to the matching }, itself expanded.
            size_t depth = 1, wstart = i_;
            while (i_ < s_.size() && depth) {
                if (s_[i_] == '{') depth++;
                else if (s_[i_] == '}') depth--;
                if (depth) i_++;
            }
            if (depth) return make_error("bad substitution in `{}`: missing }}", std::string(s_));
            std::string_view wtext = s_.substr(wstart, i_ - wstart);
            i_++;  // }
            auto word = [&]() -> Result<std::string> {
                Lexer inner(wtext, vars_, esc_);
                auto w = BOCK_TRY(inner.words(false));
                return w.empty() ? std::string() : w[0];
            };
            bool set = val.has_value() && (!colon || !val->empty());
            if (op == '-') return set ? *val : BOCK_TRY(word());
            if (op == '+') return set ? BOCK_TRY(word()) : std::string();
            if (!set) return make_error("{}: {}", name, BOCK_TRY(word()));
            return *val;
        }
        size_t start = i_;
        while (i_ < s_.size() && name_char(s_[i_])) i_++;
        if (i_ == start) return std::string("$");
        return lookup(std::string(s_.substr(start, i_ - start))).value_or("");
    }

    std::optional<std::string> lookup(const std::string& name) const {
        auto it = vars_.find(name);
        if (it == vars_.end()) return std::nullopt;
        return it->second;
    }

    std::string_view s_;
    const Vars& vars_;
    char esc_;
    size_t i_ = 0;
};

}  // namespace

Result<std::string> expand_word(std::string_view s, const Vars& vars, char escape) {
    Lexer l(s, vars, escape);
    auto w = BOCK_TRY(l.words(false));
    return w.empty() ? std::string() : w[0];
}

Result<std::vector<std::string>> expand_words(std::string_view s, const Vars& vars, char escape) {
    Lexer l(s, vars, escape);
    return l.words(true);
}

Result<std::vector<KeyValue>> expand_pairs(std::string_view s, const Vars& vars, char escape, bool legacy) {
    std::vector<KeyValue> out;
    // The first raw word decides the form: NAME=... or the legacy NAME VALUE.
    size_t sp = 0;
    while (sp < s.size() && !std::isspace(static_cast<unsigned char>(s[sp]))) sp++;
    std::string_view first = s.substr(0, sp);
    if (legacy && first.find('=') == std::string_view::npos) {
        std::string_view rest = s.substr(sp);
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
        if (rest.empty()) return make_error("`{}` has a name but no value", std::string(s)).with_hint("write NAME=VALUE");
        out.push_back({std::string(first), BOCK_TRY(expand_word(rest, vars, escape))});
        return out;
    }
    for (auto& w : BOCK_TRY(expand_words(s, vars, escape))) {
        auto eq = w.find('=');
        if (eq == 0) return make_error("`{}` has no name before =", w);
        if (eq == std::string::npos) {
            if (legacy) return make_error("`{}` has no value", w).with_hint("write NAME=VALUE");
            out.push_back({w, std::nullopt});
        } else {
            out.push_back({w.substr(0, eq), w.substr(eq + 1)});
        }
    }
    return out;
}

}  // namespace bock::builder

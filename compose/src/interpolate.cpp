// Compose's variable interpolation, .env files and command strings.
#include <cctype>

#include "bock/common/fs.hpp"
#include "bock/compose/model.hpp"

namespace bock::compose {

namespace {

bool name_char(char c, bool first) {
    return c == '_' || std::isalpha(static_cast<unsigned char>(c)) || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// The end of a ${...} body starting at `i` (the index after "${"),
// nested braces counted; npos when unclosed.
size_t closing_brace(std::string_view text, size_t i) {
    int depth = 1;
    for (; i < text.size(); ++i) {
        if (text[i] == '{') ++depth;
        if (text[i] == '}' && --depth == 0) return i;
    }
    return std::string_view::npos;
}

}  // namespace

Result<std::string> interpolate(std::string_view text, const Lookup& lookup) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out += c;
            continue;
        }
        char n = text[i + 1];
        if (n == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (name_char(n, true)) {
            size_t j = i + 1;
            while (j < text.size() && name_char(text[j], false)) ++j;
            out += lookup(std::string(text.substr(i + 1, j - i - 1))).value_or("");
            i = j - 1;
            continue;
        }
        if (n != '{') {
            out += c;
            continue;
        }
        size_t end = closing_brace(text, i + 2);
        if (end == std::string_view::npos)
            return make_error("invalid interpolation format in `{}`: unclosed ${{", text).with_hint("write $$ for a literal $");
        std::string_view body = text.substr(i + 2, end - i - 2);
        size_t k = 0;
        while (k < body.size() && name_char(body[k], k == 0)) ++k;
        std::string name(body.substr(0, k));
        if (name.empty())
            return make_error("invalid interpolation format in `{}`: `${{{}}}` names no variable", text, body)
                .with_hint("write $$ for a literal $");
        std::string_view rest = body.substr(k);
        auto value = lookup(name);
        if (rest.empty()) {
            out += value.value_or("");
        } else {
            bool colon = rest[0] == ':';
            std::string_view op = rest.substr(colon ? 1 : 0);
            if (op.empty() || (op[0] != '-' && op[0] != '?' && op[0] != '+'))
                return make_error("invalid interpolation format in `{}`: `${{{}}}`", text, body)
                    .with_hint("use ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} or ${VAR?error}");
            // ':' treats an empty value as unset.
            bool unset = !value || (colon && value->empty());
            auto arg = BOCK_TRY(interpolate(op.substr(1), lookup));
            if (op[0] == '-') out += unset ? arg : *value;
            else if (op[0] == '+') out += unset ? "" : arg;
            else if (unset)
                return make_error("required variable {} is missing a value: {}", name, arg.empty() ? "not set" : arg)
                    .with_hint(fmt::format("set {} in the environment or in the project's .env file", name));
            else out += *value;
        }
        i = end;
    }
    return out;
}

Result<std::map<std::string, std::string>> read_dotenv(const std::string& path) {
    auto text = BOCK_TRY_CTX(fs::read_file(path), fmt::format("read `{}`", path));
    std::map<std::string, std::string> out;
    size_t lineno = 0;
    for (size_t pos = 0; pos <= text.size();) {
        size_t nl = std::min(text.find('\n', pos), text.size());
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineno;
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
        size_t b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#') continue;
        line = line.substr(b);
        if (line.starts_with("export ")) line = line.substr(7);
        auto eq = line.find('=');
        std::string key = line.substr(0, eq);
        while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
        if (key.empty() || !name_char(key[0], true))
            return make_error("`{}` line {}: expected KEY=VALUE", path, lineno);
        if (eq == std::string::npos) continue;  // KEY alone: nothing to set
        std::string value = line.substr(eq + 1);
        size_t vb = value.find_first_not_of(" \t");
        value = vb == std::string::npos ? "" : value.substr(vb);
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            size_t close = 1;
            while (close < value.size() && value[close] != value[0]) close += value[0] == '"' && value[close] == '\\' ? 2 : 1;
            if (close >= value.size()) close = std::string::npos;
            if (close == std::string::npos) return make_error("`{}` line {}: unclosed quote", path, lineno);
            std::string inner = value.substr(1, close - 1);
            if (value[0] == '"') {
                std::string un;
                for (size_t i = 0; i < inner.size(); ++i) {
                    if (inner[i] == '\\' && i + 1 < inner.size()) {
                        char e = inner[++i];
                        un += e == 'n' ? '\n' : e;
                    } else {
                        un += inner[i];
                    }
                }
                inner = un;
            }
            value = inner;
        } else if (auto hash = value.find(" #"); hash != std::string::npos) {
            value = value.substr(0, hash);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
        }
        out[key] = value;
    }
    return out;
}

Result<std::vector<std::string>> split_command(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\'') {
            size_t close = text.find('\'', i + 1);
            if (close == std::string::npos) return make_error("command `{}`: unclosed '", text);
            cur += text.substr(i + 1, close - i - 1);
            i = close;
            in_word = true;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < text.size() && text[j] != '"'; ++j) {
                if (text[j] == '\\' && j + 1 < text.size() && std::string_view("\"\\$`").find(text[j + 1]) != std::string_view::npos) ++j;
                cur += text[j];
            }
            if (j >= text.size()) return make_error("command `{}`: unclosed \"", text);
            i = j;
            in_word = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            cur += text[++i];
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) out.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (in_word) out.push_back(std::move(cur));
    return out;
}

}  // namespace bock::compose

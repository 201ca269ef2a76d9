// The --format template subset (format.hpp).
#include "bock/engine/format.hpp"

#include <algorithm>
#include <cctype>

#include "bock/common/strings.hpp"

namespace bock::engine {
namespace {

const char* kHint = "supported: {{.Field.Path}}, {{json .Field}}, {{upper|lower|len .Field}}, "
                    "{{join .Field \"SEP\"}}, pipelines ({{.Field | json}}) and a leading `table`";

std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
            out += s[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Words of an action, a quoted string kept as one word (quotes removed,
// marked by a leading '"'), '|' as its own word.
Result<std::vector<std::string>> words(std::string_view a) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < a.size()) {
        char c = a[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == '|') {
            out.emplace_back("|");
            ++i;
        } else if (c == '"' || c == '`') {
            size_t end = a.find(c, i + 1);
            if (end == std::string_view::npos) return make_error("--format: unterminated string in {{{{{}}}}}", a);
            std::string w = "\"";
            w += unescape(a.substr(i + 1, end - i - 1));
            out.push_back(std::move(w));
            i = end + 1;
        } else {
            size_t end = i;
            while (end < a.size() && !std::isspace(static_cast<unsigned char>(a[end])) && a[end] != '|') ++end;
            out.emplace_back(a.substr(i, end - i));
            i = end;
        }
    }
    return out;
}

bool is_function(const std::string& w) {
    return w == "json" || w == "upper" || w == "lower" || w == "len" || w == "join";
}

Result<Template::Node> parse_action(std::string_view inner) {
    std::string_view a = inner;
    if (!a.empty() && a.front() == '-') a.remove_prefix(1);
    if (!a.empty() && a.back() == '-') a.remove_suffix(1);
    auto w = BOCK_TRY(words(a));
    Template::Node n;
    n.is_action = true;
    bool have_path = false;
    for (size_t i = 0; i < w.size(); ++i) {
        const auto& t = w[i];
        if (t == "|") continue;
        if (t[0] == '.') {
            if (have_path) return make_error("--format: two fields in {{{{{}}}}}", a).with_hint(kHint);
            have_path = true;
            if (t != ".") n.path = strings::split(t, '.');
        } else if (is_function(t)) {
            n.fns.push_back(t);
            if (t == "join") {
                // join takes the field, then the separator (or, in a pipe, only the separator).
                size_t j = i + 1;
                if (j < w.size() && w[j][0] == '.' && !have_path) {
                    have_path = true;
                    if (w[j] != ".") n.path = strings::split(w[j], '.');
                    ++j;
                }
                if (j >= w.size() || w[j][0] != '"')
                    return make_error("--format: join needs a separator string: {{{{join .Field \",\"}}}}").with_hint(kHint);
                n.arg = w[j].substr(1);
                i = j;
            }
        } else {
            return make_error("--format: `{}` is not supported in {{{{{}}}}}", t, a).with_hint(kHint);
        }
    }
    if (!have_path) return make_error("--format: {{{{{}}}}} names no field", a).with_hint(kHint);
    return n;
}

std::string go_text(const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::string: return v.get<std::string>();
        case nlohmann::json::value_t::null: return "<nil>";
        case nlohmann::json::value_t::array: {
            std::string s = "[";
            for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_text(v[i]);
            return s + "]";
        }
        case nlohmann::json::value_t::object: {
            std::string s = "map[";
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                s += (first ? "" : " ") + it.key() + ":" + go_text(it.value());
                first = false;
            }
            return s + "]";
        }
        default: return v.dump();
    }
}

std::string header_for(const Template::Node& n, const std::map<std::string, std::string>& headers) {
    std::string key;
    for (const auto& p : n.path) key += (key.empty() ? "" : ".") + p;
    if (auto it = headers.find(key); it != headers.end()) return it->second;
    std::string h = n.path.empty() ? "" : n.path.back();
    // CreatedAt -> CREATED AT, as podman's headers
    std::string out;
    for (size_t i = 0; i < h.size(); ++i) {
        if (i > 0 && std::isupper(static_cast<unsigned char>(h[i])) && std::islower(static_cast<unsigned char>(h[i - 1])))
            out += ' ';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(h[i])));
    }
    return out;
}

}  // namespace

Result<Template> Template::parse(std::string_view text, const std::map<std::string, std::string>& headers) {
    Template t;
    std::string_view body = text;
    if (body.rfind("table", 0) == 0 && (body.size() == 5 || std::isspace(static_cast<unsigned char>(body[5])))) {
        t.table_ = true;
        body.remove_prefix(5);
        while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
    }
    size_t i = 0;
    while (i < body.size()) {
        size_t open = body.find("{{", i);
        if (open == std::string_view::npos) {
            t.nodes_.push_back({unescape(body.substr(i)), false, {}, {}, {}});
            break;
        }
        if (open > i) t.nodes_.push_back({unescape(body.substr(i, open - i)), false, {}, {}, {}});
        size_t close = body.find("}}", open + 2);
        if (close == std::string_view::npos)
            return make_error("--format `{}`: `{{{{` without `}}}}`", text).with_hint(kHint);
        t.nodes_.push_back(BOCK_TRY(parse_action(body.substr(open + 2, close - open - 2))));
        i = close + 2;
    }
    if (t.table_)
        for (const auto& n : t.nodes_) t.header_ += n.is_action ? header_for(n, headers) : n.text;
    return t;
}

Result<std::string> Template::render(const nlohmann::json& doc) const {
    std::string out;
    for (const auto& n : nodes_) {
        if (!n.is_action) {
            out += n.text;
            continue;
        }
        const nlohmann::json* v = &doc;
        bool missing = false;
        for (const auto& key : n.path) {
            if (!v->is_object() || !v->contains(key)) {
                missing = true;
                break;
            }
            v = &(*v)[key];
        }
        if (missing) {
            out += "<no value>";
            continue;
        }
        nlohmann::json cur = *v;
        for (const auto& f : n.fns) {
            if (f == "json") {
                cur = cur.dump();
            } else if (f == "upper" || f == "lower") {
                std::string s = go_text(cur);
                for (auto& c : s)
                    c = static_cast<char>(f == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                                       : std::tolower(static_cast<unsigned char>(c)));
                cur = s;
            } else if (f == "len") {
                if (!cur.is_array() && !cur.is_object() && !cur.is_string())
                    return make_error("--format: len of a {} value", cur.type_name());
                cur = cur.is_string() ? cur.get<std::string>().size() : cur.size();
            } else if (f == "join") {
                if (!cur.is_array()) return make_error("--format: join of a {} value (a list is needed)", cur.type_name());
                std::string s;
                for (size_t k = 0; k < cur.size(); ++k) s += (k ? n.arg : "") + go_text(cur[k]);
                cur = s;
            }
        }
        out += go_text(cur);
    }
    return out;
}

Result<std::string> Template::render_all(const std::vector<nlohmann::json>& docs) const {
    std::vector<std::string> rows;
    if (table_) rows.push_back(header_);
    for (const auto& d : docs) rows.push_back(BOCK_TRY(render(d)));
    if (!table_) {
        std::string out;
        for (const auto& r : rows) out += r + "\n";
        return out;
    }
    // Columns on tabs, each padded to its widest cell plus two spaces.
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width;
    for (const auto& r : rows) {
        std::vector<std::string> c;
        size_t s = 0;
        for (;;) {
            size_t tab = r.find('\t', s);
            c.push_back(r.substr(s, tab == std::string::npos ? std::string::npos : tab - s));
            if (tab == std::string::npos) break;
            s = tab + 1;
        }
        for (size_t k = 0; k < c.size(); ++k) {
            if (width.size() <= k) width.push_back(0);
            width[k] = std::max(width[k], c[k].size());
        }
        cells.push_back(std::move(c));
    }
    std::string out;
    for (const auto& c : cells) {
        std::string line;
        for (size_t k = 0; k < c.size(); ++k) {
            line += c[k];
            if (k + 1 < c.size()) line += std::string(width[k] - c[k].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

}  // namespace bock::engine

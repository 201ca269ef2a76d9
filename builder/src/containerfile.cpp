// The Containerfile reader (see containerfile.hpp). Two passes over the
// text: directives at the very top, then logical lines (continuations
// joined, comment lines inside a continuation dropped, heredoc bodies
// taken verbatim), each split into keyword, flags and arguments.
#include "bock/builder/containerfile.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "bock/common/strings.hpp"

namespace bock::builder {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// The flags each instruction takes (BuildKit's names).
const std::map<std::string, std::set<std::string>>& known_instructions() {
    static const std::map<std::string, std::set<std::string>> m = {
        {"FROM", {"platform"}},
        {"RUN", {"mount", "network", "security"}},
        {"COPY", {"from", "chown", "chmod", "link"}},
        {"ADD", {"chown", "chmod", "link", "checksum", "keep-git-dir"}},
        {"ENV", {}},
        {"ARG", {}},
        {"WORKDIR", {}},
        {"USER", {}},
        {"LABEL", {}},
        {"EXPOSE", {}},
        {"ENTRYPOINT", {}},
        {"CMD", {}},
        {"VOLUME", {}},
        {"STOPSIGNAL", {}},
        {"HEALTHCHECK", {"interval", "timeout", "start-period", "start-interval", "retries"}},
        {"SHELL", {}},
        {"ONBUILD", {}},
        {"MAINTAINER", {}},
    };
    return m;
}


Error at(const std::string& file, int line, const std::string& msg) {
    return make_error("{}:{}: {}", file, line, msg);
}

// Splits "KEYWORD --flag=x --other rest" into its parts and checks them.
Result<Instruction> split_instruction(std::string_view logical, const std::string& file, int line) {
    Instruction ins;
    ins.file = file;
    ins.line = line;
    logical = trim(logical);
    size_t sp = 0;
    while (sp < logical.size() && !std::isspace(static_cast<unsigned char>(logical[sp]))) sp++;
    ins.keyword = upper(logical.substr(0, sp));
    std::string_view rest = trim(logical.substr(sp));
    const auto& known = known_instructions();
    auto it = known.find(ins.keyword);
    if (it == known.end()) {
        std::string best;
        size_t bd = 3;
        for (const auto& [k, _] : known)
            if (auto d = strings::edit_distance(ins.keyword, k); d < bd) bd = d, best = k;
        auto e = at(file, line, fmt::format("unknown instruction `{}`", std::string(logical.substr(0, sp))));
        return best.empty() ? e.with_hint("instructions are FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, LABEL, EXPOSE, "
                                          "ENTRYPOINT, CMD, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL and ONBUILD")
                            : e.with_hint(fmt::format("did you mean {}?", best));
    }
    while (rest.starts_with("--")) {
        size_t end = 0;
        while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) end++;
        std::string flag(rest.substr(0, end));
        std::string name = flag.substr(2, flag.find('=') == std::string::npos ? std::string::npos : flag.find('=') - 2);
        if (!it->second.count(name)) {
            auto e = at(file, line, fmt::format("{} does not take the flag `{}`", ins.keyword, flag));
            if (it->second.empty()) return e.with_hint(fmt::format("{} has no flags", ins.keyword));
            std::string list;
            for (const auto& f : it->second) list += (list.empty() ? "--" : ", --") + f;
            return e.with_hint(fmt::format("{} takes {}", ins.keyword, list));
        }
        ins.flags.push_back(flag);
        rest = trim(rest.substr(end));
    }
    ins.args = std::string(rest);
    if (rest.starts_with("[")) {
        auto j = nlohmann::json::parse(rest, nullptr, false);
        if (j.is_array() && std::all_of(j.begin(), j.end(), [](const auto& v) { return v.is_string(); }))
            ins.json = j.get<std::vector<std::string>>();
    }
    ins.text = ins.keyword;
    for (const auto& f : ins.flags) ins.text += " " + f;
    if (!ins.args.empty()) ins.text += " " + ins.args;

    // What each instruction needs to be complete.
    const std::string& k = ins.keyword;
    bool needs_args = k != "CMD" && k != "ENTRYPOINT";
    if (needs_args && ins.args.empty())
        return at(file, line, fmt::format("{} needs arguments", k))
            .with_hint(fmt::format("see the Dockerfile reference for {}", k));
    if (k == "SHELL" && !ins.json)
        return at(file, line, fmt::format("SHELL needs a JSON array of strings, got `{}`", ins.args))
            .with_hint("write it as SHELL [\"/bin/sh\", \"-c\"]");
    if (k == "ONBUILD") {
        auto inner = upper(ins.args.substr(0, ins.args.find_first_of(" \t")));
        if (inner == "ONBUILD" || inner == "FROM" || inner == "MAINTAINER")
            return at(file, line, fmt::format("ONBUILD cannot trigger {}", inner)).with_hint("remove the trigger");
        BOCK_TRY(split_instruction(ins.args, file, line));  // the trigger must itself be valid
    }
    return ins;
}

// The heredoc markers of a RUN/COPY/ADD line, in order: <<EOF, <<-EOF,
// <<"EOF", <<'EOF' outside quotes.
struct Marker {
    std::string word;
    bool strip_tabs = false;
    bool quoted = false;
};
std::vector<Marker> heredoc_markers(std::string_view s) {
    std::vector<Marker> out;
    char q = 0;
    for (size_t i = 0; i + 2 < s.size(); ++i) {
        char c = s[i];
        if (q) {
            if (c == q) q = 0;
            continue;
        }
        if (c == '"' || c == '\'') {
            q = c;
            continue;
        }
        if (c != '<' || s[i + 1] != '<') continue;
        size_t j = i + 2;
        Marker m;
        if (j < s.size() && s[j] == '-') m.strip_tabs = true, j++;
        char wq = 0;
        if (j < s.size() && (s[j] == '"' || s[j] == '\'')) wq = s[j++], m.quoted = true;
        size_t start = j;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) j++;
        if (j == start || std::isdigit(static_cast<unsigned char>(s[start]))) continue;
        m.word = std::string(s.substr(start, j - start));
        if (wq) {
            if (j >= s.size() || s[j] != wq) continue;
            j++;
        }
        out.push_back(m);
        i = j - 1;
    }
    return out;
}

}  // namespace

std::optional<std::string> Instruction::flag(std::string_view name) const {
    std::optional<std::string> v;
    for (const auto& f : flags) {
        std::string_view s(f);
        s.remove_prefix(2);
        if (s == name) v = "true";
        else if (s.starts_with(name) && s.size() > name.size() && s[name.size()] == '=')
            v = std::string(s.substr(name.size() + 1));
    }
    return v;
}

Result<Instruction> parse_instruction(std::string_view line, const std::string& file, int lineno) {
    return split_instruction(line, file, lineno);
}

Result<Containerfile> parse_containerfile(std::string_view text, const std::string& file) {
    Containerfile cf;
    std::vector<std::string> lines;
    for (size_t pos = 0; pos <= text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string l(text.substr(pos, nl - pos));
        if (!l.empty() && l.back() == '\r') l.pop_back();
        if (l.find('\0') != std::string::npos)
            return at(file, static_cast<int>(lines.size() + 1), "a NUL byte in the file").with_hint("is this a text file?");
        lines.push_back(std::move(l));
        pos = nl + 1;
    }

    size_t i = 0;
    // Parser directives: `# key=value` lines at the very top.
    std::set<std::string> seen;
    for (; i < lines.size(); ++i) {
        auto t = trim(lines[i]);
        if (!t.starts_with("#")) break;
        auto body = trim(t.substr(1));
        auto eq = body.find('=');
        if (eq == std::string_view::npos) break;
        auto key = lower(trim(body.substr(0, eq)));
        auto val = trim(body.substr(eq + 1));
        if (key != "escape" && key != "syntax" && key != "check") break;
        if (!seen.insert(key).second)
            return at(file, static_cast<int>(i + 1), fmt::format("the parser directive `{}` is given twice", key))
                .with_hint("keep one");
        if (key == "escape") {
            if (val != "\\" && val != "`")
                return at(file, static_cast<int>(i + 1), fmt::format("invalid escape character `{}`", std::string(val)))
                    .with_hint("use # escape=\\ or # escape=`");
            cf.escape = val[0];
        }
    }

    bool in_stage = false;
    while (i < lines.size()) {
        auto t = trim(lines[i]);
        if (t.empty() || t.starts_with("#")) {
            i++;
            continue;
        }
        int start = static_cast<int>(i + 1);
        std::string logical;
        bool done = false;
        while (i < lines.size()) {
            std::string_view l = lines[i++];
            auto lt = trim(l);
            if (!logical.empty() && (lt.starts_with("#") || lt.empty())) continue;  // inside a continuation
            std::string_view r = l;
            while (!r.empty() && std::isspace(static_cast<unsigned char>(r.back()))) r.remove_suffix(1);
            if (!r.empty() && r.back() == cf.escape) {
                r.remove_suffix(1);
                logical += std::string(r);
                continue;
            }
            logical += std::string(l);
            done = true;
            break;
        }
        if (!done && trim(logical).empty())
            return at(file, start, "a line continuation at the end of the file").with_hint("remove the trailing escape character");
        auto ins = BOCK_TRY(split_instruction(logical, file, start));
        if (ins.keyword == "RUN" || ins.keyword == "COPY" || ins.keyword == "ADD") {
            for (auto& m : heredoc_markers(ins.args)) {
                Heredoc h{m.word, "", !m.quoted};
                bool closed = false;
                while (i < lines.size()) {
                    std::string l = lines[i++];
                    if (m.strip_tabs) l.erase(0, l.find_first_not_of('\t') == std::string::npos ? l.size() : l.find_first_not_of('\t'));
                    if (l == m.word) {
                        closed = true;
                        break;
                    }
                    h.content += l + "\n";
                }
                if (!closed)
                    return at(file, start, fmt::format("the heredoc <<{} is not closed", m.word))
                        .with_hint(fmt::format("end it with a line holding only {}", m.word));
                ins.heredocs.push_back(std::move(h));
            }
        }
        if (ins.keyword == "FROM") {
            Stage st;
            st.index = static_cast<int>(cf.stages.size());
            std::vector<std::string> words;
            for (auto w : strings::split_ws(ins.args)) words.emplace_back(w);
            if (words.size() == 3 && lower(words[1]) == "as") {
                st.name = lower(words[2]);
                bool valid = std::isalpha(static_cast<unsigned char>(st.name[0]));
                for (char c : st.name)
                    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
                if (!valid)
                    return at(file, start, fmt::format("invalid stage name `{}`", words[2]))
                        .with_hint("a stage name starts with a letter and holds letters, digits, -, _ and .");
                for (const auto& s : cf.stages)
                    if (s.name == st.name)
                        return at(file, start, fmt::format("the stage name `{}` is used twice (first at line {})", st.name, s.from.line))
                            .with_hint("give each stage its own name");
            } else if (words.size() != 1) {
                return at(file, start, fmt::format("FROM takes IMAGE [AS NAME], got `{}`", ins.args))
                    .with_hint("write FROM [--platform=P] IMAGE [AS NAME]");
            }
            st.from = std::move(ins);
            cf.stages.push_back(std::move(st));
            in_stage = true;
        } else if (!in_stage) {
            if (ins.keyword != "ARG")
                return at(file, start, fmt::format("{} before the first FROM", ins.keyword))
                    .with_hint("only ARG may come before FROM; start the stage with FROM IMAGE");
            cf.global_args.push_back(std::move(ins));
        } else {
            cf.stages.back().body.push_back(std::move(ins));
        }
    }
    if (cf.stages.empty())
        return at(file, static_cast<int>(lines.size()), "no FROM instruction").with_hint("start the file with FROM IMAGE (or FROM scratch)");
    return cf;
}

}  // namespace bock::builder

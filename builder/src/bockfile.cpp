// The Bockfile reader (see bockfile.hpp). yaml-cpp gives a node tree with
// marks; each known key is read by a small function that checks its type
// and reports FILE:LINE:COLUMN with the fix; each step becomes the
// Containerfile instruction that does the same, quoted so the
// Containerfile reader and the substitution rules (expand.hpp) read back
// exactly the value written in YAML.
#include "bock/builder/bockfile.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "bock/common/strings.hpp"

namespace bock::builder {

namespace {

// A parse failure, thrown inside this file only and returned as an Error.
struct Fail {
    Error error;
};

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    Where where(const YAML::Node& n) const {
        auto m = n.Mark();
        if (m.is_null()) return {};
        return {m.line + 1, m.column + 1};
    }
    [[noreturn]] void fail(const Where& w, const std::string& msg, const std::string& hint) const {
        throw Fail{make_error("{}:{}:{}: {}", file_, w.line, w.column, msg).with_hint(hint)};
    }
    [[noreturn]] void fail(const YAML::Node& n, const std::string& msg, const std::string& hint) const {
        fail(where(n), msg, hint);
    }

    static const char* type_name(const YAML::Node& n) {
        switch (n.Type()) {
            case YAML::NodeType::Map: return "a mapping";
            case YAML::NodeType::Sequence: return "a list";
            case YAML::NodeType::Scalar: return "a scalar";
            case YAML::NodeType::Null: return "nothing";
            default: return "nothing";
        }
    }

    // A scalar (string, number or boolean, as written).
    std::string str(const YAML::Node& n, const std::string& key) const {
        if (!n.IsScalar()) fail(n, fmt::format("`{}` must be a string, got {}", key, type_name(n)), fmt::format("write {}: VALUE", key));
        auto s = n.Scalar();
        return s;
    }
    // A scalar on one line (it becomes part of one instruction).
    std::string line(const YAML::Node& n, const std::string& key) const {
        auto s = str(n, key);
        if (s.find('\n') != std::string::npos)
            fail(n, fmt::format("`{}` must be on one line", key), "remove the line breaks");
        return s;
    }
    bool boolean(const YAML::Node& n, const std::string& key) const {
        auto s = n.IsScalar() ? n.Scalar() : "";
        if (s == "true") return true;
        if (s == "false") return false;
        fail(n, fmt::format("`{}` must be true or false, got `{}`", key, n.IsScalar() ? s : type_name(n)), fmt::format("write {}: true", key));
    }
    // A string or a list of strings.
    std::vector<std::string> list(const YAML::Node& n, const std::string& key, bool allow_string = true) const {
        std::vector<std::string> out;
        if (n.IsScalar() && allow_string) {
            out.push_back(line(n, key));
            return out;
        }
        if (!n.IsSequence())
            fail(n, fmt::format("`{}` must be a list{}, got {}", key, allow_string ? " or a string" : "", type_name(n)),
                 fmt::format("write {}: [A, B]", key));
        for (const auto& e : n) out.push_back(line(e, key + " item"));
        return out;
    }
    // A mapping of names to scalars, in the file's order.
    Pairs pairs(const YAML::Node& n, const std::string& key, bool names) const {
        if (!n.IsMap()) fail(n, fmt::format("`{}` must be a mapping, got {}", key, type_name(n)), fmt::format("write {}: {{NAME: VALUE}}", key));
        Pairs out;
        for (const auto& kv : n) {
            auto k = line(kv.first, key + " key");
            bool ok = !k.empty();
            for (char c : k)
                ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (!names && (c == '.' || c == '-' || c == '/')));
            if (!ok)
                fail(kv.first, fmt::format("`{}` is not a valid name in `{}`", k, key),
                     names ? "names hold letters, digits and _" : "keys hold letters, digits, ., -, _ and /");
            out.emplace_back(k, line(kv.second, key + "." + k));
        }
        return out;
    }
    // Refuses keys other than `known` (with the closest one as a hint).
    void keys(const YAML::Node& n, const std::string& what, const std::vector<std::string>& known) const {
        if (!n.IsMap()) fail(n, fmt::format("`{}` must be a mapping, got {}", what, type_name(n)), "see docs/bockfile.md");
        for (const auto& kv : n) {
            auto k = kv.first.IsScalar() ? kv.first.Scalar() : "";
            if (std::find(known.begin(), known.end(), k) != known.end()) continue;
            std::string best;
            size_t bd = 3;
            for (const auto& c : known)
                if (auto d = strings::edit_distance(k, c); d < bd) bd = d, best = c;
            std::string all;
            for (const auto& c : known) all += (all.empty() ? "" : ", ") + c;
            fail(kv.first, fmt::format("unknown key `{}` in {}", k, what),
                 best.empty() ? fmt::format("{} takes {}", what, all) : fmt::format("did you mean `{}`?", best));
        }
    }
    const std::string& file() const { return file_; }

private:
    std::string file_;
};

// A value inside double quotes for ENV, LABEL, WORKDIR, USER, ...: the
// substitution rules keep $VAR working and read \" and \\ back as " and \;
// `$$` is a literal `$` (as in compose files).
std::string quote(const std::string& s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '$' && i + 1 < s.size() && s[i + 1] == '$') {
            out += "\\$";
            i++;
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string json_list(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

void no_space(const Reader& r, const YAML::Node& n, const std::string& key, const std::string& v) {
    if (v.find_first_of(" \t") != std::string::npos) r.fail(n, fmt::format("`{}` cannot hold spaces: `{}`", key, v), "remove the spaces");
}

BockStep run_step(const Reader& r, const YAML::Node& v, Where at) {
    BockStep s{"RUN", {}, {}, {}, at};
    YAML::Node cmd = v;
    if (v.IsMap()) {
        r.keys(v, "run", {"command", "network"});
        if (!v["command"]) r.fail(v, "run needs `command`", "write run: {command: [\"make\"]} or run: make");
        cmd.reset(v["command"]);  // not `=`: that would write into `v`
        if (auto n = v["network"]) {
            auto net = r.str(n, "network");
            if (net != "none" && net != "default") r.fail(n, fmt::format("run.network must be none or default, got `{}`", net), "write network: none");
            s.flags.push_back("--network=" + net);
        }
    }
    if (cmd.IsSequence()) {
        auto argv = r.list(cmd, "run.command", false);
        if (argv.empty()) r.fail(cmd, "run.command is an empty list", "name the program to run");
        s.args = json_list(argv);
        return s;
    }
    auto text = r.str(cmd, "run");
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.empty()) r.fail(cmd, "run is empty", "give the command to run");
    bool plain = text.find('\n') == std::string::npos && !text.ends_with("\\") && !text.starts_with("[") && text.find("<<") == std::string::npos;
    if (plain) s.args = text;
    else s.script = text + "\n";  // a heredoc
    return s;
}

BockStep copy_step(const Reader& r, const YAML::Node& v, Where at, bool add) {
    std::string what = add ? "add" : "copy";
    BockStep s{add ? "ADD" : "COPY", {}, {}, {}, at};
    r.keys(v, what, add ? std::vector<std::string>{"src", "dest", "chown", "chmod", "link"}
                        : std::vector<std::string>{"src", "dest", "from", "chown", "chmod", "link"});
    if (!v["src"]) r.fail(v, fmt::format("{} needs `src`", what), fmt::format("write {}: {{src: [FILE], dest: /PATH}}", what));
    if (!v["dest"]) r.fail(v, fmt::format("{} needs `dest`", what), fmt::format("write {}: {{src: [FILE], dest: /PATH}}", what));
    auto src = r.list(v["src"], what + ".src");
    if (src.empty()) r.fail(v["src"], fmt::format("{}.src is an empty list", what), "name at least one source");
    for (const char* f : {"from", "chown", "chmod"})
        if (auto n = v[f]) {
            auto val = r.line(n, what + "." + f);
            no_space(r, n, what + "." + f, val);
            s.flags.push_back(fmt::format("--{}={}", f, val));
        }
    if (auto n = v["link"]; n && r.boolean(n, what + ".link")) s.flags.push_back("--link");
    src.push_back(r.line(v["dest"], what + ".dest"));
    s.args = json_list(src);
    return s;
}

BockStep step(const Reader& r, const YAML::Node& item) {
    static const std::vector<std::string> kinds = {"run", "copy", "add", "env", "arg", "workdir", "user",
                                                   "label", "expose", "volume", "shell"};
    if (!item.IsMap() || item.size() != 1)
        r.fail(item, "a step is a mapping with one key", "write - run: COMMAND (or copy, add, env, arg, workdir, user, label, expose, volume, shell)");
    r.keys(item, "a step", kinds);
    auto kv = *item.begin();
    auto kind = kv.first.Scalar();
    const auto& v = kv.second;
    Where at = r.where(kv.first);
    if (kind == "run") return run_step(r, v, at);
    if (kind == "copy" || kind == "add") return copy_step(r, v, at, kind == "add");
    if (kind == "env" || kind == "label") {
        auto p = r.pairs(v, kind, kind == "env");
        if (p.empty()) r.fail(v, fmt::format("{} is empty", kind), "give at least one NAME: VALUE");
        std::string args;
        for (const auto& [k, val] : p) args += (args.empty() ? "" : " ") + k + "=" + quote(val);
        return {kind == "env" ? "ENV" : "LABEL", {}, args, {}, at};
    }
    if (kind == "arg") {
        // arg: NAME, or arg: {NAME: DEFAULT}
        if (v.IsScalar()) {
            auto n = r.line(v, "arg");
            bool ok = !n.empty() && std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
            if (!ok) r.fail(v, fmt::format("`{}` is not a valid argument name", n), "names hold letters, digits and _");
            return {"ARG", {}, n, {}, at};
        }
        auto p = r.pairs(v, "arg", true);
        std::string args;
        for (const auto& [k, val] : p) args += (args.empty() ? "" : " ") + k + "=" + quote(val);
        return {"ARG", {}, args, {}, at};
    }
    if (kind == "workdir" || kind == "user") {
        auto val = r.line(v, kind);
        if (val.empty()) r.fail(v, fmt::format("{} is empty", kind), "give a value");
        return {kind == "workdir" ? "WORKDIR" : "USER", {}, quote(val), {}, at};
    }
    if (kind == "expose") {
        std::string args;
        for (const auto& p : r.list(v, "expose")) {
            no_space(r, v, "expose", p);
            args += (args.empty() ? "" : " ") + p;
        }
        if (args.empty()) r.fail(v, "expose is empty", "write expose: [\"8080/tcp\"]");
        return {"EXPOSE", {}, args, {}, at};
    }
    if (kind == "volume") {
        auto vols = r.list(v, "volume");
        if (vols.empty()) r.fail(v, "volume is empty", "write volume: [/data]");
        return {"VOLUME", {}, json_list(vols), {}, at};
    }
    // shell
    auto sh = r.list(v, "shell", false);
    if (sh.empty()) r.fail(v, "shell is an empty list", "write shell: [/bin/sh, -c]");
    return {"SHELL", {}, json_list(sh), {}, at};
}

bool valid_stage_name(const std::string& n) {
    if (n.empty() || !std::islower(static_cast<unsigned char>(n[0]))) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

void read_runtime(const Reader& r, const YAML::Node& n, BockRuntime& rt) {
    r.keys(n, "runtime", {"entrypoint", "cmd", "env", "ports", "workdir", "user", "healthcheck", "labels", "stop_signal", "volumes"});
    for (const auto& kv : n) rt.places.emplace_back(kv.first.Scalar(), r.where(kv.first));
    if (auto v = n["entrypoint"]) rt.entrypoint = v.IsScalar() ? std::vector<std::string>{"/bin/sh", "-c", r.line(v, "runtime.entrypoint")}
                                                               : r.list(v, "runtime.entrypoint", false);
    if (auto v = n["cmd"]) rt.cmd = v.IsScalar() ? std::vector<std::string>{"/bin/sh", "-c", r.line(v, "runtime.cmd")} : r.list(v, "runtime.cmd", false);
    if (auto v = n["env"]) rt.env = r.pairs(v, "runtime.env", true);
    if (auto v = n["labels"]) rt.labels = r.pairs(v, "runtime.labels", false);
    if (auto v = n["ports"]) {
        rt.ports = r.list(v, "runtime.ports", false);
        for (const auto& p : rt.ports) no_space(r, v, "runtime.ports", p);
    }
    if (auto v = n["volumes"]) rt.volumes = r.list(v, "runtime.volumes", false);
    if (auto v = n["workdir"]) rt.workdir = r.line(v, "runtime.workdir");
    if (auto v = n["user"]) rt.user = r.line(v, "runtime.user");
    if (auto v = n["stop_signal"]) {
        rt.stop_signal = r.line(v, "runtime.stop_signal");
        no_space(r, v, "runtime.stop_signal", rt.stop_signal);
    }
    if (auto v = n["healthcheck"]) {
        r.keys(v, "runtime.healthcheck", {"test", "interval", "timeout", "start_period", "start_interval", "retries"});
        BockHealthcheck h;
        if (!v["test"]) r.fail(v, "runtime.healthcheck needs `test`", "write test: [CMD, wget, -qO-, http://127.0.0.1/] or test: [NONE]");
        auto t = v["test"];
        if (t.IsScalar()) h.test = {"CMD-SHELL", r.line(t, "runtime.healthcheck.test")};
        else h.test = r.list(t, "runtime.healthcheck.test", false);
        if (h.test.empty() || (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL" && h.test[0] != "NONE") ||
            (h.test[0] != "NONE" && h.test.size() < 2) || (h.test[0] == "CMD-SHELL" && h.test.size() != 2))
            r.fail(t, "runtime.healthcheck.test must start with CMD, CMD-SHELL or NONE and name a command",
                   "write test: [CMD, prog, arg] or test: [CMD-SHELL, \"command line\"] or a string");
        for (auto [k, dst] : {std::pair{"interval", &h.interval}, {"timeout", &h.timeout}, {"start_period", &h.start_period},
                              {"start_interval", &h.start_interval}})
            if (auto d = v[k]) {
                *dst = r.line(d, std::string("runtime.healthcheck.") + k);
                no_space(r, d, std::string("runtime.healthcheck.") + k, *dst);
            }
        if (auto d = v["retries"]) {
            auto s = r.line(d, "runtime.healthcheck.retries");
            if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
                r.fail(d, fmt::format("runtime.healthcheck.retries must be a number, got `{}`", s), "write retries: 3");
            h.retries = std::stoi(s);
        }
        rt.healthcheck = h;
    }
}

void read_security(const Reader& r, const YAML::Node& n, BockSecurity& s) {
    r.keys(n, "security", {"capabilities", "seccomp", "read_only_rootfs", "no_new_privileges", "non_root"});
    s.at = r.where(n);
    if (auto c = n["capabilities"]) {
        r.keys(c, "security.capabilities", {"drop", "add"});
        auto caps = [&](const YAML::Node& v, const std::string& key) {
            auto l = r.list(v, key, false);
            for (auto& cap : l) {
                for (auto& ch : cap) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                if (cap.starts_with("CAP_")) cap = cap.substr(4);
                if (cap.empty() || cap.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos)
                    r.fail(v, fmt::format("`{}` is not a capability name", cap), "write names like NET_BIND_SERVICE or ALL");
            }
            return l;
        };
        if (auto d = c["drop"]) s.cap_drop = caps(d, "security.capabilities.drop");
        if (auto a = c["add"]) s.cap_add = caps(a, "security.capabilities.add");
    }
    if (auto v = n["seccomp"]) {
        s.seccomp = r.line(v, "security.seccomp");
        if (s.seccomp != "default" && s.seccomp != "unconfined")
            r.fail(v, fmt::format("security.seccomp must be default or unconfined, got `{}`", s.seccomp),
                   "a profile file is chosen at run time: bock run --security-opt seccomp=FILE");
    }
    if (auto v = n["read_only_rootfs"]) s.read_only_rootfs = r.boolean(v, "security.read_only_rootfs");
    if (auto v = n["no_new_privileges"]) s.no_new_privileges = r.boolean(v, "security.no_new_privileges");
    if (auto v = n["non_root"]) {
        s.non_root = r.boolean(v, "security.non_root");
        for (const auto& kv : n)
            if (kv.first.Scalar() == "non_root") s.non_root_at = r.where(kv.first);
    }
}

Bockfile read(const Reader& r, const YAML::Node& root) {
    Bockfile bf;
    bf.file = r.file();
    if (!root.IsMap())
        r.fail(root.IsNull() ? Where{1, 1} : r.where(root), "a Bockfile is a YAML mapping", "start with version: \"1\" and stages:");
    r.keys(root, "the Bockfile", {"version", "from", "metadata", "args", "stages", "runtime", "security"});
    if (!root["version"]) r.fail(r.where(root), "the Bockfile needs `version`", "add version: \"1\" at the top");
    bf.version = r.line(root["version"], "version");
    if (bf.version != "1") r.fail(root["version"], fmt::format("unknown Bockfile version `{}`", bf.version), "this Bock reads version: \"1\"");
    if (auto f = root["from"]) bf.from = r.line(f, "from");
    if (auto m = root["metadata"]) {
        r.keys(m, "metadata", {"name", "description", "version", "labels"});
        bf.metadata.at = r.where(m);
        if (auto v = m["name"]) bf.metadata.name = r.line(v, "metadata.name");
        if (auto v = m["description"]) bf.metadata.description = r.line(v, "metadata.description");
        if (auto v = m["version"]) bf.metadata.version = r.line(v, "metadata.version");
        if (auto v = m["labels"]) bf.metadata.labels = r.pairs(v, "metadata.labels", false);
    }
    if (auto a = root["args"]) {
        bf.args = r.pairs(a, "args", true);
        for (const auto& kv : a) bf.arg_places.push_back(r.where(kv.first));
    }
    auto stages = root["stages"];
    if (!stages) r.fail(r.where(root), "the Bockfile needs `stages`", "add stages: [{steps: [...]}]");
    if (!stages.IsSequence() || stages.size() == 0)
        r.fail(stages, "`stages` must be a non-empty list", "write stages: followed by - name: ... steps: [...]");
    std::set<std::string> names;
    for (const auto& sn : stages) {
        r.keys(sn, "a stage", {"name", "from", "steps"});
        BockStage st;
        st.at = r.where(sn);
        if (auto v = sn["name"]) {
            st.name = r.line(v, "name");
            if (!valid_stage_name(st.name))
                r.fail(v, fmt::format("invalid stage name `{}`", st.name), "a stage name starts with a lower-case letter and holds a-z, 0-9, -, _ and .");
            if (!names.insert(st.name).second) r.fail(v, fmt::format("the stage name `{}` is used twice", st.name), "give each stage its own name");
        }
        st.from = bf.from;
        if (auto v = sn["from"]) st.from = r.line(v, "from");
        if (st.from.empty()) r.fail(sn, "the stage names no base image", "add from: IMAGE to the stage or at the top of the file");
        no_space(r, sn["from"] ? sn["from"] : root["from"], "from", st.from);
        if (auto v = sn["steps"]) {
            if (!v.IsSequence()) r.fail(v, fmt::format("`steps` must be a list, got {}", Reader::type_name(v)), "write steps: followed by - run: ...");
            for (const auto& item : v) st.steps.push_back(step(r, item));
        }
        bf.stages.push_back(std::move(st));
    }
    if (auto rt = root["runtime"]) read_runtime(r, rt, bf.runtime);
    if (auto s = root["security"]) read_security(r, s, bf.security);
    return bf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

}  // namespace

bool looks_like_bockfile(const std::string& path, std::string_view text) {
    if (path.ends_with(".yaml") || path.ends_with(".yml")) return true;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        auto l = text.substr(pos, nl - pos);
        pos = nl + 1;
        size_t i = 0;
        while (i < l.size() && std::isspace(static_cast<unsigned char>(l[i]))) i++;
        if (i == l.size() || l[i] == '#') continue;
        if (l.substr(i).starts_with("---")) return true;
        size_t j = i;
        while (j < l.size() && (std::isalnum(static_cast<unsigned char>(l[j])) || l[j] == '_')) j++;
        return j > i && j < l.size() && l[j] == ':';
    }
    return false;
}

Result<Bockfile> parse_bockfile(std::string_view text, const std::string& file) {
    Reader r(file);
    try {
        auto root = YAML::Load(std::string(text));
        return read(r, root);
    } catch (const Fail& f) {
        return f.error;
    } catch (const YAML::Exception& e) {
        return make_error("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg).with_hint("fix the YAML syntax there");
    }
}

Pairs security_labels(const BockSecurity& s) {
    Pairs out;
    if (!s.cap_drop.empty()) out.emplace_back("io.bock.security.capabilities.drop", join(s.cap_drop, ","));
    if (!s.cap_add.empty()) out.emplace_back("io.bock.security.capabilities.add", join(s.cap_add, ","));
    if (!s.seccomp.empty()) out.emplace_back("io.bock.security.seccomp", s.seccomp);
    if (s.read_only_rootfs) out.emplace_back("io.bock.security.read_only_rootfs", *s.read_only_rootfs ? "true" : "false");
    if (s.no_new_privileges) out.emplace_back("io.bock.security.no_new_privileges", *s.no_new_privileges ? "true" : "false");
    if (s.non_root) out.emplace_back("io.bock.security.non_root", "true");
    return out;
}

LoweredText bockfile_to_containerfile(const Bockfile& bf, bool comments) {
    LoweredText out;
    auto emit = [&](const std::string& line, Where w) {
        out.text += line + "\n";
        out.places.push_back(w);
    };
    if (comments) out.text += "# The Containerfile equivalent of " + bf.file + " (bock build --print-containerfile)\n";
    for (size_t i = 0; i < bf.args.size(); ++i) emit("ARG " + bf.args[i].first + "=" + quote(bf.args[i].second), bf.arg_places[i]);
    for (size_t si = 0; si < bf.stages.size(); ++si) {
        const auto& st = bf.stages[si];
        bool last = si + 1 == bf.stages.size();
        if (comments) out.text += "\n";
        emit("FROM " + st.from + (st.name.empty() ? "" : " AS " + st.name), st.at);
        // The file's args are seen by every stage's steps.
        for (size_t i = 0; i < bf.args.size(); ++i) emit("ARG " + bf.args[i].first, bf.arg_places[i]);
        for (const auto& s : st.steps) {
            std::string l = s.keyword;
            for (const auto& f : s.flags) l += " " + f;
            if (!s.script.empty()) {
                std::string word = "BOCKFILE_EOF";
                while (s.script.find(word) != std::string::npos) word += "_";
                l += " <<" + word + "\n" + s.script + word;
            } else {
                l += " " + s.args;
            }
            emit(l, s.at);
        }
        if (!last) continue;
        // metadata: labels on the final image.
        Pairs meta;
        if (!bf.metadata.name.empty()) meta.emplace_back("org.opencontainers.image.title", bf.metadata.name);
        if (!bf.metadata.description.empty()) meta.emplace_back("org.opencontainers.image.description", bf.metadata.description);
        if (!bf.metadata.version.empty()) meta.emplace_back("org.opencontainers.image.version", bf.metadata.version);
        meta.insert(meta.end(), bf.metadata.labels.begin(), bf.metadata.labels.end());
        auto label_line = [](const Pairs& p) {
            std::string l = "LABEL";
            for (const auto& [k, v] : p) l += " " + k + "=" + quote(v);
            return l;
        };
        if (!meta.empty()) emit(label_line(meta), bf.metadata.at);
        // runtime: the image config, in the file's order.
        const auto& rt = bf.runtime;
        for (const auto& [key, w] : rt.places) {
            if (key == "entrypoint") emit("ENTRYPOINT " + json_list(*rt.entrypoint), w);
            else if (key == "cmd") emit("CMD " + json_list(*rt.cmd), w);
            else if (key == "env" && !rt.env.empty()) {
                std::string l = "ENV";
                for (const auto& [k, v] : rt.env) l += " " + k + "=" + quote(v);
                emit(l, w);
            } else if (key == "labels" && !rt.labels.empty()) emit(label_line(rt.labels), w);
            else if (key == "ports" && !rt.ports.empty()) emit("EXPOSE " + join(rt.ports, " "), w);
            else if (key == "volumes" && !rt.volumes.empty()) emit("VOLUME " + json_list(rt.volumes), w);
            else if (key == "workdir") emit("WORKDIR " + quote(rt.workdir), w);
            else if (key == "user") emit("USER " + quote(rt.user), w);
            else if (key == "stop_signal") emit("STOPSIGNAL " + rt.stop_signal, w);
            else if (key == "healthcheck") {
                const auto& h = *rt.healthcheck;
                if (h.test[0] == "NONE") {
                    emit("HEALTHCHECK NONE", w);
                    continue;
                }
                std::string l = "HEALTHCHECK";
                if (!h.interval.empty()) l += " --interval=" + h.interval;
                if (!h.timeout.empty()) l += " --timeout=" + h.timeout;
                if (!h.start_period.empty()) l += " --start-period=" + h.start_period;
                if (!h.start_interval.empty()) l += " --start-interval=" + h.start_interval;
                if (h.retries) l += " --retries=" + std::to_string(*h.retries);
                if (h.test[0] == "CMD-SHELL") l += " CMD " + h.test[1];
                else l += " CMD " + json_list(std::vector<std::string>(h.test.begin() + 1, h.test.end()));
                emit(l, w);
            }
        }
        // security: labels `bock run` reads; non_root is checked by the build.
        auto sec = security_labels(bf.security);
        if (!sec.empty()) {
            if (comments) {
                out.text += "# security (applied by `bock run` unless its command line overrides it):\n";
                const auto& s = bf.security;
                if (!s.cap_drop.empty()) out.text += "#   capabilities drop: " + join(s.cap_drop, ", ") + "\n";
                if (!s.cap_add.empty()) out.text += "#   capabilities add: " + join(s.cap_add, ", ") + "\n";
                if (!s.seccomp.empty()) out.text += "#   seccomp: " + s.seccomp + "\n";
                if (s.read_only_rootfs) out.text += std::string("#   read-only root filesystem: ") + (*s.read_only_rootfs ? "yes" : "no") + "\n";
                if (s.no_new_privileges) out.text += std::string("#   no new privileges: ") + (*s.no_new_privileges ? "yes" : "no") + "\n";
                if (s.non_root) out.text += "#   non_root: the build fails if the final user is root\n";
            }
            emit(label_line(sec), bf.security.at);
        }
    }
    return out;
}

Result<Containerfile> lower_bockfile(const Bockfile& bf) {
    auto lowered = bockfile_to_containerfile(bf, false);
    auto cf = BOCK_TRY(parse_containerfile(lowered.text, bf.file + " (as a Containerfile)"));
    std::vector<Instruction*> all;
    for (auto& a : cf.global_args) all.push_back(&a);
    for (auto& s : cf.stages) {
        all.push_back(&s.from);
        for (auto& i : s.body) all.push_back(&i);
    }
    if (all.size() != lowered.places.size())
        return make_error("{}: the lowered Containerfile has {} instructions for {} places", bf.file, all.size(), lowered.places.size())
            .with_hint("this is a bug in Bock; --print-containerfile shows the text");
    for (size_t i = 0; i < all.size(); ++i) {
        all[i]->file = bf.file;
        all[i]->line = lowered.places[i].line;
        all[i]->column = lowered.places[i].column;
    }
    return cf;
}

}  // namespace bock::builder

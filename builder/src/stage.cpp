// One stage of a build: FROM, then each instruction either changes the
// config (ENV, CMD, LABEL, ...) or makes a layer (RUN, COPY, ADD, WORKDIR)
// through the engine, looked up in the cache first. The cache key of a
// step chains its parent's key with the instruction after substitution,
// the build args in scope (RUN) and the digest of its sources (COPY/ADD).
#include <fcntl.h>
#include <sys/stat.h>

#include <linux/openat2.h>

#include <algorithm>
#include <cctype>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/http_get.hpp"
#include "bock/engine/build_step.hpp"
#include "bock/engine/images.hpp"
#include "bock/engine/run.hpp"
#include "copy.hpp"
#include "stage.hpp"

namespace bock::builder {

using json = nlohmann::json;

void BuildShared::say(std::string_view line) {
    if (!req.progress) return;
    std::lock_guard lk(mu);
    req.progress(line);
}

namespace {

struct State {
    image::ImageRecord img;
    json config = json::object();
    std::string key;
    std::vector<std::string> pending;  // created_by of config-only steps since the last image
    bool dirty = false;
    Vars args;                          // ARGs declared in this stage
    std::vector<std::string> shell{"/bin/sh", "-c"};
    bool cmd_set = false;
};

Error at(const Instruction& ins, const std::string& msg) { return make_error("{}: {}", ins.where(), msg); }

// ARGs overlaid by ENV: what $VAR means in an instruction.
Vars scope(const State& st) {
    Vars v = st.args;
    if (st.config.contains("Env") && st.config["Env"].is_array())
        for (const auto& e : st.config["Env"]) {
            auto s = e.get<std::string>();
            auto eq = s.find('=');
            if (eq != std::string::npos) v[s.substr(0, eq)] = s.substr(eq + 1);
        }
    return v;
}

void set_env(json& c, const std::string& k, const std::string& v) {
    json env = json::array();
    if (c.contains("Env") && c["Env"].is_array())
        for (const auto& e : c["Env"])
            if (!e.get<std::string>().starts_with(k + "=")) env.push_back(e);
    env.push_back(k + "=" + v);
    c["Env"] = env;
}

Result<int64_t> duration_ns(const std::string& s, const Instruction& ins) {
    // Go's time.ParseDuration for what HEALTHCHECK takes: 1h2m3s, 500ms, 10s.
    int64_t total = 0;
    size_t i = 0;
    if (s.empty()) return at(ins, "an empty duration");
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) j++;
        if (j == i) return at(ins, fmt::format("invalid duration `{}`", s)).with_hint("write e.g. 30s, 1m30s or 500ms");
        double n = std::stod(s.substr(i, j - i));
        size_t k = j;
        while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) k++;
        std::string unit = s.substr(j, k - j);
        double mul = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : unit == "m" ? 60e9 : unit == "h" ? 3600e9 : -1;
        if (mul < 0) return at(ins, fmt::format("invalid duration `{}`", s)).with_hint("write e.g. 30s, 1m30s or 500ms");
        total += static_cast<int64_t>(n * mul);
        i = k;
    }
    return total;
}

std::vector<std::string> command(const Instruction& ins, const State& st) {
    if (ins.json) return *ins.json;
    auto v = st.shell;
    v.push_back(ins.args);
    return v;
}

std::string abs_path(const std::string& p, const json& config) {
    if (p.starts_with("/")) return p;
    std::string wd = config.contains("WorkingDir") && config["WorkingDir"].is_string() ? config["WorkingDir"].get<std::string>() : "";
    if (wd.empty()) wd = "/";
    return wd.ends_with("/") ? wd + p : wd + "/" + p;
}

class StageRunner {
public:
    StageRunner(BuildShared& b, const Stage& s) : b_(b), s_(s) {}

    Result<void> run() {
        total_ = static_cast<int>(s_.body.size()) + 1;
        BOCK_TRY(from());
        std::vector<Instruction> body;
        // ONBUILD triggers of the base image run first.
        if (st_.config.contains("OnBuild") && st_.config["OnBuild"].is_array()) {
            for (const auto& t : st_.config["OnBuild"])
                body.push_back(BOCK_TRY(parse_instruction(t.get<std::string>(), s_.from.file, s_.from.line)
                                            .context("an ONBUILD trigger of the base image")));
            st_.config.erase("OnBuild");
        }
        body.insert(body.end(), s_.body.begin(), s_.body.end());
        total_ = static_cast<int>(body.size()) + 1;
        for (const auto& ins : body) {
            if (b_.interrupted && *b_.interrupted)
                return make_error("{}: the build was interrupted", ins.where()).with_exit(130);
            step_++;
            say_step(ins.text);
            BOCK_TRY(instruction(ins));
        }
        if (st_.dirty || st_.img.manifest.hex.empty()) BOCK_TRY(finish());
        std::lock_guard lk(b_.mu);
        b_.results[static_cast<size_t>(s_.index)] = StageResult{st_.img, st_.config};
        return ok();
    }

private:
    void say_step(const std::string& text) {
        std::string prefix = b_.multi ? fmt::format("[{}/{}] ", s_.index + 1, b_.cf.stages.size()) : "";
        b_.say(fmt::format("{}STEP {}/{}: {}", prefix, step_, total_, text));
    }

    Result<void> from() {
        step_ = 1;
        const auto& ins = s_.from;
        auto words = BOCK_TRY(expand_words(ins.args, b_.global, b_.cf.escape).context(ins.where()));
        std::string name = words.at(0);
        if (auto p = ins.flag("platform")) {
            auto plat = BOCK_TRY(expand_word(*p, b_.global, b_.cf.escape).context(ins.where()));
            auto host = b_.global.at("TARGETPLATFORM");
            if (!plat.empty() && plat != host && plat != "linux")
                return at(ins, fmt::format("--platform={}: Bock builds for this machine's platform ({}) only", plat, host))
                    .with_hint(fmt::format("drop --platform or use --platform={}", host));
        }
        say_step(ins.text);
        std::string lname = name;
        for (auto& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string how;
        for (int i = 0; i < s_.index; ++i)
            if (b_.cf.stages[static_cast<size_t>(i)].name == lname && !lname.empty()) {
                std::lock_guard lk(b_.mu);
                auto& r = b_.results[static_cast<size_t>(i)];
                if (!r) return at(ins, fmt::format("the stage `{}` was not built", name));
                st_.img = r->image;
                st_.config = r->config;
                how = "stage";
            }
        if (how.empty()) {
            if (lname == "scratch") {
                st_.img = {};
            } else {
                auto& ctx = b_.ctx;
                BOCK_TRY(engine::ensure_image(ctx, name, engine::PullPolicy::missing, {}).context(ins.where()));
                st_.img = BOCK_TRY(engine::resolve_image(ctx, name).context(ins.where()));
                st_.config = BOCK_TRY(image_config_object(ctx, st_.img));
            }
        }
        // An image without PATH gets the default one, as buildah and BuildKit do.
        bool has_path = false;
        if (st_.config.contains("Env") && st_.config["Env"].is_array())
            for (const auto& e : st_.config["Env"]) has_path = has_path || e.get<std::string>().starts_with("PATH=");
        if (!has_path) set_env(st_.config, "PATH", paths::kDefaultPath);
        st_.key = chain_key(fmt::format("format={} timestamp={}", b_.req.format, b_.req.timestamp.value_or(-1)),
                            st_.img.manifest.hex.empty() ? std::string("scratch") : "image " + st_.img.config.hex);
        return ok();
    }

    image::CommitOptions commit_opts(const std::string& created_by) {
        image::CommitOptions o;
        o.docker_format = b_.req.format == "docker";
        o.timestamp = b_.req.timestamp;
        o.created_by = created_by;
        o.config_json = st_.config.dump();
        o.empty_history = st_.pending;
        return o;
    }

    // A config-only step: the key moves on, the image is made later.
    void config_step(const Instruction& ins, const std::string& expanded) {
        st_.key = chain_key(st_.key, ins.keyword + " " + expanded);
        st_.pending.push_back(ins.text);
        st_.dirty = true;
    }

    Result<void> finish() {
        st_.key = chain_key(st_.key, "COMMIT");
        if (!b_.req.no_cache)
            if (auto hit = BOCK_TRY(cache_get(b_, st_.key))) {
                st_.img = *hit;
                b_.say(fmt::format("--> Using cache {}", hit->config.hex.substr(0, 12)));
                return ok();
            }
        auto opts = commit_opts(st_.pending.empty() ? "bock build" : st_.pending.back());
        if (!st_.pending.empty()) opts.empty_history.pop_back();
        st_.img = BOCK_TRY(engine::commit_config_only(b_.ctx, st_.img, opts));
        BOCK_TRY(cache_put(b_, st_.key, st_.img));
        st_.pending.clear();
        st_.dirty = false;
        b_.say(fmt::format("--> {}", st_.img.config.hex.substr(0, 12)));
        return ok();
    }

    // A step that makes a layer: from the cache, or through the engine.
    Result<void> layer_step(const Instruction& ins, const std::string& what, engine::BuildStepRequest req) {
        st_.key = chain_key(st_.key, ins.keyword + " " + what);
        {
            std::lock_guard lk(b_.mu);
            b_.steps++;
        }
        if (!b_.req.no_cache)
            if (auto hit = BOCK_TRY(cache_get(b_, st_.key))) {
                st_.img = *hit;
                st_.pending.clear();
                st_.dirty = false;
                std::lock_guard lk(b_.mu);
                b_.cached++;
                if (b_.req.progress) b_.req.progress(fmt::format("--> Using cache {}", hit->config.hex.substr(0, 12)));
                return ok();
            }
        req.base = st_.img;
        req.commit = commit_opts(ins.text);
        auto r = BOCK_TRY(engine::run_build_step(b_.ctx, req).context(ins.where()));
        if (b_.interrupted && *b_.interrupted)
            return make_error("{}: the build was interrupted", ins.where()).with_exit(130);
        if (r.exit_code != 0)
            return make_error("{}: `{}` exited with status {}", ins.where(), ins.text, r.exit_code)
                .with_hint("the step's output is above; fix the command and build again")
                .with_exit(1);
        st_.img = r.image;
        st_.pending.clear();
        st_.dirty = false;
        BOCK_TRY(cache_put(b_, st_.key, st_.img));
        b_.say(fmt::format("--> {}", st_.img.config.hex.substr(0, 12)));
        return ok();
    }

    Result<void> instruction(const Instruction& ins) {
        const auto& k = ins.keyword;
        const char esc = b_.cf.escape;
        auto vars = scope(st_);
        auto word = [&](const std::string& s) { return expand_word(s, vars, esc).context(ins.where()); };
        auto& c = st_.config;
        if (k == "RUN") return run_step(ins);
        if (k == "COPY" || k == "ADD") return copy_step(ins);
        if (k == "WORKDIR") {
            auto wd = BOCK_TRY(word(ins.args));
            wd = abs_path(wd, c);
            c["WorkingDir"] = wd;
            engine::BuildStepRequest req;
            req.fill = [wd](int root) { return mkdir_in_root(root, wd); };
            return layer_step(ins, wd, std::move(req));
        }
        if (k == "ENV") {
            auto pairs = BOCK_TRY(expand_pairs(ins.args, vars, esc, true).context(ins.where()));
            std::string what;
            for (const auto& kv : pairs) {
                set_env(c, kv.key, *kv.value);
                what += kv.key + "=" + *kv.value + "\n";
            }
            config_step(ins, what);
            return ok();
        }
        if (k == "ARG") {
            auto pairs = BOCK_TRY(expand_pairs(ins.args, vars, esc, false).context(ins.where()));
            std::string what;
            for (const auto& kv : pairs) {
                {
                    std::lock_guard lk(b_.mu);
                    b_.used_args.insert(kv.key);
                }
                std::optional<std::string> v;
                if (auto it = b_.req.build_args.find(kv.key); it != b_.req.build_args.end()) v = it->second;
                else if (kv.value) v = kv.value;
                else if (auto g = b_.global.find(kv.key); g != b_.global.end()) v = g->second;
                if (v) st_.args[kv.key] = *v;
                else st_.args.erase(kv.key);
                what += kv.key + "=" + v.value_or("") + "\n";
            }
            // ARG values reach the cache key through the RUN steps that see them.
            (void)what;
            return ok();
        }
        if (k == "LABEL") {
            auto pairs = BOCK_TRY(expand_pairs(ins.args, vars, esc, true).context(ins.where()));
            if (!c.contains("Labels") || !c["Labels"].is_object()) c["Labels"] = json::object();
            std::string what;
            for (const auto& kv : pairs) {
                c["Labels"][kv.key] = *kv.value;
                what += kv.key + "=" + *kv.value + "\n";
            }
            config_step(ins, what);
            return ok();
        }
        if (k == "USER") {
            c["User"] = BOCK_TRY(word(ins.args));
            config_step(ins, c["User"].get<std::string>());
            return ok();
        }
        if (k == "EXPOSE") {
            if (!c.contains("ExposedPorts") || !c["ExposedPorts"].is_object()) c["ExposedPorts"] = json::object();
            std::string what;
            for (auto p : BOCK_TRY(expand_words(ins.args, vars, esc).context(ins.where()))) {
                for (auto& ch : p) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                if (p.find('/') == std::string::npos) p += "/tcp";
                auto port = p.substr(0, p.find('/'));
                auto proto = p.substr(p.find('/') + 1);
                if (port.empty() || port.find_first_not_of("0123456789-") != std::string::npos || (proto != "tcp" && proto != "udp" && proto != "sctp"))
                    return at(ins, fmt::format("invalid port `{}`", p)).with_hint("write PORT[/tcp|udp|sctp], e.g. EXPOSE 80/tcp");
                c["ExposedPorts"][p] = json::object();
                what += p + " ";
            }
            config_step(ins, what);
            return ok();
        }
        if (k == "VOLUME") {
            if (!c.contains("Volumes") || !c["Volumes"].is_object()) c["Volumes"] = json::object();
            std::vector<std::string> vols;
            if (ins.json) {
                for (const auto& v : *ins.json) vols.push_back(BOCK_TRY(word(v)));
            } else {
                vols = BOCK_TRY(expand_words(ins.args, vars, esc).context(ins.where()));
            }
            std::string what;
            for (const auto& v : vols) {
                if (v.empty()) return at(ins, "VOLUME with an empty path").with_hint("name the directory, e.g. VOLUME /data");
                c["Volumes"][v] = json::object();
                what += v + "\n";
            }
            // The directories exist in the image, as buildah makes them.
            engine::BuildStepRequest req;
            req.fill = [vols, this](int root) -> Result<void> {
                for (const auto& v : vols) BOCK_TRY(mkdir_in_root(root, abs_path(v, st_.config)));
                return ok();
            };
            return layer_step(ins, what, std::move(req));
        }
        if (k == "STOPSIGNAL") {
            c["StopSignal"] = BOCK_TRY(word(ins.args));
            config_step(ins, c["StopSignal"].get<std::string>());
            return ok();
        }
        if (k == "CMD") {
            c["Cmd"] = command(ins, st_);
            st_.cmd_set = true;
            config_step(ins, c["Cmd"].dump());
            return ok();
        }
        if (k == "ENTRYPOINT") {
            c["Entrypoint"] = command(ins, st_);
            if (!st_.cmd_set) c.erase("Cmd");  // an inherited CMD is reset
            config_step(ins, c["Entrypoint"].dump());
            return ok();
        }
        if (k == "SHELL") {
            st_.shell = *ins.json;
            c["Shell"] = *ins.json;
            note_docker_only(ins);
            config_step(ins, c["Shell"].dump());
            return ok();
        }
        if (k == "ONBUILD") {
            if (!c.contains("OnBuild") || !c["OnBuild"].is_array()) c["OnBuild"] = json::array();
            c["OnBuild"].push_back(ins.args);
            note_docker_only(ins);
            config_step(ins, ins.args);
            return ok();
        }
        if (k == "HEALTHCHECK") return healthcheck(ins);
        if (k == "MAINTAINER") {
            config_step(ins, ins.args);
            return ok();
        }
        return at(ins, fmt::format("{} is not handled", k));
    }

    void note_docker_only(const Instruction& ins) {
        if (b_.req.format == "docker") return;
        std::lock_guard lk(b_.mu);
        if (b_.warned_format) return;
        b_.warned_format = true;
        log::warn("{}: {} is not part of the OCI image format and is dropped; build with --format docker to keep it",
                  ins.where(), ins.keyword);
    }

    Result<void> healthcheck(const Instruction& ins) {
        auto& c = st_.config;
        std::string rest = ins.args;
        std::string first = rest.substr(0, rest.find_first_of(" \t"));
        for (auto& ch : first) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        json h = json::object();
        if (first == "NONE") {
            if (!ins.flags.empty()) return at(ins, "HEALTHCHECK NONE takes no flags").with_hint("remove the flags");
            h["Test"] = json::array({"NONE"});
        } else if (first == "CMD") {
            auto cmdtext = rest.substr(3);
            while (!cmdtext.empty() && std::isspace(static_cast<unsigned char>(cmdtext.front()))) cmdtext.erase(0, 1);
            if (cmdtext.empty()) return at(ins, "HEALTHCHECK CMD needs a command");
            auto j = json::parse(cmdtext, nullptr, false);
            if (cmdtext.starts_with("[") && j.is_array()) {
                json t = json::array({"CMD"});
                for (const auto& a : j) t.push_back(a);
                h["Test"] = t;
            } else {
                h["Test"] = json::array({"CMD-SHELL", cmdtext});
            }
            for (auto [flag, key] : {std::pair{"interval", "Interval"}, {"timeout", "Timeout"}, {"start-period", "StartPeriod"},
                                     {"start-interval", "StartInterval"}})
                if (auto v = ins.flag(flag)) h[key] = BOCK_TRY(duration_ns(*v, ins));
            if (auto v = ins.flag("retries")) {
                char* end = nullptr;
                long n = std::strtol(v->c_str(), &end, 10);
                if (*end || n < 0) return at(ins, fmt::format("--retries={} is not a number", *v));
                if (n) h["Retries"] = n;
            }
        } else {
            return at(ins, fmt::format("HEALTHCHECK takes NONE or CMD, got `{}`", first))
                .with_hint("write HEALTHCHECK [--interval=30s] CMD command, or HEALTHCHECK NONE");
        }
        c["Healthcheck"] = h;
        note_docker_only(ins);
        config_step(ins, h.dump());
        return ok();
    }

    // --from=REF (COPY, RUN --mount=type=bind): a stage built before, or an image.
    Result<image::ImageRecord> from_image(const Instruction& ins, const std::string& ref) {
        std::string lref = ref;
        for (auto& ch : lref) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        for (int i = 0; i < s_.index; ++i) {
            const auto& other = b_.cf.stages[static_cast<size_t>(i)];
            if ((!other.name.empty() && other.name == lref) || lref == std::to_string(i)) {
                std::lock_guard lk(b_.mu);
                auto& r = b_.results[static_cast<size_t>(i)];
                if (!r) return at(ins, fmt::format("from={}: the stage was not built", ref));
                return r->image;
            }
        }
        if (lref == std::to_string(s_.index) || (!s_.name.empty() && lref == s_.name))
            return at(ins, fmt::format("from={} names this stage itself", ref)).with_hint("name an earlier stage");
        BOCK_TRY(engine::ensure_image(b_.ctx, ref, engine::PullPolicy::missing, {}).context(ins.where()));
        return BOCK_TRY(engine::resolve_image(b_.ctx, ref).context(ins.where()));
    }

    // --mount=type=cache|tmpfs,target=PATH[,id=ID][,sharing=...][,readonly]
    Result<engine::StepMount> run_mount(const Instruction& ins, const std::string& spec, std::string& key) {
        engine::StepMount m;
        std::string type = "bind", id, required, source, from;
        bool rw = false;
        for (const auto& kv : strings::split(spec, ',')) {
            auto eq = kv.find('=');
            std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
            if (k == "type") type = v;
            else if (k == "source" || k == "src") source = v;
            else if (k == "from") from = v;
            else if (k == "rw" || k == "readwrite") rw = v.empty() || v == "true";
            else if (k == "target" || k == "dst" || k == "destination") m.target = abs_path(v, st_.config);
            else if (k == "id") id = v;
            else if (k == "readonly" || k == "ro") m.readonly = v.empty() || v == "true";
            else if (k == "required") required = v;
            else if (k == "sharing" || k == "mode" || k == "uid" || k == "gid") continue;
            else return at(ins, fmt::format("RUN --mount: unknown option `{}`", k)).with_hint("type=bind|cache|tmpfs|secret, target=PATH, source=PATH, from=STAGE, id=ID, readonly");
        }
        if (type == "secret") {
            // The file given with --secret id=ID,src=FILE, read-only; its content is not part of the cache key.
            if (id.empty() && !m.target.empty()) id = m.target.substr(m.target.rfind('/') + 1);
            if (m.target.empty()) m.target = "/run/secrets/" + id;
            auto it = b_.req.secrets.find(id);
            if (it == b_.req.secrets.end())
                return at(ins, fmt::format("RUN --mount=type=secret: no secret `{}` was given", id))
                    .with_hint(fmt::format("pass it with --secret id={},src=FILE", id));
            m.type = "bind";
            m.source = it->second;
            m.readonly = true;
            m.file = true;
            return m;
        }
        if (m.target.empty()) return at(ins, "RUN --mount needs target=PATH").with_hint("e.g. --mount=type=cache,target=/root/.cache");
        if (type == "tmpfs") {
            m.type = "tmpfs";
        } else if (type == "cache") {
            // One directory per id (default: the target), kept across builds in the store.
            m.type = "bind";
            m.source = fs::join(b_.ctx.store_root, "build-cache-mounts/" + image::sha256_of(id.empty() ? m.target : id).hex.substr(0, 32));
            BOCK_TRY(fs::mkdir_p(m.source, 0755));
        } else if (type == "bind") {
            // Read-only, from the build context or (from=) a stage or an image.
            if (rw)
                return at(ins, "RUN --mount=type=bind,rw is not supported: Bock binds read-only")
                    .with_hint("copy the files somewhere writable in the step, or COPY them");
            m.type = "bind";
            m.readonly = true;
            while (source.starts_with("/") || source.starts_with("./")) source.erase(0, source[0] == '/' ? 1 : 2);
            while (source.ends_with("/")) source.pop_back();
            if (source == ".") source.clear();
            if (!from.empty()) {
                auto vars = scope(st_);
                std::string ref = BOCK_TRY(expand_word(from, vars, b_.cf.escape).context(ins.where()));
                m.image = BOCK_TRY(from_image(ins, ref));
                m.source = "/" + source;
                key = "from " + (m.image->manifest.hex.empty() ? "scratch" : m.image->config.hex) + "\n";
                return m;
            }
            // The context's file or directory, resolved inside the context.
            auto src = sys::openat2(b_.context_fd.get(), source.empty() ? "." : source, O_PATH, 0, RESOLVE_IN_ROOT);
            if (!src)
                return at(ins, fmt::format("RUN --mount=type=bind: `{}`: {}", source, src.error().message()))
                    .with_hint("source= names a path in the build context (or in the from= stage)");
            struct stat st {};
            if (::fstat(src->get(), &st) < 0) return errno_error("stat `{}`", source);
            char link[32];
            sys::raw::fd_path(link, src->get());
            m.source = BOCK_TRY(fs::readlink(link));
            m.file = !S_ISDIR(st.st_mode);
            key = BOCK_TRY(hash_sources(b_.context_fd.get(), {source}, &b_.ignore).context(ins.where())) + "\n";
        } else {
            return at(ins, fmt::format("RUN --mount=type={} is not supported", type))
                .with_hint("type=bind, cache, tmpfs and secret are");
        }
        return m;
    }

    Result<void> run_step(const Instruction& ins) {
        std::vector<engine::StepMount> mounts;
        std::string mount_text;
        for (const auto& f : ins.flags) {
            if (!f.starts_with("--mount=")) continue;
            std::string key;  // what a bind shows: the context's files, or the from= image
            mounts.push_back(BOCK_TRY(run_mount(ins, f.substr(8), key)));
            mount_text += f + "\n" + key;
        }
        std::string network = b_.req.network.empty() ? "default" : b_.req.network;
        if (auto n = ins.flag("network")) {
            if (*n != "none" && *n != "default" && *n != "host")
                return at(ins, fmt::format("RUN --network={}: not a network a step can use", *n))
                    .with_hint("write --network=none, host or default");
            network = *n;
            mount_text += "network " + network + "\n";
        }
        engine::BuildStepRequest req;
        req.process.network = network;
        std::vector<std::string> args;
        if (!ins.heredocs.empty()) {
            std::string a = ins.args;
            while (!a.empty() && std::isspace(static_cast<unsigned char>(a.back()))) a.pop_back();
            if (ins.heredocs.size() != 1 || !a.starts_with("<<") || a.find_first_of(" \t") != std::string::npos)
                return at(ins, "RUN with a heredoc is supported as `RUN <<EOF` alone")
                    .with_hint("put the whole script in the heredoc");
            args = st_.shell;
            args.push_back(ins.heredocs[0].content);
        } else {
            args = command(ins, st_);
        }
        if (args.empty()) return at(ins, "RUN with an empty command");
        // The environment: the image's ENV, then the ARGs in scope that ENV does not set.
        std::vector<std::string> env;
        if (st_.config.contains("Env") && st_.config["Env"].is_array())
            for (const auto& e : st_.config["Env"]) env.push_back(e.get<std::string>());
        bool has_path = std::any_of(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("PATH="); });
        if (!has_path) env.insert(env.begin(), std::string("PATH=") + paths::kDefaultPath);
        std::string argtext;
        for (const auto& [k, v] : st_.args) {
            argtext += k + "=" + v + "\n";
            bool set = std::any_of(env.begin(), env.end(), [&](const std::string& e) { return e.starts_with(k + "="); });
            if (!set) env.push_back(k + "=" + v);
        }
        req.process.args = args;
        req.process.env = env;
        req.process.cwd = st_.config.value("WorkingDir", std::string());
        if (req.process.cwd.empty()) req.process.cwd = "/";
        req.process.user = st_.config.value("User", std::string());
        req.process.forward_signals = !b_.parallel;
        req.process.cancel = b_.interrupted;
        req.process.mounts = mounts;
        return layer_step(ins, json(args).dump() + "\n" + argtext + mount_text, std::move(req));
    }

    Result<void> copy_step(const Instruction& ins) {
        auto vars = scope(st_);
        const char esc = b_.cf.escape;
        bool add = ins.keyword == "ADD";
        std::vector<std::string> words;
        if (ins.json) {
            for (const auto& w : *ins.json) words.push_back(BOCK_TRY(expand_word(w, vars, esc).context(ins.where())));
        } else {
            words = BOCK_TRY(expand_words(ins.args, vars, esc).context(ins.where()));
        }
        if (words.size() < 2)
            return at(ins, fmt::format("{} needs a source and a destination", ins.keyword))
                .with_hint(fmt::format("write {} SRC... DEST", ins.keyword));
        std::string dest = abs_path(words.back(), st_.config);
        if (words.back().ends_with("/") && !dest.ends_with("/")) dest += "/";
        words.pop_back();
        CopyOptions opts;
        opts.extract_archives = add;
        std::optional<std::string> chown;
        if (auto v = ins.flag("chown")) chown = BOCK_TRY(expand_word(*v, vars, esc).context(ins.where()));
        if (auto v = ins.flag("chmod")) {
            char* end = nullptr;
            long m = std::strtol(v->c_str(), &end, 8);
            if (v->empty() || *end || m < 0 || m > 07777)
                return at(ins, fmt::format("--chmod={} is not an octal mode", *v)).with_hint("write e.g. --chmod=0755");
            opts.mode = static_cast<mode_t>(m);
        }
        size_t nurls = 0;
        for (const auto& w : words) {
            if (w.starts_with("git@") || w.ends_with(".git"))
                return at(ins, fmt::format("{} of the git repository `{}`: Bock does not clone build sources",
                                           ins.keyword, w))
                    .with_hint("clone it beforehand into the context and COPY it, or clone it in a RUN step");
            if (w.starts_with("http://") || w.starts_with("https://")) nurls++;
        }
        if (nurls > 0 && !add)
            return at(ins, "COPY takes files from the build context, not URLs").with_hint("write ADD to download a URL");
        if (nurls > 0 && nurls != words.size())
            return at(ins, "ADD cannot mix URLs and files of the context").with_hint("write one ADD for each");
        if (add && ins.flag("checksum") && nurls != 1)
            return at(ins, "ADD --checksum needs exactly one URL source").with_hint("write one ADD per URL");
        std::string flags = fmt::format("chown={} chmod={:o}", chown.value_or(""), opts.mode.value_or(0));
        if (nurls > 0) return add_urls(ins, words, dest, flags, opts, chown, vars, esc);

        engine::BuildStepRequest req;
        // COPY <<EOF dest: files from the heredocs, named by the markers.
        if (!ins.heredocs.empty()) {
            std::vector<std::pair<std::string, std::string>> files;
            for (const auto& h : ins.heredocs) {
                std::string content = h.content;
                std::string target = ins.heredocs.size() == 1 && !dest.ends_with("/") ? dest : (dest.ends_with("/") ? dest : dest + "/") + h.name;
                files.push_back({target, content});
            }
            std::string what = flags;
            for (const auto& [t, content] : files) what += "\n" + t + "\n" + image::sha256_of(content).hex;
            req.fill = [this, files, opts, chown](int root) mutable -> Result<void> {
                if (chown) opts.owner = BOCK_TRY(engine::resolve_chown(root, *chown));
                for (const auto& [t, content] : files) BOCK_TRY(write_file_in_root(root, t, content, opts));
                return ok();
            };
            return layer_step(ins, what, std::move(req));
        }

        auto from = ins.flag("from");
        if (!from) {
            auto sources = BOCK_TRY(expand_sources(b_.context_fd.get(), words, &b_.ignore).context(ins.where()));
            auto digest = BOCK_TRY(hash_sources(b_.context_fd.get(), sources, &b_.ignore).context(ins.where()));
            std::string what = flags + "\n" + dest + "\n" + digest;
            for (const auto& s : sources) what += "\n" + s;
            int cfd = b_.context_fd.get();
            const IgnoreRules* ign = &b_.ignore;
            req.fill = [cfd, ign, sources, dest, opts, chown](int root) mutable -> Result<void> {
                opts.ignore = ign;
                if (chown) opts.owner = BOCK_TRY(engine::resolve_chown(root, *chown));
                return copy_sources(cfd, sources, root, dest, opts);
            };
            return layer_step(ins, what, std::move(req));
        }
        // --from: a stage built before, or an image.
        std::string ref = BOCK_TRY(expand_word(*from, vars, esc).context(ins.where()));
        image::ImageRecord src = BOCK_TRY(from_image(ins, ref));
        std::string what = flags + "\nfrom " + (src.manifest.hex.empty() ? "scratch" : src.config.hex) + "\n" + dest;
        for (const auto& w : words) what += "\n" + w;
        auto& ctx = b_.ctx;
        std::string where = ins.where();
        opts.keep_owner = true;
        req.fill = [&ctx, src, words, dest, opts, chown, where](int root) mutable -> Result<void> {
            if (chown) opts.owner = BOCK_TRY(engine::resolve_chown(root, *chown));
            return engine::with_image_root(ctx, src, [&](int sroot) -> Result<void> {
                auto sources = BOCK_TRY(expand_sources(sroot, words, nullptr).context(where));
                return copy_sources(sroot, sources, root, dest, opts);
            });
        };
        return layer_step(ins, what, std::move(req));
    }

    // ADD URL... DEST: each downloaded once per build (the cache key is its
    // content digest, as BuildKit's), written with mode 0600 unless
    // --chmod, named by the URL's last path component when DEST is a
    // directory; --checksum=sha256:HEX checked before anything is written.
    template <typename Vars, typename Esc>
    Result<void> add_urls(const Instruction& ins, const std::vector<std::string>& urls, const std::string& dest,
                          const std::string& flags, CopyOptions opts, std::optional<std::string> chown,
                          const Vars& vars, const Esc& esc) {
        if (urls.size() > 1 && !dest.ends_with("/"))
            return at(ins, "ADD of several URLs needs a directory destination").with_hint("end the destination with /");
        std::optional<std::string> checksum;
        if (auto v = ins.flag("checksum")) checksum = BOCK_TRY(expand_word(*v, vars, esc).context(ins.where()));
        if (checksum && !checksum->starts_with("sha256:"))
            return at(ins, fmt::format("--checksum={}: not a sha256 digest", *checksum))
                .with_hint("write --checksum=sha256:<64 hex digits>");
        if (!opts.mode) opts.mode = 0600;
        std::vector<std::pair<std::string, std::string>> files;
        std::string what = flags + "\nurl";
        for (const auto& url : urls) {
            b_.say(fmt::format("downloading {}", url));
            auto got = BOCK_TRY(image::http_get(url, size_t{1} << 30).context(ins.where()));
            auto digest = image::sha256_of(got.body);
            if (checksum && digest.str() != *checksum)
                return at(ins, fmt::format("ADD --checksum: `{}` has the digest {}, not {}", url, digest.str(), *checksum))
                    .with_hint("check the URL, or the digest you expect");
            std::string target = dest;
            if (dest.ends_with("/")) {
                std::string path = url.substr(url.find("://") + 3);
                path = path.substr(0, path.find_first_of("?#"));
                auto slash = path.find('/');
                std::string name = slash == std::string::npos ? "" : path.substr(path.rfind('/') + 1);
                if (name.empty())
                    return at(ins, fmt::format("ADD `{}`: the URL names no file for the directory `{}`", url, dest))
                        .with_hint("give the file's path as the destination");
                target = dest + name;
            }
            what += "\n" + target + "\n" + url + "\n" + digest.hex;
            files.push_back({target, std::move(got.body)});
        }
        engine::BuildStepRequest req;
        req.fill = [this, files = std::move(files), opts, chown](int root) mutable -> Result<void> {
            if (chown) opts.owner = BOCK_TRY(engine::resolve_chown(root, *chown));
            for (const auto& [t, content] : files) BOCK_TRY(write_file_in_root(root, t, content, opts));
            return ok();
        };
        return layer_step(ins, what, std::move(req));
    }

    BuildShared& b_;
    const Stage& s_;
    State st_;
    int step_ = 0, total_ = 0;
};

}  // namespace

Result<void> build_stage(BuildShared& b, int index) {
    StageRunner r(b, b.cf.stages[static_cast<size_t>(index)]);
    return r.run();
}

}  // namespace bock::builder

// `bock build` as a straight list of stages: read the Containerfile, work
// out the global ARGs and which stages the target needs, build those
// stages (independent ones side by side), tag the result. Each stage is a
// walk over its instructions (stage.cpp).
#include "bock/builder/build.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <iostream>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include "bock/builder/bockfile.hpp"
#include "bock/builder/containerfile.hpp"
#include "bock/builder/expand.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/build_step.hpp"
#include "bock/image/default_image.hpp"
#include "stage.hpp"

namespace bock::builder {

namespace {

// Ctrl-C / SIGTERM while the builder itself works (copying, committing):
// the step in progress finishes or fails cleanly and no new one starts.
// While a RUN step's process runs, the runtime forwards the signal to it
// instead, and the step fails.
std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) { g_interrupted = true; }

struct InterruptGuard {
    struct sigaction old_int {}, old_term {};
    InterruptGuard() {
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &old_int);
        ::sigaction(SIGTERM, &sa, &old_term);
    }
    ~InterruptGuard() {
        ::sigaction(SIGINT, &old_int, nullptr);
        ::sigaction(SIGTERM, &old_term, nullptr);
    }
};

Result<std::pair<std::string, std::string>> read_file_arg(const BuildRequest& req) {
    if (req.file == "-") {
        std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return std::pair{std::string("<stdin>"), text};
    }
    std::string path = req.file;
    if (path.empty()) {
        for (const char* n : {"Containerfile", "Dockerfile", "Bockfile.yaml", "Bockfile.yml"})
            if (fs::exists(fs::join(req.context, n))) {
                path = fs::join(req.context, n);
                break;
            }
        if (path.empty())
            return make_error("no Containerfile, Dockerfile or Bockfile.yaml in the context directory `{}`", req.context)
                .with_hint("name one with -f FILE");
    }
    auto text = BOCK_TRY(fs::read_file(path).context("read the build file"));
    return std::pair{path, text};
}

// The file read and parsed: a Containerfile as it is, a Bockfile lowered
// to one (with the places of its keys), and what the Bockfile asks the
// build to check.
struct ReadFile {
    std::string path;
    Containerfile cf;
    std::optional<Bockfile> bockfile;
};

Result<ReadFile> read_build_file(const BuildRequest& req) {
    auto [file, text] = BOCK_TRY(read_file_arg(req));
    ReadFile out;
    out.path = file;
    if (looks_like_bockfile(file, text)) {
        out.bockfile = BOCK_TRY(parse_bockfile(text, file));
        out.cf = BOCK_TRY(lower_bockfile(*out.bockfile));
    } else {
        out.cf = BOCK_TRY(parse_containerfile(text, file));
    }
    return out;
}

// security.non_root: the final image's user must not be root.
Result<void> check_non_root(const Bockfile& bf, const nlohmann::json& config) {
    std::string user = config.contains("User") && config["User"].is_string() ? config["User"].get<std::string>() : "";
    std::string name = user.substr(0, user.find(':'));
    if (!name.empty() && name != "root" && name != "0") return ok();
    return make_error("{}:{}:{}: security.non_root: the image's user is {}", bf.file, bf.security.non_root_at.line,
                      bf.security.non_root_at.column, user.empty() ? "not set (root)" : "`" + user + "` (root)")
        .with_hint("set runtime.user (or a `user:` step) to a user other than root, e.g. user: \"1000\"");
}

// The ARGs every build knows (BuildKit's automatic platform ARGs).
Vars predefined_args() {
    std::string arch = image::go_arch();
    return {{"TARGETPLATFORM", "linux/" + arch}, {"TARGETOS", "linux"},        {"TARGETARCH", arch},
            {"TARGETVARIANT", ""},               {"BUILDPLATFORM", "linux/" + arch}, {"BUILDOS", "linux"},
            {"BUILDARCH", arch},                 {"BUILDVARIANT", ""}};
}

// The stage named by `ref` (a name or an index below `before`), or -1.
int stage_ref(const Containerfile& cf, const std::string& ref, int before) {
    std::string l = ref;
    for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < before; ++i)
        if (!cf.stages[static_cast<size_t>(i)].name.empty() && cf.stages[static_cast<size_t>(i)].name == l) return i;
    if (!l.empty() && std::all_of(l.begin(), l.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        int n = std::stoi(l);
        if (n < before) return n;
    }
    return -1;
}

}  // namespace

Result<BuildResult> build(engine::Context& ctx, const BuildRequest& req) {
    if (!req.network.empty()) {
        std::string kind = req.network.substr(0, req.network.find(':'));
        if (kind != "none" && kind != "host" && kind != "slirp4netns" && kind != "default")
            return make_error("--network {}: not a network build steps can use", req.network)
                .with_hint("use --network none, host or slirp4netns[:allow_host_loopback=true]");
    }
        if (req.format != "oci" && req.format != "docker")
        return make_error("unknown image format `{}`", req.format).with_hint("use --format oci or --format docker");
    if (!fs::is_dir(req.context))
        return make_error("the build context `{}` is not a directory", req.context).with_hint("give the context directory as the last argument");
    std::vector<image::Reference> tags;
    for (const auto& t : req.tags) {
        // A name without a registry is a local image: localhost/NAME, as podman build names it.
        auto ref = BOCK_TRY(image::Reference::parse(t).context(fmt::format("-t {}", t)));
        tags.push_back(image::local_candidates(ref).front());
    }
    auto read = BOCK_TRY(read_build_file(req));
    const std::string& file = read.path;
    const Containerfile& cf = read.cf;
    BOCK_TRY(check_cache_sources(req));
    BOCK_TRY(check_outputs(req));

    InterruptGuard guard;
    g_interrupted = false;
    BuildShared shared{ctx, req, cf};
    shared.interrupted = &g_interrupted;
    shared.cache_from = req.cache_from;
    shared.ignore = BOCK_TRY(IgnoreRules::load(req.context));
    shared.context_fd = BOCK_TRY(sys::open(req.context, O_PATH | O_DIRECTORY));
    BOCK_TRY(engine::cleanup_build_steps(ctx));

    // Global ARGs: visible to FROM lines, and to stages that declare them again.
    shared.global = predefined_args();
    for (const auto& ins : cf.global_args)
        for (auto& kv : BOCK_TRY(expand_pairs(ins.args, shared.global, cf.escape, false).context(ins.where()))) {
            shared.used_args.insert(kv.key);
            if (auto it = req.build_args.find(kv.key); it != req.build_args.end()) shared.global[kv.key] = it->second;
            else if (kv.value) shared.global[kv.key] = *kv.value;
            else shared.global.erase(kv.key);
        }

    // The target and the stages it needs.
    int target = static_cast<int>(cf.stages.size()) - 1;
    if (!req.target.empty()) {
        target = stage_ref(cf, req.target, static_cast<int>(cf.stages.size()));
        if (target < 0) {
            std::string names;
            for (const auto& s : cf.stages)
                if (!s.name.empty()) names += (names.empty() ? "" : ", ") + s.name;
            return make_error("--target {}: no such stage in {}", req.target, file)
                .with_hint(names.empty() ? "the file names no stages (FROM IMAGE AS NAME)" : "stages: " + names);
        }
    }
    shared.deps.resize(cf.stages.size());
    for (const auto& st : cf.stages) {
        auto& d = shared.deps[static_cast<size_t>(st.index)];
        auto from = BOCK_TRY(expand_word(st.from.args.substr(0, st.from.args.find_first_of(" \t")), shared.global, cf.escape)
                                 .context(st.from.where()));
        std::string lfrom = from;
        for (auto& c : lfrom) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (int i = 0; i < st.index; ++i)
            if (!cf.stages[static_cast<size_t>(i)].name.empty() && cf.stages[static_cast<size_t>(i)].name == lfrom) d.insert(i);
        for (const auto& ins : st.body) {
            if (auto f = ins.flag("from"); f && (ins.keyword == "COPY")) {
                int r = stage_ref(cf, *f, st.index);
                if (r >= 0) d.insert(r);
            }
            // RUN --mount=type=bind,from=STAGE
            if (ins.keyword == "RUN")
                for (const auto& fl : ins.flags) {
                    if (!fl.starts_with("--mount=")) continue;
                    for (const auto& kv : strings::split(fl.substr(8), ','))
                        if (kv.starts_with("from=")) {
                            int r = stage_ref(cf, kv.substr(5), st.index);
                            if (r >= 0) d.insert(r);
                        }
                }
        }
    }
    std::set<int> needed;
    std::vector<int> todo{target};
    while (!todo.empty()) {
        int s = todo.back();
        todo.pop_back();
        if (!needed.insert(s).second) continue;
        for (int d : shared.deps[static_cast<size_t>(s)]) todo.push_back(d);
    }
    shared.multi = needed.size() > 1;
    shared.results.resize(cf.stages.size());

    // Stages in waves: every stage whose dependencies are built runs, up to
    // `jobs` at once. A failure stops new stages; running ones finish.
    std::set<int> done;
    std::optional<Error> failure;
    while (done.size() < needed.size() && !failure) {
        std::vector<int> ready;
        for (int s : needed)
            if (!done.count(s) && std::all_of(shared.deps[static_cast<size_t>(s)].begin(), shared.deps[static_cast<size_t>(s)].end(),
                                             [&](int d) { return done.count(d) > 0; }))
                ready.push_back(s);
        if (ready.size() > static_cast<size_t>(std::max(1, req.jobs))) ready.resize(static_cast<size_t>(std::max(1, req.jobs)));
        if (ready.size() == 1) {
            auto r = build_stage(shared, ready[0]);
            if (!r) failure = std::move(r).error();
            done.insert(ready[0]);
            continue;
        }
        shared.parallel = true;
        std::vector<std::optional<Error>> errs(ready.size());
        std::vector<std::thread> threads;
        for (size_t i = 0; i < ready.size(); ++i)
            threads.emplace_back([&, i] {
                auto r = build_stage(shared, ready[i]);
                if (!r) errs[i] = std::move(r).error();
            });
        for (auto& t : threads) t.join();
        shared.parallel = false;
        for (size_t i = 0; i < ready.size(); ++i) {
            done.insert(ready[i]);
            if (errs[i] && !failure) failure = std::move(*errs[i]);
        }
    }
    if (failure) return std::move(*failure);

    for (const auto& [k, _] : req.build_args)
        if (!shared.used_args.count(k))
            log::warn("the build argument {} was not consumed by any ARG in {}", k, file);

    auto& result = *shared.results[static_cast<size_t>(target)];
    // The Bockfile's runtime and security belong to its last stage.
    if (read.bockfile && read.bockfile->security.non_root && target + 1 == static_cast<int>(cf.stages.size()))
        BOCK_TRY(check_non_root(*read.bockfile, result.config));
    for (const auto& t : tags) {
        BOCK_TRY(ctx.store->tag(result.image.config.hex, t));
        shared.say(fmt::format("Successfully tagged {}", t.str()));
    }
    if (!req.iidfile.empty()) BOCK_TRY(fs::write_file_atomic(req.iidfile, "sha256:" + result.image.config.hex).context("--iidfile"));
    BuildResult out;
    out.image_id = result.image.config.hex;
    if (!req.cache_to.empty()) BOCK_TRY(export_cache(shared));
    BOCK_TRY(write_outputs(ctx, req, out.image_id));
    if (req.push)
        for (const auto& t : tags) out.pushed.push_back(BOCK_TRY(push_tag(ctx, req, t.str())));
    out.steps = shared.steps;
    out.cached = shared.cached;
    return out;
}

Result<std::string> equivalent_containerfile(const BuildRequest& req) {
    auto [file, text] = BOCK_TRY(read_file_arg(req));
    if (!looks_like_bockfile(file, text)) {
        BOCK_TRY(parse_containerfile(text, file));
        return text;
    }
    auto bf = BOCK_TRY(parse_bockfile(text, file));
    BOCK_TRY(lower_bockfile(bf));  // the text must read back
    return bockfile_to_containerfile(bf, true).text;
}

}  // namespace bock::builder

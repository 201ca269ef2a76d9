// `bock build [-t NAME]... [-f FILE] [--build-arg K=V]... [--build-arg-file F]... [--network MODE] [--target STAGE]
// [--no-cache] [--layers] [--timestamp N] [-q] [--progress auto|plain|tty|quiet] [--format oci|docker]
// [--secret id=ID,src=FILE] [--iidfile F] [--jobs N] [--print-containerfile]
// [-o type=oci|docker|tar|local,dest=PATH] [--push] [--cache-from|--cache-to type=local,src|dest=DIR|type=registry,ref=R/N] CONTEXT`, like buildah bud / podman build: one line per step
// (STEP n/m: ...), the image id last.
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>

#include "bock/builder/build.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/time.hpp"
#include "commands.hpp"

namespace bock::cli {

namespace {

// `bock build cache ls|prune [--max-age D]|clear`: the layer cache.
CLI::App* add_build_cache(CLI::App& build) {
    auto* cache = build.add_subcommand("cache", "List or prune the layer cache");
    cache->require_subcommand(1);
    auto* ls = cache->add_subcommand("ls", "List the cache's entries (newest use first)");
    ls->alias("list");
    ls->callback([] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto entries = BOCK_TRY(builder::cache_list(ctx));
            fmt::print("{:<14} {:<14} {:<22} {:>12}\n", "KEY", "IMAGE ID", "LAST USED", "SIZE");
            uint64_t total = 0;
            for (const auto& e : entries) {
                fmt::print("{:<14} {:<14} {:<22} {:>12}\n", e.key.substr(0, 12), e.valid ? e.image_id.substr(0, 12) : "(gone)",
                           time::rfc3339(e.used), e.size);
                total += e.size;
            }
            fmt::print("{} entries\n", entries.size());
            return 0;
        });
    });
    auto* prune = cache->add_subcommand("prune", "Remove entries not used for --max-age (default: all) and their images");
    auto max_age = std::make_shared<std::string>();
    prune->add_option("--max-age", *max_age, "Keep entries used within this long: N[s|m|h|d]");
    prune->callback([=] {
        guarded([&]() -> Result<int> {
            std::optional<int64_t> age;
            if (!max_age->empty()) {
                char* end = nullptr;
                long long n = std::strtoll(max_age->c_str(), &end, 10);
                std::string unit = end;
                int64_t mul = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : -1;
                if (end == max_age->c_str() || n < 0 || mul < 0)
                    return make_error("--max-age {}: expected a number of seconds, minutes, hours or days", *max_age).with_hint("e.g. --max-age 24h");
                age = n * mul;
            }
            auto ctx = BOCK_TRY(engine::open_context());
            int n = BOCK_TRY(builder::cache_prune(ctx, age, false));
            fmt::print("{} cache entries removed\n", n);
            return 0;
        });
    });
    auto* clear = cache->add_subcommand("clear", "Remove every entry, its images and the RUN --mount=type=cache directories");
    clear->callback([] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            int n = BOCK_TRY(builder::cache_prune(ctx, std::nullopt, true));
            fmt::print("{} cache entries removed\n", n);
            return 0;
        });
    });
    return cache;
}

}  // namespace

void add_build(CLI::App& app) {
    auto* cmd = app.add_subcommand("build", "Build an image from a Containerfile, Dockerfile or Bockfile (YAML)");
    cmd->alias("bud");
    auto req = std::make_shared<builder::BuildRequest>();
    auto args = std::make_shared<std::vector<std::string>>();
    auto quiet = std::make_shared<bool>(false);
    auto layers = std::make_shared<bool>(true);
    auto timestamp = std::make_shared<int64_t>(-1);
    cmd->add_option("-t,--tag", req->tags, "Name of the image (repeatable)")->allow_extra_args(false);
    cmd->add_option("-f,--file", req->file,
                    "The build file: a Containerfile or a Bockfile (*.yaml, *.yml, or YAML content) (default: CONTEXT/Containerfile, "
                    "else Dockerfile, else Bockfile.yaml; - reads stdin)");
    cmd->add_option("--build-arg", *args, "Set a build argument: KEY=VALUE (repeatable)")->allow_extra_args(false);
    auto arg_files = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--build-arg-file", *arg_files, "Read build arguments from a file: KEY=VALUE lines, # comments (repeatable; --build-arg wins)")->allow_extra_args(false);
    cmd->add_option("--network", req->network, "The network of RUN steps without --network=: none, host, slirp4netns[:allow_host_loopback=true] (default: bock.conf's default_network, else none as root and bock run's default rootless)");
    cmd->add_option("--target", req->target, "Build up to this stage (name or index)");
    cmd->add_flag("--no-cache", req->no_cache, "Do not use the layer cache (steps are still cached for later builds)");
    cmd->add_flag("--layers", *layers, "Use the layer cache (the default; --layers=false is --no-cache)");
    cmd->add_option("--timestamp", *timestamp, "Seconds since the epoch for the created times of the image and its layers");
    cmd->add_flag("-q,--quiet", *quiet, "Print only the image id");
    auto progress = std::make_shared<std::string>("auto");
    cmd->add_option("--progress", *progress,
                    "auto (tty on a terminal, else plain), plain (one line per step and the steps' output), tty (the "
                    "same, each line with the build's elapsed time and the steps highlighted), quiet (as -q)")
        ->check(CLI::IsMember({"auto", "plain", "tty", "quiet"}));
    cmd->add_option("--format", req->format, "Image format: oci (default) or docker (keeps HEALTHCHECK, SHELL and ONBUILD)");
    auto secrets = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--secret", *secrets, "A secret for RUN --mount=type=secret: id=ID,src=FILE (repeatable)")->allow_extra_args(false);
    cmd->add_option("--iidfile", req->iidfile, "Write the image id (sha256:...) to this file");
    cmd->add_option("--jobs", req->jobs, "How many independent stages to build at once (default 2)");
    auto print_cf = std::make_shared<bool>(false);
    cmd->add_flag("--print-containerfile", *print_cf, "Print the build file as a Containerfile (a Bockfile lowered) and exit");
    cmd->add_option("-o,--output", req->outputs, "Also write the image: type=oci|docker|tar|local,dest=PATH (repeatable)")->allow_extra_args(false);
    cmd->add_flag("--push", req->push, "Push each -t name to its registry after the build");
    cmd->add_flag("--tls-verify", req->tls_verify, "Verify the registry's certificate for --push (default true)");
    cmd->add_option("--cache-from", req->cache_from, "Take missing layer cache entries from an OCI layout or a registry: type=local,src=DIR or type=registry,ref=R/NAME (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--cache-to", req->cache_to, "Write the build's layer cache entries to an OCI layout or a registry: type=local,dest=DIR or type=registry,ref=R/NAME")
        ->allow_extra_args(false);
    cmd->add_option("CONTEXT", req->context, "The build context directory (default: .; a directory named `cache`: ./cache)");
    auto* cache = add_build_cache(*cmd);
    cmd->callback([=] {
        if (cache->parsed()) return;
        guarded([&]() -> Result<int> {
            for (const auto& f : *arg_files) {
                auto text = BOCK_TRY(fs::read_file(f).context("--build-arg-file"));
                int line = 0;
                for (auto l : strings::split(text, '\n')) {
                    ++line;
                    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.pop_back();
                    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.erase(0, 1);
                    if (l.empty() || l[0] == '#') continue;
                    auto eq = l.find('=');
                    if (eq == std::string::npos || eq == 0)
                        return make_error("--build-arg-file {}:{}: `{}` is not KEY=VALUE", f, line, l).with_hint("write one KEY=VALUE a line");
                    req->build_args[l.substr(0, eq)] = l.substr(eq + 1);
                }
            }
            for (const auto& a : *args) {
                auto eq = a.find('=');
                if (eq == std::string::npos || eq == 0) {
                    // KEY alone: the value from bock's environment, as buildah does.
                    if (const char* v = std::getenv(a.c_str())) req->build_args[a] = v;
                    continue;
                }
                req->build_args[a.substr(0, eq)] = a.substr(eq + 1);
            }
            for (const auto& s : *secrets) {
                std::string id, src;
                for (const auto& kv : strings::split(s, ',')) {
                    if (kv.starts_with("id=")) id = kv.substr(3);
                    else if (kv.starts_with("src=") || kv.starts_with("source=")) src = kv.substr(kv.find('=') + 1);
                }
                if (id.empty() || src.empty())
                    return make_error("--secret {}: expected id=ID,src=FILE", s).with_hint("e.g. --secret id=token,src=./token.txt");
                char* real = ::realpath(src.c_str(), nullptr);
                if (!real) return errno_error("--secret {}: `{}`", s, src);
                req->secrets[id] = real;
                ::free(real);
            }
            if (*print_cf) {
                fmt::print("{}", BOCK_TRY(builder::equivalent_containerfile(*req)));
                return 0;
            }
            if (req->push && req->tags.empty()) return make_error("--push needs a name").with_hint("name the image with -t REGISTRY/NAME:TAG");
            if (!*layers) req->no_cache = true;
            if (*timestamp >= 0) req->timestamp = *timestamp;
            if (*progress == "quiet") *quiet = true;
            bool tty = *progress == "tty" || (*progress == "auto" && ::isatty(STDOUT_FILENO));
            if (!*quiet && !tty) req->progress = [](std::string_view line) {
                    fmt::print("{}\n", line);
                    std::fflush(stdout);
                };
            if (!*quiet && tty) {
                auto start = std::chrono::steady_clock::now();
                req->progress = [start](std::string_view line) {
                    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    bool step = line.starts_with("STEP ") || line.starts_with("[") || line.starts_with("-->");
                    if (step) fmt::print("\033[2m{:6.1f}s\033[0m \033[1m{}\033[0m\n", t, line);
                    else fmt::print("\033[2m{:6.1f}s\033[0m {}\n", t, line);
                    std::fflush(stdout);
                };
            }
            auto ctx = BOCK_TRY(engine::open_context());
            auto r = BOCK_TRY(builder::build(ctx, *req));
            if (!*quiet) fmt::print("--> {}\n", r.image_id.substr(0, 12));
            fmt::print("{}\n", r.image_id);
            return 0;
        });
    });
}

}  // namespace bock::cli

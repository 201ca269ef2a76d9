// bock: the user-facing front end. One file per command; everything that
// does work is in engine/ (and, later, builder/ and compose/).
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>
#include <vector>

#include "bock/common/log.hpp"
#include "bock/engine/context.hpp"
#include "commands.hpp"

namespace bock::cli {
int exit_code = 0;
}

namespace {

// The first argument that is not a global option: the command's name ("" if
// none). Global options: --log-level VALUE, --storage-driver VALUE, --help,
// --version.
std::string command_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--log-level" || a == "--storage-driver") {
            ++i;
            continue;
        }
        if (a.starts_with("-")) continue;
        return a;
    }
    return "";
}

// The deepest command named on the command line (`bock image ls` -> ls).
const CLI::App* named_command(const CLI::App& app, int argc, char** argv) {
    const CLI::App* cur = &app;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.starts_with("-")) continue;
        auto next = cur->get_subcommands([&](const CLI::App* s) { return s->check_name(a); });
        if (next.empty()) break;
        cur = next.front();
    }
    return cur;
}

// podman's wording for a parse error: "unknown flag: --foo" and the usage line.
int parse_failure(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    using namespace bock;
    const CLI::App* cmd = named_command(app, argc, argv);
    std::string what = e.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
        // "The following argument(s) was/were not expected: --foo -x"
        auto colon = what.find(": ");
        std::string rest = colon == std::string::npos ? "" : what.substr(colon + 2);
        for (size_t i = 0; i < rest.size();) {
            size_t sp = std::min(rest.find(' ', i), rest.size());
            std::string tok = rest.substr(i, sp - i);
            if (tok.starts_with("-")) return cli::usage_error(cmd, "unknown flag: " + tok.substr(0, tok.find('=')));
            i = sp + 1;
        }
    }
    if (cmd == &app) {
        log::error("{}", what);
        log::notice("see `bock --help`");
        return 125;
    }
    return cli::usage_error(cmd, what);
}

// `bock-runtime` (a symlink to bock): the builder's commands under their
// own name, the same code as `bock build`, `bock push`, `bock inspect` and
// `bock build cache`. Returns the argv bock reads, or an exit status.
std::variant<std::vector<std::string>, int> runtime_argv(int argc, char** argv) {
    std::vector<std::string> in(argv, argv + argc), out{"bock"};
    size_t i = 1;
    for (; i < in.size(); ++i) {
        if (in[i] == "--log-level" || in[i] == "--storage-driver") {
            out.push_back(in[i]);
            if (i + 1 < in.size()) out.push_back(in[++i]);
            continue;
        }
        if (!in[i].starts_with("-")) break;
        if (in[i] == "--version") {
            out.push_back(in[i]);
            continue;
        }
        if (in[i] == "-h" || in[i] == "--help") i = in.size();
        else out.push_back(in[i]);
    }
    const char* usage =
        "bock-runtime: Bock's builder\n\n"
        "Usage: bock-runtime [--log-level L] COMMAND [ARGS...]\n\n"
        "Commands (the same code as the bock commands named):\n"
        "  build [OPTIONS] CONTEXT   bock build: a Containerfile or a Bockfile (YAML)\n"
        "  push IMAGE [DEST]         bock push\n"
        "  inspect NAME...           bock inspect\n"
        "  cache list                bock build cache ls\n"
        "  cache prune [--max-age D] bock build cache prune\n"
        "  cache clear               bock build cache clear\n\n"
        "COMMAND --help shows its options.\n";
    if (i >= in.size()) {
        if (out.size() > 1 && out.back() == "--version") return out;
        std::fputs(usage, stdout);
        return argc > 1 ? 0 : 125;
    }
    const std::string cmd = in[i++];
    if (cmd == "build" || cmd == "push" || cmd == "inspect") {
        out.push_back(cmd);
    } else if (cmd == "cache") {
        std::string sub = i < in.size() ? in[i++] : "";
        if (sub == "list") sub = "ls";
        if (sub != "ls" && sub != "prune" && sub != "clear") {
            bock::log::error("bock-runtime cache: expected list, prune or clear{}", sub.empty() ? "" : ", got `" + sub + "`");
            return 125;
        }
        out.insert(out.end(), {"build", "cache", sub});
    } else {
        bock::log::error("unrecognized command \"{}\"", cmd);
        bock::log::notice("bock-runtime runs build, push, inspect and cache list|prune|clear; see `bock-runtime --help`");
        return 125;
    }
    out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(i), in.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace bock;
    // `bockrose ARGS` is `bock compose ARGS` (one binary, a symlink).
    std::vector<char*> rose_argv;
    if (std::string_view a0 = argv[0]; a0 == "bockrose" || a0.ends_with("/bockrose")) {
        rose_argv.assign(argv, argv + argc);
        static char compose_word[] = "compose";
        rose_argv.insert(rose_argv.begin() + 1, compose_word);
        rose_argv.push_back(nullptr);
        argc += 1;
        argv = rose_argv.data();
    }
    log::set_program(rose_argv.empty() ? "bock" : "bockrose");
    log::init_from_env();

    // argv[0] dispatch: the builder CLI under the name bock-runtime.
    std::vector<std::string> rewritten;
    std::vector<char*> rewritten_ptrs;
    if (std::string_view prog = argv[0]; prog.substr(prog.rfind('/') + 1) == "bock-runtime") {
        log::set_program("bock-runtime");
        auto r = runtime_argv(argc, argv);
        if (auto* code = std::get_if<int>(&r)) return *code;
        rewritten = std::get<std::vector<std::string>>(r);
        for (auto& a : rewritten) rewritten_ptrs.push_back(a.data());
        rewritten_ptrs.push_back(nullptr);
        argc = static_cast<int>(rewritten.size());
        argv = rewritten_ptrs.data();
    }

    CLI::App app{"bock: rootless-first containers, without a daemon"};
    app.name("bock");
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("bock version ") + BOCK_VERSION);
    std::string level;
    app.add_option("--log-level", level, "debug, info, warn or error (default: $BOCK_LOG, else warn)");
    std::string storage_driver;
    app.add_option("--storage-driver", storage_driver,
                   "overlay, fuse-overlayfs, bock-fuse or vfs (default: $BOCK_STORAGE_DRIVER, else the first that works)");
    app.parse_complete_callback([&] {
        if (!storage_driver.empty())
            if (auto r = engine::set_storage_driver(storage_driver); !r)
                throw CLI::ValidationError("--storage-driver", r.error().message());
        if (level.empty()) return;
        auto l = log::parse_level(level);
        if (!l) throw CLI::ValidationError("--log-level", l.error().message());
        log::set_level(*l);
    });

    cli::add_run(app);
    cli::add_images(app);
    cli::add_rmi(app);
    cli::add_load(app);
    cli::add_pull(app);
    cli::add_save(app);
    cli::add_ps(app);
    cli::add_port(app);
    cli::add_network(app);
    cli::add_rm(app);
    cli::add_push(app);
    cli::add_login(app);
    cli::add_logout(app);
    cli::add_doctor(app);
    cli::add_unshare(app);
    cli::add_tag(app);
    cli::add_inspect(app);
    cli::add_image(app);
    cli::add_import(app);
    cli::add_copy(app);
    cli::add_diff(app);
    cli::add_commit(app);
    cli::add_export(app);
    cli::add_cp(app);
    cli::add_rename(app);
    cli::add_events(app);
    cli::add_pause(app);
    cli::add_top(app);
    cli::add_stats(app);
    cli::add_build(app);
    cli::add_version(app);
    cli::add_info(app);
    cli::add_exec(app);
    cli::add_healthcheck(app);
    cli::add_create(app);
    cli::add_start(app);
    cli::add_stop(app);
    cli::add_kill(app);
    cli::add_restart(app);
    cli::add_wait(app);
    cli::add_logs(app);
    cli::add_attach(app);
    cli::add_container(app);
    cli::add_system(app);
    cli::add_volume(app);
    cli::add_compose(app);
    cli::add_completion(app);  // reads the whole command tree when it runs
    cli::add_not_built(app);  // after the real commands: a built one wins
    cli::group_commands(app);

    // An unknown command, named with the closest known ones (podman:
    // `unrecognized command`), before CLI11 reads it as a stray argument.
    if (std::string word = command_word(argc, argv);
        !word.empty() && app.get_subcommands([&](const CLI::App* s) { return s->check_name(word); }).empty()) {
        log::error("unrecognized command \"{}\"", word);
        auto near = cli::closest_commands(app, word);
        if (!near.empty()) {
            std::string list;
            for (const auto& n : near) list += (list.empty() ? "" : ", ") + ("bock " + n);
            log::notice("did you mean: " + list + "?");
        }
        log::notice("see `bock --help`");
        return 125;
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version arrive here too, with exit code 0.
        if (e.get_exit_code() == 0) return app.exit(e);
        // Docker's convention: a usage error is the engine's error, 125.
        return parse_failure(app, e, argc, argv);
    }
    return cli::exit_code;
}

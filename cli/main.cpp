// bock: the user-facing front end. One file per command; everything that
// does work is in engine/ (and, later, builder/ and compose/).
#include <cstdlib>
#include <string_view>
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

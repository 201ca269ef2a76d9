// bock: the user-facing front end. One file per command; everything that
// does work is in engine/ (and, later, builder/ and compose/).
#include <cstdlib>

#include "bock/common/log.hpp"
#include "commands.hpp"

namespace bock::cli {
int exit_code = 0;
}

int main(int argc, char** argv) {
    using namespace bock;
    log::set_program("bock");
    log::init_from_env();

    CLI::App app{"bock: rootless-first containers, without a daemon"};
    app.name("bock");
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("bock version ") + BOCK_VERSION);
    std::string level;
    app.add_option("--log-level", level, "debug, info, warn or error (default: $BOCK_LOG, else warn)");
    app.parse_complete_callback([&] {
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
    cli::add_version(app);
    cli::add_info(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version arrive here too, with exit code 0.
        if (e.get_exit_code() == 0) return app.exit(e);
        // Docker's convention: a usage error is the engine's error, 125.
        log::error("{}", e.what());
        log::notice("see `bock --help`");
        return 125;
    }
    return cli::exit_code;
}

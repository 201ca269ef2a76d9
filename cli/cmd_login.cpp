// bock login: checks the credentials against the registry, then stores
// them in podman's auth file (or --authfile). Nothing is written when the
// registry refuses them.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "bock/engine/images.hpp"
#include "commands.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

namespace {

std::string prompt(const char* what, bool echo) {
    fmt::print(stderr, "{}", what);
    termios old{};
    bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty && !echo) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty && !echo) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fmt::print(stderr, "\n");
    }
    return line;
}

}  // namespace

void add_login(CLI::App& app) {
    auto* cmd = app.add_subcommand("login", "Log in to a registry (checks the credentials, then stores them)");
    auto user = std::make_shared<std::string>();
    auto pass = std::make_shared<std::string>();
    auto pass_stdin = std::make_shared<bool>(false);
    auto registry = std::make_shared<std::string>();
    cmd->add_option("-u,--username", *user, "User name");
    auto* p = cmd->add_option("-p,--password", *pass, "Password (visible to other users: prefer --password-stdin)");
    cmd->add_flag("--password-stdin", *pass_stdin, "Read the password from stdin")->excludes(p);
    auto flags = add_registry_flags(cmd);
    cmd->add_option("REGISTRY", *registry, "Registry host[:port]")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::string reg = engine::registry_of(*registry);
            if (reg.empty()) return make_error("login: no registry given");
            struct {
                std::string username, password;
            } c;
            c.username = *user;
            if (*pass_stdin) {
                if (c.username.empty()) return make_error("login: --password-stdin needs --username");
                std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
                while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
                c.password = all;
            } else {
                c.password = *pass;
            }
            if (c.username.empty()) c.username = prompt("Username: ", true);
            if (c.password.empty() && !*pass_stdin) c.password = prompt("Password: ", false);
            if (c.username.empty() || c.password.empty())
                return make_error("login {}: a user name and a password are needed", reg);
            BOCK_TRY(engine::login(reg, c.username, c.password, {flags->tls_verify, flags->cert_dir, flags->authfile}));
            fmt::print("Login Succeeded!\n");
            return 0;
        });
    });
}

}  // namespace bock::cli

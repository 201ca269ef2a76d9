// `bock version [--format json]`: the client's version, commit and the
// versions of the libraries it runs on.
#include <CLI/Version.hpp>

#include "bock/engine/info.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_version(CLI::App& app) {
    auto* cmd = app.add_subcommand("version", "Show the version of bock and of the libraries it uses");
    auto format = std::make_shared<std::string>("text");
    cmd->add_option("-f,--format", *format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
    cmd->callback([=] {
        auto v = engine::version_info();
        v["Client"]["Libraries"]["CLI11"] = CLI11_VERSION;
        if (*format == "json") {
            fmt::print("{}\n", v.dump(2));
            return;
        }
        const auto& c = v["Client"];
        fmt::print("Version:        {}\n", c["Version"].get<std::string>());
        fmt::print("Commit:         {}\n", c["Commit"].get<std::string>());
        fmt::print("OS/Arch:        {}\n", c["OsArch"].get<std::string>());
        for (const auto& [k, val] : c["Libraries"].items()) fmt::print("{:<16}{}\n", k + ":", val.get<std::string>());
    });
}

}  // namespace bock::cli

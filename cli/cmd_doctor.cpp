#include "bock/frontend/doctor.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_doctor(CLI::App& app) {
    auto* cmd = app.add_subcommand("doctor", "Check what this machine allows; one line per check, with the fix");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::probe_context());
            auto checks = frontend::run_doctor(ctx);
            bool fatal = false;
            for (const auto& c : checks) {
                const char* tag = "ok  ";
                switch (c.severity) {
                    case frontend::Severity::ok: tag = "ok  "; break;
                    case frontend::Severity::info: tag = "info"; break;
                    case frontend::Severity::warn: tag = "warn"; break;
                    case frontend::Severity::fail: tag = "FAIL"; fatal = true; break;
                }
                std::string line = fmt::format("[{}] {:<16} {}", tag, c.name, c.detail);
                if (!c.fix.empty()) line += " -- fix: " + c.fix;
                fmt::print("{}\n", line);
            }
            fmt::print("{}\n", fatal ? "bock run cannot work here until the FAIL lines are fixed"
                                     : "bock run can work here");
            return fatal ? 1 : 0;
        });
    });
}

}  // namespace bock::cli

#include "bock/engine/doctor.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_doctor(CLI::App& app) {
    auto* cmd = app.add_subcommand("doctor", "Check what this machine allows; one line per check, with the fix");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::probe_context());
            auto checks = engine::run_doctor(ctx);
            bool fatal = false;
            for (const auto& c : checks) {
                const char* tag = "ok  ";
                switch (c.severity) {
                    case engine::Severity::ok: tag = "ok  "; break;
                    case engine::Severity::info: tag = "info"; break;
                    case engine::Severity::warn: tag = "warn"; break;
                    case engine::Severity::fail: tag = "FAIL"; fatal = true; break;
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

// The command named on bock-oci's command line, found before it is parsed,
// and which invocations re-execute from a sealed memfd
// (bock/runtime/sealed_exe.hpp): those that put a process into a container.
// Decided from argv before the command line is parsed, so the copy happens
// before any other work; the others (state, list, kill, delete, spec,
// features, --help, --version) skip its cost.
#include <cstring>
#include <string_view>

#include "commands.hpp"

namespace bock::oci {

std::string_view command_name(int argc, char** argv) {
    // Global options that take a separate value.
    constexpr std::string_view kWithValue[] = {"--root", "--log", "--log-format"};
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") return {};
        if (!a.empty() && a[0] == '-') {
            for (auto v : kWithValue)
                if (a == v) ++i;
            continue;
        }
        return a;
    }
    return {};
}

bool needs_sealed_exe(int argc, char** argv) {
    auto a = command_name(argc, argv);
    return a == "create" || a == "run" || a == "exec";
}

}  // namespace bock::oci

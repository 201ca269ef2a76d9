// bock-oci run [--bundle DIR] ID: create, start and wait for a container in
// the foreground; exits with the container's exit code.
#include <unistd.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

// Not real root in the initial user namespace: rootless rules apply (no
// mknod, sysfs maybe refused).
bool is_rootless() {
    if (::getuid() != 0) return true;
    auto map = fs::read_file("/proc/self/uid_map");
    if (!map) return false;
    return map->find("4294967295") == std::string::npos;
}

int run(const std::string& bundle, const std::string& id) {
    auto spec = runtime::load_spec(bundle);
    if (!spec) {
        log::report(spec.error());
        return spec.error().exit_status();
    }
    runtime::RunOptions opts;
    opts.id = id;
    opts.bundle = bundle;
    opts.rootless = is_rootless();
    auto code = runtime::run_container(*spec, opts);
    if (!code) {
        log::report(code.error());
        return code.error().exit_status();
    }
    return *code;
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
    auto* cmd = app.add_subcommand("run", "create and run a container, and wait for it to exit");
    auto bundle = std::make_shared<std::string>(".");
    auto id = std::make_shared<std::string>();
    cmd->add_option("-b,--bundle", *bundle, "path to the bundle directory (config.json and root filesystem)");
    cmd->add_option("container-id", *id, "a name for the container")->required();
    cmd->callback([bundle, id, &exit_code] { exit_code = run(*bundle, *id); });
}

}  // namespace bock::oci

// bock-oci spec [--rootless] [--bundle DIR]: writes a default config.json,
// like runc spec. The rootless variant maps the caller's own uid and gid to
// root in a new user namespace, shares the host's network and binds /sys.
#include <unistd.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/runtime/spec.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

runtime::Spec rootless_spec() {
    runtime::Spec s = runtime::default_spec(true);
    // As runc: no network namespace (it would have no network) and no
    // cgroup mounts; a user namespace of the caller's own ids.
    std::erase_if(s.namespaces, [](const runtime::Namespace& n) { return n.type == "network" || n.type == "user"; });
    s.namespaces.push_back({"user", ""});
    s.uid_mappings = {{0, static_cast<uint32_t>(::getuid()), 1}};
    s.gid_mappings = {{0, static_cast<uint32_t>(::getgid()), 1}};
    for (auto& m : s.mounts)
        if (m.destination == "/sys") m = {"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}};
    return s;
}

int write_spec(const std::string& bundle, bool rootless) {
    std::string path = fs::join(bundle, "config.json");
    if (fs::exists(path)) {
        log::report(make_error("`{}` exists: remove it first", path));
        return 125;
    }
    runtime::Spec s = rootless ? rootless_spec() : runtime::default_spec(false);
    if (auto r = fs::write_file_atomic(path, runtime::to_json(s).dump(4) + "\n", 0644); !r) {
        log::report(r.error());
        return r.error().exit_status();
    }
    return 0;
}

}  // namespace

void add_spec_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
    auto* cmd = app.add_subcommand("spec", "write a default config.json");
    auto bundle = std::make_shared<std::string>(".");
    auto rootless = std::make_shared<bool>(false);
    cmd->add_option("-b,--bundle", *bundle, "directory to write config.json into");
    cmd->add_flag("--rootless", *rootless, "a spec for a container run by an unprivileged user");
    cmd->callback([bundle, rootless, &exit_code] { exit_code = write_spec(*bundle, *rootless); });
}

}  // namespace bock::oci

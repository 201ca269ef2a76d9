// bock-oci list [--format table|json] [-q]: the containers under --root.
#include <pwd.h>

#include <iostream>

#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

struct ListArgs {
    std::string format = "table";
    bool quiet = false;
};

std::string owner_name(uid_t uid) {
    if (passwd* pw = ::getpwuid(uid)) return pw->pw_name;
    return std::to_string(uid);
}

Result<void> list(const GlobalOptions& g, const ListArgs& a) {
    std::string root = BOCK_TRY(state_root(g));
    auto ids = BOCK_TRY(runtime::list_containers(root));
    nlohmann::json all = nlohmann::json::array();
    if (a.format == "table" && !a.quiet)
        std::cout << fmt::format("{:<12} {:<10} {:<10} {:<40} {:<32} {}\n", "ID", "PID", "STATUS", "BUNDLE",
                                 "CREATED", "OWNER");
    for (const auto& id : ids) {
        auto st = runtime::load_state(root, id);
        if (!st) continue;  // removed meanwhile, or unreadable: list the rest
        runtime::Status status = runtime::container_status(root, *st);
        if (a.quiet) {
            std::cout << id << "\n";
        } else if (a.format == "json") {
            all.push_back(runtime::state_json(*st, status));
        } else {
            int pid = status == runtime::Status::stopped ? 0 : st->pid;
            std::cout << fmt::format("{:<12} {:<10} {:<10} {:<40} {:<32} {}\n", id, pid,
                                     runtime::status_name(status), st->bundle, st->created, owner_name(st->owner));
        }
    }
    if (a.format == "json" && !a.quiet) std::cout << all.dump() << "\n";
    return ok();
}

}  // namespace

void add_list_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("list", "list the containers");
    auto a = std::make_shared<ListArgs>();
    cmd->add_option("-f,--format", a->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_flag("-q,--quiet", a->quiet, "print only the container ids");
    cmd->callback([&g, a, &exit_code] {
        auto r = list(g, *a);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci

// `bock rm [-f] [-v] CONTAINER...`: removes containers (-f: running ones too,
// killing them first). Each removal unmounts, removes the directories and
// releases the container's lease on its image; -v then removes its
// anonymous volumes (docs/volumes.md).
#include "bock/engine/containers.hpp"
#include "bock/engine/volumes.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_rm(CLI::App& app) {
    auto* cmd = app.add_subcommand("rm", "Remove containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    auto volumes = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force, "Remove running containers too (they are killed first)");
    cmd->add_flag("-a,--all", *all, "Remove every container");
    cmd->add_flag("-v,--volumes", *volumes, "Remove the container's anonymous volumes too (named ones stay)");
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (ids->empty() && !*all) return make_error("rm: name at least one container, or pass --all").with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto targets = *ids;
            if (*all)
                for (const auto& c : BOCK_TRY(engine::list_containers(ctx))) targets.push_back(c.rec.id);
            int rc = 0;
            for (const auto& id : targets) {
                auto r = engine::remove_container(ctx, id, *force);
                if (!r) {
                    log::report(r.error());
                    rc = std::max(rc, r.error().exit_status() == 2 ? 2 : 1);
                } else {
                    if (*volumes) engine::remove_anonymous_volumes(ctx, *r);
                    fmt::print("{}\n", *r);
                }
            }
            BOCK_TRY(engine::release_orphan_leases(ctx));
            return rc;
        });
    });
}

}  // namespace bock::cli

// `bock cp [-a] [-L] SRC DEST`: files between a container and the host,
// like podman cp: CONTAINER:PATH on one side, a host path or `-` (a tar on
// stdin / stdout) on the other.
#include "bock/engine/cp.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_cp(CLI::App& app) {
    auto* cmd = app.add_subcommand("cp", "Copy files between a container and the host");
    auto req = std::make_shared<engine::CopyRequest>();
    cmd->add_flag("-a,--archive", req->archive,
                  "Keep the owners (mapped through the container's user namespace); without it copies belong to the "
                  "container's root (copy in) or to you (copy out)");
    cmd->add_flag("-L,--follow-link", req->follow, "Follow a symlink named as SRC (resolved inside the container)");
    cmd->add_option("SRC", req->src, "CONTAINER:PATH, a host path, or - for a tar on standard input")->required();
    cmd->add_option("DEST", req->dest, "CONTAINER:PATH, a host path, or - for a tar on standard output")->required();
    cmd->footer("Usage: bock cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-\n       bock cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::copy_files(ctx, *req));
            return 0;
        });
    });
}

}  // namespace bock::cli

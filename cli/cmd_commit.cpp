// `bock commit [-c INSTRUCTION]... [-m MSG] [--author A] [--format oci|docker]
// [--pause] [--include-empty] [--timestamp N] [--compression gzip|zstd]
// CONTAINER [IMAGE]`, like podman commit: prints the new image's id.
#include "bock/engine/commit.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_commit(CLI::App& app) {
    auto* cmd = app.add_subcommand("commit", "Create a new image from a container's changes");
    auto req = std::make_shared<engine::CommitRequest>();
    auto timestamp = std::make_shared<int64_t>(-1);
    cmd->add_option("-c,--change", req->opts.changes,
                    "Apply an instruction: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME or STOPSIGNAL (repeatable)")
        ->allow_extra_args(false);  // one instruction per -c: CONTAINER and IMAGE follow
    cmd->add_option("-m,--message", req->opts.message, "Comment recorded in the image's history");
    cmd->add_option("-a,--author", req->opts.author, "Author recorded in the image");
    cmd->add_option("-f,--format", req->format, "Image format: oci (default) or docker (keeps Healthcheck and other Docker fields)");
    cmd->add_option("--compression", req->compression, "Layer compression: gzip (default) or zstd");
    cmd->add_option("--timestamp", *timestamp,
                    "Seconds since the epoch for the image's created time and the layer's newest mtime (default: $SOURCE_DATE_EPOCH)");
    cmd->add_flag("-p,--pause", req->pause, "Pause the container while committing (needs its cgroup: root, or rootless cgroup v2 with delegation)");
    cmd->add_flag("--include-empty", req->opts.include_empty, "Add an empty layer when nothing changed");
    cmd->add_option("CONTAINER", req->container, "Container name or id")->required();
    cmd->add_option("IMAGE", req->image, "Name of the new image (none: a dangling image)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (*timestamp >= 0) req->opts.timestamp = *timestamp;
            auto ctx = BOCK_TRY(engine::open_context());
            auto r = BOCK_TRY(engine::commit_container(ctx, *req));
            fmt::print("{}\n", r.image.config.hex);
            return 0;
        });
    });
}

}  // namespace bock::cli

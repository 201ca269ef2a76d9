// bock push IMAGE [DEST]: sends a stored image to a registry (docker://,
// the default transport), or writes it to oci:, oci-archive: or
// docker-archive: through the store's transport writers.
#include "bock/common/fs.hpp"
#include "bock/engine/images.hpp"
#include "commands.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

void add_push(CLI::App& app) {
    auto* cmd = app.add_subcommand("push", "Push an image to a registry (or to oci:, oci-archive:, docker-archive:)");
    auto req = std::make_shared<engine::PushRequest>();
    auto digestfile = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    auto flags = add_registry_flags(cmd);
    cmd->add_option("--digestfile", *digestfile, "Write the pushed manifest's digest to this file");
    cmd->add_flag("-q,--quiet", *quiet, "Print no progress lines");
    cmd->add_option("IMAGE", req->image, "Local image (name or id)")->required();
    cmd->add_option("DEST", req->dest, "Destination: [docker://]REGISTRY/NAME[:TAG], oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE (default: IMAGE's name)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            req->access = {flags->tls_verify, flags->cert_dir, flags->authfile};
            if (!*quiet) req->progress = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
            auto ctx = BOCK_TRY(engine::open_context());
            auto r = BOCK_TRY(engine::push_image(ctx, *req));
            if (!r.registry && !*quiet) fmt::print(stderr, "Wrote {} to {}\n", r.image, r.destination);
            if (!digestfile->empty() && r.registry) BOCK_TRY(fs::write_file(*digestfile, r.digest));
            if (!r.digest.empty()) fmt::print("{}\n", r.digest);
            return 0;
        });
    });
}

}  // namespace bock::cli

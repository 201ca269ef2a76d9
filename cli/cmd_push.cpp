// bock push IMAGE [DEST]: sends a stored image to a registry (docker://,
// the default transport), or writes it to oci:, oci-archive: or
// docker-archive: through the store's transport writers.
#include "bock/common/fs.hpp"
#include "bock/frontend/context.hpp"
#include "bock/frontend/run.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/transport.hpp"
#include "commands.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

namespace {

struct PushArgs {
    std::string image;
    std::string dest;
    std::string digestfile;
    bool quiet = false;
};

}  // namespace

void add_push(CLI::App& app) {
    auto* cmd = app.add_subcommand("push", "Push an image to a registry (or to oci:, oci-archive:, docker-archive:)");
    auto a = std::make_shared<PushArgs>();
    auto flags = add_registry_flags(cmd);
    cmd->add_option("--digestfile", a->digestfile, "Write the pushed manifest's digest to this file");
    cmd->add_flag("-q,--quiet", a->quiet, "Print no progress lines");
    cmd->add_option("IMAGE", a->image, "Local image (name or id)")->required();
    cmd->add_option("DEST", a->dest, "Destination: [docker://]REGISTRY/NAME[:TAG], oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE (default: IMAGE's name)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            // As `bock run` finds it (the default busybox image is made on demand).
            auto rec = BOCK_TRY(frontend::resolve_image(ctx, a->image));
            std::string dest = a->dest.empty() ? rec.name : a->dest;
            // Dispatch point for transports: docker:// (or none) goes to a
            // registry; oci:, oci-archive:, docker-archive: are the store's.
            if (dest.starts_with("dir:"))
                return make_error("push to `{}`: the `dir:` transport is not supported", dest)
                    .with_hint("use oci:DIR[:TAG], oci-archive:FILE or docker-archive:FILE");
            if (!dest.starts_with("docker://")) {
                auto loc = BOCK_TRY(image::Location::parse(dest));
                if (loc.kind != image::Location::Kind::local && loc.kind != image::Location::Kind::docker) {
                    BOCK_TRY(image::write_from_store(*ctx.store, {rec}, loc));
                    if (!a->quiet) fmt::print(stderr, "Wrote {} to {}\n", rec.name, loc.str());
                    // The OCI forms keep the manifest (and its digest).
                    if (loc.kind != image::Location::Kind::docker_archive) fmt::print("{}\n", rec.manifest.str());
                    return 0;
                }
            }
            if (dest.starts_with("docker://")) dest = dest.substr(9);
            auto ref = BOCK_TRY(image::Reference::parse(dest));
            image::PushOptions opts;
            opts.tls_verify = flags->tls_verify;
            opts.cert_dir = flags->cert_dir;
            opts.authfile = flags->authfile;
            if (!a->quiet) opts.progress = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
            if (!a->quiet) fmt::print(stderr, "Pushing {} to {}\n", rec.name, ref.str());
            auto digest = BOCK_TRY(ctx.store->push(rec, ref, opts));
            if (!a->digestfile.empty()) BOCK_TRY(fs::write_file(a->digestfile, digest.str()));
            fmt::print("{}\n", digest.str());
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock copy SRC DST`: skopeo-copy-like, between transports (docker://,
// oci:, oci-archive:, docker-archive:) and the local store (a bare name).
// A registry side goes through the store: pulled then written, or read then
// pushed.
#include "bock/common/fs.hpp"
#include "bock/engine/images.hpp"
#include "commands.hpp"
#include "registry_flags.hpp"

namespace bock::cli {

void add_copy(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "copy",
        "Copy an image between docker://REF, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF] and local names");
    auto src = std::make_shared<std::string>();
    auto dst = std::make_shared<std::string>();
    auto digestfile = std::make_shared<std::string>();
    cmd->add_option("SOURCE", *src, "Where to read the image")->required();
    cmd->add_option("DESTINATION", *dst, "Where to write it")->required();
    cmd->add_option("--digestfile", *digestfile, "Write the source manifest's digest to this file");
    auto flags = add_registry_flags(cmd);
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto digest = BOCK_TRY(engine::copy_image(ctx, *src, *dst, {flags->tls_verify, flags->cert_dir, flags->authfile}));
            if (!digestfile->empty()) BOCK_TRY(fs::write_file_atomic(*digestfile, digest));
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock copy SRC DST`: skopeo-copy-like, between transports (docker://,
// oci:, oci-archive:, docker-archive:) and the local store (a bare name).
// A registry side goes through the store: pulled then written, or read then
// pushed.
#include "bock/common/fs.hpp"
#include "bock/frontend/context.hpp"
#include "bock/image/registries_conf.hpp"
#include "bock/image/transport.hpp"
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
            auto s = BOCK_TRY(image::Location::parse(*src));
            auto d = BOCK_TRY(image::Location::parse(*dst));
            if (s.path == "-" || d.path == "-") return make_error("`bock copy` reads and writes files, not `-`").with_hint("use bock load / bock save for pipes");
            auto ctx = BOCK_TRY(frontend::open_context());
            // docker:// on either side: the registry pull and push.
            image::CopyHooks hooks;
            hooks.pull = [&](const image::Reference& ref) -> Result<image::ImageRecord> {
                image::PullOptions opts;
                opts.tls_verify = flags->tls_verify;
                opts.cert_dir = flags->cert_dir;
                opts.authfile = flags->authfile;
                auto conf = BOCK_TRY(image::load_registries_conf());
                return image::pull_with_config(*ctx.store, ref.str(), opts, conf);
            };
            hooks.push = [&](const image::ImageRecord& rec, const image::Reference& dest) -> Result<void> {
                image::PushOptions opts;
                opts.tls_verify = flags->tls_verify;
                opts.cert_dir = flags->cert_dir;
                opts.authfile = flags->authfile;
                BOCK_TRY(ctx.store->push(rec, dest, opts));
                return ok();
            };
            auto digest = BOCK_TRY(image::copy_image(*ctx.store, s, d, hooks));
            if (!digestfile->empty()) BOCK_TRY(fs::write_file_atomic(*digestfile, digest));
            return 0;
        });
    });
}

}  // namespace bock::cli

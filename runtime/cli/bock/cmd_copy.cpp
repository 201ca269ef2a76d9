// `bock copy SRC DST`: skopeo-copy-like, between transports (oci:,
// oci-archive:, docker-archive:) and the local store (a bare name).
#include "bock/common/fs.hpp"
#include "bock/frontend/context.hpp"
#include "bock/image/transport.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_copy(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "copy", "Copy an image between oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF] and local names");
    auto src = std::make_shared<std::string>();
    auto dst = std::make_shared<std::string>();
    auto digestfile = std::make_shared<std::string>();
    cmd->add_option("SOURCE", *src, "Where to read the image")->required();
    cmd->add_option("DESTINATION", *dst, "Where to write it")->required();
    cmd->add_option("--digestfile", *digestfile, "Write the source manifest's digest to this file");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto s = BOCK_TRY(image::Location::parse(*src));
            auto d = BOCK_TRY(image::Location::parse(*dst));
            if (s.path == "-" || d.path == "-") return make_error("`bock copy` reads and writes files, not `-`").with_hint("use bock load / bock save for pipes");
            auto ctx = BOCK_TRY(frontend::open_context());
            // docker:// on either side goes through these: the dispatch point
            // for the registry pull/push (empty: a "not wired" error).
            image::CopyHooks hooks;
            auto digest = BOCK_TRY(image::copy_image(*ctx.store, s, d, hooks));
            if (!digestfile->empty()) BOCK_TRY(fs::write_file_atomic(*digestfile, digest));
            return 0;
        });
    });
}

}  // namespace bock::cli

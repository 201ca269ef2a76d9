// `bock save [-o FILE] [--format oci-archive|docker-archive|oci-dir] IMAGE...`
#include <unistd.h>

#include "bock/frontend/run.hpp"
#include "bock/image/transport.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_save(CLI::App& app) {
    auto* cmd = app.add_subcommand("save", "Write images to an OCI archive, a `docker save` archive or an OCI layout directory");
    auto output = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("oci-archive");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("-o,--output", *output, "File (or directory for oci-dir) to write (default: standard output)");
    cmd->add_option("--format", *format, "oci-archive (default), docker-archive or oci-dir")
        ->check(CLI::IsMember({"oci-archive", "docker-archive", "oci-dir"}));
    cmd->add_option("IMAGE", *names, "Image names or ids")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::string out = output->empty() ? "-" : *output;
            if (*format == "oci-dir" && out == "-")
                return make_error("--format oci-dir needs a directory").with_hint("give one with -o DIR");
            if (out == "-" && ::isatty(1))
                return make_error("refusing to write an archive to a terminal")
                    .with_hint("use -o FILE or redirect standard output");
            auto ctx = BOCK_TRY(frontend::open_context());
            std::vector<image::ImageRecord> recs;
            for (const auto& n : *names) {
                auto rec = BOCK_TRY(frontend::resolve_image(ctx, n));
                // Saved under the name typed (as podman), when it is a name.
                if (auto ref = image::Reference::parse(n); ref && !rec.name.empty()) {
                    for (const auto& c : image::local_candidates(*ref))
                        if (auto f = BOCK_TRY(ctx.store->find(c)); f && f->manifest == rec.manifest) {
                            rec.name = f->name;
                            break;
                        }
                }
                recs.push_back(rec);
            }
            image::Location dst;
            dst.kind = *format == "docker-archive" ? image::Location::Kind::docker_archive
                       : *format == "oci-dir"      ? image::Location::Kind::oci
                                                   : image::Location::Kind::oci_archive;
            dst.path = out;
            BOCK_TRY(image::write_from_store(*ctx.store, recs, dst));
            return 0;
        });
    });
}

}  // namespace bock::cli

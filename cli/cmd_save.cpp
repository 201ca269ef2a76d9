// `bock save [-o FILE] [--format oci-archive|docker-archive|oci-dir] IMAGE...`
#include <unistd.h>

#include "bock/engine/images.hpp"
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
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::save_images(ctx, *names, *format, out));
            return 0;
        });
    });
}

}  // namespace bock::cli

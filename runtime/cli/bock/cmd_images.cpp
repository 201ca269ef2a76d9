#include <ctime>

#include <nlohmann/json.hpp>

#include "bock/frontend/context.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

std::string human_size(uint64_t b) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.3g} {}", v, units[u]);
}

std::string since(int64_t created) {
    if (created <= 0) return "N/A";
    int64_t d = static_cast<int64_t>(std::time(nullptr)) - created;
    if (d < 60) return "Less than a minute ago";
    if (d < 3600) return fmt::format("{} minutes ago", d / 60);
    if (d < 86400) return fmt::format("{} hours ago", d / 3600);
    if (d < 86400 * 365) return fmt::format("{} days ago", d / 86400);
    return fmt::format("{} years ago", d / (86400 * 365));
}

}  // namespace

void add_images(CLI::App& app) {
    auto* cmd = app.add_subcommand("images", "List images in the local store");
    auto quiet = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>();
    cmd->add_flag("-q,--quiet", *quiet, "Show only image ids");
    cmd->add_option("--format", *format, "Output format: json")->check(CLI::IsMember({"json", "table"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto images = BOCK_TRY(ctx.store->list());
            if (*format == "json") {
                auto arr = nlohmann::json::array();
                for (const auto& i : images) {
                    std::vector<std::string> diff;
                    for (const auto& d : i.diff_ids) diff.push_back(d.str());
                    arr.push_back({{"Id", i.config.hex},
                                   {"Names", {i.name}},
                                   {"Digest", i.manifest.str()},
                                   {"Created", i.created},
                                   {"Size", i.size},
                                   {"Layers", diff}});
                }
                fmt::print("{}\n", arr.dump(2));
                return 0;
            }
            if (*quiet) {
                for (const auto& i : images) fmt::print("{}\n", i.config.hex.substr(0, 12));
                return 0;
            }
            fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
            for (const auto& i : images) {
                auto ref = image::Reference::parse(i.name);
                std::string repo = ref ? ref->repository() : i.name;
                std::string tag = ref && !ref->tag.empty() ? ref->tag : "<none>";
                fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", repo, tag, i.config.hex.substr(0, 12),
                           since(i.created), human_size(i.size));
            }
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock images` (and `bock image ls`): one row per name, dangling images
// as <none>; --format json gives one object per image, as podman does.
#include <ctime>
#include <map>
#include <set>

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

std::string rfc3339(int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    struct tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

CLI::App* add_images_to(CLI::App& parent, const std::string& name) {
    auto* cmd = parent.add_subcommand(name, "List images in the local store");
    auto quiet = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>();
    cmd->add_flag("-q,--quiet", *quiet, "Show only image ids");
    cmd->add_flag("-a,--all", *all, "Show all images (Bock has no intermediate images: the same list)");
    cmd->add_option("--format", *format, "Output format: json or table")->check(CLI::IsMember({"json", "table"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto images = BOCK_TRY(ctx.store->list());
            if (*format == "json") {
                auto containers = BOCK_TRY(ctx.store->containers());
                std::vector<std::string> order;
                std::map<std::string, std::vector<const image::ImageRecord*>> by_id;
                for (const auto& i : images) {
                    if (!by_id.contains(i.manifest.hex)) order.push_back(i.manifest.hex);
                    by_id[i.manifest.hex].push_back(&i);
                }
                auto arr = nlohmann::json::array();
                for (const auto& m : order) {
                    const auto& recs = by_id[m];
                    const auto& i = *recs.front();
                    auto names = nlohmann::json::array(), digests = nlohmann::json::array();
                    for (const auto* r : recs) {
                        if (r->name.empty()) continue;
                        names.push_back(r->name);
                        if (auto ref = image::Reference::parse(r->name)) {
                            std::string d = ref->repository() + "@" + i.manifest.str();
                            if (std::find(digests.begin(), digests.end(), d) == digests.end()) digests.push_back(d);
                        }
                    }
                    int used = 0;
                    for (const auto& c : containers) used += c.image_id == i.config.hex || (c.image_id.empty() && std::find(names.begin(), names.end(), c.image) != names.end());
                    std::vector<std::string> diff;
                    for (const auto& d : i.diff_ids) diff.push_back(d.str());
                    arr.push_back({{"Id", i.config.hex},
                                   {"ParentId", ""},
                                   {"RepoTags", names},
                                   {"RepoDigests", digests},
                                   {"Names", names},
                                   {"Digest", i.manifest.str()},
                                   {"Created", i.created},
                                   {"CreatedAt", rfc3339(i.created)},
                                   {"Size", i.size},
                                   {"SharedSize", 0},
                                   {"VirtualSize", i.size},
                                   {"Containers", used},
                                   {"Dangling", names.empty()},
                                   {"Layers", diff}});
                }
                fmt::print("{}\n", arr.dump(2));
                return 0;
            }
            if (*quiet) {
                std::set<std::string> seen;
                for (const auto& i : images)
                    if (seen.insert(i.config.hex).second) fmt::print("{}\n", i.config.hex.substr(0, 12));
                return 0;
            }
            fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
            for (const auto& i : images) {
                std::string repo = "<none>", tag = "<none>";
                if (auto ref = image::Reference::parse(i.name); ref && !i.name.empty()) {
                    repo = ref->repository();
                    if (!ref->tag.empty()) tag = ref->tag;
                }
                fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", repo, tag, i.config.hex.substr(0, 12),
                           since(i.created), human_size(i.size));
            }
            return 0;
        });
    });
    return cmd;
}

void add_images(CLI::App& app) { add_images_to(app, "images"); }

}  // namespace bock::cli

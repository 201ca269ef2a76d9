// `bock ps [-a] [-q] [--no-trunc] [--filter K=V]... [--format json|table|TEMPLATE]`:
// containers, newest first, with the status derived from facts (a
// container whose bock was killed shows as exited, with the reason).
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/format.hpp"
#include "bock/engine/ps.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

// The default table, as a template (podman's columns and headers).
constexpr const char* kPsTable =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const std::map<std::string, std::string> kPsHeaders = {
    {"ID", "CONTAINER ID"}, {"Created", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"},
    {"Names", "NAMES"},     {"Image", "IMAGE"},     {"Command", "COMMAND"},      {"Status", "STATUS"},
    {"Ports", "PORTS"},     {"ImageID", "IMAGE ID"}};

}  // namespace

void add_ps(CLI::App& app) {
    auto* cmd = app.add_subcommand("ps", "List containers");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto no_trunc = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>("table");
    auto filters = std::make_shared<std::vector<std::string>>();
    cmd->add_flag("-a,--all", *all, "Show exited containers too");
    cmd->add_flag("-q,--quiet", *quiet, "Show only ids");
    cmd->add_flag("--no-trunc", *no_trunc, "Do not shorten ids and commands");
    cmd->add_option("-f,--filter", *filters,
                    "Filter: status=, name=, id=, label=KEY[=VALUE], ancestor=IMAGE, exited=CODE, health= (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--format", *format, "json, table (default), or a template such as '{{.ID}} {{.Names}}'");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto filter = BOCK_TRY(engine::PsFilter::parse(*filters));
            std::optional<engine::Template> tmpl;
            if (*format != "json")
                tmpl = BOCK_TRY(engine::Template::parse(*format == "table" ? kPsTable : *format, kPsHeaders));
            auto ctx = BOCK_TRY(engine::open_context());
            auto list = BOCK_TRY(engine::list_containers(ctx));
            bool show_all = *all || filter.implies_all();
            std::erase_if(list, [&](const engine::ContainerInfo& c) {
                return (!show_all && c.status != "running") || !filter.matches(ctx, c);
            });
            if (*quiet) {
                for (const auto& c : list) fmt::print("{}\n", *no_trunc ? c.rec.id : c.rec.id.substr(0, 12));
                return 0;
            }
            if (*format == "json") {
                auto arr = nlohmann::json::array();
                for (const auto& c : list) arr.push_back(engine::ps_json(ctx, c));
                fmt::print("{}\n", arr.dump(2));
                return 0;
            }
            std::vector<nlohmann::json> docs;
            for (const auto& c : list) docs.push_back(engine::ps_fields(ctx, c, *no_trunc));
            fmt::print("{}", BOCK_TRY(tmpl->render_all(docs)));
            return 0;
        });
    });
}

}  // namespace bock::cli

// `bock top CONTAINER [DESCRIPTOR...]`: the container's processes with
// podman's ps descriptors (engine/include/bock/engine/top.hpp).
#include "bock/engine/format.hpp"
#include "bock/engine/top.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_top(CLI::App& app) {
    auto* cmd = app.add_subcommand("top", "Display the running processes of a container");
    auto key = std::make_shared<std::string>();
    auto descs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("CONTAINER", *key, "Container name, id or unique id prefix")->required();
    cmd->add_option("DESCRIPTORS", *descs, "ps descriptors, as words or comma-separated (default: "
                                           "user pid ppid pcpu etime tty time args)");
    std::string known;
    for (const auto& n : engine::top_descriptors()) known += (known.empty() ? "" : ", ") + n;
    cmd->footer("Descriptors: " + known +
                ";\nAIX: %C pcpu, %G group, %P ppid, %U user, %a args, %c comm, %g rgroup, %n nice, %p pid, %r pgid,\n"
                "%t etime, %u ruser, %x time, %y tty, %z vsz. Read from /proc, rootless too.");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto table = BOCK_TRY(engine::top_container(ctx, *key, *descs));
            // Aligned as podman's tabwriter does, through the table template.
            std::string tmpl = "table";
            std::map<std::string, std::string> headers;
            for (size_t i = 0; i < table.headers.size(); i++) {
                std::string field = "c" + std::to_string(i);
                tmpl += (i ? "\t{{." : " {{.") + field + "}}";
                headers[field] = table.headers[i];
            }
            auto t = BOCK_TRY(engine::Template::parse(tmpl, headers));
            std::vector<nlohmann::json> docs;
            for (const auto& row : table.rows) {
                nlohmann::json d = nlohmann::json::object();
                for (size_t i = 0; i < row.size(); i++) d["c" + std::to_string(i)] = row[i];
                docs.push_back(std::move(d));
            }
            fmt::print("{}", BOCK_TRY(t.render_all(docs)));
            return 0;
        });
    });
}

}  // namespace bock::cli

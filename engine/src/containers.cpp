#include "bock/frontend/containers.hpp"

#include <dirent.h>

#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "container_dirs.hpp"

namespace bock::frontend {

Result<std::vector<ContainerInfo>> list_containers(const Context& ctx) {
    std::vector<ContainerInfo> out;
    std::string dir = fs::join(ctx.store_root, "containers");
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        std::string id = e->d_name;
        if (id.size() != 64) continue;
        ContainerInfo c;
        c.id = id;
        c.status = "running";
        if (auto text = fs::read_file(fs::join(dir, id + "/container.json"))) {
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_object()) {
                c.image = j.value("image", "");
                c.status = j.value("status", "exited");
                c.exit_code = j.value("exit_code", 0);
                if (j.contains("command") && j["command"].is_array())
                    for (const auto& a : j["command"])
                        if (a.is_string()) c.command += (c.command.empty() ? "" : " ") + a.get<std::string>();
            }
        }
        out.push_back(std::move(c));
    }
    ::closedir(d);
    return out;
}

Result<std::string> remove_container(const Context& ctx, const std::string& prefix) {
    auto all = BOCK_TRY(list_containers(ctx));
    const ContainerInfo* match = nullptr;
    for (const auto& c : all)
        if (!prefix.empty() && c.id.compare(0, prefix.size(), prefix) == 0) {
            if (match) return make_error("container id prefix `{}` is ambiguous", prefix);
            match = &c;
        }
    if (!match) return Error(ENOENT, fmt::format("no such container: {}", prefix));
    if (match->status == "running")
        return make_error("container {} is running", match->id.substr(0, 12)).with_hint("stop it first");
    BOCK_TRY(ContainerDirs::for_id(ctx, match->id).remove());
    return match->id;
}

}  // namespace bock::frontend

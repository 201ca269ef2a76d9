// How `bock` talks about its own command line, the way podman does: an
// unknown flag or command is named, with the usage line or the closest
// commands; a podman command Bock has not built yet says so and when it
// comes; `bock --help` lists commands in podman's groups.
#include <algorithm>
#include <map>

#include "commands.hpp"
#include "bock/common/strings.hpp"

namespace bock::cli {
namespace {

// podman's commands that Bock does not have yet, and the work that brings
// them (the issue). A name already registered (e.g. diff, once it is built)
// is left alone.
const std::vector<std::pair<const char*, const char*>> kNotBuilt = {};

const char* group_of(const std::string& name) {
    static const std::map<std::string, const char*> groups = {
        {"run", "Containers"},     {"ps", "Containers"},      {"rm", "Containers"},
        {"create", "Containers"},  {"start", "Containers"},   {"stop", "Containers"},
        {"restart", "Containers"}, {"kill", "Containers"},    {"wait", "Containers"},
        {"exec", "Containers"},    {"healthcheck", "Containers"},    {"attach", "Containers"},  {"logs", "Containers"},
        {"pause", "Containers"},   {"unpause", "Containers"}, {"top", "Containers"},
        {"stats", "Containers"},   {"cp", "Containers"},      {"rename", "Containers"},
        {"port", "Containers"},    {"commit", "Containers"},  {"diff", "Containers"},
        {"export", "Containers"},  {"images", "Images"},      {"image", "Images"},
        {"pull", "Images"},        {"push", "Images"},        {"rmi", "Images"},
        {"tag", "Images"},         {"load", "Images"},        {"save", "Images"},
        {"import", "Images"},      {"inspect", "Images"},     {"build", "Images"},
        {"copy", "Images"},        {"login", "Registries"},   {"logout", "Registries"},
        {"volume", "Volumes and networks"}, {"network", "Volumes and networks"},
        {"compose", "Compose"},
    };
    auto it = groups.find(name);
    return it == groups.end() ? "System" : it->second;
}


}  // namespace

std::string usage_line(const CLI::App* cmd) {
    const std::string& footer = cmd->get_footer();
    if (footer.starts_with("Usage:")) return footer.substr(0, footer.find('\n'));
    std::string name;
    for (const CLI::App* a = cmd; a; a = a->get_parent()) name = a->get_name() + (name.empty() ? "" : " " + name);
    std::string u = CLI::Formatter().make_usage(cmd, name);
    while (!u.empty() && (u.back() == '\n' || u.back() == ' ')) u.pop_back();
    return u;
}

int usage_error(const CLI::App* cmd, const std::string& message) {
    log::error("{}", message);
    log::notice(usage_line(cmd));
    return 125;
}

std::vector<std::string> closest_commands(const CLI::App& app, const std::string& word) {
    std::vector<std::pair<size_t, std::string>> scored;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        const std::string& name = sub->get_name();
        size_t d = strings::edit_distance(word, name);
        bool prefix = word.size() >= 2 && (name.starts_with(word) || word.starts_with(name));
        if (d <= std::max<size_t>(1, word.size() / 3) || prefix) scored.emplace_back(prefix ? 0 : d, name);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> out;
    for (const auto& [d, name] : scored)
        if (out.size() < 3) out.push_back(name);
    return out;
}

void add_not_built(CLI::App& app) {
    for (const auto& [name, area] : kNotBuilt) {
        std::string n = name;
        if (!app.get_subcommands([&](const CLI::App* s) { return s->check_name(n); }).empty()) continue;
        auto* cmd = app.add_subcommand(n, fmt::format("(not built yet: comes with {})", area));
        cmd->prefix_command();  // whatever follows is not looked at
        cmd->set_help_flag();
        cmd->callback([n, a = std::string(area)] {
            log::error("\"bock {}\" is not built yet (it comes with {})", n, a);
            exit_code = 125;
        });
    }
}

void group_commands(CLI::App& app) {
    // Names starting with "__" (`__complete`) are the shell's, not the user's: hidden.
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        sub->group(sub->get_name().starts_with("__") ? "" : group_of(sub->get_name()));
}

}  // namespace bock::cli

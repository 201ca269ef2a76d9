// bock.conf (docs/config.md): which files, which keys, what each means.
#include "bock/engine/config.hpp"

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/toml.hpp"

namespace bock::engine {
namespace {

using Kind = toml::Value::Kind;

struct Key {
    const char* table;
    const char* name;
    Kind kind;
    std::string Config::*str = nullptr;
    std::vector<std::string> Config::*list = nullptr;
    bool Config::*flag = nullptr;
};

const Key kKeys[] = {
    {"engine", "storage_driver", Kind::string, &Config::storage_driver, nullptr, nullptr},
    {"engine", "registries_conf", Kind::string, &Config::registries_conf, nullptr, nullptr},
    {"engine", "ignore_limits", Kind::boolean, nullptr, nullptr, &Config::ignore_limits},
    {"network", "default_network", Kind::string, &Config::default_network, nullptr, nullptr},
    {"network", "dns_upstream", Kind::string, &Config::dns_upstream, nullptr, nullptr},
    {"containers", "log_size_max", Kind::string, &Config::log_size_max, nullptr, nullptr},
    {"containers", "default_capabilities", Kind::array, nullptr, &Config::default_capabilities, nullptr},
    {"containers", "seccomp_profile", Kind::string, &Config::seccomp_profile, nullptr, nullptr},
    {"containers", "default_ulimits", Kind::array, nullptr, &Config::default_ulimits, nullptr},
};

}  // namespace

Result<void> parse_config(std::string_view text, const std::string& file, Config& into,
                          std::vector<std::string>& warnings) {
    auto entries = BOCK_TRY(toml::parse(text, file));
    for (const auto& e : entries) {
        std::string full = e.table.empty() ? e.key : e.table + "." + e.key;
        const Key* k = nullptr;
        for (const auto& cand : kKeys)
            if (e.table == cand.table && e.key == cand.name) k = &cand;
        if (!k) {
            std::string near;
            for (const auto& cand : kKeys)
                if (e.key == cand.name) near = fmt::format(" (did you mean [{}] {}?)", cand.table, cand.name);
            warnings.push_back(fmt::format("{}:{}: unknown key `{}`, ignored{}", file, e.line, full, near));
            continue;
        }
        if (e.value.kind != k->kind) {
            toml::Value want;
            want.kind = k->kind;
            return make_error("{}:{}: `{}` must be {}, not {}", file, e.line, full, want.kind_name(),
                              e.value.kind_name());
        }
        if (k->str) into.*(k->str) = e.value.str;
        if (k->flag) into.*(k->flag) = e.value.boolean;
        if (k->list) {
            std::vector<std::string> v;
            for (const auto& item : e.value.items) {
                if (item.kind != Kind::string)
                    return make_error("{}:{}: `{}` must be an array of strings", file, e.line, full);
                v.push_back(item.str);
            }
            into.*(k->list) = v;
        }
        std::erase_if(into.origins, [&](const auto& o) { return o.first == full; });
        into.origins.emplace_back(full, fmt::format("{}:{}", file, e.line));
    }
    into.files.push_back(file);
    return ok();
}

std::vector<std::string> config_files() {
    if (const char* one = std::getenv("BOCK_CONFIG"); one && *one) return {one};
    std::string user;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') user = x;
    else if (const char* h = std::getenv("HOME"); h && *h) user = fs::join(h, ".config");
    std::vector<std::string> out{"/etc/bock/bock.conf"};
    if (!user.empty()) out.push_back(fs::join(user, "bock/bock.conf"));
    return out;
}

Result<Config> load_config() {
    Config c;
    bool named = std::getenv("BOCK_CONFIG") && *std::getenv("BOCK_CONFIG");
    for (const auto& file : config_files()) {
        auto text = fs::read_file(file);
        if (!text) {
            // A missing file is no configuration; $BOCK_CONFIG must exist.
            if (text.error().code() == ENOENT && !named) continue;
            return std::move(text).error().wrap(fmt::format("read the configuration `{}`", file));
        }
        std::vector<std::string> warnings;
        BOCK_TRY(parse_config(*text, file, c, warnings));
        for (const auto& w : warnings) log::warn("{}", w);
    }
    return c;
}

}  // namespace bock::engine

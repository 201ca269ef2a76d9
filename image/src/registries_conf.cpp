// registries.conf (registries_conf.hpp): toml++ parses, this file checks
// the keys it knows and warns about the rest, then resolves short names,
// mirrors and blocked registries.
#include "bock/image/registries_conf.hpp"


#include <algorithm>
#include <cstdlib>
#include <set>

#include <toml++/toml.h>

#include "bock/common/strings.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"

namespace bock::image {

namespace {

using strings::env_or;

std::string where(const std::string& path, const toml::node& n) {
    return fmt::format("{}:{}", path, n.source().begin.line);
}

// Keys podman knows that Bock reads but does not act on (no warning).
const std::set<std::string> top_known_ignored = {"short-name-mode", "credential-helpers", "aliases",
                                                 "additional-layer-store-auth-helper"};
const std::set<std::string> registry_known_ignored = {"mirror-by-digest-only", "pull-from-mirror"};

bool prefix_matches(const std::string& prefix, const Reference& ref) {
    std::string repo = ref.domain + "/" + ref.path;
    if (prefix.starts_with("*.")) {
        std::string suffix = prefix.substr(1);  // ".example.com"
        return ref.domain.size() > suffix.size() && ref.domain.ends_with(suffix);
    }
    return repo == prefix || repo.starts_with(prefix + "/") || ref.domain == prefix;
}

// Rewrites ref's prefix into `location`.
Result<Reference> rewrite(const Reference& ref, const std::string& prefix, const std::string& location) {
    std::string repo = ref.domain + "/" + ref.path;
    std::string rest = prefix.starts_with("*.") ? "" : repo.substr(std::min(prefix.size(), repo.size()));
    std::string target = prefix.starts_with("*.") ? location + "/" + ref.path : location + rest;
    if (!ref.tag.empty()) target += ":" + ref.tag;
    if (!ref.digest.empty()) target += "@" + ref.digest;
    auto r = BOCK_TRY(Reference::parse(target).context(fmt::format("rewrite {} with location `{}`", ref.str(), location)));
    r.had_domain = true;
    return r;
}

}  // namespace

const RegistryEntry* RegistriesConf::find(const Reference& ref) const {
    const RegistryEntry* best = nullptr;
    for (const auto& e : registries)
        if (prefix_matches(e.prefix, ref) && (!best || e.prefix.size() > best->prefix.size())) best = &e;
    return best;
}

std::vector<std::string> registries_conf_files() {
    std::string config = env_or("XDG_CONFIG_HOME", env_or("HOME", "/") + "/.config");
    std::vector<std::string> candidates;
    if (auto e = env_or("BOCK_REGISTRIES_CONF"); !e.empty()) candidates.push_back(e);
    candidates.push_back(config + "/bock/registries.conf");
    candidates.push_back(config + "/containers/registries.conf");
    candidates.push_back("/etc/containers/registries.conf");
    std::vector<std::string> files;
    for (const auto& c : candidates) {
        if (!fs::exists(c)) continue;
        files.push_back(c);
        std::string dropins = c + ".d";
        std::vector<std::string> more;
        for (const auto& n : fs::list_dir(dropins).value_or(std::vector<std::string>{}))
            if (n.ends_with(".conf")) more.push_back(dropins + "/" + n);
        std::sort(more.begin(), more.end());
        files.insert(files.end(), more.begin(), more.end());
        break;
    }
    return files;
}

Result<void> parse_registries_conf(std::string_view text, const std::string& path, RegistriesConf& into,
                                   std::vector<std::string>& warnings) {
    toml::table t;
    try {
        t = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        return make_error("{}:{}: invalid toml: {}", path, e.source().begin.line, e.description());
    }
    // Collected with their line, reported in line order (toml++ iterates
    // tables by key).
    std::vector<std::pair<uint32_t, std::string>> found;
    auto warn = [&](const toml::node& n, std::string msg) {
        found.emplace_back(n.source().begin.line, where(path, n) + ": " + msg);
    };
    auto get_bool = [&](const toml::node& n, const std::string& key, bool& out) {
        if (auto b = n.value<bool>()) out = *b;
        else warn(n, fmt::format("`{}` must be true or false: ignored", key));
    };
    auto get_string = [&](const toml::node& n, const std::string& key, std::string& out) {
        if (auto s = n.value<std::string>()) out = *s;
        else warn(n, fmt::format("`{}` must be a string: ignored", key));
    };
    into.files.push_back(path);
    for (auto&& [k, v] : t) {
        std::string key(k.str());
        if (key == "unqualified-search-registries") {
            auto* arr = v.as_array();
            if (!arr) {
                warn(v, "`unqualified-search-registries` must be an array of strings: ignored");
                continue;
            }
            into.unqualified_search.clear();
            for (auto&& x : *arr) {
                if (auto s = x.value<std::string>()) into.unqualified_search.push_back(*s);
                else warn(x, "`unqualified-search-registries` entries must be strings: ignored");
            }
        } else if (key == "registry") {
            auto* arr = v.as_array();
            if (!arr) {
                warn(v, "`registry` must be an array of tables ([[registry]]): ignored");
                continue;
            }
            for (auto&& node : *arr) {
                auto* reg = node.as_table();
                if (!reg) {
                    warn(node, "`registry` entries must be tables: ignored");
                    continue;
                }
                RegistryEntry e;
                e.file = path;
                for (auto&& [rk, rv] : *reg) {
                    std::string rkey(rk.str());
                    if (rkey == "prefix") get_string(rv, "prefix", e.prefix);
                    else if (rkey == "location") get_string(rv, "location", e.location);
                    else if (rkey == "insecure") get_bool(rv, "insecure", e.insecure);
                    else if (rkey == "blocked") get_bool(rv, "blocked", e.blocked);
                    else if (rkey == "mirror" && rv.is_array()) {
                        for (auto&& mn : *rv.as_array()) {
                            auto* mt = mn.as_table();
                            if (!mt) {
                                warn(mn, "`registry.mirror` entries must be tables: ignored");
                                continue;
                            }
                            RegistryMirror m;
                            for (auto&& [mk, mv] : *mt) {
                                std::string mkey(mk.str());
                                if (mkey == "location") get_string(mv, "location", m.location);
                                else if (mkey == "insecure") get_bool(mv, "insecure", m.insecure);
                                else if (!registry_known_ignored.contains(mkey))
                                    warn(mv, fmt::format("unknown key `{}` in [[registry.mirror]]: ignored", mkey));
                            }
                            if (m.location.empty()) warn(mn, "[[registry.mirror]] without a location: ignored");
                            else e.mirrors.push_back(m);
                        }
                    } else if (!registry_known_ignored.contains(rkey)) {
                        warn(rv, fmt::format("unknown key `{}` in [[registry]]: ignored", rkey));
                    }
                }
                if (e.prefix.empty()) e.prefix = e.location;
                if (e.location.empty() && !e.prefix.starts_with("*.")) e.location = e.prefix;
                if (e.prefix.empty()) {
                    warn(node, "[[registry]] without a prefix or location: ignored");
                    continue;
                }
                auto same = std::find_if(into.registries.begin(), into.registries.end(),
                                         [&](const RegistryEntry& x) { return x.prefix == e.prefix; });
                if (same != into.registries.end()) *same = std::move(e);
                else into.registries.push_back(std::move(e));
            }
        } else if (key == "registries" || key == "insecure" || key == "blocked" || key == "location" ||
                   key == "prefix" || key == "mirror") {
            warn(v, fmt::format("`{}` is misplaced at the top level (v1 format, or belongs in [[registry]]): "
                                "ignored",
                                key));
        } else if (!top_known_ignored.contains(key)) {
            warn(v, fmt::format("unknown key `{}`: ignored", key));
        }
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& f : found) warnings.push_back(std::move(f.second));
    return ok();
}

Result<RegistriesConf> load_registries_conf() {
    RegistriesConf conf;
    std::vector<std::string> warnings;
    for (const auto& f : registries_conf_files()) {
        auto text = BOCK_TRY(fs::read_file(f).context(fmt::format("read `{}`", f)));
        BOCK_TRY(parse_registries_conf(text, f, conf, warnings));
    }
    for (const auto& w : warnings) log::warn("registries.conf: {}", w);
    return conf;
}

std::vector<Reference> search_candidates(const Reference& typed, std::string_view typed_text,
                                         const RegistriesConf& conf) {
    if (typed.had_domain || conf.unqualified_search.empty()) return {typed};
    std::string name(typed_text);
    if (name.starts_with("docker.io/")) return {typed};
    std::vector<Reference> out;
    for (const auto& reg : conf.unqualified_search) {
        auto r = Reference::parse(reg + "/" + name);
        if (r) out.push_back(*r);
    }
    return out.empty() ? std::vector<Reference>{typed} : out;
}

Result<std::vector<PullSource>> pull_sources(const Reference& ref, const RegistriesConf& conf) {
    const RegistryEntry* e = conf.find(ref);
    if (!e) return std::vector<PullSource>{{ref, false}};
    if (e->blocked)
        return make_error("registry {} is blocked by `{}` ([[registry]] prefix \"{}\")", ref.domain, e->file, e->prefix)
            .with_hint("remove `blocked = true` there, or pull from another registry");
    std::vector<PullSource> out;
    for (const auto& m : e->mirrors) out.push_back({BOCK_TRY(rewrite(ref, e->prefix, m.location)), m.insecure});
    out.push_back({e->location.empty() ? ref : BOCK_TRY(rewrite(ref, e->prefix, e->location)), e->insecure});
    return out;
}

}  // namespace bock::image

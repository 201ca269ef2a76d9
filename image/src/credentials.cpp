// The credentials chain (credentials.hpp): environment, auth files in
// Docker's config.json format, docker-credential-* helpers.
#include "bock/image/credentials.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "bock/common/strings.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/subprocess.hpp"

namespace bock::image {

using nlohmann::json;

namespace {

using strings::env_or;

std::string home() { return env_or("HOME", "/"); }

// "https://index.docker.io/v1/" -> "docker.io"; "http://h:5000/" -> "h:5000".
std::string normalize_key(std::string_view k) {
    if (auto s = k.find("://"); s != std::string_view::npos) k.remove_prefix(s + 3);
    while (k.ends_with("/")) k.remove_suffix(1);
    if (k.ends_with("/v1") || k.ends_with("/v2")) k.remove_suffix(3);
    std::string out(k);
    if (out == "index.docker.io" || out == "registry-1.docker.io" || out == "registry.hub.docker.com")
        out = "docker.io";
    return out;
}

// What a credential helper is asked for: Docker Hub's legacy server URL,
// else the host.
std::string helper_server(std::string_view registry) {
    return normalize_key(registry) == "docker.io" ? "https://index.docker.io/v1/" : std::string(registry);
}

Result<std::optional<Credentials>> from_helper(const std::string& helper, std::string_view registry) {
    std::string prog = "docker-credential-" + helper;
    if (!find_program(prog))
        return make_error("credential helper `{}` is not in $PATH", prog)
            .with_hint("install it, or remove it from credHelpers/credsStore in the auth file");
    SpawnOptions o;
    o.argv = {prog, "get"};
    o.stdin_data = helper_server(registry);
    o.capture_stdout = true;
    o.capture_stderr = true;
    auto r = BOCK_TRY(run_program(o).context(fmt::format("run {}", prog)));
    if (r.exit_code != 0) {
        std::string why = r.out.empty() ? r.err : r.out;
        while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
        if (why.find("credentials not found") != std::string::npos) return std::optional<Credentials>();
        return make_error("{} get {}: exit status {}: {}", prog, registry, r.exit_code, why);
    }
    try {
        auto j = json::parse(r.out);
        Credentials c;
        c.username = j.value("Username", "");
        std::string secret = j.value("Secret", "");
        if (c.username == "<token>") {
            c.username.clear();
            c.identity_token = secret;
        } else {
            c.password = secret;
        }
        c.source = prog;
        if (c.username.empty() && c.password.empty() && c.identity_token.empty()) return std::optional<Credentials>();
        return std::optional<Credentials>(std::move(c));
    } catch (const json::exception& e) {
        return make_error("{} get {}: invalid json answer: {}", prog, registry, e.what());
    }
}

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    std::string in;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) in += c;
    if (in.size() % 4 != 0) return make_error("invalid base64 (length {})", in.size());
    std::string out(3 * in.size() / 4 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    if (n < 0) return make_error("invalid base64");
    size_t len = static_cast<size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && len > 0; i--) len--;
    out.resize(len);
    return out;
}

std::string registry_env_name(std::string_view registry) {
    std::string out;
    for (char c : registry) {
        char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out += (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ? u : '_';
    }
    return out;
}

std::vector<std::string> auth_file_chain(const std::string& authfile) {
    std::vector<std::string> files;
    if (!authfile.empty()) files.push_back(authfile);
    else if (auto e = env_or("REGISTRY_AUTH_FILE"); !e.empty()) files.push_back(e);
    if (::geteuid() == 0) files.push_back("/run/containers/0/auth.json");
    else if (auto x = env_or("XDG_RUNTIME_DIR"); !x.empty()) files.push_back(x + "/containers/auth.json");
    files.push_back(env_or("XDG_CONFIG_HOME", home() + "/.config") + "/containers/auth.json");
    files.push_back(env_or("DOCKER_CONFIG", home() + "/.docker") + "/config.json");
    return files;
}

std::string login_auth_file(const std::string& authfile) {
    if (!authfile.empty()) return authfile;
    if (auto e = env_or("REGISTRY_AUTH_FILE"); !e.empty()) return e;
    if (::geteuid() == 0) return "/run/containers/0/auth.json";
    if (auto x = env_or("XDG_RUNTIME_DIR"); !x.empty()) return x + "/containers/auth.json";
    return env_or("XDG_CONFIG_HOME", home() + "/.config") + "/containers/auth.json";
}

Result<std::optional<Credentials>> credentials_from_config(std::string_view text, const std::string& path,
                                                           std::string_view registry) {
    std::string want = normalize_key(registry);
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        return make_error("auth file `{}`: invalid json: {}", path, e.what());
    }
    if (!j.is_object()) return make_error("auth file `{}`: not a json object", path);
    auto find_entry = [&](const char* section) -> const json* {
        auto s = j.find(section);
        if (s == j.end() || !s->is_object()) return nullptr;
        for (auto it = s->begin(); it != s->end(); ++it)
            if (normalize_key(it.key()) == want) return &it.value();
        return nullptr;
    };
    if (const json* h = find_entry("credHelpers"); h && h->is_string())
        return from_helper(h->get<std::string>(), registry);
    if (const json* a = find_entry("auths"); a && a->is_object()) {
        Credentials c;
        c.source = path;
        if (auto it = a->find("identitytoken"); it != a->end() && it->is_string()) c.identity_token = *it;
        if (auto it = a->find("auth"); it != a->end() && it->is_string() && !it->get<std::string>().empty()) {
            auto plain = base64_decode(it->get<std::string>());
            if (!plain) return make_error("auth file `{}`: auths.{}.auth: {}", path, registry, plain.error().message());
            auto colon = plain->find(':');
            if (colon == std::string::npos)
                return make_error("auth file `{}`: auths.{}.auth is not base64 of user:password", path, registry);
            c.username = plain->substr(0, colon);
            c.password = plain->substr(colon + 1);
        }
        if (!c.username.empty() || !c.identity_token.empty()) return std::optional<Credentials>(std::move(c));
    }
    if (auto s = j.find("credsStore"); s != j.end() && s->is_string() && !s->get<std::string>().empty())
        return from_helper(s->get<std::string>(), registry);
    return std::optional<Credentials>();
}

Result<std::optional<Credentials>> find_credentials(std::string_view registry, const std::string& authfile) {
    std::string var = "BOCK_REGISTRY_" + registry_env_name(registry);
    std::string user = env_or((var + "_USERNAME").c_str());
    std::string pass = env_or((var + "_PASSWORD").c_str());
    if (!user.empty() || !pass.empty()) {
        if (user.empty() || pass.empty())
            return make_error("{}_USERNAME and {}_PASSWORD must be set together", var, var);
        return std::optional<Credentials>(Credentials{user, pass, "", "$" + var + "_USERNAME"});
    }
    for (const auto& f : auth_file_chain(authfile)) {
        if (::access(f.c_str(), F_OK) != 0) {
            if (f == authfile) return make_error("auth file `{}`: no such file", f);
            continue;
        }
        auto text = BOCK_TRY(fs::read_file(f).context(fmt::format("read auth file `{}`", f)));
        auto c = BOCK_TRY(credentials_from_config(text, f, registry));
        if (c) {
            log::debug("credentials for {} from {}", registry, c->source);
            return c;
        }
    }
    return std::optional<Credentials>();
}

namespace {

Result<json> read_config_or_empty(const std::string& path) {
    if (::access(path.c_str(), F_OK) != 0) return json::object();
    auto text = BOCK_TRY(fs::read_file(path).context(fmt::format("read auth file `{}`", path)));
    try {
        auto j = text.empty() ? json::object() : json::parse(text);
        if (!j.is_object()) return make_error("auth file `{}`: not a json object", path);
        return j;
    } catch (const json::exception& e) {
        return make_error("auth file `{}`: invalid json: {}", path, e.what());
    }
}

Result<void> write_config(const std::string& path, const json& j) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) BOCK_TRY(fs::mkdir_p(path.substr(0, slash), 0700));
    return fs::write_file_atomic(path, j.dump(1, '\t') + "\n", 0600).context(fmt::format("write `{}`", path));
}

}  // namespace

Result<void> save_credentials(const std::string& path, std::string_view registry, const Credentials& c) {
    auto j = BOCK_TRY(read_config_or_empty(path));
    if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = json::object();
    auto& auths = j["auths"];
    for (auto it = auths.begin(); it != auths.end();) {
        if (normalize_key(it.key()) == normalize_key(registry)) it = auths.erase(it);
        else ++it;
    }
    json entry = json::object();
    if (!c.username.empty()) entry["auth"] = base64_encode(c.username + ":" + c.password);
    if (!c.identity_token.empty()) entry["identitytoken"] = c.identity_token;
    auths[std::string(registry)] = entry;
    return write_config(path, j);
}

Result<bool> remove_credentials(const std::string& path, std::string_view registry) {
    if (::access(path.c_str(), F_OK) != 0) return false;
    auto j = BOCK_TRY(read_config_or_empty(path));
    auto a = j.find("auths");
    if (a == j.end() || !a->is_object()) return false;
    bool removed = false;
    for (auto it = a->begin(); it != a->end();) {
        if (registry.empty() || normalize_key(it.key()) == normalize_key(registry)) {
            it = a->erase(it);
            removed = true;
        } else {
            ++it;
        }
    }
    if (removed) BOCK_TRY(write_config(path, j));
    return removed;
}

}  // namespace bock::image

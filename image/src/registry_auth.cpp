// Registry authentication: the WWW-Authenticate challenge decides. Basic
// sends the credentials; Bearer gets a token from the realm (GET with Basic
// credentials or anonymous; with an identity token, the OAuth2
// refresh_token grant POSTed to the realm, as containers/image does). A 401
// on a request gets one new token and one retry; threads that meet the
// same 401 share the refreshed token.
#include <curl/curl.h>

#include <cctype>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bock/common/log.hpp"
#include "registry_client.hpp"

namespace bock::image::detail {

namespace {

using nlohmann::json;

std::string escape(const std::string& s) {
    char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
}

}  // namespace

AuthChallenge parse_www_authenticate(std::string_view h) {
    AuthChallenge c;
    size_t i = 0;
    while (i < h.size() && h[i] == ' ') i++;
    size_t s = i;
    while (i < h.size() && h[i] != ' ') i++;
    c.scheme = lower(h.substr(s, i - s));
    while (i < h.size()) {
        while (i < h.size() && (h[i] == ' ' || h[i] == ',')) i++;
        size_t k = i;
        while (i < h.size() && h[i] != '=' && h[i] != ',') i++;
        std::string key = lower(trim(h.substr(k, i - k)));
        if (i >= h.size() || h[i] != '=') continue;
        i++;
        std::string value;
        if (i < h.size() && h[i] == '"') {
            for (i++; i < h.size() && h[i] != '"'; i++) {
                if (h[i] == '\\' && i + 1 < h.size()) i++;
                value += h[i];
            }
            i++;
        } else {
            size_t v = i;
            while (i < h.size() && h[i] != ',') i++;
            value = trim(h.substr(v, i - v));
        }
        if (!key.empty()) c.params[key] = value;
    }
    return c;
}

Result<std::optional<Credentials>> RegistryClient::credentials() {
    std::lock_guard lk(mu_);
    if (!creds_loaded_) {
        if (opts_.credentials) creds_ = opts_.credentials;
        else creds_ = BOCK_TRY(find_credentials(domain_, opts_.authfile));
        creds_loaded_ = true;
    }
    return creds_;
}

Result<RegistryClient::Response> RegistryClient::perform_authorized(Request req) {
    for (int attempt = 0;; attempt++) {
        std::string hdr;
        {
            std::lock_guard lk(mu_);
            hdr = auth_header_;
        }
        Request r2 = req;
        if (!hdr.empty()) r2.headers.push_back(hdr);
        auto r = BOCK_TRY(perform(r2));
        if (r.status != 401 || attempt > 0) return r;
        auto it = r.headers.find("www-authenticate");
        if (it == r.headers.end()) return r;
        BOCK_TRY(authenticate(parse_www_authenticate(it->second), hdr));
    }
}

Result<void> RegistryClient::authenticate(const AuthChallenge& c, const std::string& failed_header) {
    std::lock_guard serial(auth_mu_);
    {
        std::lock_guard lk(mu_);
        if (auth_header_ != failed_header) return ok();  // another thread refreshed it
    }
    auto creds = BOCK_TRY(credentials());
    std::string header;
    if (c.scheme == "basic") {
        if (!creds || creds->username.empty()) return ok();  // the retry gets the 401 again
        header = "Authorization: Basic " + base64_encode(creds->username + ":" + creds->password);
    } else if (c.scheme == "bearer" && c.params.contains("realm")) {
        header = "Authorization: Bearer " + BOCK_TRY(fetch_token(c, creds));
    } else {
        return ok();
    }
    std::lock_guard lk(mu_);
    auth_header_ = header;
    return ok();
}

Result<std::string> RegistryClient::fetch_token(const AuthChallenge& c, const std::optional<Credentials>& creds) {
    const std::string& realm = c.params.at("realm");
    if (!realm.starts_with("https://") && !realm.starts_with("http://"))
        return make_error("registry {}: token realm `{}` is not an http(s) url", host_, realm);
    // The scopes: the challenge's, plus what this client will need.
    std::vector<std::string> scopes;
    if (auto sc = c.params.find("scope"); sc != c.params.end()) {
        std::istringstream in(sc->second);
        for (std::string s; in >> s;) scopes.push_back(s);
    }
    if (!repository_.empty()) {
        std::string mine = "repository:" + repository_ + (opts_.push ? ":pull,push" : ":pull");
        if (std::find(scopes.begin(), scopes.end(), mine) == scopes.end()) scopes.push_back(mine);
    }
    std::string service = c.params.contains("service") ? c.params.at("service") : "";
    Request req;
    req.url = realm;
    if (creds && !creds->identity_token.empty()) {
        // OAuth2 refresh_token grant (docker's and containers/image's identity tokens).
        std::string form = "grant_type=refresh_token&client_id=bock&refresh_token=" + escape(creds->identity_token);
        if (!service.empty()) form += "&service=" + escape(service);
        if (!scopes.empty()) {
            std::string all;
            for (const auto& s : scopes) all += (all.empty() ? "" : " ") + s;
            form += "&scope=" + escape(all);
        }
        req.method = "POST";
        req.data = form;
        req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    } else {
        std::string q;
        if (!service.empty()) q += "service=" + escape(service);
        for (const auto& s : scopes) q += (q.empty() ? "" : "&") + std::string("scope=") + escape(s);
        if (creds && !creds->username.empty()) {
            q += (q.empty() ? "" : "&") + std::string("account=") + escape(creds->username);
            req.headers.push_back("Authorization: Basic " + base64_encode(creds->username + ":" + creds->password));
        }
        req.url += (realm.find('?') == std::string::npos ? "?" : "&") + q;
    }
    std::string what = creds ? fmt::format("get a token from `{}` (credentials from {})", realm, creds->source)
                             : fmt::format("get an anonymous token from `{}`", realm);
    auto r = BOCK_TRY(perform(req).context(what));
    if ((r.status == 401 || r.status == 403) && creds)
        return make_error("{}: the token server of {} refused the credentials (http {}): wrong username or password",
                          what, host_, r.status)
            .with_hint(fmt::format("check them with `bock login {}`", domain_));
    if (r.status != 200) return http_error(r, what);
    std::string token;
    try {
        auto j = json::parse(r.body);
        token = j.value("token", j.value("access_token", std::string()));
    } catch (const json::exception& e) {
        return make_error("token from `{}`: invalid json: {}", realm, e.what());
    }
    if (token.empty()) return make_error("token from `{}`: no token in the answer", realm);
    return token;
}

Error RegistryClient::http_error(const Response& r, const std::string& what) const {
    // The registry's own words: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}
    std::string detail;
    try {
        auto j = json::parse(r.body);
        for (const auto& e : j.at("errors")) {
            if (!detail.empty()) detail += "; ";
            detail += lower(e.value("message", e.value("code", "")));
        }
    } catch (const json::exception&) {
    }
    Error e = make_error("{}: registry {} answered http {}{}{}", what, host_, r.status, detail.empty() ? "" : ": ",
                         detail);
    if (r.status == 401 || r.status == 403) {
        std::optional<Credentials> c;
        {
            std::lock_guard lk(mu_);
            c = creds_;
        }
        if (c)
            e.with_hint(fmt::format("the credentials from {} were not accepted; check them with `bock login {}`",
                                    c->source, domain_));
        else
            e.with_hint(fmt::format("the registry wants credentials: `bock login {}`, or set "
                                    "BOCK_REGISTRY_{}_USERNAME and _PASSWORD",
                                    domain_, registry_env_name(domain_)));
    }
    return e;
}

}  // namespace bock::image::detail

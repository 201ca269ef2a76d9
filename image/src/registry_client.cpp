// Reading from a registry: ping, manifests (GET, HEAD), blobs (GET with an
// optional range, HEAD), tags (paginated by Link) and referrers. Every
// failure becomes an Error naming the registry and the cause (a connect
// errno, an HTTP status with the registry's error code).
#include <cctype>

#include <nlohmann/json.hpp>

#include "registry_client.hpp"

namespace bock::image::detail {

namespace {

using nlohmann::json;

constexpr size_t max_manifest_bytes = 4u << 20;  // containers/image's limit

const char* accept_manifests =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

// `Link: </v2/x/tags/list?n=2&last=b>; rel="next"` -> the url, or "".
std::string next_link(const std::map<std::string, std::string>& headers) {
    auto it = headers.find("link");
    if (it == headers.end()) return "";
    const std::string& v = it->second;
    auto lt = v.find('<'), gt = v.find('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt) return "";
    if (v.find("rel=\"next\"", gt) == std::string::npos && v.find("rel=next", gt) == std::string::npos) return "";
    return v.substr(lt + 1, gt - lt - 1);
}

}  // namespace

ManifestKind manifest_kind(const FetchedManifest& m) {
    std::string t = m.media_type;
    if (t.empty() || t == "application/json" || t == "text/plain") {
        try {
            auto j = json::parse(m.body);
            if (j.value("schemaVersion", 0) == 1) return ManifestKind::schema1;
            t = j.value("mediaType", "");
            if (t.empty()) return j.contains("manifests") ? ManifestKind::index : ManifestKind::image;
        } catch (const json::exception&) {
            return ManifestKind::unknown;
        }
    }
    if (t == media::oci_manifest || t == media::docker_manifest) return ManifestKind::image;
    if (t == media::oci_index || t == media::docker_list) return ManifestKind::index;
    if (t.starts_with("application/vnd.docker.distribution.manifest.v1")) return ManifestKind::schema1;
    return ManifestKind::unknown;
}

Result<void> RegistryClient::ping() {
    Request req;
    req.url = "/v2/";
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status == 200) return ok();
    if (r.status == 401) {
        auto c = BOCK_TRY(credentials());
        if (c)
            return make_error("registry {} refused the credentials from {}: wrong username or password", host_,
                              c->source);
        return http_error(r, "log in");
    }
    return http_error(r, "GET /v2/");
}

Result<FetchedManifest> RegistryClient::get_manifest(const std::string& reference) {
    Request req;
    req.url = path_ + "/manifests/" + reference;
    req.headers = {accept_manifests};
    req.max_body = max_manifest_bytes;
    auto r = BOCK_TRY(perform_authorized(req));
    std::string what = fmt::format("manifest `{}`", reference);
    if (r.status == 404) return make_error("{}: not found in {}/{}", what, host_, repository_);
    if (r.status != 200) return http_error(r, "get " + what);
    FetchedManifest m;
    m.body = std::move(r.body);
    m.digest = sha256_of(m.body);
    if (auto ct = r.headers.find("content-type"); ct != r.headers.end())
        m.media_type = trim(std::string_view(ct->second).substr(0, ct->second.find(';')));
    if (auto dh = r.headers.find("docker-content-digest"); dh != r.headers.end()) {
        auto d = Digest::parse(dh->second);
        if (d && *d != m.digest)
            return make_error("{}: digest mismatch (registry says {}, content is {})", what, d->str(), m.digest.str());
    }
    if (reference.starts_with("sha256:") && reference != m.digest.str())
        return make_error("{}: digest mismatch (content is {})", what, m.digest.str());
    return m;
}

Result<std::optional<Digest>> RegistryClient::manifest_digest(const std::string& reference) {
    Request req;
    req.method = "HEAD";
    req.url = path_ + "/manifests/" + reference;
    req.headers = {accept_manifests};
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status == 404) return std::optional<Digest>();
    if (r.status != 200) return http_error(r, fmt::format("HEAD manifest `{}`", reference));
    auto dh = r.headers.find("docker-content-digest");
    if (dh == r.headers.end()) {  // not every registry sends it on HEAD: fetch and hash
        auto m = BOCK_TRY(get_manifest(reference));
        return std::optional<Digest>(m.digest);
    }
    return std::optional<Digest>(BOCK_TRY(Digest::parse(dh->second)));
}

Result<void> RegistryClient::get_blob(const Descriptor& d, const BlobSink& sink) { return get_blob(d, sink, 0); }

Result<void> RegistryClient::get_blob(const Descriptor& d, const BlobSink& sink, uint64_t offset) {
    Request req;
    req.url = path_ + "/blobs/" + d.digest.str();
    req.sink = &sink;
    req.follow = true;
    if (offset > 0) {
        req.headers.push_back(fmt::format("Range: bytes={}-", offset));
        req.skip = offset;  // dropped if the registry answers 200 with the whole blob
    }
    auto r = BOCK_TRY(perform_authorized(req));
    std::string what = fmt::format("blob {}", d.digest.str());
    if (r.status == 404) return make_error("{}: not found in {}/{}", what, host_, repository_);
    if (r.status == 416) return make_error("{}: the registry refused range {}-: past the end", what, offset);
    if (r.status != 200 && r.status != 206) return http_error(r, "get " + what);
    return ok();
}

Result<bool> RegistryClient::blob_exists(const Digest& d) {
    Request req;
    req.method = "HEAD";
    req.url = path_ + "/blobs/" + d.str();
    req.follow = true;
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    return http_error(r, fmt::format("HEAD blob {}", d.str()));
}

Result<std::vector<std::string>> RegistryClient::list_tags(size_t page_size) {
    std::vector<std::string> tags;
    std::string url = path_ + "/tags/list" + (page_size ? fmt::format("?n={}", page_size) : "");
    for (int page = 0; !url.empty(); page++) {
        if (page > 10000) return make_error("tags of {}/{}: too many pages", host_, repository_);
        Request req;
        req.url = url;
        req.max_body = 16u << 20;
        auto r = BOCK_TRY(perform_authorized(req));
        if (r.status == 404) return make_error("repository {}/{}: not found", host_, repository_);
        if (r.status != 200) return http_error(r, "list tags");
        try {
            auto j = json::parse(r.body);
            if (auto t = j.find("tags"); t != j.end() && t->is_array())
                for (const auto& x : *t) tags.push_back(x.get<std::string>());
        } catch (const json::exception& e) {
            return make_error("tags of {}/{}: invalid json: {}", host_, repository_, e.what());
        }
        url = next_link(r.headers);
    }
    return tags;
}

Result<std::optional<std::string>> RegistryClient::referrers(const Digest& d, const std::string& artifact_type) {
    Request req;
    req.url = path_ + "/referrers/" + d.str();
    if (!artifact_type.empty()) req.url += "?artifactType=" + artifact_type;
    req.max_body = max_manifest_bytes;
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status == 404) return std::optional<std::string>();  // no referrers API
    if (r.status != 200) return http_error(r, fmt::format("referrers of {}", d.str()));
    return std::optional<std::string>(std::move(r.body));
}

}  // namespace bock::image::detail

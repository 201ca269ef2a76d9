// Writing to a registry, per the distribution spec: a blob upload starts
// with POST /v2/<name>/blobs/uploads/ (202 + Location), then either one
// PUT <location>?digest=<d> with the whole blob (monolithic) or PATCHes of
// Content-Range chunks (each answer gives the next Location) and a final
// empty PUT ?digest=. A cross-repository mount is POST ...?mount=&from=
// (201: mounted; 202: the registry opened an upload instead). Manifests
// go last, with PUT /v2/<name>/manifests/<tag|digest>.
#include "registry_client.hpp"

namespace bock::image::detail {

namespace {

std::string with_query(const std::string& location, const std::string& q) {
    return location + (location.find('?') == std::string::npos ? "?" : "&") + q;
}

}  // namespace

Result<bool> RegistryClient::mount_blob(const Digest& d, const std::string& from) {
    Request req;
    req.method = "POST";
    req.url = path_ + "/blobs/uploads/?mount=" + d.str() + "&from=" + from;
    req.data = "";
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status == 201) return true;
    if (r.status == 202) {
        // Not mountable: the registry opened an upload session instead;
        // cancel it (best effort) and let the caller upload.
        if (auto loc = r.headers.find("location"); loc != r.headers.end() && !loc->second.empty()) {
            Request cancel;
            cancel.method = "DELETE";
            cancel.url = loc->second;
            (void)perform_authorized(cancel);
        }
        return false;
    }
    return http_error(r, fmt::format("mount blob {} from {}", d.str(), from));
}

Result<void> RegistryClient::upload_blob(const Digest& d, const std::string& path, int64_t size, size_t chunk_size) {
    std::string what = fmt::format("upload blob {}", d.str());
    Request start;
    start.method = "POST";
    start.url = path_ + "/blobs/uploads/";
    start.data = "";
    auto r = BOCK_TRY(perform_authorized(start));
    if (r.status != 202) return http_error(r, what);
    auto location = [&](const Response& resp) -> Result<std::string> {
        auto it = resp.headers.find("location");
        if (it == resp.headers.end() || it->second.empty())
            return make_error("{}: registry {} sent no Location for the upload", what, host_);
        return it->second;
    };
    std::string loc = BOCK_TRY(location(r));
    Request put;
    put.method = "PUT";
    put.headers = {"Content-Type: application/octet-stream"};
    if (chunk_size > 0) {
        for (int64_t off = 0; off < size; off += static_cast<int64_t>(chunk_size)) {
            int64_t len = std::min<int64_t>(static_cast<int64_t>(chunk_size), size - off);
            Request patch;
            patch.method = "PATCH";
            patch.url = loc;
            patch.headers = {"Content-Type: application/octet-stream",
                             fmt::format("Content-Range: {}-{}", off, off + len - 1)};
            patch.file = path;
            patch.file_offset = off;
            patch.file_length = len;
            auto pr = BOCK_TRY(perform_authorized(patch));
            if (pr.status != 202) return http_error(pr, fmt::format("{} (chunk at {})", what, off));
            loc = BOCK_TRY(location(pr));
        }
        put.data = "";
    } else {
        put.file = path;
        put.file_length = size;
    }
    put.url = with_query(loc, "digest=" + d.str());
    auto pr = BOCK_TRY(perform_authorized(put));
    if (pr.status != 201) return http_error(pr, what);
    if (auto dh = pr.headers.find("docker-content-digest"); dh != pr.headers.end())
        if (auto got = Digest::parse(dh->second); got && *got != d)
            return make_error("{}: the registry stored digest {}", what, got->str());
    return ok();
}

Result<Digest> RegistryClient::put_manifest(const std::string& reference, const std::string& media_type,
                                            const std::string& body) {
    Request req;
    req.method = "PUT";
    req.url = path_ + "/manifests/" + reference;
    req.headers = {"Content-Type: " + media_type};
    req.data = body;
    Digest mine = sha256_of(body);
    auto r = BOCK_TRY(perform_authorized(req));
    if (r.status != 201 && r.status != 200) return http_error(r, fmt::format("put manifest `{}`", reference));
    if (auto dh = r.headers.find("docker-content-digest"); dh != r.headers.end()) {
        auto got = BOCK_TRY(Digest::parse(dh->second));
        if (got != mine)
            return make_error("put manifest `{}`: registry {} reports digest {}, the content is {}", reference, host_,
                              got.str(), mine.str());
    }
    return mine;
}

}  // namespace bock::image::detail

// podman-compatible image inspection, from the stored manifest and config.
#include "bock/image/inspect.hpp"

#include "store_internal.hpp"

namespace bock::image {

using nlohmann::json;

Result<std::vector<std::string>> image_names(const Store& store, const ImageRecord& rec) {
    std::vector<std::string> out;
    for (const auto& r : BOCK_TRY(store.list()))
        if (r.manifest == rec.manifest && !r.name.empty()) out.push_back(r.name);
    return out;
}

Result<json> inspect_image(const Store& store, const ImageRecord& rec) {
    detail::StorePaths p{store.root()};
    auto mtext = BOCK_TRY(detail::read_blob(p, rec.manifest));
    auto ctext = BOCK_TRY(detail::read_blob(p, rec.config));
    json m = json::parse(mtext, nullptr, false);
    json c = json::parse(ctext, nullptr, false);
    if (!m.is_object() || !c.is_object()) return make_error("image `{}`: stored manifest or config is not JSON", rec.name);
    auto names = BOCK_TRY(image_names(store, rec));
    json tags = json::array(), digests = json::array();
    for (const auto& n : names) {
        tags.push_back(n);
        if (auto ref = Reference::parse(n)) {
            std::string d = ref->repository() + "@" + rec.manifest.str();
            if (std::find(digests.begin(), digests.end(), d) == digests.end()) digests.push_back(d);
        }
    }
    json cfg = c.contains("config") && c["config"].is_object() ? c["config"] : json::object();
    json ids = json::array();
    for (const auto& d : rec.diff_ids) ids.push_back(d.str());
    json labels = cfg.contains("Labels") && cfg["Labels"].is_object() && !cfg["Labels"].empty() ? cfg["Labels"] : json(nullptr);
    json annotations = m.contains("annotations") && m["annotations"].is_object() ? m["annotations"] : json::object();
    std::string mtype = m.value("mediaType", std::string());
    if (mtype.empty()) mtype = media::oci_manifest;
    auto str = [](const json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    return json{{"Id", rec.config.hex},
                {"Digest", rec.manifest.str()},
                {"RepoTags", tags},
                {"RepoDigests", digests},
                {"Parent", ""},
                {"Comment", str(c, "comment")},
                {"Created", str(c, "created")},
                {"Config", cfg},
                {"Version", str(c, "docker_version")},
                {"Author", str(c, "author")},
                {"Architecture", str(c, "architecture")},
                {"Os", str(c, "os")},
                {"Size", rec.size},
                {"VirtualSize", rec.size},
                {"RootFS", {{"Type", "layers"}, {"Layers", ids}}},
                {"Labels", labels},
                {"Annotations", annotations},
                {"ManifestType", mtype},
                {"User", cfg.contains("User") && cfg["User"].is_string() ? cfg["User"].get<std::string>() : ""},
                {"History", c.contains("history") ? c["history"] : json::array()},
                {"NamesHistory", tags}};
}

}  // namespace bock::image

// OCI image-spec documents (and Docker schema2) to and from JSON. nlohmann
// throws; every exception is caught here and becomes an Error naming the
// document and the field.
#include "bock/image/oci.hpp"

namespace bock::image {

using nlohmann::json;

namespace {

Result<json> parse_json(std::string_view text, std::string_view what) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        return make_error("parse {}: invalid json: {}", what, e.what());
    }
}

Result<std::string> get_string(const json& j, const char* key, std::string_view what, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) return make_error("{}: missing field `{}`", what, key);
        return std::string();
    }
    if (!it->is_string()) return make_error("{}: field `{}` is not a string", what, key);
    return it->get<std::string>();
}

Result<std::vector<std::string>> get_strings(const json& j, const char* key, std::string_view what) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) return make_error("{}: field `{}` is not an array", what, key);
    for (const auto& v : *it) {
        if (!v.is_string()) return make_error("{}: field `{}` has a non-string element", what, key);
        out.push_back(v.get<std::string>());
    }
    return out;
}

Result<std::map<std::string, std::string>> get_string_map(const json& j, const char* key,
                                                           std::string_view what) {
    std::map<std::string, std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object()) return make_error("{}: field `{}` is not an object", what, key);
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) return make_error("{}: field `{}.{}` is not a string", what, key, k);
        out[k] = v.get<std::string>();
    }
    return out;
}

}  // namespace

Result<Descriptor> parse_descriptor(const json& j) {
    if (!j.is_object()) return make_error("descriptor: not an object");
    Descriptor d;
    d.media_type = BOCK_TRY(get_string(j, "mediaType", "descriptor", false));
    auto digest = BOCK_TRY(get_string(j, "digest", "descriptor", true));
    d.digest = BOCK_TRY_CTX(Digest::parse(digest), "descriptor: field `digest`");
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_integer())
        return make_error("descriptor {}: missing or non-integer field `size`", digest);
    d.size = size->get<int64_t>();
    if (d.size < 0) return make_error("descriptor {}: negative size", digest);
    d.annotations = BOCK_TRY(get_string_map(j, "annotations", "descriptor"));
    if (auto p = j.find("platform"); p != j.end() && !p->is_null()) d.platform = *p;
    return d;
}

json to_json(const Descriptor& d) {
    json j = json::object();
    j["mediaType"] = d.media_type;
    j["digest"] = d.digest.str();
    j["size"] = d.size;
    if (!d.annotations.empty()) j["annotations"] = d.annotations;
    if (d.platform) j["platform"] = *d.platform;
    return j;
}

Result<Manifest> parse_manifest(std::string_view text) {
    auto j = BOCK_TRY(parse_json(text, "manifest"));
    if (!j.is_object()) return make_error("manifest: not a json object");
    Manifest m;
    auto sv = j.find("schemaVersion");
    if (sv == j.end() || !sv->is_number_integer())
        return make_error("manifest: missing or non-integer field `schemaVersion`");
    m.schema_version = sv->get<int>();
    m.media_type = BOCK_TRY(get_string(j, "mediaType", "manifest", false));
    if (m.schema_version == 1 || m.media_type.starts_with("application/vnd.docker.distribution.manifest.v1"))
        return make_error("docker schema1 manifests are not supported");
    if (m.schema_version != 2)
        return make_error("manifest: unsupported schemaVersion {}", m.schema_version);
    if (m.media_type == media::oci_index || m.media_type == media::docker_list)
        return make_error("manifest: expected an image manifest, got an index ({})", m.media_type);
    if (!m.media_type.empty() && m.media_type != media::oci_manifest &&
        m.media_type != media::docker_manifest)
        return make_error("manifest: unsupported media type `{}`", m.media_type);
    auto cfg = j.find("config");
    if (cfg == j.end()) return make_error("manifest: missing field `config`");
    m.config = BOCK_TRY_CTX(parse_descriptor(*cfg), "manifest: field `config`");
    auto layers = j.find("layers");
    if (layers == j.end() || !layers->is_array())
        return make_error("manifest: missing or non-array field `layers`");
    for (size_t i = 0; i < layers->size(); i++) {
        m.layers.push_back(BOCK_TRY_CTX(parse_descriptor((*layers)[i]),
                                        fmt::format("manifest: layers[{}]", i)));
    }
    return m;
}

std::string serialize(const Manifest& m) {
    json j = json::object();
    j["schemaVersion"] = m.schema_version;
    if (!m.media_type.empty()) j["mediaType"] = m.media_type;
    j["config"] = to_json(m.config);
    j["layers"] = json::array();
    for (const auto& l : m.layers) j["layers"].push_back(to_json(l));
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ImageConfig> parse_image_config(std::string_view text) {
    auto j = BOCK_TRY(parse_json(text, "image config"));
    if (!j.is_object()) return make_error("image config: not a json object");
    ImageConfig c;
    c.architecture = BOCK_TRY(get_string(j, "architecture", "image config", false));
    c.os = BOCK_TRY(get_string(j, "os", "image config", false));
    c.created = BOCK_TRY(get_string(j, "created", "image config", false));
    if (auto cf = j.find("config"); cf != j.end() && !cf->is_null()) {
        if (!cf->is_object()) return make_error("image config: field `config` is not an object");
        const char* w = "image config: config";
        c.env = BOCK_TRY(get_strings(*cf, "Env", w));
        c.entrypoint = BOCK_TRY(get_strings(*cf, "Entrypoint", w));
        c.cmd = BOCK_TRY(get_strings(*cf, "Cmd", w));
        c.working_dir = BOCK_TRY(get_string(*cf, "WorkingDir", w, false));
        c.user = BOCK_TRY(get_string(*cf, "User", w, false));
        c.labels = BOCK_TRY(get_string_map(*cf, "Labels", w));
        if (auto ep = cf->find("ExposedPorts"); ep != cf->end() && !ep->is_null()) {
            if (!ep->is_object()) return make_error("image config: config.ExposedPorts is not an object");
            for (const auto& [port, _] : ep->items()) c.exposed_ports.push_back(port);
        }
    }
    auto rootfs = j.find("rootfs");
    if (rootfs == j.end() || !rootfs->is_object())
        return make_error("image config: missing or non-object field `rootfs`");
    auto ids = BOCK_TRY(get_strings(*rootfs, "diff_ids", "image config: rootfs"));
    for (size_t i = 0; i < ids.size(); i++)
        c.diff_ids.push_back(BOCK_TRY_CTX(Digest::parse(ids[i]),
                                          fmt::format("image config: rootfs.diff_ids[{}]", i)));
    return c;
}

std::string serialize(const ImageConfig& c) {
    json j = json::object();
    if (!c.created.empty()) j["created"] = c.created;
    j["architecture"] = c.architecture;
    j["os"] = c.os;
    json cf = json::object();
    if (!c.env.empty()) cf["Env"] = c.env;
    if (!c.entrypoint.empty()) cf["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty()) cf["Cmd"] = c.cmd;
    if (!c.working_dir.empty()) cf["WorkingDir"] = c.working_dir;
    if (!c.user.empty()) cf["User"] = c.user;
    if (!c.labels.empty()) cf["Labels"] = c.labels;
    for (const auto& p : c.exposed_ports) cf["ExposedPorts"][p] = json::object();
    j["config"] = cf;
    json ids = json::array();
    for (const auto& d : c.diff_ids) ids.push_back(d.str());
    j["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
    json history = json::array();
    for (size_t i = 0; i < c.diff_ids.size(); i++) {
        json h = {{"created_by", "bock"}};
        if (!c.created.empty()) h["created"] = c.created;
        history.push_back(h);
    }
    j["history"] = history;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bock::image

// The config of a committed image (see commit_config.hpp). Works on the
// stored JSON rather than ImageConfig so that fields Bock does not model
// (Healthcheck, ExposedPorts, Volumes, StopSignal, OnBuild, ...) survive.
#include "commit_config.hpp"

#include <cctype>

#include "bock/common/strings.hpp"
#include "bock/common/time.hpp"

namespace bock::image::detail {

namespace {

using json = nlohmann::json;

using strings::trim;

// JSON array (exec form) or a shell command.
Result<json> command_form(const std::string& v, std::string_view what) {
    if (v.starts_with("[")) {
        auto j = json::parse(v, nullptr, false);
        if (!j.is_array()) return make_error("-c {}: invalid JSON array `{}`", what, v);
        for (const auto& a : j)
            if (!a.is_string()) return make_error("-c {}: `{}` has a non-string element", what, v);
        return j;
    }
    return json::array({"/bin/sh", "-c", v});
}

// "K=V" or "K V" (quotes around V removed).
Result<std::pair<std::string, std::string>> key_value(const std::string& val, std::string_view what) {
    auto eq = val.find('=');
    if (eq == std::string::npos || eq == 0) {
        auto s = val.find(' ');
        if (s == std::string::npos) return make_error("-c {}: expected KEY=VALUE, got `{}`", what, val);
        return std::pair{val.substr(0, s), trim(val.substr(s + 1))};
    }
    std::string v = val.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::pair{val.substr(0, eq), v};
}

std::vector<std::string> words(const std::string& v) {
    std::vector<std::string> out;
    if (v.starts_with("[")) {
        auto j = json::parse(v, nullptr, false);
        if (j.is_array())
            for (const auto& a : j)
                if (a.is_string()) out.push_back(a.get<std::string>());
        return out;
    }
    size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) i++;
        size_t j = i;
        while (j < v.size() && !std::isspace(static_cast<unsigned char>(v[j]))) j++;
        if (j > i) out.push_back(v.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

Result<void> apply_instruction(json& c, const std::string& instruction) {
    std::string t = trim(instruction);
    auto sp = t.find_first_of(" \t=");
    std::string key = t.substr(0, sp);
    for (auto& ch : key) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::string val = sp == std::string::npos ? "" : trim(std::string_view(t).substr(sp + 1));
    if (val.empty()) return make_error("-c `{}`: missing value", instruction);
    if (key == "CMD") {
        c["Cmd"] = BOCK_TRY(command_form(val, "CMD"));
    } else if (key == "ENTRYPOINT") {
        c["Entrypoint"] = BOCK_TRY(command_form(val, "ENTRYPOINT"));
    } else if (key == "ENV") {
        auto [k, v] = BOCK_TRY(key_value(val, "ENV"));
        json env = json::array();
        if (c.contains("Env") && c["Env"].is_array())
            for (const auto& e : c["Env"])
                if (e.is_string() && !e.get<std::string>().starts_with(k + "=")) env.push_back(e);
        env.push_back(k + "=" + v);
        c["Env"] = env;
    } else if (key == "LABEL") {
        auto [k, v] = BOCK_TRY(key_value(val, "LABEL"));
        if (!c.contains("Labels") || !c["Labels"].is_object()) c["Labels"] = json::object();
        c["Labels"][k] = v;
    } else if (key == "WORKDIR") {
        c["WorkingDir"] = val;
    } else if (key == "USER") {
        c["User"] = val;
    } else if (key == "STOPSIGNAL") {
        c["StopSignal"] = val;
    } else if (key == "EXPOSE") {
        if (!c.contains("ExposedPorts") || !c["ExposedPorts"].is_object()) c["ExposedPorts"] = json::object();
        for (auto p : words(val)) {
            if (p.find('/') == std::string::npos) p += "/tcp";
            c["ExposedPorts"][p] = json::object();
        }
    } else if (key == "VOLUME") {
        if (!c.contains("Volumes") || !c["Volumes"].is_object()) c["Volumes"] = json::object();
        for (const auto& v : words(val)) c["Volumes"][v] = json::object();
    } else {
        return make_error("-c `{}`: unsupported instruction `{}`", instruction, key)
            .with_hint("use CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME or STOPSIGNAL");
    }
    return ok();
}

Result<json> commit_config(const std::string& base, const std::optional<Digest>& diff_id, const CommitOptions& opts) {
    json j = json::parse(base, nullptr, false);
    if (!j.is_object()) return make_error("the container's image config is not a JSON object");
    if (!j.contains("config") || !j["config"].is_object()) j["config"] = json::object();
    if (opts.config_json) {
        j["config"] = json::parse(*opts.config_json, nullptr, false);
        if (!j["config"].is_object()) return make_error("the new image's config is not a JSON object");
    }
    for (const auto& ch : opts.changes) BOCK_TRY(apply_instruction(j["config"], ch));
    if (!opts.docker_format) {
        // The OCI config has no place for Docker's own fields.
        for (const char* k : {"Healthcheck", "OnBuild", "Shell", "Hostname", "Domainname", "AttachStdin",
                              "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Image"})
            j["config"].erase(k);
        for (const char* k : {"container", "container_config", "docker_version", "parent"}) j.erase(k);
    }
    std::string created = time::rfc3339(opts.timestamp ? *opts.timestamp : time::now());
    if (opts.timestamp && *opts.timestamp <= 0) created = "1970-01-01T00:00:00Z";
    j["created"] = created;
    if (!opts.author.empty()) j["author"] = opts.author;
    if (!j.contains("rootfs") || !j["rootfs"].is_object()) j["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
    if (!j["rootfs"].contains("diff_ids") || !j["rootfs"]["diff_ids"].is_array()) j["rootfs"]["diff_ids"] = json::array();
    if (diff_id) j["rootfs"]["diff_ids"].push_back(diff_id->str());
    if (!j.contains("history") || !j["history"].is_array()) j["history"] = json::array();
    for (const auto& by : opts.empty_history)
        j["history"].push_back({{"created", created}, {"created_by", by}, {"empty_layer", true}});
    json h = {{"created", created}, {"created_by", opts.created_by.empty() ? "bock commit" : opts.created_by}};
    if (!opts.author.empty()) h["author"] = opts.author;
    if (!opts.message.empty()) h["comment"] = opts.message;
    if (!diff_id) h["empty_layer"] = true;
    j["history"].push_back(h);
    return j;
}

}  // namespace bock::image::detail

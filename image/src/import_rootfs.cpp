// `bock import`: a single-layer image from a root filesystem tarball, like
// `podman import`. The tarball is decompressed into an uncompressed layer
// blob (its digest is the diff_id); the config is minimal plus --change.
#include <fcntl.h>

#include <ctime>

#include "bock/common/strings.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/common/paths.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/transport.hpp"
#include "transport_internal.hpp"

namespace bock::image {

namespace {

using strings::trim;

// CMD/ENTRYPOINT: JSON array (exec form) or a shell command.
Result<std::vector<std::string>> command_form(const std::string& v, std::string_view what) {
    if (v.starts_with("[")) {
        auto j = nlohmann::json::parse(v, nullptr, false);
        if (!j.is_array()) return make_error("--change {}: invalid JSON array `{}`", what, v);
        std::vector<std::string> out;
        for (const auto& a : j) {
            if (!a.is_string()) return make_error("--change {}: `{}` has a non-string element", what, v);
            out.push_back(a.get<std::string>());
        }
        return out;
    }
    return std::vector<std::string>{"/bin/sh", "-c", v};
}

Result<void> apply_change(ImageConfig& c, const std::string& change) {
    std::string t = trim(change);
    auto sp = t.find_first_of(" \t=");
    std::string key = t.substr(0, sp);
    for (auto& ch : key) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::string val = sp == std::string::npos ? "" : trim(std::string_view(t).substr(sp + 1));
    if (val.empty()) return make_error("--change `{}`: missing value", change);
    auto kv = [&](std::string_view what) -> Result<std::pair<std::string, std::string>> {
        auto eq = val.find('=');
        if (eq == std::string::npos || eq == 0) {
            auto s = val.find(' ');
            if (s == std::string::npos) return make_error("--change {}: expected KEY=VALUE, got `{}`", what, val);
            return std::pair{val.substr(0, s), trim(val.substr(s + 1))};
        }
        std::string v = val.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return std::pair{val.substr(0, eq), v};
    };
    if (key == "CMD") {
        c.cmd = BOCK_TRY(command_form(val, "CMD"));
    } else if (key == "ENTRYPOINT") {
        c.entrypoint = BOCK_TRY(command_form(val, "ENTRYPOINT"));
    } else if (key == "ENV") {
        auto [k, v] = BOCK_TRY(kv("ENV"));
        std::erase_if(c.env, [&](const std::string& e) { return e.starts_with(k + "="); });
        c.env.push_back(k + "=" + v);
    } else if (key == "LABEL") {
        auto [k, v] = BOCK_TRY(kv("LABEL"));
        c.labels[k] = v;
    } else if (key == "WORKDIR") {
        c.working_dir = val;
    } else if (key == "USER") {
        c.user = val;
    } else {
        return make_error("--change `{}`: unsupported instruction `{}`", change, key)
            .with_hint("use CMD, ENTRYPOINT, ENV, LABEL, WORKDIR or USER");
    }
    return ok();
}

std::string now_rfc3339() { return time::rfc3339(time::now()); }

}  // namespace

Result<ImageRecord> import_rootfs(Store& store, const std::string& tarball, const std::string& name,
                                  const ImportOptions& opts) {
    const std::string shown = tarball == "-" ? "stdin" : tarball;
    const std::string what = fmt::format("import `{}`", shown);
    auto ref = BOCK_TRY_CTX(Reference::parse(name), what);
    ImageConfig c;
    c.os = "linux";
    c.architecture = Platform::host().architecture;
    c.created = now_rfc3339();
    c.env = {std::string("PATH=") + paths::kDefaultPath};
    for (const auto& ch : opts.changes) BOCK_TRY_CTX(apply_change(c, ch), what);

    detail::StorePaths p{store.root()};
    auto session = BOCK_TRY(detail::WriteSession::begin(p));
    auto body = [&]() -> Result<ImageRecord> {
        Fd in;
        if (tarball != "-") in = BOCK_TRY(sys::open(tarball, O_RDONLY));
        auto w = BOCK_TRY(detail::BlobWriter::create(p, std::nullopt, "layer"));
        BOCK_TRY(detail::decompress_fd(tarball == "-" ? 0 : in.get(), shown,
                                       [&](const char* b, size_t n) { return w.write(b, n); }));
        auto layer = BOCK_TRY(w.commit());
        layer.media_type = media::oci_layer_tar;
        // An empty input or one libarchive cannot read as a tar is refused
        // by extraction in commit_image; say so up front for an empty one.
        if (layer.size == 0) return make_error("`{}` is empty", shown);
        c.diff_ids = {layer.digest};
        std::string cjson = serialize(c);
        if (!opts.message.empty()) {
            auto j = nlohmann::json::parse(cjson);
            j["history"] = nlohmann::json::array({{{"created", c.created}, {"created_by", "bock import"}, {"comment", opts.message}}});
            cjson = j.dump();
        }
        auto cd = BOCK_TRY(detail::put_blob_data(p, cjson, "config"));
        Manifest m;
        m.media_type = media::oci_manifest;
        m.config = {media::oci_config, cd.digest, cd.size, {}, {}};
        m.layers = {layer};
        auto md = BOCK_TRY(detail::put_blob_data(p, serialize(m), "manifest"));
        auto rec = BOCK_TRY(detail::commit_image(p, ref.str(), md.digest, store.options()));
        BOCK_TRY(detail::add_to_index(p, {rec}));
        return rec;
    };
    auto r = body();
    if (!r) {
        if (auto records = detail::read_index(p)) (void)detail::gc_locked(p, *records);
        return std::move(r).error().wrap(what);
    }
    return r;
}

}  // namespace bock::image

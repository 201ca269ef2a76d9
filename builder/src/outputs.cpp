// What a build leaves besides the stored image: `--output
// type=oci|docker|tar|local,dest=PATH` and `--push`. The image forms go
// through the engine's save and push (the same code as `bock save` and
// `bock push`); the file-system forms write the image's flattened root,
// mounted read-only, as a tar (the code of `bock export`) or extracted
// into a directory.
#include <fcntl.h>
#include <unistd.h>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/build_step.hpp"
#include "bock/engine/images.hpp"
#include "bock/image/commit.hpp"
#include "bock/image/extract.hpp"
#include "stage.hpp"

namespace bock::builder {

namespace {

struct OutputSpec {
    std::string type, dest;
};

Result<OutputSpec> parse_output(const std::string& spec) {
    OutputSpec o;
    if (spec.find('=') == std::string::npos) return OutputSpec{"local", spec};  // -o DIR, as BuildKit reads it
    for (const auto& kv : strings::split(spec, ',')) {
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "type") o.type = v;
        else if (k == "dest") o.dest = v;
        else return make_error("--output {}: unknown option `{}`", spec, k).with_hint("write --output type=oci|docker|tar|local,dest=PATH");
    }
    if (o.type != "oci" && o.type != "docker" && o.type != "tar" && o.type != "local")
        return make_error("--output {}: unknown type `{}`", spec, o.type).with_hint("the types are oci, docker, tar and local");
    if (o.dest.empty() || o.dest == "-") return make_error("--output {}: no dest", spec).with_hint("add dest=PATH");
    return o;
}

// The image's flattened root as a tar, written to `path` (atomically).
Result<void> write_rootfs_tar(engine::Context& ctx, const image::ImageRecord& rec, const std::string& path) {
    std::string tmp = path + ".tmp-bock-output";
    Fd fd = BOCK_TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    auto r = engine::with_image_root(ctx, rec, [&](int rootfd) {
        return image::write_tree_tar(fmt::format("/proc/self/fd/{}", rootfd), fd.get());
    });
    if (r && ::fsync(fd.get()) < 0) r = errno_error("fsync `{}`", tmp);
    fd.reset();
    if (r && ::rename(tmp.c_str(), path.c_str()) < 0) r = errno_error("rename `{}` to `{}`", tmp, path);
    if (!r) ::unlink(tmp.c_str());
    return r;
}

}  // namespace

Result<void> check_outputs(const BuildRequest& req) {
    for (const auto& s : req.outputs) {
        auto o = BOCK_TRY(parse_output(s));
        if (o.type == "local" && fs::exists(o.dest) && (!fs::is_dir(o.dest) || !BOCK_TRY(fs::list_dir(o.dest)).empty()))
            return make_error("--output {}: `{}` is not an empty directory", s, o.dest).with_hint("give a new or empty directory");
    }
    return ok();
}

Result<void> write_outputs(engine::Context& ctx, const BuildRequest& req, const std::string& image_id) {
    std::vector<OutputSpec> specs;
    for (const auto& s : req.outputs) specs.push_back(BOCK_TRY(parse_output(s)));
    if (specs.empty()) return ok();
    auto rec = BOCK_TRY(ctx.store->lookup(image_id));
    if (!rec) return make_error("the built image {} is gone", image_id.substr(0, 12));
    // Saved under the first -t name, as `bock save NAME` names it.
    std::string name = req.tags.empty() ? image_id : req.tags.front();
    for (const auto& o : specs) {
        const std::string what = fmt::format("--output type={},dest={}", o.type, o.dest);
        if (o.type == "oci") {
            bool archive = o.dest.ends_with(".tar");
            BOCK_TRY(engine::save_images(ctx, {name}, archive ? "oci-archive" : "oci-dir", o.dest).context(what));
        } else if (o.type == "docker") {
            BOCK_TRY(engine::save_images(ctx, {name}, "docker-archive", o.dest).context(what));
        } else if (o.type == "tar") {
            BOCK_TRY(write_rootfs_tar(ctx, *rec, o.dest).context(what));
        } else {
            if (fs::exists(o.dest) && !BOCK_TRY(fs::list_dir(o.dest)).empty())
                return make_error("{}: `{}` is not empty", what, o.dest).with_hint("give a new or empty directory");
            BOCK_TRY(fs::mkdir_p(o.dest, 0755).context(what));
            std::string tar = o.dest + ".tmp-bock-output.tar";
            auto r = write_rootfs_tar(ctx, *rec, tar);
            if (r) {
                auto fd = sys::open(tar, O_RDONLY);
                if (!fd) r = std::move(fd).error();
                else {
                    image::ExtractOptions eo;
                    eo.rootless = ctx.rootless;
                    eo.single_id = ctx.single_id;
                    auto x = image::extract_layer(fd->get(), o.dest, eo);
                    if (!x) r = std::move(x).error();
                }
            }
            ::unlink(tar.c_str());
            BOCK_TRY(std::move(r).context(what));
        }
        if (req.progress) req.progress(fmt::format("--> output: {} {}", o.type, o.dest));
    }
    return ok();
}

Result<std::string> push_tag(engine::Context& ctx, const BuildRequest& req, const std::string& name) {
    engine::PushRequest p;
    p.image = name;
    p.access.tls_verify = req.tls_verify;
    p.progress = req.progress;
    auto r = BOCK_TRY(engine::push_image(ctx, p).context(fmt::format("--push {}", name)));
    if (req.progress) req.progress(fmt::format("--> pushed {}@{}", name, r.digest));
    return name + "@" + r.digest;
}

}  // namespace bock::builder

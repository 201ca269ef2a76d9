// `bock diff`, `bock commit` and `bock export` of a container, each a
// straight list of stages: find the container and its image, then read
// its upper directory (diff, commit) or its merged root (export).
#include "bock/engine/commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "bock/common/log.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/events.hpp"
#include "bock/layers/overlay.hpp"
#include "container_cgroup.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

namespace {

// The image the container was made from, by its id (names move).
Result<image::ImageRecord> container_image(Context& ctx, const ContainerInfo& c) {
    auto rec = BOCK_TRY(ctx.store->lookup(c.rec.image_id));
    if (!rec)
        return make_error("container {}: its image {} ({}) is no longer in the store", c.rec.id.substr(0, 12),
                          c.rec.image_id.substr(0, 12), c.rec.image)
            .with_hint("pull or load the image again to commit or diff this container");
    return *rec;
}

Result<std::optional<int64_t>> source_date_epoch() {
    const char* v = std::getenv("SOURCE_DATE_EPOCH");
    if (!v || !*v) return std::optional<int64_t>{};
    char* end = nullptr;
    long long t = std::strtoll(v, &end, 10);
    if (*end || t < 0) return make_error("SOURCE_DATE_EPOCH=`{}` is not a number of seconds", v);
    return std::optional<int64_t>{t};
}

// The layers a container's root was made of: the image's, then the
// engine's own (the network files' mount targets).
std::vector<std::string> copied_layers(const Context& ctx, const ContainerInfo& c, const image::ImageRecord& img) {
    auto l = ctx.store->layer_dirs(img);
    l.insert(l.end(), c.rec.extra_lowers.begin(), c.rec.extra_lowers.end());
    return l;
}

std::string joined(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

}  // namespace

Result<std::vector<PathChange>> diff_container(Context& ctx, const std::string& container) {
    auto c = BOCK_TRY(find_container(ctx, container));
    auto img = BOCK_TRY(container_image(ctx, c));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    return image::upper_changes(dirs.upper, copied_layers(ctx, c, img), c.rec.storage_driver == "vfs")
        .context(fmt::format("diff container {}", c.rec.id.substr(0, 12)));
}

Result<CommitReply> commit_container(Context& ctx, const CommitRequest& req) {
    auto c = BOCK_TRY(find_container(ctx, req.container));
    auto img = BOCK_TRY(container_image(ctx, c));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    CommitOptions opts = req.opts;
    if (req.format == "docker") opts.docker_format = true;
    else if (req.format != "oci") return make_error("unknown image format `{}`", req.format).with_hint("use oci or docker");
    opts.compression = BOCK_TRY(image::parse_compression(req.compression));
    if (!opts.timestamp) opts.timestamp = BOCK_TRY(source_date_epoch());
    opts.single_id = ctx.single_id;
    if (opts.created_by.empty()) opts.created_by = joined(c.rec.command);
    // vfs copied the image into the upper directory: the changes are what differs from it.
    if (c.rec.storage_driver == "vfs") opts.copy_of = copied_layers(ctx, c, img);
    // --pause: frozen while its upper directory is read, thawed on every
    // path out; without a cgroup of its own it is committed as it runs.
    struct Thaw {
        std::optional<runtime::CgroupPaths> cg;
        ~Thaw() {
            if (cg)
                if (auto r = runtime::cgroup_freeze(*cg, false); !r) log::warn("{}", r.error().to_string());
        }
    } thaw;
    if (req.pause && c.status == "running" && !c.paused) {
        if (auto cg = container_cgroup(ctx, c.rec)) {
            BOCK_TRY(runtime::cgroup_freeze(*cg, true).context(fmt::format("pause container {}", c.rec.id.substr(0, 12))));
            thaw.cg = std::move(cg);
        } else {
            log::warn("--pause: container {} has no cgroup of its own (rootless without cgroup delegation): "
                      "committed while it runs", c.rec.id.substr(0, 12));
        }
    }
    auto r = BOCK_TRY(image::commit_upper(*ctx.store, img, dirs.upper, req.image, opts)
                          .context(fmt::format("commit container {}", c.rec.id.substr(0, 12))));
    record_event(ctx, "container", "commit", c.rec.id,
                 {{"name", c.rec.name}, {"image", r.image.name.empty() ? r.image.config.hex : r.image.name}});
    return CommitReply{r.image, r.layer.has_value()};
}

Result<void> export_container(Context& ctx, const std::string& container, const std::string& out) {
    auto c = BOCK_TRY(find_container(ctx, container));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    const std::string what = fmt::format("export container {}", c.rec.id.substr(0, 12));
    // A running container's root is mounted already; otherwise a read-only
    // overlay of its layers with the upper directory on top.
    std::optional<ScopedMount> mount;
    if (c.status != "running") {
        auto img = BOCK_TRY_CTX(container_image(ctx, c), what);
        layers::OverlaySpec ov;
        ov.lowers = ctx.store->layer_dirs(img);
        ov.lowers.push_back(dirs.upper);
        ov.target = dirs.rootfs;
        ov.userxattr = ctx.rootless;
        BOCK_TRY_CTX(fs::mkdir_p(dirs.rootfs, 0700), what);
        BOCK_TRY_CTX(dirs.unmount(), what);
        mount = BOCK_TRY_CTX(layers::mount_overlay(ov), what);
    }
    if (out == "-") return image::write_tree_tar(dirs.rootfs, 1).context(what);
    std::string tmp = out + ".tmp-bock-export";
    Fd fd = BOCK_TRY_CTX(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644), what);
    auto r = image::write_tree_tar(dirs.rootfs, fd.get());
    if (r && ::fsync(fd.get()) < 0) r = errno_error("fsync `{}`", tmp);
    fd.reset();
    if (r && ::rename(tmp.c_str(), out.c_str()) < 0) r = errno_error("rename `{}` to `{}`", tmp, out);
    if (!r) {
        ::unlink(tmp.c_str());
        return std::move(r).error().wrap(what);
    }
    return ok();
}

}  // namespace bock::engine

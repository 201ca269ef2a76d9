// `bock run`, as a straight list of stages: resolve the image, make the
// container's directories, mount its overlay root, write the OCI bundle,
// hand it to the runtime, clean up.
#include "bock/frontend/run.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/default_image.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "container_dirs.hpp"
#include "user_lookup.hpp"

namespace bock::frontend {
namespace {

bool is_id_prefix(std::string_view typed, const image::ImageRecord& rec) {
    return typed.size() >= 4 && rec.config.hex.compare(0, typed.size(), typed) == 0;
}

void set_env(std::vector<std::string>& env, const std::string& kv) {
    auto key = kv.substr(0, kv.find('='));
    for (auto& e : env)
        if (e.compare(0, key.size() + 1, key + "=") == 0) {
            e = kv;
            return;
        }
    env.push_back(kv);
}

bool has_env(const std::vector<std::string>& env, const std::string& key) {
    for (auto& e : env)
        if (e.compare(0, key.size() + 1, key + "=") == 0) return true;
    return false;
}

Result<std::vector<std::string>> container_args(const RunRequest& req, const image::ImageConfig& cfg) {
    std::vector<std::string> args;
    if (req.entrypoint) {
        if (!req.entrypoint->empty()) args.push_back(*req.entrypoint);
    } else {
        args = cfg.entrypoint;
    }
    const auto& cmd = !req.args.empty() ? req.args : (req.entrypoint ? std::vector<std::string>{} : cfg.cmd);
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty())
        return make_error("no command specified: the image `{}` has no Cmd or Entrypoint", req.image)
            .with_hint(fmt::format("give one: bock run {} COMMAND", req.image));
    return args;
}

}  // namespace

Result<image::ImageRecord> resolve_image(Context& ctx, const std::string& typed) {
    auto& store = *ctx.store;
    auto rec = BOCK_TRY(store.lookup(typed));
    auto ref = image::Reference::parse(typed);
    if (!rec && ref) {
        for (const auto& cand : image::local_candidates(*ref))
            if (cand.str() == image::default_image_name) {
                rec = BOCK_TRY_CTX(image::ensure_default_image(store), "create the default image");
                break;
            }
    }
    if (!rec) {
        if (!ref) return std::move(ref).error().wrap(fmt::format("image `{}`", typed));
        return Error(ENOENT, fmt::format("image `{}` not found in the local store", typed))
            .with_hint("load it with `bock load -i ARCHIVE` (see `bock images` for what is here)");
    }
    if (ref && ref->str() != rec->name && !is_id_prefix(typed, *rec))
        log::notice(fmt::format("using {} for \"{}\"", rec->name, typed));
    return *rec;
}

Result<int> run_container(Context& ctx, const RunRequest& req) {
    auto rec = BOCK_TRY(resolve_image(ctx, req.image));
    auto cfg = BOCK_TRY(ctx.store->config(rec));

    auto dirs = ContainerDirs::for_id(ctx, BOCK_TRY(new_container_id()));
    BOCK_TRY_CTX(dirs.create(), "create the container's directories");
    // From here on every exit path removes what was made (and unmounts).
    struct Cleanup {
        const ContainerDirs& d;
        bool remove;
        ScopedMount mount;
        ~Cleanup() {
            mount.reset();
            if (remove)
                if (auto r = d.remove(); !r) log::warn("remove container {}: {}", d.id.substr(0, 12), r.error().to_string());
        }
    } cleanup{dirs, true, {}};
    // The record that keeps the image's layers alive (gc, rmi), written
    // under the store's shared lock before the layers are used.
    auto record = [&](std::string_view status, int code) {
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& d : rec.diff_ids) layers.push_back(d.str());
        return nlohmann::json{{"id", dirs.id}, {"image", rec.name}, {"image_id", rec.config.hex},
                              {"layers", layers}, {"status", status}, {"exit_code", code}};
    };
    BOCK_TRY(ctx.store->use_image(rec, [&]() -> Result<void> {
        return fs::write_file_atomic(fs::join(dirs.storage, "container.json"), record("running", 0).dump(2));
    }));

    layers::OverlaySpec ov;
    ov.lowers = ctx.store->layer_dirs(rec);
    ov.upper = dirs.upper;
    ov.work = dirs.work;
    ov.target = dirs.rootfs;
    ov.userxattr = ctx.rootless;
    cleanup.mount = BOCK_TRY_CTX(layers::mount_overlay(ov), "mount the container's root filesystem");

    Fd rootfd = BOCK_TRY(sys::open(dirs.rootfs, O_PATH | O_DIRECTORY));
    std::string user_spec = req.user.value_or(cfg.user);
    auto user = BOCK_TRY(resolve_user(rootfd.get(), user_spec));
    std::string cwd = req.workdir.value_or(cfg.working_dir.empty() ? "/" : cfg.working_dir);
    if (cwd.empty() || cwd[0] != '/')
        return make_error("working directory `{}` must be an absolute path", cwd);
    BOCK_TRY(mkdir_in_root(rootfd.get(), cwd));

    runtime::Spec spec = runtime::default_spec(ctx.rootless);
    spec.root_path = dirs.rootfs;
    spec.process.args = BOCK_TRY(container_args(req, cfg));
    spec.process.cwd = cwd;
    spec.process.user.uid = user.uid;
    spec.process.user.gid = user.gid;
    spec.process.user.additional_gids = user.additional_gids;
    spec.hostname = req.hostname.value_or(dirs.id.substr(0, 12));
    std::vector<std::string> env = cfg.env;
    if (!has_env(env, "PATH")) env.insert(env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    set_env(env, "HOSTNAME=" + spec.hostname);
    for (const auto& e : req.env) {
        if (e.find('=') != std::string::npos) {
            set_env(env, e);
        } else if (const char* v = std::getenv(e.c_str())) {
            set_env(env, e + "=" + v);
        }
    }
    if (!has_env(env, "HOME")) env.push_back("HOME=" + user.home);
    spec.process.env = env;
    spec.annotations["org.opencontainers.image.ref.name"] = rec.name;
    BOCK_TRY(fs::write_file_atomic(fs::join(dirs.bundle, "config.json"), runtime::to_json(spec).dump(2), 0600));

    runtime::RunOptions ro;
    ro.id = dirs.id;
    ro.bundle = dirs.bundle;
    ro.rootless = ctx.rootless;
    cleanup.remove = req.remove;
    rootfd.reset();
    auto code = runtime::run_container(spec, ro);
    if (!req.remove) {
        // Kept for a later `bock rm`: what it ran and how it ended.
        nlohmann::json state = record("exited", code ? *code : -1);
        state["command"] = spec.process.args;
        (void)fs::write_file_atomic(fs::join(dirs.storage, "container.json"), state.dump(2));
    }
    return code;
}

}  // namespace bock::frontend

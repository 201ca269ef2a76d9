// `bock run`, as a straight list of stages: resolve the image, make the
// container's directories, mount its overlay root, write the OCI bundle,
// hand it to the runtime, clean up.
#include "bock/engine/run.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/common/paths.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/events.hpp"
#include "bock/image/default_image.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"
#include "container_dirs.hpp"
#include "user_lookup.hpp"

namespace bock::engine {
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

    // The record first (state "created", owned by this process), then the
    // lease, then the mount: each later step is undone by `bock rm` from
    // what the earlier ones wrote, even after a SIGKILL (docs/storage.md).
    ContainerRecord record;
    record.id = BOCK_TRY(new_container_id());
    record.name = BOCK_TRY(generate_name(ctx));
    record.image = rec.name.empty() ? rec.config.hex.substr(0, 12) : rec.name;
    record.image_id = rec.config.hex;
    record.created_ns = time::now_ns();
    record.created = record.created_ns / 1000000000;
    record.owner_pid = ::getpid();
    record.owner_start = runtime::process_start_time(record.owner_pid).value_or(0);
    record.auto_remove = req.remove;
    auto dirs = ContainerDirs::for_id(ctx, record.id);
    BOCK_TRY_CTX(dirs.create(), "create the container's directories");
    // From here on every exit path removes what was made (and unmounts).
    struct Cleanup {
        const Context& ctx;
        const ContainerDirs& d;
        bool remove;
        // The root, kept until the container ends; for a FUSE backend its
        // destructor also stops the FUSE process.
        layers::MountedRoot root;
        ~Cleanup() {
            if (auto r = root.unmount(); !r) log::warn("{}", r.error().to_string());
            if (!remove) return;
            if (auto r = d.remove(); !r) {
                log::warn("remove container {}: {}", d.id.substr(0, 12), r.error().to_string());
                return;  // the lease stays with what is left, for `bock rm`
            }
            if (auto r = ctx.store->release_lease(d.id); !r) log::warn("{}", r.error().to_string());
            else record_event(ctx, "container", "remove", d.id, {});
        }
    } cleanup{ctx, dirs, true, {}};
    BOCK_TRY(save_record(ctx, record));
    BOCK_TRY(ctx.store->take_lease(record.id, rec));
    const EventAttrs attrs{{"name", record.name}, {"image", record.image}};
    record_event(ctx, "container", "create", record.id, attrs);

    layers::LayersSpec ls;
    ls.lowers = ctx.store->layer_dirs(rec);
    ls.upper = dirs.upper;
    ls.work = dirs.work;
    ls.target = dirs.rootfs;
    ls.userxattr = ctx.rootless;
    ls.owners_in_xattrs = ctx.single_id;
    // From $BOCK_STORAGE_DRIVER, mount_layers reads it itself (and says so).
    if (ctx.storage_driver_from == "--storage-driver") ls.driver = ctx.storage_driver;
    if (auto helper = paths::helper_path("bock-fuse-overlay"))
        ls.helper_dir = helper->substr(0, helper->rfind('/'));
    cleanup.root = BOCK_TRY_CTX(layers::mount_layers(ls), "mount the container's root filesystem");
    record.storage_driver = std::string(layers::backend_name(cleanup.root.backend()));
    log::debug("container {}: storage driver {} ({})", record.id.substr(0, 12), record.storage_driver,
               cleanup.root.why());

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
    if (!has_env(env, "PATH")) env.insert(env.begin(), std::string("PATH=") + paths::kDefaultPath);
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
    // The bundle lives in the run root, which a reboot empties: atomic, not durable.
    BOCK_TRY(fs::write_file_replace(fs::join(dirs.bundle, "config.json"), runtime::to_json(spec).dump(2), 0600, false));

    runtime::RunOptions ro;
    ro.id = dirs.id;
    ro.bundle = dirs.bundle;
    ro.rootless = ctx.rootless;
    ro.pid_file = dirs.pid_file();
    record.command = spec.process.args;
    record.state = "running";
    record.started = time::now();
    BOCK_TRY(save_record(ctx, record));
    cleanup.remove = req.remove;
    rootfd.reset();
    record_event(ctx, "container", "start", record.id, attrs);
    auto code = runtime::run_container(spec, ro);
    {
        EventAttrs died = attrs;
        died["exitCode"] = std::to_string(code ? *code : code.error().exit_status());
        record_event(ctx, "container", "died", record.id, died);
    }
    if (!req.remove) {
        // Kept for `bock ps -a` and `bock rm`: how it ended. A command that
        // could not run records the status bock exits with (125/126/127).
        record.state = "exited";
        record.finished = time::now();
        record.exit_code = code ? *code : code.error().exit_status();
        // `bock rename` may have renamed it while it ran.
        if (auto now = load_record(ctx, record.id)) record.name = now->name;
        if (!code) record.exit_reason = code.error().message();
        if (auto r = save_record(ctx, record); !r) {
            log::report(r.error());
            log::warn("container {} will show as killed in `bock ps -a`", record.id.substr(0, 12));
        }
    }
    return code;
}

}  // namespace bock::engine

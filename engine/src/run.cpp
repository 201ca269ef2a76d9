// `bock run`, as a straight list of stages: resolve the image, make the
// container's directories, mount its overlay root, write the OCI bundle,
// hand it to the runtime, clean up.
#include "bock/engine/run.hpp"
#include "bock/common/strings.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/common/test_hooks.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/health.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/network.hpp"
#include "bock/engine/svcnet.hpp"
#include "bock/engine/events.hpp"
#include "bock/engine/volumes.hpp"
#include "bock/image/default_image.hpp"
#include "bock/image/inspect.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"
#include "container_dirs.hpp"
#include "lifecycle_internal.hpp"
#include "monitor_launch.hpp"
#include "network_setup.hpp"
#include "run_volumes.hpp"
#include "run_security.hpp"
#include "run_isolation.hpp"
#include "user_lookup.hpp"

namespace bock::engine {
namespace {

bool is_id_prefix(std::string_view typed, const image::ImageRecord& rec) {
    return typed.size() >= 4 && rec.config.hex.compare(0, typed.size(), typed) == 0;
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

namespace {

// Undoes a container being made: unmounts its root and, unless disarmed,
// removes its directories and lease.
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
        if (auto r = release_endpoints(ctx, d.id); !r) log::warn("{}", r.error().to_string());
        if (auto r = ctx.store->release_lease(d.id); !r) log::warn("{}", r.error().to_string());
        else record_event(ctx, "container", "remove", d.id, {});
        remove_anonymous_volumes(ctx, d.id);
    }
};

// The record as it is first written (state "created", owned by this
// process).
Result<ContainerRecord> new_record(const Context& ctx, const RunRequest& req, const image::ImageRecord& rec) {
    ContainerRecord record;
    record.id = BOCK_TRY(new_container_id());
    if (req.name) {
        if (req.name->empty() || req.name->find('/') != std::string::npos)
            return make_error("--name `{}`: not a valid container name", *req.name);
        for (const auto& c : BOCK_TRY(list_containers(ctx)))
            if (c.rec.name == *req.name)
                return make_error("the container name \"{}\" is already in use by {}", *req.name, c.rec.id.substr(0, 12))
                    .with_hint(fmt::format("remove that container (`bock rm {}`) or choose another name", *req.name));
        record.name = *req.name;
    } else {
        record.name = BOCK_TRY(generate_name(ctx));
    }
    record.image = rec.name.empty() ? rec.config.hex.substr(0, 12) : rec.name;
    record.image_id = rec.config.hex;
    record.created_ns = time::now_ns();
    record.created = record.created_ns / 1000000000;
    record.owner_pid = ::getpid();
    record.owner_start = runtime::process_start_time(record.owner_pid).value_or(0);
    record.auto_remove = req.remove;
    return record;
}

// What `bock inspect` shows of the image's config and the flags: labels
// (the image's, then --label) and the health check (--health-* over the
// image's HEALTHCHECK).
Result<void> describe_config(Context& ctx, const RunRequest& req, const image::ImageRecord& rec,
                             const image::ImageConfig& cfg, ContainerRecord& record) {
    record.labels = cfg.labels;
    for (const auto& l : req.labels) {
        auto eq = l.find('=');
        if (l.empty() || eq == 0) return make_error("--label `{}`: must be KEY=VALUE", l);
        record.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    auto doc = BOCK_TRY(image::inspect_image(*ctx.store, rec));
    nlohmann::json image_check = doc["Config"].contains("Healthcheck") ? doc["Config"]["Healthcheck"] : nlohmann::json();
    if (auto h = BOCK_TRY(resolve_healthcheck(req.health, image_check))) record.healthcheck = h->to_json();
    return ok();
}

}  // namespace

namespace {

// A root whose owners are shifted for the container's user namespace
// (docs/userns.md): only the FUSE backends shift ids, and no copy of the
// image is made. Both read the shift as fuse-overlayfs does: the
// container's maps, a stored id C+i shows as H+i.
Result<layers::MountedRoot> mount_shifted_root(layers::LayersSpec ls, const std::string& uids, const std::string& gids) {
    std::vector<std::string> tries;
    if (const char* env = std::getenv("BOCK_STORAGE_DRIVER"); ls.driver.empty() && env && *env) ls.driver = env;
    if (ls.driver.empty()) tries = {"fuse-overlayfs", "bock-fuse"};
    else if (ls.driver == "fuse-overlayfs" || ls.driver == "bock-fuse") tries = {ls.driver};
    else
        return make_error("storage driver {} cannot shift the image's owners for the container's user namespace",
                          ls.driver)
            .with_hint("use fuse-overlayfs or bock-fuse (--storage-driver), or run without --userns/--uidmap");
    std::string why;
    for (const auto& backend : tries) {
        ls.driver = backend;
        ls.uidmapping = uids;
        ls.gidmapping = gids;
        auto root = layers::mount_layers(ls);
        if (root) return root;
        why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", backend, root.error().message());
    }
    return make_error("the container's user namespace needs the image's owners shifted, and no FUSE backend could "
                      "mount ({}); a copy of the image per container is refused",
                      why)
        .with_hint("install fuse-overlayfs or make /dev/fuse usable (chmod 666 /dev/fuse), or run without "
                   "--userns/--uidmap");
}

}  // namespace

Result<layers::MountedRoot> mount_container_root(const Context& ctx, const ContainerDirs& dirs,
                                                 const image::ImageRecord& rec, const std::string& driver,
                                                 const std::vector<std::string>& extra_lowers,
                                                 const std::string& shift_uids, const std::string& shift_gids) {
    layers::LayersSpec ls;
    ls.lowers = ctx.store->layer_dirs(rec);
    ls.lowers.insert(ls.lowers.end(), extra_lowers.begin(), extra_lowers.end());
    ls.upper = dirs.upper;
    ls.work = dirs.work;
    ls.target = dirs.rootfs;
    ls.userxattr = ctx.rootless;
    ls.owners_in_xattrs = ctx.single_id;
    // From $BOCK_STORAGE_DRIVER, mount_layers reads it itself (and says so).
    if (!ctx.storage_driver.empty() && ctx.storage_driver_from != "BOCK_STORAGE_DRIVER") ls.driver = ctx.storage_driver;
    else if (!driver.empty()) ls.driver = driver;  // a restart: the backend it had
    if (auto helper = paths::helper_path("bock-fuse-overlay"))
        ls.helper_dir = helper->substr(0, helper->rfind('/'));
    if (!shift_uids.empty() || !shift_gids.empty()) return mount_shifted_root(ls, shift_uids, shift_gids);
    auto root = BOCK_TRY_CTX(layers::mount_layers(ls), "mount the container's root filesystem");
    log::debug("container {}: storage driver {} ({})", dirs.id.substr(0, 12), layers::backend_name(root.backend()),
               root.why());
    return root;
}

namespace {

Result<runtime::Spec> build_spec(const Context& ctx, const RunRequest& req, const image::ImageRecord& rec,
                                 const image::ImageConfig& cfg, const ContainerDirs& dirs) {
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
    if (!strings::has_env(env, "PATH")) env.insert(env.begin(), std::string("PATH=") + paths::kDefaultPath);
    strings::set_env(env, "HOSTNAME=" + spec.hostname);
    for (const auto& e : req.env) {
        if (e.find('=') != std::string::npos) {
            strings::set_env(env, e);
        } else if (const char* v = std::getenv(e.c_str())) {
            strings::set_env(env, e + "=" + v);
        }
    }
    if (!strings::has_env(env, "HOME")) env.push_back("HOME=" + user.home);
    if (req.tty && !strings::has_env(env, "TERM")) env.push_back("TERM=xterm");
    spec.process.env = env;
    spec.annotations["org.opencontainers.image.ref.name"] = rec.name;
    if (req.init) BOCK_TRY(add_init(spec));
    if (req.tty && req.console_size)
        spec.process.console_size = runtime::ConsoleSize{req.console_size->first, req.console_size->second};
    return spec;
}

// The record (state "created"), the lease, the mounted root, the spec:
// each later step is undone by `bock rm` from what the earlier ones wrote,
// even after a SIGKILL (docs/storage.md); on an error `cleanup` undoes them.
Result<runtime::Spec> make_container(Context& ctx, const RunRequest& req, const image::ImageRecord& rec,
                                     const image::ImageConfig& cfg, ContainerRecord& record, const ContainerDirs& dirs,
                                     Cleanup& cleanup, ContainerNetwork& net, const UsernsPlan& uns,
                                     const LimitsPlan& limits) {
    record_userns(uns, record);
    BOCK_TRY(claim_volumes(ctx, req, rec, record));  // volumes and mounts (run_volumes.hpp)
    BOCK_TRY(save_record(ctx, record));
    BOCK_TRY(ctx.store->take_lease(record.id, rec));
    record_event(ctx, "container", "create", record.id, {{"name", record.name}, {"image", record.image}});
    // The network helper starts now, in parallel with the rest.
    BOCK_TRY(net.start(ctx, dirs, record));
    layers::LayersSpec extra;  // the network files' mount targets, a lower layer of their own
    BOCK_TRY(net.add_mount_targets(extra));
    record.extra_lowers = extra.lowers;
    cleanup.root = BOCK_TRY(
        mount_container_root(ctx, dirs, rec, "", record.extra_lowers, record.shift_uids, record.shift_gids));
    record.storage_driver = std::string(layers::backend_name(cleanup.root.backend()));
    BOCK_TRY(make_root_reachable(ctx, uns, dirs.bundle, dirs.storage));
    BOCK_TRY(add_keep_id_user(ctx, uns, dirs.rootfs));
    runtime::Spec spec = BOCK_TRY(build_spec(ctx, req, rec, cfg, dirs));
    BOCK_TRY(net.configure(ctx, dirs, spec));
    BOCK_TRY(apply_volumes(ctx, record, dirs.rootfs, dirs.storage, spec));
    BOCK_TRY(apply_security(ctx, req, dirs.rootfs, spec));
    apply_userns(uns, req, spec);
    apply_limits(limits, dirs.id, spec);
    // For `bock inspect` (Docker's Config).
    record.hostname = spec.hostname;
    record.user = req.user.value_or(cfg.user);
    record.workdir = spec.process.cwd;
    record.env = spec.process.env;
    record.entrypoint = req.entrypoint ? (req.entrypoint->empty() ? std::vector<std::string>{}
                                                                  : std::vector<std::string>{*req.entrypoint})
                                       : cfg.entrypoint;
    record.cmd = !req.args.empty() ? req.args : (req.entrypoint ? std::vector<std::string>{} : cfg.cmd);
    return spec;
}

// -P: a -p for each port the image exposes ("80/tcp", "53/udp", "8080"),
// to a free port of the host's on all its addresses (podman's -P).
Result<void> add_exposed_ports(Context& ctx, RunRequest& req) {
    if (!req.publish_all) return ok();
    auto rec = BOCK_TRY(resolve_image(ctx, req.image));
    auto cfg = BOCK_TRY(ctx.store->config(rec));
    if (cfg.exposed_ports.empty()) log::info("-P: image {} exposes no port", req.image);
    for (const auto& port : cfg.exposed_ports) {
        auto slash = port.find('/');
        std::string proto = slash == std::string::npos ? "tcp" : port.substr(slash + 1);
        if (proto != "tcp" && proto != "udp") {
            log::warn("-P: the image exposes {}: only tcp and udp are published", port);
            continue;
        }
        req.publish.push_back(port.substr(0, slash) + "/" + proto);
    }
    return ok();
}

}  // namespace

Result<int> run_container(Context& ctx, const RunRequest& asked) {
    RunRequest req = with_config_defaults(ctx, asked);
    BOCK_TRY(add_exposed_ports(ctx, req));
    // User namespace and limits: checked before anything is made.
    auto uns = BOCK_TRY(plan_userns(ctx, req));
    auto limits = BOCK_TRY(plan_limits(ctx, req));
    // The network (network_setup.hpp): checked first; it lives until the
    // end of this function, after the root's cleanup, when it waits for
    // the helper to have closed its published ports.
    auto net = BOCK_TRY(ContainerNetwork::prepare(ctx, req));
    auto rec = BOCK_TRY(resolve_image(ctx, req.image));
    auto cfg = BOCK_TRY(ctx.store->config(rec));
    apply_image_security(req, asked, cfg.labels);

    // The record first (state "created", owned by this process), then the
    // lease, then the mount: each later step is undone by `bock rm` from
    // what the earlier ones wrote, even after a SIGKILL (docs/storage.md).
    ContainerRecord record = BOCK_TRY(new_record(ctx, req, rec));
    net.describe(record);
    BOCK_TRY(describe_config(ctx, req, rec, cfg, record));
    auto dirs = ContainerDirs::for_id(ctx, record.id);
    BOCK_TRY_CTX(dirs.create(), "create the container's directories");
    // From here on every exit path removes what was made (and unmounts).
    Cleanup cleanup{ctx, dirs, true, {}};
    runtime::Spec spec = BOCK_TRY(make_container(ctx, req, rec, cfg, record, dirs, cleanup, net, uns, limits));
    // The bundle lives in the run root, which a reboot empties: atomic, not durable.
    BOCK_TRY(fs::write_file_replace(fs::join(dirs.bundle, "config.json"), runtime::to_json(spec).dump(2), 0600, false));

    runtime::RunOptions ro;
    ro.id = dirs.id;
    ro.bundle = dirs.bundle;
    ro.rootless = ctx.rootless;
    ro.pid_file = dirs.pid_file();
    ro.seccomp_cache_dir = fs::join(ctx.store_root, "seccomp-cache");  // the default profile, compiled once
    net.attach(ro);
    record.command = spec.process.args;
    record.state = "running";
    record.started = time::now();
    BOCK_TRY(save_record(ctx, record));
    cleanup.remove = req.remove;
    const EventAttrs attrs{{"name", record.name}, {"image", record.image}};
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

Result<std::string> create_container(Context& ctx, const RunRequest& asked, bool start) {
    RunRequest req = with_config_defaults(ctx, asked);
    BOCK_TRY(add_exposed_ports(ctx, req));
    auto uns = BOCK_TRY(plan_userns(ctx, req));
    auto limits = BOCK_TRY(plan_limits(ctx, req));
    // The same network as in the foreground: bock-netns is started here,
    // before the monitor's creator is forked, which hands it the
    // container's pid (launch_monitor); it then lives as long as the
    // container (docs/networking.md, "Containers behind a monitor").
    auto net = BOCK_TRY(ContainerNetwork::prepare(ctx, req));
    net.keep_with_container();
    auto rec = BOCK_TRY(resolve_image(ctx, req.image));
    auto cfg = BOCK_TRY(ctx.store->config(rec));
    apply_image_security(req, asked, cfg.labels);
    ContainerRecord record = BOCK_TRY(new_record(ctx, req, rec));
    net.describe(record);
    BOCK_TRY(describe_config(ctx, req, rec, cfg, record));
    record.detached = true;
    record.tty = req.tty;
    record.interactive = req.interactive;
    auto [policy, max] = BOCK_TRY(parse_restart_policy(req.restart));
    if (policy != "no" && req.remove)
        return make_error("--restart {} and --rm cannot be used together", req.restart)
            .with_hint("a container that is removed when it exits cannot be restarted: drop one of them");
    record.restart_policy = policy;
    record.restart_max = max;
    if (req.stop_signal) record.stop_signal = BOCK_TRY(parse_signal_name(*req.stop_signal));
    if (req.stop_timeout) record.stop_timeout = *req.stop_timeout;
    if (req.log_driver != "json-file" && req.log_driver != "none" && req.log_driver != "passthrough")
        return make_error("--log-driver `{}`: json-file, none or passthrough", req.log_driver);
    record.log_driver = req.log_driver;
    if (req.log_driver == "passthrough" && req.detach)
        return make_error("--log-driver passthrough: the container would write to a terminal bock has left")
            .with_hint("use it without -d, or use json-file and `bock logs`");
    for (const auto& o : req.log_opts) {
        if (o.starts_with("max-size=")) record.log_max_size = BOCK_TRY(parse_size(o.substr(9)));
        else return make_error("--log-opt `{}`: only max-size=SIZE is known", o);
    }
    record.init = req.init;

    auto dirs = ContainerDirs::for_id(ctx, record.id);
    BOCK_TRY_CTX(dirs.create(), "create the container's directories");
    Cleanup cleanup{ctx, dirs, true, {}};
    runtime::Spec spec = BOCK_TRY(make_container(ctx, req, rec, cfg, record, dirs, cleanup, net, uns, limits));
    record.command = spec.process.args;
    if (req.init) record.command.erase(record.command.begin(), record.command.begin() + 2);  // /run/bock-init --
    // The spec is kept with the container (a restart after a reboot needs
    // it); the bundle's copy is what the runtime reads.
    std::string spec_json = runtime::to_json(spec).dump(2);
    BOCK_TRY(fs::write_file_replace(fs::join(dirs.storage, "config.json"), spec_json, 0600, false));
    BOCK_TRY(fs::write_file_replace(fs::join(dirs.bundle, "config.json"), spec_json, 0600, false));
    BOCK_TRY(save_record(ctx, record));
    test_hooks::kill_point("detached-before-monitor");

    auto launched = BOCK_TRY(launch_monitor(ctx, record, dirs, spec, start, &net));
    // The monitor owns the container from here: the root stays mounted
    // (its cleanup unmounts it), the network helper stays with the
    // container and nothing is removed on the way out.
    net.detach();
    cleanup.root.release();
    cleanup.remove = false;
    test_hooks::kill_point("detached-monitor-ready");
    auto lock = BOCK_TRY(lock_container(ctx, record.id));
    auto now = load_record(ctx, record.id);
    if (now && now->state == "created") {
        now->monitor_pid = launched.monitor;
        now->monitor_start = launched.monitor_start;
        if (start) {
            now->state = "running";
            now->started = time::now();
        }
        BOCK_TRY(save_record(ctx, *now));
    }
    return record.id;
}

}  // namespace bock::engine

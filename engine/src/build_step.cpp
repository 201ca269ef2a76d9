// `bock build`'s steps (see build_step.hpp), each a straight list of
// stages like `bock run`: record and lease, mount, fill, run, unmount,
// commit, remove.
#include "bock/engine/build_step.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"
#include "container_dirs.hpp"
#include "network_setup.hpp"
#include "run_isolation.hpp"
#include "run_security.hpp"
#include "user_lookup.hpp"

namespace bock::engine {

namespace {

constexpr std::string_view kStepPrefix = "build-";

bool is_scratch(const image::ImageRecord& r) { return r.manifest.hex.empty(); }

// An image's root mounted read-only (overlay of its layers; the layer
// directory itself for one layer; an empty directory for scratch), gone
// with the object.
struct ImageRoot {
    std::string dir, root;
    std::optional<ScopedMount> mount;
    ImageRoot() = default;
    ImageRoot(const ImageRoot&) = delete;
    ~ImageRoot() {
        mount.reset();
        if (!dir.empty()) (void)fs::remove_all(dir);
    }
};

Result<void> mount_image_root(Context& ctx, const image::ImageRecord& img, ImageRoot& out) {
    BOCK_TRY(fs::mkdir_p(ctx.run_root, 0700));
    out.dir = BOCK_TRY(fs::make_temp_dir(ctx.run_root, "build-from-"));
    out.root = out.dir;
    auto lowers = is_scratch(img) ? std::vector<std::string>{} : ctx.store->layer_dirs(img);
    if (lowers.size() == 1) {
        out.root = lowers[0];
    } else if (lowers.size() > 1) {
        layers::OverlaySpec ov;
        ov.lowers = lowers;
        ov.target = out.dir;
        ov.userxattr = ctx.rootless;
        out.mount = BOCK_TRY_CTX(layers::mount_overlay(ov), "mount the source image read-only");
    }
    return ok();
}

// The step's container: record (owned by this process), lease, directories.
// Undone in reverse by the destructor unless a step above already did.
struct StepContainer {
    Context& ctx;
    ContainerDirs dirs;
    layers::MountedRoot root;
    std::vector<std::string> lowers;  // what the root was made of (vfs compares its copy with them)
    bool leased = false;
    explicit StepContainer(Context& c) : ctx(c) {}
    StepContainer(const StepContainer&) = delete;
    ~StepContainer() {
        if (auto r = root.unmount(); !r) log::warn("{}", r.error().to_string());
        if (dirs.id.empty()) return;
        if (auto r = dirs.remove(); !r) {
            log::warn("remove build step {}: {}", dirs.id.substr(0, 12), r.error().to_string());
            return;  // the record and lease stay, for `bock rm`
        }
        if (leased)
            if (auto r = ctx.store->release_lease(dirs.id); !r) log::warn("{}", r.error().to_string());
    }
};

Result<void> mount_step(Context& ctx, StepContainer& sc, const image::ImageRecord& base, ContainerNetwork* net) {
    ContainerRecord record;
    record.id = BOCK_TRY(new_container_id());
    record.name = std::string(kStepPrefix) + record.id.substr(0, 12);
    record.image = is_scratch(base) ? "scratch" : (base.name.empty() ? base.config.hex.substr(0, 12) : base.name);
    record.image_id = base.config.hex;
    record.created_ns = time::now_ns();
    record.created = record.created_ns / 1000000000;
    record.owner_pid = ::getpid();
    record.owner_start = runtime::process_start_time(record.owner_pid).value_or(0);
    record.state = "running";
    record.started = record.created;
    record.auto_remove = true;
    sc.dirs = ContainerDirs::for_id(ctx, record.id);
    BOCK_TRY_CTX(sc.dirs.create(), "create the build step's directories");
    // The upper directory's own mode is the merged root's: 0755 as in images,
    // so that a step run as USER non-root can reach /.
    if (::chmod(sc.dirs.upper.c_str(), 0755) < 0) return errno_error("chmod `{}`", sc.dirs.upper);
    if (net) {  // bock-netns starts now, in parallel with the rest (as in bock run)
        net->describe(record);
        BOCK_TRY(net->start(ctx, sc.dirs, record));
    }
    BOCK_TRY(save_record(ctx, record));
    layers::LayersSpec ls;
    if (!is_scratch(base)) {
        BOCK_TRY(ctx.store->take_lease(record.id, base));
        sc.leased = true;
        ls.lowers = ctx.store->layer_dirs(base);
    }
    if (ls.lowers.empty()) {  // overlay needs a lower directory
        auto empty = fs::join(sc.dirs.storage, "empty");
        BOCK_TRY(fs::mkdir_p(empty, 0755));
        ls.lowers.push_back(empty);
    }
    // The network files' mount targets: a lower layer of their own, so the
    // commit does not see them.
    if (net) BOCK_TRY(net->add_mount_targets(ls));
    ls.upper = sc.dirs.upper;
    ls.work = sc.dirs.work;
    ls.target = sc.dirs.rootfs;
    ls.userxattr = ctx.rootless;
    ls.owners_in_xattrs = ctx.single_id;
    sc.lowers = ls.lowers;
    if (!ctx.storage_driver.empty() && ctx.storage_driver_from != "BOCK_STORAGE_DRIVER") ls.driver = ctx.storage_driver;
    if (auto helper = paths::helper_path("bock-fuse-overlay")) ls.helper_dir = helper->substr(0, helper->rfind('/'));
    sc.root = BOCK_TRY_CTX(layers::mount_layers(ls), "mount the build step's root filesystem");
    return ok();
}

// The path components of `target` the root lacks, outermost first.
std::vector<std::string> missing_dirs(int rootfd, const std::string& target) {
    std::vector<std::string> out;
    std::string prefix;
    for (size_t i = 1; i <= target.size(); ++i) {
        if (i < target.size() && target[i] != '/') continue;
        prefix = target.substr(0, i);
        if (prefix.size() <= 1) continue;
        if (!sys::openat2(rootfd, prefix, O_PATH, 0, RESOLVE_IN_ROOT)) out.push_back(prefix);
    }
    return out;
}

Result<int> run_process(Context& ctx, const StepContainer& sc, const StepProcess& p, const RunRequest& rr,
                        ContainerNetwork* net) {
    Fd rootfd = BOCK_TRY(sys::open(sc.dirs.rootfs, O_PATH | O_DIRECTORY));
    auto user = BOCK_TRY(resolve_user(rootfd.get(), p.user));
    // RUN --mount=type=bind,from=: the images' roots, mounted for the run;
    // the source resolved inside its root.
    std::vector<StepMount> mounts = p.mounts;
    std::vector<std::unique_ptr<ImageRoot>> image_roots;
    for (auto& m : mounts) {
        if (!m.image) continue;
        image_roots.push_back(std::make_unique<ImageRoot>());
        BOCK_TRY(mount_image_root(ctx, *m.image, *image_roots.back()));
        Fd iroot = BOCK_TRY(sys::open(image_roots.back()->root, O_PATH | O_DIRECTORY));
        Fd src = BOCK_TRY(sys::openat2(iroot.get(), m.source.empty() ? "/" : m.source, O_PATH, 0, RESOLVE_IN_ROOT)
                              .context(fmt::format("RUN --mount=type=bind: source `{}` in the image", m.source)));
        struct stat st {};
        if (::fstat(src.get(), &st) < 0) return errno_error("stat the bind source `{}`", m.source);
        char link[32];
        sys::raw::fd_path(link, src.get());
        m.source = BOCK_TRY(fs::readlink(link));
        m.file = !S_ISDIR(st.st_mode);
        m.readonly = true;
    }
    // Mount points made for RUN --mount, removed again after the run.
    std::vector<std::string> made;
    for (const auto& m : mounts) {
        if (m.target.empty() || m.target[0] != '/') return make_error("RUN --mount target `{}` must be an absolute path", m.target);
        auto missing = missing_dirs(rootfd.get(), m.target);
        made.insert(made.end(), missing.begin(), missing.end());
        if (!m.file) {
            BOCK_TRY(mkdir_in_root(rootfd.get(), m.target));
            continue;
        }
        auto slash = m.target.rfind('/');
        std::string parent = m.target.substr(0, slash), name = m.target.substr(slash + 1);
        if (name.empty()) return make_error("RUN --mount target `{}` names no file", m.target);
        if (!parent.empty()) BOCK_TRY(mkdir_in_root(rootfd.get(), parent));
        Fd pd = BOCK_TRY(sys::openat2(rootfd.get(), parent.empty() ? "/" : parent, O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT));
        BOCK_TRY(sys::openat(pd.get(), name, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600));
    }
    struct Unmake {
        const std::string& root;
        std::vector<std::string>& made;
        ~Unmake() {
            for (auto it = made.rbegin(); it != made.rend(); ++it)
                if (::rmdir((root + *it).c_str()) < 0) ::unlink((root + *it).c_str());
        }
    } unmake{sc.dirs.rootfs, made};
    if (p.cwd.empty() || p.cwd[0] != '/') return make_error("working directory `{}` must be an absolute path", p.cwd);
    BOCK_TRY(mkdir_in_root(rootfd.get(), p.cwd));
    rootfd.reset();
    runtime::Spec spec = runtime::default_spec(ctx.rootless);
    spec.root_path = sc.dirs.rootfs;
    spec.process.args = p.args;
    spec.process.cwd = p.cwd;
    spec.process.user.uid = user.uid;
    spec.process.user.gid = user.gid;
    spec.process.user.additional_gids = user.additional_gids;
    spec.hostname = sc.dirs.id.substr(0, 12);
    spec.process.env = p.env;
    bool has_home = false;
    for (const auto& e : p.env) has_home = has_home || e.starts_with("HOME=");
    if (!has_home) spec.process.env.push_back("HOME=" + user.home);
    spec.process.env.push_back("HOSTNAME=" + spec.hostname);
    if (net) BOCK_TRY(net->configure(ctx, sc.dirs, spec));
    // bock run's security profile (capabilities, seccomp, no_new_privs,
    // masked paths, ...), after the network has set up its namespaces.
    BOCK_TRY(apply_security(ctx, rr, sc.dirs.rootfs, spec));
    for (const auto& m : mounts) {
        if (m.type == "tmpfs") spec.mounts.push_back({m.target, "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=755"}});
        else spec.mounts.push_back({m.target, "bind", m.source, {"rbind", m.readonly ? "ro" : "rw"}});
    }
    BOCK_TRY(fs::write_file_replace(fs::join(sc.dirs.bundle, "config.json"), runtime::to_json(spec).dump(2), 0600, false));
    runtime::RunOptions ro;
    ro.id = sc.dirs.id;
    ro.bundle = sc.dirs.bundle;
    ro.rootless = ctx.rootless;
    ro.pid_file = sc.dirs.pid_file();
    ro.forward_signals = p.forward_signals && !p.cancel;
    ro.seccomp_cache_dir = fs::join(ctx.store_root, "seccomp-cache");  // the default profile, compiled once
    if (net) net->attach(ro);
    // With a cancel flag, a watcher kills the process when it is set.
    std::atomic<bool> done{false};
    std::thread watcher;
    if (p.cancel)
        watcher = std::thread([&] {
            while (!done) {
                if (*p.cancel) {
                    if (auto text = fs::read_file(ro.pid_file)) {
                        pid_t pid = std::atoi(text->c_str());
                        if (pid > 0) ::kill(pid, SIGKILL);
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    auto r = runtime::run_container(spec, ro);
    done = true;
    if (watcher.joinable()) watcher.join();
    return r;
}

}  // namespace

Result<BuildStepResult> run_build_step(Context& ctx, const BuildStepRequest& req) {
    // The network (not for none, the runtime's own loopback-only
    // namespace): checked first, outliving the step's container.
    // bock.conf's defaults as `bock run` takes them: the default network,
    // the DNS upstream, the security profile.
    RunRequest rr = with_config_defaults(ctx, RunRequest{});
    if (req.process.network != "default") rr.network = req.process.network;
    // As root a step stays off `bock run`'s default bridge (a network
    // endpoint needs a container record, which a step has not): `none`
    // unless asked (RUN --network=host, bock build --network host).
    if (rr.network.empty() && !ctx.rootless) rr.network = "none";
    std::optional<ContainerNetwork> net;
    if (!req.process.args.empty() && rr.network != "none")
        net = BOCK_TRY(ContainerNetwork::prepare(ctx, rr).context("RUN --network=" + req.process.network));
    StepContainer sc(ctx);
    BOCK_TRY(mount_step(ctx, sc, req.base, net ? &*net : nullptr));
    if (req.fill) {
        Fd rootfd = BOCK_TRY(sys::open(sc.dirs.rootfs, O_PATH | O_DIRECTORY));
        BOCK_TRY(req.fill(rootfd.get()));
    }
    BuildStepResult out;
    if (!req.process.args.empty()) {
        out.exit_code = BOCK_TRY(run_process(ctx, sc, req.process, rr, net ? &*net : nullptr));
        if (out.exit_code != 0) return out;
    }
    bool copied = sc.root.backend() == layers::Backend::vfs;
    BOCK_TRY(sc.root.unmount());
    auto opts = req.commit;
    opts.single_id = ctx.single_id;
    if (copied) opts.copy_of = sc.lowers;  // the copy's changes are what differs from its layers
    auto r = BOCK_TRY(image::commit_upper(*ctx.store, req.base, sc.dirs.upper, "", opts));
    out.image = r.image;
    out.layer = r.layer;
    return out;
}

Result<image::ImageRecord> commit_config_only(Context& ctx, const image::ImageRecord& base, const image::CommitOptions& opts) {
    BOCK_TRY(fs::mkdir_p(ctx.run_root, 0700));
    auto empty = BOCK_TRY(fs::make_temp_dir(ctx.run_root, "build-empty-"));
    auto o = opts;
    o.include_empty = false;
    o.single_id = ctx.single_id;
    auto r = image::commit_upper(*ctx.store, base, empty, "", o);
    (void)fs::remove_all(empty);
    if (!r) return std::move(r).error();
    return r->image;
}

Result<void> with_image_root(Context& ctx, const image::ImageRecord& img, const std::function<Result<void>(int rootfd)>& f) {
    ImageRoot ir;
    BOCK_TRY(mount_image_root(ctx, img, ir));
    Fd fd = BOCK_TRY(sys::open(ir.root, O_PATH | O_DIRECTORY));
    auto r = f(fd.get());
    fd.reset();
    return r;
}

Result<std::pair<uint32_t, uint32_t>> resolve_chown(int rootfd, const std::string& spec) {
    auto c = spec.find(':');
    std::string u = spec.substr(0, c);
    auto user = BOCK_TRY(resolve_user(rootfd, u).context(fmt::format("--chown={}", spec)));
    uint32_t gid = user.uid;
    if (c != std::string::npos) gid = BOCK_TRY(resolve_user(rootfd, "0:" + spec.substr(c + 1)).context(fmt::format("--chown={}", spec))).gid;
    return std::pair{user.uid, gid};
}

Result<void> cleanup_build_steps(Context& ctx) {
    auto all = BOCK_TRY(list_containers(ctx));
    for (const auto& c : all) {
        if (!c.rec.name.starts_with(kStepPrefix) || c.status == "running") continue;
        if (auto r = remove_container(ctx, c.rec.id, false); !r)
            log::warn("remove the leftover build step {}: {}", c.rec.id.substr(0, 12), r.error().to_string());
    }
    return ok();
}

}  // namespace bock::engine

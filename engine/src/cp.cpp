// `bock cp` as a straight list of stages: parse both sides, open the
// container's root (mounting it when the container is not running), resolve
// the source and the destination (inside the root: openat2 RESOLVE_IN_ROOT),
// copy (copy_tree.cpp). A tar stream ("-") goes through a scratch directory
// in the run root, so it has the same path rules and owners as a copy.
#include "bock/engine/cp.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <optional>
#include <utility>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/containers.hpp"
#include "bock/image/commit.hpp"
#include "bock/image/extract.hpp"
#include "bock/layers/overlay.hpp"
#include "container_dirs.hpp"
#include "copy_tree.hpp"

namespace bock::engine {
namespace {

// A directory tree to copy from or into: a container's root (paths
// resolved inside it) or the host (root_fd AT_FDCWD).
struct Side {
    std::optional<layers::MountedRoot> mounted;  // a stopped container's root, for this copy
    Fd root;
    bool in_root = false;
    std::string label;  // for messages: "container abc123" or "the host"

    int dirfd() const { return in_root ? root.get() : AT_FDCWD; }
    Result<Fd> open(const std::string& path, int flags) const {
        uint64_t resolve = in_root ? (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) : 0;
        return sys::openat2(dirfd(), path.empty() ? "." : path, flags, 0, resolve);
    }
};

// A path split into the directory that holds it and its last name ("" for
// "/" or "X/.": the directory itself, whose contents are copied).
struct Split {
    std::string parent, name;
    bool contents = false;        // ends in "/." or is "/"
    bool trailing_slash = false;  // names a directory
};

Split split_path(std::string p, bool in_root) {
    Split s;
    if (p.ends_with("/.") || p == ".") {
        s.contents = true;
        p.resize(p.size() - 1);
    }
    while (p.size() > 1 && p.back() == '/') {
        s.trailing_slash = true;
        p.pop_back();
    }
    if (p == "/" || p.empty()) {
        s.contents = true;
        s.parent = p.empty() ? "." : "/";
        return s;
    }
    auto slash = p.rfind('/');
    s.name = slash == std::string::npos ? p : p.substr(slash + 1);
    s.parent = slash == std::string::npos ? (in_root ? "/" : ".") : (slash == 0 ? "/" : p.substr(0, slash));
    return s;
}

Result<Side> host_side() {
    Side s;
    s.label = "the host";
    return s;
}

Result<Side> container_side(Context& ctx, const std::string& key) {
    auto c = BOCK_TRY(find_container(ctx, key));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    Side s;
    s.in_root = true;
    s.label = "container " + c.rec.id.substr(0, 12);
    if (c.status == "created")
        return make_error("{} is being created", s.label).with_hint("try again once it runs or has exited");
    if (c.status != "running") {
        // Its root as `bock run` mounts it, writable, for this copy only.
        auto img = BOCK_TRY(ctx.store->lookup(c.rec.image_id));
        if (!img)
            return make_error("{}: its image {} is no longer in the store", s.label, c.rec.image_id.substr(0, 12))
                .with_hint("pull or load the image again to copy files of this container");
        layers::LayersSpec ls;
        ls.lowers = ctx.store->layer_dirs(*img);
        ls.upper = dirs.upper;
        ls.work = dirs.work;
        ls.target = dirs.rootfs;
        ls.userxattr = ctx.rootless;
        ls.owners_in_xattrs = ctx.single_id;
        ls.driver = c.rec.storage_driver;
        BOCK_TRY(fs::mkdir_p(dirs.rootfs, 0700));
        BOCK_TRY(dirs.unmount());
        s.mounted = BOCK_TRY_CTX(layers::mount_layers(ls), fmt::format("mount the root of {}", s.label));
    }
    s.root = BOCK_TRY_CTX(sys::open(dirs.rootfs, O_PATH | O_DIRECTORY), fmt::format("open the root of {}", s.label));
    return s;
}

// What the source names: the directory holding it and its name there.
struct Source {
    Fd parent;
    std::string name;      // "" with contents
    std::string dest_name; // the name a copy gets in a destination directory
    bool contents = false;
    bool is_dir = false;
};

Result<Source> open_source(const Side& side, const std::string& path, bool follow) {
    Split sp = split_path(path, side.in_root);
    Source src;
    src.contents = sp.contents;
    if (sp.contents) {
        src.parent = BOCK_TRY_CTX(side.open(path, O_PATH | O_DIRECTORY), fmt::format("`{}` in {}", path, side.label));
        src.is_dir = true;
        return src;
    }
    src.parent = BOCK_TRY_CTX(side.open(sp.parent, O_PATH | O_DIRECTORY), fmt::format("`{}` in {}", path, side.label));
    src.name = src.dest_name = sp.name;
    struct stat st{};
    if (::fstatat(src.parent.get(), src.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno_error("`{}` in {}", path, side.label);
    if (follow && S_ISLNK(st.st_mode)) {
        // The link's target, resolved inside the root: copied under the link's name.
        Fd target = BOCK_TRY_CTX(side.open(path, O_PATH), fmt::format("follow `{}` in {}", path, side.label));
        std::string real = BOCK_TRY(fs::readlink(fmt::format("/proc/self/fd/{}", target.get())));
        Split rs = split_path(real, false);
        src.parent = BOCK_TRY(sys::open(rs.parent, O_PATH | O_DIRECTORY));
        src.name = rs.name;
        if (::fstatat(src.parent.get(), src.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno_error("`{}` in {}", path, side.label);
    }
    if (sp.trailing_slash && !S_ISDIR(st.st_mode))
        return make_error("`{}` in {} is not a directory", path, side.label);
    src.is_dir = S_ISDIR(st.st_mode);
    return src;
}

// Copies `src` to `path` on `side`, with docker's rules: into an existing
// directory under the source's name; onto an existing file; else as the
// new name `path` (its parent must exist).
Result<void> copy_to(const Side& from, const Source& src, const Side& side, const std::string& path,
                     const CopyTreeOptions& opts) {
    const std::string where = fmt::format("`{}` in {}", path, side.label);
    Split dp = split_path(path, side.in_root);
    auto whole = side.open(path, O_PATH);
    if (whole) {
        struct stat st{};
        if (::fstat(whole->get(), &st) < 0) return errno_error("stat {}", where);
        if (S_ISDIR(st.st_mode)) {
            if (src.contents) return copy_children(src.parent.get(), whole->get(), opts);
            return copy_entry(src.parent.get(), src.name, whole->get(), src.dest_name, opts);
        }
        if (src.is_dir) return make_error("cannot copy directory {} onto the file {}", from.label, where);
        if (dp.trailing_slash) return make_error("{} is not a directory", where);
    } else if (whole.error().code() != ENOENT) {
        return std::move(whole).error().wrap(where);
    } else if (dp.trailing_slash && !src.is_dir) {
        return make_error("destination directory {} does not exist", where).with_hint("create it first");
    }
    if (dp.contents) return make_error("{} is not a directory", where);
    Fd parent = BOCK_TRY_CTX(side.open(dp.parent, O_PATH | O_DIRECTORY),
                             fmt::format("the directory of {} (it must exist)", where));
    if (src.contents) {
        if (::mkdirat(parent.get(), dp.name.c_str(), 0755) < 0 && errno != EEXIST) return errno_error("mkdir {}", where);
        Fd d = BOCK_TRY(sys::openat(parent.get(), dp.name, O_PATH | O_DIRECTORY | O_NOFOLLOW));
        return copy_children(src.parent.get(), d.get(), opts);
    }
    return copy_entry(src.parent.get(), src.name, parent.get(), dp.name, opts);
}

// A scratch directory in the run root, removed at the end.
struct Scratch {
    std::string path;
    Scratch() = default;
    Scratch(Scratch&& o) noexcept : path(std::exchange(o.path, {})) {}
    Scratch& operator=(Scratch&&) = delete;
    ~Scratch() {
        if (!path.empty())
            if (auto r = fs::remove_all(path); !r) log::warn("{}", r.error().to_string());
    }
};

Result<Scratch> make_scratch(const Context& ctx) {
    BOCK_TRY(fs::mkdir_p(ctx.run_root, 0700));
    Scratch s;
    s.path = BOCK_TRY(fs::make_temp_dir(ctx.run_root, "cp-"));
    return s;
}

}  // namespace

CopyEndpoint parse_copy_endpoint(const std::string& arg) {
    auto colon = arg.find(':');
    auto slash = arg.find('/');
    if (colon == std::string::npos || colon == 0 || (slash != std::string::npos && slash < colon)) return {"", arg};
    return {arg.substr(0, colon), arg.substr(colon + 1)};
}

Result<void> copy_files(Context& ctx, const CopyRequest& req) {
    CopyEndpoint s = req.src == "-" ? CopyEndpoint{} : parse_copy_endpoint(req.src);
    CopyEndpoint d = req.dest == "-" ? CopyEndpoint{} : parse_copy_endpoint(req.dest);
    if (!s.container.empty() && !d.container.empty())
        return make_error("copying between two containers is not supported").with_hint("copy through the host");
    if (s.container.empty() && d.container.empty())
        return make_error("one of SRC and DEST must be a container path, CONTAINER:PATH").with_exit(125);
    if (req.src == "-" && req.dest == "-") return make_error("SRC and DEST cannot both be `-`").with_exit(125);
    if ((!s.container.empty() && s.path.empty()) || (!d.container.empty() && d.path.empty()))
        return make_error("a container path needs a path after the colon: CONTAINER:PATH").with_exit(125);

    Side src_side = s.container.empty() ? BOCK_TRY(host_side()) : BOCK_TRY(container_side(ctx, s.container));
    Side dst_side = d.container.empty() ? BOCK_TRY(host_side()) : BOCK_TRY(container_side(ctx, d.container));

    if (req.src == "-") {
        // A tar on stdin: unpacked in a scratch directory (refusing entries
        // that leave it), then copied with its owners into DEST, which must
        // be a directory.
        auto scratch = BOCK_TRY(make_scratch(ctx));
        image::ExtractOptions eo;
        eo.rootless = ctx.rootless;
        BOCK_TRY_CTX(image::extract_layer(0, scratch.path, eo), "read the tar on standard input");
        Source src;
        src.parent = BOCK_TRY(sys::open(scratch.path, O_PATH | O_DIRECTORY));
        src.contents = src.is_dir = true;
        auto dir = BOCK_TRY_CTX(dst_side.open(d.path, O_PATH | O_DIRECTORY),
                                fmt::format("`{}` in {} (a tar is unpacked into a directory)", d.path, dst_side.label));
        return copy_children(src.parent.get(), dir.get(), {true});
    }

    Source src = BOCK_TRY(open_source(src_side, s.path, req.follow));
    if (req.dest == "-") {
        // To stdout: the copy made in a scratch directory, as a tar (owners
        // as the container sees them).
        auto scratch = BOCK_TRY(make_scratch(ctx));
        Fd dir = BOCK_TRY(sys::open(scratch.path, O_PATH | O_DIRECTORY));
        if (src.contents) BOCK_TRY(copy_children(src.parent.get(), dir.get(), {true}));
        else BOCK_TRY(copy_entry(src.parent.get(), src.name, dir.get(), src.dest_name, {true}));
        return image::write_tree_tar(scratch.path, 1).context("write the tar to standard output");
    }
    CopyTreeOptions opts;
    opts.keep_owners = req.archive;
    return copy_to(src_side, src, dst_side, d.path, opts)
        .context(fmt::format("copy {} to {}", req.src, req.dest));
}

}  // namespace bock::engine

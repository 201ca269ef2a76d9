// The FUSE session: mount, say ready, serve with a pool of threads until
// SIGTERM/SIGINT/SIGHUP or an unmount, then unmount. The mount is live
// when ready_fd gets its byte: requests that arrive before the loop starts
// wait in /dev/fuse and are served.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ops.hpp"

namespace bock::fuseov {

namespace {

void op_init(void* userdata, fuse_conn_info* conn) {
    (void)userdata;
    auto want = [&](unsigned cap) {
        if (conn->capable & cap) conn->want |= cap;
    };
    // Replies with file data are spliced from the file; requests are read
    // into a buffer (splicing them in measured slower for writes here).
    want(FUSE_CAP_SPLICE_WRITE);
    want(FUSE_CAP_SPLICE_MOVE);
    conn->want &= ~FUSE_CAP_SPLICE_READ;
    want(FUSE_CAP_READDIRPLUS);
    want(FUSE_CAP_PARALLEL_DIROPS);
    want(FUSE_CAP_ASYNC_READ);
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;  // always plus: every listing is followed by stats
    conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;
    // Files change only through this mount: a new mtime seen after our own
    // write must not throw the page cache away.
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    conn->max_write = 1 << 20;
}

// The mount's state for the wrappers below (one mount per process).
Fs* g_fs = nullptr;

// Operations that may copy up a hard-linked file tell the kernel about the
// other names' stale attributes after their reply.
template <auto Op, class... A>
void flushing(fuse_req_t req, A... a) {
    Fs* fs = g_fs;
    Op(req, a...);
    fs->flush_stale();
}

const fuse_lowlevel_ops kOps = [] {
    fuse_lowlevel_ops o{};
    o.init = op_init;
    o.lookup = op_lookup;
    o.forget = op_forget;
    o.forget_multi = op_forget_multi;
    o.getattr = op_getattr;
    o.setattr = flushing<op_setattr, fuse_ino_t, struct stat*, int, fuse_file_info*>;
    o.readlink = op_readlink;
    o.mknod = op_mknod;
    o.mkdir = op_mkdir;
    o.symlink = op_symlink;
    o.link = flushing<op_link, fuse_ino_t, fuse_ino_t, const char*>;
    o.unlink = op_unlink;
    o.rmdir = op_rmdir;
    o.rename = flushing<op_rename, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned int>;
    o.create = op_create;
    o.open = flushing<op_open, fuse_ino_t, fuse_file_info*>;
    o.read = op_read;
    o.write_buf = op_write_buf;
    o.flush = op_flush;
    o.release = op_release;
    o.fsync = op_fsync;
    o.fallocate = op_fallocate;
    o.statfs = op_statfs;
    o.opendir = op_opendir;
    o.readdir = op_readdir;
    o.readdirplus = op_readdirplus;
    o.releasedir = op_releasedir;
    o.fsyncdir = op_fsyncdir;
    o.setxattr = flushing<op_setxattr, fuse_ino_t, const char*, const char*, size_t, int>;
    o.getxattr = op_getxattr;
    o.listxattr = op_listxattr;
    o.removexattr = flushing<op_removexattr, fuse_ino_t, const char*>;
    return o;
}();

// RAII for the libfuse objects (C API).
struct Session {
    fuse_session* se = nullptr;
    bool mounted = false;
    bool handlers = false;
    ~Session() {
        if (handlers) fuse_remove_signal_handlers(se);
        if (mounted) fuse_session_unmount(se);
        if (se) fuse_session_destroy(se);
    }
};

}  // namespace

const fuse_lowlevel_ops& lowlevel_ops() { return kOps; }

Result<int> run(Options opt) {
    ::umask(0);  // modes arrive with the caller's umask applied already
    Fs fs;
    fs.opt = std::move(opt);
    BOCK_TRY(fs.open_layers());

    std::vector<std::string> argv_s{"bock-fuse-overlay", "-o"};
    std::string o = "fsname=bock-fuse-overlay,subtype=bock-overlay,default_permissions";
    if (::geteuid() == 0) o += ",allow_other";  // root of its namespace: the container's users too
    if (!fs.writable) o += ",ro";
    argv_s.push_back(o);
    if (fs.opt.debug) argv_s.push_back("-d");
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

    Session s;
    s.se = fuse_session_new(&args, &kOps, sizeof kOps, &fs);
    if (!s.se) return make_error("fuse session: libfuse refused the options `{}`", o);
    fs.se = s.se;
    g_fs = &fs;
    if (fuse_set_signal_handlers(s.se) != 0) return make_error("fuse session: cannot install signal handlers");
    s.handlers = true;
    if (fuse_session_mount(s.se, fs.opt.mountpoint.c_str()) != 0)
        return make_error("mount on `{}`: libfuse could not mount (its reason is on the line before)", fs.opt.mountpoint)
            .with_hint("/dev/fuse must be readable and writable, and the mount allowed (a user namespace with its "
                       "own mount namespace, or fusermount3)");
    s.mounted = true;
    if (fs.opt.ready_fd >= 0) {
        char one = '1';
        if (::write(fs.opt.ready_fd, &one, 1) != 1)
            return errno_error("write readiness to fd {}", fs.opt.ready_fd);
        ::close(fs.opt.ready_fd);
    }
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 16);
    fuse_loop_cfg_set_idle_threads(cfg, 10);
    int rc = fuse_session_loop_mt(s.se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
}

}  // namespace bock::fuseov

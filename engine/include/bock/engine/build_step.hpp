// One step of `bock build` as the engine does it (issue 19): the image's
// layers mounted under a fresh upper directory, something done in that
// root (a command run as a container, or files written by the builder),
// the upper directory committed as the new image's layer. The step lives
// as a container record named build-<id> while it runs, holding a lease on
// its image, so a build killed mid-step leaves a container that
// `bock rm` (or the next build, through cleanup_build_steps) removes and
// never a half-written image (docs/storage.md).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/image/commit.hpp"
#include "bock/image/store.hpp"

namespace bock::engine {

// RUN --mount: a host directory (type=cache, bind) or a tmpfs at `target`;
// with `image`, a path inside that image's root (RUN --mount=type=bind,from=).
// A target the step's root lacks is created for the run and removed before
// the commit, so the mount leaves nothing in the layer.
struct StepMount {
    std::string type;    // bind | tmpfs
    std::string source;  // bind: the host directory
    std::string target;  // absolute, in the container
    bool readonly = false;
    bool file = false;   // bind a file (RUN --mount=type=secret), not a directory
    // type bind: `source` is a path inside this image's root, mounted
    // read-only for the run (a file or a directory, as it is there).
    std::optional<image::ImageRecord> image;
};

// The process of a RUN step.
struct StepProcess {
    std::vector<StepMount> mounts;
    std::vector<std::string> args;  // argv; empty: no process
    std::vector<std::string> env;   // K=V, the whole environment
    std::string cwd = "/";          // created when missing
    std::string user;               // UID[:GID] or NAME[:GROUP]; empty: root
    // none (a namespace with loopback only), host, or default: bock.conf's
    // default_network, else `bock run`'s default (network.hpp).
    std::string network = "none";
    // Ctrl-C and other signals to bock reach the process (it then fails the
    // step, which is cleaned up). Off when steps run in several threads: the
    // forwarder is process-wide.
    bool forward_signals = true;
    // Set by the caller's SIGINT/SIGTERM handler: the process is killed
    // (checked every 50 ms while it runs) and the step fails.
    const std::atomic<bool>* cancel = nullptr;
};

struct BuildStepRequest {
    // The image whose layers are the step's lower directories; a record
    // with an empty manifest digest is `scratch` (no layers).
    image::ImageRecord base;
    // Run before the process (COPY, ADD, WORKDIR): the merged root, open
    // as a directory. Paths in it must be resolved inside the root.
    std::function<Result<void>(int rootfd)> fill;
    StepProcess process;
    // The new image: opts.config_json is its "config" object.
    image::CommitOptions commit;
};

struct BuildStepResult {
    image::ImageRecord image;
    std::optional<image::Digest> layer;  // none: the step changed nothing
    int exit_code = 0;                   // the process's; non-zero: no image was made
};

Result<BuildStepResult> run_build_step(Context& ctx, const BuildStepRequest& req);

// A config-only image on `base` (no new layer): ENV, CMD, LABEL, ... at the
// end of a stage.
Result<image::ImageRecord> commit_config_only(Context& ctx, const image::ImageRecord& base, const image::CommitOptions& opts);

// Runs `f` with the image's root mounted read-only (COPY --from).
Result<void> with_image_root(Context& ctx, const image::ImageRecord& img, const std::function<Result<void>(int rootfd)>& f);

// COPY --chown=USER[:GROUP] against the root's /etc/passwd and /etc/group
// (names or numbers); a user without a group gets the same number as gid.
Result<std::pair<uint32_t, uint32_t>> resolve_chown(int rootfd, const std::string& spec);

// Removes the containers of build steps whose build is gone (killed).
Result<void> cleanup_build_steps(Context& ctx);

}  // namespace bock::engine

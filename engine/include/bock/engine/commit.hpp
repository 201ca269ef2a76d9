// A container's changes back into images and tarballs (issue 12):
// `bock diff`, `bock commit`, `bock export`. They work on the container's
// overlay upper directory, <store>/containers/<id>/upper, whether the
// container still runs or has exited (kept without --rm).
#pragma once

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/image/commit.hpp"

namespace bock::engine {

using PathChange = image::PathChange;
using CommitOptions = image::CommitOptions;

// `bock diff`: the paths the container added (A), changed (C) or deleted
// (D) relative to its image, sorted.
Result<std::vector<PathChange>> diff_container(Context& ctx, const std::string& container);

struct CommitRequest {
    std::string container;
    std::string image;      // the new image's name; empty: a dangling image
    std::string format = "oci";  // oci | docker
    std::string compression = "gzip";  // gzip | zstd
    // --pause: a running container is frozen (pause.hpp) while its upper
    // directory is read, and thawed afterwards; one without a cgroup of
    // its own (rootless on cgroup v1) is committed as it runs, with a warning.
    bool pause = false;
    CommitOptions opts;     // changes, message, author, include_empty, timestamp
};
struct CommitReply {
    image::ImageRecord image;
    bool layer_added = false;
};
// The timestamp comes from opts.timestamp, else SOURCE_DATE_EPOCH when set.
Result<CommitReply> commit_container(Context& ctx, const CommitRequest& req);

// `bock export`: the container's flattened root filesystem as a tar,
// written to `out` ("-": standard output; a file through a temporary name).
Result<void> export_container(Context& ctx, const std::string& container, const std::string& out);

}  // namespace bock::engine

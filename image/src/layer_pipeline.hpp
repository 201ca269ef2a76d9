// The pull's layer pipeline: layer blobs downloaded in parallel (bounded),
// each streamed at once into blobs/ (BlobWriter: sha256 and size checked)
// and, through a pipe, into a per-layer extraction thread (extract_layer:
// decompression, diff_id, bomb caps). A layer directory is renamed into
// layers/<diff_id> only after both the blob digest and the diff_id match.
// The first error cancels every other job; all threads are joined and all
// fds closed before run_layer_pipeline returns. The caller holds the
// store's writer session (tmp/ is private to it).
//
// Threads start here, so the caller must already be in its final user
// namespace (the rootless session joins before any thread exists).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "bock/image/registry.hpp"
#include "registry_client.hpp"
#include "store_internal.hpp"

namespace bock::image::detail {

struct LayerJob {
    Descriptor blob;      // the compressed blob, as the manifest lists it
    Digest diff_id;       // the config's diff_id for it
    bool need_blob = true;   // not in blobs/ yet: download it
    bool need_layer = true;  // not in layers/ yet: extract it
};

// Downloads a blob into a sink; one per download thread (made by the
// factory in that thread).
using BlobFetcher = std::function<Result<void>(const Descriptor& d, const BlobSink& sink)>;
using BlobFetcherFactory = std::function<BlobFetcher()>;

struct PipelineOptions {
    unsigned parallel = 4;  // layers in flight at once
    StoreOptions store;
    // Per-blob progress (may be empty); called from several threads.
    std::function<void(const BlobEvent&)> on_blob;
};

// The number of layers downloaded at once: BOCK_PULL_PARALLEL, else 4.
unsigned default_pull_parallel();

Result<void> run_layer_pipeline(const StorePaths& p, const std::vector<LayerJob>& jobs,
                                const BlobFetcherFactory& fetchers, const PipelineOptions& opts);

}  // namespace bock::image::detail

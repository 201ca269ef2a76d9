// `bock build`: an image from a Containerfile (build.cpp), each step a
// layer committed through the engine (engine/build_step.hpp) and looked up
// first in the layer cache (cache.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::builder {

struct BuildRequest {
    std::string context = ".";            // the build context directory
    std::string file;                     // -f; empty: Containerfile, Dockerfile, Bockfile.yaml in the context; "-": stdin
    std::vector<std::string> tags;        // -t
    std::map<std::string, std::string> build_args;  // --build-arg K=V
    std::string target;                   // --target STAGE; empty: the last stage
    std::string network;                  // --network: RUN steps' without --network=; empty: default
    bool no_cache = false;
    std::optional<int64_t> timestamp;     // --timestamp
    std::string format = "oci";           // oci | docker
    int jobs = 2;                         // stages built at once
    std::map<std::string, std::string> secrets;  // --secret id=ID,src=FILE: id -> host file
    std::string iidfile;                  // --iidfile: sha256:<id> written there
    // --output type=oci|docker|tar|local,dest=PATH (outputs.cpp), after the build.
    std::vector<std::string> outputs;
    bool push = false;                    // --push: each -t name to its registry
    bool tls_verify = true;               // for --push and registry caches
    // --cache-from / --cache-to: type=local,src|dest=DIR (an OCI layout), or DIR.
    std::vector<std::string> cache_from, cache_to;
    // Progress lines ("STEP 1/5: FROM ..."); empty: quiet.
    std::function<void(std::string_view)> progress;
};

struct BuildResult {
    std::string image_id;  // config hex
    std::vector<std::string> pushed;  // --push: NAME@DIGEST each
    int steps = 0;
    int cached = 0;        // steps taken from the cache
};

Result<BuildResult> build(engine::Context& ctx, const BuildRequest& req);

// `bock build --print-containerfile`: the file the build would read, as a
// Containerfile (a Bockfile lowered, its security settings as comments).
Result<std::string> equivalent_containerfile(const BuildRequest& req);

}  // namespace bock::builder

namespace bock::builder {

// `bock build cache ls|prune|clear` (cache.cpp): the layer cache's entries.
struct CacheEntry {
    std::string key;       // the step's key (hex)
    std::string image_id;  // the image it names (config hex)
    int64_t used = 0;      // unix seconds it was last written or hit
    uint64_t size = 0;     // the image's size; 0 when it is gone
    bool valid = false;    // the image is still stored
};
Result<std::vector<CacheEntry>> cache_list(engine::Context& ctx);
// Removes entries last used more than `max_age` seconds ago (all with
// nullopt) and the dangling images they named; `clear` also empties the
// RUN --mount=type=cache directories. Returns the entries removed.
Result<int> cache_prune(engine::Context& ctx, std::optional<int64_t> max_age, bool clear);

}  // namespace bock::builder

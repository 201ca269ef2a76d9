// Private: what the stages of one build share (build.cpp), and one stage's
// walk over its instructions (stage.cpp).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/builder/build.hpp"
#include "bock/builder/containerfile.hpp"
#include "bock/builder/expand.hpp"
#include "bock/common/fd.hpp"
#include "bock/image/store.hpp"
#include "ignore.hpp"

namespace bock::builder {

struct StageResult {
    image::ImageRecord image;  // an empty manifest digest: scratch with nothing added
    nlohmann::json config;     // its "config" object
};

struct BuildShared {
    BuildShared(engine::Context& c, const BuildRequest& r, const Containerfile& f) : ctx(c), req(r), cf(f) {}
    engine::Context& ctx;
    const BuildRequest& req;
    const Containerfile& cf;
    IgnoreRules ignore;
    Fd context_fd;
    Vars global;                          // global ARG values (and the predefined ones)
    std::vector<std::set<int>> deps;      // stage -> stages it reads
    std::vector<std::optional<StageResult>> results;
    bool multi = false;                   // more than one stage is built
    std::mutex mu;                        // guards what follows, and progress output
    std::set<std::string> used_args;
    int steps = 0, cached = 0;
    bool warned_format = false;
    bool parallel = false;
    std::vector<std::string> cache_from;  // --cache-from OCI layout directories
    std::map<std::string, image::ImageRecord> cache_used;  // key -> image: the entries this build read or wrote (--cache-to)
    const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM                // stages run in threads now (no signal forwarding)

    void say(std::string_view line);
};

Result<void> build_stage(BuildShared& b, int index);

// The layer cache (cache.cpp): <store>/build-cache/<key> holds the id of
// the image a step made; an entry whose image is gone is a miss.
std::string chain_key(const std::string& parent, std::string_view step);
Result<std::optional<image::ImageRecord>> cache_lookup(engine::Context& ctx, const std::string& key);
Result<void> cache_store(engine::Context& ctx, const std::string& key, const image::ImageRecord& rec);
// The cache as a build uses it: the store's entries, then the --cache-from
// layouts (an entry found there is imported into the store); both record
// the entry for --cache-to.
Result<std::optional<image::ImageRecord>> cache_get(BuildShared& b, const std::string& key);
Result<void> cache_put(BuildShared& b, const std::string& key, const image::ImageRecord& rec);
// --cache-from/--cache-to values checked before the build starts.
Result<void> check_cache_sources(const BuildRequest& req);
// --cache-to: the entries this build used, written to each OCI layout.
Result<void> export_cache(BuildShared& b);
// --output and --push (outputs.cpp); the specs are checked before the build.
Result<void> check_outputs(const BuildRequest& req);
Result<void> write_outputs(engine::Context& ctx, const BuildRequest& req, const std::string& image_id);
Result<std::string> push_tag(engine::Context& ctx, const BuildRequest& req, const std::string& name);

// The "config" object of a stored image, as stored (every field kept).
Result<nlohmann::json> image_config_object(engine::Context& ctx, const image::ImageRecord& rec);

}  // namespace bock::builder

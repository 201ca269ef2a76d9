#include "run_pull.hpp"

#include "bock/common/log.hpp"
#include "bock/image/default_image.hpp"
#include "bock/image/reference.hpp"
#include "progress.hpp"

namespace bock::cli {

namespace {

// Where a reference may be pulled from. A qualified name: itself. A short
// name: Reference::parse already put it on docker.io (library/ for one
// component).
// TODO(reg): the unqualified-search registries of registries.conf go here,
// tried in order before docker.io.
std::vector<image::Reference> pull_sources(const image::Reference& ref) { return {ref}; }

}  // namespace

Result<PullPolicy> parse_pull_policy(const std::string& s) {
    if (s == "missing") return PullPolicy::missing;
    if (s == "always") return PullPolicy::always;
    if (s == "never") return PullPolicy::never;
    return make_error("--pull=`{}`: expected missing, always or never", s);
}

Result<void> ensure_image(frontend::Context& ctx, const std::string& typed, PullPolicy policy) {
    if (policy == PullPolicy::never) return ok();
    if (policy == PullPolicy::missing && BOCK_TRY(ctx.store->lookup(typed))) return ok();
    auto ref = image::Reference::parse(typed);
    if (!ref) return ok();  // an id prefix, or a bad name: run's lookup says why
    for (const auto& cand : image::local_candidates(*ref))
        if (cand.str() == image::default_image_name) return ok();  // built locally on demand
    std::optional<Error> last;
    for (const auto& src : pull_sources(*ref)) {
        image::PullOptions opts;
        PullProgress progress(PullProgress::detect(false));
        progress.attach(opts);
        fmt::print(stderr, "Trying to pull {}...\n", src.str());
        auto r = ctx.store->pull(src, opts);
        if (r) return ok();
        last = std::move(r).error();
    }
    if (policy == PullPolicy::missing)
        return std::move(*last)
            .wrap(fmt::format("image `{}` is not in the local store, and pulling it failed", typed))
            .with_hint(ref->had_domain ? "check the name and the registry, or load it with `bock load -i ARCHIVE`"
                                       : "load it with `bock load -i ARCHIVE`, or name its registry: "
                                         "bock run REGISTRY/NAME[:TAG]");
    return std::move(*last);
}

}  // namespace bock::cli

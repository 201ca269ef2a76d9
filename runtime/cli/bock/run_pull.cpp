#include "run_pull.hpp"

#include "bock/common/log.hpp"
#include "bock/image/default_image.hpp"
#include "bock/image/reference.hpp"
#include "bock/image/registries_conf.hpp"
#include "bock/image/store.hpp"
#include "progress.hpp"

namespace bock::cli {

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
    // Through registries.conf: short names in the unqualified-search
    // registries, mirrors, blocked registries (as `bock pull`).
    image::PullOptions opts;
    PullProgress progress(PullProgress::detect(false));
    progress.attach(opts);
    auto conf = BOCK_TRY(image::load_registries_conf());
    auto r = image::pull_with_config(*ctx.store, typed, opts, conf);
    if (r) return ok();
    std::optional<Error> last = std::move(r).error();
    if (policy == PullPolicy::missing)
        return std::move(*last)
            .wrap(fmt::format("image `{}` is not in the local store, and pulling it failed", typed))
            .with_hint(ref->had_domain ? "check the name and the registry, or load it with `bock load -i ARCHIVE`"
                                       : "load it with `bock load -i ARCHIVE`, or name its registry: "
                                         "bock run REGISTRY/NAME[:TAG]");
    return std::move(*last);
}

}  // namespace bock::cli

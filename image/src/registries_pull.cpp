// pull_with_config: short-name search, mirrors and blocked registries
// (registries_conf.hpp) around Store::pull.
#include "bock/image/registries_conf.hpp"
#include "bock/image/store.hpp"

namespace bock::image {

Result<ImageRecord> pull_with_config(Store& store, std::string_view typed, PullOptions opts,
                                     const RegistriesConf& conf) {
    auto ref = BOCK_TRY(Reference::parse(typed));
    auto say = [&](const std::string& line) {
        if (opts.progress) opts.progress(line);
    };
    std::vector<Error> errors;
    size_t attempts = 0;
    bool tls_verify = opts.tls_verify;
    for (const auto& cand : search_candidates(ref, typed, conf)) {
        auto sources = BOCK_TRY(pull_sources(cand, conf));
        for (const auto& src : sources) {
            attempts++;
            bool mirror = !(src.ref == cand);
            say(mirror ? fmt::format("Trying to pull {} from {}...", cand.str(), src.ref.str())
                       : fmt::format("Trying to pull {}...", cand.str()));
            opts.source = mirror ? std::optional<Reference>(src.ref) : std::nullopt;
            opts.tls_verify = tls_verify && !src.insecure;
            auto r = store.pull(cand, opts);
            if (r) return r;
            errors.push_back(std::move(r).error());
        }
    }
    if (errors.size() == 1) return std::move(errors.front());
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e.to_string();
    return make_error("pull `{}`: none of {} sources worked: {}", typed, attempts, all);
}

}  // namespace bock::image

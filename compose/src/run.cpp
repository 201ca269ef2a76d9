// `run`: a one-off container of a service, after its dependencies.
#include <unistd.h>

#include <random>

#include "bock/common/log.hpp"
#include "project_internal.hpp"

namespace bock::compose {

Result<int> run_oneoff(engine::Context& ctx, const Project& p, const RunOptions& opts) {
    auto it = p.services.find(opts.service);
    if (it == p.services.end())
        return make_error("no such service: {}", opts.service).with_hint("`bockrose config --services` lists them");
    const Service& s = it->second;
    if (!opts.no_deps && !s.depends_on.empty()) {
        UpOptions up_opts;
        up_opts.detach = true;
        for (const auto& [dep, d] : s.depends_on)
            if (p.services.contains(dep)) up_opts.services.push_back(dep);
        if (!up_opts.services.empty()) BOCK_TRY(up(ctx, p, up_opts));
    }
    BOCK_TRY(prepare_resources(ctx, p, {s.name}, false));
    std::vector<std::string> warnings;
    auto req = BOCK_TRY(run_request(p, s, 1, warnings));
    std::random_device rd;
    req.name = opts.name ? *opts.name : fmt::format("{}-{}-run-{:06x}", p.name, s.name, rd() & 0xffffff);
    std::erase_if(req.labels, [](const std::string& l) { return l.starts_with(kOneoffLabel) || l.starts_with(kNumberLabel); });
    req.labels.push_back(fmt::format("{}=True", kOneoffLabel));
    req.labels.push_back(fmt::format("{}=1", kNumberLabel));
    req.network_aliases.clear();  // the service's name stays with its own containers
    req.publish.clear();          // as docker compose run without --service-ports
    req.restart = "no";
    if (opts.entrypoint) {
        auto words = BOCK_TRY(split_command(*opts.entrypoint));
        req.args.clear();
        req.entrypoint = words.empty() ? "" : words[0];
        if (words.size() > 1) req.args.assign(words.begin() + 1, words.end());
        if (opts.command.empty() && s.command) req.args.insert(req.args.end(), s.command->begin(), s.command->end());
    }
    if (!opts.command.empty()) {
        req.args.clear();
        if (s.entrypoint && !opts.entrypoint && s.entrypoint->size() > 1)
            req.args.assign(s.entrypoint->begin() + 1, s.entrypoint->end());
        req.args.insert(req.args.end(), opts.command.begin(), opts.command.end());
    }
    for (const auto& e : opts.env) req.env.push_back(e);
    req.remove = opts.remove;
    req.detach = opts.detach;
    req.tty = opts.terminal && !opts.detach;
    req.interactive = opts.terminal && !opts.detach;
    if (opts.detach) {
        auto id = BOCK_TRY(engine::create_container(ctx, req, true));
        fmt::print("{}\n", *req.name);
        (void)id;
        return 0;
    }
    if (req.tty) return engine::run_attached(ctx, req, engine::AttachOptions{});
    return engine::run_container(ctx, req);
}

}  // namespace bock::compose

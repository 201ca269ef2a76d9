#include "bock/engine/info.hpp"

#include <gnu/libc-version.h>
#include <sys/utsname.h>

#include <fmt/format.h>

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/doctor.hpp"
#include "bock/image/versions.hpp"
#include "bock/runtime/features.hpp"
#include "run_isolation.hpp"

namespace bock::engine {
namespace {

nlohmann::ordered_json id_map(const std::string& file) {
    auto arr = nlohmann::ordered_json::array();
    auto text = fs::read_file(file).value_or("");
    size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        unsigned long inside = 0, outside = 0, count = 0;
        if (std::sscanf(line.c_str(), "%lu %lu %lu", &inside, &outside, &count) == 3)
            arr.push_back({{"container_id", inside}, {"host_id", outside}, {"size", count}});
    }
    return arr;
}

}  // namespace

nlohmann::json version_info() {
    nlohmann::json libs{{"glibc", gnu_get_libc_version()},
                        {"libseccomp", runtime::libseccomp_version()},
                        {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
                        {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR,
                                                      NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)}};
    for (const auto& [k, v] : image::library_versions()) libs[k] = v;
    struct utsname u{};
    ::uname(&u);
    return {{"Client",
             {{"Version", BOCK_VERSION},
              {"Commit", BOCK_COMMIT},
              {"OsArch", fmt::format("linux/{}", u.machine)},
              {"Libraries", libs}}}};
}

Result<nlohmann::ordered_json> system_info(Context& ctx) {
    struct utsname u{};
    ::uname(&u);
    auto cg = check_cgroups(ctx);
    bool limits = cg.severity == Severity::ok;
    nlohmann::ordered_json host{{"kernel", u.release},
                        {"arch", u.machine},
                        {"rootless", ctx.rootless},
                        {"cgroups", cg.detail},
                        {"limits_enforced", limits}};
    if (!limits && !cg.fix.empty()) host["cgroups_fix"] = cg.fix;
    // Which of run's limit flags hold (run_limits.cpp refuses the others).
    auto lr = limits_report(ctx);
    nlohmann::ordered_json each;
    for (const auto& l : lr.limits) each[l.flag] = l.holds ? "enforced" : "not enforced: " + l.why;
    host["limits"] = each;
    if (!lr.any) host["limits_fix"] = lr.fix;
    else host["limits_cgroup"] = lr.where;
    if (ctx.rootless) {
        // Inside the session: the mappings of its user namespace.
        host["uid_mappings"] = id_map("/proc/self/uid_map");
        host["gid_mappings"] = id_map("/proc/self/gid_map");
        host["single_id_mapping"] = ctx.single_id;
    }
    auto images = BOCK_TRY(ctx.store->list());
    auto containers = BOCK_TRY(list_containers(ctx));
    int running = 0;
    for (const auto& c : containers) running += c.status == "running";
    nlohmann::ordered_json store{{"root", ctx.store_root},
                         {"run_root", ctx.run_root},
                         {"images", images.size()},
                         {"containers", containers.size()},
                         {"running", running}};
    nlohmann::ordered_json defaults{
        {"storage_driver",
         ctx.storage_driver.empty()
             ? fmt::format("the first that mounts of overlay{}, fuse-overlayfs ({}), bock-fuse ({}), vfs",
                           ctx.rootless ? " (userxattr)" : "",
                           find_program("fuse-overlayfs") ? "available" : "not in PATH",
                           paths::helper_path("bock-fuse-overlay") ? "available" : "missing")
             : fmt::format("{} (forced by {})", ctx.storage_driver, ctx.storage_driver_from)},
        {"network", ctx.config.default_network.empty()
                        ? std::string(ctx.rootless ? "slirp4netns in the foreground, none with -d/-i/-t"
                                                   : "none (a private network namespace with loopback only)")
                        : ctx.config.default_network + " (bock.conf)"}};
    if (!ctx.config.dns_upstream.empty()) defaults["dns_upstream"] = ctx.config.dns_upstream + " (bock.conf)";
    if (!ctx.config.log_size_max.empty()) defaults["log_size_max"] = ctx.config.log_size_max + " (bock.conf)";
    if (ctx.config.ignore_limits) defaults["ignore_limits"] = true;
    // bock.conf: the files looked at, which were read, where each key came from.
    nlohmann::ordered_json config{{"files_looked_at", config_files()}, {"files_read", ctx.config.files}};
    nlohmann::ordered_json keys;
    for (const auto& [k, where] : ctx.config.origins) keys[k] = where;
    if (!keys.empty()) config["keys"] = keys;
    nlohmann::ordered_json helpers{{"lookup", "$BOCK_HELPER_DIR, else beside bock, else ../libexec/bock/"}};
    if (const char* d = std::getenv("BOCK_HELPER_DIR")) helpers["BOCK_HELPER_DIR"] = d;
    return nlohmann::ordered_json{{"version", BOCK_VERSION},
                                  {"host", host},
                          {"store", store},
                          {"defaults", defaults},
                          {"config", config},
                          {"helpers", helpers}};
}

}  // namespace bock::engine

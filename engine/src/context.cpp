#include "bock/engine/context.hpp"

#include <unistd.h>

#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"
#include "bock/layers/overlay.hpp"

namespace bock::engine {
namespace {
std::string& flag_storage_driver() {
    static std::string name;
    return name;
}
}  // namespace

Result<void> set_storage_driver(const std::string& name) {
    BOCK_TRY(layers::parse_backend(name));
    flag_storage_driver() = name;
    return ok();
}

Result<Context> probe_context() {
    Context c;
    c.rootless = !paths::running_as_root();
    c.store_root = BOCK_TRY(paths::store_root());
    c.run_root = BOCK_TRY(paths::run_root());
    c.host_uid = ::getuid();
    c.host_gid = ::getgid();
    c.config = BOCK_TRY(load_config());
    if (!flag_storage_driver().empty()) {
        c.storage_driver = flag_storage_driver();
        c.storage_driver_from = "--storage-driver";
    } else if (const char* env = std::getenv("BOCK_STORAGE_DRIVER"); env && *env) {
        c.storage_driver = env;
        c.storage_driver_from = "BOCK_STORAGE_DRIVER";
    } else if (!c.config.storage_driver.empty()) {
        BOCK_TRY_CTX(layers::parse_backend(c.config.storage_driver), "storage_driver in bock.conf");
        c.storage_driver = c.config.storage_driver;
        c.storage_driver_from = "bock.conf";
    }
    // registries.conf's location: $BOCK_REGISTRIES_CONF wins (the image
    // library reads it there); set before any thread exists.
    if (!c.config.registries_conf.empty() && !std::getenv("BOCK_REGISTRIES_CONF"))
        ::setenv("BOCK_REGISTRIES_CONF", c.config.registries_conf.c_str(), 1);
    return c;
}

Result<Context> open_context() {
    // Paths first: they depend on who we are on the host, which the session
    // hides (inside it we are uid 0).
    Context c = BOCK_TRY(probe_context());
    BOCK_TRY(fs::mkdir_p(c.store_root, 0700));
    if (c.rootless) {
        auto s = BOCK_TRY_CTX(userns::enter_session(c.run_root), "enter the rootless session");
        c.single_id = s.single;
    }
    image::StoreOptions so;
    so.rootless = c.rootless;
    so.single_id = c.single_id;
    c.store = BOCK_TRY(image::Store::open(c.store_root, so));
    return c;
}

}  // namespace bock::engine

#include "bock/engine/context.hpp"

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"

namespace bock::engine {

Result<Context> probe_context() {
    Context c;
    c.rootless = !paths::running_as_root();
    c.store_root = BOCK_TRY(paths::store_root());
    c.run_root = BOCK_TRY(paths::run_root());
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

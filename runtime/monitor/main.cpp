// bock-monitor: the per-container monitor (docs/monitor.md). It links only
// bock_common: it lives as long as its container.
#include <cstdio>

#include "bock/common/log.hpp"
#include "monitor.hpp"

int main(int argc, char** argv) {
    bock::log::set_program("bock-monitor");
    bock::log::init_from_env();
    auto opts = bock::monitor::parse_args(argc, argv);
    if (!opts) {
        bock::log::report(opts.error());
        return 125;
    }
    return bock::monitor::run(*opts);
}

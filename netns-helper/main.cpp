// bock-netns: the rootless network helper (docs/netns-helper.md).
#include <cstdio>

#include "bock/common/log.hpp"
#include "bock/netns/helper.hpp"
#include "bock/netns/options.hpp"

int main(int argc, char** argv) {
    using namespace bock;
    log::set_program("bock-netns");
    log::init_from_env();
    bool help = false;
    auto opts = netns::parse_options(argc, argv, help);
    if (help) {
        std::fputs(netns::usage(), stdout);
        return 0;
    }
    if (!opts) {
        log::report(opts.error());
        return 2;
    }
    auto r = netns::run_helper(*opts);
    if (!r) {
        log::report(r.error());
        return 1;
    }
    return 0;
}

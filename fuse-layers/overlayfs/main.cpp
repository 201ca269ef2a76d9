// bock-fuse-overlay: Bock's overlay filesystem (docs/fuse-overlay.md).
// Runs in the foreground until SIGTERM or an unmount.
#include <cstdio>
#include <string>
#include <vector>

#include "bock/fuseov/options.hpp"

namespace bock::fuseov {
Result<int> run(Options opt);
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
        std::puts("usage: bock-fuse-overlay -o lowerdir=TOP:...:BOTTOM[,upperdir=DIR,workdir=DIR]"
                  "[,uidmapping=C:H:N[:...]][,gidmapping=C:H:N[:...]][,ready_fd=N][,timeout=SECONDS] [-d] MOUNTPOINT");
        return 0;
    }
    auto opt = bock::fuseov::parse_options(args);
    auto rc = opt ? bock::fuseov::run(std::move(*opt)) : bock::Result<int>(opt.error());
    if (!rc) {
        std::fprintf(stderr, "bock-fuse-overlay: %s\n", rc.error().to_string().c_str());
        if (!rc.error().hint().empty()) std::fprintf(stderr, "hint: %s\n", rc.error().hint().c_str());
        return 1;
    }
    return *rc;
}

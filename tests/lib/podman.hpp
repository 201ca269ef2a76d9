// podman end-to-end helpers: one podman "installation" per test (its own
// --root, --runroot, --tmpdir and, rootless, XDG_RUNTIME_DIR) driving a
// given OCI runtime, so the same scenario runs with runc and bock-oci.
#pragma once

#include <string>
#include <vector>

#include "testlib.hpp"

namespace bock::test::podman {

// The scenario of issue 3 for one runtime (podman_scenario.cpp): run --rm
// (output, exit code), run -d + exec (output, exit code) + stop + rm,
// run -it and exec -it through a real pty. `extra_run_flags` go to every
// `podman run` (root: the --ulimit flags this machine needs).
void check_podman_runtime(const std::string& runtime, const std::string& name,
                          const std::vector<std::string>& extra_run_flags);

class Podman {
public:
    // Skips the test when podman or conmon is missing. `name` names the
    // scratch directory below the test's tmp dir.
    Podman(std::string runtime, const std::string& name);
    ~Podman();
    Podman(const Podman&) = delete;
    Podman& operator=(const Podman&) = delete;

    // podman GLOBALS ARGS..., bounded by `timeout_s` (exit 124 on timeout).
    Run call(const std::vector<std::string>& args, int timeout_s = 120);
    // The same under `script` (util-linux): podman's stdin/stdout are a
    // real pty of `rows`x`cols`; the output is what the pty printed.
    Run tty(const std::vector<std::string>& args, int rows, int cols, int timeout_s = 120);
    // Imports a busybox root filesystem as the image `bb` (once).
    std::string busybox_image();

    const std::string& runtime() const { return runtime_; }

private:
    std::vector<std::string> command(const std::vector<std::string>& args) const;
    std::vector<std::string> env() const;
    std::string runtime_, dir_;
};

}  // namespace bock::test::podman

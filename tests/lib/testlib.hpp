// Helpers for the end-to-end suites (tests/rootless, tests/root): run the
// real binaries, build fixture images with bock-mkimage and the static
// probe, skip honestly. Every test runs under tests/harness/run-test.sh,
// which sets BOCK_ROOT, BOCK_RUNROOT, HOME and BOCK_TEST_* for it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bock::test {

struct Run {
    int code = -1;
    std::string out;
    std::string err;
};

// Path of a built program (bock, bock-oci, bock-probe, bock-mkimage).
std::string bin(const std::string& name);
// A scratch directory private to this test (removed by the harness).
std::string tmp_dir();
std::string env_or(const char* name, const std::string& fallback);

// Runs a program with captured output. extra_env entries are added to (or
// replace in) the test's environment.
Run run(const std::vector<std::string>& argv, const std::optional<std::string>& stdin_data = {},
        const std::vector<std::string>& extra_env = {});
// `bock ARGS...` (the front end)
Run cli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {});

// `bock images --format json`, only the images whose first name starts with
// `prefix` (the test cases of a tag share one store).
nlohmann::json images_named(const std::string& prefix);

// Builds an archive with bock-mkimage from layer spec texts (see
// tests/fixtures/mkimage.cpp for the line format) and loads it; returns the
// image name. With busybox=true the first layer is busybox.
std::string make_image(const std::string& name, const std::vector<std::string>& layer_specs,
                       bool busybox = true, const std::vector<std::string>& cmd = {},
                       const std::string& format = "oci");
// An image with busybox and the probe at /probe (cached per test process).
std::string probe_image();
// Runs the probe in a new container and parses its JSON.
nlohmann::json probe(const std::vector<std::string>& run_flags = {},
                     const std::vector<std::string>& probe_args = {});

// A busybox OCI bundle in the test's scratch dir: rootfs/bin with busybox
// and a few applet links, config.json from `bock-oci spec` (--rootless when
// not root). Returns the bundle directory.
std::string make_oci_bundle(const std::string& name);
// A bundle's config.json, parsed, with process.terminal false (tests that
// want a terminal set it again); and written back.
nlohmann::json read_oci_config(const std::string& bundle);
void write_oci_config(const std::string& bundle, const nlohmann::json& cfg);
// The shared bock-oci scenario of the root and rootless suites: a good
// bundle runs, a malformed config is one error line and exit 125.
void check_oci_run_scenario(const std::string& id_prefix);

// Exits with the skip code (77) after saying why; the harness fails the
// run on a skip under CI=true.
[[noreturn]] void skip(const std::string& why);

bool is_root();
std::string current_user();
// The mount table where containers' roots are mounted: the rootless
// session's mount namespace (its holder's view, from BOCK_RUNROOT), or
// the host's as root.
std::string session_mount_table();
// The names in a directory; empty when it cannot be read.
std::vector<std::string> dir_entries(const std::string& dir);
// Lines of a text, without empty ones.
std::vector<std::string> lines(const std::string& text);

}  // namespace bock::test

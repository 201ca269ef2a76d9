#include "testlib.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"

extern char** environ;

namespace bock::test {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string bin(const std::string& name) {
    std::string dir = env_or("BOCK_TEST_BIN", "");
    if (dir.empty()) {
        auto self = fs::readlink("/proc/self/exe");
        dir = self ? self->substr(0, self->rfind('/')) : ".";
    }
    return dir + "/" + name;
}

std::string tmp_dir() {
    static std::string dir = [] {
        std::string base = env_or("BOCK_TEST_TMP", "/tmp");
        auto d = fs::make_temp_dir(base, "scratch-");
        REQUIRE(d);
        return *d;
    }();
    return dir;
}

Run run(const std::vector<std::string>& argv, const std::optional<std::string>& stdin_data,
        const std::vector<std::string>& extra_env) {
    SpawnOptions o;
    o.argv = argv;
    o.capture_stdout = o.capture_stderr = true;
    o.stdin_data = stdin_data;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const auto& kv : extra_env) {
        auto key = kv.substr(0, kv.find('=') + 1);
        std::erase_if(env, [&](const std::string& e) { return e.compare(0, key.size(), key) == 0; });
        if (kv.back() != '=') env.push_back(kv);  // "K=" alone removes K
    }
    o.env = env;
    auto r = run_program(o);
    if (!r) FAIL("cannot run " << argv[0] << ": " << r.error().to_string());
    return Run{r->exit_code, r->out, r->err};
}

Run cli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    std::vector<std::string> argv{bin("bock")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv, std::nullopt, extra_env);
    UNSCOPED_INFO("bock " << fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << "\nstdout: " << r.out
                          << "\nstderr: " << r.err);
    return r;
}

std::string make_image(const std::string& name, const std::vector<std::string>& layer_specs, bool busybox,
                       const std::vector<std::string>& cmd, const std::string& format) {
    static int counter = 0;
    std::string dir = tmp_dir();
    std::vector<std::string> argv{bin("bock-mkimage"), "--out", "", "--format", format, "--name", name};
    std::string out = fmt::format("{}/image-{}.tar", dir, ++counter);
    argv[2] = out;
    if (busybox) argv.push_back("--busybox");
    for (const auto& c : cmd) {
        argv.push_back("--cmd");
        argv.push_back(c);
    }
    for (const auto& spec : layer_specs) {
        std::string path = fmt::format("{}/layer-{}-{}.spec", dir, counter, &spec - layer_specs.data());
        REQUIRE(fs::write_file(path, spec));
        argv.push_back("--layer");
        argv.push_back(path);
    }
    auto mk = run(argv);
    INFO("bock-mkimage: " << mk.err);
    REQUIRE(mk.code == 0);
    auto load = cli({"load", "-i", out});
    REQUIRE(load.code == 0);
    return name;
}

std::string probe_image() {
    static std::string name;
    if (name.empty())
        name = make_image("localhost/probe:latest", {"file /probe 0755 0 0 " + bin("bock-probe") + "\n"}, true,
                          {"/probe"});
    return name;
}

nlohmann::json probe(const std::vector<std::string>& run_flags, const std::vector<std::string>& probe_args) {
    std::vector<std::string> args{"run", "--rm"};
    args.insert(args.end(), run_flags.begin(), run_flags.end());
    args.push_back(probe_image());
    args.push_back("/probe");
    args.insert(args.end(), probe_args.begin(), probe_args.end());
    auto r = cli(args);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    INFO("probe output: " << r.out);
    REQUIRE(j.is_object());
    return j;
}

void skip(const std::string& why) {
    std::cerr << "SKIPPED: " << why << std::endl;
    std::_Exit(77);
}

bool is_root() { return ::getuid() == 0; }

std::string current_user() { return env_or("USER", std::to_string(::getuid())); }

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        if (j > i) out.push_back(text.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

}  // namespace bock::test

namespace bock::test {

nlohmann::json read_oci_config(const std::string& bundle) {
    auto text = fs::read_file(bundle + "/config.json");
    REQUIRE(text);
    auto cfg = nlohmann::json::parse(*text);
    cfg["process"]["terminal"] = false;
    return cfg;
}

void write_oci_config(const std::string& bundle, const nlohmann::json& cfg) {
    REQUIRE(fs::write_file(bundle + "/config.json", cfg.dump(2)));
}

std::string make_oci_bundle(const std::string& name) {
    std::string b = tmp_dir() + "/" + name;
    REQUIRE(fs::mkdir_p(b + "/rootfs/bin"));
    for (const char* d : {"proc", "dev", "sys", "tmp", "etc"}) REQUIRE(fs::mkdir_p(b + "/rootfs/" + d));
    REQUIRE(run({"cp", "/bin/busybox", b + "/rootfs/bin/busybox"}).code == 0);
    for (const char* a : {"sh", "echo", "id", "cat", "true", "sleep", "ls", "touch", "hostname"})
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + a).c_str()) == 0);
    std::vector<std::string> argv{bin("bock-oci"), "spec", "--bundle", b};
    if (!is_root()) argv.push_back("--rootless");
    REQUIRE(run(argv).code == 0);
    return b;
}

void check_oci_run_scenario(const std::string& p) {
    std::string b = make_oci_bundle(p + "bundle");
    auto text = fs::read_file(b + "/config.json");
    REQUIRE(text);
    auto cfg = nlohmann::json::parse(*text);
    cfg["process"]["args"] = {"sh", "-c", "echo hi; id -u; exit 9"};
    cfg["process"]["terminal"] = false;
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    auto r = run({bin("bock-oci"), "run", "--bundle", b, p + "good"});
    CHECK(r.code == 9);
    CHECK(r.out == "hi\n0\n");

    REQUIRE(fs::write_file(b + "/config.json", "{ \"ociVersion\": \"1.1.0\", \"process\": "));
    auto bad = run({bin("bock-oci"), "run", "--bundle", b, p + "bad1"});
    CHECK(bad.code == 125);
    CHECK(lines(bad.err).size() == 1);
    CHECK_THAT(bad.err, Catch::Contains("config.json"));

    cfg["process"]["args"] = "not-an-array";
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    auto wrong = run({bin("bock-oci"), "run", "--bundle", b, p + "bad2"});
    CHECK(wrong.code == 125);
    CHECK_THAT(wrong.err, Catch::Contains("process.args"));
}

nlohmann::json images_named(const std::string& prefix) {
    auto r = cli({"images", "--format", "json"});
    REQUIRE(r.code == 0);
    auto out = nlohmann::json::array();
    for (const auto& i : nlohmann::json::parse(r.out))
        if (!i["Names"].empty() && i["Names"][0].get<std::string>().starts_with(prefix)) out.push_back(i);
    return out;
}

std::string session_mount_table() {
    std::string pid = "self";
    if (!is_root()) {
        auto holder = fs::read_file(env_or("BOCK_RUNROOT", "") + "/session/holder.pid");
        REQUIRE(holder);
        pid = std::to_string(std::stoi(*holder));
    }
    auto m = fs::read_file("/proc/" + pid + "/mountinfo");
    REQUIRE(m);
    return *m;
}

std::vector<std::string> dir_entries(const std::string& dir) {
    auto r = fs::list_dir(dir);
    return r ? *r : std::vector<std::string>{};
}

}  // namespace bock::test

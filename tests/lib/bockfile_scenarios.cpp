#include "bockfile_scenarios.hpp"

#include <signal.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "build_scenarios.hpp"
#include "registry.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

// The builder corpus (build_scenarios.cpp), written as Bockfiles by hand.
const char* bockfile_for(const std::string& name) {
    if (name == "single")
        return R"(# The corpus' "single" Containerfile as a Bockfile.
version: "1"
args:
  BASE: ""
stages:
  - from: ${BASE}
    steps:
      - arg: {VERSION: "1.0"}
      - arg: EMPTY
      - env: {APP_HOME: /srv/app, GREETING: hello world}
      - env:
          DERIVED: ${APP_HOME}/v${VERSION}
          UNSET: ${EMPTY:-fallback}
          ALT: ${VERSION:+set}
      - label: {version: $VERSION, description: 'a "quoted" label', single: $$VERSION}
      - workdir: $APP_HOME
      - copy: {src: src/, dest: ./src/}
      - copy: {src: ["*.txt"], dest: notes/}
      - copy: {src: [config.ini], dest: /etc/app/config.ini, chown: "app:app", chmod: "0640"}
      - copy: {src: link-in-context, dest: /srv/app/}
      - add: {src: files.tar, dest: /opt/unpacked/}
      - run: >-
          rm -f /etc/remove-me && rm -rf /var/cache/old && mkdir -p /var/lib/app
          && echo "$GREETING $VERSION $DERIVED" > /var/lib/app/greeting
          && ln -s /var/lib/app/greeting /var/lib/app/link && ln /var/lib/app/greeting /var/lib/app/hard
          && chown -R 1000:1000 /var/lib/app && chmod 0750 /var/lib/app
      - run: {command: [/bin/sh, -c, echo exec-form > /srv/app/exec.txt]}
      - shell: [/bin/sh, -e, -c]
      - run: echo shell > shell.txt && id -u > /srv/app/uid-root.txt
      - expose: [8080, 53/udp]
      - volume: /data
      - user: app
      - run: |
          id -u > /home/app/uid.txt
runtime:
  stop_signal: SIGTERM
  healthcheck:
    test: wget -q -O- http://localhost:8080/ || exit 1
    interval: 30s
    timeout: 5s
    retries: 3
  entrypoint: [/bin/sh, -c]
  cmd: [echo hi]
  workdir: /srv/app/trailing
)";
    // "multi" without its trailing unused stage: a Bockfile's runtime
    // belongs to its last stage, the corpus' target.
    return R"(version: "1"
from: ${BASE}
args: {BASE: ""}
stages:
  - name: builder
    steps:
      - run: mkdir -p /out && echo built > /out/artifact && chown 1000:1000 /out/artifact
  - name: unused
    steps:
      - run: exit 3
  - name: tools
    steps:
      - copy: {src: tool.sh, dest: /usr/local/bin/tool}
  - name: final
    from: builder
    steps:
      - copy: {from: tools, src: /usr/local/bin/tool, dest: /usr/local/bin/}
      - copy: {from: builder, src: /out/, dest: /opt/out/}
      - copy: {from: "0", src: /out/artifact, dest: /copied-by-index}
      - run: rm /bin/vi && rm -rf /home/app
runtime:
  cmd: [/usr/local/bin/tool]
)";
}

std::string build_ok(const std::vector<std::string>& args, std::string* out = nullptr, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv{"build"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = cli(argv, env);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    if (out) *out = r.out;
    return lines(r.out).back();
}

std::string saved_flat(const std::string& name, const std::string& what) {
    std::string tar = tmp_dir() + "/" + what + ".tar";
    REQUIRE(cli({"save", "-o", tar, name}).code == 0);
    return flatten_image_archive(tar);
}

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) n++;
    return n;
}

// Another store for one test (an "empty" CI runner); rootless, its session
// holder is stopped at the end as the harness stops the test's own.
struct OtherStore {
    std::string root, runroot;
    explicit OtherStore(const std::string& name) : root(tmp_dir() + "/" + name + "-store"), runroot(tmp_dir() + "/" + name + "-run") {}
    OtherStore(const OtherStore&) = delete;
    OtherStore& operator=(const OtherStore&) = delete;
    ~OtherStore() {
        if (auto holder = fs::read_file(runroot + "/session/holder.pid"))
            if (int pid = std::atoi(holder->c_str()); pid > 0) ::kill(pid, SIGKILL);
    }
    std::vector<std::string> env() const { return {"BOCK_ROOT=" + root, "BOCK_RUNROOT=" + runroot}; }
};

// The RUN steps that ran: their output (the step lines show the
// unexpanded command, not this).
int ran(const std::string& out) { return count(out, "RAN-STEP-11") + count(out, "RAN-STEP-12"); }

}  // namespace

void check_bockfile_equals_containerfile() {
    build_base_image();
    for (const auto& c : build_corpus_contexts()) {
        INFO("corpus " << c.name);
        std::vector<std::string> common{"--format", "docker", "--build-arg", "BASE=localhost/build-base:1"};
        auto from_cf = common;
        if (!c.target.empty()) from_cf.insert(from_cf.end(), {"--target", c.target});
        from_cf.insert(from_cf.end(), {"-t", "localhost/cf-" + c.name + ":1", c.context});
        build_ok(from_cf);

        std::string bf = tmp_dir() + "/Bockfile-" + c.name + ".yaml";
        REQUIRE(fs::write_file(bf, bockfile_for(c.name)));
        auto from_bf = common;
        from_bf.insert(from_bf.end(), {"-f", bf, "-t", "localhost/bf-" + c.name + ":1", c.context});
        std::string out;
        build_ok(from_bf, &out);
        if (c.name == "multi") CHECK(out.find("exit 3") == std::string::npos);  // the unused stage is skipped

        auto theirs = saved_flat("localhost/cf-" + c.name + ":1", "cf-" + c.name);
        auto mine = saved_flat("localhost/bf-" + c.name + ":1", "bf-" + c.name);
        CHECK(mine == theirs);
        CHECK((mine.find("\"StopSignal\"") != std::string::npos || c.name != "single"));

        // --print-containerfile: a Containerfile that builds to the same image.
        auto p = cli({"build", "--print-containerfile", "-f", bf, c.context});
        INFO(p.err);
        REQUIRE(p.code == 0);
        std::string printed = tmp_dir() + "/Printed-" + c.name;
        REQUIRE(fs::write_file(printed, p.out));
        auto from_printed = common;
        from_printed.insert(from_printed.end(), {"-f", printed, "-t", "localhost/printed-" + c.name + ":1", c.context});
        build_ok(from_printed);
        CHECK(saved_flat("localhost/printed-" + c.name + ":1", "printed-" + c.name) == theirs);
    }

    // The default file name, and bock-runtime build (the same code): the
    // same image id as bock build, from the cache.
    auto ctx = tmp_dir() + "/default-name";
    REQUIRE(fs::mkdir_p(ctx));
    REQUIRE(fs::write_file(ctx + "/Bockfile.yaml", "version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n"
                                                   "      - run: echo built-by-default > /made\n"));
    auto id = build_ok({"-t", "localhost/default:1", ctx});
    auto rt = run({bin("bock-runtime"), "build", "-t", "localhost/default:2", ctx});
    INFO(rt.out << rt.err);
    REQUIRE(rt.code == 0);
    CHECK(lines(rt.out).back() == id);
    CHECK(rt.out.find("Using cache") != std::string::npos);
    auto seen = cli({"run", "--rm", "localhost/default:2", "cat", "/made"});
    CHECK(seen.out == "built-by-default\n");
}

void check_bockfile_errors_and_security() {
    build_base_image();
    auto before = images_named("localhost/bad").size();
    std::string dir = tmp_dir() + "/bad";
    REQUIRE(fs::mkdir_p(dir));
    struct Bad {
        const char* text;
        const char* expect;
    };
    const Bad bad[] = {
        // line 5, column 24: the key `dst`
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - copy: {src: a, dst: b}\n",
         "Bockfile.yaml:5:24: unknown key `dst` in copy"},
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - run: {command: x, network: lots}\n",
         "Bockfile.yaml:5:36: run.network must be none or default"},
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps: {run: x}\n", "Bockfile.yaml:4:12: `steps` must be a list"},
        {"version: \"1\"\nstages:\n  - steps: []\n", "Bockfile.yaml:3:5: the stage names no base image"},
        {"from: localhost/build-base:1\nstages: []\n", "Bockfile.yaml:1:1: the Bockfile needs `version`"},
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - run: [unclosed\n", "Bockfile.yaml:6:1:"},
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - run: echo ok\nruntime:\n  user: app\n"
         "security:\n  read_only_rootfs: maybe\n",
         "Bockfile.yaml:9:21: `security.read_only_rootfs` must be true or false"},
        // security.non_root with the base's root user: the build fails at the key.
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - run: echo ok\nsecurity:\n  non_root: true\n",
         "Bockfile.yaml:7:3: security.non_root: the image's user is not set (root)"},
        {"version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - user: \"0:0\"\nsecurity:\n  non_root: true\n",
         "Bockfile.yaml:7:3: security.non_root: the image's user is `0:0` (root)"},
    };
    for (const auto& b : bad) {
        INFO(b.text);
        REQUIRE(fs::write_file(dir + "/Bockfile.yaml", b.text));
        auto r = cli({"build", "-t", "localhost/bad:1", dir});
        CHECK(r.code != 0);
        CHECK(r.err.find(b.expect) != std::string::npos);
        CHECK(r.err.find("bock: hint: ") != std::string::npos);
    }
    CHECK(images_named("localhost/bad").size() == before);

    // security: labels in the image, applied by bock run unless overridden.
    REQUIRE(fs::write_file(dir + "/Bockfile.yaml",
                           "version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n      - run: echo ok > /ok\n"
                           "runtime:\n  user: \"1000\"\n"
                           "security:\n  capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n  seccomp: default\n"
                           "  read_only_rootfs: true\n  non_root: true\n"));
    auto p = cli({"build", "--print-containerfile", dir});
    CHECK(p.out.find("#   read-only root filesystem: yes\n") != std::string::npos);
    CHECK(p.out.find("io.bock.security.read_only_rootfs=\"true\"") != std::string::npos);
    build_ok({"-t", "localhost/secure:1", dir});
    const std::string probe = "touch /written 2>/dev/null && echo rw || echo ro; grep CapBnd /proc/self/status";
    auto r = cli({"run", "--rm", "-u", "0", "localhost/secure:1", "sh", "-c", probe});
    INFO(r.err);
    CHECK(r.out == "ro\nCapBnd:\t0000000000000400\n");  // NET_BIND_SERVICE only
    auto rw = cli({"run", "--rm", "-u", "0", "--read-only=false", "--cap-drop", "NET_RAW", "localhost/secure:1", "sh", "-c", probe});
    INFO(rw.err);
    CHECK(rw.out.substr(0, 3) == "rw\n");
    CHECK(rw.out != "rw\nCapBnd:\t0000000000000400\n");  // the command line's drop list wins
    // The negative control: the same base without the labels is writable.
    auto plain = cli({"run", "--rm", "-u", "0", "localhost/build-base:1", "sh", "-c", probe});
    CHECK(plain.out.substr(0, 3) == "rw\n");
}

void check_build_outputs_and_shared_cache() {
    build_base_image();
    std::string ctx = tmp_dir() + "/out-ctx";
    REQUIRE(fs::mkdir_p(ctx));
    REQUIRE(fs::write_file(ctx + "/hello.txt", "hello\n"));
    REQUIRE(fs::write_file(ctx + "/Bockfile.yaml",
                           "version: \"1\"\nfrom: localhost/build-base:1\nstages:\n  - steps:\n"
                           "      - copy: {src: hello.txt, dest: /srv/hello.txt}\n"
                           "      - run: echo RAN-STEP-$((10+1)) && echo one > /srv/one\n"
                           "      - run: echo RAN-STEP-$((10+2)) && echo two > /srv/two\n"
                           "runtime:\n  cmd: [cat, /srv/hello.txt]\n"));
    std::string o = tmp_dir() + "/outputs";
    REQUIRE(fs::mkdir_p(o));
    std::string out;
    auto id = build_ok({"-t", "localhost/outs:1", "--output", "type=oci,dest=" + o + "/layout", "--output", "type=oci,dest=" + o + "/oci.tar",
                        "--output", "type=docker,dest=" + o + "/docker.tar", "--output", "type=tar,dest=" + o + "/rootfs.tar",
                        "--output", "type=local,dest=" + o + "/rootfs", "--cache-to", "type=local,dest=" + o + "/cache", ctx},
                       &out);
    CHECK(ran(out) == 2);
    // oci: a layout directory and an archive, both loadable; docker: `docker save`'s form.
    CHECK(fs::exists(o + "/layout/index.json"));
    auto tl = run({"tar", "-tf", o + "/oci.tar"});
    CHECK(tl.out.find("index.json") != std::string::npos);
    auto td = run({"tar", "-tf", o + "/docker.tar"});
    CHECK(td.out.find("manifest.json") != std::string::npos);
    for (const auto& src : {o + "/oci.tar", o + "/docker.tar"}) {
        auto l = cli({"load", "-i", src});
        INFO(l.err);
        CHECK(l.code == 0);
    }
    // tar: the flattened root as a tarball; local: the root as a directory.
    auto tt = run({"tar", "-xOf", o + "/rootfs.tar", "./srv/two"});
    if (tt.code != 0) tt = run({"tar", "-xOf", o + "/rootfs.tar", "srv/two"});
    CHECK(tt.out == "two\n");
    CHECK(run({"tar", "-tf", o + "/rootfs.tar"}).out.find("bin/busybox") != std::string::npos);
    CHECK(fs::read_file(o + "/rootfs/srv/hello.txt").value_or("") == "hello\n");
    CHECK(fs::read_file(o + "/rootfs/srv/one").value_or("") == "one\n");
    // A bad --output is refused before the first step.
    for (const auto& spec : {std::string("type=zip,dest=x"), "type=local,dest=" + o + "/rootfs"}) {
        auto bad = cli({"build", "--output", spec, ctx});
        CHECK(bad.code != 0);
        CHECK(bad.out.find("STEP 1/") == std::string::npos);
        CHECK((bad.err.find("unknown type `zip`") != std::string::npos || bad.err.find("is not an empty directory") != std::string::npos));
    }

    // --cache-from in an empty store: every layer from the layout, no RUN runs.
    OtherStore s2("empty");
    const auto env2 = s2.env();
    std::string base_tar = tmp_dir() + "/base-for-cache.tar";
    REQUIRE(cli({"save", "-o", base_tar, "localhost/build-base:1"}).code == 0);
    REQUIRE(cli({"load", "-i", base_tar}, env2).code == 0);
    std::string out2;
    auto id2 = build_ok({"-t", "localhost/outs:1", "--cache-from", "type=local,src=" + o + "/cache", ctx}, &out2, env2);
    CHECK(id2 == id);
    CHECK(ran(out2) == 0);
    CHECK(count(out2, "Using cache") == 4);  // COPY, two RUNs, the final config
    auto ls = cli({"build", "cache", "ls"}, env2);
    CHECK(lines(ls.out).back() == "4 entries");
    // Without the cache the same build runs its steps (the control).
    std::string out3;
    build_ok({"--no-cache", "-t", "localhost/outs:2", ctx}, &out3, env2);
    CHECK(ran(out3) == 2);
    // bock-runtime cache list|prune|clear: the same code as bock build cache.
    auto rl = run({bin("bock-runtime"), "cache", "list"}, std::nullopt, env2);
    CHECK(rl.code == 0);
    CHECK(rl.out.find("entries") != std::string::npos);
    auto rc = run({bin("bock-runtime"), "cache", "clear"}, std::nullopt, env2);
    INFO(rc.err);
    CHECK(rc.code == 0);
    CHECK(lines(cli({"build", "cache", "ls"}, env2).out).back() == "0 entries");
    auto ri = run({bin("bock-runtime"), "inspect", "localhost/outs:1"}, std::nullopt, env2);
    INFO(ri.err);
    CHECK(ri.code == 0);
    CHECK(ri.out.find(id) != std::string::npos);
    auto rb = run({bin("bock-runtime"), "frobnicate"});
    CHECK(rb.code == 125);

    // --push to a registry, then a pull into another store.
    {
        LocalRegistry reg;
        std::string name = reg.host() + "/bockfile/outs:1";
        std::string pout;
        build_ok({"-t", name, "--push", ctx}, &pout);
        CHECK(pout.find("--> pushed " + name + "@sha256:") != std::string::npos);
        OtherStore s3("puller");
        const auto env3 = s3.env();
        auto pl = cli({"pull", name}, env3);
        INFO(pl.err);
        REQUIRE(pl.code == 0);
        auto seen = cli({"run", "--rm", name}, env3);
        CHECK(seen.out == "hello\n");
        auto rp = run({bin("bock-runtime"), "push", "localhost/outs:1", reg.host() + "/bockfile/again:1"});
        INFO(rp.err);
        CHECK(rp.code == 0);
        // A registry as the shared cache: every entry pushed as a tag, then
        // a build in an empty store takes every layer from it.
        std::string cref = "type=registry,ref=" + reg.host() + "/bockfile/cache";
        build_ok({"-t", "localhost/outs:1", "--cache-to", cref, ctx});
        OtherStore s4("registry-cache");
        const auto env4 = s4.env();
        REQUIRE(cli({"load", "-i", base_tar}, env4).code == 0);
        std::string out4;
        auto id4 = build_ok({"-t", "localhost/outs:1", "--cache-from", cref, ctx}, &out4, env4);
        CHECK(id4 == id);
        CHECK(ran(out4) == 0);
        CHECK(count(out4, "Using cache") == 4);
    }
    cli({"unshare", "rm", "-rf", o + "/rootfs"});
}

}  // namespace bock::test

#include "build_scenarios.hpp"

#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "net_fixtures.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

struct Corpus {
    const char* name;
    const char* containerfile;
    std::vector<std::pair<const char*, const char*>> files;  // context files
    const char* target = nullptr;
    // Lines only bock's image has, by design: buildah 1.28 does not create a
    // WORKDIR that no later step uses; Bock does, as BuildKit does.
    std::vector<std::string> bock_only = {};
};

// The base image: busybox, a user and group `app` (1000), files to delete.
std::string base_image() {
    return make_image("localhost/build-base:1",
                      {"text /etc/passwd 0644 0 0 root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000:app:/home/app:/bin/sh\\n\n"
                       "text /etc/group 0644 0 0 root:x:0:\\napp:x:1000:\\n\n"
                       "dir /home/app 0755 1000 1000\n"
                       "text /etc/remove-me 0644 0 0 bye\n"
                       "dir /var/cache/old 0755 0 0\ntext /var/cache/old/a 0644 0 0 a\n"});
}

const std::vector<Corpus>& corpus() {
    static const std::vector<Corpus> c = {
        {"single",
         "# syntax=docker/dockerfile:1\n"
         "# escape=\\\n"
         "ARG BASE\n"
         "FROM ${BASE}\n"
         "ARG VERSION=1.0\n"
         "ARG EMPTY\n"
         "ENV APP_HOME=/srv/app \\\n"
         "    GREETING=\"hello world\"\n"
         "# a comment between instructions\n"
         "ENV DERIVED=${APP_HOME}/v${VERSION} UNSET=${EMPTY:-fallback} ALT=${VERSION:+set}\n"
         "LABEL version=$VERSION description=\"a \\\"quoted\\\" label\" 'single'='$VERSION'\n"
         "WORKDIR $APP_HOME\n"
         "COPY src/ ./src/\n"
         "COPY *.txt notes/\n"
         "COPY --chown=app:app --chmod=0640 config.ini /etc/app/config.ini\n"
         "COPY [\"link-in-context\", \"/srv/app/\"]\n"
         "ADD files.tar /opt/unpacked/\n"
         "RUN rm -f /etc/remove-me && rm -rf /var/cache/old && mkdir -p /var/lib/app \\\n"
         " && echo \"$GREETING $VERSION $DERIVED\" > /var/lib/app/greeting \\\n"
         " && ln -s /var/lib/app/greeting /var/lib/app/link && ln /var/lib/app/greeting /var/lib/app/hard \\\n"
         " && chown -R 1000:1000 /var/lib/app && chmod 0750 /var/lib/app\n"
         "RUN [\"/bin/sh\", \"-c\", \"echo exec-form > /srv/app/exec.txt\"]\n"
         "SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n"
         "RUN echo shell > shell.txt && id -u > /srv/app/uid-root.txt\n"
         "EXPOSE 8080 53/udp\n"
         "VOLUME /data\n"
         "STOPSIGNAL SIGTERM\n"
         "HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q -O- http://localhost:8080/ || exit 1\n"
         "USER app\n"
         "RUN id -u > /home/app/uid.txt\n"
         "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
         "CMD [\"echo hi\"]\n"
         "WORKDIR /srv/app/trailing\n",
         {{"src/main.c", "int main(void) { return 0; }\n"},
          {"src/debug.log", "ignored\n"},
          {"src/keep.log", "kept by a ! pattern\n"},
          {"src/sub/deep.txt", "deep\n"},
          {"a.txt", "a\n"},
          {"b.txt", "b\n"},
          {"secret.txt", "never copied\n"},
          {"config.ini", "[app]\nkey=value\n"},
          {".dockerignore", "**/*.log\n!src/keep.log\nsecret.txt\n"}},
         nullptr,
         {"/srv/app/trailing d 0755 0 0 0 "}},
        {"multi",
         "ARG BASE\n"
         "FROM ${BASE} AS builder\n"
         "RUN mkdir -p /out && echo built > /out/artifact && chown 1000:1000 /out/artifact\n"
         "FROM ${BASE} AS unused\n"
         "RUN exit 3\n"
         "FROM ${BASE} AS tools\n"
         "COPY tool.sh /usr/local/bin/tool\n"
         "FROM builder AS final\n"
         "COPY --from=tools /usr/local/bin/tool /usr/local/bin/\n"
         "COPY --from=builder /out/ /opt/out/\n"
         "COPY --from=0 /out/artifact /copied-by-index\n"
         "RUN rm /bin/vi && rm -rf /home/app\n"
         "CMD [\"/usr/local/bin/tool\"]\n"
         "FROM ${BASE} AS after\n"
         "RUN exit 4\n",
         {{"tool.sh", "#!/bin/sh\necho tool\n"}},
         "final"},
    };
    return c;
}

std::string write_context(const Corpus& c) {
    std::string dir = tmp_dir() + "/ctx-" + c.name;
    REQUIRE(fs::remove_all(dir));
    REQUIRE(fs::mkdir_p(dir));
    REQUIRE(fs::write_file(dir + "/Containerfile", c.containerfile));
    for (const auto& [path, content] : c.files) {
        std::string p = dir + "/" + path;
        REQUIRE(fs::mkdir_p(p.substr(0, p.rfind('/'))));
        REQUIRE(fs::write_file(p, content));
    }
    if (std::string(c.name) == "single") {
        REQUIRE(::symlink("src/main.c", (dir + "/link-in-context").c_str()) == 0);
        REQUIRE(::chmod((dir + "/src/main.c").c_str(), 0755) == 0);
        REQUIRE(::link((dir + "/src/main.c").c_str(), (dir + "/src/main-hard.c").c_str()) == 0);  // COPY keeps the link
        REQUIRE(fs::mkdir_p(dir + "/tarsrc/inner"));
        REQUIRE(fs::write_file(dir + "/tarsrc/inner/x", "from the tar\n"));
        auto t = run({"tar", "--owner=0", "--group=0", "--numeric-owner", "-cf", dir + "/files.tar", "-C", dir + "/tarsrc", "."});
        REQUIRE(t.code == 0);
        REQUIRE(fs::remove_all(dir + "/tarsrc"));
    }
    return dir;
}

std::string flatten(const std::string& archive, bool leftovers) {
    std::vector<std::string> argv{"python3", env_or("BOCK_TEST_SRC", ".") + "/tests/lib/flatten_image.py", archive};
    if (leftovers) argv.push_back("--leftovers");
    auto r = run(argv);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r.out;
}

// buildah with its own storage in the test's directory, chroot isolation
// (no OCI runtime: crun refuses this host's hybrid cgroups).
Run buildah(const std::vector<std::string>& args) {
    std::string d = tmp_dir() + "/buildah";
    std::vector<std::string> argv{"buildah", "--root", d + "/root", "--runroot", d + "/run", "--storage-driver", "vfs"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, std::nullopt, {"BUILDAH_ISOLATION=chroot", "XDG_RUNTIME_DIR=" + d + "/xdg", "HOME=" + d + "/home"});
}

std::string bock_build(const std::string& ctx, const std::vector<std::string>& extra, std::string* out = nullptr) {
    std::vector<std::string> argv{"build", "--format", "docker", "--build-arg", "BASE=localhost/build-base:1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(ctx);
    auto r = cli(argv);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    if (out) *out = r.out;
    auto l = lines(r.out);
    REQUIRE(!l.empty());
    return l.back();
}

int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) n++;
    return n;
}

}  // namespace

std::vector<BuildCorpusCase> build_corpus_contexts() {
    std::vector<BuildCorpusCase> out;
    for (const auto& c : corpus()) out.push_back({c.name, c.containerfile, c.target ? c.target : "", write_context(c)});
    return out;
}

std::string build_base_image() { return base_image(); }

std::string flatten_image_archive(const std::string& archive) { return flatten(archive, false); }

void check_build_equals_buildah() {
    if (run({"sh", "-c", "command -v buildah"}).code != 0) skip("buildah is not installed (apt-get install buildah)");
    base_image();
    std::string base_tar = tmp_dir() + "/base.tar";
    REQUIRE(cli({"save", "-o", base_tar, "localhost/build-base:1"}).code == 0);
    REQUIRE(fs::mkdir_p(tmp_dir() + "/buildah/xdg"));
    for (const auto& c : corpus()) {
        INFO("corpus " << c.name);
        auto ctx = write_context(c);
        std::vector<std::string> extra;
        if (c.target) extra = {"--target", c.target};
        std::string name = std::string("localhost/corpus-") + c.name + ":1";
        extra.push_back("-t");
        extra.push_back(name);
        bock_build(ctx, extra);
        std::string bock_tar = tmp_dir() + "/bock-" + c.name + ".tar";
        REQUIRE(cli({"save", "-o", bock_tar, name}).code == 0);

        std::vector<std::string> bargs{"bud", "--layers", "--format", "docker", "--build-arg", "BASE=oci-archive:" + base_tar, "-t", name};
        if (c.target) bargs.insert(bargs.end(), {"--target", c.target});
        bargs.push_back(ctx);
        auto b = buildah(bargs);
        INFO("buildah: " << b.out << b.err);
        REQUIRE(b.code == 0);
        std::string bh_tar = tmp_dir() + "/buildah-" + c.name + ".tar";
        auto p = buildah({"push", "--format", "docker", name, "oci-archive:" + bh_tar});
        INFO(p.err);
        REQUIRE(p.code == 0);
        auto mine = flatten(bock_tar, false);
        auto theirs = flatten(bh_tar, true);
        // The lines each side has that the other lacks.
        for (const auto& l : c.bock_only) {
            auto at = mine.find(l + "\n");
            CHECK(at != std::string::npos);
            if (at != std::string::npos) mine.erase(at, l.size() + 1);
        }
        auto ml = lines(mine), tl = lines(theirs);
        std::string only_bock, only_buildah;
        for (const auto& l : ml)
            if (std::find(tl.begin(), tl.end(), l) == tl.end()) only_bock += l + "\n";
        for (const auto& l : tl)
            if (std::find(ml.begin(), ml.end(), l) == ml.end()) only_buildah += l + "\n";
        INFO("only in bock's image:\n" << only_bock << "only in buildah's image:\n" << only_buildah);
        CHECK(mine == theirs);
        // Facts that must hold whatever buildah does.
        if (std::string(c.name) == "single") {
            CHECK(mine.find("/srv/app/src/debug.log") == std::string::npos);
            CHECK(mine.find("/srv/app/src/keep.log") != std::string::npos);
            CHECK(mine.find("secret.txt") == std::string::npos);
            CHECK(mine.find("/etc/remove-me") == std::string::npos);
            CHECK(mine.find("/etc/app/config.ini f 0640 1000 1000") != std::string::npos);
            // The RUN step's hardlink is one group of two (flatten_image.py's `=FIRST`).
            CHECK(count(mine, " =/var/lib/app/greeting\n") == 2);
            CHECK(count(mine, " =/srv/app/src/main-hard.c\n") == 2);  // and COPY's
        }
    }
}

void check_build_cache() {
    base_image();
    auto ctx = write_context(corpus()[0]);
    std::string out1, out2, out3, out4;
    auto id1 = bock_build(ctx, {"-t", "localhost/cached:1"}, &out1);
    auto before = images_named("").size();
    auto id2 = bock_build(ctx, {"-t", "localhost/cached:2"}, &out2);
    CHECK(id1 == id2);
    CHECK(images_named("").size() == before);
    CHECK(count(out2, "Using cache") == count(out1, "--> ") - 1);  // every step, and the final commit

    // The file of the third COPY changes: the steps before it come from the cache.
    REQUIRE(fs::write_file(ctx + "/config.ini", "[app]\nkey=changed\n"));
    auto id3 = bock_build(ctx, {"-t", "localhost/cached:3"}, &out3);
    CHECK(id3 != id1);
    auto copy_at = out3.find("COPY --chown=app:app");
    REQUIRE(copy_at != std::string::npos);
    CHECK(count(out3.substr(0, copy_at), "Using cache") == 3);  // WORKDIR and two COPYs
    CHECK(count(out3.substr(copy_at), "Using cache") == 0);
    auto r = cli({"run", "--rm", "-u", "0", "localhost/cached:3", "cat /etc/app/config.ini"});
    INFO(r.err);
    CHECK(r.out == "[app]\nkey=changed\n");

    auto id4 = bock_build(ctx, {"--no-cache", "-t", "localhost/cached:4"}, &out4);
    CHECK(count(out4, "Using cache") == 0);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());

    // bock build cache ls|prune: entries listed; pruning by age keeps recent
    // ones; pruning all removes the cache's dangling images, not tagged ones.
    auto ls = cli({"build", "cache", "ls"});
    REQUIRE(ls.code == 0);
    CHECK(lines(ls.out).size() > 5);
    auto young = cli({"build", "cache", "prune", "--max-age", "1h"});
    CHECK(young.out == "0 cache entries removed\n");
    auto rows_before = lines(cli({"images", "-q"}).out).size();
    auto named_before = images_named("localhost/cached").size();
    auto all = cli({"build", "cache", "prune"});
    REQUIRE(all.code == 0);
    CHECK(lines(cli({"images", "-q"}).out).size() < rows_before);  // the dangling intermediates went
    CHECK(images_named("localhost/cached").size() == named_before);
    std::string out5;
    bock_build(ctx, {"-t", "localhost/cached:5"}, &out5);
    CHECK(count(out5, "Using cache") == 0);

    // Heredocs (buildah 1.28 cannot read them: checked against what they say),
    // -f outside the context, --iidfile.
    std::string hd = tmp_dir() + "/heredoc";
    REQUIRE(fs::mkdir_p(hd + "/ctx"));
    REQUIRE(fs::write_file(hd + "/My.containerfile",
                           "FROM localhost/build-base:1\n"
                           "RUN <<EOF\nset -e\necho line1 > /h1\necho line2 >> /h1\nEOF\n"
                           "COPY <<-CONF /etc/h2.conf\n\tkey=value\n\tother=$HOME\n\tCONF\n"));
    auto h = cli({"build", "-f", hd + "/My.containerfile", "--iidfile", hd + "/iid", "-t", "localhost/heredoc:1", hd + "/ctx"});
    INFO(h.out << h.err);
    REQUIRE(h.code == 0);
    auto iid = fs::read_file(hd + "/iid");
    REQUIRE(iid);
    CHECK(lines(h.out).back() == iid->substr(iid->find(':') + 1));
    auto seen = cli({"run", "--rm", "localhost/heredoc:1", "sh", "-c", "cat /h1 /etc/h2.conf; stat -c %a /etc/h2.conf"});
    CHECK(seen.out == "line1\nline2\nkey=value\nother=$HOME\n644\n");

    // RUN --mount=type=cache keeps its directory across builds (even
    // --no-cache ones); cache and tmpfs mount points leave nothing in the image.
    REQUIRE(fs::write_file(hd + "/Mounts",
                           "FROM localhost/build-base:1\n"
                           "RUN --mount=type=cache,target=/var/cache/thing sh -c 'if [ -f /var/cache/thing/x ]; then "
                           "cat /var/cache/thing/x > /seen; else echo none > /seen; fi; echo kept > /var/cache/thing/x'\n"
                           "RUN --mount=type=tmpfs,target=/scratch/t sh -c 'echo x > /scratch/t/y'\n"));
    REQUIRE(fs::write_file(hd + "/token", "s3cret\n"));
    REQUIRE(fs::write_file(hd + "/Mounts", *fs::read_file(hd + "/Mounts") +
                                               "RUN --mount=type=secret,id=tok cp /run/secrets/tok /got-secret\n"));
    for (const char* expect : {"none\n", "kept\n"}) {
        auto m = cli({"build", "--no-cache", "--secret", "id=tok,src=" + hd + "/token", "-f", hd + "/Mounts", "-t", "localhost/mounts:1", hd + "/ctx"});
        INFO(m.out << m.err);
        REQUIRE(m.code == 0);
        auto v = cli({"run", "--rm", "localhost/mounts:1", "sh", "-c", "cat /seen /got-secret; ls -d /var/cache/thing /scratch /run/secrets 2>&1 | grep -c 'No such'"});
        CHECK(v.out == std::string(expect) + "s3cret\n3\n");
    }
}

void check_build_errors_and_crash() {
    base_image();
    auto images_before = images_named("").size();
    struct Bad {
        const char* text;
        const char* expect;  // in the error
    };
    const Bad bad[] = {
        {"FROM localhost/build-base:1\nFORM x\n", "Containerfile:2: unknown instruction `FORM`"},
        {"RUN echo hi\n", "Containerfile:1: RUN before the first FROM"},
        {"FROM localhost/build-base:1\nCOPY --frm=x a b\n", "Containerfile:2: COPY does not take the flag `--frm=x`"},
        {"FROM localhost/build-base:1\nHEALTHCHECK --interval=soon CMD true\n", "Containerfile:2: invalid duration `soon`"},
        {"FROM localhost/build-base:1\nSHELL /bin/bash\n", "Containerfile:2: SHELL needs a JSON array"},
        {"FROM localhost/build-base:1 AS a\nFROM localhost/build-base:1 AS a\n", "the stage name `a` is used twice"},
        {"# comment only\n\n", "no FROM instruction"},
        {"FROM localhost/build-base:1\nCOPY missing.txt /x\n", "Containerfile:2: `missing.txt`: no such file"},
        {"FROM localhost/build-base:1\nCOPY ../outside /x\n", "points outside the build context"},
        {"FROM localhost/build-base:1\nENV A=${B\n", "Containerfile:2:"},
        {"FROM localhost/build-base:1\nRUN <<EOF\necho unterminated\n", "the heredoc <<EOF is not closed"},
        {"FROM localhost/build-base:1\nADD http://127.0.0.1:1/x /x\n", "Containerfile:2: download `http://127.0.0.1:1/x`"},
        {"FROM localhost/build-base:1\nCOPY http://127.0.0.1:1/x /x\n", "COPY takes files from the build context, not URLs"},
        {"FROM localhost/no-such-image:1\n", "Containerfile:1:"},
        {"FROM localhost/build-base:1\nEXPOSE 80/bogus\n", "invalid port"},
    };
    for (const auto& b : bad) {
        INFO(b.text);
        std::string ctx = tmp_dir() + "/bad";
        REQUIRE(fs::mkdir_p(ctx));
        REQUIRE(fs::write_file(ctx + "/Containerfile", b.text));
        auto r = cli({"build", ctx});
        INFO(r.err);
        CHECK(r.code != 0);
        CHECK(r.err.find(b.expect) != std::string::npos);
        CHECK(r.err.find("bock: error: ") != std::string::npos);
    }
    CHECK(images_named("").size() == images_before);

    // A failing RUN: its output, its place, exit 1, nothing left.
    std::string ctx = tmp_dir() + "/fail";
    REQUIRE(fs::mkdir_p(ctx));
    REQUIRE(fs::write_file(ctx + "/Containerfile", "FROM localhost/build-base:1\nRUN echo out-of-step; exit 7\n"));
    auto r = cli({"build", "-t", "localhost/failed:1", ctx});
    CHECK(r.code == 1);
    CHECK(r.out.find("out-of-step") != std::string::npos);
    CHECK(r.err.find("Containerfile:2: `RUN echo out-of-step; exit 7` exited with status 7") != std::string::npos);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
    CHECK(images_named("localhost/failed").empty());

    // Ctrl-C during a RUN step: the step's process gets it, the build stops
    // and leaves no container, no mount and no image.
    REQUIRE(fs::write_file(ctx + "/Containerfile", "FROM localhost/build-base:1\nRUN echo started; sleep 30\nRUN echo never\n"));
    auto i = run({"sh", "-c",
                  "\"$0\" build -t localhost/interrupted:1 \"$1\" > \"$1/out\" 2>&1 & p=$!; "
                  "for n in $(seq 100); do grep -q started \"$1/out\" && break; sleep 0.1; done; "
                  "kill -INT $p; wait $p; echo rc=$?",
                  bin("bock"), ctx});
    INFO(i.out << i.err << *fs::read_file(ctx + "/out"));
    CHECK(i.out.find("rc=0") == std::string::npos);
    CHECK(fs::read_file(ctx + "/out")->find("never") == std::string::npos);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
    CHECK(images_named("localhost/interrupted").empty());
    auto mounts = fs::read_file("/proc/self/mountinfo");
    CHECK(mounts->find(env_or("BOCK_RUNROOT", "/nonexistent") + "/containers/") == std::string::npos);

    // Killed at each of the commit's named points: no image, and the next
    // build removes the dead step's container and succeeds.
    REQUIRE(fs::write_file(ctx + "/Containerfile", "FROM localhost/build-base:1\nRUN echo x > /x\n"));
    for (const char* point : {"commit-blob-partial", "commit-layer-written", "commit-before-index"}) {
        INFO(point);
        auto k = cli({"build", "--no-cache", "-t", "localhost/killed:1", ctx}, {std::string("BOCK_TEST_KILL_POINT=") + point});
        CHECK(k.code != 0);
        CHECK(images_named("localhost/killed").empty());
        auto again = cli({"build", "-t", "localhost/killed:1", ctx});
        INFO(again.err);
        CHECK(again.code == 0);
        CHECK(images_named("localhost/killed").size() == 1);
        CHECK(cli({"ps", "-a", "-q"}).out.empty());
        REQUIRE(cli({"rmi", "localhost/killed:1"}).code == 0);
    }
}

void check_build_run_network_and_bind() {  // and the steps' security profile
    base_image();
    // The test's own server on the host's loopback: reached from a step
    // through the default network's gateway (bock.conf: slirp4netns with
    // host loopback allowed), or on 127.0.0.1 with the host's network.
    std::string dir = tmp_dir() + "/netbind";
    REQUIRE(fs::mkdir_p(dir + "/www", 0755));
    REQUIRE(fs::mkdir_p(dir + "/ctx/src", 0755));
    REQUIRE(fs::write_file(dir + "/www/hello.txt", "hello from the host\n"));
    uint16_t port = lo_free_port();
    Pid httpd = loopback_httpd(dir + "/www", port);
    const std::string url = fmt::format("http://127.0.0.1:{}/hello.txt", port);
    for (int i = 0; i < 100 && run({"/bin/busybox", "wget", "-qO-", url}).code != 0; ++i) ::usleep(50000);
    REQUIRE(fs::write_file(dir + "/bock.conf",
                           "[network]\ndefault_network = \"slirp4netns:allow_host_loopback=true\"\ndns_upstream = \"127.0.0.1:9\"\n"));
    const std::vector<std::string> conf = {"BOCK_CONFIG=" + dir + "/bock.conf"};
    std::string gw = fmt::format("timeout 10 wget -qO- http://10.0.2.2:{}/hello.txt", port);
    REQUIRE(fs::write_file(dir + "/ctx/src/a.txt", "context one\n"));
    REQUIRE(fs::write_file(dir + "/ctx/Containerfile",
                           "FROM localhost/build-base:1 AS data\n"
                           "RUN mkdir /data && echo from-stage > /data/s.txt\n"
                           "FROM localhost/build-base:1\n"
                           "RUN --network=none sh -c '" + gw + " > /net-none 2>&1 || echo none-failed > /net-none'\n"
                           "RUN " + gw + " > /net-default && grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status > /sec\n"
                           "RUN --network=host wget -qO- " + url + " > /net-host\n"
                           "RUN --mount=type=bind,from=data,source=/data/s.txt,target=/etc/s.txt cat /etc/s.txt > /bound-stage\n"
                           "RUN --mount=type=bind,source=src,target=/ctx sh -c 'cat /ctx/a.txt > /bound-ctx; "
                           "touch /ctx/w 2>/dev/null && echo writable >> /bound-ctx || echo read-only >> /bound-ctx'\n"
                           "RUN --mount=type=bind,target=/whole cat /whole/src/a.txt > /bound-whole\n"));
    const std::string show = "cat /sec /net-none /net-default /net-host /bound-stage /bound-ctx /bound-whole; "
                             "ls -d /ctx /whole /etc/s.txt /etc/hosts /etc/resolv.conf 2>&1 | grep -c 'No such'";
    auto b = cli({"build", "-t", "localhost/netbind:1", dir + "/ctx"}, conf);
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    auto v = cli({"run", "--rm", "--network", "none", "localhost/netbind:1", "sh", "-c", show});
    INFO(v.err);
    // Steps run with bock run's security profile (seccomp filter, no_new_privs).
    CHECK(v.out == "NoNewPrivs:\t1\nSeccomp:\t2\nnone-failed\nhello from the host\nhello from the host\nfrom-stage\ncontext one\nread-only\ncontext one\n5\n");
    CHECK(!fs::exists(dir + "/ctx/src/w"));
    // What a bind shows is in the cache key: a changed file reruns the
    // steps from the first bind that shows it; the network steps are cached.
    REQUIRE(fs::write_file(dir + "/ctx/src/a.txt", "context two\n"));
    auto again = cli({"build", "-t", "localhost/netbind:1", dir + "/ctx"}, conf);
    INFO(again.out << again.err);
    REQUIRE(again.code == 0);
    CHECK(count(again.out, "Using cache") == 5);
    v = cli({"run", "--rm", "--network", "none", "localhost/netbind:1", "sh", "-c", "cat /bound-ctx /bound-whole"});
    CHECK(v.out == "context two\nread-only\ncontext two\n");
    // bock build --network: the network of RUN steps without the flag;
    // --build-arg-file (comments and blank lines skipped; --build-arg wins).
    REQUIRE(fs::write_file(dir + "/args", "# build args\nWHO=file\n\nWHAT=file\n"));
    REQUIRE(fs::write_file(dir + "/ctx/Containerfile",
                           "FROM localhost/build-base:1\nARG WHO\nARG WHAT\n"
                           "RUN sh -c '" + gw + " > /n 2>&1 || echo none-failed > /n; echo $WHO $WHAT >> /n'\n"));
    auto nb = cli({"build", "--network", "none", "--build-arg-file", dir + "/args", "--build-arg", "WHAT=flag", "-t",
                   "localhost/netbind:2", dir + "/ctx"}, conf);
    INFO(nb.out << nb.err);
    REQUIRE(nb.code == 0);
    CHECK(cli({"run", "--rm", "--network", "none", "localhost/netbind:2", "cat", "/n"}).out == "none-failed\nfile flag\n");
    auto badnet = cli({"build", "--network", "bridge", dir + "/ctx"}, conf);
    CHECK(badnet.code != 0);
    CHECK(badnet.err.find("--network bridge: not a network build steps can use") != std::string::npos);
    REQUIRE(fs::write_file(dir + "/args", "not a pair\n"));
    auto badargs = cli({"build", "--build-arg-file", dir + "/args", dir + "/ctx"}, conf);
    CHECK(badargs.code != 0);
    CHECK(badargs.err.find(":1: `not a pair` is not KEY=VALUE") != std::string::npos);
    // Refused with a message: a writable bind, a missing source, an unknown network.
    for (auto [line, expect] : std::vector<std::pair<std::string, std::string>>{
             {"RUN --mount=type=bind,source=src,target=/x,rw true", "Bock binds read-only"},
             {"RUN --mount=type=bind,source=nope,target=/x true", "Containerfile:2: RUN --mount=type=bind: `nope`"},
             {"RUN --network=bridge true", "Containerfile:2: RUN --network=bridge"}}) {
        REQUIRE(fs::write_file(dir + "/ctx/Containerfile", "FROM localhost/build-base:1\n" + line + "\n"));
        auto r = cli({"build", dir + "/ctx"}, conf);
        INFO(line << "\n" << r.err);
        CHECK(r.code != 0);
        CHECK(r.err.find(expect) != std::string::npos);
    }
    // ADD URL: downloaded by bock from the test's loopback server, mode
    // 0600, named by the URL in a directory; --checksum checked before
    // anything is written (a wrong one fails and tags nothing).
    auto sum = run({"/usr/bin/sha256sum", dir + "/www/hello.txt"});
    REQUIRE(sum.out.size() >= 64);
    std::string digest = "sha256:" + sum.out.substr(0, 64);
    REQUIRE(fs::write_file(dir + "/ctx/Containerfile", "FROM localhost/build-base:1\nADD " + url +
                                                           " /dl/\nADD --checksum=" + digest + " " + url +
                                                           " /named.txt\n"));
    auto add = cli({"build", "-t", "localhost/addurl:1", dir + "/ctx"}, conf);
    INFO(add.out << add.err);
    REQUIRE(add.code == 0);
    auto got = cli({"run", "--rm", "--network", "none", "localhost/addurl:1", "sh", "-c",
                    "stat -c '%a %n' /dl/hello.txt /named.txt; cat /named.txt"});
    CHECK(got.out == "600 /dl/hello.txt\n600 /named.txt\nhello from the host\n");
    REQUIRE(fs::write_file(dir + "/ctx/Containerfile", "FROM localhost/build-base:1\nADD --checksum=sha256:" +
                                                           std::string(64, '0') + " " + url + " /x\n"));
    auto wrong = cli({"build", "-t", "localhost/addurl:2", dir + "/ctx"}, conf);
    CHECK(wrong.code != 0);
    CHECK(wrong.err.find("Containerfile:2: ADD --checksum: `" + url + "` has the digest " + digest) != std::string::npos);
    CHECK(cli({"image", "inspect", "localhost/addurl:2"}).code != 0);
    // --progress: quiet prints only the id; tty marks each line with the
    // build's elapsed time; a mode it does not know is refused.
    REQUIRE(fs::write_file(dir + "/ctx/Containerfile", "FROM localhost/build-base:1\nRUN echo progress\n"));
    auto q = cli({"build", "--progress", "quiet", dir + "/ctx"}, conf);
    CHECK(q.code == 0);
    CHECK(q.out.find("STEP") == std::string::npos);  // the RUN's own output only, then the id
    CHECK(q.out == "progress\n" + q.out.substr(9, 64) + "\n");
    auto t = cli({"build", "--progress", "tty", dir + "/ctx"}, conf);
    CHECK(t.code == 0);
    INFO(t.out);
    CHECK(t.out.find("s\033[0m \033[1mSTEP 1/2: FROM localhost/build-base:1\033[0m\n") != std::string::npos);
    auto p = cli({"build", "--progress", "fancy", dir + "/ctx"}, conf);
    CHECK(p.code != 0);
    CHECK(p.err.find("--progress") != std::string::npos);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
}

}  // namespace bock::test

// The Bockfile reader: keys, types and places (FILE:LINE:COLUMN), and the
// Containerfile it lowers to, read back by the Containerfile reader.
#include <catch2/catch.hpp>

#include "bock/builder/bockfile.hpp"
#include "bock/builder/expand.hpp"

using namespace bock::builder;

namespace {

std::string error_of(std::string_view text) {
    auto r = parse_bockfile(text, "Bockfile.yaml");
    REQUIRE(!r);
    return r.error().message();
}

const char* kExample = R"(version: "1"
from: localhost/busybox:latest
metadata:
  name: shop-api
  labels: {org.example.team: core}
args:
  VERSION: "1.0"
stages:
  - name: build
    steps:
      - workdir: /src
      - copy: {src: [src/], dest: .}
      - run: make VERSION=${VERSION}
      - run: |
          echo one
          echo two
  - name: final
    steps:
      - copy: {from: build, src: [/out/server], dest: /app/server, chown: "1000:1000"}
      - env: {PATH: '/app:/usr/bin:/bin', QUOTED: 'say "hi" \ $$HOME'}
      - run: {command: ["adduser", "-D", "-u", "1000", "app"], network: none}
runtime:
  entrypoint: ["/app/server"]
  cmd: ["--port", "8080"]
  ports: ["8080/tcp"]
  user: app
  healthcheck: {test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/health"], interval: 5s, retries: 3}
security:
  capabilities: {drop: [ALL], add: [cap_net_bind_service]}
  read_only_rootfs: true
  non_root: true
)";

}  // namespace

TEST_CASE("a Bockfile lowers to the Containerfile instructions, at their places", "[builder]") {
    auto bf = parse_bockfile(kExample, "Bockfile.yaml");
    REQUIRE(bf);
    CHECK(bf->stages.size() == 2);
    CHECK(bf->security.cap_add == std::vector<std::string>{"NET_BIND_SERVICE"});
    CHECK(bf->security.non_root_at.line == 31);
    auto cf = lower_bockfile(*bf);
    REQUIRE(cf);
    REQUIRE(cf->global_args.size() == 1);
    REQUIRE(cf->stages.size() == 2);
    const auto& build = cf->stages[0];
    CHECK(build.name == "build");
    CHECK(build.from.where() == "Bockfile.yaml:9:5");
    // ARG VERSION, WORKDIR, COPY, RUN, RUN (a heredoc)
    REQUIRE(build.body.size() == 5);
    CHECK(build.body[1].keyword == "WORKDIR");
    CHECK(build.body[1].where() == "Bockfile.yaml:11:9");
    CHECK(build.body[2].json == std::vector<std::string>{"src/", "."});
    CHECK(build.body[3].args == "make VERSION=${VERSION}");
    REQUIRE(build.body[4].heredocs.size() == 1);
    CHECK(build.body[4].heredocs[0].content == "echo one\necho two\n");
    const auto& fin = cf->stages[1];
    CHECK(fin.body[1].flag("from") == "build");
    CHECK(fin.body[1].flag("chown") == "1000:1000");
    // The ENV values read back as written; $$ is a literal $.
    auto pairs = expand_pairs(fin.body[2].args, {{"HOME", "/root"}}, '\\', false);
    REQUIRE(pairs);
    REQUIRE(pairs->size() == 2);
    CHECK(*(*pairs)[1].value == "say \"hi\" \\ $HOME");
    CHECK(fin.body[3].flag("network") == "none");
    CHECK(fin.body[3].json == std::vector<std::string>{"adduser", "-D", "-u", "1000", "app"});
    // metadata, runtime and security at the end of the last stage.
    std::string all;
    for (const auto& i : fin.body) all += i.text + "\n";
    CHECK(all.find("LABEL org.opencontainers.image.title=\"shop-api\" org.example.team=\"core\"") != std::string::npos);
    CHECK(all.find("HEALTHCHECK --interval=5s --retries=3 CMD [\"wget\",\"-qO-\",\"http://127.0.0.1:8080/health\"]") != std::string::npos);
    CHECK(all.find("io.bock.security.capabilities.drop=\"ALL\"") != std::string::npos);
    CHECK(all.find("io.bock.security.read_only_rootfs=\"true\"") != std::string::npos);
    // --print-containerfile: security also as comments.
    auto text = bockfile_to_containerfile(*bf, true).text;
    CHECK(text.find("#   read-only root filesystem: yes\n") != std::string::npos);
}

TEST_CASE("Bockfile errors name FILE:LINE:COLUMN and the fix", "[builder]") {
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - steps:\n      - cpy: {src: a, dest: b}\n") ==
          "Bockfile.yaml:5:9: unknown key `cpy` in a step");
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - steps:\n      - copy: {src: a}\n") == "Bockfile.yaml:5:15: copy needs `dest`");
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - steps:\n      - env: [A]\n") ==
          "Bockfile.yaml:5:14: `env` must be a mapping, got a list");
    CHECK(error_of("version: \"2\"\nstages: []\n") == "Bockfile.yaml:1:10: unknown Bockfile version `2`");
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - steps:\n      - env: {A: \"x\\ny\"}\n").find("must be on one line") !=
          std::string::npos);
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - name: Bad\n").find("invalid stage name `Bad`") != std::string::npos);
    CHECK(error_of("version: \"1\"\nfrom: x\nstages:\n  - steps: []\nsecurity: {seccomp: /etc/p.json}\n")
              .find("security.seccomp must be default or unconfined") != std::string::npos);
    CHECK(error_of("- a\n") == "Bockfile.yaml:1:1: a Bockfile is a YAML mapping");
}

TEST_CASE("a Bockfile is told from a Containerfile", "[builder]") {
    CHECK(looks_like_bockfile("x/Bockfile.yaml", "FROM x\n"));
    CHECK(looks_like_bockfile("-", "# comment\n\nversion: \"1\"\n"));
    CHECK(!looks_like_bockfile("Containerfile", "# syntax=x\nFROM busybox\nRUN a:b\n"));
    CHECK(!looks_like_bockfile("Containerfile", "FROM a:b\n"));
}

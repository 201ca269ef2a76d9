// docs/bockfile.schema.json and the reader agree: a Bockfile that uses
// every key the reader knows is read without error, and its keys are
// exactly the schema's (no key missing from either side).
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "bock/builder/bockfile.hpp"
#include "bock/common/fs.hpp"

using namespace bock;
using namespace bock::builder;

namespace {

// Uses every key of the reader (steps in both forms where they have two).
const char* kEveryKey = R"(version: "1"
from: localhost/base:1
metadata: {name: n, description: d, version: "1", labels: {a.b: c}}
args: {A: "1"}
stages:
  - name: one
    from: localhost/base:1
    steps:
      - run: echo hi
      - run: {command: [echo, hi], network: none}
      - copy: {src: [a], dest: /a, from: one, chown: "1:1", chmod: "0644", link: true}
      - add: {src: b.tar, dest: /b, chown: "1:1", chmod: "0644", link: false}
      - env: {E: v}
      - arg: B
      - workdir: /w
      - user: "1000"
      - label: {l: v}
      - expose: [80]
      - volume: [/v]
      - shell: [/bin/sh, -c]
runtime:
  entrypoint: [/e]
  cmd: [c]
  env: {E: v}
  ports: ["80/tcp"]
  volumes: [/v]
  workdir: /w
  user: "1000"
  labels: {l: v}
  stop_signal: SIGTERM
  healthcheck: {test: [CMD, "true"], interval: 1s, timeout: 1s, start_period: 1s, start_interval: 1s, retries: 1}
security:
  capabilities: {drop: [ALL], add: [CHOWN]}
  seccomp: default
  read_only_rootfs: true
  no_new_privileges: true
  non_root: true
)";

// Key paths of the document ("stages[].steps[].copy.from").
void yaml_keys(const YAML::Node& n, const std::string& at, std::set<std::string>& out) {
    if (n.IsMap())
        for (const auto& kv : n) {
            auto k = at.empty() ? kv.first.Scalar() : at + "." + kv.first.Scalar();
            // maps of free names (env, labels, args) stop here
            static const std::set<std::string> free = {"args", "metadata.labels", "runtime.env", "runtime.labels",
                                                       "stages[].steps[].env", "stages[].steps[].label"};
            out.insert(k);
            if (!free.count(k)) yaml_keys(kv.second, k, out);
        }
    else if (n.IsSequence())
        for (const auto& e : n) yaml_keys(e, at + "[]", out);
}

// Key paths the schema names under `properties` (through items and oneOf).
void schema_keys(const nlohmann::json& s, const std::string& at, std::set<std::string>& out) {
    if (!s.is_object()) return;
    if (s.contains("properties"))
        for (const auto& [k, v] : s["properties"].items()) {
            auto p = at.empty() ? k : at + "." + k;
            out.insert(p);
            schema_keys(v, p, out);
        }
    if (s.contains("items")) schema_keys(s["items"], at + "[]", out);
    if (s.contains("oneOf"))
        for (const auto& v : s["oneOf"]) schema_keys(v, at, out);
}

}  // namespace

TEST_CASE("the JSON Schema names every key the Bockfile reader takes", "[builder]") {
    auto bf = parse_bockfile(kEveryKey, "every.yaml");
    INFO((bf ? "" : bf.error().message()));
    REQUIRE(bf);
    REQUIRE(lower_bockfile(*bf));
    auto text = fs::read_file(std::string(BOCK_SOURCE_DIR) + "/docs/bockfile.schema.json");
    REQUIRE(text);
    auto schema = nlohmann::json::parse(*text);
    std::set<std::string> in_file, in_schema;
    yaml_keys(YAML::Load(kEveryKey), "", in_file);
    schema_keys(schema, "", in_schema);
    std::string only_file, only_schema;
    for (const auto& k : in_file)
        if (!in_schema.count(k)) only_file += k + " ";
    for (const auto& k : in_schema)
        if (!in_file.count(k)) only_schema += k + " ";
    INFO("read but not in the schema: " << only_file);
    INFO("in the schema but not used here: " << only_schema);
    CHECK(in_file == in_schema);
}

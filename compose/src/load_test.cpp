// Unit tests of the Compose model: interpolation, .env, merge keys, file
// merging, project names, normalised forms, the hash and dependency order.
#include <cstdlib>

#include <filesystem>
#include <vector>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/compose/model.hpp"
#include "bock/compose/project.hpp"

using namespace bock;
using namespace bock::compose;

namespace {

// A directory of the test's own, removed when the test binary exits.
std::string scratch() {
    static struct Made {
        std::vector<std::string> dirs;
        ~Made() {
            std::error_code ec;
            for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
        }
    } made;
    auto d = fs::make_temp_dir("/tmp", "bockrose-unit-");
    REQUIRE(d);
    made.dirs.push_back(*d);
    return *d;
}

Lookup vars(std::map<std::string, std::string> m) {
    return [m](const std::string& k) -> std::optional<std::string> {
        if (auto it = m.find(k); it != m.end()) return it->second;
        return std::nullopt;
    };
}

}  // namespace

TEST_CASE("interpolation forms", "[compose]") {
    auto l = vars({{"A", "x"}, {"E", ""}});
    CHECK(*interpolate("${A}-$A-$$A", l) == "x-x-$A");
    CHECK(*interpolate("${U:-d}|${E:-d}|${U-d}|${E-d}", l) == "d|d|d|");
    CHECK(*interpolate("${A:?boom}", l) == "x");
    CHECK(*interpolate("${A:+set}${U:+set}", l) == "set");
    CHECK(*interpolate("${U:-${A}y}", l) == "xy");
    auto req = interpolate("${U:?must be set}", l);
    REQUIRE(!req);
    CHECK_THAT(req.error().message(), Catch::Contains("U") && Catch::Contains("must be set"));
    CHECK(!interpolate("${E?x}", l) == false);  // set, even empty: fine for `?`
    CHECK(!interpolate("${E:?x}", l));
    CHECK(!interpolate("${A", l));
    CHECK(!interpolate("${}", l));
    CHECK(*interpolate("cost: 5$", l) == "cost: 5$");
}

TEST_CASE("dotenv and command splitting", "[compose]") {
    auto d = scratch();
    REQUIRE(fs::write_file(d + "/.env", "# comment\nA=1\nexport B = two words \nC=\"q \\\"x\\\"\"\nD='$raw'\nE=v # note\n\n"));
    auto m = read_dotenv(d + "/.env");
    REQUIRE(m);
    CHECK((*m)["A"] == "1");
    CHECK((*m)["B"] == "two words");
    CHECK((*m)["C"] == "q \"x\"");
    CHECK((*m)["D"] == "$raw");
    CHECK((*m)["E"] == "v");
    CHECK(*split_command("sh -c 'echo a b' \"c d\" e\\ f") == std::vector<std::string>{"sh", "-c", "echo a b", "c d", "e f"});
    CHECK(!split_command("echo 'x"));
    CHECK(normalise_project_name("My App.v2") == "myappv2");
    CHECK(normalise_project_name("_x-Y") == "x-y");
    (void)fs::remove_all(d);
}

TEST_CASE("files, override, merge keys, interpolation and the model", "[compose]") {
    auto d = scratch() + "/Shop App";
    REQUIRE(fs::mkdir_p(d));
    REQUIRE(fs::write_file(d + "/.env", "TAG=1.2\nPORT=8080\n"));
    REQUIRE(fs::write_file(d + "/web.env", "FROM_FILE=yes\nMODE=file\n"));
    REQUIRE(fs::write_file(d + "/compose.yaml", R"(
x-common: &common
  restart: unless-stopped
  labels:
    team: shop
services:
  web:
    <<: *common
    image: "busybox:${TAG}"
    command: httpd -f -p 80
    env_file: web.env
    environment:
      - MODE=env
      - EMPTY
    ports: ["${PORT}:80", {target: 443, published: 8443, protocol: tcp}]
    volumes: [data:/data, ./site:/www:ro, /cache]
    depends_on:
      db: {condition: service_healthy}
    healthcheck: {test: "wget -q localhost", interval: 1s, retries: 2}
    stop_grace_period: 1m30s
    bogus_key: 1
  db:
    <<: *common
    image: busybox
    networks:
      back: {aliases: [database]}
    deploy: {replicas: 2}
    price: "$$5"
volumes:
  data: {}
networks:
  back: {}
)"));
    REQUIRE(fs::write_file(d + "/compose.override.yaml", R"(
services:
  web:
    environment: {MODE: override}
    ports: ["9090:90"]
    volumes: ["other:/data"]
volumes:
  other: {external: true}
)"));
    LoadOptions o;
    o.working_directory = d;
    auto p = load_project(o);
    INFO((p ? std::string() : p.error().message()));
    REQUIRE(p);
    CHECK(p->name == "shopapp");
    CHECK(p->files.size() == 2);
    const auto& web = p->services.at("web");
    CHECK(web.image == "busybox:1.2");
    CHECK(web.restart == "unless-stopped");
    CHECK(web.labels.at("team") == "shop");
    CHECK(*web.command == std::vector<std::string>{"httpd", "-f", "-p", "80"});
    CHECK(web.environment.at("MODE") == "override");
    CHECK(web.environment.at("FROM_FILE") == "yes");
    CHECK(!web.environment.at("EMPTY"));
    CHECK(web.ports == std::vector<std::string>{"8080:80", "8443:443/tcp", "9090:90"});
    REQUIRE(web.volumes.size() == 3);  // /data replaced by the override's
    CHECK(web.volumes[0].type == "bind");
    CHECK(web.volumes[0].source == d + "/site");
    CHECK(web.volumes[0].read_only);
    CHECK(web.volumes[1].source.empty());
    CHECK(web.volumes[2].source == "other");
    CHECK(p->volumes.at("other").name == "other");
    CHECK(p->volumes.at("data").name == "shopapp_data");
    CHECK(web.depends_on.at("db").condition == "service_healthy");
    CHECK(web.healthcheck->test == std::vector<std::string>{"CMD-SHELL", "wget -q localhost"});
    CHECK(*web.stop_grace_period == 90);
    CHECK(web.networks.contains("default"));
    const auto& db = p->services.at("db");
    CHECK(db.networks.at("back").aliases == std::vector<std::string>{"database"});
    CHECK(db.replicas == 2);
    CHECK(p->networks.at("back").name == "shopapp_back");
    // The hash follows the config, not the file's spelling.
    auto h = web.config_hash();
    CHECK(h.size() == 64);
    CHECK(h != db.config_hash());
    auto levels = start_levels(*p, {"web"});
    REQUIRE(levels);
    CHECK(*levels == std::vector<std::vector<std::string>>{{"db"}, {"web"}});
    // -p wins; a bad one is refused.
    o.project_name = "other";
    CHECK(load_project(o)->name == "other");
    o.project_name = "Bad Name";
    CHECK(!load_project(o));
    o.project_name.clear();
    ::setenv("COMPOSE_PROJECT_NAME", "fromenv", 1);
    CHECK(load_project(o)->name == "fromenv");
    ::unsetenv("COMPOSE_PROJECT_NAME");
    // The environment wins over .env.
    ::setenv("TAG", "9", 1);
    CHECK(load_project(o)->services.at("web").image == "busybox:9");
    ::unsetenv("TAG");
    // -f: only the files named, merged in order.
    o.files = {"compose.yaml"};
    CHECK(load_project(o)->services.at("web").environment.at("MODE") == "env");
    (void)fs::remove_all(d);
}

TEST_CASE("profiles enable services", "[compose]") {
    auto d = scratch();
    REQUIRE(fs::write_file(d + "/compose.yaml", R"(services:
  app: {image: x}
  debug: {image: x, profiles: [dev]}
  tools: {image: x, profiles: [dev, ops], depends_on: [debug]}
)"));
    LoadOptions o;
    o.working_directory = d;
    auto names = [&]() {
        auto p = load_project(o);
        INFO((p ? std::string() : p.error().message()));
        REQUIRE(p);
        std::vector<std::string> out;
        for (const auto& [k, s] : p->services) out.push_back(k);
        return out;
    };
    CHECK(names() == std::vector<std::string>{"app"});
    o.profiles = {"dev"};
    CHECK(names() == std::vector<std::string>{"app", "debug", "tools"});
    o.profiles = {};
    o.named = {"debug"};
    CHECK(names() == std::vector<std::string>{"app", "debug"});
    o.named = {};
    ::setenv("COMPOSE_PROFILES", "ops", 1);
    auto p = load_project(o);
    ::unsetenv("COMPOSE_PROFILES");
    REQUIRE(!p);
    CHECK_THAT(p.error().message(), Catch::Contains("`tools` depends on `debug`") && Catch::Contains("profile dev"));
    (void)fs::remove_all(d);
}

TEST_CASE("bad files are refused naming the place", "[compose]") {
    auto d = scratch();
    LoadOptions o;
    o.working_directory = d;
    auto none = load_project(o);
    REQUIRE(!none);
    CHECK_THAT(none.error().message(), Catch::Contains("no compose file"));
    auto write = [&](const std::string& text) { REQUIRE(fs::write_file(d + "/compose.yaml", text)); };
    write("services:\n  a:\n    image: [x\n");
    auto syn = load_project(o);
    REQUIRE(!syn);
    CHECK_THAT(syn.error().message(), Catch::Contains("compose.yaml`:"));
    write("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n");
    auto p = load_project(o);
    REQUIRE(p);
    auto cyc = start_levels(*p, {});
    REQUIRE(!cyc);
    CHECK_THAT(cyc.error().message(), Catch::Contains("a -> b -> c -> a"));
    write("services:\n  a: {image: x, depends_on: [nosuch]}\n");
    CHECK_THAT(load_project(o).error().message(), Catch::Contains("undefined service `nosuch`"));
    write("services:\n  a: {image: x, volumes: [undeclared:/d]}\n");
    CHECK_THAT(load_project(o).error().message(), Catch::Contains("undefined volume `undeclared`"));
    write("services:\n  a: {image: x, ports: [{published: 80}]}\n");
    CHECK_THAT(load_project(o).error().message(), Catch::Contains("services.a.ports[0]"));
    write("services:\n  a: {image: \"${NOPE:?set NOPE please}\"}\n");
    CHECK_THAT(load_project(o).error().message(), Catch::Contains("set NOPE please"));
    write("services:\n  a: {image: x, depends_on: {b: {condition: service_bogus}}}\n  b: {image: x}\n");
    CHECK_THAT(load_project(o).error().message(), Catch::Contains("service_bogus"));
    (void)fs::remove_all(d);
}

TEST_CASE("logging, resource limits, volumes_from, secrets and configs", "[compose]") {
    auto d = scratch();
    REQUIRE(fs::write_file(d + "/token.txt", "s3cret\n"));
    REQUIRE(fs::write_file(d + "/app.conf", "level=2\n"));
    REQUIRE(fs::write_file(d + "/compose.yaml", R"(
name: lim
services:
  data:
    image: busybox
    volumes: [/shared]
  app:
    image: busybox
    logging: {driver: json-file, options: {max-size: 1m}}
    deploy:
      replicas: 2
      resources: {limits: {memory: 64m, cpus: "0.5", pids: 100}, reservations: {memory: 1m}}
    volumes_from: ["data:ro", "container:other"]
    secrets: [token, {source: token, target: api_key}]
    configs: [{source: appconf, target: /etc/app.conf}, appconf]
secrets:
  token: {file: ./token.txt}
configs:
  appconf: {file: app.conf}
)"));
    LoadOptions o;
    o.working_directory = d;
    auto p = load_project(o);
    REQUIRE(p);
    const auto& app = p->services.at("app");
    CHECK(app.mem_limit == "64m");
    CHECK(app.cpus == "0.5");
    CHECK(app.pids_limit == 100);
    CHECK(app.replicas == 2);
    CHECK(app.log_driver == "json-file");
    CHECK(app.log_opts.at("max-size") == "1m");
    CHECK(app.depends_on.contains("data"));  // volumes_from starts it first
    REQUIRE(app.volumes.size() == 4);
    CHECK(app.volumes[0].target == "/run/secrets/token");
    CHECK(app.volumes[0].source == d + "/token.txt");
    CHECK(app.volumes[0].read_only);
    CHECK(app.volumes[1].target == "/run/secrets/api_key");
    CHECK(app.volumes[2].target == "/etc/app.conf");
    CHECK(app.volumes[3].target == "/appconf");
    CHECK(app.volumes[3].source == d + "/app.conf");
    auto levels = start_levels(*p, {"app"});
    REQUIRE(levels);
    CHECK(levels->front() == std::vector<std::string>{"data"});
    // The model and the hash see the limits; scaling alone does not change the hash.
    auto j = p->to_json();
    CHECK(j["services"]["app"]["deploy"]["resources"]["limits"]["memory"] == "64m");
    CHECK(j["secrets"]["token"]["file"] == d + "/token.txt");
    auto scaled = app;
    scaled.replicas = 5;
    CHECK(scaled.config_hash() == app.config_hash());
    auto limited = app;
    limited.mem_limit = "128m";
    CHECK(limited.config_hash() != app.config_hash());

    std::vector<std::string> warnings;
    auto r = run_request(*p, app, 1, warnings);
    REQUIRE(r);
    CHECK(r->memory == "64m");
    CHECK(r->cpus == "0.5");
    CHECK(r->pids_limit == 100);
    CHECK(r->log_driver == "json-file");
    CHECK(r->log_opts == std::vector<std::string>{"max-size=1m"});
    CHECK(r->volumes_from == std::vector<std::string>{"lim-data-1:ro", "other"});
    CHECK(std::find(r->volumes.begin(), r->volumes.end(), d + "/token.txt:/run/secrets/token:ro") != r->volumes.end());

    // An undefined secret, and a secret that is not file-based, are refused.
    REQUIRE(fs::write_file(d + "/compose.yaml", "services:\n  a: {image: busybox, secrets: [nope]}\n"));
    auto bad = load_project(o);
    REQUIRE(!bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("undefined secret `nope`"));
    REQUIRE(fs::write_file(d + "/compose.yaml", "services:\n  a: {image: busybox}\nsecrets:\n  s: {environment: X}\n"));
    bad = load_project(o);
    REQUIRE(!bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("secrets.s") && Catch::Contains("file-based"));
    REQUIRE(fs::write_file(d + "/compose.yaml", "services:\n  a: {image: busybox, volumes_from: [ghost]}\n"));
    bad = load_project(o);
    REQUIRE(!bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("volumes_from") && Catch::Contains("ghost"));
}

TEST_CASE("extends: a service of the same file or another one, merged under the service", "[compose]") {
    auto d = scratch();
    REQUIRE(fs::mkdir_p(d + "/common"));
    REQUIRE(fs::write_file(d + "/common/base.yaml", R"(
services:
  base:
    image: busybox
    command: sleep 1
    environment: {A: from-base, B: from-base}
    ports: ["80"]
)"));
    REQUIRE(fs::write_file(d + "/compose.yaml", R"(
services:
  tmpl:
    extends: {file: common/base.yaml, service: base}
    environment: {B: from-tmpl}
  web:
    extends: tmpl
    command: sleep 2
    environment: [C=from-web]
    ports: ["443"]
)"));
    LoadOptions o;
    o.working_directory = d;
    auto p = load_project(o);
    if (!p) FAIL(p.error().message());
    const auto& web = p->services.at("web");
    CHECK(web.image == "busybox");
    CHECK(*web.command == std::vector<std::string>{"sleep", "2"});
    CHECK(*web.environment.at("A") == "from-base");
    CHECK(*web.environment.at("B") == "from-tmpl");
    CHECK(*web.environment.at("C") == "from-web");
    CHECK(web.ports == std::vector<std::string>{"80", "443"});
    CHECK(*p->services.at("tmpl").command == std::vector<std::string>{"sleep", "1"});
    CHECK(!p->to_json()["services"]["web"].contains("extends"));

    REQUIRE(fs::write_file(d + "/compose.yaml", "services:\n  a: {image: busybox, extends: b}\n  b: {image: busybox, extends: a}\n"));
    auto cyc = load_project(o);
    REQUIRE(!cyc);
    CHECK_THAT(cyc.error().message(), Catch::Contains("cycle"));
    REQUIRE(fs::write_file(d + "/compose.yaml", "services:\n  a: {extends: {service: nope}}\n"));
    auto missing = load_project(o);
    REQUIRE(!missing);
    CHECK_THAT(missing.error().message(), Catch::Contains("no service `nope`"));
}

TEST_CASE("include: another file's services, its paths against its directory; a name defined twice refused", "[compose]") {
    auto d = scratch();
    REQUIRE(fs::mkdir_p(d + "/db"));
    REQUIRE(fs::write_file(d + "/db/db.env", "DB=yes\n"));
    REQUIRE(fs::write_file(d + "/db/compose.yaml", R"(
services:
  db:
    image: busybox
    env_file: db.env
    volumes: [./data:/data, dbvol:/var]
volumes:
  dbvol: {}
)"));
    REQUIRE(fs::write_file(d + "/compose.yaml", R"(
include: [db/compose.yaml]
services:
  app:
    extends: {file: db/compose.yaml, service: db}
    depends_on: [db]
)"));
    LoadOptions o;
    o.working_directory = d;
    auto p = load_project(o);
    if (!p) FAIL(p.error().message());
    const auto& db = p->services.at("db");
    CHECK(*db.environment.at("DB") == "yes");
    REQUIRE(db.volumes.size() == 2);
    CHECK(db.volumes[0].source == d + "/db/data");
    CHECK(p->volumes.contains("dbvol"));
    const auto& app = p->services.at("app");  // extends from another file: its paths too
    CHECK(*app.environment.at("DB") == "yes");
    CHECK(app.volumes[0].source == d + "/db/data");

    REQUIRE(fs::write_file(d + "/compose.yaml", "include: [db/compose.yaml]\nservices:\n  db: {image: busybox}\n"));
    auto twice = load_project(o);
    REQUIRE(!twice);
    CHECK_THAT(twice.error().message(), Catch::Contains("service `db` is defined in both"));
}

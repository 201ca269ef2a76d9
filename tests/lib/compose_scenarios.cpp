#include "compose_scenarios.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>
#include <set>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "net_fixtures.hpp"
#include "registry.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

const char* kCompose = R"(name: Shop
x-base: &base
  image: busybox
  restart: "no"
services:
  db:
    <<: *base
    command: ["sh", "-c", "sleep 1; echo db-up > /data/ready; exec httpd -f -p 5432 -h /data"]
    volumes: [dbdata:/data]
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/ready"]
      interval: 1s
      retries: 30
    stop_signal: SIGKILL
  init:
    <<: *base
    command: sh -c 'echo ${SEED_TEXT} > /data/seed.txt; echo init-done'
    volumes: [dbdata:/data]
    depends_on:
      db: {condition: service_healthy}
  api:
    <<: *base
    command: httpd -f -p 80 -h /data
    volumes: [{type: volume, source: dbdata, target: /data, read_only: true}]
    networks:
      default: {aliases: [backend]}
    depends_on:
      db: {condition: service_healthy}
      init: {condition: service_completed_successfully}
  web:
    <<: *base
    command: ["sh", "-c", "mkdir -p /www && echo $$GREETING > /www/index.html && for i in $$(seq 50); do wget -qO- http://backend/seed.txt > /tmp/s && break; sleep 0.2; done; cat /tmp/s >> /www/index.html; exec httpd -f -p 80 -h /www"]
    environment:
      GREETING: ${WEB_GREETING:?set it in .env}
    ports: ["127.0.0.1::80"]
    networks:
      default: {aliases: [www]}
    depends_on: [api]
  worker:
    <<: *base
    command: sleep 600
    environment: ["LEVEL=${LEVEL:-1}"]
    depends_on: [api]
volumes:
  dbdata: {}
)";

const char* kOverride = R"(services:
  worker:
    environment:
      MODE: override
    stop_grace_period: 2s
    ulimits: {nofile: {soft: 512, hard: 1024}}
    shm_size: 32m
)";

nlohmann::json ps_json(const std::string& dir, bool all = true) {
    std::vector<std::string> args = {"compose", "--project-directory", dir, "ps", "--format", "json"};
    if (all) args.push_back("-a");
    auto r = cli(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

// ps -a --format json with the given leading arguments (compose -p ... -f ...).
nlohmann::json ps_json_p(const std::vector<std::string>& c) {
    auto args = c;
    args.insert(args.end(), {"ps", "-a", "--format", "json"});
    auto r = cli(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

std::map<std::string, std::string> ids_by_service(const nlohmann::json& ps) {
    std::map<std::string, std::string> out;
    for (const auto& c : ps) out[c["Service"].get<std::string>()] = c["ID"].get<std::string>();
    return out;
}

// Helper processes (bock-dns, bock-netns, bock-monitor) of this test: their
// command lines name our run root or store.
std::vector<std::string> our_helpers() {
    std::vector<std::string> out;
    std::string runroot = env_or("BOCK_RUNROOT", "/nonexistent"), root = env_or("BOCK_ROOT", "/nonexistent");
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        auto stat = fs::read_file(e.path().string() + "/stat").value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.compare(close + 2, 1, "Z") == 0) continue;
        std::string comm = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
        if (comm != "bock-dns" && comm != "bock-netns" && comm != "bock-monitor") continue;
        auto cmdline = fs::read_file(e.path().string() + "/cmdline").value_or("");
        auto environ = fs::read_file(e.path().string() + "/environ").value_or("");
        if (cmdline.find(runroot) != std::string::npos || environ.find(runroot) != std::string::npos ||
            environ.find(root) != std::string::npos)
            out.push_back(comm + " " + pid);
    }
    return out;
}

bool eventually(const std::function<bool()>& cond, int ms = 30000) {
    for (int i = 0; i < ms / 100; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return cond();
}

void check_clean(const std::string& project) {
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
    auto nets = cli({"network", "ls", "-q"});
    CHECK_THAT(nets.out, !Catch::Contains(project + "_default"));
    auto vols = cli({"volume", "ls", "-q"});
    CHECK_THAT(vols.out, !Catch::Contains(project + "_"));
    auto helpers = our_helpers();
    INFO(fmt::format("{}", fmt::join(helpers, ", ")));
    CHECK(helpers.empty());
}

}  // namespace

void check_compose_project() {
    std::string dir = tmp_dir() + "/Shop";
    REQUIRE(fs::mkdir_p(dir));
    REQUIRE(fs::write_file(dir + "/compose.yaml", kCompose));
    REQUIRE(fs::write_file(dir + "/compose.override.yaml", kOverride));
    REQUIRE(fs::write_file(dir + "/.env", "WEB_GREETING=hello-from-compose\nSEED_TEXT=seeded-by-init\n"));
    const std::vector<std::string> c = {"compose", "--project-directory", dir};
    auto with = [&](std::vector<std::string> more) {
        auto v = c;
        v.insert(v.end(), more.begin(), more.end());
        return v;
    };

    // config: the merged, interpolated model.
    auto cfg = cli(with({"config", "--format", "json"}));
    INFO(cfg.err);
    REQUIRE(cfg.code == 0);
    auto model = nlohmann::json::parse(cfg.out);
    CHECK(model["name"] == "shop");
    CHECK(model["services"]["web"]["environment"]["GREETING"] == "hello-from-compose");
    CHECK(model["services"]["worker"]["environment"]["MODE"] == "override");
    CHECK(model["services"]["api"]["image"] == "busybox");  // from the merge key
    CHECK(model["volumes"]["dbdata"]["name"] == "shop_dbdata");
    CHECK(cli(with({"config", "--services"})).out == "api\ndb\ninit\nweb\nworker\n");
    auto yaml = cli(with({"config"}));
    CHECK_THAT(yaml.out, Catch::Contains("hello-from-compose") && Catch::Contains("services:"));

    // up -d: dependency order, health-gated.
    auto up = cli(with({"up", "-d"}));
    INFO(up.out + up.err);
    REQUIRE(up.code == 0);
    CHECK_THAT(up.err, !Catch::Contains("not published"));
    CHECK(up.err.find("shop-db-1  Healthy") < up.err.find("shop-init-1  Started"));
    CHECK(up.err.find("shop-init-1  Exited") < up.err.find("shop-api-1  Started"));
    auto ps = ps_json(dir);
    auto ids = ids_by_service(ps);
    REQUIRE(ids.size() == 5);
    for (const auto& e : ps) {
        if (e["Service"] == "init") {
            CHECK(e["State"] == "exited");
            CHECK(e["ExitCode"] == 0);
        } else {
            CHECK(e["State"] == "running");
        }
    }
    auto insp = cli({"inspect", "shop-web-1"});
    REQUIRE(insp.code == 0);
    auto labels = nlohmann::json::parse(insp.out)[0]["Config"]["Labels"];
    CHECK(labels["com.docker.compose.project"] == "shop");
    CHECK(labels["com.docker.compose.service"] == "web");
    CHECK(labels["com.docker.compose.container-number"] == "1");
    CHECK(labels["com.docker.compose.oneoff"] == "False");
    auto hash = cli(with({"config", "--hash", "web"}));
    CHECK(hash.out == "web " + labels["com.docker.compose.config-hash"].get<std::string>() + "\n");

    // From another container on the project network: web by name and by
    // alias; web's page holds what it fetched from api by api's alias,
    // which serves the file the init job wrote into the volume (three hops).
    const std::string fetch = "for i in $(seq 50); do wget -qO- http://$0/index.html 2>/dev/null && break; sleep 0.2; done";
    auto client = cli({"run", "--rm", "--network", "shop_default", "busybox", "sh", "-c",
                       fetch + "; sh -c \"$1\" www; wget -qO- http://api/seed.txt", "web", fetch});
    INFO(client.out + client.err);
    CHECK(client.code == 0);
    CHECK(client.out.find("hello-from-compose\nseeded-by-init\n") != std::string::npos);
    CHECK(client.out.find("hello-from-compose") != client.out.rfind("hello-from-compose"));  // name and alias
    // And from the host, through web's published port (127.0.0.1::80, a
    // port chosen at up): the same page, three hops behind it.
    auto port = cli({"port", "shop-web-1"});
    INFO(port.out + port.err);
    REQUIRE(port.code == 0);
    auto colon = port.out.rfind(':');
    REQUIRE(colon != std::string::npos);
    uint16_t host_port = static_cast<uint16_t>(std::stoi(port.out.substr(colon + 1)));
    CHECK_THAT(port.out, Catch::StartsWith("80/tcp -> 127.0.0.1:"));
    CHECK_THAT(lo_http_get(host_port, "/index.html"), Catch::Contains("hello-from-compose\nseeded-by-init\n"));
    // exec into a service, logs prefixed with the container's name.
    auto ex = cli(with({"exec", "-T", "worker", "sh", "-c", "echo $LEVEL $MODE"}));
    CHECK(ex.out == "1 override\n");
    auto limits = cli(with({"exec", "-T", "worker", "sh", "-c", "ulimit -n; df -k /dev/shm"}));
    INFO(limits.err);
    CHECK(limits.out.starts_with("512\n"));
    CHECK_THAT(limits.out, Catch::Contains(" 32768 "));
    auto logs = cli(with({"logs", "init"}));
    CHECK_THAT(logs.out, Catch::Contains("shop-init-1") && Catch::Contains("| init-done"));

    // up again: nothing recreated.
    auto again = cli(with({"up", "-d"}));
    INFO(again.err);
    REQUIRE(again.code == 0);
    CHECK_THAT(again.err, Catch::Contains("shop-web-1  Running") && !Catch::Contains("Recreate"));
    auto ids2 = ids_by_service(ps_json(dir));
    CHECK(ids2 == ids);
    // One service's environment changed: only it is recreated.
    auto changed = cli(with({"up", "-d"}), {"LEVEL=2"});
    INFO(changed.err);
    REQUIRE(changed.code == 0);
    auto ids3 = ids_by_service(ps_json(dir));
    for (const auto& [svc, id] : ids) {
        INFO(svc);
        if (svc == "worker") CHECK(ids3[svc] != id);
        else CHECK(ids3[svc] == id);
    }
    CHECK(cli(with({"exec", "-T", "worker", "sh", "-c", "echo $LEVEL"})).out == "2\n");

    // run: a one-off container of a service on the project network; its
    // exit code; removed with --rm; not counted among the service's.
    auto once = cli(with({"run", "--rm", "-T", "worker", "sh", "-c", "echo once $LEVEL; wget -qO- http://www/index.html"}));
    INFO(once.err);
    CHECK(once.code == 0);
    CHECK_THAT(once.out, Catch::Contains("once 1\nhello-from-compose"));
    auto code = cli(with({"run", "--rm", "-e", "X=7", "worker", "sh", "-c", "exit $X"}));
    CHECK(code.code == 7);
    CHECK(ps_json(dir).size() == 5);
    // bockrose is the same command.
    std::string rose = tmp_dir() + "/bockrose";
    std::filesystem::create_symlink(bin("bock"), rose);
    auto r = run({rose, "--project-directory", dir, "ps", "--format", "json"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(nlohmann::json::parse(r.out).size() == 4);
    auto ls = run({rose, "ls"});
    CHECK_THAT(ls.out, Catch::Contains("shop"));

    // down -v: nothing left.
    auto down = cli(with({"down", "-v"}));
    INFO(down.err);
    CHECK(down.code == 0);
    check_clean("shop");
}

void check_compose_failures() {
    std::string dir = tmp_dir() + "/fail";
    REQUIRE(fs::mkdir_p(dir));
    const std::vector<std::string> c = {"compose", "-p", "bad", "-f", dir + "/compose.yaml"};
    auto with = [&](std::vector<std::string> more) {
        auto v = c;
        v.insert(v.end(), more.begin(), more.end());
        return v;
    };
    // A cycle: refused naming it, before anything is made.
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  a: {image: busybox, command: sleep 60, depends_on: [b]}
  b: {image: busybox, command: sleep 60, depends_on: [a]}
)"));
    auto cyc = cli(with({"up", "-d"}));
    CHECK(cyc.code != 0);
    CHECK_THAT(cyc.err, Catch::Contains("a -> b -> a") || Catch::Contains("b -> a -> b"));
    CHECK(cli({"network", "ls", "-q"}).out.empty());

    // A health check that never passes: its dependant is held back and
    // up --wait fails naming it.
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  sick:
    image: busybox
    command: sleep 600
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 2}
  needy:
    image: busybox
    command: sleep 600
    depends_on: {sick: {condition: service_healthy}}
)"));
    auto sick = cli(with({"up", "--wait", "--wait-timeout", "60"}));
    INFO(sick.err);
    CHECK(sick.code != 0);
    CHECK_THAT(sick.err, Catch::Contains("`sick`") && Catch::Contains("unhealthy"));
    CHECK(cli({"ps", "-a", "-q", "--filter", "name=bad-needy-1"}).out.empty());
    // Only the sick one, with --wait: fails naming it.
    auto only = cli(with({"up", "--wait", "--wait-timeout", "30", "--no-deps", "sick"}));
    CHECK(only.code != 0);
    CHECK_THAT(only.err, Catch::Contains("service `sick`") && Catch::Contains("unhealthy"));

    // A one-shot job exiting 3 under service_completed_successfully.
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  migrate:
    image: busybox
    command: sh -c 'echo migrating; exit 3'
  app:
    image: busybox
    command: sleep 600
    depends_on: {migrate: {condition: service_completed_successfully}}
)"));
    auto job = cli(with({"up", "-d", "--remove-orphans"}));
    INFO(job.err);
    CHECK(job.code != 0);
    CHECK_THAT(job.err, Catch::Contains("`migrate`") && Catch::Contains("exit code 3"));
    CHECK(cli({"ps", "-a", "-q", "--filter", "name=bad-app-1"}).out.empty());
    CHECK(cli({"ps", "-a", "-q", "--filter", "name=bad-sick-1"}).out.empty());  // the orphan went
    // Attached up with --exit-code-from: the job's code, the others stopped.
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  job: {image: busybox, command: sh -c 'sleep 1; echo bye; exit 4'}
  idle: {image: busybox, command: sleep 600, stop_signal: SIGKILL}
  extra: {image: busybox, command: sleep 600, profiles: [debug]}
)"));
    auto attached = cli(with({"up", "--remove-orphans", "--exit-code-from", "job"}));
    INFO(attached.out + attached.err);
    CHECK(attached.code == 4);
    CHECK_THAT(attached.out, Catch::Contains("bad-job-1   | bye"));
    auto left = cli({"ps", "-a", "--format", "json"});
    for (const auto& e : nlohmann::json::parse(left.out)) CHECK(e["State"] == "exited");
    CHECK(cli({"ps", "-a", "-q", "--filter", "name=bad-extra-1"}).out.empty());  // its profile is not active
    auto down = cli(with({"down", "-v"}));
    INFO(down.err);
    CHECK(down.code == 0);
    check_clean("bad");
}

void check_compose_interrupted() {
    std::string dir = tmp_dir() + "/cut";
    REQUIRE(fs::mkdir_p(dir));
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  slow:
    image: busybox
    command: sh -c "sleep 2; touch /tmp/ok; exec sleep 600"
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ok"], interval: 1s, retries: 30}
  app:
    image: busybox
    command: sh -c "echo app-says-hi; exec sleep 600"
    stop_grace_period: 1s
    depends_on: {slow: {condition: service_healthy}}
)"));
    const std::vector<std::string> c = {"compose", "-p", "cut", "-f", dir + "/compose.yaml"};
    auto with = [&](std::vector<std::string> more) {
        auto v = c;
        v.insert(v.end(), more.begin(), more.end());
        return v;
    };
    // SIGKILL while up waits for slow to be healthy.
    std::string log1 = tmp_dir() + "/up1.log";
    Pid first = spawn_bock(with({"up", "-d"}), log1);
    REQUIRE(eventually([&] { return fs::read_file(log1).value_or("").find("cut-slow-1  Waiting") != std::string::npos; }));
    REQUIRE(first.kill(SIGKILL));
    (void)first.wait();
    auto before = ids_by_service(ps_json_p(c));
    REQUIRE(before.size() == 1);
    auto again = cli(with({"up", "-d"}));
    INFO(again.err);
    REQUIRE(again.code == 0);
    auto after = ps_json_p(c);
    CHECK(after.size() == 2);
    CHECK(ids_by_service(after)["slow"] == before["slow"]);
    // --scale: more containers of a service, the first one kept; back down
    // without it (the replica count is not in the config hash).
    auto scaled = cli(with({"up", "-d", "--scale", "app=2"}));
    INFO(scaled.err);
    REQUIRE(scaled.code == 0);
    auto three = ps_json_p(c);
    CHECK(three.size() == 3);
    auto app1 = ids_by_service(after)["app"];
    CHECK(std::count_if(three.begin(), three.end(), [&](const auto& e) { return e["ID"] == app1; }) == 1);
    auto unscaled = cli(with({"up", "-d"}));
    CHECK_THAT(unscaled.err, Catch::Contains("cut-app-2  Removed") && !Catch::Contains("Recreate"));
    CHECK(ps_json_p(c).size() == 2);
    // Attached: the prefixed logs, then Ctrl-C stops the project.
    std::string log2 = tmp_dir() + "/up2.log";
    Pid attached = spawn_bock(with({"up"}), log2);
    REQUIRE(eventually([&] { return fs::read_file(log2).value_or("").find("cut-app-1   | app-says-hi") != std::string::npos; }));
    REQUIRE(attached.kill(SIGINT));
    auto st = attached.wait();
    REQUIRE(st);
    INFO(fs::read_file(log2).value_or(""));
    CHECK(WIFEXITED(*st));
    CHECK(WEXITSTATUS(*st) == 130);
    for (const auto& e : ps_json_p(c)) CHECK(e["State"] == "exited");
    // down -p without the file: the project as the labels know it.
    std::string empty = tmp_dir() + "/nofile";
    REQUIRE(fs::mkdir_p(empty));
    auto down = cli({"compose", "-p", "cut", "--project-directory", empty, "down", "-v"});
    INFO(down.err);
    CHECK(down.code == 0);
    check_clean("cut");
}

void check_compose_commands() {
    std::string dir = tmp_dir() + "/ops";
    REQUIRE(fs::mkdir_p(dir));
    REQUIRE(fs::write_file(dir + "/token.txt", "s3cret\n"));
    REQUIRE(fs::write_file(dir + "/app.conf", "level=2\n"));
    REQUIRE(cli({"tag", "busybox", "ops-img:1"}).code == 0);
    REQUIRE(fs::write_file(dir + "/compose.yaml", R"(services:
  data:
    image: ops-img:1
    command: sh -c "echo shared > /shared/f; exec sleep 600"
    volumes: [/shared]
    stop_signal: SIGKILL
  app:
    image: ops-img:1
    command: sh -c "echo app-line; exec sleep 600"
    stop_signal: SIGKILL
    ports: ["127.0.0.1::8080"]
    logging: {driver: none}
    volumes_from: ["data:ro"]
    secrets: [token]
    configs: [{source: appconf, target: /etc/app.conf}]
  lim:
    image: ops-img:1
    profiles: [limits]
    deploy: {resources: {limits: {memory: 32m, pids: 50}}}
  ghost:
    image: 127.0.0.1:1/ghost:1
    profiles: [pull]
secrets:
  token: {file: ./token.txt}
configs:
  appconf: {file: ./app.conf}
)"));
    const std::vector<std::string> c = {"compose", "-p", "ops", "-f", dir + "/compose.yaml"};
    auto with = [&](std::vector<std::string> more) {
        auto v = c;
        v.insert(v.end(), more.begin(), more.end());
        return v;
    };
    // Events of another container are not the project's.
    REQUIRE(cli({"run", "--rm", "--name", "outsider", "busybox", "true"}).code == 0);

    // create: the containers made, none started; up starts them.
    auto created = cli(with({"create"}));
    INFO(created.err);
    REQUIRE(created.code == 0);
    CHECK_THAT(created.err, Catch::Contains("ops-app-1  Created") && Catch::Contains("ops-data-1  Created"));
    auto ps = ps_json_p(c);
    CHECK(ps.size() == 2);
    for (const auto& e : ps) CHECK(e["State"] == "created");
    auto up = cli(with({"up", "-d"}));
    INFO(up.err);
    REQUIRE(up.code == 0);
    CHECK(up.err.find("ops-data-1  Started") < up.err.find("ops-app-1  Started"));  // volumes_from: data first

    // secrets and configs read-only at their targets; data's volume through volumes_from, read-only.
    auto in = cli(with({"exec", "-T", "app", "sh", "-c",
                        "cat /run/secrets/token /etc/app.conf; for i in $(seq 50); do cat /shared/f 2>/dev/null && break; "
                        "sleep 0.1; done; touch /run/secrets/token /shared/x 2>/dev/null || echo read-only"}));
    INFO(in.err);
    CHECK(in.out == "s3cret\nlevel=2\nshared\nread-only\n");
    // logging: the driver reached the engine (none keeps no log).
    auto logs = cli({"logs", "ops-app-1"});
    CHECK(logs.code != 0);
    CHECK_THAT(logs.err, Catch::Contains("none"));

    // port, top, images.
    auto port = cli(with({"port", "app", "8080"}));
    INFO(port.err);
    CHECK(port.code == 0);
    CHECK_THAT(port.out, Catch::StartsWith("127.0.0.1:"));
    auto unpublished = cli(with({"port", "app", "9999"}));
    CHECK(unpublished.code != 0);
    CHECK_THAT(unpublished.err, Catch::Contains("9999/tcp is not published"));
    auto top = cli(with({"top", "app"}));
    INFO(top.err);
    CHECK(top.code == 0);
    CHECK_THAT(top.out, Catch::StartsWith("ops-app-1\n") && Catch::Contains("sleep 600") && Catch::Contains("PID"));
    auto images = cli(with({"images"}));
    CHECK_THAT(images.out, Catch::Contains("ops-app-1") && Catch::Contains("ops-data-1") && Catch::Contains("ops-img"));

    // events: the project's containers only (the engine records no
    // `start` of a detached container yet: `create` is what both have).
    auto ev = cli(with({"events", "--json", "--no-follow"}));
    INFO(ev.err);
    CHECK(ev.code == 0);
    CHECK_THAT(ev.out, Catch::Contains("\"container\":\"ops-app-1\"") && Catch::Contains("\"action\":\"create\"") &&
                           !Catch::Contains("outsider"));
    CHECK_THAT(cli({"events"}).out, Catch::Contains("outsider"));  // the engine's log has it

    // pause / unpause: as root through the freezer; rootless on cgroup v1
    // the container has no cgroup of its own: refused, saying why.
    auto paused = cli(with({"pause", "app"}));
    INFO(paused.err);
    if (is_root()) {
        CHECK(paused.code == 0);
        CHECK(cli({"inspect", "--format", "{{.State.Status}}", "ops-app-1"}).out == "paused\n");
        CHECK(cli(with({"unpause"})).code == 0);
        CHECK(cli({"inspect", "--format", "{{.State.Status}}", "ops-app-1"}).out == "running\n");
    } else {
        CHECK(paused.code != 0);
        CHECK_THAT(paused.err, Catch::Contains("ops-app-1") && Catch::Contains("cgroup"));
    }

    // kill + wait: the exit code, printed and returned.
    REQUIRE(cli(with({"kill", "data"})).code == 0);
    auto waited = cli(with({"wait", "data"}));
    CHECK(waited.out == "137\n");
    CHECK(waited.code == 137);

    // deploy.resources.limits as `bock run` takes them.
    auto lim = cli(with({"run", "--rm", "-T", "lim", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}));
    INFO(lim.out + lim.err);
    if (is_root()) {
        CHECK(lim.code == 137);
    } else {
        CHECK(lim.code != 0);
        CHECK_THAT(lim.err, Catch::Contains("resource limits cannot be enforced here") && Catch::Contains("ignore_limits"));
        auto opted = cli({"compose", "--ignore-limits", "-p", "ops", "-f", dir + "/compose.yaml", "run", "--rm", "-T", "lim", "true"});
        INFO(opted.err);
        CHECK(opted.code == 0);
        CHECK_THAT(opted.err, Catch::Contains("not enforced"));
    }

    // pull: several at once; a failure names the service.
    auto pulled = cli(with({"--profile", "pull", "pull", "ghost"}));
    CHECK(pulled.code != 0);
    CHECK_THAT(pulled.err, Catch::Contains("service `ghost`"));
    CHECK(cli(with({"--profile", "pull", "pull", "--ignore-pull-failures", "ghost"})).code == 0);
    // push, then pull back, two services' images through a registry on loopback.
    {
        LocalRegistry reg;
        std::string a = reg.host() + "/ops/a:1", b = reg.host() + "/ops/b:1";
        REQUIRE(cli({"tag", "busybox", a}).code == 0);
        REQUIRE(cli({"tag", "busybox", b}).code == 0);
        REQUIRE(fs::write_file(dir + "/reg.yaml", fmt::format("services:\n  a: {{image: \"{}\"}}\n  b: {{image: \"{}\"}}\n"
                                                              "  built: {{build: .}}\n", a, b)));
        const std::vector<std::string> rc = {"compose", "-p", "reg", "-f", dir + "/reg.yaml"};
        auto pushed = cli({rc[0], rc[1], rc[2], rc[3], rc[4], "push"});
        INFO(pushed.err);
        CHECK(pushed.code == 0);
        CHECK_THAT(pushed.err, Catch::Contains(a + "  Pushed") && Catch::Contains(b + "  Pushed"));
        CHECK(reg.skopeo({"inspect", "docker://" + b}).code == 0);
        REQUIRE(cli({"rmi", a, b}).code == 0);
        auto pulled2 = cli({rc[0], rc[1], rc[2], rc[3], rc[4], "pull"});
        INFO(pulled2.err);
        CHECK(pulled2.code == 0);
        CHECK_THAT(pulled2.err, Catch::Contains(a + "  Pulled") && Catch::Contains(b + "  Pulled"));
        CHECK(cli({"image", "inspect", a}).code == 0);
        CHECK(cli({"image", "inspect", b}).code == 0);
        // down --rmi local: the built image goes, the named ones stay.
        REQUIRE(fs::write_file(dir + "/Containerfile", "FROM busybox\nLABEL ops=built\n"));
        auto built = cli({rc[0], rc[1], rc[2], rc[3], rc[4], "build"});
        INFO(built.out + built.err);
        REQUIRE(built.code == 0);
        REQUIRE(cli({"image", "inspect", "reg-built"}).code == 0);
        auto local = cli({rc[0], rc[1], rc[2], rc[3], rc[4], "down", "--rmi", "local"});
        INFO(local.err);
        CHECK(local.code == 0);
        CHECK(cli({"image", "inspect", "reg-built"}).code != 0);
        CHECK(cli({"image", "inspect", a}).code == 0);
        CHECK(cli({rc[0], rc[1], rc[2], rc[3], rc[4], "down", "--rmi", "bogus"}).code != 0);
    }

    // down --rmi all: the containers, then the services' images.
    auto down = cli(with({"down", "-v", "--rmi", "all"}));
    INFO(down.err);
    CHECK(down.code == 0);
    CHECK_THAT(down.err, Catch::Contains("ops-img:1  Removed"));
    CHECK(cli({"image", "inspect", "ops-img:1"}).code != 0);
    CHECK(cli({"image", "inspect", "busybox"}).code == 0);  // another name of the same image stays
    check_clean("ops");
}

}  // namespace bock::test

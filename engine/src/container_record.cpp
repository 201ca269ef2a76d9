// The container record (containers.hpp): JSON form, atomic writes, the
// status derived from facts, generated names.
#include <sys/random.h>

#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/runtime/state.hpp"
#include "bock/monitor/protocol.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

nlohmann::json ContainerRecord::to_json() const {
    nlohmann::json j{{"id", id},
                     {"name", name},
                     {"image", image},
                     {"image_id", image_id},
                     {"command", command},
                     {"created", created},
                     {"created_ns", created_ns},
                     {"state", state},
                     {"owner_pid", owner_pid},
                     {"owner_start", owner_start},
                     {"started", started},
                     {"finished", finished},
                     {"exit_reason", exit_reason},
                     {"auto_remove", auto_remove},
                     {"storage_driver", storage_driver}};
    j["exit_code"] = exit_code ? nlohmann::json(*exit_code) : nlohmann::json();
    if (!network.empty()) j["network"] = network;
    if (!extra_lowers.empty()) j["extra_lowers"] = extra_lowers;
    if (!userns.empty() || !uid_map.empty())
        j["userns"] = {{"mode", userns}, {"uid_map", uid_map}, {"gid_map", gid_map},
                       {"shift_uids", shift_uids}, {"shift_gids", shift_gids}};
    if (!ports.empty()) {
        auto arr = nlohmann::json::array();
        for (const auto& p : ports)
            arr.push_back({{"host_ip", p.host_ip},
                           {"host_port", p.host_port},
                           {"container_port", p.container_port},
                           {"proto", p.proto}});
        j["ports"] = arr;
    }
    if (netns_pid > 0) {
        j["netns_pid"] = netns_pid;
        j["netns_start"] = netns_start;
    }
    j["hostname"] = hostname;
    j["user"] = user;
    j["workdir"] = workdir;
    j["env"] = env;
    j["entrypoint"] = entrypoint;
    j["cmd"] = cmd;
    j["labels"] = labels;
    if (detached) {
        j["monitor_pid"] = monitor_pid;
        j["monitor_start"] = monitor_start;
        j["detached"] = detached;
        j["tty"] = tty;
        j["interactive"] = interactive;
        j["restart_policy"] = restart_policy;
        j["restart_max"] = restart_max;
        j["restart_count"] = restart_count;
        j["stop_requested"] = stop_requested;
        j["stop_signal"] = stop_signal;
        j["stop_timeout"] = stop_timeout;
        j["log_driver"] = log_driver;
        j["log_max_size"] = log_max_size;
        j["init"] = init;
        if (restart_requested) j["restart_requested"] = true;
        if (restarting) j["restarting"] = true;
    }
    if (!healthcheck.is_null()) j["healthcheck"] = healthcheck;
    if (!mounts.empty()) j["mounts"] = mounts;
    return j;
}

Result<ContainerRecord> ContainerRecord::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) return make_error("container record `{}` is not a JSON object", path);
    ContainerRecord r;
    try {
        r.id = j.at("id").get<std::string>();
        r.name = j.value("name", "");
        r.image = j.value("image", "");
        r.image_id = j.value("image_id", "");
        if (auto c = j.find("command"); c != j.end() && c->is_array()) r.command = c->get<std::vector<std::string>>();
        r.created = j.value("created", int64_t{0});
        r.created_ns = j.value("created_ns", r.created * 1000000000);
        // Records written before the engine tiers kept "status" instead.
        r.state = j.value("state", j.value("status", std::string("exited")));
        r.owner_pid = j.value("owner_pid", pid_t{0});
        r.owner_start = j.value("owner_start", uint64_t{0});
        r.started = j.value("started", int64_t{0});
        r.finished = j.value("finished", int64_t{0});
        r.exit_reason = j.value("exit_reason", "");
        r.auto_remove = j.value("auto_remove", false);
        r.storage_driver = j.value("storage_driver", "");
        r.extra_lowers = j.value("extra_lowers", std::vector<std::string>{});
        if (auto u = j.find("userns"); u != j.end() && u->is_object()) {
            r.userns = u->value("mode", "");
            r.uid_map = u->value("uid_map", std::vector<std::string>{});
            r.gid_map = u->value("gid_map", std::vector<std::string>{});
            r.shift_uids = u->value("shift_uids", "");
            r.shift_gids = u->value("shift_gids", "");
        }
        r.network = j.value("network", "");
        r.netns_pid = j.value("netns_pid", pid_t{0});
        r.netns_start = j.value("netns_start", uint64_t{0});
        if (auto ps = j.find("ports"); ps != j.end() && ps->is_array())
            for (const auto& p : *ps)
                r.ports.push_back(PortMapping{p.value("host_ip", ""), p.value("host_port", uint16_t{0}),
                                              p.value("container_port", uint16_t{0}), p.value("proto", "tcp")});
        if (auto e = j.find("exit_code"); e != j.end() && e->is_number_integer()) r.exit_code = e->get<int>();
        r.hostname = j.value("hostname", "");
        r.user = j.value("user", "");
        r.workdir = j.value("workdir", "");
        auto strings = [&](const char* k, std::vector<std::string>& out) {
            if (auto e = j.find(k); e != j.end() && e->is_array()) out = e->get<std::vector<std::string>>();
        };
        strings("env", r.env);
        strings("entrypoint", r.entrypoint);
        strings("cmd", r.cmd);
        if (auto e = j.find("labels"); e != j.end() && e->is_object())
            r.labels = e->get<std::map<std::string, std::string>>();
        if (auto e = j.find("healthcheck"); e != j.end() && e->is_object()) r.healthcheck = *e;
        r.monitor_pid = j.value("monitor_pid", pid_t{0});
        r.monitor_start = j.value("monitor_start", uint64_t{0});
        r.detached = j.value("detached", false);
        r.tty = j.value("tty", false);
        r.interactive = j.value("interactive", false);
        r.restart_policy = j.value("restart_policy", std::string("no"));
        r.restart_max = j.value("restart_max", 0);
        r.restart_count = j.value("restart_count", 0);
        r.stop_requested = j.value("stop_requested", false);
        r.stop_signal = j.value("stop_signal", 15);
        r.stop_timeout = j.value("stop_timeout", 10);
        r.log_driver = j.value("log_driver", std::string("json-file"));
        r.log_max_size = j.value("log_max_size", uint64_t{0});
        r.init = j.value("init", false);
        r.restart_requested = j.value("restart_requested", false);
        r.restarting = j.value("restarting", false);
        if (auto e = j.find("mounts"); e != j.end() && e->is_array()) r.mounts = *e;
    } catch (const nlohmann::json::exception& e) {
        return make_error("container record `{}`: {}", path, e.what());
    }
    return r;
}

Result<void> save_record(const Context& ctx, const ContainerRecord& rec) {
    auto dirs = ContainerDirs::for_id(ctx, rec.id);
    // Atomic (rename) but not fsync'ed: a killed bock leaves the previous
    // step's record, which is what the status derivation expects; the lease
    // (fsync'ed) is what keeps content safe across a power loss.
    return fs::write_file_replace(dirs.record(), rec.to_json().dump(2), 0600, false)
        .context(fmt::format("record the state of container {}", rec.id.substr(0, 12)));
}

Result<ContainerRecord> load_record(const Context& ctx, const std::string& id) {
    auto path = ContainerDirs::for_id(ctx, id).record();
    auto text = BOCK_TRY_CTX(fs::read_file(path), "read the container record");
    auto j = nlohmann::json::parse(text, nullptr, false);
    auto rec = BOCK_TRY(ContainerRecord::from_json(j, path));
    if (rec.id != id) return make_error("container record `{}` names another container ({})", path, rec.id);
    return rec;
}

ContainerInfo derive(const ContainerRecord& rec) {
    ContainerInfo i;
    i.rec = rec;
    i.status = rec.state;
    i.exit_code = rec.exit_code;
    i.finished = rec.finished;
    i.reason = rec.exit_reason;
    if (rec.state == "created" || rec.state == "running") {
        bool alive = false;
        if (rec.owner_pid > 0) {
            auto st = runtime::process_start_time(rec.owner_pid);
            alive = st && *st == rec.owner_start;
        }
        if (!alive) {
            i.status = "exited";
            i.exit_code.reset();
            i.reason = rec.owner_pid > 0
                           ? fmt::format("bock (pid {}) was killed", rec.owner_pid)
                           : "no process recorded for it";
        }
    }
    return i;
}

namespace {

// "PID STARTTIME" as the monitor's pid file holds it.
std::pair<pid_t, uint64_t> read_pid_start(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text) return {0, 0};
    long long pid = 0;
    unsigned long long start = 0;
    if (std::sscanf(text->c_str(), "%lld %llu", &pid, &start) != 2) return {0, 0};
    return {static_cast<pid_t>(pid), start};
}

}  // namespace

ContainerInfo derive_with_facts(const Context& ctx, const ContainerRecord& rec) {
    if (rec.detached && rec.state == "exited" && rec.restarting) {
        // The cleanup (it keeps the monitor's pid) waits to start it again.
        ContainerInfo i = derive(rec);
        if (runtime::process_alive(rec.monitor_pid, rec.monitor_start)) i.status = "restarting";
        return i;
    }
    if (!rec.detached || rec.state == "exited") return derive(rec);
    ContainerInfo i;
    i.rec = rec;
    auto dirs = ContainerDirs::for_id(ctx, rec.id);
    auto [mpid, mstart] = read_pid_start(fs::join(dirs.bundle, monitor::kPidFile));
    if (mpid <= 0) {
        mpid = rec.monitor_pid;
        mstart = rec.monitor_start;
    }
    i.rec.monitor_pid = mpid;
    i.rec.monitor_start = mstart;
    if (auto text = fs::read_file(fs::join(dirs.bundle, monitor::kExitFile))) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        i.status = "exited";
        if (j.is_object() && j.contains("exit_code") && j["exit_code"].is_number_integer())
            i.exit_code = j["exit_code"].get<int>();
        if (j.is_object() && j.contains("time_ns") && j["time_ns"].is_number_integer())
            i.finished = j["time_ns"].get<int64_t>() / 1000000000;
        return i;
    }
    if (runtime::process_alive(mpid, mstart)) {
        i.status = fs::exists(fs::join(dirs.bundle, monitor::kExecFifo)) ? "created" : "running";
        return i;
    }
    if (runtime::process_alive(rec.owner_pid, rec.owner_start) && mpid <= 0) {
        i.status = rec.state;  // its bock is still setting it up
        return i;
    }
    i.status = "exited";
    i.reason = mpid > 0 ? fmt::format("its monitor (pid {}) was killed", mpid)
                        : fmt::format("bock (pid {}) was killed", rec.owner_pid);
    return i;
}

namespace {

constexpr const char* adjectives[] = {
    "admiring", "brave",   "busy",    "calm",    "clever",  "cool",     "eager",   "elated",  "festive",
    "focused",  "gallant", "gentle",  "happy",   "hopeful", "jolly",    "keen",    "kind",    "lucid",
    "modest",   "nifty",   "nimble",  "patient", "quirky",  "relaxed",  "serene",  "sharp",   "stoic",
    "sweet",    "tender",  "upbeat",  "vibrant", "wizardly", "youthful", "zealous", "bold",    "brisk"};
constexpr const char* surnames[] = {
    "agnesi",  "archimedes", "babbage", "bardeen", "bell",     "bohr",    "cerf",    "curie",   "darwin",
    "dijkstra", "einstein",  "euler",   "fermat",  "feynman",  "franklin", "galileo", "gauss",   "hopper",
    "hypatia", "kepler",     "knuth",   "lamport", "lovelace", "meitner", "noether", "pascal",  "ritchie",
    "shannon", "thompson",   "torvalds", "turing", "wing",     "wozniak", "yalow",   "zuse",    "liskov"};

uint32_t random_u32() {
    uint32_t v = 0;
    if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = static_cast<uint32_t>(time::now());
    return v;
}

}  // namespace

Result<std::string> generate_name(const Context& ctx) {
    std::set<std::string> taken;
    for (const auto& c : BOCK_TRY(list_containers(ctx))) taken.insert(c.rec.name);
    constexpr size_t na = std::size(adjectives), ns = std::size(surnames);
    for (int attempt = 0; attempt < 64; attempt++) {
        uint32_t r = random_u32();
        std::string n = fmt::format("{}_{}", adjectives[r % na], surnames[(r / na) % ns]);
        if (attempt >= 16) n += fmt::format("{}", r % 100);
        if (!taken.contains(n)) return n;
    }
    return make_error("no free container name found after 64 tries").with_hint("remove some containers");
}

}  // namespace bock::engine

// Health checks (health.hpp): configuration, one check through exec, the
// state file, --health-on-failure.
#include "bock/engine/health.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/fs.hpp"
#include "bock/common/lock.hpp"
#include "bock/common/log.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/exec.hpp"
#include "bock/runtime/state.hpp"
#include "container_dirs.hpp"
#include "lifecycle_internal.hpp"
#include "running.hpp"

namespace bock::engine {
namespace {

constexpr size_t kLogEntries = 5;
constexpr size_t kMaxOutput = 4096;  // Docker keeps this much of a check's output

std::string health_file(const Context& ctx, const std::string& id) {
    return ContainerDirs::for_id(ctx, id).storage + "/health.json";
}

nlohmann::json fresh_state() {
    return {{"Status", "starting"}, {"FailingStreak", 0}, {"Log", nlohmann::json::array()}};
}

Result<std::string> read_all(int fd) {
    if (::lseek(fd, 0, SEEK_SET) < 0) return errno_error("read the check's output");
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read the check's output");
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > kMaxOutput) break;
    }
    if (out.size() > kMaxOutput) out.resize(kMaxOutput);
    return out;
}

// --health-on-failure: kill (SIGKILL), stop (SIGTERM, SIGKILL after 10 s or
// at once when the process has no handler for it), restart (a detached
// container: the record asks its cleanup to start it again whatever its
// restart policy, then SIGKILL; "restarting" until it runs again. A
// foreground `bock run` cannot be started again: a kill).
Result<std::string> apply_on_failure(const Context& ctx, const ContainerInfo& c, const std::string& action) {
    if (action == "none") return std::string();
    auto st = BOCK_TRY(running_state(ctx, c));
    if (action == "stop" && runtime::catches_signal(st.pid, SIGTERM).value_or(false)) {
        BOCK_TRY(runtime::signal_container(st, SIGTERM, false));
        if (runtime::wait_stopped(st, 10000)) return std::string("stopped");
    }
    bool restart = action == "restart" && c.rec.detached;
    if (restart) {
        auto lock = BOCK_TRY(lock_container(ctx, c.rec.id));
        auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
        if (rec.stop_requested) return std::string("being stopped: not restarted");
        rec.restart_requested = true;
        BOCK_TRY(save_record(ctx, rec));
    }
    BOCK_TRY(runtime::signal_container(st, SIGKILL, false));
    if (!runtime::wait_stopped(st, 5000))
        return make_error("container {}: its process did not exit after SIGKILL", c.rec.id.substr(0, 12));
    if (action == "restart" && !restart) return std::string("killed (a foreground bock run cannot be restarted)");
    return std::string(action == "kill" ? "killed" : action == "stop" ? "stopped" : "killed, restarting");
}

}  // namespace

nlohmann::json HealthConfig::to_json() const {
    return {{"test", test},           {"interval_ns", interval_ns}, {"timeout_ns", timeout_ns},
            {"start_period_ns", start_period_ns}, {"retries", retries}, {"on_failure", on_failure}};
}

Result<HealthConfig> HealthConfig::from_json(const nlohmann::json& j) {
    if (!j.is_object()) return make_error("healthcheck: not a JSON object");
    HealthConfig h;
    try {
        h.test = j.at("test").get<std::vector<std::string>>();
        h.interval_ns = j.value("interval_ns", h.interval_ns);
        h.timeout_ns = j.value("timeout_ns", h.timeout_ns);
        h.start_period_ns = j.value("start_period_ns", h.start_period_ns);
        h.retries = j.value("retries", h.retries);
        h.on_failure = j.value("on_failure", h.on_failure);
    } catch (const nlohmann::json::exception& e) {
        return make_error("healthcheck: {}", e.what());
    }
    if (h.test.size() < 2 || (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL"))
        return make_error("healthcheck: test must be [\"CMD\", ...] or [\"CMD-SHELL\", \"...\"]");
    return h;
}

Result<int64_t> parse_go_duration(std::string_view text) {
    if (text == "0") return int64_t{0};
    if (text.empty()) return make_error("empty duration");
    int64_t total = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t start = i;
        while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
        if (i == start) return make_error("duration `{}`: a number is expected at `{}`", text, text.substr(start));
        double v = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
        size_t u = i;
        while (i < text.size() && !((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
        std::string_view unit = text.substr(u, i - u);
        double scale = unit == "ns" ? 1 : unit == "us" || unit == "µs" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9
                     : unit == "m" ? 60e9 : unit == "h" ? 3600e9 : -1;
        if (scale < 0)
            return make_error("duration `{}`: unknown unit `{}`", text, unit).with_hint("use ns, us, ms, s, m or h (e.g. 30s, 1m30s)");
        total += static_cast<int64_t>(v * scale);
    }
    return total;
}

Result<std::optional<HealthConfig>> resolve_healthcheck(const HealthFlags& f, const nlohmann::json& image) {
    using R = std::optional<HealthConfig>;
    if (f.none) {
        if (f.cmd) return make_error("--no-healthcheck and --health-cmd conflict").with_hint("give only one of them");
        return R{};
    }
    HealthConfig h;
    bool have = false;
    if (image.is_object() && image.contains("Test") && image["Test"].is_array() && !image["Test"].empty()) {
        auto test = image["Test"].get<std::vector<std::string>>();
        if (test[0] == "NONE") {
            have = false;
        } else if (test[0] == "CMD" || test[0] == "CMD-SHELL") {
            h.test = test;
            have = true;
        }
        auto ns = [&](const char* k, int64_t& out) {
            if (image.contains(k) && image[k].is_number_integer() && image[k].get<int64_t>() > 0) out = image[k].get<int64_t>();
        };
        ns("Interval", h.interval_ns);
        ns("Timeout", h.timeout_ns);
        ns("StartPeriod", h.start_period_ns);
        if (image.contains("Retries") && image["Retries"].is_number_integer() && image["Retries"].get<int>() > 0)
            h.retries = image["Retries"].get<int>();
    }
    if (f.cmd) {
        const std::string& c = *f.cmd;
        if (c == "none" || c == "NONE") return R{};
        if (c.empty()) return make_error("--health-cmd: empty command").with_hint("give a command, or none to disable the image's check");
        if (c[0] == '[') {
            auto j = nlohmann::json::parse(c, nullptr, false);
            if (!j.is_array() || j.empty() || !std::all_of(j.begin(), j.end(), [](const auto& e) { return e.is_string(); }))
                return make_error("--health-cmd `{}`: a JSON form must be an array of strings", c);
            h.test = j.get<std::vector<std::string>>();
            if (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL") h.test.insert(h.test.begin(), "CMD");
            if (h.test.size() < 2) return make_error("--health-cmd `{}`: no command after {}", c, h.test[0]);
        } else {
            h.test = {"CMD-SHELL", c};
        }
        have = true;
    }
    auto dur = [](const std::optional<std::string>& v, const char* flag, int64_t& out, bool zero_ok) -> Result<void> {
        if (!v) return ok();
        auto ns = parse_go_duration(*v);
        if (!ns) return std::move(ns).error().wrap(flag);
        if (*ns < 0 || (*ns == 0 && !zero_ok))
            return make_error("{} `{}`: must be more than 0", flag, *v).with_hint("e.g. 30s or 1m");
        if (*ns > 0 || zero_ok) out = *ns;
        return ok();
    };
    BOCK_TRY(dur(f.interval, "--health-interval", h.interval_ns, false));
    BOCK_TRY(dur(f.timeout, "--health-timeout", h.timeout_ns, false));
    BOCK_TRY(dur(f.start_period, "--health-start-period", h.start_period_ns, true));
    if (f.retries) {
        if (*f.retries < 1) return make_error("--health-retries {}: must be at least 1", *f.retries);
        h.retries = *f.retries;
    }
    if (f.on_failure != "none" && f.on_failure != "kill" && f.on_failure != "restart" && f.on_failure != "stop")
        return make_error("--health-on-failure `{}`: must be none, kill, restart or stop", f.on_failure);
    h.on_failure = f.on_failure;
    if (!have) {
        if (f.interval || f.timeout || f.start_period || f.retries || f.on_failure != "none")
            return make_error("--health-* options given without a health check")
                .with_hint("add --health-cmd COMMAND (the image has no HEALTHCHECK)");
        return R{};
    }
    return R{h};
}

std::optional<nlohmann::json> read_health(const Context& ctx, const ContainerRecord& rec) {
    if (rec.healthcheck.is_null()) return std::nullopt;
    auto text = fs::read_file(health_file(ctx, rec.id));
    if (!text) return fresh_state();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) return fresh_state();
    return j;
}

Result<HealthResult> run_healthcheck(Context& ctx, const std::string& key) {
    auto c = BOCK_TRY(find_container(ctx, key));
    std::string short_id = c.rec.id.substr(0, 12);
    if (c.rec.healthcheck.is_null())
        return make_error("container {} has no health check", short_id)
            .with_hint("create it with --health-cmd, or from an image with a HEALTHCHECK");
    auto cfg = BOCK_TRY_CTX(HealthConfig::from_json(c.rec.healthcheck), fmt::format("container {}", short_id));
    BOCK_TRY(running_state(ctx, c));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    // One check at a time per container (the monitor's timer and a hand run).
    auto lock = BOCK_TRY(FileLock::acquire(dirs.storage + "/health.lock", FileLock::Mode::exclusive,
                                           fmt::format("the health check of container {}", short_id)));

    Fd out(::memfd_create("bock-health", MFD_CLOEXEC));
    if (!out) return errno_error("make the check's output file");
    ExecRequest req;
    req.container = c.rec.id;
    if (cfg.test[0] == "CMD-SHELL")
        req.args = {"/bin/sh", "-c", cfg.test[1]};
    else
        req.args.assign(cfg.test.begin() + 1, cfg.test.end());
    req.output_fd = out.get();
    req.timeout_ms = static_cast<int>(std::min<int64_t>(cfg.timeout_ns / 1'000'000, INT32_MAX));
    if (req.timeout_ms == 0 && cfg.timeout_ns > 0) req.timeout_ms = 1;
    int64_t start = time::now_ns();
    auto code = exec_in_container(ctx, req);
    int64_t end = time::now_ns();
    int exit_code = 0;
    std::string output;
    if (code) {
        exit_code = *code;
        output = BOCK_TRY(read_all(out.get()));
    } else if (code.error().code() == ETIMEDOUT) {
        exit_code = -1;
        output = fmt::format("Health check exceeded timeout ({})", time::duration(cfg.timeout_ns / 1'000'000'000));
    } else if (code.error().exit_status() == 126 || code.error().exit_status() == 127) {
        exit_code = code.error().exit_status();
        output = code.error().message();
    } else {
        return std::move(code).error().wrap(fmt::format("health check of container {}", short_id));
    }

    auto state = read_health(ctx, c.rec).value_or(fresh_state());
    HealthResult res;
    res.passed = exit_code == 0;
    int streak = state.value("FailingStreak", 0);
    std::string status = state.value("Status", std::string("starting"));
    bool in_start_period = (start - c.rec.started * 1'000'000'000) < cfg.start_period_ns;
    if (res.passed) {
        streak = 0;
        status = "healthy";
    } else if (!in_start_period) {
        // A failure in the start period does not count (Docker).
        if (++streak >= cfg.retries) status = "unhealthy";
    }
    state["Status"] = status;
    state["FailingStreak"] = streak;
    auto& log = state["Log"];
    if (!log.is_array()) log = nlohmann::json::array();
    log.push_back({{"Start", time::rfc3339_ns(start)}, {"End", time::rfc3339_ns(end)}, {"ExitCode", exit_code},
                   {"Output", output}});
    while (log.size() > kLogEntries) log.erase(log.begin());
    BOCK_TRY_CTX(fs::write_file_replace(health_file(ctx, c.rec.id), state.dump(2), 0600, false),
                 "record the health of the container");
    res.status = status;
    if (status == "unhealthy" && !res.passed && cfg.on_failure != "none") {
        res.action = BOCK_TRY_CTX(apply_on_failure(ctx, c, cfg.on_failure), "--health-on-failure");
        log::info("container {} is unhealthy: {}", short_id, res.action);
    }
    return res;
}

}  // namespace bock::engine

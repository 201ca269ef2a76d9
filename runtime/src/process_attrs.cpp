// process_attrs.hpp: parsing in the parent, applying in the child.
#include "process_attrs.hpp"

#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "child.hpp"
#include "plan.hpp"

namespace bock::runtime {

namespace raw = bock::sys::raw;
using nlohmann::json;

namespace {

struct Named {
    const char* name;
    uint64_t value;
};

constexpr Named kIoClasses[] = {{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
constexpr Named kPolicies[] = {{"SCHED_OTHER", 0}, {"SCHED_FIFO", 1},  {"SCHED_RR", 2},
                               {"SCHED_BATCH", 3}, {"SCHED_ISO", 4},   {"SCHED_IDLE", 5},
                               {"SCHED_DEADLINE", 6}};
constexpr Named kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},        {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

// The kernel's struct sched_attr (sched_setattr(2)); glibc < 2.41 has none.
struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

template <size_t N>
Result<uint64_t> lookup(const Named (&table)[N], const json& v, std::string_view field) {
    if (!v.is_string()) return make_error("{}: must be a string", field);
    std::string name = v.get<std::string>();
    for (const auto& n : table)
        if (name == n.name) return n.value;
    return make_error("{}: unknown value `{}`", field, name);
}

Result<int64_t> integer(const json& obj, const char* key, std::string_view field, int64_t fallback = 0) {
    if (!obj.contains(key)) return fallback;
    const json& v = obj[key];
    if (!v.is_number_integer()) return make_error("{}.{}: must be an integer", field, key);
    return v.get<int64_t>();
}

bool apparmor_enabled() {
    return fs::read_file("/sys/module/apparmor/parameters/enabled").value_or("").rfind("Y", 0) == 0;
}

bool selinux_enabled() { return fs::exists("/sys/fs/selinux/enforce"); }

Result<void> plan_scheduler(const json& s, ProcessAttrs& a) {
    const char* f = "process.scheduler";
    if (!s.is_object()) return make_error("{}: must be an object", f);
    if (!s.contains("policy")) return make_error("{}.policy: required", f);
    a.set_sched = true;
    a.sched_policy = static_cast<uint32_t>(BOCK_TRY(lookup(kPolicies, s["policy"], "process.scheduler.policy")));
    int64_t nice = BOCK_TRY(integer(s, "nice", f));
    if (nice < -20 || nice > 19) return make_error("{}.nice: {} is out of range (-20 to 19)", f, nice);
    a.sched_nice = static_cast<int32_t>(nice);
    a.sched_priority = static_cast<uint32_t>(BOCK_TRY(integer(s, "priority", f)));
    a.sched_runtime = static_cast<uint64_t>(BOCK_TRY(integer(s, "runtime", f)));
    a.sched_deadline = static_cast<uint64_t>(BOCK_TRY(integer(s, "deadline", f)));
    a.sched_period = static_cast<uint64_t>(BOCK_TRY(integer(s, "period", f)));
    if (s.contains("flags")) {
        if (!s["flags"].is_array()) return make_error("{}.flags: must be an array of strings", f);
        for (const auto& fl : s["flags"]) a.sched_flags |= BOCK_TRY(lookup(kSchedFlags, fl, "process.scheduler.flags"));
    }
    return ok();
}

Result<void> plan_time(const Spec& spec, const json& linux_, ProcessAttrs& a) {
    for (const auto& ns : spec.namespaces)
        if (ns.type == "time" && ns.path.empty()) a.new_time = true;
    if (!linux_.contains("timeOffsets")) return ok();
    const json& t = linux_["timeOffsets"];
    if (!t.is_object()) return make_error("linux.timeOffsets: must be an object");
    if (!a.new_time && !t.empty())
        return make_error("linux.timeOffsets: needs a new `time` namespace in linux.namespaces");
    for (const auto& [clock, off] : t.items()) {
        std::string field = "linux.timeOffsets." + clock;
        if (clock != "monotonic" && clock != "boottime")
            return make_error("{}: unknown clock (use monotonic or boottime)", field);
        if (!off.is_object()) return make_error("{}: must be an object", field);
        int64_t secs = BOCK_TRY(integer(off, "secs", field));
        int64_t nanos = BOCK_TRY(integer(off, "nanosecs", field));
        if (nanos < 0 || nanos > 999999999) return make_error("{}.nanosecs: {} is out of range", field, nanos);
        a.time_offsets += fmt::format("{} {} {}\n", clock, secs, nanos);
    }
    return ok();
}

// The step's detail names the field, so the parent's message does.
void fail_attr(Child& c, int err, const char* field) { child_fail(c, Step::process_attr, err, -1, field); }

int write_proc(const char* path, const std::string& text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int r = raw::write_all(fd, text.data(), text.size());
    ::close(fd);
    return r < 0 ? r : 0;
}

}  // namespace

Result<void> plan_process_attrs(const Spec& spec, Plan& p) {
    ProcessAttrs& a = p.attrs;
    const json empty = json::object();
    const json& proc = spec.raw.contains("process") && spec.raw["process"].is_object() ? spec.raw["process"] : empty;
    const json& linux_ = spec.raw.contains("linux") && spec.raw["linux"].is_object() ? spec.raw["linux"] : empty;

    if (proc.contains("oomScoreAdj")) {
        const json& v = proc["oomScoreAdj"];
        if (!v.is_number_integer()) return make_error("process.oomScoreAdj: must be an integer");
        int64_t n = v.get<int64_t>();
        if (n < -1000 || n > 1000) return make_error("process.oomScoreAdj: {} is out of range (-1000 to 1000)", n);
        a.set_oom = true;
        a.oom_score_adj = std::to_string(n);
    }
    if (proc.contains("ioPriority")) {
        const json& io = proc["ioPriority"];
        if (!io.is_object() || !io.contains("class")) return make_error("process.ioPriority: needs a `class`");
        uint64_t cls = BOCK_TRY(lookup(kIoClasses, io["class"], "process.ioPriority.class"));
        int64_t level = BOCK_TRY(integer(io, "priority", "process.ioPriority"));
        if (level < 0 || level > 7) return make_error("process.ioPriority.priority: {} is out of range (0 to 7)", level);
        a.set_ioprio = true;
        a.ioprio = static_cast<int>((cls << 13) | static_cast<uint64_t>(level));
    }
    if (proc.contains("scheduler")) BOCK_TRY(plan_scheduler(proc["scheduler"], a));
    if (linux_.contains("personality")) {
        const json& per = linux_["personality"];
        std::string domain = per.is_object() ? per.value("domain", "") : "";
        if (domain == "LINUX") a.personality = PER_LINUX;
        else if (domain == "LINUX32") a.personality = PER_LINUX32;
        else return make_error("linux.personality.domain: unknown domain `{}` (use LINUX or LINUX32)", domain);
        if (per.contains("flags") && !per["flags"].empty())
            return make_error("linux.personality.flags: no flags are supported");
        a.set_personality = true;
    }
    std::string profile = proc.value("apparmorProfile", "");
    if (!profile.empty()) {
        if (!apparmor_enabled())
            return make_error("process.apparmorProfile `{}`: AppArmor is not enabled on this host", profile);
        a.apparmor_exec = "exec " + profile;
    }
    // SELinux labels on a host without SELinux are ignored, as runc and
    // crun do (configs written for any host carry them): one debug line.
    std::string selinux_label = proc.value("selinuxLabel", "");
    std::string mount_label = linux_.value("mountLabel", "");
    if (selinux_label.empty() && mount_label.empty()) {
        // nothing to label
    } else if (!selinux_enabled()) {
        log::debug("SELinux is not enabled on this host: process.selinuxLabel `{}` and linux.mountLabel `{}` are "
                   "ignored",
                   selinux_label, mount_label);
    } else {
        a.selinux_label = selinux_label;
        if (!mount_label.empty())
            for (auto& m : p.mounts)
                if (!m.bind && m.kind == MountPlan::Kind::normal)
                    m.data += fmt::format("{}context=\"{}\"", m.data.empty() ? "" : ",", mount_label);
    }
    return plan_time(spec, linux_, a);
}

void enter_time_namespace(Child& c) {
    const ProcessAttrs& a = c.plan.attrs;
    if (!a.new_time) return;
    if (::unshare(CLONE_NEWTIME) < 0) child_fail(c, Step::time_namespace, errno);
    // Only before a process has entered the namespace: the exec'd process
    // is the first (execve moves it into time_for_children).
    if (!a.time_offsets.empty()) {
        int r = write_proc("/proc/self/timens_offsets", a.time_offsets);
        if (r < 0) child_fail(c, Step::time_namespace, -r, -1, "/proc/self/timens_offsets");
    }
}

void apply_process_attrs(Child& c) {
    const ProcessAttrs& a = c.plan.attrs;
    if (a.set_oom) {
        int r = write_proc("/proc/self/oom_score_adj", a.oom_score_adj);
        if (r < 0) fail_attr(c, -r, "process.oomScoreAdj");
    }
    if (a.set_ioprio && ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, a.ioprio) < 0)
        fail_attr(c, errno, "process.ioPriority");
    if (a.set_sched) {
        SchedAttr attr = {};
        attr.size = sizeof attr;
        attr.sched_policy = a.sched_policy;
        attr.sched_flags = a.sched_flags;
        attr.sched_nice = a.sched_nice;
        attr.sched_priority = a.sched_priority;
        attr.sched_runtime = a.sched_runtime;
        attr.sched_deadline = a.sched_deadline;
        attr.sched_period = a.sched_period;
        if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail_attr(c, errno, "process.scheduler");
    }
    if (a.set_personality && ::personality(a.personality) < 0) fail_attr(c, errno, "linux.personality");
    if (!a.apparmor_exec.empty()) {
        int r = write_proc("/proc/self/attr/apparmor/exec", a.apparmor_exec);
        if (r == -ENOENT) r = write_proc("/proc/self/attr/exec", a.apparmor_exec);
        if (r < 0) fail_attr(c, -r, "process.apparmorProfile");
    }
    if (!a.selinux_label.empty()) {
        int r = write_proc("/proc/self/attr/exec", a.selinux_label);
        if (r < 0) fail_attr(c, -r, "process.selinuxLabel");
    }
}

}  // namespace bock::runtime

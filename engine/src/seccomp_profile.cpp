// Docker/podman-format seccomp profiles to linux.seccomp (seccomp_profile.hpp).
#include "seccomp_profile.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace bock::engine {

namespace {

using nlohmann::json;

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// "4.8" <= "6.18.0", number by number.
bool kernel_at_least(const std::string& have, const std::string& want) {
    const char *a = have.c_str(), *b = want.c_str();
    while (*b) {
        char *ea = nullptr, *eb = nullptr;
        long x = std::strtol(a, &ea, 10), y = std::strtol(b, &eb, 10);
        if (eb == b) return true;  // nothing more to compare
        if (x != y) return x > y;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
    }
    return true;
}

Result<std::vector<std::string>> strings_of(const json& j, const std::string& where) {
    std::vector<std::string> out;
    if (j.is_null()) return out;
    if (!j.is_array()) return make_error("{}: must be an array of strings", where);
    for (const auto& e : j) {
        if (!e.is_string()) return make_error("{}: must be an array of strings", where);
        out.push_back(e.get<std::string>());
    }
    return out;
}

// includes (want = true) or excludes (want = false) of one entry.
Result<bool> condition_holds(const json& c, bool includes, const SeccompTarget& t, const std::string& where) {
    if (c.is_null()) return includes;
    if (!c.is_object()) return make_error("{}: must be an object", where);
    auto caps = BOCK_TRY(strings_of(c.value("caps", json()), where + ".caps"));
    auto arches = BOCK_TRY(strings_of(c.value("arches", json()), where + ".arches"));
    if (includes) {
        for (const auto& cap : caps)
            if (!contains(t.caps, cap)) return false;
        if (!arches.empty() && !contains(arches, t.arch)) return false;
        if (c.contains("minKernel")) {
            if (!c["minKernel"].is_string()) return make_error("{}.minKernel: must be a string", where);
            if (!kernel_at_least(t.kernel, c["minKernel"].get<std::string>())) return false;
        }
        return true;
    }
    for (const auto& cap : caps)
        if (contains(t.caps, cap)) return true;
    return contains(arches, t.arch);
}

Result<uint64_t> number(const json& j, const std::string& where) {
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0))
        return make_error("{}: must be a non-negative integer", where);
    return j.get<uint64_t>();
}

}  // namespace

SeccompTarget native_seccomp_target(std::vector<std::string> caps) {
    SeccompTarget t;
    t.caps = std::move(caps);
    struct utsname u {};
    ::uname(&u);
    t.kernel = u.release;
    const std::string m = u.machine;
    struct {
        const char *machine, *scmp, *arch;
    } table[] = {{"x86_64", "SCMP_ARCH_X86_64", "amd64"}, {"aarch64", "SCMP_ARCH_AARCH64", "arm64"},
                 {"ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le"}, {"s390x", "SCMP_ARCH_S390X", "s390x"},
                 {"riscv64", "SCMP_ARCH_RISCV64", "riscv64"}, {"i686", "SCMP_ARCH_X86", "386"},
                 {"armv7l", "SCMP_ARCH_ARM", "arm"}};
    for (const auto& e : table)
        if (m == e.machine) {
            t.scmp_arch = e.scmp;
            t.arch = e.arch;
        }
    return t;
}

Result<runtime::Seccomp> seccomp_from_profile(std::string_view json_text, std::string_view source,
                                              const SeccompTarget& t) {
    const std::string src(source);
    json doc = json::parse(json_text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return make_error("{}: not a JSON object", src)
            .with_hint("a seccomp profile in the Docker/podman format (see share/bock/seccomp.json)");
    runtime::Seccomp s;
    if (!doc.contains("defaultAction") || !doc["defaultAction"].is_string())
        return make_error("{}: defaultAction: missing or not a string", src);
    s.default_action = doc["defaultAction"].get<std::string>();
    if (doc.contains("defaultErrnoRet"))
        s.default_errno_ret = static_cast<uint32_t>(BOCK_TRY(number(doc["defaultErrnoRet"], src + ": defaultErrnoRet")));
    if (doc.contains("archMap") && doc["archMap"].is_array()) {
        for (const auto& a : doc["archMap"]) {
            if (!a.is_object() || a.value("architecture", "") != t.scmp_arch) continue;
            s.architectures.push_back(t.scmp_arch);
            for (auto& sub : BOCK_TRY(strings_of(a.value("subArchitectures", json()), src + ": archMap.subArchitectures")))
                s.architectures.push_back(sub);
        }
    } else {
        s.architectures = BOCK_TRY(strings_of(doc.value("architectures", json()), src + ": architectures"));
    }
    s.flags = BOCK_TRY(strings_of(doc.value("flags", json()), src + ": flags"));
    const json& calls = doc.value("syscalls", json::array());
    if (!calls.is_array()) return make_error("{}: syscalls: must be an array", src);
    for (size_t i = 0; i < calls.size(); ++i) {
        const json& c = calls[i];
        const std::string where = fmt::format("{}: syscalls[{}]", src, i);
        if (!c.is_object()) return make_error("{}: must be an object", where);
        if (!BOCK_TRY(condition_holds(c.value("includes", json()), true, t, where + ".includes"))) continue;
        if (BOCK_TRY(condition_holds(c.value("excludes", json()), false, t, where + ".excludes"))) continue;
        runtime::SeccompSyscall rule;
        if (c.contains("names")) rule.names = BOCK_TRY(strings_of(c["names"], where + ".names"));
        else if (c.contains("name") && c["name"].is_string()) rule.names.push_back(c["name"].get<std::string>());
        if (rule.names.empty()) return make_error("{}: names: at least one system call is needed", where);
        if (!c.contains("action") || !c["action"].is_string() || !c["action"].get<std::string>().starts_with("SCMP_ACT_"))
            return make_error("{}.action: missing or not an SCMP_ACT_ name", where);
        rule.action = c["action"].get<std::string>();
        if (c.contains("errnoRet")) rule.errno_ret = static_cast<uint32_t>(BOCK_TRY(number(c["errnoRet"], where + ".errnoRet")));
        const json& args = c.value("args", json::array());
        if (!args.is_null() && !args.is_array()) return make_error("{}.args: must be an array", where);
        for (size_t k = 0; !args.is_null() && k < args.size(); ++k) {
            const json& a = args[k];
            const std::string aw = fmt::format("{}.args[{}]", where, k);
            if (!a.is_object() || !a.contains("op") || !a["op"].is_string())
                return make_error("{}: needs index, value and op", aw);
            runtime::SeccompArg arg;
            arg.index = static_cast<uint32_t>(BOCK_TRY(number(a.value("index", json(0)), aw + ".index")));
            if (arg.index > 5) return make_error("{}.index: must be 0..5", aw);
            arg.value = BOCK_TRY(number(a.value("value", json(0)), aw + ".value"));
            arg.value_two = BOCK_TRY(number(a.value("valueTwo", json(0)), aw + ".valueTwo"));
            arg.op = a["op"].get<std::string>();
            rule.args.push_back(arg);
        }
        s.syscalls.push_back(std::move(rule));
    }
    return s;
}

}  // namespace bock::engine

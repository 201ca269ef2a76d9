// `bock-oci features` (runtime-spec features.md) and the version text.
// Lists come from what the runtime's code accepts: the mount options of
// plan.cpp, the seccomp names of seccomp.cpp, the capabilities libcap
// knows, the namespaces Bock can create or join.
#include "bock/runtime/features.hpp"

#include <seccomp.h>
#include <sys/capability.h>

#include <cctype>

#include "seccomp.hpp"

namespace bock::runtime {

namespace {

using nlohmann::json;

constexpr const char* kMountOptions[] = {
    "async",       "atime",       "bind",       "dev",         "diratime",  "dirsync",  "exec",
    "idmap",       "mand",        "noatime",    "nodev",       "nodiratime", "noexec",  "nomand",
    "norelatime",  "nostrictatime", "nosuid",   "nosymfollow", "private",   "rbind",    "relatime",
    "ridmap",      "ro",          "rprivate",   "rshared",     "rslave",    "runbindable", "rw",
    "shared",      "slave",       "strictatime", "suid",       "symfollow", "sync",     "unbindable",
};

constexpr const char* kSeccompActions[] = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG",   "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};  // SCMP_ACT_NOTIFY with linux.seccomp.listenerPath (seccomp_notify.cpp)

constexpr const char* kSeccompOps[] = {
    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

constexpr const char* kSeccompArchs[] = {
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",       "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64",  "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",   "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
    "SCMP_ARCH_X32",     "SCMP_ARCH_X86",       "SCMP_ARCH_X86_64",
};

constexpr const char* kSeccompFlags[] = {
    "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
};

// "CAP_CHOWN" for 0; empty for a number libcap has no name for.
std::string cap_name(cap_value_t v) {
    char* name = cap_to_name(v);
    if (!name) return "";
    std::string n = name;
    cap_free(name);
    for (auto& ch : n) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return n.rfind("CAP_", 0) == 0 ? n : "";
}

json capabilities() {
    json out = json::array();
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; ++v)
        if (auto n = cap_name(v); !n.empty()) out.push_back(n);
    return out;
}

json seccomp() {
    json actions = json::array(), ops = json::array(), archs = json::array(), flags = json::array();
    for (const char* a : kSeccompActions)
        if (seccomp_action_known(a)) actions.push_back(a);
    for (const char* o : kSeccompOps)
        if (seccomp_op_known(o)) ops.push_back(o);
    for (const char* a : kSeccompArchs)
        if (seccomp_arch_known(a)) archs.push_back(a);
    for (const char* f : kSeccompFlags)
        if (seccomp_flag_value(f)) flags.push_back(f);
    return {{"enabled", true},     {"actions", actions},     {"operators", ops},
            {"archs", archs},      {"knownFlags", flags},    {"supportedFlags", flags}};
}

}  // namespace

std::string libseccomp_version() {
    const scmp_version* v = seccomp_version();
    if (!v) return "unknown";
    return fmt::format("{}.{}.{}", v->major, v->minor, v->micro);
}

json features() {
    json mount_options = json::array();
    for (const char* o : kMountOptions) mount_options.push_back(o);
    json linux_ = {
        {"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", capabilities()},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp", seccomp()},
        // Applied where the host has them. Otherwise an AppArmor profile is
        // refused with an error; SELinux labels are ignored (as runc, crun).
        {"apparmor", {{"enabled", true}}},
        {"selinux", {{"enabled", true}}},
        {"intelRdt", {{"enabled", false}}},
        // As root; rootless the kernel refuses to id-map host filesystems.
        {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
    };
    return {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.1.0"},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions", mount_options},
        {"linux", linux_},
        {"annotations", {{"io.github.seccomp.libseccomp.version", libseccomp_version()}}},
    };
}

std::string version_text(const std::string& version, const std::string& commit) {
    return fmt::format("bock-oci version {}\ncommit: {}\nspec: 1.1.0\nlibseccomp: {}", version,
                       commit.empty() ? "unknown" : commit, libseccomp_version());
}

std::vector<std::string> capability_names(uint64_t mask) {
    std::vector<std::string> out;
    for (cap_value_t v = 0; v <= CAP_LAST_CAP && v < 64; ++v)
        if (mask & (uint64_t{1} << v))
            if (auto n = cap_name(v); !n.empty()) out.push_back(n.substr(4));
    return out;
}

int last_capability() { return CAP_LAST_CAP; }

std::vector<std::string> held_capabilities() {
    std::vector<std::string> out;
    cap_t caps = cap_get_proc();
    if (!caps) return out;
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; ++v) {
        cap_flag_value_t on = CAP_CLEAR;
        if (cap_get_flag(caps, v, CAP_EFFECTIVE, &on) < 0 || on != CAP_SET) continue;
        if (auto n = cap_name(v); !n.empty()) out.push_back(n);
    }
    cap_free(caps);
    return out;
}

}  // namespace bock::runtime

// Cgroup layout detection, cgroupsPath resolution, creation/removal of a
// container's directories and the operations shared by v1 and v2
// (bock/runtime/cgroup.hpp). The per-version writers are cgroup_v1.cpp
// and cgroup_v2.cpp.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/strings.hpp"
#include "cgroup_impl.hpp"

namespace bock::runtime {

namespace cg {

Result<void> write(const std::string& dir, const std::string& file, std::string_view value) {
    std::string path = dir + "/" + file;
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return errno_error("open `{}`", path);
    Fd guard(fd);
    int r = sys::raw::write_all(fd, value.data(), value.size());
    if (r < 0) return Error(-r, fmt::format("write `{}` to `{}`", value, path));
    return ok();
}

std::optional<std::string> read(const std::string& dir, const std::string& file) {
    auto text = fs::read_file(dir + "/" + file);
    if (!text) return std::nullopt;
    std::string s = std::move(*text);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file) {
    auto s = read(dir, file);
    if (!s || s->empty()) return std::nullopt;
    if (*s == "max") return UINT64_MAX;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s->c_str(), &end, 10);
    if (end == s->c_str()) return std::nullopt;
    return v;
}

nlohmann::json read_flat_keyed(const std::string& dir, const std::string& file) {
    nlohmann::json out = nlohmann::json::object();
    auto s = read(dir, file);
    if (!s) return out;
    std::istringstream in(*s);
    std::string key;
    uint64_t value;
    while (in >> key >> value) out[key] = value;
    return out;
}

bool exists(const std::string& dir, const std::string& file) { return ::access((dir + "/" + file).c_str(), F_OK) == 0; }

}  // namespace cg

namespace {

const char* const kV1Controllers[] = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",    "freezer",
                                      "blkio",   "pids",    "hugetlb", "net_cls", "net_prio", "perf_event",
                                      "rdma",    "misc"};

using strings::split;

std::string basename_of(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

// BOCK_CGROUP_ROOT: a directory standing for the whole cgroup filesystem.
CgroupLayout layout_from_dir(const std::string& root) {
    CgroupLayout l;
    if (fs::exists(root + "/cgroup.controllers")) {
        l.mode = CgroupMode::v2;
        l.unified = root;
        l.controllers = split(cg::read(root, "cgroup.controllers").value_or(""), ' ');
        l.own = "/";
        return l;
    }
    l.mode = CgroupMode::v1;
    DIR* d = ::opendir(root.c_str());
    if (!d) return l;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name[0] == '.' || !fs::is_dir(root + "/" + name)) continue;
        l.v1.push_back({name, root + "/" + name, "/", split(name, ','), "/"});
    }
    ::closedir(d);
    std::sort(l.v1.begin(), l.v1.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return l;
}

// /proc/self/cgroup: "0::/path" (v2) and "N:ctrl,ctrl:/path" (v1).
std::map<std::string, std::string> own_cgroups(const std::string& file = "/proc/self/cgroup") {
    std::map<std::string, std::string> out;
    auto text = fs::read_file(file);
    if (!text) return out;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
    return out;
}

// Joins a mount point and a path from the hierarchy root, taking the
// mount's own root into account (inside a container it is not "/").
std::string under(const std::string& mountpoint, const std::string& mount_root, const std::string& path) {
    std::string rel = path;
    if (mount_root != "/" && rel.rfind(mount_root, 0) == 0) rel = rel.substr(mount_root.size());
    if (rel.empty() || rel == "/") return mountpoint;
    return mountpoint + (rel[0] == '/' ? "" : "/") + rel;
}

Result<void> make_dir(const std::string& dir, std::vector<std::string>& created, bool& made) {
    made = false;
    if (::mkdir(dir.c_str(), 0755) == 0) {
        created.push_back(dir);
        made = true;
        return ok();
    }
    if (errno == EEXIST) return ok();
    return errno_error("create the cgroup `{}`", dir);
}

// Makes mountpoint/a, mountpoint/a/b, ... for each component of `path`;
// `on_new(parent, dir)` runs for each directory made.
template <typename F>
Result<std::string> make_path(const std::string& base, const std::string& path, std::vector<std::string>& created,
                              F&& on_new) {
    std::string dir = base;
    for (const auto& comp : split(path, '/')) {
        std::string parent = dir;
        dir += "/" + comp;
        bool made = false;
        BOCK_TRY(make_dir(dir, created, made));
        if (made) BOCK_TRY(on_new(parent, dir));
    }
    return dir;
}

}  // namespace

Result<CgroupLayout> detect_cgroups() {
    if (const char* root = std::getenv("BOCK_CGROUP_ROOT"); root && *root) return layout_from_dir(root);
    auto text = fs::read_file("/proc/self/mountinfo");
    if (!text) return std::move(text.error()).wrap("find the cgroup filesystems");
    auto own = own_cgroups();
    CgroupLayout l;
    std::string unified, unified_root;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        auto pre = split(line.substr(0, dash), ' ');
        auto post = split(line.substr(dash + 3), ' ');
        if (pre.size() < 5 || post.size() < 3) continue;
        if (post[0] == "cgroup2") {
            unified = pre[4];
            unified_root = pre[3];
        } else if (post[0] == "cgroup") {
            CgroupHierarchy h{basename_of(pre[4]), pre[4], pre[3], {}, "/"};
            for (const auto& opt : split(post[2], ','))
                for (const char* c : kV1Controllers)
                    if (opt == c) h.controllers.push_back(opt);
            if (h.controllers.empty()) continue;  // name=systemd and the like
            std::string key;
            for (const auto& c : h.controllers) key += (key.empty() ? "" : ",") + c;
            if (auto it = own.find(key); it != own.end()) h.own = it->second;
            l.v1.push_back(std::move(h));
        }
    }
    if (!l.v1.empty()) {
        // v1, or hybrid: the cgroup2 mount beside v1 holds few controllers
        // (hugetlb here); containers are placed with v1 only, as runc's
        // cgroupfs driver does for the limits it writes.
        l.mode = CgroupMode::v1;
        l.hybrid = !unified.empty();
        return l;
    }
    if (!unified.empty()) {
        l.mode = CgroupMode::v2;
        l.unified = unified;
        l.controllers = split(cg::read(unified, "cgroup.controllers").value_or(""), ' ');
        l.own = own.count("") ? own[""] : "/";
        if (unified_root != "/" && l.own.rfind(unified_root, 0) == 0) l.own = l.own.substr(unified_root.size());
        if (l.own.empty()) l.own = "/";
    }
    return l;
}

CgroupPaths cgroup_of_process(const CgroupLayout& layout, pid_t pid, pid_t parent) {
    CgroupPaths p;
    auto mine = own_cgroups(fmt::format("/proc/{}/cgroup", pid));
    auto theirs = own_cgroups(fmt::format("/proc/{}/cgroup", parent));
    if (mine.empty() || theirs.empty()) return p;
    if (layout.mode == CgroupMode::v2) {
        auto it = mine.find("");
        if (it == mine.end() || it->second == theirs[""]) return p;
        p.mode = CgroupMode::v2;
        p.path = it->second;
        p.unified = under(layout.unified, "/", it->second);
        return p;
    }
    for (const auto& h : layout.v1) {
        std::string key;
        for (const auto& c : h.controllers) key += (key.empty() ? "" : ",") + c;
        auto it = mine.find(key);
        if (it == mine.end() || it->second == theirs[key]) continue;
        p.mode = CgroupMode::v1;
        p.path = it->second;
        p.v1[h.name] = under(h.mountpoint, h.mount_root, it->second);
    }
    return p;
}

std::string CgroupPaths::dir_for(std::string_view controller) const {
    if (mode == CgroupMode::v2) return unified;
    for (const auto& [name, dir] : v1)
        for (const auto& c : split(name, ','))
            if (c == controller) return dir;
    return "";
}

nlohmann::json CgroupPaths::to_json() const {
    if (mode == CgroupMode::none) return nullptr;
    nlohmann::json j = {{"mode", mode == CgroupMode::v2 ? "v2" : "v1"}, {"path", path}};
    if (mode == CgroupMode::v2) j["unified"] = unified;
    else j["v1"] = v1;
    return j;
}

CgroupPaths CgroupPaths::from_json(const nlohmann::json& j) {
    CgroupPaths p;
    if (!j.is_object()) return p;
    std::string mode = j.value("mode", "");
    p.path = j.value("path", "");
    if (mode == "v2") {
        p.mode = CgroupMode::v2;
        p.unified = j.value("unified", "");
    } else if (mode == "v1") {
        p.mode = CgroupMode::v1;
        p.v1 = j.value("v1", std::map<std::string, std::string>{});
    }
    return p;
}

Result<std::string> resolve_cgroups_path(std::string_view spec_path, std::string_view own, std::string_view id) {
    std::string p(spec_path);
    if (p.empty()) return fmt::format("/bock/{}", id);
    if (p[0] != '/' && std::count(p.begin(), p.end(), ':') == 2) {
        // systemd's "slice:prefix:name": where systemd would put the scope,
        // "a-b.slice" nesting as /a.slice/a-b.slice.
        size_t c1 = p.find(':'), c2 = p.find(':', c1 + 1);
        std::string slice = p.substr(0, c1), prefix = p.substr(c1 + 1, c2 - c1 - 1), name = p.substr(c2 + 1);
        if (name.empty()) return make_error("linux.cgroupsPath `{}`: the name after the second `:` is empty", p);
        if (slice.empty() || slice == "-.slice") slice = "system.slice";
        if (slice.size() < 7 || slice.substr(slice.size() - 6) != ".slice")
            return make_error("linux.cgroupsPath `{}`: `{}` is not a systemd slice", p, slice);
        std::string out, stem = slice.substr(0, slice.size() - 6);
        for (size_t dash = stem.find('-'); dash != std::string::npos; dash = stem.find('-', dash + 1))
            out += "/" + stem.substr(0, dash) + ".slice";
        out += "/" + slice + "/" + (prefix.empty() ? name : prefix + "-" + name) + ".scope";
        return out;
    }
    for (const auto& comp : split(p, '/'))
        if (comp == "..") return make_error("linux.cgroupsPath `{}`: `..` is not allowed", p);
    if (p[0] == '/') return p;
    std::string base(own);
    if (base.empty() || base.back() != '/') base += "/";
    return base + p;
}

namespace {
// Processes just killed may keep the container's own directory busy for a
// moment; a parent is busy while it has other children: left alone.
void remove_dirs(const std::vector<std::string>& dirs, const std::string& leaf) {
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
        bool own = it->size() >= leaf.size() && it->compare(it->size() - leaf.size(), leaf.size(), leaf) == 0;
        for (int i = 0; ::rmdir(it->c_str()) < 0 && errno == EBUSY && own && i < 50; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}
}  // namespace

Cgroup::~Cgroup() { remove_dirs(created_, paths_.path); }
Cgroup::Cgroup(Cgroup&& o) noexcept : paths_(std::move(o.paths_)), created_(std::move(o.created_)) {
    o.created_.clear();
}
Cgroup& Cgroup::operator=(Cgroup&& o) noexcept {
    if (this != &o) {
        remove_dirs(created_, paths_.path);
        paths_ = std::move(o.paths_);
        created_ = std::move(o.created_);
        o.created_.clear();
    }
    return *this;
}

Result<Cgroup> Cgroup::create(const CgroupLayout& layout, const std::string& path) {
    Cgroup c;
    c.paths_.mode = layout.mode;
    c.paths_.path = path;
    if (layout.mode == CgroupMode::v2) {
        auto none = [](const std::string&, const std::string&) -> Result<void> { return ok(); };
        c.paths_.unified = BOCK_TRY(make_path(layout.unified, path, c.created_, none));
        // Each parent, from the root down, delegates its controllers.
        std::vector<std::string> chain;
        for (std::string d = c.paths_.unified; d.size() > layout.unified.size(); d = d.substr(0, d.rfind('/')))
            chain.insert(chain.begin(), d.substr(0, d.rfind('/')));
        cg::v2_enable_controllers(chain);
        return c;
    }
    for (const auto& h : layout.v1) {
        bool cpuset = std::find(h.controllers.begin(), h.controllers.end(), "cpuset") != h.controllers.end();
        auto copy_cpuset = [&](const std::string& parent, const std::string& dir) -> Result<void> {
            if (!cpuset) return ok();
            // A new cpuset is empty; a process cannot join it until it has cpus and mems.
            for (const char* f : {"cpuset.cpus", "cpuset.mems"})
                if (auto v = cg::read(parent, f); v && !v->empty()) BOCK_TRY(cg::write(dir, f, *v));
            return ok();
        };
        std::string dir = BOCK_TRY(make_path(under(h.mountpoint, h.mount_root, "/"), path, c.created_, copy_cpuset));
        c.paths_.v1[h.name] = dir;
    }
    return c;
}

Result<void> cgroup_apply(const CgroupPaths& cg, const Resources& r, std::vector<std::string>& warnings) {
    if (cg.mode == CgroupMode::v2) return cg::v2_apply(cg.unified, r, warnings);
    if (cg.mode == CgroupMode::v1) return cg::v1_apply(cg, r, warnings);
    return ok();
}

Result<void> cgroup_add_process(const CgroupPaths& cg, pid_t pid) {
    std::string text = std::to_string(pid);
    if (cg.mode == CgroupMode::v2) return cg::write(cg.unified, "cgroup.procs", text).context("join the container's cgroup");
    for (const auto& [name, dir] : cg.v1) BOCK_TRY_CTX(cg::write(dir, "cgroup.procs", text), "join the container's cgroup");
    return ok();
}

Result<void> cgroup_freeze(const CgroupPaths& cg, bool frozen) {
    if (cg.mode == CgroupMode::v2) return cg::v2_freeze(cg.unified, frozen);
    if (cg.mode == CgroupMode::v1) return cg::v1_freeze(cg, frozen);
    return make_error("the container has no cgroup: it cannot be {}", frozen ? "paused" : "resumed")
        .with_hint("rootless containers need cgroup v2 with systemd delegation for pause/resume");
}

bool cgroup_frozen(const CgroupPaths& cg) {
    if (cg.mode == CgroupMode::v2) return cg::v2_frozen(cg.unified);
    if (cg.mode == CgroupMode::v1) return cg::v1_frozen(cg);
    return false;
}

Result<std::vector<pid_t>> cgroup_pids(const CgroupPaths& cg) {
    std::string dir = cg.mode == CgroupMode::v2 ? cg.unified : cg.dir_for("pids");
    if (dir.empty() && !cg.v1.empty()) dir = cg.v1.begin()->second;
    if (dir.empty()) return make_error("the container has no cgroup");
    auto text = fs::read_file(dir + "/cgroup.procs");
    if (!text) return std::move(text.error()).wrap("list the container's processes");
    std::vector<pid_t> pids;
    std::istringstream in(*text);
    pid_t p;
    while (in >> p) pids.push_back(p);
    return pids;
}

nlohmann::json cgroup_stats(const CgroupPaths& cg) {
    if (cg.mode == CgroupMode::v2) return cg::v2_stats(cg.unified);
    if (cg.mode == CgroupMode::v1) return cg::v1_stats(cg);
    return nlohmann::json::object();
}

Result<void> cgroup_remove(const CgroupPaths& cg) {
    std::vector<std::string> dirs;
    if (cg.mode == CgroupMode::v2) dirs.push_back(cg.unified);
    for (const auto& [name, dir] : cg.v1) dirs.push_back(dir);
    for (const auto& dir : dirs) {
        for (int i = 0;; ++i) {
            if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
            if (errno != EBUSY || i >= 100) return errno_error("remove the cgroup `{}`", dir);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    return ok();
}

}  // namespace bock::runtime

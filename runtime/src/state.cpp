// The state directory of OCI containers (state.hpp): where it is, what
// state.json holds, and the status derived from it.
#include "bock/runtime/state.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"
#include "bock/runtime/cgroup.hpp"

namespace bock::runtime {

using nlohmann::json;

namespace {

constexpr const char* kStateFile = "state.json";

Result<std::string> private_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return errno_error("create `{}`", dir);
    struct stat st;
    if (::lstat(dir.c_str(), &st) < 0) return errno_error("stat `{}`", dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid())
        return make_error("`{}` is not a directory owned by uid {}", dir, ::getuid())
            .with_hint("remove it, set XDG_RUNTIME_DIR, or pass --root DIR");
    return dir;
}

bool id_char_ok(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
           c == '-' || c == '.';
}

}  // namespace

const char* status_name(Status s) {
    switch (s) {
        case Status::created: return "created";
        case Status::running: return "running";
        case Status::stopped: return "stopped";
        case Status::paused: return "paused";
    }
    return "unknown";
}

Result<std::string> default_state_root() {
    if (paths::running_as_root()) return std::string("/run/bock-oci");
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg && fs::is_dir(xdg)) return fs::join(xdg, "bock-oci");
    return private_dir(fmt::format("/tmp/bock-oci-{}", ::getuid()));
}

Result<void> check_container_id(std::string_view id) {
    if (id.empty()) return make_error("container id is empty");
    if (id == "." || id == ".." || id.size() > 1024 || !std::all_of(id.begin(), id.end(), id_char_ok))
        return make_error("invalid container id `{}` (use letters, digits, `_`, `+`, `-` and `.`)", id);
    return ok();
}

std::string state_dir(const std::string& root, const std::string& id) { return fs::join(root, id); }
std::string exec_fifo_path(const std::string& root, const std::string& id) {
    return fs::join(state_dir(root, id), "exec.fifo");
}

Result<void> make_state_dir(const std::string& root, const std::string& id) {
    BOCK_TRY(check_container_id(id));
    BOCK_TRY_CTX(fs::mkdir_p(root, 0700), "create the state root");
    std::string dir = state_dir(root, id);
    if (::mkdir(dir.c_str(), 0700) < 0) {
        if (errno == EEXIST) return make_error("container `{}` already exists", id);
        return errno_error("create `{}`", dir);
    }
    std::string fifo = exec_fifo_path(root, id);
    // 0622 whatever the umask: the container's user (any uid) writes it.
    if (::mkfifo(fifo.c_str(), 0622) < 0 || ::chmod(fifo.c_str(), 0622) < 0) {
        Error e = errno_error("create the exec fifo `{}`", fifo);
        (void)fs::remove_all(dir);
        return e;
    }
    return ok();
}

Result<void> save_state(const std::string& root, const ContainerState& s) {
    json j = {{"id", s.id},           {"ociVersion", s.oci_version}, {"bundle", s.bundle},
              {"created", s.created}, {"pid", s.pid},                {"pidStartTime", s.start_time},
              {"rootless", s.rootless}, {"owner", s.owner},          {"annotations", s.annotations}};
    if (!s.cgroup.is_null()) j["cgroup"] = s.cgroup;
    std::string path = fs::join(state_dir(root, s.id), kStateFile);
    return fs::write_file_atomic(path, j.dump(2) + "\n", 0600).context("save the container state");
}

Result<ContainerState> load_state(const std::string& root, const std::string& id) {
    if (!check_container_id(id)) return make_error("container `{}` does not exist", id);
    std::string path = fs::join(state_dir(root, id), kStateFile);
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) return make_error("container `{}` does not exist", id);
        return std::move(text.error()).wrap(fmt::format("read the state of container `{}`", id));
    }
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return make_error("state of container `{}`: `{}` is not valid JSON", id, path);
    ContainerState s;
    try {
        s.id = j.value("id", id);
        s.oci_version = j.value("ociVersion", "");
        s.bundle = j.value("bundle", "");
        s.created = j.value("created", "");
        s.pid = j.value("pid", 0);
        s.start_time = j.value("pidStartTime", uint64_t{0});
        s.rootless = j.value("rootless", false);
        s.owner = j.value("owner", uid_t{0});
        s.annotations = j.value("annotations", std::map<std::string, std::string>{});
        s.cgroup = j.value("cgroup", json());
    } catch (const json::exception& e) {
        return make_error("state of container `{}`: `{}`: {}", id, path, e.what());
    }
    return s;
}

Result<void> remove_state(const std::string& root, const std::string& id) {
    BOCK_TRY(check_container_id(id));
    return fs::remove_all(state_dir(root, id)).context(fmt::format("remove the state of container `{}`", id));
}

Result<std::vector<std::string>> list_containers(const std::string& root) {
    std::vector<std::string> ids;
    DIR* d = ::opendir(root.c_str());
    if (!d) {
        if (errno == ENOENT) return ids;
        return errno_error("list `{}`", root);
    }
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || !check_container_id(name)) continue;
        if (fs::exists(fs::join(state_dir(root, name), kStateFile))) ids.push_back(name);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

Status container_status(const std::string& root, const ContainerState& s) {
    if (!process_alive(s)) return Status::stopped;
    struct stat st;
    bool fifo = ::lstat(exec_fifo_path(root, s.id).c_str(), &st) == 0;
    if (fifo) return Status::created;
    return cgroup_frozen(CgroupPaths::from_json(s.cgroup)) ? Status::paused : Status::running;
}

json state_json(const ContainerState& s, Status status) {
    return json{{"ociVersion", s.oci_version},
                {"id", s.id},
                {"status", status_name(status)},
                {"pid", status == Status::stopped ? 0 : s.pid},
                {"bundle", s.bundle},
                {"created", s.created},
                {"rootless", s.rootless},
                {"annotations", s.annotations}};
}

}  // namespace bock::runtime

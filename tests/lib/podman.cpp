// podman with private storage per test (podman.hpp).
//
// Storage driver vfs: each layer is a plain directory copy, so podman
// mounts nothing on the host (as root, overlay would leave mounts under
// the test's tmp dir if a test died half way) and rootless podman needs no
// fuse-overlayfs. The image is tiny (busybox), so the copies are cheap.
// --network none: this machine has no slirp4netns, so rootless podman
// cannot build its default network; the same flag is used with every
// runtime and as root, so runc and bock-oci see identical config.json.
// --cgroup-manager cgroupfs: no systemd user manager here (rootless podman
// on this cgroup v1 machine then runs without cgroups, as it does with runc).
// A containers.conf of its own with lock_type "file": podman's default shm
// locks live in one /dev/shm segment per user, shared with every other
// podman of that user (other tests running in parallel); file locks live
// in --tmpdir. Rootless podman's pause process (it holds the user
// namespace) records its pid there too and is stopped at the end.
#include "podman.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"

namespace bock::test::podman {

namespace {

bool have(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

}  // namespace

Podman::Podman(std::string runtime, const std::string& name) : runtime_(std::move(runtime)) {
    if (!have("/usr/bin/podman")) skip("podman is not installed (Debian package podman)");
    if (!have("/usr/bin/conmon")) skip("conmon is not installed");
    if (!have("/usr/bin/script")) skip("script (util-linux) is not installed");
    if (!have(runtime_)) skip("runtime `" + runtime_ + "` is not installed");
    dir_ = tmp_dir() + "/" + name;
    for (const char* d : {"storage", "run", "tmp", "xdg"}) REQUIRE(fs::mkdir_p(dir_ + "/" + d));
    // Rootless podman keeps its runtime state in $XDG_RUNTIME_DIR, which
    // must be private to the user.
    REQUIRE(::chmod((dir_ + "/xdg").c_str(), 0700) == 0);
    REQUIRE(fs::write_file(dir_ + "/containers.conf", "[engine]\nlock_type = \"file\"\n"));
}

Podman::~Podman() {
    // Every container of this storage, then the storage itself (vfs: plain
    // files; rootless files may belong to subordinate ids, so removal goes
    // through `podman unshare`).
    (void)call({"rm", "-af", "-t", "0"}, 60);
    if (::getuid() == 0) {
        (void)run({"rm", "-rf", dir_ + "/storage", dir_ + "/run", dir_ + "/tmp"});
        return;
    }
    std::vector<std::string> argv = command({"unshare", "rm", "-rf", dir_ + "/storage", dir_ + "/run"});
    (void)run(argv, std::nullopt, env());
    if (auto pid = fs::read_file(dir_ + "/tmp/pause.pid")) {
        int p = std::atoi(pid->c_str());
        if (p > 1) (void)::kill(p, SIGKILL);
    }
}

std::vector<std::string> Podman::command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"timeout", "-k", "5", "120", "podman", "--root", dir_ + "/storage",
                                  "--runroot", dir_ + "/run", "--tmpdir", dir_ + "/tmp", "--runtime", runtime_,
                                  "--cgroup-manager", "cgroupfs", "--events-backend", "none", "--storage-driver",
                                  "vfs"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::vector<std::string> Podman::env() const {
    std::vector<std::string> e{"CONTAINERS_CONF=" + dir_ + "/containers.conf"};
    if (::getuid() != 0) e.push_back("XDG_RUNTIME_DIR=" + dir_ + "/xdg");
    return e;
}

Run Podman::call(const std::vector<std::string>& args, int timeout_s) {
    auto argv = command(args);
    argv[3] = std::to_string(timeout_s);
    Run r = run(argv, std::string(), env());
    UNSCOPED_INFO("podman " << fmt::format("{}", fmt::join(args, " ")) << " (" << runtime_ << ") -> " << r.code
                            << "\nstdout: " << r.out << "\nstderr: " << r.err);
    return r;
}

Run Podman::tty(const std::vector<std::string>& args, int rows, int cols, int timeout_s) {
    // The timeout goes around `script`, not inside it: timeout(1) runs its
    // command in a process group of its own, which is then not the pty's
    // foreground group, and podman's switch to raw mode (TCSETS) would stop
    // on SIGTTOU forever.
    auto argv = command(args);
    argv.erase(argv.begin(), argv.begin() + 4);  // "timeout -k 5 N"
    std::string line = fmt::format("stty rows {} cols {}; exec", rows, cols);
    for (const auto& a : argv) line += " " + shell_quote(a);
    // script's own stdin must stay open until podman is done: at EOF it
    // ends the session, and podman -it then often exits before the
    // container's output came through (with runc as with bock-oci).
    std::string wrapper = fmt::format(
        "exec 3< <(exec sleep {}); timeout -k 5 {} script -qec \"$0\" /dev/null <&3; rc=$?; kill $! 2>/dev/null; "
        "exit $rc",
        timeout_s + 10, timeout_s);
    Run r = run({"bash", "-c", wrapper, line}, std::string(), env());
    UNSCOPED_INFO("(pty) podman " << fmt::format("{}", fmt::join(args, " ")) << " (" << runtime_ << ") -> "
                                  << r.code << "\noutput: " << r.out << "\nstderr: " << r.err);
    return r;
}

std::string Podman::busybox_image() {
    // A root filesystem with busybox and its applet links, imported as an
    // image: podman's own image store, made from the host's busybox.
    std::string root = dir_ + "/bb-rootfs";
    if (!fs::exists(root)) {
        REQUIRE(fs::mkdir_p(root + "/bin"));
        for (const char* d : {"etc", "tmp", "proc", "sys", "dev"}) REQUIRE(fs::mkdir_p(root + "/" + d));
        REQUIRE(run({"cp", "/bin/busybox", root + "/bin/busybox"}).code == 0);
        for (const char* a : {"sh", "echo", "cat", "sleep", "tty", "stty", "ls", "id", "true"})
            REQUIRE(::symlink("busybox", (root + "/bin/" + a).c_str()) == 0);
        REQUIRE(run({"tar", "-C", root, "-cf", dir_ + "/bb.tar", "."}).code == 0);
        Run imp = call({"import", dir_ + "/bb.tar", "localhost/bb:latest"});
        REQUIRE(imp.code == 0);
    }
    return "localhost/bb:latest";
}

}  // namespace bock::test::podman

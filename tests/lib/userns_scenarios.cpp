#include "userns_scenarios.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <sstream>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "net_fixtures.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using json = nlohmann::json;

// busybox plus files of uid/gid 5, to see the image's owners inside.
std::string owners_image() {
    return make_image("localhost/userns-owners:1", {"dir /data 0755 5 5\ntext /data/b 0644 5 5 b\n"});
}

// "0 1 2000" equals "         0          1       2000" (uid_map's columns).
bool strings_equal_ws(const std::string& a, const std::string& b) {
    auto squash = [](const std::string& s) {
        std::string out;
        for (char c : s) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                if (!out.empty() && out.back() != ' ') out += ' ';
            } else {
                out += c;
            }
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out;
    };
    return squash(a) == squash(b);
}

std::string store_root() { return env_or("BOCK_ROOT", ""); }

std::string only_container() {
    auto r = cli({"ps", "-a", "--format", "json"});
    REQUIRE(r.code == 0);
    auto j = json::parse(r.out);
    REQUIRE(!j.empty());
    return j[0]["Id"].get<std::string>();
}

// Bytes on disk under a directory (du -s -B1).
uint64_t disk_use(const std::string& dir) {
    auto r = run({"du", "-s", "-B1", dir});
    REQUIRE(r.code == 0);
    return std::stoull(r.out);
}

bool nothing_left() {
    auto r = cli({"ps", "-a", "--format", "json"});
    return r.code == 0 && json::parse(r.out).empty();
}

// `bock ARGS` until it succeeds (2 s at most): `exec` right after `start`
// or `restart` may come before the container's execve, when it is not
// dumpable yet and its namespaces cannot be opened.
Run cli_retry(const std::vector<std::string>& args) {
    Run r;
    for (int i = 0; i < 20; ++i) {
        r = cli(args);
        if (r.code == 0) break;
        ::usleep(100000);
    }
    return r;
}

// A server on the host's loopback, reached from inside through the
// gateway 10.0.2.2 (bock-netns with host loopback allowed): `get` fetches
// `hello` from it inside a container run `with` its network flags.
struct HostServer {
    std::string www = tmp_dir() + "/www";
    uint16_t port = lo_free_port();
    Pid httpd;
    std::string get = fmt::format("timeout 10 wget -qO- http://10.0.2.2:{}/hello.txt", port);
    std::string hello = "hello from the host";

    HostServer() {
        REQUIRE(fs::mkdir_p(www, 0755));
        REQUIRE(fs::write_file(www + "/hello.txt", hello + "\n"));
        httpd = loopback_httpd(www, port);
        const std::string url = fmt::format("http://127.0.0.1:{}/hello.txt", port);
        for (int i = 0; i < 100 && run({"/bin/busybox", "wget", "-qO-", url}).code != 0; ++i) ::usleep(50000);
    }
    std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) const {
        head.insert(head.end(), {"--dns-upstream", "127.0.0.1:9", "--network", "slirp4netns:allow_host_loopback=true"});
        head.insert(head.end(), tail.begin(), tail.end());
        return head;
    }
};

std::string write_config(const std::string& text) {
    std::string dir = tmp_dir() + "/xdg";
    REQUIRE(fs::mkdir_p(dir + "/bock"));
    REQUIRE(fs::write_file(dir + "/bock/bock.conf", text));
    return dir;
}

}  // namespace

void check_keep_id() {
    auto img = owners_image();
    std::string shared = tmp_dir() + "/shared";
    REQUIRE(fs::mkdir_p(shared, 0700));
    REQUIRE(fs::write_file_atomic(shared + "/mine", "hello\n", 0600));
    const std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
    const std::string bind = shared + ":/shared";
    const std::string script =
        "id -u; id -g; stat -c '%u %g' /shared/mine /bin/busybox /data/b; cat /shared/mine";

    // Negative control: the default rootless mapping makes the user root.
    auto plain = cli({"run", "--rm", "--network", "none", "-v", bind, img, "sh", "-c", script});
    INFO(plain.err);
    REQUIRE(plain.code == 0);
    CHECK(lines(plain.out) == std::vector<std::string>{"0", "0", "0 0", "0 0", "5 5", "hello"});

    auto layers_before = dir_entries(store_root() + "/layers").size();
    auto r = cli({"run", "--userns=keep-id", "-v", bind, img, "sh", "-c",
                  script + " && echo more >> /shared/mine && echo new > /shared/created && touch /tmp/upper-file"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    // The user's ids inside; the user's file theirs; the image's owners kept.
    CHECK(lines(r.out) == std::vector<std::string>{uid, gid, uid + " " + gid, "0 0", "5 5", "hello"});
    auto back = fs::read_file(shared + "/mine");
    REQUIRE(back);
    CHECK(*back == "hello\nmore\n");
    struct stat st{};
    REQUIRE(::stat((shared + "/created").c_str(), &st) == 0);
    CHECK(st.st_uid == ::getuid());
    CHECK(st.st_gid == ::getgid());

    // The root was an id-shifting FUSE overlay, not a copy: the container's
    // directory holds its own writes only (busybox alone is over 1 MiB),
    // and the store has no new layer directory.
    auto id = only_container();
    auto driver = cli({"inspect", "--format", "{{.Driver}}", id});
    CHECK((driver.out == "bock-fuse\n" || driver.out == "fuse-overlayfs\n"));
    CHECK(disk_use(store_root() + "/containers/" + id) < 512 * 1024);
    CHECK(dir_entries(store_root() + "/layers").size() == layers_before);
    // The user has a name and a home inside (an /etc/passwd entry, as podman).
    auto who = cli({"run", "--rm", "--userns=keep-id", img, "sh", "-c", "id -un; id -gn; echo $HOME"});
    INFO(who.err);
    REQUIRE(who.code == 0);
    auto wl = lines(who.out);
    REQUIRE(wl.size() == 3);
    CHECK(wl[0] == current_user());
    CHECK(wl[1] == current_user());  // bocktest's own group
    auto* pw = ::getpwuid(::getuid());
    REQUIRE(pw);
    CHECK(wl[2] == pw->pw_dir);
    // A second container with the same mapping: no copy either.
    auto again = cli({"run", "--userns=keep-id", img, "stat", "-c", "%u", "/bin/busybox"});
    REQUIRE(again.code == 0);
    CHECK(again.out == "0\n");
    CHECK(dir_entries(store_root() + "/layers").size() == layers_before);
    REQUIRE(cli({"rm", "-a"}).code == 0);
}

void check_userns_volumes() {
    auto img = owners_image();
    // A new named volume at /data under keep-id: the copy-up from the
    // shifted root keeps the image's owners (5) and content as seen inside.
    auto k = cli({"run", "--rm", "--userns=keep-id", "-v", "uvol:/data", img, "sh", "-c",
                  "stat -c '%u %g' /data /data/b; cat /data/b; echo; id -u"});
    INFO(k.err);
    REQUIRE(k.code == 0);
    CHECK(lines(k.out) == std::vector<std::string>{"5 5", "5 5", "b", std::to_string(::getuid())});
    // Stored as the session's ids of keep-id's container 5 (subordinate 6),
    // not the plain 5: a second keep-id container sees the same owners.
    auto again = cli({"run", "--rm", "--userns=keep-id", "-v", "uvol:/data", img, "stat", "-c",
                      "%u", "/data/b"});
    INFO(again.err);
    CHECK(again.out == "5\n");
    auto plain = cli({"run", "--rm", "--network", "none", "-v", "uvol:/data", img, "stat", "-c", "%u", "/data/b"});
    CHECK(plain.out == "6\n");
    REQUIRE(cli({"volume", "rm", "uvol"}).code == 0);

    // :U under --uidmap 0:100:1000: the source belongs to the container's
    // root, which is the session's 100 (negative control: not the user).
    std::string src = tmp_dir() + "/uchown";
    REQUIRE(fs::mkdir_p(src, 0755));
    // The container's root (not the user) must be able to reach the source:
    // the test's private directories get o+x, as a user would give them.
    for (std::string d = tmp_dir(); d.size() > 1 && d != "/tmp"; d = d.substr(0, d.rfind('/')))
        ::chmod(d.c_str(), 0711);
    REQUIRE(fs::write_file(src + "/f", "x\n"));
    auto u = cli({"run", "--rm", "--uidmap", "0:100:1000", "-v", src + ":/d:U", img, "sh", "-c",
                  "stat -c '%u %g' /d /d/f; echo y >> /d/f"});
    INFO(u.err);
    REQUIRE(u.code == 0);
    CHECK(lines(u.out) == std::vector<std::string>{"0 0", "0 0"});
    struct stat st{};
    REQUIRE(::stat((src + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid != ::getuid());
    // The session's view (the default mapping): the mapped id 100.
    auto seen = cli({"run", "--rm", "--network", "none", "-v", src + ":/d", img, "stat", "-c", "%u %g", "/d/f"});
    INFO(seen.err);
    CHECK(seen.out == "100 100\n");
    // A user the maps leave out: refused, nothing left.
    auto bad = cli({"run", "--rm", "--uidmap", "0:100:1000", "-u", "2000", "-v", src + ":/d:U", img, "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("not mapped by its user namespace") != std::string::npos);
    CHECK(nothing_left());
}

void check_userns_modes() {
    auto img = owners_image();
    // The default network (bock-netns), which a container with a user
    // namespace of its own gets like any other.
    auto run_in = [&](std::vector<std::string> flags, const std::string& script) {
        std::vector<std::string> argv{"run", "--rm"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), {img, "sh", "-c", script});
        return cli(argv);
    };
    const std::string view = "id -u; id -g; stat -c '%u %g' /bin/busybox /data/b; cat /proc/self/uid_map";

    // --uidmap: the session's ids 1..2000 as 0..1999 (gids the same).
    auto m = run_in({"--uidmap", "0:1:2000"}, view);
    INFO(m.err);
    REQUIRE(m.code == 0);
    auto l = lines(m.out);
    REQUIRE(l.size() == 5);
    CHECK(l[0] == "0");
    CHECK(l[2] == "0 0");
    CHECK(l[3] == "5 5");
    CHECK(strings_equal_ws(l[4], "0 1 2000"));

    // keep-id with other ids.
    auto k = run_in({"--userns=keep-id:uid=500,gid=600"}, "id -u; id -g; stat -c '%u' /bin/busybox");
    INFO(k.err);
    REQUIRE(k.code == 0);
    CHECK(lines(k.out) == std::vector<std::string>{"500", "600", "0"});

    // host: the rootless session itself, as without the flag.
    auto h = run_in({"--userns=host"}, "id -u; stat -c '%u' /data/b");
    REQUIRE(h.code == 0);
    CHECK(lines(h.out) == std::vector<std::string>{"0", "5"});

    // auto: two containers get different ranges; each sees the image's owners.
    auto a1 = cli({"run", "-d", "--userns=auto:size=1000", img, "sleep", "60"});
    INFO(a1.err);
    REQUIRE(a1.code == 0);
    auto a2 = run_in({"--userns=auto:size=1000"}, "cat /proc/self/uid_map; stat -c '%u' /data/b");
    INFO(a2.err);
    REQUIRE(a2.code == 0);
    std::string first_map = cli({"exec", lines(a1.out)[0], "cat", "/proc/self/uid_map"}).out;
    CHECK(strings_equal_ws(first_map, "0 1 1000"));
    CHECK(strings_equal_ws(lines(a2.out)[0], "0 1001 1000"));
    CHECK(lines(a2.out)[1] == "5");

    // ns:PATH: join the user namespace of the running auto container.
    auto pid = cli({"inspect", "--format", "{{.State.Pid}}", lines(a1.out)[0]});
    REQUIRE(pid.code == 0);
    auto ns = run_in({"--userns=ns:/proc/" + lines(pid.out)[0] + "/ns/user"}, "cat /proc/self/uid_map");
    INFO(ns.err);
    CHECK(ns.code == 0);
    CHECK(strings_equal_ws(ns.out, "0 1 1000"));
    REQUIRE(cli({"rm", "-f", lines(a1.out)[0]}).code == 0);

    // bock create + start, then a stop and start again: the root is mounted
    // with the same shift (kept in the record).
    auto cr = cli({"create", "--userns=keep-id", img, "sleep", "60"});
    INFO(cr.err);
    REQUIRE(cr.code == 0);
    std::string cid = lines(cr.out)[0];
    const std::vector<std::string> look{"exec", cid, "sh", "-c", "id -u; stat -c %u /bin/busybox /data/b"};
    const std::vector<std::string> want{std::to_string(::getuid()), "0", "5"};
    // `start` returns once the fifo is read, before the process's execve:
    // until then it is not dumpable (it changed its uid) and exec cannot
    // open its namespaces, so exec is retried for up to 2 s.
    auto exec_look = [&] {
        Run r;
        for (int i = 0; i < 20; ++i) {
            r = cli(look);
            if (r.code == 0) break;
            ::usleep(100000);
        }
        return r;
    };
    REQUIRE(cli({"start", cid}).code == 0);
    CHECK(lines(exec_look().out) == want);
    REQUIRE(cli({"stop", "-t", "1", cid}).code == 0);
    // `stop` returns before the monitor's cleanup has recorded the exit and
    // unmounted the root; a `start` that takes the container's lock first
    // has its new root unmounted by that cleanup (a lifecycle race, not
    // the user namespace's): wait for the recorded finish time.
    for (int i = 0; i < 50; ++i) {
        auto f = cli({"inspect", "--format", "{{.State.FinishedAt}}", cid});
        if (f.code == 0 && f.out.find("0001-01-01") == std::string::npos) break;
        ::usleep(100000);
    }
    REQUIRE(cli({"start", cid}).code == 0);
    CHECK(lines(exec_look().out) == want);
    REQUIRE(cli({"rm", "-f", cid}).code == 0);

    // Bad input: one line with the fix, exit 125, nothing left.
    auto too_many = run_in({"--uidmap", "0:1:70000"}, "true");
    CHECK(too_many.code == 125);
    CHECK(too_many.err.find("not mapped in the rootless session") != std::string::npos);
    CHECK(run_in({"--uidmap", "0:1"}, "true").code == 125);
    auto unknown = run_in({"--userns=bogus"}, "true");
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("keep-id[:uid=N,gid=N]") != std::string::npos);
    CHECK(run_in({"--userns=ns:/nonexistent/ns"}, "true").code == 125);
    CHECK(run_in({"--userns=keep-id", "--uidmap", "0:1:10"}, "true").code == 125);
    CHECK(nothing_left());
}

void check_userns_network() {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is not usable by this user");
    auto img = owners_image();
    HostServer server;
    const std::string& get = server.get;
    const std::string& hello = server.hello;
    auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
        return server.with(std::move(head), std::move(tail));
    };

    // keep-id, foreground: the user inside, a bound directory written as
    // the user, the host's server reached.
    std::string dir = tmp_dir() + "/h";
    REQUIRE(fs::mkdir_p(dir, 0700));
    auto k = cli(with({"run", "--rm", "--userns=keep-id", "-v", dir + ":/h"},
                      {img, "sh", "-c", "id -u; touch /h/f; " + get}));
    INFO(k.err);
    REQUIRE(k.code == 0);
    CHECK(lines(k.out) == std::vector<std::string>{std::to_string(::getuid()), hello});
    struct stat st{};
    REQUIRE(::stat((dir + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid == ::getuid());

    // --uidmap leaving out the session's root, foreground: root inside.
    auto m = cli(with({"run", "--rm", "--uidmap", "0:1:1000"}, {img, "sh", "-c", "id -u; " + get}));
    INFO(m.err);
    REQUIRE(m.code == 0);
    CHECK(lines(m.out) == std::vector<std::string>{"0", hello});

    // auto, detached (the monitor's creator sends the namespace), then
    // restarted: a new namespace, a new helper, the same reach.
    auto a = cli(with({"run", "-d", "--userns=auto:size=1000"}, {img, "sleep", "60"}));
    INFO(a.err);
    REQUIRE(a.code == 0);
    std::string aid = lines(a.out)[0];
    auto ag = cli_retry({"exec", aid, "sh", "-c", "cat /proc/self/uid_map; " + get});
    INFO(ag.err);
    REQUIRE(lines(ag.out).size() == 2);
    // A block of 1000 that leaves out the session's root (0 N 1000, N > 0).
    std::istringstream fields(lines(ag.out)[0]);
    long inside = -1, outside = -1, count = -1;
    fields >> inside >> outside >> count;
    CHECK(inside == 0);
    CHECK(outside > 0);
    CHECK(count == 1000);
    CHECK(lines(ag.out)[1] == hello);
    REQUIRE(cli({"restart", "-t", "1", aid}).code == 0);
    auto ag2 = cli_retry({"exec", aid, "sh", "-c", get});
    INFO(ag2.err);
    CHECK(ag2.out == hello + "\n");
    // ns:PATH, the auto container's user namespace joined: the process is
    // born root there (another id), its network namespace made and sent
    // by the runtime's helper that joined it.
    auto apid = cli({"inspect", "--format", "{{.State.Pid}}", aid});
    REQUIRE(apid.code == 0);
    auto j = cli(with({"run", "--rm", "--userns=ns:/proc/" + lines(apid.out)[0] + "/ns/user"},
                      {img, "sh", "-c", "id -u; " + get}));
    INFO(j.err);
    CHECK(lines(j.out) == std::vector<std::string>{"0", hello});
    REQUIRE(cli({"rm", "-f", aid}).code == 0);

    // keep-id created, then started, then restarted.
    auto cr = cli(with({"create", "--userns=keep-id"}, {img, "sleep", "60"}));
    INFO(cr.err);
    REQUIRE(cr.code == 0);
    std::string cid = lines(cr.out)[0];
    REQUIRE(cli({"start", cid}).code == 0);
    auto cg = cli_retry({"exec", cid, "sh", "-c", "id -u; " + get});
    INFO(cg.err);
    CHECK(lines(cg.out) == std::vector<std::string>{std::to_string(::getuid()), hello});
    REQUIRE(cli({"restart", "-t", "1", cid}).code == 0);
    auto cg2 = cli_retry({"exec", cid, "sh", "-c", get});
    INFO(cg2.err);
    CHECK(cg2.out == hello + "\n");
    REQUIRE(cli({"rm", "-f", cid}).code == 0);
    CHECK(nothing_left());
}

void check_root_userns() {
    auto img = owners_image();
    auto refused = cli({"run", "--rm", "--userns=keep-id", img, "true"});
    CHECK(refused.code == 125);
    CHECK(refused.err.find("for rootless containers") != std::string::npos);

    // The bind source must be reachable by uid 100000 (the test's scratch
    // directory is 0700): a directory of its own in /tmp, removed after.
    auto made = fs::make_temp_dir("/tmp", "bock-userns-test-");
    REQUIRE(made);
    std::string shared = *made;
    REQUIRE(::chmod(shared.c_str(), 0777) == 0);
    struct Gone {
        std::string dir;
        ~Gone() { (void)fs::remove_all(dir); }
    } gone{shared};
    auto m = cli({"run", "--rm", "--uidmap", "0:100000:65536", "-v", shared + ":/shared", img, "sh", "-c",
                  "id -u; stat -c '%u %g' /bin/busybox /data/b; cat /proc/self/uid_map; echo x > /shared/f"});
    INFO(m.err);
    REQUIRE(m.code == 0);
    auto l = lines(m.out);
    REQUIRE(l.size() == 4);
    CHECK(l[0] == "0");
    CHECK(l[1] == "0 0");
    CHECK(l[2] == "5 5");
    CHECK(strings_equal_ws(l[3], "0 100000 65536"));
    struct stat st{};
    REQUIRE(::stat((shared + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid == 100000u);  // the container's root is 100000 on the host

    // bock-netns (asked for: root's default is none) with that user
    // namespace: in the foreground, and detached through a restart.
    {
        HostServer server;
        auto n = cli(server.with({"run", "--rm", "--uidmap", "0:100000:65536"}, {img, "sh", "-c", server.get}));
        INFO(n.err);
        CHECK(n.out == server.hello + "\n");
        auto d = cli(server.with({"run", "-d", "--uidmap", "0:100000:65536"}, {img, "sleep", "60"}));
        INFO(d.err);
        REQUIRE(d.code == 0);
        std::string did = lines(d.out)[0];
        CHECK(cli_retry({"exec", did, "sh", "-c", server.get}).out == server.hello + "\n");
        REQUIRE(cli({"restart", "-t", "1", did}).code == 0);
        CHECK(cli_retry({"exec", did, "sh", "-c", server.get}).out == server.hello + "\n");
        REQUIRE(cli({"rm", "-f", did}).code == 0);
    }

    // auto: /etc/subuid's `containers` range, or the error naming it.
    auto subuid = fs::read_file("/etc/subuid").value_or("");
    auto a = cli({"run", "--rm", "--userns=auto:size=1000", img, "cat", "/proc/self/uid_map"});
    if (subuid.find("\ncontainers:") == std::string::npos && !subuid.starts_with("containers:")) {
        CHECK(a.code == 125);
        CHECK(a.err.find("range for the user `containers` in /etc/subuid") != std::string::npos);
    } else {
        INFO(a.err);
        CHECK(a.code == 0);
    }
    CHECK(nothing_left());
}

void check_limits_refused_rootless() {
    auto r = cli({"run", "--rm", "--memory", "64m", "--pids-limit", "10", "busybox", "true"});
    CHECK(r.code == 125);
    CHECK(r.err.find("--memory, --pids-limit: resource limits cannot be enforced here") != std::string::npos);
    CHECK(r.err.find("--ignore-limits") != std::string::npos);
    CHECK(r.err.find("Delegate=yes") != std::string::npos);
    CHECK(nothing_left());
    // bock create too.
    CHECK(cli({"create", "--cpus", "1", "busybox", "true"}).code == 125);
    CHECK(nothing_left());
    // Bad values are refused before the host is asked.
    auto bad = cli({"run", "--rm", "--ignore-limits", "--memory", "lots", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--memory") != std::string::npos);

    // Opting out: a warning, and the container runs.
    auto ig = cli({"run", "--rm", "--ignore-limits", "--memory", "64m", "busybox", "true"});
    INFO(ig.err);
    CHECK(ig.code == 0);
    CHECK(ig.err.find("not enforced") != std::string::npos);
    auto cfg = write_config("[engine]\nignore_limits = true\n");
    auto ig2 = cli({"run", "--rm", "--memory", "64m", "busybox", "true"}, {"XDG_CONFIG_HOME=" + cfg});
    INFO(ig2.err);
    CHECK(ig2.code == 0);
    CHECK(ig2.err.find("ignore_limits in bock.conf") != std::string::npos);

    // info and doctor say so.
    auto info = cli({"info", "--format", "json"});
    REQUIRE(info.code == 0);
    auto j = json::parse(info.out);
    CHECK(j["host"]["limits"]["--memory"].get<std::string>().starts_with("not enforced"));
    auto doc = cli({"doctor"});
    CHECK(doc.out.find("--ignore-limits runs without them") != std::string::npos);
}

void check_limits_enforced_root() {
    // Negative control: the same allocation runs without a limit.
    auto free_run = cli({"run", "--rm", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"});
    INFO(free_run.err);
    REQUIRE(free_run.code == 0);
    auto oom = cli({"run", "--rm", "--memory", "32m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"});
    INFO(oom.err);
    CHECK(oom.code == 137);

    // --pids-limit: of 20 background sleeps, the ones past the limit fail
    // to fork (busybox sh then stops with "can't fork"); none fail without.
    const std::string forks = "for i in $(seq 20); do sleep 1 & done; wait";
    auto unlimited = cli({"run", "--rm", "busybox", "sh", "-c", forks});
    CHECK(unlimited.code == 0);
    CHECK(unlimited.err.find("can't fork") == std::string::npos);
    auto p = cli({"run", "--rm", "--pids-limit", "8", "busybox", "sh", "-c", forks});
    INFO(p.err);
    CHECK(p.code != 0);
    CHECK(p.err.find("can't fork") != std::string::npos);

    // --cpus, --cpu-shares, --pids-limit, --memory written to the container's cgroup.
    auto d = cli({"run", "-d", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "42", "--memory", "48m", "busybox",
                  "sleep", "60"});
    INFO(d.err);
    REQUIRE(d.code == 0);
    std::string id = lines(d.out)[0];
    auto read_cg = [&](const std::string& file) {
        for (const char* h : {"cpu,cpuacct", "cpu", "pids", "memory"}) {
            auto t = fs::read_file(std::string("/sys/fs/cgroup/") + h + "/bock/" + id + "/" + file);
            if (t) return lines(*t).empty() ? std::string() : lines(*t)[0];
        }
        return std::string("missing");
    };
    CHECK(read_cg("cpu.cfs_quota_us") == "50000");
    CHECK(read_cg("cpu.cfs_period_us") == "100000");
    CHECK(read_cg("cpu.shares") == "512");
    CHECK(read_cg("pids.max") == "42");
    CHECK(read_cg("memory.limit_in_bytes") == std::to_string(48 * 1024 * 1024));
    REQUIRE(cli({"rm", "-f", id}).code == 0);

    // --device-read-bps on the first block device there is; --blkio-weight
    // where the kernel has a weight file, else refused naming it.
    std::string blk;
    for (const char* d : {"/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda"}) {
        struct stat st{};
        if (::stat(d, &st) == 0 && S_ISBLK(st.st_mode)) {
            blk = d;
            auto b = cli({"run", "-d", "--device-read-bps", blk + ":1mb", "busybox", "sleep", "60"});
            INFO(b.err);
            REQUIRE(b.code == 0);
            std::string bid = lines(b.out)[0];
            auto t = fs::read_file("/sys/fs/cgroup/blkio/bock/" + bid + "/blkio.throttle.read_bps_device");
            REQUIRE(t);
            CHECK(*t == std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)) + " 1048576\n");
            REQUIRE(cli({"rm", "-f", bid}).code == 0);
            break;
        }
    }
    CHECK_FALSE(blk.empty());
    bool weight = fs::exists("/sys/fs/cgroup/blkio/blkio.weight") || fs::exists("/sys/fs/cgroup/blkio/blkio.bfq.weight");
    auto w = cli({"run", "--rm", "--blkio-weight", "500", "busybox", "true"});
    INFO(w.err);
    if (weight) {
        CHECK(w.code == 0);
    } else {
        CHECK(w.code == 125);
        CHECK(w.err.find("--blkio-weight (the kernel has no blkio.weight)") != std::string::npos);
    }
    CHECK(cli({"run", "--rm", "--device-read-bps", "/dev/null:1mb", "busybox", "true"}).code == 125);
    CHECK(nothing_left());
}

void check_config_file() {
    // A key that changes behaviour: the storage driver of new containers.
    auto cfg = write_config("# test\n[engine]\nstorage_driver = \"bock-fuse\"\n");
    const std::vector<std::string> env{"XDG_CONFIG_HOME=" + cfg};
    auto r = cli({"run", "busybox", "true"}, env);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(cli({"inspect", "--format", "{{.Driver}}", only_container()}).out == "bock-fuse\n");
    REQUIRE(cli({"rm", "-a"}).code == 0);
    auto info = cli({"info", "--format", "json"}, env);
    REQUIRE(info.code == 0);
    auto j = json::parse(info.out);
    CHECK(j["config"]["files_read"] == json::array({cfg + "/bock/bock.conf"}));
    CHECK(j["config"]["keys"]["engine.storage_driver"] == cfg + "/bock/bock.conf:3");

    if (!is_root()) {
        // The default network: none instead of slirp4netns (loopback only).
        auto before = cli({"run", "--rm", "busybox", "cat", "/proc/net/dev"});
        REQUIRE(before.code == 0);
        auto cfg2 = write_config("[network]\ndefault_network = \"none\"\n");
        auto after = cli({"run", "--rm", "busybox", "cat", "/proc/net/dev"}, {"XDG_CONFIG_HOME=" + cfg2});
        INFO(after.err);
        REQUIRE(after.code == 0);
        CHECK(lines(after.out).size() == 3);  // two header lines and lo
        CHECK(lines(before.out).size() > 3);
    }

    // The log size of containers behind a monitor; a flag wins over the file.
    auto cfg6 = write_config("[containers]\nlog_size_max = \"1k\"\n");
    auto log_size = [&](std::vector<std::string> flags) {
        std::vector<std::string> argv{"create"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), {"busybox", "true"});
        auto c = cli(argv, {"XDG_CONFIG_HOME=" + cfg6});
        INFO(c.err);
        REQUIRE(c.code == 0);
        auto text = fs::read_file(store_root() + "/containers/" + lines(c.out)[0] + "/container.json");
        REQUIRE(text);
        REQUIRE(cli({"rm", "-f", lines(c.out)[0]}).code == 0);
        return json::parse(*text).value("log_max_size", uint64_t{0});
    };
    CHECK(log_size({}) == 1024u);
    CHECK(log_size({"--log-opt", "max-size=2k"}) == 2048u);

    // The security defaults: the capability set, the seccomp profile and a
    // ulimit from the file; the flags win over them.
    auto cfg7 = write_config("[containers]\ndefault_capabilities = [\"CHOWN\", \"KILL\"]\n"
                             "seccomp_profile = \"unconfined\"\ndefault_ulimits = [\"nofile=500:600\"]\n");
    auto sec = cli({"run", "--rm", "--network", "none", "busybox", "sh", "-c",
                    "grep -E '^(CapEff|Seccomp):' /proc/self/status; ulimit -n"},
                   {"XDG_CONFIG_HOME=" + cfg7});
    INFO(sec.err);
    REQUIRE(sec.code == 0);
    CHECK(sec.out.find("CapEff:\t0000000000000021") != std::string::npos);  // CHOWN (0) and KILL (5)
    CHECK(sec.out.find("Seccomp:\t0") != std::string::npos);
    CHECK(sec.out.find("\n500\n") != std::string::npos);
    auto flags = cli({"run", "--rm", "--network", "none", "--ulimit", "nofile=400:600", "--security-opt",
                      "seccomp=unconfined", "busybox", "sh", "-c", "ulimit -n"},
                     {"XDG_CONFIG_HOME=" + cfg7});
    CHECK(flags.out == "400\n");

    // An unknown key: warned with FILE:LINE, the command goes on.
    auto cfg3 = write_config("[engine]\n\ndefault_network = \"none\"\n");
    auto w = cli({"run", "--rm", "busybox", "true"}, {"XDG_CONFIG_HOME=" + cfg3});
    CHECK(w.code == 0);
    CHECK(w.err.find(cfg3 + "/bock/bock.conf:3: unknown key `engine.default_network`, ignored (did you mean "
                            "[network] default_network?)") != std::string::npos);

    // A malformed file: an error with FILE:LINE, exit 125.
    auto cfg4 = write_config("[engine]\nstorage_driver = \"vfs\nx = 1\n");
    auto bad = cli({"run", "--rm", "busybox", "true"}, {"XDG_CONFIG_HOME=" + cfg4});
    CHECK(bad.code == 125);
    CHECK(bad.err.find(cfg4 + "/bock/bock.conf:2: unterminated string") != std::string::npos);
    // A wrong type too.
    auto cfg5 = write_config("[engine]\nignore_limits = \"yes\"\n");
    auto typed = cli({"info"}, {"XDG_CONFIG_HOME=" + cfg5});
    CHECK(typed.code == 125);
    CHECK(typed.err.find("bock.conf:2: `engine.ignore_limits` must be a boolean, not a string") != std::string::npos);
    CHECK(nothing_left());
}

}  // namespace bock::test

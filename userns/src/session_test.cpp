#include "bock/userns/session.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "bock/common/log.hpp"
#include "bock/userns/checks.hpp"
#include "session_state.hpp"
#include "test_support.hpp"

using namespace bock::userns;
using namespace bock::userns::testing;
namespace fs = bock::fs;

namespace {

std::string flat(std::string s) {
    for (auto& c : s)
        if (c == '\n') c = '|';
    return s;
}

std::string dump(const Findings& f) {
    std::string out;
    for (const auto& [k, v] : f) out += k + "=" + v + "\n";
    return out;
}

std::string get(const Findings& f, const std::string& key) {
    auto it = f.find(key);
    return it == f.end() ? "<missing>" : it->second;
}

// A run root under /tmp owned by the test user. On destruction it stops the
// session as that user and, as a safety net, kills any holder still recorded.
class SessionRoot {
public:
    explicit SessionRoot(const TestUser& user) : user_(user) {
        char tmpl[] = "/tmp/bock-session-test-XXXXXX";
        if (::mkdtemp(tmpl)) path_ = tmpl;
        if (!path_.empty() && user.switch_to && ::chown(path_.c_str(), user.uid, user.gid) < 0) path_.clear();
    }
    ~SessionRoot() {
        if (path_.empty()) return;
        run_child(user_, [&](Report&) { (void)stop_session(path_); });
        if (auto h = recorded()) {
            auto st = read_proc_stat(h->pid);
            if (st && st->start_time == h->start_time) ::kill(h->pid, SIGKILL);
        }
        (void)fs::remove_all(path_);
    }
    const std::string& path() const { return path_; }
    std::optional<HolderState> recorded() const {
        auto text = fs::read_file(path_ + "/session/holder.pid");
        if (!text) return std::nullopt;
        return parse_holder_state(*text);
    }

private:
    TestUser user_;
    std::string path_;
};

bool gone(const HolderState& h) {
    auto st = read_proc_stat(h.pid);
    return !st || st->state == 'Z' || st->start_time != h.start_time;
}

std::string read_or_empty(const std::string& path) {
    auto t = fs::read_file(path);
    return t ? *t : std::string();
}

std::string normalized_map(const std::string& path) {
    auto m = parse_map(read_or_empty(path));
    return m ? flat(format_map(*m)) : "<unparsable>";
}

// Enters the session in the calling (child) process and reports what it sees.
void enter_and_report(Report& r, const std::string& root) {
    int sink = ::memfd_create("bock-notice", 0);
    bock::log::set_sink(sink, bock::log::Format::text);
    auto s = enter_session(root);
    bock::log::set_sink(2, bock::log::Format::text);
    std::string notice(4096, '\0');
    ssize_t n = ::pread(sink, notice.data(), notice.size(), 0);
    notice.resize(n > 0 ? static_cast<size_t>(n) : 0);
    r.add("notice", notice);
    if (!s) {
        r.add("error", s.error().to_string());
        r.add("hint", s.error().hint());
        return;
    }
    r.add("holder", std::to_string(s->holder));
    r.add("created", s->created ? "1" : "0");
    r.add("single", s->single ? "1" : "0");
    r.add("uid", std::to_string(::getuid()));
    r.add("gid", std::to_string(::getgid()));
    r.add("uid_map", normalized_map("/proc/self/uid_map"));
    r.add("gid_map", normalized_map("/proc/self/gid_map"));
    r.add("setgroups", read_or_empty("/proc/self/setgroups"));
    r.add("in_userns", in_user_namespace() ? "1" : "0");
    struct stat st;
    r.add("userns", ::stat("/proc/self/ns/user", &st) == 0 ? std::to_string(st.st_ino) : "?");
    r.add("mntns", ::stat("/proc/self/ns/mnt", &st) == 0 ? std::to_string(st.st_ino) : "?");
    auto mountinfo = read_or_empty("/proc/self/mountinfo");
    r.add("shared_mounts", mountinfo.find(" shared:") == std::string::npos ? "0" : "1");
    auto found = find_session(root);
    r.add("found", found ? (*found ? std::to_string(**found) : "none") : found.error().to_string());
}

void stop_and_report(Report& r, const std::string& root) {
    auto s = stop_session(root);
    r.add("stop", s ? "ok" : s.error().to_string());
    auto found = find_session(root);
    r.add("found", found ? (*found ? std::to_string(**found) : "none") : found.error().to_string());
}

std::vector<std::string> fd_targets(pid_t pid) {
    std::vector<std::string> out;
    std::string dir = fmt::format("/proc/{}/fd", pid);
    DIR* d = ::opendir(dir.c_str());
    if (!d) return {"<cannot list " + dir + ">"};
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        auto target = fs::readlink(dir + "/" + e->d_name);
        out.push_back(std::string(e->d_name) + "->" + (target ? *target : "?"));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

// Fields 4 (ppid), 6 (session) and 7 (tty_nr) of /proc/PID/stat.
std::vector<std::string> stat_fields(pid_t pid) {
    auto text = read_or_empty(fmt::format("/proc/{}/stat", pid));
    auto close = text.rfind(')');
    std::vector<std::string> out;
    if (close == std::string::npos) return out;
    std::string rest = text.substr(close + 2);
    size_t i = 0;
    while (i < rest.size()) {
        size_t sp = rest.find(' ', i);
        if (sp == std::string::npos) sp = rest.size();
        out.push_back(rest.substr(i, sp - i));
        i = sp + 1;
    }
    return out;  // out[0] is field 3
}

bool userns_usable() {
    auto c = check_userns_allowed();
    if (!c.ok) bock::unit_test::skip("user namespaces unavailable: " + c.detail);
    return c.ok;
}

}  // namespace

TEST_CASE("holder state and /proc/PID/stat parsing", "[session]") {
    HolderState s{1234, 98765, true};
    CHECK(format_holder_state(s) == "1234 98765 single\n");
    auto back = parse_holder_state(format_holder_state(s));
    REQUIRE(back);
    CHECK(back->pid == 1234);
    CHECK(back->start_time == 98765);
    CHECK(back->single);
    CHECK_FALSE(parse_holder_state("1234 98765 range\n")->single);
    CHECK_FALSE(parse_holder_state(""));
    CHECK_FALSE(parse_holder_state("1234 98765"));
    CHECK_FALSE(parse_holder_state("1234 98765 maybe"));
    CHECK_FALSE(parse_holder_state("-5 98765 range"));
    CHECK_FALSE(parse_holder_state("0 98765 range"));

    std::string stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 1000 10";
    auto ps = parse_proc_stat(stat);
    REQUIRE(ps);
    CHECK(ps->state == 'S');
    CHECK(ps->start_time == 777);
    CHECK_FALSE(parse_proc_stat("42 (short) S 1 2"));

    auto self = read_proc_stat(::getpid());
    REQUIRE(self);
    CHECK(self->state == 'R');
    CHECK(holder_alive({::getpid(), self->start_time, false}));
    CHECK_FALSE(holder_alive({::getpid(), self->start_time + 1, false}));
}

TEST_CASE("a session with a subordinate range: create, join, stop", "[session]") {
    auto user = test_user("bocktest");
    if (!user) {
        BOCK_SKIP("user bocktest does not exist");
    }
    auto plan = plan_rootless_mappings({user->uid, user->gid, user->name});
    REQUIRE(plan);
    if (plan->single) {
        BOCK_SKIP("user " << user->name << " has no subordinate range");
    }
    if (!userns_usable()) return;
    SessionRoot root(*user);
    REQUIRE_FALSE(root.path().empty());

    auto first = run_child(*user, [&](Report& r) { enter_and_report(r, root.path()); });
    INFO("first:\n" << dump(first));
    REQUIRE(first.count("error") == 0);
    CHECK(get(first, "created") == "1");
    CHECK(get(first, "single") == "0");
    CHECK(get(first, "uid") == "0");
    CHECK(get(first, "gid") == "0");
    CHECK(get(first, "uid_map") == flat(format_map(plan->uids)));
    CHECK(get(first, "gid_map") == flat(format_map(plan->gids)));
    CHECK(get(first, "setgroups") == "allow|");
    CHECK(get(first, "in_userns") == "1");
    CHECK(get(first, "shared_mounts") == "0");
    CHECK(get(first, "notice").empty());
    CHECK(get(first, "found") == get(first, "holder"));

    auto state = root.recorded();
    REQUIRE(state);
    CHECK(std::to_string(state->pid) == get(first, "holder"));
    CHECK_FALSE(state->single);
    CHECK_FALSE(gone(*state));

    // The holder: named, detached from us and from any terminal, holding
    // nothing but /dev/null.
    CHECK(read_or_empty(fmt::format("/proc/{}/comm", state->pid)) == "bock session\n");
    // Its command line is its name, not the arguments of the bock call that
    // started it (this test binary's).
    CHECK(read_or_empty(fmt::format("/proc/{}/cmdline", state->pid)) == std::string("bock session\0", 13));
    CHECK(fd_targets(state->pid) == std::vector<std::string>{"0->/dev/null", "1->/dev/null", "2->/dev/null"});
    auto fields = stat_fields(state->pid);
    REQUIRE(fields.size() > 5);
    CHECK(fields[1] != std::to_string(::getpid()));      // ppid
    CHECK(fields[3] == std::to_string(state->pid));      // session leader
    CHECK(fields[4] == "0");                             // no controlling tty
    struct stat lock_st;
    REQUIRE(::stat((root.path() + "/session/lock").c_str(), &lock_st) == 0);
    struct stat dir_st;
    REQUIRE(::stat((root.path() + "/session").c_str(), &dir_st) == 0);
    CHECK((dir_st.st_mode & 0777) == 0700);

    auto second = run_child(*user, [&](Report& r) { enter_and_report(r, root.path()); });
    INFO("second:\n" << dump(second));
    REQUIRE(second.count("error") == 0);
    CHECK(get(second, "created") == "0");
    CHECK(get(second, "holder") == get(first, "holder"));
    CHECK(get(second, "userns") == get(first, "userns"));
    CHECK(get(second, "mntns") == get(first, "mntns"));
    CHECK(get(second, "uid") == "0");
    CHECK(get(second, "uid_map") == get(first, "uid_map"));

    // Entering again from inside the session is a no-op.
    auto nested = run_child(*user, [&](Report& r) {
        auto s = enter_session(root.path());
        if (!s) return r.add("error", s.error().to_string());
        enter_and_report(r, root.path());
    });
    INFO("nested:\n" << dump(nested));
    CHECK(nested.count("error") == 0);
    CHECK(get(nested, "created") == "0");
    CHECK(get(nested, "userns") == get(first, "userns"));

    auto stopped = run_child(*user, [&](Report& r) { stop_and_report(r, root.path()); });
    INFO("stopped:\n" << dump(stopped));
    CHECK(get(stopped, "stop") == "ok");
    CHECK(get(stopped, "found") == "none");
    CHECK(gone(*state));
    CHECK_FALSE(fs::exists(root.path() + "/session/holder.pid"));

    // Stopping twice is fine.
    auto again = run_child(*user, [&](Report& r) { stop_and_report(r, root.path()); });
    CHECK(get(again, "stop") == "ok");
}

TEST_CASE("a user without a subordinate range gets a single-ID session and one notice", "[session]") {
    auto user = test_user("bocknorange");
    if (!user) {
        BOCK_SKIP("user bocknorange does not exist");
    }
    auto plan = plan_rootless_mappings({user->uid, user->gid, user->name});
    REQUIRE(plan);
    if (!plan->single) {
        BOCK_SKIP("user " << user->name << " has a subordinate range");
    }
    if (!userns_usable()) return;
    SessionRoot root(*user);
    REQUIRE_FALSE(root.path().empty());

    auto first = run_child(*user, [&](Report& r) { enter_and_report(r, root.path()); });
    INFO("first:\n" << dump(first));
    REQUIRE(first.count("error") == 0);
    CHECK(get(first, "created") == "1");
    CHECK(get(first, "single") == "1");
    CHECK(get(first, "uid") == "0");
    CHECK(get(first, "gid") == "0");
    CHECK(get(first, "uid_map") == fmt::format("0 {} 1|", user->uid));
    CHECK(get(first, "gid_map") == fmt::format("0 {} 1|", user->gid));
    CHECK(get(first, "setgroups") == "deny|");
    std::string notice = get(first, "notice");
    CHECK_THAT(notice, Catch::StartsWith(fmt::format(
                           "bock: no subordinate ID range for user {} in /etc/subuid and /etc/subgid: running with "
                           "a single-ID mapping (only uid {} is mapped); to use a full range, root can run: "
                           "usermod --add-subuids ",
                           user->name, user->uid)));
    CHECK_THAT(notice, Catch::Contains(" --add-subgids "));
    CHECK_THAT(notice, Catch::EndsWith(" " + user->name + "|"));
    CHECK(std::count(notice.begin(), notice.end(), '|') == 1);  // one line

    auto state = root.recorded();
    REQUIRE(state);
    CHECK(state->single);

    auto second = run_child(*user, [&](Report& r) { enter_and_report(r, root.path()); });
    INFO("second:\n" << dump(second));
    REQUIRE(second.count("error") == 0);
    CHECK(get(second, "created") == "0");
    CHECK(get(second, "single") == "1");
    CHECK(get(second, "userns") == get(first, "userns"));
    CHECK(get(second, "notice").empty());

    auto stopped = run_child(*user, [&](Report& r) { stop_and_report(r, root.path()); });
    CHECK(get(stopped, "stop") == "ok");
    CHECK(gone(*state));
}

TEST_CASE("a stale or unreadable state file does not block a new session", "[session]") {
    auto user = test_user("bocktest");
    if (!user) {
        BOCK_SKIP("user bocktest does not exist");
    }
    if (!userns_usable()) return;
    SessionRoot root(*user);
    REQUIRE_FALSE(root.path().empty());

    auto f = run_child(*user, [&](Report& r) {
        std::string dir = root.path() + "/session";
        (void)fs::mkdir_p(dir, 0700);
        // A live pid (our own) with the wrong start time: a recycled pid.
        auto self = read_proc_stat(::getpid());
        (void)fs::write_file(dir + "/holder.pid", fmt::format("{} {} range\n", ::getpid(), self->start_time + 1));
        auto a = find_session(root.path());
        r.add("recycled", a ? (*a ? "found" : "none") : "error");
        (void)fs::write_file(dir + "/holder.pid", "garbage\n");
        auto b = find_session(root.path());
        r.add("garbage", b ? (*b ? "found" : "none") : "error");
        enter_and_report(r, root.path());
    });
    INFO(dump(f));
    CHECK(get(f, "recycled") == "none");
    CHECK(get(f, "garbage") == "none");
    REQUIRE(f.count("error") == 0);
    CHECK(get(f, "created") == "1");
    CHECK(get(f, "uid") == "0");

    auto stopped = run_child(*user, [&](Report& r) { stop_and_report(r, root.path()); });
    CHECK(get(stopped, "stop") == "ok");
}

TEST_CASE("enter_session refuses a foreign user namespace and a threaded process", "[session]") {
    auto user = test_user("bocktest");
    if (!user) {
        BOCK_SKIP("user bocktest does not exist");
    }
    if (!userns_usable()) return;
    SessionRoot root(*user);
    REQUIRE_FALSE(root.path().empty());

    auto foreign = run_child(*user, [&](Report& r) {
        if (::unshare(CLONE_NEWUSER) < 0) return r.add("unshare", "failed");
        r.add("in_userns", in_user_namespace() ? "1" : "0");
        enter_and_report(r, root.path());
    });
    INFO(dump(foreign));
    CHECK(get(foreign, "in_userns") == "1");
    CHECK_THAT(get(foreign, "error"), Catch::Contains("already in a user namespace that is not the session's"));
    CHECK_FALSE(root.recorded());

    auto threaded = run_child(*user, [&](Report& r) {
        auto p = bock::sys::pipe();
        std::thread t([&] {
            char c;
            (void)::read(p->first.get(), &c, 1);
        });
        enter_and_report(r, root.path());
        (void)::write(p->second.get(), "x", 1);
        t.join();
    });
    INFO(dump(threaded));
    CHECK_THAT(get(threaded, "error"), Catch::Contains("the process has 2 threads"));
    CHECK_THAT(get(threaded, "hint"), Catch::Contains("before starting any thread"));
    CHECK_FALSE(root.recorded());
}

TEST_CASE("processes racing to create the session end up in one", "[session]") {
    auto user = test_user("bocktest");
    if (!user) {
        BOCK_SKIP("user bocktest does not exist");
    }
    if (!userns_usable()) return;
    SessionRoot root(*user);
    REQUIRE_FALSE(root.path().empty());

    constexpr int kRacers = 4;
    auto f = run_child(*user, [&](Report& r) {
        auto out = bock::sys::pipe();
        for (int i = 0; i < kRacers; ++i) {
            if (::fork() == 0) {
                out->first.reset();
                auto s = enter_session(root.path());
                struct stat st;
                ::stat("/proc/self/ns/user", &st);
                std::string line = s ? fmt::format("{} {} {}\n", s->created ? 1 : 0, s->holder, st.st_ino)
                                     : "error " + s.error().to_string() + "\n";
                (void)bock::sys::raw::write_all(out->second.get(), line.data(), line.size());
                ::_exit(0);
            }
        }
        out->second.reset();
        std::string all;
        char buf[1024];
        ssize_t n;
        while ((n = ::read(out->first.get(), buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
        while (::wait(nullptr) > 0) {
        }
        r.add("lines", all);
    });
    INFO(dump(f));
    std::string lines = get(f, "lines");
    CHECK(lines.find("error") == std::string::npos);
    std::vector<std::string> rows;
    size_t created = 0;
    std::set<std::string> sessions;
    for (size_t i = 0; i < lines.size();) {
        size_t bar = lines.find('|', i);
        if (bar == std::string::npos) break;
        std::string row = lines.substr(i, bar - i);
        rows.push_back(row);
        if (row[0] == '1') ++created;
        sessions.insert(row.substr(2));  // "HOLDER USERNS"
        i = bar + 1;
    }
    CHECK(rows.size() == kRacers);
    CHECK(created == 1);
    CHECK(sessions.size() == 1);

    auto stopped = run_child(*user, [&](Report& r) { stop_and_report(r, root.path()); });
    CHECK(get(stopped, "stop") == "ok");
}

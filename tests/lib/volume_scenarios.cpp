#include "volume_scenarios.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

// busybox, a /data directory with files of several owners and modes, and
// /link -> /etc; the same with `VOLUME /data` (built once per process).
struct Images {
    std::string base, with_volume;
};

const Images& images() {
    static Images im = [] {
        Images i;
        i.base = make_image("localhost/vol-base:1", {"dir /data 0750 1000 1001\n"
                                                     "text /data/seed 0640 1000 1001 from-image\n"
                                                     "dir /data/sub 0700 1002 1002\n"
                                                     "text /data/sub/f 0600 1002 1002 deep\n"
                                                     "symlink /link /etc\n"});
        std::string ctx = tmp_dir() + "/volctx";
        REQUIRE(fs::mkdir_p(ctx));
        REQUIRE(fs::write_file(ctx + "/Containerfile", "FROM localhost/vol-base:1\nVOLUME /data\n"));
        auto b = cli({"build", "-t", "localhost/vol-image:1", ctx});
        INFO(b.err);
        REQUIRE(b.code == 0);
        i.with_volume = "localhost/vol-image:1";
        return i;
    }();
    return im;
}

Run ok_run(const std::vector<std::string>& args) {
    auto r = cli(args);
    INFO("bock " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err);
    REQUIRE(r.code == 0);
    return r;
}

bool has_line(const std::string& text, const std::string& line) {
    for (const auto& l : lines(text))
        if (l == line) return true;
    return false;
}

std::string host_dir(const std::string& name) {
    std::string d = tmp_dir() + "/" + name;
    REQUIRE(fs::mkdir_p(d, 0755));
    return d;
}

// The first subordinate uid of the test user (rootless), from /etc/subuid.
long subuid_start() {
    std::ifstream in("/etc/subuid");
    std::string line, user = current_user();
    while (std::getline(in, line))
        if (line.rfind(user + ":", 0) == 0) return std::stol(line.substr(user.size() + 1));
    return -1;
}

}  // namespace

void check_named_volumes() {
    const auto& im = images();
    auto c = ok_run({"volume", "create", "--label", "k=v", "shared"});
    CHECK(c.out == "shared\n");
    auto again = cli({"volume", "create", "shared"});
    CHECK(again.code != 0);
    CHECK(again.err.find("already exists") != std::string::npos);
    auto bad = cli({"volume", "create", "no/slash"});
    CHECK(bad.code != 0);
    CHECK(bad.err.find("not a valid volume name") != std::string::npos);

    // One container writes, is removed; the volume keeps the file.
    ok_run({"run", "--name", "writer", "-v", "shared:/v", im.base, "sh", "-c", "echo written > /v/f"});
    ok_run({"rm", "writer"});
    CHECK(has_line(ok_run({"volume", "ls", "-q"}).out, "shared"));
    // Two containers use it: the one that writes and another that reads.
    ok_run({"run", "--name", "w2", "-v", "shared:/v", im.base, "sh", "-c", "echo again >> /v/f"});
    auto r = ok_run({"run", "--name", "r2", "-v", "shared:/w:ro", im.base, "cat", "/w/f"});
    CHECK(r.out == "written\nagain\n");

    // In use: refused, naming both containers, and kept.
    auto rm = cli({"volume", "rm", "shared"});
    CHECK(rm.code == 2);
    CHECK(rm.err.find("in use") != std::string::npos);
    CHECK(rm.err.find("w2") != std::string::npos);
    CHECK(rm.err.find("r2") != std::string::npos);
    CHECK(has_line(ok_run({"volume", "ls", "-q"}).out, "shared"));

    auto js = nlohmann::json::parse(ok_run({"volume", "inspect", "shared"}).out);
    REQUIRE(js.size() == 1);
    CHECK(js[0]["Name"] == "shared");
    CHECK(js[0]["Driver"] == "local");
    CHECK(js[0]["Labels"]["k"] == "v");
    std::string mp = js[0]["Mountpoint"];
    CHECK(mp.starts_with(env_or("BOCK_ROOT", "")));
    auto insp = nlohmann::json::parse(ok_run({"inspect", "r2"}).out);
    REQUIRE(insp[0]["Mounts"].size() == 1);
    CHECK(insp[0]["Mounts"][0]["Name"] == "shared");
    CHECK(insp[0]["Mounts"][0]["RW"] == false);

    // system df counts volumes in a row of their own.
    bool df_row = false;
    for (const auto& row : nlohmann::json::parse(ok_run({"system", "df", "--format", "json"}).out))
        if (row["Type"] == "Local Volumes") {
            df_row = true;
            CHECK(row["Total"].get<int>() >= 1);
            CHECK(row["Active"].get<int>() >= 1);
            CHECK(row["RawSize"].get<uint64_t>() > 0);
        }
    CHECK(df_row);

    // Created on first use; prune removes only what no container uses.
    ok_run({"run", "--rm", "-v", "firstuse:/x", im.base, "true"});
    CHECK(has_line(ok_run({"volume", "ls", "-q"}).out, "firstuse"));
    auto pr = ok_run({"volume", "prune", "-f"});
    CHECK(has_line(pr.out, "firstuse"));
    CHECK(!has_line(pr.out, "shared"));

    ok_run({"rm", "w2", "r2"});
    ok_run({"volume", "rm", "shared"});
    auto ls = ok_run({"volume", "ls", "--format", "json"});
    for (const auto& v : nlohmann::json::parse(ls.out)) CHECK(v["Name"] != "shared");
    CHECK(!fs::exists(mp));
    // rm -f removes the containers that use it (podman's behaviour).
    ok_run({"run", "--name", "user1", "-v", "forced:/f", im.base, "true"});
    ok_run({"volume", "rm", "-f", "forced"});
    CHECK(cli({"inspect", "user1"}).code != 0);
}

void check_volume_seeded() {
    const auto& im = images();
    const std::string stat_cmd =
        "busybox stat -c '%n %u %g %a' /data /data/seed /data/sub /data/sub/f && cat /data/seed /data/sub/f";
    const std::string want = "/data 1000 1001 750\n/data/seed 1000 1001 640\n/data/sub 1002 1002 700\n"
                             "/data/sub/f 1002 1002 600\nfrom-imagedeep";
    // Rootless with a single-ID mapping the owners cannot be kept: that
    // case runs in the norange suite's own tests, not here.
    auto first = ok_run({"run", "--rm", "-v", "seeded:/data", im.base, "sh", "-c", stat_cmd});
    CHECK(first.out == want);
    // Changes stay; the image's files are not copied a second time.
    ok_run({"run", "--rm", "-v", "seeded:/data", im.base, "sh", "-c", "rm /data/seed && echo mine > /data/new"});
    auto second = ok_run({"run", "--rm", "-v", "seeded:/d", im.base, "sh", "-c", "ls /d; cat /d/new"});
    CHECK(second.out == "new\nsub\nmine\n");
    // nocopy: an empty volume.
    auto empty = ok_run({"run", "--rm", "-v", "empty:/data:nocopy", im.base, "ls", "-A", "/data"});
    CHECK(empty.out == "");

    // The image's VOLUME /data: an anonymous volume, seeded, kept by `rm`
    // without -v, removed by `rm -v`.
    auto anon_list = [] {
        std::vector<std::string> out;
        for (const auto& v : nlohmann::json::parse(cli({"volume", "ls", "--format", "json"}).out))
            if (v["Anonymous"] == true) out.push_back(v["Name"]);
        return out;
    };
    size_t before = anon_list().size();
    auto a = ok_run({"run", "--name", "anon", im.with_volume, "sh", "-c", "cat /data/seed; echo x > /data/y"});
    CHECK(a.out == "from-image");
    auto after = anon_list();
    CHECK(after.size() == before + 1);
    ok_run({"rm", "-v", "anon"});
    CHECK(anon_list().size() == before);
    // --rm removes it too; an explicit -v over the VOLUME path wins.
    ok_run({"run", "--rm", im.with_volume, "true"});
    CHECK(anon_list().size() == before);
    auto over = ok_run({"run", "--rm", "-v", "seeded:/data", im.with_volume, "cat", "/data/new"});
    CHECK(over.out == "mine\n");
    CHECK(anon_list().size() == before);
    ok_run({"volume", "rm", "seeded", "empty"});
}

void check_binds_tmpfs_mount_forms() {
    const auto& im = images();
    std::string src = host_dir("bindsrc");
    REQUIRE(fs::write_file(src + "/file", "host-file\n"));

    // ro: readable, writes refused.
    auto ro = cli({"run", "--rm", "-v", src + ":/b:ro", im.base, "sh", "-c", "cat /b/file; touch /b/x"});
    CHECK(ro.code != 0);
    CHECK(ro.out == "host-file\n");
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    CHECK(!fs::exists(src + "/x"));
    // rw: the write reaches the host.
    ok_run({"run", "--rm", "-v", src + ":/b", im.base, "sh", "-c", "echo from-container > /b/y"});
    CHECK(fs::read_file(src + "/y").value_or("") == "from-container\n");
    // z/Z are accepted (no SELinux here).
    ok_run({"run", "--rm", "-v", src + ":/b:z", "-v", src + ":/c:Z", im.base, "cat", "/c/file"});

    const size_t containers_before = lines(ok_run({"ps", "-a", "-q"}).out).size();
    // A missing source: refused with podman's behaviour named; nothing left.
    auto missing = cli({"run", "--rm", "-v", src + "/nope:/b", im.base, "true"});
    CHECK(missing.code == 125);
    CHECK(missing.err.find("does not create a missing bind source") != std::string::npos);
    CHECK(!fs::exists(src + "/nope"));
    auto rel = cli({"run", "--rm", "-v", "./rel:/b", im.base, "true"});
    CHECK(rel.code == 125);
    CHECK(rel.err.find("absolute path") != std::string::npos);
    auto badopt = cli({"run", "--rm", "-v", src + ":/b:bogus", im.base, "true"});
    CHECK(badopt.code == 125);
    CHECK(badopt.err.find("unknown option `bogus`") != std::string::npos);
    auto dup = cli({"run", "--rm", "-v", src + ":/b", "--tmpfs", "/b", im.base, "true"});
    CHECK(dup.code == 125);
    CHECK(dup.err.find("duplicate mount destination") != std::string::npos);

    // A bad flag after a good one leaves no container and no volume.
    auto late = cli({"run", "--rm", "-v", "notmade:/a", "-v", src + "/nope:/b", im.base, "true"});
    CHECK(late.code == 125);
    CHECK(lines(ok_run({"ps", "-a", "-q"}).out).size() == containers_before);
    CHECK(!has_line(ok_run({"volume", "ls", "-q"}).out, "notmade"));
    // A volume made with --opt type=tmpfs is a tmpfs in the container.
    ok_run({"volume", "create", "--opt", "type=tmpfs", "--opt", "o=size=3m", "tmpvol"});
    auto tv = ok_run({"run", "--rm", "-v", "tmpvol:/tv", im.base, "grep", " /tv ", "/proc/mounts"});
    CHECK(tv.out.find("tmpfs /tv tmpfs") != std::string::npos);
    CHECK(tv.out.find("size=3072k") != std::string::npos);
    ok_run({"volume", "rm", "tmpvol"});
    // --opt type=none,o=bind,device=DIR: a bind mount of DIR.
    ok_run({"volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=" + src, "bindvol"});
    auto bv = ok_run({"run", "--rm", "-v", "bindvol:/bv", im.base, "cat", "/bv/file"});
    CHECK(bv.out == "host-file\n");
    ok_run({"volume", "rm", "bindvol"});
    CHECK(fs::exists(src + "/file"));  // removing the volume leaves the device directory alone

    // --tmpfs and the --mount forms, as /proc/mounts and stat show them.
    auto m = ok_run({"run", "--rm", "--tmpfs", "/t:size=1m,mode=1777", "--mount",
                     "type=bind,src=" + src + ",dst=/mb,readonly", "--mount", "type=volume,source=mvol,target=/mv",
                     "--mount", "type=tmpfs,destination=/mt,tmpfs-size=2m,tmpfs-mode=1770", im.base, "sh", "-c",
                     "grep -E ' /(t|mt|mb) ' /proc/mounts; busybox stat -c '%a' /t /mt; cat /mb/file; "
                     "echo v > /mv/v && cat /mv/v; touch /mb/z 2>/dev/null || echo mb-ro"});
    auto ml = lines(m.out);
    bool t_ok = false, mt_ok = false, mb_ro = false;
    for (const auto& l : ml) {
        if (l.find(" /t tmpfs ") != std::string::npos && l.find("size=1024k") != std::string::npos &&
            l.find("noexec") != std::string::npos)
            t_ok = true;
        if (l.find(" /mt tmpfs ") != std::string::npos && l.find("size=2048k") != std::string::npos) mt_ok = true;
        if (l.find(" /mb ") != std::string::npos && l.find(" ro,") != std::string::npos) mb_ro = true;
    }
    INFO(m.out);
    CHECK(t_ok);
    CHECK(mt_ok);
    CHECK(mb_ro);
    CHECK(has_line(m.out, "1777"));
    CHECK(has_line(m.out, "1770"));
    CHECK(has_line(m.out, "host-file"));
    CHECK(has_line(m.out, "v"));
    CHECK(has_line(m.out, "mb-ro"));
    auto badmount = cli({"run", "--rm", "--mount", "type=tmpfs,src=x,dst=/t", im.base, "true"});
    CHECK(badmount.code == 125);
    CHECK(badmount.err.find("takes no source") != std::string::npos);
    auto badkey = cli({"run", "--rm", "--mount", "type=bind,src=" + src + ",dst=/t,colour=red", im.base, "true"});
    CHECK(badkey.code == 125);
    CHECK(badkey.err.find("unknown key `colour`") != std::string::npos);

    // --volumes-from: the volumes and binds of another container, :ro.
    ok_run({"create", "--name", "donor", "-v", "fromvol:/fv", "-v", src + ":/fb", "--tmpfs", "/ft", im.base, "true"});
    ok_run({"run", "--rm", "-v", "fromvol:/fv", im.base, "sh", "-c", "echo shared > /fv/s"});
    auto vf = cli({"run", "--rm", "--volumes-from", "donor:ro", im.base, "sh", "-c",
                   "cat /fv/s /fb/file; grep -c ' /ft ' /proc/mounts; touch /fv/no"});
    CHECK(vf.out == "shared\nhost-file\n0\n");
    CHECK(vf.code != 0);  // read-only
    auto vfrw = ok_run({"run", "--rm", "--volumes-from", "donor", im.base, "sh", "-c", "echo w > /fv/rw && cat /fv/rw"});
    CHECK(vfrw.out == "w\n");
    auto nodonor = cli({"run", "--rm", "--volumes-from", "nosuch", im.base, "true"});
    CHECK(nodonor.code != 0);
    CHECK(nodonor.err.find("no such container") != std::string::npos);
    ok_run({"rm", "-f", "donor"});  // created, never started
    ok_run({"volume", "rm", "fromvol", "mvol"});
}

void check_hostile_destinations() {
    const auto& im = images();
    std::string src = host_dir("hostile");
    REQUIRE(fs::write_file(src + "/marker", "inside\n"));
    // /link -> /etc in the image: the mount lands on the root's /etc.
    auto r = ok_run({"run", "--rm", "-v", src + ":/link/bock-hostile-vol", "-v", src + ":/../../etc/bock-hostile-dots",
                     im.base, "sh", "-c", "cat /etc/bock-hostile-vol/marker /etc/bock-hostile-dots/marker"});
    CHECK(r.out == "inside\ninside\n");
    CHECK(!fs::exists("/etc/bock-hostile-vol"));
    CHECK(!fs::exists("/etc/bock-hostile-dots"));
    // A volume mounted through the symlink is filled from the image's
    // /etc, never the host's (which has /etc/debian_version; busybox's has not).
    REQUIRE(fs::exists("/etc/debian_version"));  // the negative control's premise
    auto v = ok_run({"run", "--rm", "-v", "hostilevol:/link", im.base, "ls", "/link/"});
    CHECK(!has_line(v.out, "debian_version"));
    auto mp = nlohmann::json::parse(ok_run({"volume", "inspect", "hostilevol"}).out)[0]["Mountpoint"].get<std::string>();
    CHECK(!fs::exists(mp + "/debian_version"));
    ok_run({"volume", "rm", "hostilevol"});
}

void check_chown_and_overlay() {
    const auto& im = images();
    std::string src = host_dir("chown");
    REQUIRE(fs::write_file(src + "/f", "x\n"));
    // U with user 1000:1001 inside: the container sees its own ids.
    auto u = ok_run({"run", "--rm", "-u", "1000:1001", "-v", src + ":/u:U", im.base, "busybox", "stat", "-c", "%u %g",
                     "/u", "/u/f"});
    CHECK(u.out == "1000 1001\n1000 1001\n");
    struct stat st {};
    REQUIRE(::stat((src + "/f").c_str(), &st) == 0);
    if (is_root()) {
        CHECK(st.st_uid == 1000u);
        CHECK(st.st_gid == 1001u);
    } else {
        long base = subuid_start();
        REQUIRE(base > 0);
        CHECK(static_cast<long>(st.st_uid) == base + 999);  // container uid 1000 = subordinate base + 999
    }
    // U as root inside: back to the user's own uid rootless (root's as root).
    ok_run({"run", "--rm", "-v", src + ":/u:U", im.base, "true"});
    REQUIRE(::stat((src + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid == ::getuid());

    // O: an overlay over the source; the container's writes are discarded.
    std::string osrc = host_dir("overlaysrc");
    REQUIRE(fs::write_file(osrc + "/orig", "orig\n"));
    auto o = ok_run({"run", "--rm", "-v", osrc + ":/o:O", im.base, "sh", "-c",
                     "echo new > /o/new && echo changed > /o/orig && cat /o/orig /o/new"});
    CHECK(o.out == "changed\nnew\n");
    CHECK(fs::read_file(osrc + "/orig").value_or("") == "orig\n");
    CHECK(!fs::exists(osrc + "/new"));
}

void check_volume_single_id() {
    // Only the user's own id is mapped: the copy keeps the session's owner
    // (the image's owners live in xattrs there), and the files are readable.
    auto r = ok_run({"run", "--rm", "-v", "single:/etc", "busybox", "sh", "-c", "ls /etc; echo x > /etc/new"});
    CHECK(has_line(r.out, "passwd"));
    auto again = ok_run({"run", "--rm", "-v", "single:/e", "busybox", "cat", "/e/new"});
    CHECK(again.out == "x\n");
    std::string src = host_dir("single-u");
    REQUIRE(fs::write_file(src + "/f", "x\n"));
    ok_run({"run", "--rm", "-v", src + ":/u:U", "busybox", "true"});
    struct stat st {};
    REQUIRE(::stat((src + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid == ::getuid());
    // A user that is not mapped: the error names the mapping.
    auto bad = cli({"run", "--rm", "-u", "1000", "-v", src + ":/u:U", "busybox", "true"});
    CHECK(bad.code != 0);
    CHECK(bad.err.find("must be mapped") != std::string::npos);
    ok_run({"volume", "rm", "single"});
}

}  // namespace bock::test

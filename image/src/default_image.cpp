// localhost/busybox:latest, built from the host's static busybox.
#include "bock/image/default_image.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/paths.hpp"
#include "bock/image/layer_writer.hpp"

namespace bock::image {

namespace {

// A static executable is an ELF file without a PT_INTERP program header.
Result<bool> is_static_elf(const std::string& path) {
    Fd fd = BOCK_TRY(sys::open(path, O_RDONLY));
    Elf64_Ehdr eh;
    if (::pread(fd.get(), &eh, sizeof eh, 0) != sizeof eh) return false;
    if (std::string_view(reinterpret_cast<const char*>(eh.e_ident), 4) != ELFMAG) return false;
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return false;  // Bock targets 64-bit hosts
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        off_t off = static_cast<off_t>(eh.e_phoff + i * static_cast<uint64_t>(eh.e_phentsize));
        if (::pread(fd.get(), &ph, sizeof ph, off) != sizeof ph) return false;
        if (ph.p_type == PT_INTERP) return false;
    }
    return true;
}

}  // namespace

Result<std::string> find_static_busybox() {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("BOCK_BUSYBOX"); env && *env) candidates.emplace_back(env);
    candidates.emplace_back("/bin/busybox");
    candidates.emplace_back("/usr/bin/busybox");
    for (const auto& c : candidates) {
        if (::access(c.c_str(), X_OK) != 0) continue;
        auto st = is_static_elf(c);
        if (st && *st) return c;
    }
    return make_error("no static busybox found")
        .with_hint("install the busybox-static package (apt-get install busybox-static)");
}

Result<Digest> write_busybox_layer(const std::string& busybox, const std::string& tar_path) {
    SpawnOptions so;
    so.argv = {busybox, "--list"};
    so.capture_stdout = true;
    auto list = BOCK_TRY(run_program(so));
    if (list.exit_code != 0) return make_error("`{} --list` failed with exit code {}", busybox, list.exit_code);
    std::set<std::string> applets;
    std::istringstream in(list.out);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line != "busybox" && line.find('/') == std::string::npos) applets.insert(line);
    }
    auto w = BOCK_TRY(LayerWriter::create(tar_path));
    for (const char* d : {"bin", "dev", "etc", "home", "proc", "sys", "usr", "usr/bin", "var"})
        BOCK_TRY(w.add_dir(d, 0755));
    BOCK_TRY(w.add_dir("root", 0700));
    BOCK_TRY(w.add_dir("tmp", 01777));
    BOCK_TRY(w.add_host_file("bin/busybox", busybox, 0755));
    for (const auto& a : applets) BOCK_TRY(w.add_symlink("bin/" + a, "busybox"));
    BOCK_TRY(w.add_file("etc/passwd",
                        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
                        0644));
    BOCK_TRY(w.add_file("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644));
    return w.finish();
}

Result<ImageRecord> ensure_default_image(Store& store) {
    auto ref = BOCK_TRY(Reference::parse(default_image_name));
    if (auto found = BOCK_TRY(store.find(ref))) return *found;

    std::string busybox = BOCK_TRY(find_static_busybox());
    const char* tmpdir = std::getenv("TMPDIR");
    std::string dir = BOCK_TRY(fs::make_temp_dir(tmpdir && *tmpdir ? tmpdir : "/tmp", "bock-busybox-"));
    struct Cleanup {
        std::string d;
        ~Cleanup() { (void)fs::remove_all(d); }
    } cleanup{dir};
    std::string tar = dir + "/layer.tar";
    BOCK_TRY(write_busybox_layer(busybox, tar).context("create the default image"));
    ImageConfig c;
    c.architecture = go_arch();
    c.os = "linux";
    c.created = "1970-01-01T00:00:00Z";
    c.env = {std::string("PATH=") + paths::kDefaultPath};
    c.cmd = {"sh"};
    return store.add_image(ref, c, {tar}).context("create the default image");
}

std::string go_arch() {
    struct utsname u;
    if (::uname(&u) < 0) return "amd64";
    std::string_view m = u.machine;
    if (m == "x86_64") return "amd64";
    if (m == "aarch64") return "arm64";
    if (m.starts_with("arm")) return "arm";
    if (m == "i686" || m == "i386") return "386";
    return std::string(m);
}

}  // namespace bock::image

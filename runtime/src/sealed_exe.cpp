// Re-exec from a sealed memfd (sealed_exe.hpp), as runc's
// libcontainer/dmz/cloned_binary and crun's cloned_binary.c do.
//
// The copy is made with sendfile(2) into memfd_create("bock-oci",
// MFD_CLOEXEC | MFD_ALLOW_SEALING); the seals F_SEAL_SEAL | F_SEAL_SHRINK |
// F_SEAL_GROW | F_SEAL_WRITE make it immutable, so an open of
// /proc/PID/exe for writing fails (EPERM) and the host's binary is never the
// exe of a process the container can see. The re-executed process finds its
// /proc/self/exe sealed and goes on: that check is what stops a loop, and
// the environment marker below guards against a kernel that lost the seals.
//
// Only what exec needs is copied: the ELF file up to the end of its last
// segment, without the section headers and the debug sections behind it (a
// RelWithDebInfo bock-oci is 46 MB, of which about 2 MB are loaded). The
// copy's section header fields are zeroed so it stays a valid ELF file.
#include "bock/runtime/sealed_exe.hpp"

#include <elf.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bock/common/fd.hpp"

extern char** environ;

namespace bock::runtime {

namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
// Set (to "1") in the environment of the re-executed process; removed again
// there so it never reaches a container or a hook.
constexpr const char* kMarkerEnv = "_BOCK_OCI_SEALED";

bool sealed(int fd) {
    int seals = ::fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & kSeals) == kSeals;
}

Result<void> copy_all(int from, int to, off_t size) {
    off_t done = 0;
    while (done < size) {
        ssize_t n = ::sendfile(to, from, nullptr, static_cast<size_t>(size - done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("copy the runtime binary into a memfd");
        }
        if (n == 0) return make_error("copy the runtime binary into a memfd: short read at {} of {} bytes", done, size);
        done += n;
    }
    return ok();
}

// The bytes exec needs: up to the end of the last segment of a 64-bit ELF
// file, or the whole file when it is not one.
off_t exec_size(int fd, off_t file_size) {
    Elf64_Ehdr eh;
    if (::pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return file_size;
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256)
        return file_size;
    Elf64_Phdr ph[256];
    size_t len = sizeof(Elf64_Phdr) * eh.e_phnum;
    if (::pread(fd, ph, len, static_cast<off_t>(eh.e_phoff)) != static_cast<ssize_t>(len)) return file_size;
    uint64_t end = eh.e_phoff + len;
    for (size_t i = 0; i < eh.e_phnum; ++i) end = std::max<uint64_t>(end, ph[i].p_offset + ph[i].p_filesz);
    return end < static_cast<uint64_t>(file_size) ? static_cast<off_t>(end) : file_size;
}

// Drops the section header table from the copy's ELF header (it was not
// copied).
Result<void> drop_section_headers(int mem) {
    Elf64_Ehdr eh;
    if (::pread(mem, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return errno_error("read the memfd");
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = SHN_UNDEF;
    if (::pwrite(mem, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return errno_error("write the memfd");
    return ok();
}

}  // namespace

bool running_from_sealed_memfd() {
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    return self && sealed(self.get());
}

Result<void> reexec_from_sealed_memfd(char** argv) {
    if (const char* off = ::getenv(kNoSealedExeEnv); off && std::strcmp(off, "1") == 0) return ok();
    Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self) return errno_error("open `/proc/self/exe`");
    if (sealed(self.get())) {
        ::unsetenv(kMarkerEnv);
        return ok();
    }
    if (::getenv(kMarkerEnv))
        return make_error("re-executed from a sealed memfd, but `/proc/self/exe` has no seals")
            .with_hint(fmt::format("set {}=1 to run without this protection (debugging only)", kNoSealedExeEnv));
    struct stat st;
    if (::fstat(self.get(), &st) < 0) return errno_error("stat `/proc/self/exe`");
    Fd mem(::memfd_create("bock-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!mem) return errno_error("memfd_create");
    off_t size = exec_size(self.get(), st.st_size);
    if (::ftruncate(mem.get(), size) < 0) return errno_error("size the memfd");
    BOCK_TRY(copy_all(self.get(), mem.get(), size));
    if (size < st.st_size) BOCK_TRY(drop_section_headers(mem.get()));
    if (::fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) return errno_error("seal the memfd");
    if (::setenv(kMarkerEnv, "1", 1) < 0) return errno_error("set {}", kMarkerEnv);
    ::fexecve(mem.get(), argv, environ);
    int err = errno;
    ::unsetenv(kMarkerEnv);
    return Error(err, "re-execute the runtime from a sealed memfd");
}

}  // namespace bock::runtime

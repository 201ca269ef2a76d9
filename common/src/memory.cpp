#include "bock/common/memory.hpp"

#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string_view>

namespace bock {

void shed_startup_pages() {
    ::malloc_trim(0);
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void*) -> int {
            std::string_view name = info->dlpi_name ? info->dlpi_name : "";
            if (name.find("vdso") != std::string_view::npos) return 0;  // the kernel's, not a file's
            const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                // Segments loaded read-only (text, rodata): clean file
                // pages. RELRO is part of a writable segment (made
                // read-only after relocation): skipped with it.
                if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
                uintptr_t start = (info->dlpi_addr + ph.p_vaddr) & ~(page - 1);
                uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + page - 1) & ~(page - 1);
                ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
            }
            return 0;
        },
        nullptr);
}

}  // namespace bock

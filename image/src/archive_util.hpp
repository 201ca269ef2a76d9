// Private helpers shared by the image library's libarchive users: RAII
// handles and error text.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace bock::image::detail {

struct ArchiveReadDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteDeleter>;
using ArchiveEntry = std::unique_ptr<struct archive_entry, EntryDeleter>;

inline std::string archive_err(struct archive* a) {
    const char* s = archive_error_string(a);
    return s ? std::string(s) : std::string("unknown libarchive error");
}

}  // namespace bock::image::detail

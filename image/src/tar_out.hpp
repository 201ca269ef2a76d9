// Private: writing an image archive (a plain tar) to a file or stdout. A
// file is written as "<file>.tmp-XXXXXX" beside it and renamed over it only
// by commit(); destroyed uncommitted, the temporary file is removed, so a
// failed save never leaves a half-written archive.
#pragma once

#include <string>
#include <string_view>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::image::detail {

class TarOut {
public:
    // "-" writes to stdout (no temporary file).
    static Result<TarOut> open(const std::string& out);
    TarOut(TarOut&&) noexcept;
    TarOut& operator=(TarOut&&) = delete;
    ~TarOut();

    Result<void> dir(const std::string& path);
    Result<void> file(const std::string& path, std::string_view data);
    // Copies `size` bytes from `fd` (a file, read from its current offset).
    Result<void> fd_file(const std::string& path, int fd, int64_t size, const std::string& shown);
    Result<void> host_file(const std::string& path, const std::string& host);
    // Starts an entry of `size` bytes, then write() exactly that many.
    Result<void> begin_file(const std::string& path, int64_t size);
    Result<void> write(const void* buf, size_t len, const std::string& path);
    // Finishes the tar, fsyncs and renames it into place.
    Result<void> commit();

private:
    TarOut() = default;
    Error error(std::string_view what) const;
    std::string name_;  // what messages show
    std::string out_, tmp_;
    Fd fd_;
    struct archive* a_ = nullptr;
    bool committed_ = false;
};

}  // namespace bock::image::detail

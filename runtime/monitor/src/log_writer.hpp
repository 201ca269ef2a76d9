// The monitor's log file: one JSON line per line of output,
//   {"time":"2026-12-06T21:30:00.123456789Z","stream":"stdout","log":"text\n"}
// as Docker's json-file driver writes them. A line longer than 16 KiB is
// cut into pieces, the last one ending in "\n". With a size limit the file
// is renamed to PATH.1 (the previous .1 is dropped) before a line would
// pass it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::monitor {

class LogWriter {
public:
    static Result<LogWriter> open(const std::string& path, uint64_t max_size);
    LogWriter() = default;
    // Bytes of stream `stream` ("stdout" or "stderr"); written line by line.
    void write(int stream, std::string_view data);
    // Whatever is buffered without a newline yet.
    void flush();

private:
    void emit(const char* stream, std::string_view text);
    void rotate();
    std::string path_;
    uint64_t max_size_ = 0;
    uint64_t size_ = 0;
    Fd fd_;
    std::string pending_[2];
};

}  // namespace bock::monitor

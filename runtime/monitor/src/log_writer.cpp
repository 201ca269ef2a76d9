#include "log_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"

namespace bock::monitor {
namespace {
constexpr size_t kMaxLine = 16 * 1024;
}

Result<LogWriter> LogWriter::open(const std::string& path, uint64_t max_size) {
    LogWriter w;
    w.path_ = path;
    w.max_size_ = max_size;
    w.fd_ = BOCK_TRY_CTX(sys::open(path, O_WRONLY | O_CREAT | O_APPEND, 0600), "open the container's log");
    struct stat st;
    if (::fstat(w.fd_.get(), &st) == 0) w.size_ = static_cast<uint64_t>(st.st_size);
    return w;
}

void LogWriter::rotate() {
    std::string old = path_ + ".1";
    if (::rename(path_.c_str(), old.c_str()) < 0) return;  // keep appending rather than lose lines
    auto fd = sys::open(path_, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
    if (!fd) return;
    fd_ = std::move(*fd);
    size_ = 0;
}

void LogWriter::emit(const char* stream, std::string_view text) {
    if (!fd_) return;
    nlohmann::json j{{"time", time::rfc3339_ns(time::now_ns())}, {"stream", stream},
                     {"log", std::string(text)}};
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (max_size_ && size_ > 0 && size_ + line.size() > max_size_) rotate();
    if (sys::raw::write_all(fd_.get(), line.data(), line.size()) == 0) size_ += line.size();
}

void LogWriter::write(int stream, std::string_view data) {
    const char* name = stream == 2 ? "stderr" : "stdout";
    std::string& buf = pending_[stream == 2 ? 1 : 0];
    buf.append(data);
    size_t start = 0;
    for (;;) {
        size_t nl = buf.find('\n', start);
        if (nl == std::string::npos) break;
        emit(name, std::string_view(buf).substr(start, nl + 1 - start));
        start = nl + 1;
    }
    buf.erase(0, start);
    while (buf.size() >= kMaxLine) {
        emit(name, std::string_view(buf).substr(0, kMaxLine));
        buf.erase(0, kMaxLine);
    }
}

void LogWriter::flush() {
    for (int i = 0; i < 2; i++)
        if (!pending_[i].empty()) {
            emit(i ? "stderr" : "stdout", pending_[i]);
            pending_[i].clear();
        }
}

}  // namespace bock::monitor

#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace bock::cli {

namespace {

std::string human(int64_t n) {
    if (n < 1024) return fmt::format("{} B", n);
    if (n < (1 << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
    if (n < (1 << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1 << 20));
    return fmt::format("{:.2f} GiB", static_cast<double>(n) / (1 << 30));
}

std::string short_digest(const std::string& d) {
    auto colon = d.find(':');
    return d.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

std::string bar(int64_t bytes, int64_t size) {
    constexpr int width = 24;
    int fill = size > 0 ? static_cast<int>(width * std::min<int64_t>(bytes, size) / size) : width;
    // Built in place: "[" + std::string(...) + ... makes GCC 12 at -O3 report
    // a false -Wrestrict (GCC bug 105651).
    std::string out(width + 2, ' ');
    out.front() = '[';
    out.back() = ']';
    for (int i = 0; i < fill && i < width; i++) out[static_cast<size_t>(i) + 1] = '=';
    return out;
}

}  // namespace

PullProgress::Mode PullProgress::detect(bool quiet) {
    if (quiet) return Mode::quiet;
    const char* term = std::getenv("TERM");
    if (::isatty(STDERR_FILENO) && !(term && std::strcmp(term, "dumb") == 0)) return Mode::tty;
    return Mode::lines;
}

engine::PullProgressHooks PullProgress::hooks() {
    if (mode_ == Mode::quiet) return {};
    return {[this](std::string_view l) { line(l); }, [this](const engine::BlobEvent& e) { on_blob(e); }};
}

PullProgress::Row& PullProgress::row(const engine::BlobEvent& e) {
    for (auto& r : rows_)
        if (r.digest == e.digest) return r;
    rows_.push_back(Row{e.digest, e.config, e.size, 0, ""});
    return rows_.back();
}

void PullProgress::on_blob(const engine::BlobEvent& e) {
    using Stage = engine::BlobEvent::Stage;
    std::lock_guard g(mu_);
    Row& r = row(e);
    r.bytes = e.bytes;
    if (e.stage == Stage::done) r.status = "done";
    if (e.stage == Stage::exists) r.status = "already exists";
    if (mode_ == Mode::lines) {
        if (e.stage == Stage::done || e.stage == Stage::exists)
            fmt::print(stderr, "Copying {} {} {}\n", r.config ? "config" : "blob", e.digest,
                       e.stage == Stage::done ? "done" : "skipped: already exists");
        return;
    }
    redraw(e.stage != Stage::progress);
}

void PullProgress::line(std::string_view text) {
    std::lock_guard g(mu_);
    if (mode_ == Mode::tty) {
        redraw(true);
        drawn_ = 0;  // the step line goes below the table
    }
    fmt::print(stderr, "{}\n", text);
}

void PullProgress::redraw(bool force) {
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::string out;
    if (drawn_ > 0) out += fmt::format("\x1b[{}A", drawn_);  // back to the table's first line
    int64_t total = 0, got = 0;
    for (const auto& r : rows_) {
        total += r.size;
        got += r.status.empty() ? r.bytes : r.size;
        std::string state = r.status.empty() ? fmt::format("{} {} / {}", bar(r.bytes, r.size), human(r.bytes),
                                                           human(r.size))
                                             : r.status;
        out += fmt::format("\r\x1b[2KCopying {} {} {}\n", r.config ? "config" : "blob  ", short_digest(r.digest), state);
    }
    out += fmt::format("\r\x1b[2KTotal  {} / {}\n", human(got), human(total));
    drawn_ = static_cast<int>(rows_.size()) + 1;
    std::fwrite(out.data(), 1, out.size(), stderr);
    std::fflush(stderr);
}

}  // namespace bock::cli

// The pull progress display of the CLI, fed by engine::BlobEvent from the
// download threads (thread-safe):
//   tty    per-blob bytes and the overall total, redrawn in place (ANSI)
//   lines  one "Copying blob sha256:... done" line per blob (stderr is not
//          a terminal: logs, CI), as podman prints
//   quiet  nothing (-q)
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bock/engine/images.hpp"

namespace bock::cli {

class PullProgress {
public:
    enum class Mode { quiet, lines, tty };
    // tty when stderr is a terminal (and TERM is not "dumb"), else lines;
    // quiet with -q.
    static Mode detect(bool quiet);

    explicit PullProgress(Mode mode) : mode_(mode) {}
    void on_blob(const engine::BlobEvent& e);
    // A step line ("Writing manifest to image destination").
    void line(std::string_view text);
    // Both callbacks, for a pull request (they keep a pointer to this).
    engine::PullProgressHooks hooks();

private:
    struct Row {
        std::string digest;
        bool config = false;
        int64_t size = 0;
        int64_t bytes = 0;
        std::string status;  // "", "done", "already exists"
    };
    Row& row(const engine::BlobEvent& e);
    void redraw(bool force);

    Mode mode_;
    std::mutex mu_;
    std::vector<Row> rows_;
    int drawn_ = 0;  // lines drawn last time (tty)
    std::chrono::steady_clock::time_point last_;
};

}  // namespace bock::cli

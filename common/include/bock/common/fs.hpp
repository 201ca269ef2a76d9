// File helpers used across libraries: whole-file reads and atomic writes,
// recursive mkdir and removal that never follows symlinks or crosses mounts.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::fs {

Result<std::string> read_file(const std::string& path);
// Writes in place (e.g. /proc files): one write(2) call for the whole data.
Result<void> write_file(const std::string& path, std::string_view data);
// temp file in the same directory + fsync + rename + fsync(dir).
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
// The same without the fsyncs when !durable: readers see the old or the new
// content, never a mix, and a killed writer leaves the old one — but a power
// loss may lose the change (state that a reboot makes stale anyway).
Result<void> write_file_replace(const std::string& path, std::string_view data, mode_t mode, bool durable);
Result<void> mkdir_p(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks; refuses to cross into another mount.
// A missing path is not an error.
Result<void> remove_all(const std::string& path);
bool exists(const std::string& path);
// The names in a directory (without . and ..), sorted.
Result<std::vector<std::string>> list_dir(const std::string& dir);
// The same for an open directory (any fd, O_PATH too; `dirfd` stays open).
Result<std::vector<std::string>> list_dir_at(int dirfd);
bool is_dir(const std::string& path);
Result<std::string> readlink(const std::string& path);
// Creates a unique directory "<dir>/<prefix>XXXXXX" and returns its path.
Result<std::string> make_temp_dir(const std::string& dir, const std::string& prefix);
// Joins with exactly one '/' between parts.
std::string join(std::string_view a, std::string_view b);

}  // namespace bock::fs

// A Bockfile: Bock's own build file, YAML (docs/bockfile.md, the JSON
// Schema in docs/bockfile.schema.json). parse_bockfile() reads it with
// yaml-cpp into a Bockfile, refusing unknown keys, wrong types and missing
// fields at FILE:LINE:COLUMN; each step is already one Containerfile
// instruction (keyword, flags, arguments). lower_bockfile() turns the whole
// file into the Containerfile the build engine runs (the same engine and
// layer cache as a Containerfile; "another front end"), every instruction
// keeping the place of the YAML key it came from.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bock/builder/containerfile.hpp"
#include "bock/common/error.hpp"

namespace bock::builder {

struct Where {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

using Pairs = std::vector<std::pair<std::string, std::string>>;  // in the file's order

// One step, as the Containerfile instruction it is.
struct BockStep {
    std::string keyword;             // RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, LABEL, EXPOSE, VOLUME, SHELL
    std::vector<std::string> flags;  // --network=none, --from=build, ...
    std::string args;                // the instruction's arguments, quoted for it
    std::string script;              // RUN with several lines: the heredoc's body
    Where at;
};

struct BockStage {
    std::string name;  // empty: unnamed
    std::string from;  // an image, `scratch` or an earlier stage's name
    std::vector<BockStep> steps;
    Where at;
};

struct BockHealthcheck {
    std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]
    std::string interval, timeout, start_period, start_interval;
    std::optional<int> retries;
};

// `runtime:` — the image config.
struct BockRuntime {
    std::optional<std::vector<std::string>> entrypoint, cmd;
    Pairs env, labels;
    std::vector<std::string> ports, volumes;
    std::string workdir, user, stop_signal;
    std::optional<BockHealthcheck> healthcheck;
    std::vector<std::pair<std::string, Where>> places;  // each key's place, for the instructions made of it
};

// `security:` — carried in the image as labels io.bock.security.* (see
// security_labels), applied by `bock run` unless its command line says
// otherwise; non_root is checked by the build.
struct BockSecurity {
    std::vector<std::string> cap_drop, cap_add;
    std::string seccomp;                      // default | unconfined; empty: not set
    std::optional<bool> read_only_rootfs;
    std::optional<bool> no_new_privileges;
    bool non_root = false;
    Where non_root_at;
    Where at;
};

struct BockMetadata {
    std::string name, description, version;
    Pairs labels;
    Where at;
};

struct Bockfile {
    std::string file;  // for messages
    std::string version;
    std::string from;
    BockMetadata metadata;
    Pairs args;
    std::vector<Where> arg_places;
    std::vector<BockStage> stages;
    BockRuntime runtime;
    BockSecurity security;
};

// True when the file is a Bockfile rather than a Containerfile: its name
// ends in .yaml/.yml, or its first line that is not blank or a comment is
// a YAML key (`version:`; no instruction is followed by a colon).
bool looks_like_bockfile(const std::string& path, std::string_view text);

Result<Bockfile> parse_bockfile(std::string_view text, const std::string& file);

// The labels `security:` becomes (io.bock.security.capabilities.drop, ...).
Pairs security_labels(const BockSecurity& s);

// The equivalent Containerfile; `comments`: security shown as comments too
// (for --print-containerfile). places[i] is the place of the i-th
// instruction (global ARGs, then each stage's FROM and body).
struct LoweredText {
    std::string text;
    std::vector<Where> places;
};
LoweredText bockfile_to_containerfile(const Bockfile& bf, bool comments);

// The Containerfile the engine builds, each instruction at its Bockfile
// place (FILE:LINE:COLUMN).
Result<Containerfile> lower_bockfile(const Bockfile& bf);

}  // namespace bock::builder

// A Containerfile / Dockerfile read as buildah and BuildKit read it
// (containerfile.cpp): parser directives (`# escape=`, `# syntax=` ignored),
// comments, line continuations, heredocs (`RUN <<EOF`, `COPY <<EOF dest`),
// one Instruction per logical line with its leading `--flags` split off,
// grouped into stages by FROM. Nothing is expanded here: variables are
// substituted when the build reaches the instruction (expand.hpp), because
// their values depend on ARG/ENV seen so far.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::builder {

struct Heredoc {
    std::string name;     // the word after << (EOF)
    std::string content;  // the lines up to the terminator, each ending in \n
    bool expand = true;   // false when the word was quoted (<<"EOF")
};

struct Instruction {
    std::string keyword;                // upper case: RUN, COPY, ...
    std::vector<std::string> flags;     // leading --name[=value], as written
    std::string args;                   // the rest, continuations joined
    std::optional<std::vector<std::string>> json;  // exec form (a JSON array of strings)
    std::vector<Heredoc> heredocs;
    std::string file;                   // for messages
    int line = 0;                       // first line of the instruction
    int column = 0;                     // a Bockfile's step: the column of its key (0: none)
    std::string text;                   // keyword and arguments as one line (progress, history)

    // The value of --NAME=VALUE (or true for a bare --NAME); nullopt: absent.
    std::optional<std::string> flag(std::string_view name) const;
    std::string where() const {
        return file + ":" + std::to_string(line) + (column ? ":" + std::to_string(column) : std::string());
    }
};

struct Stage {
    std::string name;  // AS name (lower case); empty: none
    int index = 0;
    Instruction from;
    std::vector<Instruction> body;
};

struct Containerfile {
    char escape = '\\';
    std::vector<Instruction> global_args;  // ARG before the first FROM
    std::vector<Stage> stages;
};

// Parses the whole file; an error names file:line, the offending text and
// the fix. Unknown flags and instructions are refused here, so a build
// never starts on a file it cannot finish reading.
Result<Containerfile> parse_containerfile(std::string_view text, const std::string& file);

// An instruction text alone (ONBUILD triggers stored in an image).
Result<Instruction> parse_instruction(std::string_view line, const std::string& file, int lineno);

}  // namespace bock::builder

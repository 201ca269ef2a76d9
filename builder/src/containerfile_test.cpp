// The Containerfile reader, substitution and ignore rules, including
// hostile and malformed input (every error names file:line).
#include <catch2/catch.hpp>

#include "bock/builder/containerfile.hpp"
#include "bock/builder/expand.hpp"
#include "ignore.hpp"

using namespace bock::builder;

namespace {

std::string error_of(std::string_view text) {
    auto r = parse_containerfile(text, "Containerfile");
    REQUIRE(!r);
    return r.error().message();
}

}  // namespace

TEST_CASE("instructions, continuations, comments and stages", "[builder]") {
    auto cf = parse_containerfile("# syntax=docker/dockerfile:1\n"
                                  "ARG BASE=busybox\n"
                                  "FROM $BASE AS Build\n"
                                  "RUN echo a \\\n"
                                  "# a comment inside the continuation\n"
                                  "    && echo b\n"
                                  "\n"
                                  "copy --from=build --chown=1:2 [\"a\", \"b\"]\n"
                                  "FROM scratch\n"
                                  "CMD [\"x\"]\n",
                                  "F");
    REQUIRE(cf);
    REQUIRE(cf->global_args.size() == 1);
    REQUIRE(cf->stages.size() == 2);
    CHECK(cf->stages[0].name == "build");
    const auto& run = cf->stages[0].body[0];
    CHECK(run.keyword == "RUN");
    CHECK(run.line == 4);
    CHECK(run.args == "echo a     && echo b");
    const auto& copy = cf->stages[0].body[1];
    CHECK(copy.keyword == "COPY");
    CHECK(copy.flag("from") == "build");
    CHECK(copy.flag("chown") == "1:2");
    CHECK(!copy.flag("chmod"));
    REQUIRE(copy.json);
    CHECK(*copy.json == std::vector<std::string>{"a", "b"});
    CHECK(cf->stages[1].body[0].json == std::vector<std::string>{"x"});
}

TEST_CASE("the escape directive and heredocs", "[builder]") {
    auto cf = parse_containerfile("# escape=`\nFROM x\nRUN echo a `\n  b\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-CONF /etc/c\n\tk=v\n\tCONF\n", "F");
    REQUIRE(cf);
    CHECK(cf->escape == '`');
    CHECK(cf->stages[0].body[0].args == "echo a   b");
    REQUIRE(cf->stages[0].body[1].heredocs.size() == 1);
    CHECK(cf->stages[0].body[1].heredocs[0].content == "echo one\necho two\n");
    CHECK(cf->stages[0].body[2].heredocs[0].content == "k=v\n");
}

TEST_CASE("malformed files fail with their line and a fix", "[builder]") {
    CHECK(error_of("FROM x\nFORM y\n") == "Containerfile:2: unknown instruction `FORM`");
    CHECK(error_of("FROM x\nFORM y\n").size() > 0);
    auto r = parse_containerfile("FROM x\nFORM y\n", "Containerfile");
    CHECK(r.error().hint() == "did you mean FROM?");
    CHECK(error_of("ENV A=1\nFROM x\n") == "Containerfile:1: ENV before the first FROM");
    CHECK(parse_containerfile("FROM x\nRUN a \\", "F"));  // a continuation at the end just ends (as BuildKit reads it)
    CHECK(error_of("FROM x\nCOPY --bogus a b\n") == "Containerfile:2: COPY does not take the flag `--bogus`");
    CHECK(error_of("FROM x\nSHELL sh -c\n").starts_with("Containerfile:2: SHELL needs a JSON array"));
    CHECK(error_of("FROM x\nRUN\n") == "Containerfile:2: RUN needs arguments");
    CHECK(error_of("FROM x AS 1bad\n") == "Containerfile:1: invalid stage name `1bad`");
    CHECK(error_of("FROM a AS s\nFROM b AS s\n").starts_with("Containerfile:2: the stage name `s` is used twice"));
    CHECK(error_of("FROM x y z w\n").starts_with("Containerfile:1: FROM takes IMAGE [AS NAME]"));
    CHECK(error_of("FROM x\nONBUILD FROM y\n") == "Containerfile:2: ONBUILD cannot trigger FROM");
    CHECK(error_of("# escape=x\nFROM y\n") == "Containerfile:1: invalid escape character `x`");
    CHECK(error_of("FROM x\nRUN <<EOF\nno end\n") == "Containerfile:2: the heredoc <<EOF is not closed");
    CHECK(error_of("") .find("no FROM instruction") != std::string::npos);
    CHECK(error_of(std::string("FROM x\nRUN a\0b\n", 14)).find("NUL") != std::string::npos);
    // Many lines, very long lines: no crash, the right line.
    std::string big = "FROM x\n";
    for (int i = 0; i < 5000; ++i) big += "RUN " + std::string(1000, 'a') + "\n";
    big += "BOGUS\n";
    CHECK(error_of(big).starts_with("Containerfile:5002: unknown instruction"));
}

TEST_CASE("variable substitution", "[builder]") {
    Vars v{{"A", "one"}, {"EMPTY", ""}, {"SP", "a b"}};
    auto w = [&](const char* s) { return expand_word(s, v).value(); };
    CHECK(w("$A") == "one");
    CHECK(w("${A}x") == "onex");
    CHECK(w("${NONE:-dflt}") == "dflt");
    CHECK(w("${EMPTY:-dflt}") == "dflt");
    CHECK(w("${EMPTY-dflt}") == "");
    CHECK(w("${A:+alt}") == "alt");
    CHECK(w("${NONE:+alt}") == "");
    CHECK(w("'$A'") == "$A");
    CHECK(w("\"$A $SP\"") == "one a b");
    CHECK(w("\\$A") == "$A");
    CHECK(w("cost $ 5") == "cost $ 5");
    CHECK(w("${NONE:-${A}}") == "one");
    CHECK(!expand_word("${A", v));
    CHECK(!expand_word("${NONE:?must be set}", v));
    CHECK(!expand_word("'open", v));
    CHECK(expand_words("$EMPTY", v).value().empty());
    CHECK(expand_words("\"$EMPTY\"", v).value() == std::vector<std::string>{""});
    CHECK(expand_words("x$EMPTY", v).value() == std::vector<std::string>{"x"});
    CHECK(expand_word("$EMPTY", v).value().empty());
    auto words = expand_words("a \"b c\" $SP", v).value();
    CHECK(words == std::vector<std::string>{"a", "b c", "a", "b"});
    auto pairs = expand_pairs("K=\"v 1\" L=$A", v, '\\', true).value();
    REQUIRE(pairs.size() == 2);
    CHECK(pairs[0].value == "v 1");
    CHECK(pairs[1].value == "one");
    auto legacy = expand_pairs("K some value $A", v, '\\', true).value();
    REQUIRE(legacy.size() == 1);
    CHECK(legacy[0].value == "some value one");
    auto arg = expand_pairs("NAME", v, '\\', false).value();
    CHECK(!arg[0].value);
}

TEST_CASE("ignore rules", "[builder]") {
    auto r = IgnoreRules::parse("# comment\n**/*.log\n!keep.log\nbuild/\n/secret\n");
    CHECK(r.excluded("a.log"));
    CHECK(r.excluded("x/y/a.log"));
    CHECK(!r.excluded("keep.log"));
    CHECK(r.excluded("build"));
    CHECK(r.excluded("build/out/bin"));
    CHECK(r.excluded("secret"));
    CHECK(!r.excluded("src/main.c"));
    CHECK(glob_match("a/*/c", "a/b/c"));
    CHECK(!glob_match("a/*", "a/b/c"));
    CHECK(glob_match("**", "a/b/c"));
}

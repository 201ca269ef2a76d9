// The --format template subset and the health-check configuration.
#include <catch2/catch.hpp>

#include "bock/engine/format.hpp"
#include "bock/engine/health.hpp"

using namespace bock::engine;
using nlohmann::json;

namespace {

std::string render(const std::string& t, const json& doc) {
    auto tmpl = Template::parse(t);
    REQUIRE(tmpl);
    auto out = tmpl->render(doc);
    REQUIRE(out);
    return *out;
}

}  // namespace

TEST_CASE("templates: fields, functions, Go's printing", "[format]") {
    json doc = {{"Name", "web"},
                {"State", {{"Status", "running"}, {"Pid", 42}, {"Running", true}, {"Health", nullptr}}},
                {"Args", {"a", "b"}},
                {"Labels", {{"x", "1"}, {"y", "2"}}}};
    CHECK(render("{{.Name}}", doc) == "web");
    CHECK(render("{{ .State.Status }}/{{.State.Pid}}/{{.State.Running}}", doc) == "running/42/true");
    CHECK(render("{{.Args}} {{.Labels}}", doc) == "[a b] map[x:1 y:2]");
    CHECK(render("{{.State.Health}}", doc) == "<nil>");
    CHECK(render("{{.Missing.Deeper}}", doc) == "<no value>");
    CHECK(render("{{json .Args}}", doc) == "[\"a\",\"b\"]");
    CHECK(render("{{.Args | json}}", doc) == "[\"a\",\"b\"]");
    CHECK(render("{{json .}}", json{{"a", 1}}) == "{\"a\":1}");
    CHECK(render("{{upper .Name}} {{len .Args}} {{join .Args \",\"}}", doc) == "WEB 2 a,b");
    CHECK(render("{{.Name}}\\t{{.Name}}", doc) == "web\tweb");
    for (const char* bad : {"{{range .Args}}{{end}}", "{{.Name", "{{if .Name}}x{{end}}", "{{join .Args}}", "{{}}"}) {
        INFO(bad);
        CHECK_FALSE(Template::parse(bad));
    }
    auto t = Template::parse("table {{.Name}}\t{{.CreatedAt}}", {{"Name", "NAMES"}});
    REQUIRE(t);
    auto out = t->render_all({json{{"Name", "a-long-name"}, {"CreatedAt", "x"}}, json{{"Name", "b"}, {"CreatedAt", "y"}}});
    REQUIRE(out);
    CHECK(*out == "NAMES        CREATED AT\na-long-name  x\nb            y\n");
}

TEST_CASE("health: durations, flags over the image's HEALTHCHECK", "[health]") {
    CHECK(*parse_go_duration("30s") == 30'000'000'000);
    CHECK(*parse_go_duration("1m30s") == 90'000'000'000);
    CHECK(*parse_go_duration("500ms") == 500'000'000);
    CHECK(*parse_go_duration("0") == 0);
    CHECK_FALSE(parse_go_duration("soon"));
    CHECK_FALSE(parse_go_duration("5 parsecs"));

    json image = {{"Test", {"CMD", "/bin/check", "--fast"}}, {"Interval", 5'000'000'000}, {"Retries", 7}};
    HealthFlags f;
    auto h = resolve_healthcheck(f, image);
    REQUIRE(h);
    REQUIRE(*h);
    CHECK((*h)->test == std::vector<std::string>{"CMD", "/bin/check", "--fast"});
    CHECK((*h)->interval_ns == 5'000'000'000);
    CHECK((*h)->timeout_ns == 30'000'000'000);  // Docker's default
    CHECK((*h)->retries == 7);
    // The flags win; a shell string becomes CMD-SHELL; the JSON form too.
    f.cmd = "test -e /ok";
    f.retries = 2;
    f.on_failure = "kill";
    h = resolve_healthcheck(f, image);
    REQUIRE(*h);
    CHECK((*h)->test == std::vector<std::string>{"CMD-SHELL", "test -e /ok"});
    CHECK((*h)->retries == 2);
    CHECK((*h)->interval_ns == 5'000'000'000);
    auto back = HealthConfig::from_json((*h)->to_json());
    REQUIRE(back);
    CHECK(back->to_json() == (*h)->to_json());
    f.cmd = R"(["/bin/probe", "x"])";
    CHECK((*resolve_healthcheck(f, image))->test == std::vector<std::string>{"CMD", "/bin/probe", "x"});
    // Disabled: --no-healthcheck, --health-cmd none, an image's NONE.
    HealthFlags off;
    off.none = true;
    CHECK_FALSE(*resolve_healthcheck(off, image));
    HealthFlags none_cmd;
    none_cmd.cmd = "none";
    CHECK_FALSE(*resolve_healthcheck(none_cmd, image));
    CHECK_FALSE(*resolve_healthcheck(HealthFlags{}, json{{"Test", {"NONE"}}}));
    CHECK_FALSE(*resolve_healthcheck(HealthFlags{}, json()));
    // Options without any check, and bad values, are errors naming the flag.
    HealthFlags orphan;
    orphan.retries = 3;
    CHECK_FALSE(resolve_healthcheck(orphan, json()));
    HealthFlags bad;
    bad.cmd = "true";
    bad.interval = "0s";
    auto e = resolve_healthcheck(bad, json());
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().to_string(), Catch::Contains("--health-interval"));
}

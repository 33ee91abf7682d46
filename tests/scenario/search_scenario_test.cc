// Tests for search: (src/scenario/search.cc and its checks in matrix.cc): the key, range,
// resolution and budget, their errors, both ends of the range validated as a scenario, the
// searched key against matrix axes and --set, a matrix of node placements, and the dump.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"

namespace edgebench {
namespace {

constexpr std::string_view kExpect = "expect: {latency_p99_ms: {max: 50}}\n";

ExternalChecks Checks(int machine_cpus = 4) {
  ExternalChecks c;
  c.expect_metrics = {"latency_p99_ms", "loss_ratio", "received_per_s"};
  c.nodes = {{"edge-gateway", NodeProfile{"a gateway", 0.25, 256}},
             {"cloud-small-vm", NodeProfile{"a vm", 2, 4096}}};
  c.nodes_file = "config/nodes.yaml";
  c.machine_cpus = machine_cpus;
  return c;
}

// "name: x", then `top`, then "search:" with each line of `lines` indented by two, then
// `tail`. With the default `top`, search: is line 3 and its keys start at line 4; the values
// of key, from, to, resolution and max_runs are at columns 8, 9, 7, 15 and 13.
std::string SearchYaml(std::string_view lines, std::string_view top = kExpect,
                       std::string_view tail = "") {
  std::string yaml = "name: x\n" + std::string(top) + "search:\n";
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    yaml += "  " + std::string(lines.substr(0, end)) + "\n";
    lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
  }
  return yaml + std::string(tail);
}

std::vector<Override> Overrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  out.reserve(sets.size());
  for (const std::string& set : sets) out.push_back(ParseOverride(set).value());
  return out;
}

std::string ErrorOf(std::string_view yaml, const std::vector<std::string>& sets = {},
                    const ExternalChecks& checks = Checks()) {
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", Overrides(sets), checks);
  return e ? "ok" : e.error().ToString();
}

Experiment Expand(std::string_view yaml, const std::vector<std::string>& sets = {},
                  const ExternalChecks& checks = Checks()) {
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", Overrides(sets), checks);
  INFO((e ? std::string() : e.error().ToStringWithContext()));
  REQUIRE(e.ok());
  return e.value();
}

// The search of a file without a matrix.
std::optional<SearchSpec> SearchOf(std::string_view yaml) {
  Experiment e = Expand(yaml);
  REQUIRE(e.cells.size() == 1);
  return e.cells[0].scenario.search;
}

constexpr std::string_view kRate = "key: publish.rate\nfrom: 10\nto: 1000";

TEST_CASE("search: key, range, resolution and budget", "[scenario][search]") {
  CHECK_FALSE(SearchOf("name: x\n").has_value());
  CHECK_FALSE(SearchOf("name: x\nsearch:\n").has_value());
  CHECK(SearchOf(SearchYaml(kRate)) == SearchSpec{"publish.rate", 10, 1000, 10, true, 50, 2});
  CHECK(SearchOf(SearchYaml("key: devices.count\nfrom: 10\nto: 500\nresolution: 5\n"
                            "max_runs: 30\nmax_mixed: 3")) ==
        SearchSpec{"devices.count", 10, 500, 5, false, 30, 3});
  CHECK(SearchOf(SearchYaml("key: publish.payload.size\nfrom: 64\nto: 4096\nresolution: 2.5%")) ==
        SearchSpec{"publish.payload.size", 64, 4096, 2.5, true, 50, 2});
  // publish.rate takes fractions; the integer keys take whole numbers written as 10.0 too.
  CHECK(SearchOf(SearchYaml("key: publish.rate\nfrom: 0.5\nto: 2.5\nresolution: 0.1")) ==
        SearchSpec{"publish.rate", 0.5, 2.5, 0.1, false, 50, 2});
  CHECK(SearchOf(SearchYaml("key: devices.count\nfrom: 10.0\nto: 20\nresolution: 99.5%")) ==
        SearchSpec{"devices.count", 10, 20, 99.5, true, 50, 2});
  // max_runs may equal repeat; the search leaves the searched key's own value alone.
  Experiment e = Expand(SearchYaml(std::string(kRate) + "\nmax_runs: 5",
                                   "repeat: 5\npublish: {rate: 3}\n" + std::string(kExpect)));
  CHECK(e.cells[0].scenario.search->max_runs == 5);
  CHECK(e.cells[0].scenario.publish.rate == 3);
}

TEST_CASE("search: errors of the key and the range", "[scenario][search]") {
  CHECK(ErrorOf("name: x\n" + std::string(kExpect) + "search: 5\n") ==
        "t.yaml:3:9: search must be a map");
  CHECK(ErrorOf(SearchYaml("kee: publish.rate\nfrom: 1\nto: 2")) ==
        "t.yaml:4:3: unknown key 'kee' in search (did you mean 'key'?)");
  CHECK(ErrorOf(SearchYaml("from: 1\nto: 2")) ==
        "t.yaml:4:3: missing required key 'key' in search (publish.rate, devices.count or "
        "publish.payload.size)");
  CHECK(ErrorOf(SearchYaml("key: publish.qos\nfrom: 1\nto: 2")) ==
        "t.yaml:4:8: search.key must be publish.rate, devices.count or publish.payload.size, "
        "got 'publish.qos'");
  CHECK(ErrorOf(SearchYaml("key: [publish.rate]\nfrom: 1\nto: 2")) ==
        "t.yaml:4:8: search.key must be publish.rate, devices.count or publish.payload.size, "
        "got a list");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nto: 100")) ==
        "t.yaml:4:3: missing required key 'from' in search");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 10")) ==
        "t.yaml:4:3: missing required key 'to' in search");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 0\nto: 100")) ==
        "t.yaml:5:9: search.from must be greater than 0, got 0");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 10\nto: fast")) ==
        "t.yaml:6:7: search.to must be a number, got 'fast'");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 100\nto: 100")) ==
        "t.yaml:6:7: search.to must be greater than search.from (100), got 100");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 100\nto: 50.5")) ==
        "t.yaml:6:7: search.to must be greater than search.from (100), got 50.5");
  CHECK(ErrorOf(SearchYaml("key: devices.count\nfrom: 1.5\nto: 10")) ==
        "t.yaml:5:9: search.from must be a whole number for devices.count, got 1.5");
  CHECK(ErrorOf(SearchYaml("key: publish.payload.size\nfrom: 64\nto: 100.5")) ==
        "t.yaml:6:7: search.to must be a whole number for publish.payload.size, got 100.5");
}

TEST_CASE("search: errors of the resolution, the budget and expect", "[scenario][search]") {
  const std::string bad_resolution =
      "t.yaml:7:15: search.resolution must be a percentage above 0 and below 100 (\"5%\") or a "
      "number above 0 in the key's unit, got ";
  for (const auto& [value, shown] :
       std::vector<std::pair<std::string, std::string>>{{"0%", "'0%'"},
                                                        {"100%", "'100%'"},
                                                        {"150%", "'150%'"},
                                                        {"0", "'0'"},
                                                        {"-5", "'-5'"},
                                                        {"fast", "'fast'"},
                                                        {"\"%\"", "'%'"},
                                                        {"5%%", "'5%%'"},
                                                        {"[5]", "a list"}}) {
    INFO(value);
    CHECK(ErrorOf(SearchYaml(std::string(kRate) + "\nresolution: " + value)) ==
          bad_resolution + shown);
  }
  CHECK(ErrorOf(SearchYaml(std::string(kRate) + "\nmax_runs: 0")) ==
        "t.yaml:7:13: search.max_runs must be at least 1, got 0");
  CHECK(ErrorOf(SearchYaml(std::string(kRate) + "\nmax_runs: 10001")) ==
        "t.yaml:7:13: search.max_runs must be at most 10000, got 10001");
  CHECK(ErrorOf(SearchYaml(std::string(kRate) + "\nmax_mixed: 0")) ==
        "t.yaml:7:14: search.max_mixed must be at least 1, got 0");
  CHECK(ErrorOf(SearchYaml(std::string(kRate) + "\nmax_runs: 4",
                           "repeat: 5\n" + std::string(kExpect))) ==
        "t.yaml:8:13: search.max_runs must be at least repeat (5): one step runs every repeat");
  CHECK(ErrorOf(SearchYaml(kRate, "")) ==
        "t.yaml:3:3: search needs expect: thresholds: they define the load that holds, e.g. "
        "expect: {latency_p99_ms: {max: 50}, loss_ratio: {max: 0}}");
}

// ParseExperiment in a child process, so that a crash fails this test instead of ending the
// whole test run. True when the child came back with the error text `want`.
bool ChildGetsError(const std::string& yaml, const std::string& want) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Catch's handlers would report the crash from the child too; die quietly instead.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE}) ::signal(sig, SIG_DFL);
    ::_exit(ErrorOf(yaml) == want ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("child " << (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                        : "exit code " + std::to_string(WEXITSTATUS(status))));
  CHECK(WIFEXITED(status));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// With repeat above the default max_runs (50) and no max_runs: written, the budget is too
// small for one step: the error points at search: (this once crashed; the child shows it).
TEST_CASE("search: repeat above the default max_runs is an error, not a crash",
          "[scenario][search]") {
  CHECK(ChildGetsError(SearchYaml(kRate, "repeat: 60\n" + std::string(kExpect)),
                       "t.yaml:5:3: search.max_runs must be at least repeat (60): one step runs "
                       "every repeat"));
}

TEST_CASE("search: each end of the range must give a valid scenario", "[scenario][search]") {
  CHECK(ErrorOf(SearchYaml("key: publish.payload.size\nfrom: 8\nto: 1024")) ==
        "t.yaml:5:9: search.from 8 gives a scenario that is not valid: publish.payload.size must "
        "be at least 32 bytes (the latency header) when latency is on, got 8; set latency: false "
        "to send smaller payloads");
  CHECK(Expand(SearchYaml("key: publish.payload.size\nfrom: 8\nto: 1024",
                          "latency: false\nexpect: {received_per_s: {min: 1}}\n"))
            .cells[0]
            .scenario.search->from == 8);
  CHECK(ErrorOf(SearchYaml("key: devices.count\nfrom: 10\nto: 200000")) ==
        "t.yaml:6:7: search.to 200000 gives a scenario that is not valid: devices.count must be "
        "at most 100000, got 200000");
  CHECK(ErrorOf(SearchYaml("key: publish.rate\nfrom: 10\nto: 2000000")) ==
        "t.yaml:6:7: search.to 2000000 gives a scenario that is not valid: publish.rate must be "
        "at most 1000000, got 2000000");
  // The other keys of the scenario count: 5 gateways need 5 devices.
  CHECK(ErrorOf(SearchYaml("key: devices.count\nfrom: 1\nto: 100",
                           "devices: {count: 10, gateways: 5}\n" + std::string(kExpect))) ==
        "t.yaml:6:9: search.from 1 gives a scenario that is not valid: devices.gateways must be "
        "at most 1, got 5");
  // An end that came from --set is blamed on it.
  CHECK(ErrorOf(SearchYaml("key: publish.payload.size\nfrom: 64\nto: 1024"), {"search.from=8"}) ==
        "--set search.from=8: search.from 8 gives a scenario that is not valid: "
        "publish.payload.size must be at least 32 bytes (the latency header) when latency is on, "
        "got 8; set latency: false to send smaller payloads");
  // In a matrix, only the cell where the end is invalid fails, and it says which.
  CHECK(ErrorOf(SearchYaml("key: publish.payload.size\nfrom: 8\nto: 1024",
                           "expect: {received_per_s: {min: 1}}\n",
                           "matrix:\n  latency: [false, true]\n")) ==
        "t.yaml:5:9: in matrix cell latency=true: search.from 8 gives a scenario that is not "
        "valid: publish.payload.size must be at least 32 bytes (the latency header) when latency "
        "is on, got 8; set latency: false to send smaller payloads");
}

TEST_CASE("search: the searched key may not be a matrix key or a --set", "[scenario][search]") {
  CHECK(ErrorOf(SearchYaml(kRate), {"publish.rate=50"}) ==
        "t.yaml:4:8: search.key publish.rate is also set by --set publish.rate; the search sets "
        "it at every step (change search.from/to instead)");
  CHECK(ErrorOf(SearchYaml(kRate), {"publish={rate: 5}"}) ==
        "t.yaml:4:8: search.key publish.rate is also set by --set publish; the search sets it at "
        "every step (change search.from/to instead)");
  CHECK(ErrorOf(SearchYaml("key: devices.count\nfrom: 10\nto: 100"), {"devices.count=5"}) ==
        "t.yaml:4:8: search.key devices.count is also set by --set devices.count; the search "
        "sets it at every step (change search.from/to instead)");
  CHECK(ErrorOf(SearchYaml(kRate, kExpect, "matrix:\n  publish.rate: [10, 20]\n")) ==
        "t.yaml:4:8: in matrix cell publish.rate=10: search.key publish.rate is also set by the "
        "matrix axis publish.rate; the search sets it at every step");
  CHECK(ErrorOf(
            SearchYaml("key: publish.payload.size\nfrom: 64\nto: 1024", kExpect,
                       "matrix:\n  size:\n    - {label: small, publish.payload: {size: 64}}\n")) ==
        "t.yaml:4:8: in matrix cell size=small: search.key publish.payload.size is also set by "
        "the matrix axis size; the search sets it at every step");
  // Other keys are free to vary.
  Experiment e = Expand(SearchYaml(kRate), {"devices.count=5"});
  CHECK(e.cells[0].scenario.devices.count == 5);
  CHECK(e.cells[0].scenario.search->key == "publish.rate");
}

TEST_CASE("search: a matrix of placements on node profiles, each cell with its search",
          "[scenario][search]") {
  const std::string yaml =
      "name: x\n"
      "broker: {resources: {memory_mb: 512}}\n" +
      std::string(kExpect) +
      "search:\n"
      "  key: publish.rate\n"
      "  from: 100\n"
      "  to: 10000\n"
      "  resolution: 5%\n"
      "matrix:\n"
      "  placement:\n"
      "    - {label: edge, broker.resources.node: edge-gateway}\n"
      "    - {label: cloud, broker.resources.node: cloud-small-vm}\n";
  Experiment e = Expand(yaml);
  REQUIRE(e.cells.size() == 2);
  CHECK(e.matrix[0].path == "placement");
  CHECK(e.matrix[0].values == std::vector<std::string>{"edge", "cloud"});
  CHECK(e.keys == std::vector<std::string>{"broker.resources.node"});
  using V = std::vector<std::pair<std::string, std::string>>;
  CHECK(e.cells[0].values == V{{"placement", "edge"}});
  CHECK(e.cells[1].values == V{{"placement", "cloud"}});
  // The node's cpus, the file's memory_mb on top.
  CHECK(e.cells[0].scenario.broker.resources ==
        ResourcesSpec{true, "edge-gateway", 0.25, 512, true});
  CHECK(e.cells[1].scenario.broker.resources ==
        ResourcesSpec{true, "cloud-small-vm", 2, 512, true});
  const SearchSpec want{"publish.rate", 100, 10000, 5, true, 50, 2};
  for (const ExperimentCell& cell : e.cells) {
    REQUIRE(cell.scenario.search.has_value());
    CHECK(*cell.scenario.search == want);
    Result<Scenario> back = ParseScenario(ScenarioToYaml(cell.scenario), "t.yaml", {}, Checks());
    REQUIRE(back.ok());
    CHECK(back.value() == cell.scenario);
  }
  // A placement the scenario's other keys refuse fails in its own cell.
  CHECK(ErrorOf(yaml + "    - {label: far, broker.resources.node: cloud-big-vm}\n") ==
        "t.yaml:13:43: in matrix cell placement=far: unknown node profile 'cloud-big-vm'; "
        "config/nodes.yaml has cloud-small-vm, edge-gateway");
}

// The check that a node profile fits this machine points at the node: that named it, so in a
// matrix at the matrix value that made the cell (the contract of ParseExperiment).
TEST_CASE("search: a node too big for this machine is blamed on the matrix value",
          "[scenario][search]") {
  const std::string yaml =
      "name: x\n"
      "broker: {resources: {memory_mb: 512}}\n" +
      std::string(kExpect) +
      "search: {key: publish.rate, from: 100, to: 10000}\n"
      "matrix:\n"
      "  placement:\n"
      "    - {label: edge, broker.resources.node: edge-gateway}\n"
      "    - {label: cloud, broker.resources.node: cloud-small-vm}\n";
  CHECK(ErrorOf(yaml, {}, Checks(1)) ==
        "t.yaml:8:45: in matrix cell placement=cloud: node profile 'cloud-small-vm' has cpus 2, "
        "more than the 1 CPUs of this machine");
  // Without broker.resources in the file the map is made by the matrix, has no mark, and the
  // error has no line at all.
  std::string without = yaml;
  without.replace(without.find("broker: {resources: {memory_mb: 512}}\n"),
                  std::string_view("broker: {resources: {memory_mb: 512}}\n").size(), "");
  CHECK(ErrorOf(without, {}, Checks(1)) ==
        "t.yaml:7:45: in matrix cell placement=cloud: node profile 'cloud-small-vm' has cpus 2, "
        "more than the 1 CPUs of this machine");
}

TEST_CASE("ScenarioToYaml writes search: back", "[scenario][search]") {
  for (const std::string& yaml :
       {SearchYaml(kRate),
        SearchYaml("key: devices.count\nfrom: 10\nto: 500\nresolution: 5\nmax_runs: 30\n"
                   "max_mixed: 3"),
        SearchYaml("key: publish.rate\nfrom: 0.5\nto: 2.5\nresolution: 2.5%"),
        SearchYaml(
            "key: publish.payload.size\nfrom: 64\nto: 4096",
            "broker: {resources: {node: edge-gateway, cpus: 0.5}}\n" + std::string(kExpect))}) {
    INFO(yaml);
    Scenario s = Expand(yaml).cells[0].scenario;
    std::string dumped = ScenarioToYaml(s);
    INFO(dumped);
    Result<Scenario> back = ParseScenario(dumped, s.source_file, {}, Checks());
    REQUIRE(back.ok());
    CHECK(back.value() == s);
    Result<Experiment> again = ParseExperiment(dumped, s.source_file, {}, Checks());
    REQUIRE(again.ok());
    REQUIRE(again->cells.size() == 1);
    CHECK(again->cells[0].scenario == s);
  }
  Scenario s = Expand(SearchYaml(kRate)).cells[0].scenario;
  CHECK(ScenarioToYaml(s).find("search:\n  key: publish.rate\n  from: 10\n  to: 1000\n"
                               "  resolution: 10%\n  max_runs: 50\n  max_mixed: 2\n") !=
        std::string::npos);
  CHECK(ScenarioValues(s).at("search.resolution") == "10%");
  CHECK(ScenarioToYaml(Expand("name: x\n").cells[0].scenario).find("search") == std::string::npos);
}

TEST_CASE("search: under run, a run-time problem is an error at its own place",
          "[scenario][search]") {
  // As `run` reads it (no warnings list): the unset variable is the error, not an end of the
  // range.
  CHECK(ErrorOf("name: x\nbroker: {username: u, password_env: EDGEBENCH_TEST_UNSET_VARIABLE}\n" +
                std::string(kExpect) + "search: {key: publish.rate, from: 10, to: 100}\n") ==
        "t.yaml:2:37: broker.password_env: environment variable 'EDGEBENCH_TEST_UNSET_VARIABLE' "
        "is not set");
}

// Under `validate`, what only a run reads (here an unset password variable) stays the one
// warning it is without search:, not an error at search.from.
TEST_CASE("search: validate mode keeps run-time problems as warnings",
          "[scenario][search]") {
  std::vector<Error> warnings;
  ExternalChecks checks = Checks();
  checks.run_time_warnings = &warnings;
  std::string yaml =
      "name: x\nbroker: {username: u, password_env: EDGEBENCH_TEST_UNSET_VARIABLE}\n" +
      std::string(kExpect) + "search: {key: publish.rate, from: 10, to: 100}\n";
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", {}, checks);
  INFO((e ? std::string() : e.error().ToString()));
  CHECK(e.ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].ToString() ==
        "t.yaml:2:37: broker.password_env: environment variable 'EDGEBENCH_TEST_UNSET_VARIABLE' "
        "is not set (edgebench run needs it set)");
}

}  // namespace
}  // namespace edgebench

// Tests for src/scenario/matrix.cc and experiment.cc: matrix expansion, expect:, cost:,
// repeat: and cooldown_s:, their errors and their dump.
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"

namespace edgebench {
namespace {

ExternalChecks Checks() {
  ExternalChecks c;
  c.expect_metrics = {"latency_p99_ms",     "loss_ratio",     "received_per_s",
                      "cost_per_month_usd", "broker_cpu_pct", "wire_bytes_per_message"};
  c.cost_sheets = {"aws-iot-core-eu", "edge-node"};
  c.cost_dir = "config/costs";
  c.profiles = {{"edge-lan", LinkProfile{0.4, 0, 0, 0, 0}},
                {"cloud-near", LinkProfile{15, 0, 0, 0, 0}}};
  c.profiles_file = "config/profiles.yaml";
  return c;
}

std::string ErrorOf(std::string_view yaml, const std::vector<std::string>& sets = {}) {
  std::vector<Override> overrides;
  for (const std::string& set : sets) overrides.push_back(ParseOverride(set).value());
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", overrides, Checks());
  return e ? "ok" : e.error().ToString();
}

Experiment Expand(std::string_view yaml, const std::vector<std::string>& sets = {}) {
  std::vector<Override> overrides;
  for (const std::string& set : sets) overrides.push_back(ParseOverride(set).value());
  Result<Experiment> e = ParseExperiment(yaml, "t.yaml", overrides, Checks());
  INFO((e ? "" : e.error().ToString()));
  REQUIRE(e.ok());
  return e.value();
}

TEST_CASE("a file without a matrix is one cell", "[scenario][matrix]") {
  Experiment e = Expand("name: x\nrepeat: 3\ncooldown_s: 0.5\n");
  REQUIRE(e.cells.size() == 1);
  CHECK(e.cells[0].values.empty());
  CHECK(e.cells[0].scenario.repeat == 3);
  CHECK(e.cells[0].scenario.cooldown_s == 0.5);
  CHECK(e.matrix.empty());
}

TEST_CASE("the matrix is the cartesian product, first axis slowest", "[scenario][matrix]") {
  Experiment e = Expand(
      "name: x\nmatrix:\n  network: [edge-lan, cloud-near]\n  devices.count: [10, 20, 30]\n"
      "  publish.qos: [0, 1]\n");
  REQUIRE(e.cells.size() == 12);
  CHECK(e.keys == std::vector<std::string>{"network", "devices.count", "publish.qos"});
  using V = std::vector<std::pair<std::string, std::string>>;
  CHECK(e.cells[0].values ==
        V{{"network", "edge-lan"}, {"devices.count", "10"}, {"publish.qos", "0"}});
  CHECK(e.cells[1].values ==
        V{{"network", "edge-lan"}, {"devices.count", "10"}, {"publish.qos", "1"}});
  CHECK(e.cells[11].values ==
        V{{"network", "cloud-near"}, {"devices.count", "30"}, {"publish.qos", "1"}});
  CHECK(e.cells[11].scenario.network.profile == "cloud-near");
  CHECK(e.cells[11].scenario.devices.count == 30);
  CHECK(e.cells[11].scenario.publish.qos == 1);
  CHECK(e.cells[0].scenario.network.link.rtt_ms == 0.4);
}

TEST_CASE("a named axis varies several keys together", "[scenario][matrix]") {
  Experiment e = Expand(
      "name: x\nmatrix:\n  placement:\n"
      "    - {label: edge, network: edge-lan, cost.sheet: edge-node}\n"
      "    - {label: cloud, network: cloud-near, cost: {sheets: [aws-iot-core-eu]}}\n");
  REQUIRE(e.cells.size() == 2);
  CHECK(e.matrix[0].path == "placement");
  CHECK(e.matrix[0].values == std::vector<std::string>{"edge", "cloud"});
  CHECK(e.keys == std::vector<std::string>{"network", "cost.sheet", "cost"});
  CHECK(e.cells[0].scenario.cost.sheets == std::vector<std::string>{"edge-node"});
  CHECK(e.cells[1].scenario.cost.sheets == std::vector<std::string>{"aws-iot-core-eu"});
  CHECK(e.cells[1].scenario.network.profile == "cloud-near");
}

TEST_CASE("matrix errors point at the value that made the cell", "[scenario][matrix]") {
  CHECK(ErrorOf("name: x\nmatrix:\n  network: [edge-lan, cloud-far]\n") ==
        "t.yaml:3:23: in matrix cell network=cloud-far: unknown network profile 'cloud-far' "
        "(did you mean 'cloud-near'?); config/profiles.yaml has cloud-near, edge-lan");
  CHECK(ErrorOf("name: x\nmatrix:\n  publish.qos: [0, 3]\n") ==
        "t.yaml:3:20: in matrix cell publish.qos=3: publish.qos must be 0, 1 or 2, got 3");
  CHECK(ErrorOf("name: x\nmatrix:\n  publish.qso: [0, 1]\n") ==
        "t.yaml:3:3: unknown key 'qso' in publish (did you mean 'qos'?)");
  CHECK(ErrorOf("name: x\nmatrix:\n  repeat: [1, 2]\n") ==
        "t.yaml:3:3: matrix cannot vary 'repeat': it belongs to the whole set");
  CHECK(ErrorOf("name: x\nmatrix:\n  publish.qos: []\n") ==
        "t.yaml:3:16: matrix.publish.qos must be a non-empty list of values");
  CHECK(ErrorOf("name: x\nmatrix: [a]\n") == "t.yaml:2:9: matrix must be a map of key: [values]");
  CHECK(ErrorOf("name: x\nmatrix:\n  placement: [{network: edge-lan}]\n") ==
        "t.yaml:3:3: unknown key 'placement'");
  CHECK(ErrorOf("name: x\nmatrix:\n  publish.qos: [0, 1]\n", {"publish.qos=2"}) ==
        "--set publish.qos=2: 'publish.qos' is a matrix key in t.yaml; --set cannot override it");
  CHECK(ErrorOf("name: x\nmatrix:\n  a: [1]\n  b: [1]\n  devices.count: "
                "[1,2,3,4,5,6,7,8,9,10]\n  publish.qos: [0,1]\n") == "t.yaml:3:3: unknown key 'a'");
}

TEST_CASE("more than 1000 cells are refused", "[scenario][matrix]") {
  std::string values = "[";
  for (int i = 1; i <= 40; ++i) values += std::to_string(i) + (i < 40 ? "," : "]");
  CHECK(ErrorOf("name: x\nmatrix:\n  devices.count: " + values + "\n  publish.rate: " + values +
                "\n") == "t.yaml:3:3: matrix has more than 1000 cells");
}

TEST_CASE("a --set override applies to every cell", "[scenario][matrix]") {
  Experiment e = Expand("name: x\nmatrix:\n  publish.qos: [0, 1]\n", {"devices.count=7"});
  REQUIRE(e.cells.size() == 2);
  CHECK(e.cells[0].scenario.devices.count == 7);
  CHECK(e.cells[1].scenario.devices.count == 7);
}

TEST_CASE("expect: thresholds and their errors", "[scenario][expect]") {
  Experiment e = Expand(
      "name: x\ncost: {sheet: edge-node}\nexpect:\n  latency_p99_ms: {max: 50}\n"
      "  received_per_s: {min: 95}\n  cost_per_month_usd: {min: 0, max: 300}\n");
  const std::vector<ExpectSpec>& x = e.cells[0].scenario.expect;
  REQUIRE(x.size() == 3);
  CHECK(x[0] == ExpectSpec{"latency_p99_ms", std::nullopt, 50.0});
  CHECK(x[1] == ExpectSpec{"received_per_s", 95.0, std::nullopt});
  CHECK(x[2] == ExpectSpec{"cost_per_month_usd", 0.0, 300.0});
  CHECK(ErrorOf("name: x\nexpect:\n  latency_p99: {max: 50}\n") ==
        "t.yaml:3:3: unknown metric 'latency_p99' in expect (did you mean 'latency_p99_ms'?)");
  CHECK(ErrorOf("name: x\nexpect:\n  latency_p99_ms: {maximum: 50}\n") ==
        "t.yaml:3:20: unknown key 'maximum' in expect.latency_p99_ms");
  CHECK(ErrorOf("name: x\nexpect:\n  latency_p99_ms: {}\n") ==
        "t.yaml:3:19: expect.latency_p99_ms needs min:, max: or both, e.g. "
        "expect.latency_p99_ms: {max: 50}");
  CHECK(ErrorOf("name: x\nexpect:\n  latency_p99_ms: {min: 5, max: 1}\n") ==
        "t.yaml:3:19: expect.latency_p99_ms: min is greater than max");
  CHECK(ErrorOf("name: x\nexpect:\n  latency_p99_ms: {max: fast}\n") ==
        "t.yaml:3:25: expect.latency_p99_ms.max must be a number, got 'fast'");
  CHECK(ErrorOf("name: x\nlatency: false\npublish: {payload: {size: 8}}\nexpect:\n"
                "  loss_ratio: {max: 0}\n") == "t.yaml:5:3: expect.loss_ratio needs latency: true");
  CHECK(ErrorOf("name: x\nexpect:\n  cost_per_month_usd: {max: 1}\n") ==
        "t.yaml:3:3: expect.cost_per_month_usd needs a cost: sheet");
  CHECK(ErrorOf("name: x\ncapture: {enabled: false}\nexpect:\n  wire_bytes_per_message: "
                "{max: 1}\n") == "t.yaml:4:3: expect.wire_bytes_per_message needs capture enabled");
  CHECK(ErrorOf("name: x\nexpect: [latency_p99_ms]\n") ==
        "t.yaml:2:9: expect must be a map of metric: {min: ..., max: ...}");
}

TEST_CASE("cost: names price sheets", "[scenario][expect]") {
  CHECK(Expand("name: x\ncost: {sheets: [edge-node, aws-iot-core-eu]}\n")
            .cells[0]
            .scenario.cost.sheets == std::vector<std::string>{"edge-node", "aws-iot-core-eu"});
  CHECK(ErrorOf("name: x\ncost: {sheet: aws-iot-core}\n") ==
        "t.yaml:2:15: no price sheet 'aws-iot-core' in config/costs (have: aws-iot-core-eu, "
        "edge-node)");
  CHECK(ErrorOf("name: x\ncost: {sheet: a, sheets: [b]}\n") ==
        "t.yaml:2:26: cost takes sheet: or sheets:, not both");
  CHECK(ErrorOf("name: x\ncost: {sheets: []}\n") ==
        "t.yaml:2:16: cost.sheets must be a list of price sheet names");
  CHECK(ErrorOf("name: x\nrepeat: 0\n") == "t.yaml:2:9: repeat must be at least 1, got 0");
}

TEST_CASE("the dump keeps expect, cost, repeat and cooldown", "[scenario][expect]") {
  Experiment e = Expand(
      "name: x\nrepeat: 4\ncooldown_s: 1.5\ncost: {sheet: edge-node}\n"
      "expect: {latency_p99_ms: {max: 50}, received_per_s: {min: 9.5}}\n");
  const Scenario& s = e.cells[0].scenario;
  Result<Scenario> back = ParseScenario(ScenarioToYaml(s), s.source_file, {}, Checks());
  REQUIRE(back.ok());
  CHECK(back.value() == s);
  std::map<std::string, std::string> values = ScenarioValues(s);
  CHECK(values.at("expect.latency_p99_ms.max") == "50");
  CHECK(values.at("cost.sheets") == "[edge-node]");
  CHECK(values.at("publish.qos") == "0");
  CHECK(values.at("repeat") == "4");
}

}  // namespace
}  // namespace edgebench

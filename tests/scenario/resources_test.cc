// Tests for broker.resources (src/scenario/resources.cc) and LoadNodeProfiles(): inline
// budgets, node profiles with inline values on top, the scalar shorthand, their errors and
// their dump, and the shipped config/nodes.yaml.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"

#include "test_support.h"

#ifndef EDGEBENCH_SOURCE_DIR
#error "EDGEBENCH_SOURCE_DIR must name the project source directory"
#endif

namespace edgebench {
namespace {

using testing::TempDir;
using testing::WriteText;

const NodeProfile kGateway{"a gateway", 0.25, 256};
const NodeProfile kRpi{"a pi", 0.5, 1024};
const NodeProfile kVm{"a vm", 2, 4096};

// Three node profiles, as if read from "config/nodes.yaml", on a machine of `machine_cpus`.
ExternalChecks Nodes(int machine_cpus = 4) {
  ExternalChecks checks;
  checks.nodes = {{"edge-gateway", kGateway}, {"edge-rpi4", kRpi}, {"cloud-small-vm", kVm}};
  checks.nodes_file = "config/nodes.yaml";
  checks.machine_cpus = machine_cpus;
  return checks;
}

// A scenario whose broker.resources is `value`: line 3, the value at column 14.
std::string WithResources(std::string_view value) {
  return "name: x\nbroker:\n  resources: " + std::string(value) + "\n";
}

Scenario Parse(std::string_view yaml, const ExternalChecks& checks = Nodes()) {
  Result<Scenario> s = ParseScenario(yaml, "t.yaml", {}, checks);
  INFO((s ? std::string() : s.error().ToStringWithContext()));
  REQUIRE(s.ok());
  return s.value();
}

ResourcesSpec ResourcesOf(std::string_view value, const ExternalChecks& checks = Nodes()) {
  return Parse(WithResources(value), checks).broker.resources;
}

std::string ErrorOf(std::string_view yaml, const ExternalChecks& checks = Nodes()) {
  Result<Scenario> s = ParseScenario(yaml, "t.yaml", {}, checks);
  return s ? "ok" : s.error().ToString();
}

std::string ResourcesErrorOf(std::string_view value, const ExternalChecks& checks = Nodes()) {
  return ErrorOf(WithResources(value), checks);
}

TEST_CASE("broker.resources inline: cpus, memory_mb and required", "[scenario][resources]") {
  CHECK(Parse("name: x\n").broker.resources == ResourcesSpec{});
  CHECK_FALSE(Parse("name: x\n").broker.resources.limited);
  CHECK(ResourcesOf("") == ResourcesSpec{});  // "resources:" with nothing: no limit
  CHECK(ResourcesOf("{cpus: 0.5, memory_mb: 512}") == ResourcesSpec{true, "", 0.5, 512, true});
  CHECK(ResourcesOf("{cpus: 1.5}") == ResourcesSpec{true, "", 1.5, 0, true});
  CHECK(ResourcesOf("{memory_mb: 64, required: false}") == ResourcesSpec{true, "", 0, 64, false});
  // The limits themselves are accepted: the smallest quota, the whole machine, 16 MiB.
  CHECK(ResourcesOf("{cpus: 0.01}").cpus == 0.01);
  CHECK(ResourcesOf("{cpus: 4}").cpus == 4);
  CHECK(ResourcesOf("{memory_mb: 16}").memory_mb == 16);
  // machine_cpus 0: the machine is not checked, only the parser's own bound.
  CHECK(ResourcesOf("{cpus: 64}", Nodes(0)).cpus == 64);
}

TEST_CASE("a node profile gives the budget and inline values override it",
          "[scenario][resources]") {
  CHECK(ResourcesOf("{node: edge-gateway}") ==
        ResourcesSpec{true, "edge-gateway", 0.25, 256, true});
  CHECK(ResourcesOf("{node: edge-rpi4, cpus: 0.75}") ==
        ResourcesSpec{true, "edge-rpi4", 0.75, 1024, true});
  CHECK(ResourcesOf("{memory_mb: 2048, node: edge-rpi4, required: false}") ==
        ResourcesSpec{true, "edge-rpi4", 0.5, 2048, false});
  // A node larger than this machine is fine once the inline cpus bring it down.
  CHECK(ResourcesOf("{node: cloud-small-vm, cpus: 1}", Nodes(1)) ==
        ResourcesSpec{true, "cloud-small-vm", 1, 4096, true});
}

TEST_CASE("broker.resources: NAME is short for {node: NAME}", "[scenario][resources]") {
  CHECK(ResourcesOf("cloud-small-vm") == ResourcesSpec{true, "cloud-small-vm", 2, 4096, true});
  CHECK(ResourcesOf("edge-gateway") == ResourcesOf("{node: edge-gateway}"));
  CHECK(Parse("name: x\nbroker:\n  embedded: true\n  resources: edge-rpi4\n").broker.resources ==
        ResourcesSpec{true, "edge-rpi4", 0.5, 1024, true});
}

TEST_CASE("broker.resources budget errors say where and what", "[scenario][resources]") {
  CHECK(ResourcesErrorOf("{cpus: 0}") ==
        "t.yaml:3:21: broker.resources.cpus must be greater than 0, got 0");
  CHECK(ResourcesErrorOf("{cpus: -1}") ==
        "t.yaml:3:21: broker.resources.cpus must be greater than 0, got -1");
  CHECK(ResourcesErrorOf("{cpus: 0.005}") ==
        "t.yaml:3:21: broker.resources.cpus must be at least 0.01 (the kernel's smallest quota "
        "is 1 ms per 100 ms), got 0.005");
  CHECK(ResourcesErrorOf("{cpus: 5}") ==
        "t.yaml:3:21: broker.resources.cpus must be at most 4, the CPUs of this machine, got 5");
  CHECK(ResourcesErrorOf("{cpus: 2000}", Nodes(0)) ==
        "t.yaml:3:21: broker.resources.cpus must be at most 1024, got 2000");
  CHECK(ResourcesErrorOf("{cpus: many}") ==
        "t.yaml:3:21: broker.resources.cpus must be a number, got 'many'");
  CHECK(ResourcesErrorOf("{memory_mb: 1.5}") ==
        "t.yaml:3:26: broker.resources.memory_mb must be an integer, got '1.5'");
  CHECK(ResourcesErrorOf("{memory_mb: 8}") ==
        "t.yaml:3:26: broker.resources.memory_mb must be at least 16 (mosquitto needs about 8 "
        "MiB to start and hold its first clients), got 8");
  CHECK(ResourcesErrorOf("{memory_mb: 2000000}") ==
        "t.yaml:3:26: broker.resources.memory_mb must be at most 1048576, got 2000000");
  CHECK(ResourcesErrorOf("{cpus: 1, required: maybe}") ==
        "t.yaml:3:34: broker.resources.required must be true or false, got 'maybe'");
  CHECK(ResourcesErrorOf("{required: false}") ==
        "t.yaml:3:14: broker.resources needs cpus:, memory_mb: or a node: that sets them");
  CHECK(ResourcesErrorOf("{}") ==
        "t.yaml:3:14: broker.resources needs cpus:, memory_mb: or a node: that sets them");
  CHECK(ResourcesErrorOf("{cpu: 1}") ==
        "t.yaml:3:15: unknown key 'cpu' in broker.resources (did you mean 'cpus'?)");
  CHECK(ResourcesErrorOf("[1]") == "t.yaml:3:14: broker.resources must be a map");
  // A node's value checked like an inline one.
  CHECK(ResourcesErrorOf("{node: edge-rpi4, memory_mb: 8}") ==
        "t.yaml:3:43: broker.resources.memory_mb must be at least 16 (mosquitto needs about 8 "
        "MiB to start and hold its first clients), got 8");
}

TEST_CASE("broker.resources needs the embedded broker", "[scenario][resources]") {
  const std::string refused =
      "broker.resources needs the embedded broker: an external broker's host is not "
      "edgebench's to limit";
  CHECK(ErrorOf("name: x\nbroker:\n  host: mqtt.example.org\n  resources: {cpus: 1}\n") ==
        "t.yaml:4:14: " + refused);
  CHECK(ErrorOf("name: x\nbroker:\n  port: 1884\n  resources: edge-gateway\n") ==
        "t.yaml:4:14: " + refused);
  // Nothing to limit is nothing to refuse.
  CHECK(Parse("name: x\nbroker:\n  host: mqtt.example.org\n  resources:\n").broker.resources ==
        ResourcesSpec{});
}

TEST_CASE("an unknown node profile names the file and a near name", "[scenario][resources]") {
  const std::string known = "config/nodes.yaml has cloud-small-vm, edge-gateway, edge-rpi4";
  CHECK(ResourcesErrorOf("{node: edge-gatway}") ==
        "t.yaml:3:21: unknown node profile 'edge-gatway' (did you mean 'edge-gateway'?); " + known);
  CHECK(ResourcesErrorOf("edge-rpi") ==
        "t.yaml:3:14: unknown node profile 'edge-rpi' (did you mean 'edge-rpi4'?); " + known);
  CHECK(ResourcesErrorOf("{node: big-iron}") ==
        "t.yaml:3:21: unknown node profile 'big-iron'; " + known);
  CHECK(ResourcesErrorOf("edge-gateway", ExternalChecks{}) ==
        "t.yaml:3:14: unknown node profile 'edge-gateway'; no node profiles were loaded");
  ExternalChecks empty;
  empty.nodes_file = "config/nodes.yaml";
  CHECK(ResourcesErrorOf("edge-gateway", empty) ==
        "t.yaml:3:14: unknown node profile 'edge-gateway'; config/nodes.yaml has no profiles");
  CHECK(ResourcesErrorOf("{node: [edge-gateway]}") ==
        "t.yaml:3:21: broker.resources.node must be a node profile name, got a list");
  CHECK(ResourcesErrorOf("\"\"") ==
        "t.yaml:3:14: broker.resources must be a node profile name, got ''");
  CHECK(ResourcesErrorOf("cloud-small-vm", Nodes(1)) ==
        "t.yaml:3:14: node profile 'cloud-small-vm' has cpus 2, more than the 1 CPUs of this "
        "machine");
}

TEST_CASE("ScenarioToYaml writes broker.resources back", "[scenario][resources]") {
  for (const char* value :
       {"{cpus: 0.5, memory_mb: 512}", "{cpus: 1.5}", "{memory_mb: 64, required: false}",
        "{node: edge-rpi4, cpus: 0.75}", "edge-gateway", "{node: cloud-small-vm}"}) {
    INFO(value);
    Scenario s = Parse(WithResources(value));
    std::string dumped = ScenarioToYaml(s);
    INFO(dumped);
    Result<Scenario> back = ParseScenario(dumped, "t.yaml", {}, Nodes());
    REQUIRE(back.ok());
    CHECK(back.value() == s);
  }
  CHECK(ScenarioToYaml(Parse(WithResources("{node: edge-rpi4, cpus: 0.75}")))
            .find("  resources:\n    node: edge-rpi4\n    cpus: 0.75\n    memory_mb: 1024\n"
                  "    required: true\n") != std::string::npos);
  CHECK(ScenarioToYaml(Parse(WithResources("{memory_mb: 64, required: false}")))
            .find("  resources:\n    memory_mb: 64\n    required: false\n") != std::string::npos);
  CHECK(ScenarioToYaml(Parse("name: x\n")).find("resources") == std::string::npos);
  CHECK(ScenarioValues(Parse(WithResources("edge-gateway"))).at("broker.resources.cpus") == "0.25");
}

TEST_CASE("the shipped config/nodes.yaml has three usable profiles", "[scenario][resources]") {
  std::string path = std::string(EDGEBENCH_SOURCE_DIR) + "/config/nodes.yaml";
  Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(path);
  if (!nodes) FAIL(nodes.error().ToStringWithContext());
  std::vector<std::string> names;
  for (const auto& [name, node] : *nodes) names.push_back(name);
  CHECK(names == std::vector<std::string>{"cloud-small-vm", "edge-gateway", "edge-rpi4"});
  for (const auto& [name, node] : *nodes) {
    INFO(name);
    CHECK(node.cpus > 0);
    CHECK(node.cpus >= kMinBrokerCpus);
    CHECK(node.memory_mb > 0);
    CHECK(node.memory_mb >= kMinBrokerMemoryMb);
    CHECK_FALSE(node.description.empty());
  }
  // A scenario can use them as the CLI passes them (machine not checked here: the test
  // machine may have fewer CPUs than a profile).
  ExternalChecks checks;
  checks.nodes = *nodes;
  checks.nodes_file = path;
  for (const auto& [name, node] : *nodes) {
    ResourcesSpec r = ResourcesOf(name, checks);
    CHECK(r == ResourcesSpec{true, name, node.cpus, node.memory_mb, true});
  }
  CHECK(ResourcesErrorOf("{node: edge-rpi5}", checks) ==
        "t.yaml:3:21: unknown node profile 'edge-rpi5' (did you mean 'edge-rpi4'?); " + path +
            " has cloud-small-vm, edge-gateway, edge-rpi4");
}

TEST_CASE("LoadNodeProfiles reads names, budgets and descriptions", "[scenario][resources]") {
  TempDir dir;
  std::string path = dir.File("nodes.yaml");
  WriteText(path,
            "# two nodes\n"
            "plant-7:\n"
            "  description: the plant's own box\n"
            "  cpus: 0.3\n"
            "  memory_mb: 128\n"
            "big_box.2: {cpus: 64, memory_mb: 65536}\n");
  Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(path);
  if (!nodes) FAIL(nodes.error().ToStringWithContext());
  REQUIRE(nodes->size() == 2);
  CHECK(nodes->at("plant-7") == NodeProfile{"the plant's own box", 0.3, 128});
  // A profile may describe a machine larger than this one.
  CHECK(nodes->at("big_box.2") == NodeProfile{"", 64, 65536});
}

// LoadNodeProfiles() on `text` written to a temporary file; the whole error text with the
// file's path shown as "P", or "ok".
std::string NodesErrorOf(std::string_view text) {
  TempDir dir;
  std::string path = dir.File("nodes.yaml");
  WriteText(path, text);
  Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(path);
  if (nodes) return "ok";
  std::string message = nodes.error().ToStringWithContext();
  if (message.starts_with(path)) message = "P" + message.substr(path.size());
  return message;
}

TEST_CASE("LoadNodeProfiles errors say where and what", "[scenario][resources]") {
  CHECK(NodesErrorOf("edge:\n  memory_mb: 256\n") ==
        "P:1:1: node profile 'edge' needs cpus and memory_mb\nedge:\n^");
  CHECK(NodesErrorOf("edge:\n  description: no memory\n  cpus: 1\n") ==
        "P:1:1: node profile 'edge' needs cpus and memory_mb\nedge:\n^");
  CHECK(NodesErrorOf("edge:\n  cpu: 1\n  memory_mb: 256\n") ==
        "P:2:3: unknown key 'cpu' in edge (did you mean 'cpus'?)\n  cpu: 1\n  ^");
  CHECK(NodesErrorOf("edge:\n  cpus: 1\n  memory_mb: 256\n  required: true\n") ==
        "P:4:3: unknown key 'required' in edge\n  required: true\n  ^");
  CHECK(NodesErrorOf("edge:\n  cpus: 1\n  memory_mb: 64\nEdge-2:\n  cpus: 1\n  memory_mb: 64\n") ==
        "P:4:1: node names must be lower-case letters, digits, '-', '_' and '.', got "
        "'Edge-2'\nEdge-2:\n^");
  CHECK(NodesErrorOf("edge box: {cpus: 1, memory_mb: 64}\n") ==
        "P:1:1: node names must be lower-case letters, digits, '-', '_' and '.', got 'edge "
        "box'\nedge box: {cpus: 1, memory_mb: 64}\n^");
  CHECK(NodesErrorOf("edge:\n  cpus: 0.001\n  memory_mb: 64\n") ==
        "P:2:9: edge.cpus must be at least 0.01 (the kernel's smallest quota is 1 ms per 100 "
        "ms), got 0.001\n  cpus: 0.001\n        ^");
  CHECK(NodesErrorOf("edge:\n  cpus: 1\n  memory_mb: 8\n") ==
        "P:3:14: edge.memory_mb must be at least 16 (mosquitto needs about 8 MiB to start and "
        "hold its first clients), got 8\n  memory_mb: 8\n             ^");
  CHECK(NodesErrorOf("edge:\n  cpus: half\n  memory_mb: 64\n") ==
        "P:2:9: edge.cpus must be a number, got 'half'\n  cpus: half\n        ^");
  CHECK(NodesErrorOf("edge: 5\n") == "P:1:7: edge must be a map\nedge: 5\n      ^");
  CHECK(NodesErrorOf("- edge\n") ==
        "P:1:1: a node profiles file must be a YAML map of node names\n- edge\n^");
  CHECK(NodesErrorOf("edge: {cpus: 1\n") == "P:2:1: YAML syntax error: end of map flow not found");
  CHECK(NodesErrorOf("a: {cpus: 1, memory_mb: 64}\na: {cpus: 2, memory_mb: 64}\n") ==
        "P:2:1: duplicate node profile 'a'\na: {cpus: 2, memory_mb: 64}\n^");

  Result<std::map<std::string, NodeProfile>> missing = LoadNodeProfiles("/nonexistent/nodes.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToStringWithContext() ==
        "/nonexistent/nodes.yaml: cannot read file: No such file or directory");
  CHECK(missing.error().kind == ErrorKind::kScenario);
}

}  // namespace
}  // namespace edgebench

// libFuzzer target: the scenario reader (ParseExperiment, and through it ParseScenario and
// the matrix) on arbitrary text, with the checks `validate` gives it, as tests/scenario does.
//
// Input: the text of a scenario file. Any input must come back as a value (a scenario or an
// Error), never a crash, a hang or an exception. What is accepted must also round-trip:
// ScenarioToYaml() of each cell parses back to an equal Scenario (the contract of
// scenario.h). A disagreement aborts (a crash for libFuzzer).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/scenario/scenario.h"

namespace edgebench {
namespace {

// What `validate` knows, without touching the file system: profiles, nodes, metrics and
// price sheets by name. Run-time files (TLS, password_file) become warnings.
ExternalChecks Checks(std::vector<Error>* warnings) {
  ExternalChecks c;
  c.profiles = {{"edge-lan", LinkProfile{0.4, 0, 0, 0, 0}},
                {"cloud-near", LinkProfile{15, 1, 0.1, 100, 100}}};
  c.profiles_file = "config/profiles.yaml";
  c.nodes = {{"pi4", NodeProfile{"a small node", 4, 4096}}};
  c.nodes_file = "config/nodes.yaml";
  c.expect_metrics = {"latency_p99_ms", "loss_ratio", "received_per_s", "cost_per_month_usd"};
  c.cost_sheets = {"aws-iot-core-eu", "edge-node"};
  c.cost_dir = "config/costs";
  c.machine_cpus = 2;
  c.run_time_warnings = warnings;
  return c;
}

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "scenario_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace
}  // namespace edgebench

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgebench;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Error> warnings;
  const ExternalChecks checks = Checks(&warnings);
  Result<Experiment> experiment = ParseExperiment(text, "fuzz.yaml", {}, checks);
  if (!experiment) {
    Require(!experiment.error().ToString().empty(), "an error without a message");
    return 0;
  }
  for (const ExperimentCell& cell : experiment.value().cells) {
    std::vector<Error> again_warnings;
    Result<Scenario> back =
        ParseScenario(ScenarioToYaml(cell.scenario), "fuzz.yaml", {}, Checks(&again_warnings));
    if (!back) std::fprintf(stderr, "%s\n", back.error().ToString().c_str());
    Require(back.ok(), "ScenarioToYaml of an accepted scenario does not parse back");
    Require(back.value() == cell.scenario, "ScenarioToYaml does not round-trip");
  }
  return 0;
}

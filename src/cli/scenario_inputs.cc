// What run and validate share: the --set overrides, the config directory and the checks
// a scenario needs from other modules (libpcap's filter and interface checks, profiles).
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "edgebench/measure/packet_capture.h"
#include "edgebench/results/metrics.h"
#include "edgebench/scenario/price_sheet.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {

bool IsConfigDir(const std::string& dir) {
  return ::access((dir + "/mosquitto.conf.in").c_str(), R_OK) == 0;
}

Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const std::string& s : sets) {
    Result<Override> o = ParseOverride(s);
    if (!o.ok()) return o.error().WithKind(ErrorKind::kUsage);
    out.push_back(*o);
  }
  return out;
}

namespace {

// The CPUs this process may run on (a container's cpuset counts, not the host's).
int MachineCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
}

}  // namespace

Result<ExternalChecks> ScenarioChecks(const std::string& config_dir) {
  ExternalChecks checks;
  checks.capture_filter = CheckCaptureFilter;
  checks.capture_interface = CheckCaptureInterface;
  checks.profiles_file = config_dir + "/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(checks.profiles_file);
  if (!profiles.ok()) return profiles.error().WithKind(ErrorKind::kScenario);
  checks.profiles = std::move(profiles.value());
  checks.nodes_file = config_dir + "/nodes.yaml";
  if (std::filesystem::exists(checks.nodes_file)) {
    Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(checks.nodes_file);
    if (!nodes.ok()) return nodes.error().WithKind(ErrorKind::kScenario);
    checks.nodes = std::move(nodes.value());
  } else {
    checks.nodes_file.clear();  // an older config directory: no node profiles
  }
  checks.machine_cpus = MachineCpus();
  checks.expect_metrics = MetricNames();
  checks.cost_dir = config_dir + "/costs";
  // Without the directory only a scenario that names a sheet fails (LoadExperiments).
  Result<std::vector<std::string>> sheets = ListPriceSheets(checks.cost_dir);
  if (sheets.ok()) checks.cost_sheets = std::move(sheets.value());
  return checks;
}

Result<std::vector<Experiment>> LoadExperiments(const std::vector<std::string>& files,
                                                const std::vector<Override>& overrides,
                                                const ExternalChecks& checks) {
  std::vector<Experiment> out;
  for (const std::string& file : files) {
    Result<Experiment> e = LoadExperiment(file, overrides, checks);
    if (!e.ok()) return e.error().WithKind(ErrorKind::kScenario);
    // A price sheet with an error stops the set before its first run, not after it.
    for (const ExperimentCell& cell : e->cells) {
      if (cell.scenario.cost.sheets.empty()) continue;
      Result<std::vector<PriceSheet>> sheets =
          LoadPriceSheets(checks.cost_dir, cell.scenario.cost.sheets);
      if (!sheets.ok()) return sheets.error().WithKind(ErrorKind::kScenario);
    }
    out.push_back(std::move(e.value()));
  }
  return out;
}

}  // namespace edgebench::cli_internal

// What run and validate share: the --set overrides, the config directory and the checks
// a scenario needs from other modules (libpcap's filter and interface checks, profiles).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "edgebench/measure/packet_capture.h"
#include "edgebench/results/metrics.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {

// The price sheets of `dir`: its *.yaml files without the extension, sorted.
std::vector<std::string> PriceSheetNames(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

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

Result<ExternalChecks> ScenarioChecks(const std::string& config_dir) {
  ExternalChecks checks;
  checks.capture_filter = CheckCaptureFilter;
  checks.capture_interface = CheckCaptureInterface;
  checks.profiles_file = config_dir + "/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(checks.profiles_file);
  if (!profiles.ok()) return profiles.error().WithKind(ErrorKind::kScenario);
  checks.profiles = std::move(profiles.value());
  checks.expect_metrics = MetricNames();
  checks.cost_dir = config_dir + "/costs";
  checks.cost_sheets = PriceSheetNames(checks.cost_dir);
  return checks;
}

Result<std::vector<Experiment>> LoadExperiments(const std::vector<std::string>& files,
                                                const std::vector<Override>& overrides,
                                                const ExternalChecks& checks) {
  std::vector<Experiment> out;
  for (const std::string& file : files) {
    Result<Experiment> e = LoadExperiment(file, overrides, checks);
    if (!e.ok()) return e.error().WithKind(ErrorKind::kScenario);
    out.push_back(std::move(e.value()));
  }
  return out;
}

}  // namespace edgebench::cli_internal

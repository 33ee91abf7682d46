// What run and validate share: the --set overrides, the config directory and the checks
// a scenario needs from other modules (libpcap's filter and interface checks, profiles).
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "edgebench/measure/packet_capture.h"

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

Result<ExternalChecks> ScenarioChecks(const std::string& config_dir) {
  ExternalChecks checks;
  checks.capture_filter = CheckCaptureFilter;
  checks.capture_interface = CheckCaptureInterface;
  checks.profiles_file = config_dir + "/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(checks.profiles_file);
  if (!profiles.ok()) return profiles.error().WithKind(ErrorKind::kScenario);
  checks.profiles = std::move(profiles.value());
  return checks;
}

}  // namespace edgebench::cli_internal

// edgebench validate FILE...: each scenario read and checked as run would, nothing started.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/internal.h"

namespace edgebench::cli_internal {

void AddValidateOptions(CLI::App& app, CommandLine& cl) {
  app.add_option("files", cl.files, "Scenario YAML files")->required();
  app.add_option("--set", cl.sets, "Override a scenario value (as for run)");
  app.add_option("--config-dir", cl.run.config_dir,
                 "Directory with profiles.yaml (default: found next to the binary)")
      ->capture_default_str();
  app.footer(
      "Prints 'FILE: ok' for each good file, one error per bad file (exit 2). A file that a\n"
      "run would read but that is missing here (a CA certificate, a password file) or an\n"
      "unset password variable is a warning: validate says 'ok (N warnings)', run refuses.");
}

// A file the user has not provided yet (the CA of scenarios/real-broker.example.yaml) is a
// warning here, not an error: the scenario itself is right, and `run` still refuses it.
CliOutcome ValidateCommand(CommandLine& cl) {
  CliOutcome out;
  Result<std::vector<Override>> overrides = ParseOverrides(cl.sets);
  if (!overrides.ok()) return {{overrides.error()}, true};
  Result<ExternalChecks> checks = ScenarioChecks(cl.run.config_dir);
  if (!checks.ok()) return {{checks.error()}, false};
  for (const std::string& f : cl.files) {
    std::vector<Error> warnings;
    checks->run_time_warnings = &warnings;
    Result<Scenario> s = LoadScenario(f, *overrides, *checks);
    if (!s.ok()) {
      out.errors.push_back(s.error().WithKind(ErrorKind::kScenario));
    } else if (warnings.empty()) {
      std::printf("%s: ok\n", f.c_str());
    } else {
      std::printf("%s: ok (%zu warning%s)\n", f.c_str(), warnings.size(),
                  warnings.size() == 1 ? "" : "s");
      out.warnings.insert(out.warnings.end(), warnings.begin(), warnings.end());
    }
  }
  return out;
}

}  // namespace edgebench::cli_internal

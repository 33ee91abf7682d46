// edgebench validate FILE...: each scenario read and checked as run would, nothing started.
#include <algorithm>
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
      "unset password variable is a warning: validate says 'ok (N warnings)', run refuses.\n"
      "A file with matrix: is expanded and every cell checked ('FILE: ok (4 cells)').");
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
    checks->warnings = &warnings;
    Result<Experiment> e = LoadExperiment(f, *overrides, *checks);
    if (!e.ok()) {
      out.errors.push_back(e.error().WithKind(ErrorKind::kScenario));
      continue;
    }
    // Every cell reads the same files: one warning each.
    std::vector<Error> unique;
    for (const Error& w : warnings) {
      auto same = [&w](const Error& u) { return u.ToString() == w.ToString(); };
      if (std::none_of(unique.begin(), unique.end(), same)) unique.push_back(w);
    }
    std::string cells;
    if (e->cells.size() > 1) cells = " (" + std::to_string(e->cells.size()) + " cells)";
    if (unique.empty()) {
      std::printf("%s: ok%s\n", f.c_str(), cells.c_str());
    } else {
      std::printf("%s: ok%s (%zu warning%s)\n", f.c_str(), cells.c_str(), unique.size(),
                  unique.size() == 1 ? "" : "s");
      out.warnings.insert(out.warnings.end(), unique.begin(), unique.end());
    }
  }
  return out;
}

}  // namespace edgebench::cli_internal

// edgebench run SCENARIO...: every file validated first, then one run after the other.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "edgebench/mqtt/mqtt_client.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {
namespace {

void OnStopSignal(int) { StopRequested() = true; }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let blocking calls return so the flag is seen
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

// Every scenario, read and checked before the first run starts, so a typo in the last
// file starts nothing.
Result<std::vector<Scenario>> LoadAll(const CommandLine& cl,
                                      const std::vector<Override>& overrides) {
  if (!IsConfigDir(cl.run.config_dir)) {
    return Error{ErrorKind::kUsage,
                 "cannot find mosquitto.conf.in in '" + cl.run.config_dir +
                     "'; set EDGEBENCH_CONFIG_DIR or --config-dir to edgebench's config "
                     "directory"};
  }
  Result<ExternalChecks> checks = ScenarioChecks(cl.run.config_dir);
  if (!checks.ok()) return checks.error();
  std::vector<Scenario> scenarios;
  for (const std::string& file : cl.files) {
    Result<Scenario> s = LoadScenario(file, overrides, *checks);
    if (!s.ok()) return s.error().WithKind(ErrorKind::kScenario);
    scenarios.push_back(std::move(s.value()));
  }
  return scenarios;
}

}  // namespace

void AddRunOptions(CLI::App& app, CommandLine& cl) {
  app.add_option("scenarios", cl.files, "Scenario YAML files, run in the order given")->required();
  app.add_option("--set", cl.sets,
                 "Override a scenario value, e.g. --set publish.qos=1 or --set network=cloud-far "
                 "(repeatable; the value is YAML)");
  app.add_option("--out", cl.run.out_root, "Results root directory")->capture_default_str();
  app.add_option("--config-dir", cl.run.config_dir,
                 "Directory with mosquitto.conf.in and profiles.yaml (default: found next to "
                 "the binary)")
      ->capture_default_str();
  app.footer(
      "Starts the broker (if embedded), puts the network profile between the devices and the\n"
      "broker (network:, config/profiles.yaml), forks the publisher worker, measures latency,\n"
      "loss, CPU and memory, and writes OUT/<scenario>/<UTC time>-<id>/ for each scenario.\n"
      "After each run's table, stdout has the path of its results directory on a line of its\n"
      "own (docs/results.md). Example, edge vs cloud:\n"
      "  edgebench run scenarios/edge.yaml scenarios/cloud.yaml");
}

// After a failed run the next still runs (its result is independent); an interruption
// stops the sequence. The exit code is the first non-zero one.
CliOutcome RunCommand(CommandLine& cl) {
  Result<std::vector<Override>> overrides = ParseOverrides(cl.sets);
  if (!overrides.ok()) return {{overrides.error()}, true};
  Result<std::vector<Scenario>> scenarios = LoadAll(cl, *overrides);
  if (!scenarios.ok()) return {{scenarios.error()}, false};
  cl.run.live_status = ::isatty(STDOUT_FILENO) != 0;
  InstallStopHandlers();
  MosquittoLibrary library;
  CliOutcome out;
  for (const Scenario& s : *scenarios) {
    if (StopRequested()) break;
    RunOutcome r = RunScenario(s, cl.run);
    if (!r.table.empty()) std::printf("%s", r.table.c_str());
    if (r.error) {
      Error e = *r.error;
      if (scenarios->size() > 1) e.message = s.source_file + ": " + e.message;
      // An interruption is reported by its exit code alone.
      if (e.kind == ErrorKind::kInterrupted) e.message.clear();
      out.errors.push_back(std::move(e));
    }
    if (!r.results_dir.empty()) std::printf("%s\n", r.results_dir.c_str());
    std::fflush(stdout);
    if (r.error && r.error->kind == ErrorKind::kInterrupted) break;
  }
  return out;
}

}  // namespace edgebench::cli_internal

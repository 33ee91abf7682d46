// The subcommand table: run, validate, version.
#include "edgebench/cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "edgebench/base/logging.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/measure/packet_capture.h"
#include "edgebench/results/run_directory.h"
#include "edgebench/run/run.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {
namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 2 bad usage or scenario (nothing started); 3 the run could not be\n"
    "done (broker unreachable, worker died, netem backend unavailable, disk full); 130\n"
    "interrupted (partial results kept). 1 is reserved for failed `expect:` thresholds.";

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

bool IsDir(const std::string& p) { return ::access((p + "/mosquitto.conf.in").c_str(), R_OK) == 0; }

// The checks a scenario needs from other modules, and the network profiles of config_dir.
Result<ExternalChecks> Checks(const std::string& config_dir) {
  ExternalChecks checks;
  checks.capture_filter = CheckCaptureFilter;
  checks.capture_interface = CheckCaptureInterface;
  checks.profiles_file = config_dir + "/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(checks.profiles_file);
  if (!profiles.ok()) return profiles.error();
  checks.profiles = std::move(profiles.value());
  return checks;
}

Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const std::string& s : sets) {
    Result<Override> o = ParseOverride(s);
    if (!o.ok()) return o.error();
    out.push_back(*o);
  }
  return out;
}

CliOutcome Validate(const std::vector<std::string>& files, const std::vector<std::string>& sets,
                    const std::string& config_dir) {
  CliOutcome out;
  Result<std::vector<Override>> overrides = ParseOverrides(sets);
  if (!overrides.ok()) return {{overrides.error().WithKind(ErrorKind::kUsage)}, true};
  Result<ExternalChecks> checks = Checks(config_dir);
  if (!checks.ok()) return {{checks.error().WithKind(ErrorKind::kScenario)}, false};
  for (const std::string& f : files) {
    Result<Scenario> s = LoadScenario(f, *overrides, *checks);
    if (s.ok()) {
      std::printf("%s: ok\n", f.c_str());
    } else {
      out.errors.push_back(s.error().WithKind(ErrorKind::kScenario));
    }
  }
  return out;
}

// Runs each scenario in turn; all are validated first, so a typo in the last one starts
// nothing. After a failed run the next still runs (its result is independent); an
// interruption stops the sequence. The exit code is the first non-zero one.
CliOutcome Run(const std::vector<std::string>& files, const std::vector<std::string>& sets,
               RunOptions options) {
  Result<std::vector<Override>> overrides = ParseOverrides(sets);
  if (!overrides.ok()) return {{overrides.error().WithKind(ErrorKind::kUsage)}, true};
  if (!IsDir(options.config_dir)) {
    return {{Error{ErrorKind::kUsage,
                   "cannot find mosquitto.conf.in in '" + options.config_dir +
                       "'; set EDGEBENCH_CONFIG_DIR or --config-dir to edgebench's config "
                       "directory"}},
            false};
  }
  Result<ExternalChecks> checks = Checks(options.config_dir);
  if (!checks.ok()) return {{checks.error().WithKind(ErrorKind::kScenario)}, false};
  std::vector<Scenario> scenarios;
  for (const std::string& file : files) {
    Result<Scenario> s = LoadScenario(file, *overrides, *checks);
    if (!s.ok()) return {{s.error().WithKind(ErrorKind::kScenario)}, false};
    scenarios.push_back(std::move(s.value()));
  }
  InstallStopHandlers();
  MosquittoLibrary library;
  CliOutcome out;
  for (const Scenario& s : scenarios) {
    if (StopRequested()) break;
    RunOutcome r = RunScenario(s, options);
    if (!r.table.empty()) std::printf("%s", r.table.c_str());
    if (r.error) {
      Error e = *r.error;
      if (scenarios.size() > 1) e.message = s.source_file + ": " + e.message;
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

}  // namespace

std::string FindConfigDir(const char* argv0) {
  if (const char* env = std::getenv("EDGEBENCH_CONFIG_DIR")) return env;  // NOLINT(concurrency-mt-unsafe)
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string(argv0);
  std::string bin_dir = self.substr(0, self.rfind('/'));
  for (const std::string& c : {bin_dir + "/../config", bin_dir + "/../share/edgebench/config",
                               std::string(EDGEBENCH_SOURCE_CONFIG_DIR)}) {
    if (IsDir(c)) return std::filesystem::path(c).lexically_normal().string();
  }
  return "config";
}

CliOutcome RunCli(int argc, char** argv) {
  CLI::App app{
      "edgebench: measure an MQTT device fleet against an edge or a cloud broker.\n"
      "Write a scenario YAML (docs/scenario.md), then `edgebench run scenarios/edge.yaml`.",
      "edgebench"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  app.fallthrough();
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  RunOptions run_options;
  run_options.config_dir = FindConfigDir(argv[0]);
  std::vector<std::string> run_files;
  std::vector<std::string> sets;
  CLI::App* run = app.add_subcommand(
      "run",
      "Run scenarios one after the other: start the broker (if embedded), put the network\n"
      "profile between the devices and the broker (network:, config/profiles.yaml), fork the\n"
      "publisher worker, measure latency, loss, CPU and memory, and write\n"
      "OUT/<scenario>/<UTC time>-<id>/ for each. After each run's table, stdout has the path\n"
      "of its results directory on a line of its own (docs/results.md). Example, edge vs\n"
      "cloud: edgebench run scenarios/edge.yaml scenarios/cloud.yaml");
  run->add_option("scenarios", run_files, "Scenario YAML files, run in the order given")
      ->required();
  run->add_option("--set", sets,
                  "Override a scenario value, e.g. --set publish.qos=1 or --set network=cloud-far "
                  "(repeatable; the value is YAML)");
  run->add_option("--out", run_options.out_root, "Results root directory")->capture_default_str();
  run->add_option("--config-dir", run_options.config_dir,
                  "Directory with mosquitto.conf.in and profiles.yaml (default: found next to "
                  "the binary)")
      ->capture_default_str();

  std::vector<std::string> validate_files;
  std::vector<std::string> validate_sets;
  CLI::App* validate = app.add_subcommand(
      "validate", "Check scenario files without running them; prints 'FILE: ok' for each good one.");
  validate->add_option("files", validate_files, "Scenario YAML files")->required();
  validate->add_option("--set", validate_sets, "Override a scenario value (as for run)");
  validate->add_option("--config-dir", run_options.config_dir,
                       "Directory with profiles.yaml (default: found next to the binary)")
      ->capture_default_str();

  CLI::App* version = app.add_subcommand("version", "Print edgebench's version and build.");

  // CLI11 would say "A subcommand is required" for a misspelt one; say what is wrong.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--log-level") {
      ++i;
      continue;
    }
    if (a.rfind("-", 0) == 0) continue;
    if (a != "run" && a != "validate" && a != "version") {
      return {{Error{ErrorKind::kUsage,
                     "unknown subcommand '" + a + "' (expected run, validate or version)"}},
              true};
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    CliOutcome out;
    out.help_exit_code = app.exit(e);
    return out;
  } catch (const CLI::ParseError& e) {
    return {{Error{ErrorKind::kUsage, e.what()}}, true};
  }

  if (Status st = SetupConsoleLogging(log_level); !st) {
    return {{st.error().WithKind(ErrorKind::kUsage)}, true};
  }
  if (*version) {
    std::printf("edgebench %s (git %s, libmosquitto %s)\n", EdgebenchVersion().c_str(),
                EdgebenchGitRevision().c_str(), MosquittoLibrary::Version().c_str());
    return {};
  }
  if (*validate) return Validate(validate_files, validate_sets, run_options.config_dir);
  run_options.log_level = log_level;
  run_options.command_line.assign(argv, argv + argc);
  run_options.live_status = ::isatty(STDOUT_FILENO) != 0;
  return Run(run_files, sets, run_options);
}

}  // namespace edgebench

// The subcommand table: run, validate, version.
#include "edgebench/cli.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "edgebench/logging.h"
#include "edgebench/mqtt_client.h"
#include "edgebench/packet_capture.h"
#include "edgebench/results_writer.h"
#include "edgebench/run.h"
#include "edgebench/scenario.h"

namespace edgebench {
namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 2 bad usage or scenario (nothing started); 3 the run could not be\n"
    "done (broker unreachable, worker died, disk full); 130 interrupted (partial results\n"
    "kept). 1 is reserved for failed `expect:` thresholds.";

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

ExternalChecks Checks() { return {CheckCaptureFilter, CheckCaptureInterface}; }

Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const std::string& s : sets) {
    Result<Override> o = ParseOverride(s);
    if (!o.ok()) return o.error();
    out.push_back(*o);
  }
  return out;
}

CliOutcome Validate(const std::vector<std::string>& files, const std::vector<std::string>& sets) {
  CliOutcome out;
  Result<std::vector<Override>> overrides = ParseOverrides(sets);
  if (!overrides.ok()) return {kExitUsage, {overrides.error().ToString()}, true};
  for (const std::string& f : files) {
    Result<Scenario> s = LoadScenario(f, *overrides, Checks());
    if (s.ok()) {
      std::printf("%s: ok\n", f.c_str());
    } else {
      out.exit_code = kExitUsage;
      out.errors.push_back(s.error().ToStringWithContext());
    }
  }
  return out;
}

CliOutcome Run(const std::string& file, const std::vector<std::string>& sets, RunOptions options) {
  Result<std::vector<Override>> overrides = ParseOverrides(sets);
  if (!overrides.ok()) return {kExitUsage, {overrides.error().ToString()}, true};
  Result<Scenario> s = LoadScenario(file, *overrides, Checks());
  if (!s.ok()) return {kExitUsage, {s.error().ToStringWithContext()}, false};
  if (!IsDir(options.config_dir)) {
    return {kExitUsage,
            {"cannot find mosquitto.conf.in in '" + options.config_dir +
             "'; set EDGEBENCH_CONFIG_DIR or --config-dir to edgebench's config directory"},
            false};
  }
  InstallStopHandlers();
  MosquittoLibrary library;
  RunOutcome r = RunScenario(*s, options);
  if (!r.table.empty()) std::printf("%s", r.table.c_str());
  CliOutcome out;
  out.exit_code = r.exit_code;
  if (!r.error.empty() && r.exit_code != kExitInterrupted) out.errors.push_back(r.error);
  if (!r.results_dir.empty()) std::printf("%s\n", r.results_dir.c_str());
  std::fflush(stdout);
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
    if (IsDir(c)) return c;
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
  std::string run_file;
  std::vector<std::string> sets;
  CLI::App* run = app.add_subcommand(
      "run",
      "Run one scenario: start the broker (if embedded), fork the publisher worker, measure\n"
      "latency, loss, CPU and memory, and write OUT/<scenario>/<UTC time>-<id>/. The last\n"
      "line on stdout is the path of that results directory (docs/results.md).");
  run->add_option("scenario", run_file, "Scenario YAML file")->required();
  run->add_option("--set", sets,
                  "Override a scenario value, e.g. --set publish.qos=1 (repeatable; the value "
                  "is YAML)");
  run->add_option("--out", run_options.out_root, "Results root directory")->capture_default_str();
  run->add_option("--config-dir", run_options.config_dir,
                  "Directory with mosquitto.conf.in (default: found next to the binary)")
      ->capture_default_str();

  std::vector<std::string> validate_files;
  std::vector<std::string> validate_sets;
  CLI::App* validate = app.add_subcommand(
      "validate", "Check scenario files without running them; prints 'FILE: ok' for each good one.");
  validate->add_option("files", validate_files, "Scenario YAML files")->required();
  validate->add_option("--set", validate_sets, "Override a scenario value (as for run)");

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
      return {kExitUsage, {"unknown subcommand '" + a + "' (expected run, validate or version)"},
              true};
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return {app.exit(e), {}, false};
  } catch (const CLI::ParseError& e) {
    return {kExitUsage, {e.what()}, true};
  }

  if (Status st = SetupConsoleLogging(log_level); !st) return {kExitUsage, {st.error().message}, true};
  if (*version) {
    std::printf("edgebench %s (git %s, libmosquitto %s)\n", EdgebenchVersion().c_str(),
                EdgebenchGitRevision().c_str(), MosquittoLibrary::Version().c_str());
    return {};
  }
  if (*validate) return Validate(validate_files, validate_sets);
  run_options.log_level = log_level;
  run_options.command_line.assign(argv, argv + argc);
  run_options.live_status = ::isatty(STDOUT_FILENO) != 0;
  return Run(run_file, sets, run_options);
}

}  // namespace edgebench

// edgebench run SCENARIO...: every file and matrix cell validated first, then one run, or a set
// of runs (several files, matrix:, repeat:) through the set module; --dry-run and --resume.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/set/set.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {
namespace {

namespace fs = std::filesystem;

void OnStopSignal(int) { StopRequested() = true; }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: let blocking calls return so the flag is seen
  // SIGHUP (the terminal went away) and SIGQUIT (Ctrl-backslash) stop a run like SIGINT and
  // SIGTERM: by default they would kill edgebench and leave a .partial directory without a summary.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

Status CheckConfigDir(const CommandLine& cl) {
  if (IsConfigDir(cl.run.config_dir)) return Ok{};
  return Error{ErrorKind::kUsage,
               "cannot find mosquitto.conf.in in '" + cl.run.config_dir +
                   "'; set EDGEBENCH_CONFIG_DIR or --config-dir to edgebench's config directory"};
}

// One scenario, one run: the results directory as before sets existed.
CliOutcome RunSingle(const Scenario& s, const RunOptions& options) {
  CliOutcome out;
  RunOutcome r = RunScenario(s, options);
  if (!r.table.empty()) std::printf("%s", r.table.c_str());
  if (r.error) {
    Error e = *r.error;
    // An interruption is reported by its exit code alone.
    if (e.kind == ErrorKind::kInterrupted) e.message.clear();
    out.errors.push_back(std::move(e));
  }
  if (!r.results_dir.empty()) std::printf("%s\n", r.results_dir.c_str());
  std::fflush(stdout);
  return out;
}

CliOutcome Resume(CommandLine& cl) {
  if (!cl.files.empty() || !cl.sets.empty()) {
    return {{Error{ErrorKind::kUsage,
                   "--resume takes the set directory only: the set's own "
                   "cells/*.yaml say what to run"}},
            true};
  }
  Result<ExternalChecks> checks = ScenarioChecks(cl.run.config_dir);
  if (!checks.ok()) return {{checks.error()}, false};
  InstallStopHandlers();
  MosquittoLibrary library;
  SetOutcome set = ResumeSet(cl.resume, *checks, cl.run);
  return {set.errors, false};
}

// Once per scenario file, before anything runs: its capture.pcap will hold the password.
// The scenarios' warnings, each once (every cell of a set reads the same password file),
// printed before anything runs rather than with the outcome, an hour later.
void PrintWarningsNow(std::vector<Error>* warnings) {
  std::vector<std::string> printed;
  for (const Error& w : *warnings) {
    std::string text = EscapeControlCharacters(w.ToStringWithContext());
    if (std::find(printed.begin(), printed.end(), text) != printed.end()) continue;
    std::fprintf(stderr, "edgebench: warning: %s\n", text.c_str());
    printed.push_back(std::move(text));
  }
  warnings->clear();
}

void WarnOfCredentialsInCaptures(const SetPlan& plan) {
  std::vector<std::string> warned;
  for (const PlannedCell& c : plan.cells) {
    if (!CaptureHoldsCredentials(c.scenario)) continue;
    if (std::find(warned.begin(), warned.end(), c.source) != warned.end()) continue;
    warned.push_back(c.source);
    // Printed now, not with the outcome: it matters before the run, not after.
    std::fprintf(stderr,
                 "edgebench: warning: %s: capture.snaplen keeps packet payloads of a connection "
                 "without TLS, so capture.pcap holds broker.username's password in clear; the "
                 "results directory is readable by its owner only\n",
                 c.source.c_str());
  }
}

}  // namespace

void AddRunOptions(CLI::App& app, CommandLine& cl) {
  app.add_option("scenarios", cl.files,
                 "Scenario YAML files; several files, a matrix: or repeat: make a set");
  app.add_option("--set", cl.sets,
                 "Override a scenario value, e.g. --set publish.qos=1 or --set network=cloud-far "
                 "(repeatable; the value is YAML)");
  app.add_option("--out", cl.run.out_root, "Results root directory")->capture_default_str();
  app.add_option("--config-dir", cl.run.config_dir,
                 "Directory with mosquitto.conf.in and profiles.yaml (default: found next to "
                 "the binary)")
      ->capture_default_str();
  app.add_flag("--dry-run", cl.dry_run,
               "Print the plan (cells, their values, the run order, the estimated time) and "
               "run nothing");
  app.add_option("--resume", cl.resume,
                 "Finish an interrupted set: run what its index.json lists as missing or "
                 "interrupted (give the set directory, e.g. results/edge-vs-cloud/latest)");
  app.footer(
      "Starts the broker (if embedded), puts the network profile between the devices and the\n"
      "broker (network:, config/profiles.yaml), forks the publisher worker, measures latency,\n"
      "loss, CPU and memory, checks expect: and computes cost:, and writes\n"
      "OUT/<scenario>/<UTC time>-<id>/. After the table, stdout has the path of the results\n"
      "directory on a line of its own (docs/results.md).\n"
      "A set (several files, matrix:, repeat: N) runs every cell N times in an interleaved,\n"
      "seeded order with cooldown_s between runs, into OUT/<set>/<UTC time>-<id>/ with\n"
      "index.json, and points OUT/<set>/latest at it. Ctrl-C keeps finished runs; --resume\n"
      "finishes the set. broker.resources runs the embedded broker in a cgroup with a CPU\n"
      "quota and memory limit (config/nodes.yaml). A file with search: finds the highest\n"
      "value of one key at which every expect: threshold holds, by doubling and bisection,\n"
      "and writes search.json next to index.json. Exit: 0 ok, 1 an expect: threshold\n"
      "failed (a search: nothing held), 2 bad input, 3 a run could not be done, 130\n"
      "interrupted. Examples, edge vs cloud with cost, and where each placement breaks:\n"
      "  edgebench run scenarios/edge-vs-cloud.yaml\n"
      "  edgebench report results/edge-vs-cloud/latest -o report.html\n"
      "  edgebench run scenarios/edge-inversion.yaml");
}

// --out, before anything runs (nothing is created): not empty, and its nearest existing
// part is a directory edgebench can write in. "" used to put the results under "/".
Status CheckOutRoot(const std::string& out) {
  if (out.empty()) return Error{ErrorKind::kUsage, "--out must name a directory, got \"\""};
  std::error_code ec;
  fs::path p = fs::absolute(out, ec);
  while (!ec && !fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (ec) return Error{ErrorKind::kUsage, "--out '" + out + "': " + ec.message()};
  if (!fs::is_directory(p, ec)) {
    return Error{ErrorKind::kUsage, "--out '" + out + "': " + p.string() + " is not a directory"};
  }
  if (::access(p.c_str(), W_OK | X_OK) != 0) {
    return Error{ErrorKind::kUsage,
                 "--out '" + out + "': cannot write in " + p.string() + ": " + ErrnoMessage(errno)};
  }
  return Ok{};
}

namespace {

// After a failed run the next still runs (its result is independent); an interruption
// stops the sequence. The exit code is the first non-zero one. The scenarios' warnings (a
// password file others can read) are added to `warnings`.
CliOutcome RunFiles(CommandLine& cl, std::vector<Error>* warnings) {
  if (Status st = CheckConfigDir(cl); !st) return {{st.error()}, false};
  cl.run.live_status = ::isatty(STDOUT_FILENO) != 0;
  if (!cl.resume.empty()) return Resume(cl);
  if (cl.files.empty()) {
    return {{Error{ErrorKind::kUsage, "run needs scenario files (or --resume SET_DIR)"}}, true};
  }
  if (Status st = CheckOutRoot(cl.run.out_root); !st) return {{st.error()}, false};
  Result<std::vector<Override>> overrides = ParseOverrides(cl.sets);
  if (!overrides.ok()) return {{overrides.error()}, true};
  Result<ExternalChecks> checks = ScenarioChecks(cl.run.config_dir);
  if (!checks.ok()) return {{checks.error()}, false};
  checks->warnings = warnings;
  Result<std::vector<Experiment>> experiments = LoadExperiments(cl.files, *overrides, *checks);
  checks->warnings = nullptr;
  if (!experiments.ok()) return {{experiments.error()}, false};
  PrintWarningsNow(warnings);
  SetPlan plan = PlanSet(*experiments);
  bool search = false;
  for (const PlannedCell& c : plan.cells) {
    if (!c.scenario.search) continue;
    search = true;
    if (experiments->size() > 1) {
      return {{Error{ErrorKind::kUsage, c.source + " has search:, so it runs on its own; give it "
                                                   "as the only scenario file"}},
              true};
    }
  }
  if (cl.dry_run) {
    std::printf("%s", (search ? DescribeSearchPlan(plan) : DescribePlan(plan)).c_str());
    return {};
  }
  WarnOfCredentialsInCaptures(plan);
  InstallStopHandlers();
  MosquittoLibrary library;
  if (search) return {RunSearch(plan, cl.run).errors, false};
  if (IsSingleRun(*experiments)) return RunSingle(plan.cells[0].scenario, cl.run);
  SetOutcome set = RunSet(plan, cl.run);
  return {set.errors, false};
}

}  // namespace

CliOutcome RunCommand(CommandLine& cl) {
  std::vector<Error> warnings;
  CliOutcome out = RunFiles(cl, &warnings);
  // Every cell of a set reads the same password file: one warning each.
  for (const Error& w : warnings) {
    auto same = [&w](const Error& u) { return u.ToString() == w.ToString(); };
    if (std::none_of(out.warnings.begin(), out.warnings.end(), same)) out.warnings.push_back(w);
  }
  return out;
}

}  // namespace edgebench::cli_internal

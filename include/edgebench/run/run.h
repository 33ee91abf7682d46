// Run: one scenario executed end to end, from broker start to the results directory.
//
// Contract: RunScenario() requires a validated Scenario and that no thread but the
// caller's is running (it forks the broker and the worker first). Once the results
// directory exists, every outcome — success, failure, interruption — leaves it behind
// with summary.json saying which, and every child process has been stopped and reaped.
#ifndef EDGEBENCH_RUN_RUN_H_
#define EDGEBENCH_RUN_RUN_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/results/run_result.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct RunOptions {
  std::string out_root = "results";
  std::string config_dir;  // holds mosquitto.conf.in
  std::string log_level = "info";
  std::vector<std::string> command_line;
  bool live_status = false;  // a status line on stdout each second (stdout is a terminal)
  // The folder under out_root the run directory goes in; "" = the scenario's name. A set
  // puts each cell's runs in OUT/<set>/<set id>/<cell id>/.
  std::string group;
};

struct RunOutcome {
  // Why the run is not `ok`: kRunFailed / kUnavailable (exit 3) or kInterrupted (130);
  // one line, for `edgebench: error: ...`. nullopt when the run completed.
  std::optional<Error> error;
  std::string results_dir;                 // empty when the directory could not be created
  std::string table;                       // the terminal summary
  RunStatus status = RunStatus::kFailed;   // as summary.json says
  std::vector<ExpectResult> expectations;  // the scenario's expect:, checked (summary.json)
};

// A run that completed but failed an expect: threshold is `ok` with error kThreshold
// (exit 1), naming the thresholds that failed.
RunOutcome RunScenario(const Scenario& scenario, const RunOptions& options);

// Whether capture.pcap will hold the broker's user name and password in clear: a capture
// that stores packet payloads (capture.snaplen 0 or a number, not auto) of a connection
// without TLS that authenticates. Such a run's results directory is made readable by its
// owner only (0700), and `run` warns once before it starts.
bool CaptureHoldsCredentials(const Scenario& s);

// Set by the SIGINT/SIGTERM handler that main() installs; a run stops early when set.
std::atomic<bool>& StopRequested();

}  // namespace edgebench

#endif  // EDGEBENCH_RUN_RUN_H_

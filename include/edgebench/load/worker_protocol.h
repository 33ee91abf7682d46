// WorkerProtocol: the typed messages between the orchestrator and a publisher worker, and
// their one encoding.
//
// Contract: the orchestrator sends `connect`, then `go` (the run's clock), and may send
// `stop`; the worker answers `ready` (or `error`) after connecting, `progress` once a
// second, and one `final` report. Each message is one line of JSON ending in '\n'; Encode()
// and Decode*() here are the only code that knows that form, so both ends always agree.
// Decoding checks every field and names what is wrong ("worker sent a malformed message:
// ...", "worker sent an unknown message type 'x'"). Pure functions; thread-safe.
#ifndef EDGEBENCH_LOAD_WORKER_PROTOCOL_H_
#define EDGEBENCH_LOAD_WORKER_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/base/error.h"
#include "edgebench/results/counters.h"
#include "edgebench/results/histogram.h"
#include "edgebench/results/run_result.h"

namespace edgebench {

// What one worker measured. Counters holds the publisher counters (scheduled, sent, acked,
// publish_errors, skipped_disconnected, unacked, window_sent, worker_disconnects,
// worker_reconnects, last_send_ns); the others stay 0.
struct WorkerReport {
  Counters counters;
  std::vector<uint64_t> sent_per_device;  // this worker's devices, in device order
  std::vector<uint64_t> sent_per_second;  // by actual send time, second 0 starts at t0
  LatencyHistogram lag_us;                // actual - intended send time, window messages
  double cpu_s = 0;                       // the worker's own user+system CPU
  int64_t rss_peak_kb = 0;
  // What the broker granted or answered against what the devices asked (load_generator.h),
  // and what it changed that the devices followed (notes, each once).
  std::vector<ProtocolMismatch> protocol_mismatches;
  std::vector<std::string> protocol_notes;

  // Folds in the report of the worker that holds the next device range: counters by their
  // merge rules, histograms exactly, seconds added, devices appended, CPU added, peak RSS
  // the larger, mismatches of the same text counted together, notes once each.
  void Merge(const WorkerReport& other);
};

// Orchestrator -> worker.
struct ConnectMessage {};
struct GoMessage {
  RunClock clock;
};
struct StopMessage {};
using ToWorkerMessage = std::variant<ConnectMessage, GoMessage, StopMessage>;

// Worker -> orchestrator.
struct ReadyMessage {
  int connected = 0;  // devices connected
};
struct ErrorMessage {
  std::string message;
};
struct ProgressMessage {
  Counters counters;  // running totals
};
struct FinalMessage {
  WorkerReport report;
};
using FromWorkerMessage = std::variant<ReadyMessage, ErrorMessage, ProgressMessage, FinalMessage>;

// One line, '\n' included.
std::string Encode(const ToWorkerMessage& message);
std::string Encode(const FromWorkerMessage& message);

// `line` without its '\n'.
Result<ToWorkerMessage> DecodeToWorker(std::string_view line);
Result<FromWorkerMessage> DecodeFromWorker(std::string_view line);

}  // namespace edgebench

#endif  // EDGEBENCH_LOAD_WORKER_PROTOCOL_H_

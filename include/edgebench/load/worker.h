// Worker: the forked publisher process, and the pipe protocol between it and the orchestrator.
//
// Contract: Worker::Fork() must be called before the orchestrator starts any thread. The
// child waits for `connect`, connects every device, reports `ready` (or `error`), waits for `go`, publishes on
// the open-loop schedule, sends `progress` once a second, drains, sends one `final` report
// and exits. Messages are newline-delimited JSON over two pipes. The parent never blocks
// on the child without a timeout, and the Worker's destructor kills and reaps the child.
#ifndef EDGEBENCH_LOAD_WORKER_H_
#define EDGEBENCH_LOAD_WORKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/results/histogram.h"
#include "edgebench/base/process.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct WorkerConfig {
  Scenario scenario;
  std::string host;  // where the devices connect
  int port = 0;
  uint32_t run_id = 0;
  std::string password;    // from broker.password_env/_file; never logged or written
  int first_device = 0;    // this worker's devices: [first_device, first_device + device_count)
  int device_count = 0;    // 0 = all of scenario.devices.count
  int gateways = 0;        // this worker's share of devices.gateways (0: one connection per device)
  int index = 0;           // which worker this is (0-based), for client ids and logs
  std::string log_path;    // the run's edgebench.log, appended to
  std::string log_level = "info";
  std::string netns;       // network namespace the devices connect from ("" = this one)
};

struct WorkerCounters {
  uint64_t scheduled = 0;       // messages whose intended time fell in [t0, window_end)
  uint64_t sent = 0;            // accepted by mosquitto_publish()
  uint64_t acked = 0;           // QoS 1/2: PUBACK/PUBCOMP received; QoS 0: written to the socket
  uint64_t publish_errors = 0;  // mosquitto_publish() refused (connection lost, ...)
  uint64_t disconnects = 0;     // connections lost during the run
  uint64_t reconnects = 0;      // lost connections that came back
  uint64_t skipped_disconnected = 0;  // due while their connection was down: never published
  uint64_t window_sent = 0;     // sent with an intended time inside the window
  uint64_t last_send_ns = 0;    // CLOCK_MONOTONIC time of the last publish (0: none)
};

struct WorkerReport {
  WorkerCounters counters;
  std::vector<uint64_t> sent_per_device;
  std::vector<uint64_t> sent_per_second;  // by actual send time, second 0 starts at t0
  LatencyHistogram lag_us;                // actual - intended send time, window messages
  uint64_t inflight_at_end = 0;           // QoS 1/2 messages never acknowledged
  double cpu_s = 0;                       // the worker's own user+system CPU
  int64_t rss_peak_kb = 0;
};

nlohmann::json ToJson(const WorkerReport& report);
Result<WorkerReport> WorkerReportFromJson(const nlohmann::json& j);

// One message from the worker.
struct WorkerEvent {
  enum class Type { kReady, kError, kProgress, kFinal };
  Type type = Type::kProgress;
  int connected = 0;         // kReady
  std::string message;       // kError
  WorkerCounters progress;   // kProgress
  std::optional<WorkerReport> report;  // kFinal
};

// The parent's end of one worker.
class Worker {
 public:
  // Forks the worker. Requires: no other thread is running in this process.
  static Result<Worker> Fork(const WorkerConfig& config);

  int pid() const { return process_.pid(); }
  // Tells the worker to connect its devices.
  Status Connect();
  // Waits for `ready`. Errors: the worker's own message ("cannot connect ..."), or
  // "worker exited with status 1 before it was ready", or a timeout.
  Result<int> WaitReady(int timeout_ms);
  Status Go(const RunClock& clock);
  // Asks the worker to stop publishing now and send its final report.
  Status Stop();
  // The next event, waiting up to timeout_ms; nullopt on timeout. An Error when the
  // worker died or broke the protocol ("worker killed by signal 9 (Killed)").
  Result<std::optional<WorkerEvent>> Next(int timeout_ms);
  // Reaps the worker after its final report (kills it after grace_ms). Its wait status.
  int Finish(int grace_ms);

 private:
  Result<std::optional<WorkerEvent>> ParseLine(const std::string& line);
  std::string DescribeExit();

  ChildProcess process_;
  Fd to_worker_;
  Fd from_worker_;
  std::string buffer_;
  std::string last_error_;
};

// The child's side: runs the load generator. Returns the process exit code.
int WorkerMain(const WorkerConfig& config, int control_fd, int report_fd);

}  // namespace edgebench

#endif  // EDGEBENCH_LOAD_WORKER_H_

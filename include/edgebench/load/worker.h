// Worker: the forked publisher process, and the pipe protocol between it and the orchestrator.
//
// Contract: Worker::Fork() must be called before the orchestrator starts any thread. The
// child waits for `connect`, connects every device, reports `ready` (or `error`), waits for
// `go`, publishes on the open-loop schedule, sends `progress` once a second, drains, sends
// one `final` report and exits. The messages are those of worker_protocol.h, over two
// pipes. The parent never blocks on the child without a timeout, and the Worker's
// destructor kills and reaps the child.
#ifndef EDGEBENCH_LOAD_WORKER_H_
#define EDGEBENCH_LOAD_WORKER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "edgebench/load/worker_protocol.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct WorkerConfig {
  Scenario scenario;
  std::string host;  // where the devices connect
  int port = 0;
  uint32_t run_id = 0;
  std::string password;  // from broker.password_env/_file; never logged or written
  int first_device = 0;  // this worker's devices: [first_device, first_device + device_count)
  int device_count = 0;  // 0 = all of scenario.devices.count
  int gateways = 0;      // this worker's share of devices.gateways (0: one connection per device)
  int index = 0;         // which worker this is (0-based), for client ids and logs
  std::string log_path;  // the run's edgebench.log, appended to
  std::string log_level = "info";
  std::string netns;  // network namespace the devices connect from ("" = this one)
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
  // "worker exited with status 1 before it was ready", or a timeout; with `stop`, also
  // Error{kInterrupted, "interrupted"} as soon as *stop is true (a signal while connecting).
  Result<int> WaitReady(int timeout_ms, const std::atomic<bool>* stop = nullptr);
  Status Go(const RunClock& clock);
  // Asks the worker to stop publishing now and send its final report.
  Status Stop();
  // The next message, waiting up to timeout_ms; nullopt on timeout. An Error when the
  // worker died or broke the protocol ("worker killed by signal 9 (Killed)").
  Result<std::optional<FromWorkerMessage>> Next(int timeout_ms);
  // Reaps the worker after its final report (kills it after grace_ms). Its wait status.
  int Finish(int grace_ms);

 private:
  Result<std::optional<FromWorkerMessage>> ParseLine(const std::string& line);
  Status Send(const ToWorkerMessage& message);
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

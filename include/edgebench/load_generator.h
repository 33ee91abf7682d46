// LoadGenerator: the worker's device fleet, publishing on an open-loop schedule from one
// epoll loop.
//
// Contract: runs inside the forked worker only. Connect() opens one MQTT connection per
// device (libmosquitto without its thread: the sockets are driven by epoll here) and
// returns once all are accepted, or an Error when they are not within the connect
// timeout. Run() publishes device d's message k at t0 + phase_d + k/rate, never before
// that time; when behind, it sends the overdue messages as fast as it can (the lag is
// recorded, the schedule is never shifted). It returns after every scheduled message was
// sent and acknowledged, at the drain deadline, or when the control fd says stop.
// Single-threaded; not thread-safe.
#ifndef EDGEBENCH_LOAD_GENERATOR_H_
#define EDGEBENCH_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgebench/error.h"
#include "edgebench/fd.h"
#include "edgebench/worker.h"

namespace edgebench {

class LoadGenerator {
 public:
  explicit LoadGenerator(const WorkerConfig& config);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Raises the open-files limit if needed and connects every device.
  Status Connect();
  // `control_fd` is watched for "stop" (or EOF); `on_progress` is called once a second.
  void Run(const RunClock& clock, int control_fd,
           const std::function<void(const WorkerCounters&)>& on_progress);
  WorkerReport TakeReport();

 private:
  struct Device;
  class Loop;

  WorkerConfig config_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<Loop> loop_;
  WorkerReport report_;
};

// The open-files limit needed for `devices` connections (3 descriptors each in
// libmosquitto 2.0: the socket and a wake-up socket pair), plus a margin.
uint64_t FilesNeededForDevices(uint64_t devices);

// Raises RLIMIT_NOFILE's soft limit to at least `needed` (up to the hard limit). Error:
// "100000 devices need about 300064 open files, but the limit is 20000 (hard limit): ..."
Status EnsureOpenFilesLimit(uint64_t devices);

}  // namespace edgebench

#endif  // EDGEBENCH_LOAD_GENERATOR_H_

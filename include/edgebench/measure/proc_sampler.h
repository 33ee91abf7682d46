// ProcSampler: a thread that samples CPU time and memory of processes from /proc.
//
// Contract: AddTarget() and SetSink() before Start(); Start() spawns one thread that reads
// <proc_root>/<pid>/stat, status and the schedstat files (see ProcSample::cpu_s) for every
// target each interval; Stop() joins it. Each sample goes to the sink, if there is one, and
// is not kept; without one it is kept in samples(). Either way digest() summarizes them.
// samples() and digest() are read only after Stop() (the thread owns the data until then). A target
// that has exited (its files are gone, or it is a zombie) or whose files do not parse stops being
// sampled; that is not an error.
#ifndef EDGEBENCH_MEASURE_PROC_SAMPLER_H_
#define EDGEBENCH_MEASURE_PROC_SAMPLER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/measure/sample_digest.h"

namespace edgebench {

// The fields of /proc/<pid>/stat that edgebench uses.
struct ProcStat {
  int pid = 0;
  std::string comm;  // may contain spaces and parentheses
  char state = '?';
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  int64_t num_threads = 0;
  int64_t rss_pages = 0;
};

// The fields of /proc/<pid>/status that edgebench uses (kB as the kernel reports them).
struct ProcStatus {
  int64_t vm_rss_kb = 0;
  int64_t vm_hwm_kb = 0;  // peak RSS
  int64_t threads = 0;
  uint64_t voluntary_ctxt_switches = 0;
  uint64_t nonvoluntary_ctxt_switches = 0;
};

Result<ProcStat> ParseProcStat(std::string_view text);
Result<ProcStatus> ParseProcStatus(std::string_view text);

struct ProcSample {
  int64_t t_ms = 0;      // since Start(), steady clock
  uint64_t mono_ns = 0;  // CLOCK_MONOTONIC at the read (MonotonicNowNs()): the run's clock
  std::string role;      // "worker", "broker", "orchestrator", ...
  int pid = 0;
  // Cumulative user+system CPU seconds of the process. From the scheduler's nanosecond
  // runtime (the first field of <pid>/schedstat for a single-threaded process, the sum over
  // <pid>/task/*/schedstat otherwise) where those files exist, so CPU % is not a multiple
  // of the 10 ms tick; the CPU of threads that have exited, which no schedstat holds any
  // more, comes from the stat ticks. Without schedstat (fixtures, kernels without
  // CONFIG_SCHED_INFO): the ticks of <pid>/stat alone.
  double cpu_s = 0;
  bool cpu_from_schedstat = false;  // false: cpu_s has the 10 ms resolution of stat ticks
  double cpu_pct =
      0;  // CPU % since this target's previous sample (100 = one core); 0 for the first
  int64_t rss_kb = 0;
  int64_t rss_peak_kb = 0;
  int64_t threads = 0;
  uint64_t voluntary_ctxt_switches = 0;
  uint64_t nonvoluntary_ctxt_switches = 0;
};

// Reads <proc_root>/<pid>/stat, status and schedstat once. The sample has t_ms 0,
// cpu_pct 0 and an empty role. Fails with "cannot read <path>: <strerror>" when a file
// cannot be read (e.g. the process does not exist) or with the parse error.
Result<ProcSample> SampleOnce(const std::string& proc_root, int pid);

// Summaries for each role in the order the roles first appear in `samples`.
std::vector<ProcessSummary> SummarizeSamples(const std::vector<ProcSample>& samples);

class ProcSampler {
 public:
  // `proc_root` is "/proc" in production and a fixture directory in tests.
  // `interval_ms` below 1 is treated as 1.
  ProcSampler(std::string proc_root, int interval_ms);
  ~ProcSampler();  // joins the thread if still running (without Stop()'s last sample)
  ProcSampler(const ProcSampler&) = delete;
  ProcSampler& operator=(const ProcSampler&) = delete;

  // Requires: not started.
  void AddTarget(std::string role, int pid);
  // Where each sample goes instead of samples(): called on the sampling thread, and on the
  // caller's in Start() and Stop(), one sample at a time. Requires: not started.
  using Sink = std::function<void(const ProcSample&)>;
  void SetSink(Sink sink) { sink_ = std::move(sink); }
  // Takes a first sample of every target synchronously, then starts the thread.
  void Start();
  // Takes a last sample, stops and joins the thread. Returns at once (without waiting
  // for the current interval to end). Safe to call twice, or without Start().
  void Stop();

  // Requires: Stop() returned.
  const std::vector<ProcSample>& samples() const { return samples_; }
  const SampleDigest& digest() const { return digest_; }

 private:
  struct Target {
    std::string role;
    int pid = 0;
    bool alive = true;
    bool has_previous = false;
    double previous_cpu_s = 0;
    // CPU of threads that have exited, in ns: stat still counts it, no schedstat does.
    // Only grows, so cpu_s never goes back when a thread ends.
    uint64_t exited_threads_cpu_ns = 0;
    int64_t previous_t_ns = 0;  // since start_; finer than t_ms so short gaps still give a rate
  };
  void SampleAll();
  void Run();
  void JoinThread();  // asks the thread to stop and joins it

  std::string proc_root_;
  int interval_ms_;
  // targets_ and samples_ belong to the sampling thread while it runs, and to the caller
  // before Start() and after the join in Stop().
  std::vector<Target> targets_;
  std::vector<ProcSample> samples_;  // without a sink
  SampleDigest digest_;
  Sink sink_;
  std::chrono::steady_clock::time_point start_;
  bool running_ = false;  // Only touched by the caller's thread.

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_requested_ = false;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_PROC_SAMPLER_H_

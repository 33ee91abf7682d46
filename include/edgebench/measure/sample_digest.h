// SampleDigest: what a run's summary needs of its /proc samples, kept as they come, so that a
// run of hours does not hold every 100 ms sample in memory to summarize it.
//
// Contract: Add() the samples in the order they were taken (per role, by time). Memory is
// O(roles) plus about one second of samples per role. Summaries() and BusiestSecondCpuPct()
// may be called at any time and give what SummarizeSamples() would over the samples so far.
#ifndef EDGEBENCH_MEASURE_SAMPLE_DIGEST_H_
#define EDGEBENCH_MEASURE_SAMPLE_DIGEST_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace edgebench {

struct ProcSample;

// Per-role figures over the sampled window.
struct ProcessSummary {
  std::string role;
  int pid = 0;
  size_t samples = 0;
  double cpu_s = 0;         // CPU seconds between the first and last sample
  double cpu_pct_mean = 0;  // cpu_s over the sampled wall time, in % of one core
  int64_t rss_peak_kb = 0;  // largest VmHWM seen
};

class SampleDigest {
 public:
  // The digest of `samples`, added in order.
  static SampleDigest Of(const std::vector<ProcSample>& samples);
  void Add(const ProcSample& sample);

  // One per role, in the order the roles first appeared.
  std::vector<ProcessSummary> Summaries() const;
  // The busiest whole second of `role`'s CPU, in % of one CPU: the largest rate between a
  // sample and the last one at least a second before it (0 with less than a second).
  double BusiestSecondCpuPct(const std::string& role) const;

 private:
  struct Point {
    uint64_t mono_ns = 0;
    double cpu_s = 0;
  };
  struct Role {
    ProcessSummary summary;
    double first_cpu_s = 0;
    int64_t first_t_ms = 0;
    double last_cpu_s = 0;
    int64_t last_t_ms = 0;
    std::deque<Point> last_second;  // from the last sample a second or more ago, to now
    double busiest_pct = 0;
  };
  std::vector<Role> roles_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_SAMPLE_DIGEST_H_

// SampleDigest: running per-role summaries of /proc samples (contract in sample_digest.h).
#include "edgebench/measure/sample_digest.h"

#include <algorithm>

#include "edgebench/measure/proc_sampler.h"

namespace edgebench {

SampleDigest SampleDigest::Of(const std::vector<ProcSample>& samples) {
  SampleDigest digest;
  for (const ProcSample& s : samples) digest.Add(s);
  return digest;
}

void SampleDigest::Add(const ProcSample& sample) {
  auto it = std::find_if(roles_.begin(), roles_.end(),
                         [&sample](const Role& r) { return r.summary.role == sample.role; });
  if (it == roles_.end()) {
    Role role;
    role.summary.role = sample.role;
    role.summary.pid = sample.pid;
    role.first_cpu_s = sample.cpu_s;
    role.first_t_ms = sample.t_ms;
    roles_.push_back(std::move(role));
    it = roles_.end() - 1;
  }
  Role& r = *it;
  ++r.summary.samples;
  r.summary.rss_peak_kb = std::max(r.summary.rss_peak_kb, sample.rss_peak_kb);
  r.last_cpu_s = sample.cpu_s;
  r.last_t_ms = sample.t_ms;

  // Keep the last sample at least a second old as the front: the start of the busiest-second
  // span that ends at this sample.
  constexpr uint64_t kSecondNs = 1'000'000'000;
  std::deque<Point>& q = r.last_second;
  q.push_back({sample.mono_ns, sample.cpu_s});
  while (q.size() >= 2 && sample.mono_ns - q[1].mono_ns >= kSecondNs) q.pop_front();
  uint64_t span_ns = sample.mono_ns - q.front().mono_ns;
  if (span_ns >= kSecondNs) {
    double pct = 100.0 * (sample.cpu_s - q.front().cpu_s) * 1e9 / static_cast<double>(span_ns);
    r.busiest_pct = std::max(r.busiest_pct, pct);
  }
}

std::vector<ProcessSummary> SampleDigest::Summaries() const {
  std::vector<ProcessSummary> out;
  out.reserve(roles_.size());
  for (const Role& r : roles_) {
    ProcessSummary s = r.summary;
    s.cpu_s = r.last_cpu_s - r.first_cpu_s;
    const double wall_s = static_cast<double>(r.last_t_ms - r.first_t_ms) / 1000.0;
    if (s.samples >= 2 && wall_s > 0) s.cpu_pct_mean = s.cpu_s / wall_s * 100.0;
    out.push_back(std::move(s));
  }
  return out;
}

double SampleDigest::BusiestSecondCpuPct(const std::string& role) const {
  for (const Role& r : roles_) {
    if (r.summary.role == role) return r.busiest_pct;
  }
  return 0;
}

}  // namespace edgebench

// Tests for src/measure/sample_digest.cc: the running summaries a run keeps instead of its
// samples agree with the figures over every sample, at any point of a long series.
#include "edgebench/measure/sample_digest.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/measure/proc_sampler.h"

using namespace edgebench;

namespace {

ProcSample At(const char* role, int64_t t_ms, double cpu_s, int64_t peak_kb) {
  ProcSample s;
  s.role = role;
  s.pid = role[0];
  s.t_ms = t_ms;
  s.mono_ns = static_cast<uint64_t>(t_ms) * 1'000'000 + 5'000'000'000;
  s.cpu_s = cpu_s;
  s.rss_peak_kb = peak_kb;
  return s;
}

// The busiest second computed over every sample at once (the definition).
double BusiestOverAll(const std::vector<ProcSample>& all, const std::string& role) {
  double best = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].role != role) continue;
    // The last sample of `role` at least a second before sample i.
    const ProcSample* start = nullptr;
    for (size_t j = 0; j < i; ++j) {
      if (all[j].role == role && all[i].mono_ns - all[j].mono_ns >= 1'000'000'000) {
        start = &all[j];
      }
    }
    if (start == nullptr) continue;
    double span_s = static_cast<double>(all[i].mono_ns - start->mono_ns) / 1e9;
    best = std::max(best, 100.0 * (all[i].cpu_s - start->cpu_s) / span_s);
  }
  return best;
}

}  // namespace

TEST_CASE("SampleDigest: at every point of a series, what the samples so far give",
          "[proc][digest]") {
  // Two roles every 100 ms for 60 s; the broker's CPU rate changes every 7 s, with one burst,
  // and its peak RSS goes up and down.
  std::vector<ProcSample> all;
  SampleDigest digest;
  double broker_cpu = 0;
  double worker_cpu = 0;
  for (int64_t t = 0; t <= 60'000; t += 100) {
    double rate = (t / 7000) % 3 == 0 ? 0.02 : 0.005;  // CPU s per 100 ms
    if (t >= 30'000 && t < 30'400) rate = 0.09;        // a 0.4 s burst at 90 %
    broker_cpu += rate;
    worker_cpu += 0.01;
    for (const ProcSample& s :
         {At("broker", t, broker_cpu, 1000 + (t / 1000) % 7), At("worker", t, worker_cpu, 500)}) {
      all.push_back(s);
      digest.Add(s);
    }
    if (t % 10'000 != 0) continue;
    INFO("after t_ms " << t);
    std::vector<ProcessSummary> expected = SummarizeSamples(all);
    std::vector<ProcessSummary> got = digest.Summaries();
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].role == expected[i].role);
      CHECK(got[i].samples == expected[i].samples);
      CHECK(got[i].cpu_s == Approx(expected[i].cpu_s));
      CHECK(got[i].cpu_pct_mean == Approx(expected[i].cpu_pct_mean));
      CHECK(got[i].rss_peak_kb == expected[i].rss_peak_kb);
    }
    CHECK(digest.BusiestSecondCpuPct("broker") == Approx(BusiestOverAll(all, "broker")));
  }
  // The burst second: 0.4 s at 90 % and 0.6 s at 5 % (t 28..35 s is a 5 % stretch), busier
  // than the 20 % stretches.
  CHECK(digest.BusiestSecondCpuPct("broker") == Approx(39.0));
  CHECK(digest.BusiestSecondCpuPct("worker") == Approx(10.0));
  CHECK(digest.BusiestSecondCpuPct("link") == 0);
  CHECK(digest.Summaries()[0].samples == 601);
}

TEST_CASE("SampleDigest: less than a second of samples has no busiest second", "[proc][digest]") {
  SampleDigest digest;
  digest.Add(At("broker", 0, 1.0, 10));
  digest.Add(At("broker", 900, 1.5, 10));
  CHECK(digest.BusiestSecondCpuPct("broker") == 0);
  digest.Add(At("broker", 1000, 1.6, 10));
  CHECK(digest.BusiestSecondCpuPct("broker") == Approx(60.0));
  CHECK(SampleDigest().Summaries().empty());
}

TEST_CASE("SampleDigest: the busiest whole second of one role's samples",
          "[proc][digest][summary]") {
  // The broker's cumulative CPU every 0.5 s: 0.1 s of CPU in the first second, 0.4 s in the
  // second (0.2 in each half), 0.1 in the third; the worker's samples do not count.
  std::vector<ProcSample> samples;
  const double cpu[] = {0, 0.05, 0.1, 0.3, 0.5, 0.55, 0.6};
  for (int i = 0; i < 7; ++i) {
    ProcSample p;
    p.role = "broker";
    p.mono_ns = static_cast<uint64_t>(i) * 500'000'000;
    p.cpu_s = cpu[i];
    samples.push_back(p);
    p.role = "worker";
    p.cpu_s = 10.0 * i;
    samples.push_back(p);
  }
  CHECK(SampleDigest::Of(samples).BusiestSecondCpuPct("broker") == Approx(40.0));
  // Less than a second of samples: no whole second to measure.
  samples.resize(4);
  CHECK(SampleDigest::Of(samples).BusiestSecondCpuPct("broker") == 0.0);
  CHECK(SampleDigest::Of({}).BusiestSecondCpuPct("broker") == 0.0);
}

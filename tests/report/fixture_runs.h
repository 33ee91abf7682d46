// Synthetic run results for the report's tests, its browser check and bench/report_bench.sh:
// RunResults shaped like real runs (a latency histogram, a per-second timeline, /proc
// samples of four processes, capture totals, a cost), made from a seed, not measured. They
// are written as real run directories (RenderRunFiles, scenario.yaml, manifest.json).
#ifndef EDGEBENCH_TESTS_REPORT_FIXTURE_RUNS_H_
#define EDGEBENCH_TESTS_REPORT_FIXTURE_RUNS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/results/reporters.h"
#include "edgebench/results/run_result.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench::testing {

struct FixtureSpec {
  std::string scenario = "edge";  // the scenario's name: loose runs group by it
  double rtt_ms = 0;              // the emulated link's round trip; 0: none
  int devices = 100;
  double duration_s = 20;
  double warmup_s = 2;
  double drain_s = 1;
  double base_latency_ms = 0.8;  // the typical latency before the link's rtt
  double cost_usd = 40;          // monthly cost of the placement
  uint64_t seed = 1;
};

// The scenario a FixtureSpec stands for, as YAML the scenario module reads.
inline std::string FixtureScenarioYaml(const FixtureSpec& f) {
  std::string yaml = "name: " + f.scenario + "\ndevices:\n  count: " + std::to_string(f.devices) +
                     "\ntopics: [\"sensor/{device}\"]\npublish:\n"
                     "  rate: 1\n  qos: 1\n  payload: {size: 64}\nduration_s: " +
                     std::to_string(f.duration_s) + "\nwarmup_s: " + std::to_string(f.warmup_s) +
                     "\ndrain_s: " + std::to_string(f.drain_s) + "\n";
  if (f.rtt_ms > 0) yaml += "network:\n  rtt_ms: " + std::to_string(f.rtt_ms) + "\n";
  return yaml;
}

inline void FixtureSamples(const FixtureSpec& f, std::mt19937_64& rng, RunResult& r) {
  std::uniform_real_distribution<double> noise(0.8, 1.2);
  const std::pair<const char*, double> roles[] = {
      {"worker", 6.0}, {"broker", 3.0}, {"orchestrator", 2.0}, {"link", 1.5}};
  double total_s = f.warmup_s + f.duration_s + f.drain_s;
  double cpu_s[4] = {0, 0, 0, 0};
  for (int64_t t_ms = 0; t_ms <= static_cast<int64_t>(total_s * 1000); t_ms += 100) {
    for (size_t i = 0; i < 4; ++i) {
      double pct = roles[i].second * noise(rng);
      if (t_ms > 0) cpu_s[i] += pct / 1000;  // pct of 100 ms
      ProcessSample s;
      s.t_ms = t_ms + 200;
      s.t_run_ms = t_ms;
      s.role = roles[i].first;
      s.pid = 1000 + static_cast<int>(i) + static_cast<int>(f.seed % 1000) * 10;
      s.cpu_s = std::round(cpu_s[i] * 1000) / 1000;
      s.cpu_pct = t_ms > 0 ? std::round(pct * 10) / 10 : 0;
      s.rss_kb = 6000 + static_cast<int64_t>(i) * 9000 + t_ms / 40;
      s.rss_peak_kb = s.rss_kb;
      s.threads = 1;
      r.samples.push_back(s);
    }
  }
  // The per-process summaries compare's CPU columns read.
  auto summary = [&](size_t i) {
    const ProcessSample& last = r.samples[r.samples.size() - 4 + i];
    return ProcessResult{last.pid,
                         static_cast<uint64_t>(r.samples.size() / 4),
                         last.cpu_s,
                         std::round(last.cpu_s / total_s * 1000) / 10,
                         last.rss_peak_kb,
                         {},
                         {}};
  };
  r.processes.worker = summary(0);
  r.processes.broker = summary(1);
  r.processes.orchestrator = summary(2);
  r.processes.link = summary(3);
}

inline RunResult FixtureRun(const FixtureSpec& f) {
  std::mt19937_64 rng(f.seed);
  RunResult r;
  r.info = RunInfo{f.scenario, 1,
                   f.devices,  0,
                   f.warmup_s, f.duration_s,
                   f.drain_s,  true,
                   false,      1'764'590'400'000 + static_cast<int64_t>(f.seed) * 60'000};
  r.info.rate_per_device = 1;
  r.info.payload_bytes = 64;
  r.info.topics_per_device = 1;
  auto per_s = static_cast<uint64_t>(f.devices);
  auto window = static_cast<uint64_t>(f.duration_s) * per_s;
  r.measured_s = f.duration_s;
  r.sent_per_s = static_cast<double>(per_s);
  r.received_per_s = static_cast<double>(per_s);
  r.counters.Set(Counter::kScheduled, window);
  r.counters.Set(Counter::kSent, window);
  r.counters.Set(Counter::kAcked, window);
  r.counters.Set(Counter::kWindowSent, window);
  r.counters.Set(Counter::kReceived, window);
  r.counters.Set(Counter::kWindowReceived, window);
  // Latency: the link's rtt/2 plus a lognormal body and a rare slow tail.
  std::lognormal_distribution<double> body(std::log(f.base_latency_ms * 1000), 0.35);
  std::exponential_distribution<double> tail(1 / (f.base_latency_ms * 4000));
  std::uniform_real_distribution<double> unit(0, 1);
  LatencyHistogram latency;
  auto seconds = static_cast<size_t>(f.warmup_s + f.duration_s + f.drain_s);
  uint64_t carried = 0;
  for (size_t s = 0; s < seconds; ++s) {
    LatencyHistogram second;
    bool sending = s < static_cast<size_t>(f.warmup_s + f.duration_s);
    for (uint64_t m = 0; sending && m < per_s; ++m) {
      double us = f.rtt_ms * 500 + body(rng) + (unit(rng) < 0.01 ? tail(rng) : 0);
      second.Record(static_cast<int64_t>(us));
    }
    bool in_window = s >= static_cast<size_t>(f.warmup_s) && sending;
    if (in_window) latency.Merge(second);
    // Some of a second's messages arrive in the next one.
    uint64_t late = sending ? std::uniform_int_distribution<uint64_t>(0, per_s / 10)(rng) : 0;
    TimelineSecond t;
    t.sent = sending ? per_s : 0;
    t.received = t.sent - late + carried;
    carried = late;
    t.p50_us = second.ValueAtPercentile(50);
    t.p99_us = second.ValueAtPercentile(99);
    t.bytes_to_broker = t.sent * 121;
    t.bytes_from_broker = t.received * 118;
    r.timeline.push_back(t);
  }
  r.latency_us = Distribution::Of(latency);
  r.latency_actual_us = Distribution::Of(latency);
  LatencyHistogram lag;
  lag.RecordN(30, window);
  r.lag_us = Distribution::Of(lag);
  FixtureSamples(f, rng, r);
  r.capture.status = "ok";
  r.capture.interface = "lo";
  r.capture.filter = "tcp port 1883";
  r.capture.broker_port = 1883;
  r.capture.to_broker = {window * 2, window * 121, window * 69, {{"PUBLISH", window}}};
  r.capture.from_broker = {window * 2, window * 118, window * 66, {{"PUBACK", window}}};
  r.capture.packets_seen = window * 4;
  CostResult cost;
  std::uniform_real_distribution<double> spread(0.97, 1.03);
  double scale = spread(rng);
  cost.per_month = f.cost_usd * scale;
  cost.per_million_messages = cost.per_month / (static_cast<double>(per_s) * 2.592);
  cost.basis.messages_per_s = static_cast<double>(per_s);
  cost.basis.messages_per_month = static_cast<double>(per_s) * 2'592'000;
  cost.basis.connections = f.devices;
  cost.sheets = {CostSheetRef{"fixture", "fixture prices (not a real offer)", "USD",
                              "tests/report/fixture_runs.h", "2026-12-01", 1}};
  // 70% for the messages, 30% for the connection-minutes.
  double messages_m = cost.basis.messages_per_month / 1e6;
  double connection_minutes_m = f.devices * 43200.0 / 1e6;
  double messages_usd = f.cost_usd * 0.7 * scale;
  double connections_usd = f.cost_usd * 0.3 * scale;
  cost.parts = {
      {"fixture", "messages", messages_m, "million messages", messages_usd / messages_m, "USD",
       messages_usd, messages_usd, ""},
      {"fixture", "connection_minutes", connection_minutes_m, "million connection-minutes",
       connections_usd / connection_minutes_m, "USD", connections_usd, connections_usd, ""}};
  r.cost = cost;
  return r;
}

// Writes the run's directory as edgebench run would: its reporters' files, the scenario and
// a manifest that says it is a fixture.
inline Status WriteFixtureRun(const FixtureSpec& f, const std::string& dir) {
  for (const ReportFile& file : RenderRunFiles(FixtureRun(f))) {
    if (Status st = WriteFile(dir + "/" + file.name, file.content); !st) return st;
  }
  // Resolved, as a run writes it.
  Result<Scenario> scenario = ParseScenario(FixtureScenarioYaml(f), "fixture.yaml");
  if (!scenario.ok()) return scenario.error();
  if (Status st = WriteFile(dir + "/scenario.yaml", ScenarioToYaml(*scenario)); !st) return st;
  nlohmann::json manifest = {{"fixture", true},
                             {"scenario", f.scenario},
                             {"seed", f.seed},
                             {"note", "synthetic run from tests/report/fixture_runs.h"}};
  return WriteFile(dir + "/manifest.json", manifest.dump(2) + "\n");
}

}  // namespace edgebench::testing

#endif  // EDGEBENCH_TESTS_REPORT_FIXTURE_RUNS_H_

// A synthetic search set for the compare and report tests and the browser check: index.json,
// search.json and a run directory per step run, laid out as `edgebench run` writes a search
// (src/set/search_runner.cc), from RunResults made in code. Each run's expectations are the
// real CheckThresholds() of the search's thresholds, and each step's verdict follows from them.
#ifndef EDGEBENCH_TESTS_REPORT_FIXTURE_SEARCH_H_
#define EDGEBENCH_TESTS_REPORT_FIXTURE_SEARCH_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/results/metrics.h"
#include "edgebench/results/reporters.h"
#include "edgebench/results/run_result.h"
#include "edgebench/results/search_result.h"
#include "edgebench/results/set_index.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench::testing {

// The figures of one step run, exact: 98 of 100 messages at p50_us, 2 at p99_us.
struct StepFigures {
  int64_t p50_us = 1000;
  int64_t p99_us = 3000;
  double received_per_s = 500;
  double broker_cpu_pct = 5;
  uint64_t lost = 0;  // of 1000 sent
};

inline RunResult StepRun(const StepFigures& f) {
  RunResult r;
  r.status = RunStatus::kOk;
  r.info = RunInfo{"search-demo", 1, 20, 0, 1.0, 10.0, 1.0, true, false, 1'764'587'560'000};
  r.measured_s = 10;
  r.sent_per_s = 100;
  r.received_per_s = f.received_per_s;
  r.counters.Set(Counter::kScheduled, 1000);
  r.counters.Set(Counter::kSent, 1000);
  r.counters.Set(Counter::kWindowSent, 1000);
  r.counters.Set(Counter::kReceived, 1000 - f.lost);
  r.counters.Set(Counter::kWindowReceived, 1000 - f.lost);
  LatencyHistogram h;
  h.RecordN(f.p50_us, 98);
  h.RecordN(f.p99_us, 2);
  r.latency_us = Distribution::Of(h);
  r.latency_actual_us = Distribution::Of(h);
  r.processes.worker = ProcessResult{42, 100, 1.0, 10, 20000, {}, {}};
  r.processes.broker = ProcessResult{43, 100, 0.5, f.broker_cpu_pct, 8000, {}, {}};
  return r;
}

struct FixtureSearchStep {
  double value = 0;
  std::vector<RunResult> runs;  // one per repeat
};

// One searched matrix cell: placement=<placement>, on its own emulated link.
struct FixtureSearchGroup {
  std::string id;         // "c1-edge"
  std::string placement;  // the value of the matrix axis `placement`
  double rtt_ms = 0;      // network.rtt_ms; 0: no emulated link
  std::optional<double> broker_cpus;
  std::vector<FixtureSearchStep> steps;  // in the order the search tried them
  std::optional<double> holds;           // search.json's answer
  std::optional<double> fails;
  std::string stop_reason;
};

struct FixtureSearch {
  std::string name = "search-demo";
  std::string key = "publish.rate";  // or "devices.count"
  double from = 25;
  double to = 800;
  int repeat = 1;
  int devices = 20;
  std::vector<Threshold> thresholds = {{"latency_p99_ms", std::nullopt, 30}};
  std::vector<FixtureSearchGroup> groups;
};

// One run of p99 `p99_us` (p50 1/64 of it: below 2048 us, exact in the histogram),
// delivering `received` msg/s.
inline FixtureSearchStep SearchStep(double value, int64_t p99_us, double received,
                                    double broker_cpu_pct) {
  StepFigures f;
  f.p99_us = p99_us;
  f.p50_us = p99_us / 64;
  f.received_per_s = received;
  f.broker_cpu_pct = broker_cpu_pct;
  return {value, {StepRun(f)}};
}

// The brief's example: edge holds up to 75 msg/s per device, cloud up to 300; the steps in
// the order a search tries them (doubling, then bisection).
inline FixtureSearch EdgeAndCloudSearch() {
  FixtureSearch f;
  f.thresholds = {{"latency_p99_ms", std::nullopt, 30}, {"loss_ratio", std::nullopt, 0}};
  FixtureSearchGroup edge{"c1-edge", "edge", 0, 0.1, {}, 75, 100, "resolution"};
  edge.steps = {SearchStep(25, 4096, 500, 3), SearchStep(50, 8192, 1000, 6),
                SearchStep(100, 40960, 1800, 10), SearchStep(75, 16384, 1500, 9)};
  FixtureSearchGroup cloud{"c2-cloud", "cloud", 20, 0.5, {}, 300, 400, "resolution"};
  cloud.steps = {SearchStep(25, 20480, 500, 2),    SearchStep(50, 20480, 1000, 4),
                 SearchStep(100, 20480, 2000, 8),  SearchStep(200, 24576, 4000, 16),
                 SearchStep(400, 81920, 6000, 50), SearchStep(300, 28672, 6000, 24)};
  f.groups = {edge, cloud};
  return f;
}

// The resolved scenario of one step of `g` at `value`, as YAML the scenario module reads.
inline std::string FixtureStepYaml(const FixtureSearch& f, const FixtureSearchGroup& g,
                                   double value) {
  std::string v = FormatSearchValue(value);
  bool rate = f.key == "publish.rate";
  std::string yaml = "name: " + f.name +
                     "\ndevices: {count: " + (rate ? std::to_string(f.devices) : v) +
                     "}\ntopics: [\"sensor/{device}\"]\npublish: {rate: " + (rate ? v : "10") +
                     ", qos: 1}\nduration_s: 10\nwarmup_s: 1\ndrain_s: 1\n";
  if (g.rtt_ms > 0) yaml += "network: {rtt_ms: " + FormatSearchValue(g.rtt_ms) + "}\n";
  if (g.broker_cpus)
    yaml += "broker: {resources: {cpus: " + FormatSearchValue(*g.broker_cpus) + "}}\n";
  if (!f.thresholds.empty()) yaml += "expect:\n";
  for (const Threshold& t : f.thresholds) {
    yaml += "  " + t.metric + ": {";
    if (t.min) yaml += "min: " + FormatSearchValue(*t.min) + (t.max ? ", " : "");
    if (t.max) yaml += "max: " + FormatSearchValue(*t.max);
    yaml += "}\n";
  }
  return yaml;
}

inline Status WriteFixtureStepRun(const std::string& dir, const RunResult& r,
                                  const std::string& yaml) {
  std::filesystem::create_directories(dir);
  for (const ReportFile& file : RenderRunFiles(r)) {
    if (Status st = WriteFile(dir + "/" + file.name, file.content); !st) return st;
  }
  Result<Scenario> scenario = ParseScenario(yaml, "fixture-search.yaml");
  if (!scenario.ok()) return scenario.error();
  if (Status st = WriteFile(dir + "/scenario.yaml", ScenarioToYaml(*scenario)); !st) return st;
  nlohmann::json manifest = {{"fixture", true},
                             {"note", "synthetic search step from tests/report/fixture_search.h"}};
  return WriteFile(dir + "/manifest.json", manifest.dump(2) + "\n");
}

inline std::vector<std::string> FixtureExpectText(const FixtureSearch& f) {
  std::vector<std::string> expect;
  for (const Threshold& t : f.thresholds) {
    expect.push_back(t.metric + (t.min ? " min " + FormatSearchValue(*t.min) : "") +
                     (t.max ? " max " + FormatSearchValue(*t.max) : ""));
  }
  return expect;
}

// One step: its cell in the index, its runs' directories and its step in search.json.
inline Status WriteFixtureStep(const FixtureSearch& f, const FixtureSearchGroup& g, size_t s,
                               const std::string& dir, SetIndex* index, SearchGroup* out) {
  const FixtureSearchStep& step = g.steps[s];
  std::string text = FormatSearchValue(step.value);
  std::string id = g.id + "-s" + std::to_string(s + 1) + "-" + text;
  SetCell cell{id,
               f.name,
               "fixture-search.yaml",
               {{"placement", g.placement}, {f.key, text}},
               "cells/" + id + ".yaml",
               {}};
  SearchResultStep result{static_cast<int>(s + 1), step.value, id, 0, 0, ""};
  for (size_t k = 0; k < step.runs.size(); ++k) {
    RunResult r = step.runs[k];
    r.expectations = CheckThresholds(f.thresholds, r);
    bool pass = true;
    for (const ExpectResult& e : r.expectations) pass = pass && e.pass;
    std::string run_dir = id + "/run-" + std::to_string(k + 1);
    if (Status st = WriteFixtureStepRun(dir + "/" + run_dir, r, FixtureStepYaml(f, g, step.value));
        !st)
      return st;
    cell.runs.push_back(SetRun{static_cast<int>(k), run_dir, "ok", pass});
    index->order.emplace_back(static_cast<int>(index->cells.size()), static_cast<int>(k));
    ++result.runs;
    result.holds += pass ? 1 : 0;
  }
  result.verdict = result.holds == result.runs ? "holds" : result.holds == 0 ? "fails" : "mixed";
  index->cells.push_back(std::move(cell));
  out->steps.push_back(result);
  out->runs_used += result.runs;
  return Ok{};
}

inline Status WriteFixtureSearch(const FixtureSearch& f, const std::string& dir) {
  SetIndex index;
  index.name = f.name;
  index.id = "20261201T150000Z-5ea4c1";
  index.created = "2026-12-01T15:00:00Z";
  index.repeat = f.repeat;
  index.matrix_keys = {"network", "broker", f.key};
  SearchResult search;
  search.key = f.key;
  search.from = f.from;
  search.to = f.to;
  search.resolution = 25;
  search.max_runs = 8;
  search.max_mixed = 2;
  search.repeat = f.repeat;
  search.expect = FixtureExpectText(f);
  for (const FixtureSearchGroup& g : f.groups) {
    SearchGroup out{g.id, {{"placement", g.placement}}, {}, g.holds, g.fails, g.stop_reason, 0};
    for (size_t s = 0; s < g.steps.size(); ++s) {
      if (Status st = WriteFixtureStep(f, g, s, dir, &index, &out); !st) return st;
    }
    search.groups.push_back(std::move(out));
  }
  if (Status st = WriteSetIndex(dir, index); !st) return st;
  return WriteSearchResult(dir, search);
}

}  // namespace edgebench::testing

#endif  // EDGEBENCH_TESTS_REPORT_FIXTURE_SEARCH_H_

// Tests for compare: fixture runs and sets written with the results module's own writers
// (RenderRunFiles, ScenarioToYaml, WriteSetIndex), read back by LoadCells, and every
// statistic, sentence, note, error and format checked against values computed by hand.
#include "edgebench/compare/compare.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/results/reporters.h"
#include "edgebench/results/set_index.h"

#include "cli_support.h"
#include "test_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// The figures of one fixture run.
struct Figures {
  int64_t p50_us = 1000;  // 98 of 100 messages (below 2048 us: exact in the histogram)
  int64_t p99_us = 3000;  // 2 of 100 messages: p99, p99.9 and max
  double received_per_s = 100;
  uint64_t sent = 1000;
  uint64_t received = 1000;
  double worker_cpu_pct = 10;
  double broker_cpu_pct = 5;
  uint64_t wire_bytes = 250000;  // both directions
  std::optional<double> cost_usd;
  std::optional<double> p99_max_ms;  // an expect: latency_p99_ms {max: ...}
  RunStatus status = RunStatus::kOk;
};

RunResult MakeRun(const Figures& f) {
  RunResult r;
  r.status = f.status;
  if (f.status != RunStatus::kOk) r.error = "the worker died";
  r.info = RunInfo{"edge-vs-cloud", 1, 10, 0, 1.0, 10.0, 1.0, true, false, 1'764'587'560'000};
  r.measured_s = 10;
  r.sent_per_s = static_cast<double>(f.sent) / 10;
  r.received_per_s = f.received_per_s;
  r.counters.Set(Counter::kScheduled, f.sent);
  r.counters.Set(Counter::kSent, f.sent);
  r.counters.Set(Counter::kWindowSent, f.sent);
  r.counters.Set(Counter::kReceived, f.received);
  r.counters.Set(Counter::kWindowReceived, f.received);
  LatencyHistogram h;
  h.RecordN(f.p50_us, 98);
  h.RecordN(f.p99_us, 2);
  r.latency_us = Distribution::Of(h);
  r.latency_actual_us = Distribution::Of(h);
  r.processes.worker = ProcessResult{42, 100, 1.0, f.worker_cpu_pct, 20000, {}, {}};
  r.processes.broker = ProcessResult{43, 100, 0.5, f.broker_cpu_pct, 8000, {}, {}};
  r.capture.status = "ok";
  r.capture.interface = "lo";
  r.capture.to_broker.ip_bytes = f.wire_bytes * 3 / 5;
  r.capture.from_broker.ip_bytes = f.wire_bytes - f.wire_bytes * 3 / 5;
  if (f.cost_usd) {
    r.cost = CostResult{};
    r.cost->per_month = *f.cost_usd;
  }
  if (f.p99_max_ms) {
    double value = static_cast<double>(f.p99_us) / 1000;
    bool pass = value <= *f.p99_max_ms;
    r.expectations.push_back(ExpectResult{"latency_p99_ms", std::nullopt, f.p99_max_ms, value, pass,
                                          pass ? "" : "above the maximum"});
  }
  return r;
}

Scenario CellScenario(const std::string& profile, double rtt_ms) {
  Scenario s;
  s.name = "edge-vs-cloud";
  s.devices.count = 10;
  s.publish.qos = 1;
  s.network.emulated = true;
  s.network.profile = profile;
  s.network.link.rtt_ms = rtt_ms;
  return s;
}

void WriteRun(const std::string& dir, const RunResult& r, const Scenario& s) {
  fs::create_directories(dir);
  for (const ReportFile& f : RenderRunFiles(r))
    REQUIRE(WriteFile(dir + "/" + f.name, f.content).ok());
  REQUIRE(WriteFile(dir + "/scenario.yaml", ScenarioToYaml(s)).ok());
}

struct FixtureCell {
  std::string id;
  std::string value;  // of the matrix key "network"
  Scenario scenario;
  std::vector<Figures> runs;
  std::vector<std::string> statuses = {};  // index.json's status per run ("ok" when absent)
};

// A set at `dir`: index.json and DIR/<cell id>/run-<k>/ for each run.
void WriteSet(const std::string& dir, const std::vector<FixtureCell>& cells) {
  SetIndex index;
  index.name = "edge-vs-cloud";
  index.id = "20261201T131500Z-a1b2c3";
  index.created = "2026-12-01T13:15:00Z";
  index.repeat = static_cast<int>(cells[0].runs.size());
  index.matrix_keys = {"network"};
  for (size_t c = 0; c < cells.size(); ++c) {
    const FixtureCell& fc = cells[c];
    SetCell cell{fc.id,
                 "edge-vs-cloud",
                 "scenarios/edge-vs-cloud.yaml",
                 {{"network", fc.value}},
                 "cells/" + fc.id + ".yaml",
                 {}};
    for (size_t k = 0; k < fc.runs.size(); ++k) {
      std::string run_dir = fc.id + "/run-" + std::to_string(k + 1);
      std::string status = k < fc.statuses.size() ? fc.statuses[k] : "ok";
      WriteRun(dir + "/" + run_dir, MakeRun(fc.runs[k]), fc.scenario);
      cell.runs.push_back(SetRun{static_cast<int>(k), run_dir, status, std::nullopt});
      index.order.emplace_back(static_cast<int>(c), static_cast<int>(k));
    }
    index.cells.push_back(cell);
  }
  Status st = WriteSetIndex(dir, index);
  INFO((st.ok() ? std::string() : st.error().ToString()));
  REQUIRE(st.ok());
}

CompareOptions Options() {
  CompareOptions o;
  o.checks.profiles = {{"edge-lan", LinkProfile{2, 0, 0, 0, 0}},
                       {"cloud-near", LinkProfile{20, 0, 0, 0, 0}},
                       {"cloud-far", LinkProfile{80, 0, 0, 0, 0}}};
  o.checks.profiles_file = "config/profiles.yaml";
  return o;
}

// Five runs a cell, evenly spaced figures: edge-lan p50 1.00..1.04 ms, p99 3.0..3.4 ms;
// cloud-near p50 1.50..1.54 ms, p99 18.0..18.4 ms; both meet latency_p99_ms <= 50.
std::vector<FixtureCell> EdgeVsCloud() {
  FixtureCell edge{"c1-edge-lan", "edge-lan", CellScenario("edge-lan", 2), {}};
  FixtureCell cloud{"c2-cloud-near", "cloud-near", CellScenario("cloud-near", 20), {}};
  for (int k = 0; k < 5; ++k) {
    Figures e;
    e.p50_us = 1000 + 10 * k;
    e.p99_us = 3000 + 100 * k;
    e.received_per_s = 99.6 + 0.2 * k;
    e.worker_cpu_pct = 10 + k;
    e.broker_cpu_pct = 5;
    e.cost_usd = 41;
    e.p99_max_ms = 50;
    edge.runs.push_back(e);
    Figures c = e;
    c.p50_us = 1500 + 10 * k;
    c.p99_us = 18000 + 100 * k;
    c.received = 990 + 2 * static_cast<uint64_t>(k);  // loss 0.010, 0.008, ... 0.002
    c.wire_bytes = 300000;
    c.cost_usd = 262;
    cloud.runs.push_back(c);
  }
  return {edge, cloud};
}

Comparison CompareOk(const std::vector<std::string>& paths, CompareOptions o = Options()) {
  Result<Comparison> c = Compare(paths, o);
  INFO((c.ok() ? std::string() : c.error().ToString()));
  REQUIRE(c.ok());
  return std::move(c.value());
}

std::string CompareError(const std::vector<std::string>& paths, CompareOptions o = Options()) {
  Result<Comparison> c = Compare(paths, o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ErrorKind::kUsage);
  return c.error().ToString();
}

const MetricSummary& SummaryOf(const Comparison& c, size_t cell, Metric m) {
  for (const MetricSummary& s : c.summaries[cell].metrics) {
    if (s.metric == m) return s;
  }
  FAIL("no summary of metric " << InfoOf(m).name);
  return c.summaries[cell].metrics[0];
}

const MetricDifference& DifferenceOfMetric(const Comparison& c, Metric m) {
  for (const MetricDifference& d : c.difference->metrics) {
    if (d.metric == m) return d;
  }
  FAIL("no difference of metric " << InfoOf(m).name);
  return c.difference->metrics[0];
}

TEST_CASE("compare: medians and 95% intervals of a set's cells, computed by hand", "[compare]") {
  TempDir tmp;
  WriteSet(tmp.File("set"), EdgeVsCloud());
  Comparison c = CompareOk({tmp.File("set")});
  REQUIRE(c.cells.size() == 2);
  CHECK(c.cells[0].label == "edge-lan");
  CHECK(c.cells[1].label == "cloud-near");
  CHECK(c.cells[0].id == "c1-edge-lan");
  CHECK(c.cells[1].runs.size() == 5);
  CHECK(c.cells[1].runs[4].repeat == 4);
  // A set's cells are labelled by its matrix axes, not by the flattened keys they set.
  CHECK(c.keys == std::vector<std::string>{"network"});
  CHECK(c.notes.empty());
  // Five evenly spaced values: the median is the middle one, and the percentile bootstrap's
  // 95% interval runs from the smallest to the largest (each is a resample's median with
  // probability 0.05792 > 0.025: see the bootstrap cases of tests/stats/stats_test.cc).
  const MetricSummary& p50 = SummaryOf(c, 0, Metric::kLatencyP50Ms);
  CHECK(p50.values == std::vector<double>{1.0, 1.01, 1.02, 1.03, 1.04});
  CHECK(*p50.median == Approx(1.02));
  CHECK(p50.interval->lo == Approx(1.0));
  CHECK(p50.interval->hi == Approx(1.04));
  const MetricSummary& p99 = SummaryOf(c, 1, Metric::kLatencyP99Ms);
  CHECK(*p99.median == Approx(18.2));
  CHECK(p99.interval->lo == Approx(18.0));
  CHECK(p99.interval->hi == Approx(18.4));
  // loss = (1000 - received) / 1000 with received 990, 992, ... 998.
  const MetricSummary& loss = SummaryOf(c, 1, Metric::kLossRatio);
  CHECK(*loss.median == Approx(0.006));
  CHECK(loss.interval->lo == Approx(0.002));
  CHECK(loss.interval->hi == Approx(0.01));
  CHECK(*SummaryOf(c, 0, Metric::kReceivedPerS).median == Approx(100));
  CHECK(*SummaryOf(c, 0, Metric::kWorkerCpuPct).median == Approx(12));
  CHECK(*SummaryOf(c, 0, Metric::kBrokerCpuPct).median == Approx(5));
  // (150000 + 100000) / 1000 sent, and 300000 / 1000.
  CHECK(*SummaryOf(c, 0, Metric::kWireBytesPerMessage).median == Approx(250));
  CHECK(*SummaryOf(c, 1, Metric::kWireBytesPerMessage).median == Approx(300));
  CHECK(*SummaryOf(c, 1, Metric::kCostPerMonthUsd).median == Approx(262));
  CHECK(SummaryOf(c, 1, Metric::kCostPerMonthUsd).interval == Interval{262, 262});
}

TEST_CASE("compare: the difference of two cells in words, with interval and test", "[compare]") {
  TempDir tmp;
  WriteSet(tmp.File("set"), EdgeVsCloud());
  Comparison c = CompareOk({tmp.File("set")});
  REQUIRE(c.difference.has_value());
  CHECK(c.difference->a == "edge-lan");
  CHECK(c.difference->b == "cloud-near");
  CHECK_FALSE(c.difference->distributions.has_value());
  // median(b) - median(a) = 1.52 - 1.02; with both sides spaced 0.01 the bootstrap
  // difference is 0.5 + 0.01 (k_b - k_a), whose 2.5% and 97.5% quantiles are -3 and +3
  // steps (stats_test.cc). Mann-Whitney: every b above every a, exact p = 2/252.
  const MetricDifference& p50 = DifferenceOfMetric(c, Metric::kLatencyP50Ms);
  CHECK(p50.difference->estimate == Approx(0.5));
  CHECK(p50.difference->lo == Approx(0.47));
  CHECK(p50.difference->hi == Approx(0.53));
  CHECK(p50.test->exact);
  CHECK(p50.test->p_two_sided == Approx(2.0 / 252));
  CHECK(p50.sentence ==
        "cloud-near latency p50 is 0.5 ms higher than edge-lan (95% CI 0.47..0.53, 5 vs 5 "
        "runs; Mann-Whitney U p=0.0079, exact)");
  CHECK(DifferenceOfMetric(c, Metric::kLatencyP99Ms).sentence ==
        "cloud-near latency p99 is 15 ms higher than edge-lan (95% CI 14.7..15.3, 5 vs 5 "
        "runs; Mann-Whitney U p=0.0079, exact)");
  // The same five figures on both sides: 0 with an interval of -3..+3 steps of 0.2;
  // every value tied across the sides: U = 12.5 in every split, exact p = 1.
  CHECK(DifferenceOfMetric(c, Metric::kReceivedPerS).sentence ==
        "cloud-near delivered is the same as edge-lan's, 100 msg/s (95% CI -0.6..0.6, 5 vs 5 "
        "runs, which includes no difference; Mann-Whitney U p=1, exact)");
  // Loss: a is five zeros (one tie group of 5), every b above them: U = 25, and only the
  // two splits that separate the sides are as far from 12.5: p = 2 / C(10, 5) = 0.0079.
  CHECK(DifferenceOfMetric(c, Metric::kLossRatio).sentence ==
        "cloud-near loss is 0.006 higher than edge-lan (95% CI 0.002..0.01, 5 vs 5 runs; "
        "Mann-Whitney U p=0.0079, exact)");
  CHECK(DifferenceOfMetric(c, Metric::kWorkerCpuPct).sentence ==
        "cloud-near worker CPU is the same as edge-lan's, 12% (95% CI -3..3, "
        "5 vs 5 runs, which includes no difference; Mann-Whitney U p=1, exact)");
  // Two tie groups of 5, separated: p = 2 / C(10, 5) = 0.0079, as without ties.
  CHECK(DifferenceOfMetric(c, Metric::kWireBytesPerMessage).sentence ==
        "cloud-near wire bytes per message is 50 B higher than edge-lan (95% CI 50..50, 5 vs 5 "
        "runs; Mann-Whitney U p=0.0079, exact)");
  CHECK(DifferenceOfMetric(c, Metric::kCostPerMonthUsd).sentence ==
        "cloud-near cost per month is USD 221 higher than edge-lan (95% CI 221..221, 5 vs 5 "
        "runs; Mann-Whitney U p=0.0079, exact)");
}

TEST_CASE("compare: the answer names the cheapest cell that meets every threshold", "[compare]") {
  TempDir tmp;
  WriteSet(tmp.File("set"), EdgeVsCloud());
  Comparison c = CompareOk({tmp.File("set")});
  REQUIRE(c.decision.has_value());
  const Decision& d = *c.decision;
  REQUIRE(d.cells.size() == 2);
  CHECK(d.cells[0].meets_all);
  CHECK(d.cells[1].meets_all);
  REQUIRE(d.cells[0].thresholds.size() == 1);
  const ThresholdMargin& t = d.cells[0].thresholds[0];
  CHECK(t.metric == "latency_p99_ms");
  CHECK(t.runs == 5);
  CHECK(t.runs_passed == 5);
  CHECK(*t.worst == Approx(3.4));    // the slowest run's p99
  CHECK(*t.margin == Approx(46.6));  // 50 - 3.4
  CHECK(d.cheapest == 0u);
  CHECK(d.runner_up == 1u);
  CHECK(*d.ratio == Approx(262.0 / 41));
  CHECK(d.sentences == std::vector<std::string>{
                           "edge-lan meets latency_p99_ms <= 50 with 46.6 ms to spare in all 5 "
                           "runs at USD 41/month; cloud-near meets latency_p99_ms <= 50 with "
                           "31.6 ms to spare in all 5 runs at USD 262/month: edge-lan is 6.39x "
                           "cheaper than cloud-near."});
}

TEST_CASE("compare: the answer when no cell meets every threshold", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  for (Figures& f : cells[0].runs) f.p99_max_ms = 3.25;  // runs 4 and 5 (3.3, 3.4 ms) fail
  for (Figures& f : cells[1].runs) f.p99_max_ms = 10;    // every run fails
  WriteSet(tmp.File("set"), cells);
  Comparison c = CompareOk({tmp.File("set")});
  REQUIRE(c.decision.has_value());
  CHECK_FALSE(c.decision->cheapest.has_value());
  CHECK(*c.decision->cells[0].thresholds[0].margin == Approx(-0.15));
  CHECK(c.decision->sentences ==
        std::vector<std::string>{
            "No cell meets every threshold.",
            "edge-lan fails latency_p99_ms <= 3.25 (3.4 ms in 2 of 5 runs: above the maximum).",
            "cloud-near fails latency_p99_ms <= 10 (18.4 ms in 5 of 5 runs: above the maximum)."});
}

TEST_CASE("compare: no answer without expectations, one cell without a second", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  cells.pop_back();
  for (Figures& f : cells[0].runs) f.p99_max_ms.reset();
  WriteSet(tmp.File("set"), cells);
  Comparison c = CompareOk({tmp.File("set")});
  CHECK(c.cells.size() == 1);
  CHECK_FALSE(c.difference.has_value());
  CHECK_FALSE(c.decision.has_value());
}
TEST_CASE("compare: incomplete runs are skipped with a note unless asked for", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  cells[1].runs[2].status = RunStatus::kFailed;
  cells[1].statuses = {"ok", "ok", "failed"};
  std::string set = tmp.File("set");
  WriteSet(set, cells);
  // A loose run whose directory says it failed, and one whose summary says so.
  std::string failed_dir = tmp.File("edge-vs-cloud/20261201T140000Z-d4e5f6.failed");
  WriteRun(failed_dir, MakeRun(cells[0].runs[0]), cells[0].scenario);
  Figures interrupted = cells[0].runs[0];
  interrupted.status = RunStatus::kInterrupted;
  std::string interrupted_dir = tmp.File("edge-vs-cloud/20261201T141000Z-a7b8c9");
  WriteRun(interrupted_dir, MakeRun(interrupted), cells[0].scenario);

  Comparison c = CompareOk({set, failed_dir, interrupted_dir});
  CHECK(c.notes == std::vector<std::string>{
                       "skipped " + set +
                           "/c2-cloud-near/run-3: status failed; --include-incomplete compares it",
                       "skipped " + failed_dir +
                           ": incomplete run (.failed); --include-incomplete compares it",
                       "skipped " + interrupted_dir +
                           ": status interrupted: the worker died; --include-incomplete "
                           "compares it"});
  REQUIRE(c.cells.size() == 2);
  CHECK(c.cells[1].runs.size() == 4);
  CHECK(CompareTable(c).find("  skipped " + failed_dir) != std::string::npos);

  CompareOptions all = Options();
  all.include_incomplete = true;
  Comparison every = CompareOk({set, failed_dir, interrupted_dir}, all);
  CHECK(every.notes.empty());
  // The two loose runs are edge-lan's scenario with edge-lan's values: a third cell.
  REQUIRE(every.cells.size() == 3);
  CHECK(every.cells[1].runs.size() == 5);
  CHECK(every.cells[1].runs[2].result.status == RunStatus::kFailed);
  CHECK(every.cells[2].runs.size() == 2);
  CHECK(every.cells[2].label == "edge-vs-cloud");
}

TEST_CASE("compare: bad input is one line naming the path, a usage error", "[compare]") {
  TempDir tmp;
  std::string missing = tmp.File("nothing-here");
  CHECK(CompareError({missing}) == missing + ": no such run directory or set");
  fs::create_directories(tmp.File("empty"));
  CHECK(CompareError({tmp.File("empty")}) ==
        tmp.File("empty") + ": not a run directory (no summary.json) or a set (no index.json)");

  std::vector<FixtureCell> cells = EdgeVsCloud();
  std::string run = tmp.File("run");
  WriteRun(run, MakeRun(cells[0].runs[0]), cells[0].scenario);
  nlohmann::json summary = SummaryToJson(MakeRun(cells[0].runs[0]));
  summary["format"] = 99;
  REQUIRE(WriteFile(run + "/summary.json", summary.dump()).ok());
  CHECK(CompareError({run}) ==
        run + "/summary.json: summary format 99 is newer than this edgebench reads (1 to 2)");

  std::string no_scenario = tmp.File("no-scenario");
  WriteRun(no_scenario, MakeRun(cells[0].runs[0]), cells[0].scenario);
  fs::remove(no_scenario + "/scenario.yaml");
  CHECK(CompareError({no_scenario}) ==
        no_scenario + "/scenario.yaml: cannot read file: No such file or directory");
}

TEST_CASE("compare: cells may differ only in their matrix keys, runs of a cell not at all",
          "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  cells[1].scenario.publish.qos = 0;
  WriteSet(tmp.File("qos"), cells);
  CHECK(CompareError({tmp.File("qos")}) ==
        tmp.File("qos") +
            ": cells c1-edge-lan and c2-cloud-near differ in publish.qos, which is not a "
            "matrix key");

  // One run of a cell with another device count: rewrite its scenario.yaml.
  std::vector<FixtureCell> same = EdgeVsCloud();
  WriteSet(tmp.File("runs"), same);
  Scenario other = same[0].scenario;
  other.devices.count = 20;
  other.seed = 7;  // a seed of its own is allowed
  REQUIRE(WriteFile(tmp.File("runs/c1-edge-lan/run-2/scenario.yaml"), ScenarioToYaml(other)).ok());
  CHECK(CompareError({tmp.File("runs")}) ==
        tmp.File("runs") +
            ": run c1-edge-lan/run-2 of cell c1-edge-lan differs from c1-edge-lan/run-1 in "
            "devices.count");
  other.devices.count = 10;
  REQUIRE(WriteFile(tmp.File("runs/c1-edge-lan/run-2/scenario.yaml"), ScenarioToYaml(other)).ok());
  CHECK(CompareOk({tmp.File("runs")}).cells[0].runs.size() == 5);

  std::vector<FixtureCell> failed = EdgeVsCloud();
  failed.pop_back();
  failed[0].runs.resize(1);
  failed[0].statuses = {"failed"};
  WriteSet(tmp.File("failed"), failed);
  CHECK(CompareError({tmp.File("failed")}) ==
        "no runs to compare: every run was skipped (skipped " + tmp.File("failed") +
            "/c1-edge-lan/run-1: status failed; --include-incomplete compares it)");
}

TEST_CASE("compare: a link to a set reads the set", "[compare]") {
  TempDir tmp;
  WriteSet(tmp.File("20261201T131500Z-a1b2c3"), EdgeVsCloud());
  fs::create_directory_symlink("20261201T131500Z-a1b2c3", tmp.File("latest"));
  Comparison c = CompareOk({tmp.File("latest")});
  REQUIRE(c.cells.size() == 2);
  CHECK(c.cells[0].runs[0].dir == tmp.File("latest") + "/c1-edge-lan/run-1");
  CHECK(c.decision->cheapest == 0u);
}

TEST_CASE("compare: loose runs are grouped by scenario and values", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  Scenario big = cells[0].scenario;
  big.devices.count = 100;
  std::vector<std::string> dirs;
  for (int k = 0; k < 4; ++k) {
    std::string dir = tmp.File("edge-vs-cloud/run-" + std::to_string(k));
    WriteRun(dir, MakeRun(cells[0].runs[static_cast<size_t>(k)]),
             k % 2 == 0 ? cells[0].scenario : big);
    dirs.push_back(dir);
  }
  Comparison c = CompareOk(dirs);
  REQUIRE(c.cells.size() == 2);
  CHECK(c.keys == std::vector<std::string>{"devices.count"});
  CHECK(c.cells[0].label == "devices.count=10");
  CHECK(c.cells[1].label == "devices.count=100");
  CHECK(c.cells[0].runs[1].dir == dirs[2]);
  // p50 of runs 0, 2 (1.00, 1.02 ms) and of runs 1, 3 (1.01, 1.03): 1.01 and 1.02.
  CHECK(*SummaryOf(c, 0, Metric::kLatencyP50Ms).median == Approx(1.01));
  CHECK(*SummaryOf(c, 1, Metric::kLatencyP50Ms).median == Approx(1.02));
  // Two runs a side: the smallest exact p is 2/6, so the test is there but cannot tell.
  CHECK(DifferenceOfMetric(c, Metric::kLatencyP50Ms).test->p_two_sided == Approx(2.0 / 3));
}

TEST_CASE("compare: loose runs of two network profiles are labelled by the profile", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  WriteRun(tmp.File("a"), MakeRun(cells[0].runs[0]), cells[0].scenario);
  WriteRun(tmp.File("b"), MakeRun(cells[1].runs[0]), cells[1].scenario);
  Scenario qos0 = cells[1].scenario;
  qos0.publish.qos = 0;
  WriteRun(tmp.File("c"), MakeRun(cells[1].runs[1]), qos0);
  Comparison two = CompareOk({tmp.File("a"), tmp.File("b")});
  CHECK(two.keys == std::vector<std::string>{"network.profile", "network.rtt_ms"});
  CHECK(two.cells[0].values == std::vector<std::pair<std::string, std::string>>{
                                   {"network.profile", "edge-lan"}, {"network.rtt_ms", "2"}});
  CHECK(two.cells[0].label == "edge-lan");
  CHECK(two.cells[1].label == "cloud-near");
  Comparison three = CompareOk({tmp.File("a"), tmp.File("b"), tmp.File("c")});
  CHECK(three.cells[0].label == "network=edge-lan publish.qos=1");
  CHECK(three.cells[2].label == "network=cloud-near publish.qos=0");
}

TEST_CASE("compare: two single runs compare their own latency distributions", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  std::string a = tmp.File("edge-vs-cloud/20261201T100000Z-aaaaaa");
  std::string b = tmp.File("edge-vs-cloud/20261201T110000Z-bbbbbb");
  WriteRun(a, MakeRun(cells[0].runs[0]), cells[0].scenario);
  WriteRun(b, MakeRun(cells[1].runs[0]), cells[0].scenario);
  Comparison c = CompareOk({a, b});
  REQUIRE(c.cells.size() == 2);
  CHECK(c.cells[0].label == "20261201T100000Z-aaaaaa");
  CHECK(c.notes ==
        std::vector<std::string>{"both runs are scenario edge-vs-cloud with the same values: run "
                                 "20261201T110000Z-bbbbbb against run 20261201T100000Z-aaaaaa"});
  REQUIRE(c.difference->distributions.has_value());
  const DistributionComparison& d = *c.difference->distributions;
  // 98 messages at 1000 us and 2 at 3000 (a), 98 at 1500 and 2 at 18000 (b): p50 and p90
  // fall on the 98, p99, p99.9 and the maximum on the 2.
  REQUIRE(d.percentiles.size() == 5);
  CHECK(d.percentiles[1].percentile == 90.0);
  CHECK(d.percentiles[1].a_ms == 1.0);
  CHECK(d.percentiles[1].b_ms == 1.5);
  CHECK(d.percentiles[2].b_ms == 18.0);
  CHECK(d.sentence ==
        "One run on each side: in their own latency distributions (100 messages of "
        "20261201T100000Z-aaaaaa, 100 of 20261201T110000Z-bbbbbb), 20261201T110000Z-bbbbbb is "
        "0.5 ms higher at p50, 0.5 ms higher at p90, 15 ms higher at p99, 15 ms higher at "
        "p99.9, 15 ms higher at max than 20261201T100000Z-aaaaaa; repeats are needed for an "
        "interval.");
  CHECK(DifferenceOfMetric(c, Metric::kLatencyP99Ms).sentence ==
        "20261201T110000Z-bbbbbb latency p99 is 15 ms higher than 20261201T100000Z-aaaaaa (1 "
        "vs 1 runs: repeats are needed for an interval)");
}
TEST_CASE("compare: figures are printed with at most 4 significant digits", "[compare]") {
  CHECK(FormatFigure(8.1) == "8.1");
  CHECK(FormatFigure(46.6) == "46.6");
  CHECK(FormatFigure(100.4) == "100.4");
  CHECK(FormatFigure(262.449) == "262.4");
  CHECK(FormatFigure(0.0021354) == "0.002135");
  CHECK(FormatFigure(12345.6) == "12346");
  CHECK(FormatFigure(-0.6) == "-0.6");
  CHECK(FormatFigure(0.0) == "0");
  CHECK(FormatFigure(std::nullopt) == "-");
  CHECK(ParseCompareFormat("markdown").value() == CompareFormat::kMarkdown);
  CHECK(ParseCompareFormat("html").error().ToString() ==
        "unknown format 'html' (expected table, markdown, csv or json)");
}

TEST_CASE("compare: the table, markdown, CSV and JSON of one comparison", "[compare]") {
  TempDir tmp;
  WriteSet(tmp.File("set"), EdgeVsCloud());
  Comparison c = CompareOk({tmp.File("set")});
  // Each column as wide as its widest entry plus two spaces.
  const std::string header =
      "cell        runs  latency p50 (ms)  latency p99 (ms)  delivered (msg/s)  loss       "
      "          worker CPU (%)  broker CPU (%)  wire bytes per message (B)  cost per month "
      "(USD)\n";
  std::string table = CompareTable(c);
  CHECK(table.substr(0, header.size()) == header);
  CHECK(table.find("\nedge-lan    5     1.02 [1..1.04]    3.2 [3..3.4]      100 [99.6..100.4]  "
                   "0 [0..0]             12 [10..14]     5 [5..5]        250 [250..250]      "
                   "        41 [41..41]\n") != std::string::npos);
  CHECK(table.find("\ncloud-near  5     1.52 [1.5..1.54]  18.2 [18..18.4]   100 [99.6..100.4]  "
                   "0.006 [0.002..0.01]  12 [10..14]     5 [5..5]        300 [300..300]      "
                   "        262 [262..262]\n") != std::string::npos);
  CHECK(table.find("\ncloud-near against edge-lan:\n  cloud-near latency p50 is 0.5 ms higher") !=
        std::string::npos);
  CHECK(table.find("\nThe answer:\n  edge-lan meets latency_p99_ms <= 50") != std::string::npos);

  std::string md = CompareMarkdown(c);
  CHECK(md.starts_with("| cell | runs | latency p50 (ms) | latency p99 (ms) |"));
  CHECK(md.find("\n| --- | --- | ---: | ---: |") != std::string::npos);
  CHECK(md.find("\n| edge-lan | 5 | 1.02 [1..1.04] | 3.2 [3..3.4] |") != std::string::npos);
  CHECK(md.find("\n### The answer\n\n- edge-lan meets") != std::string::npos);

  std::string csv = CompareCsv(c);
  CHECK(
      csv.starts_with("cell,metric,unit,runs,median,lo,hi\n"
                      "edge-lan,latency_p50_ms,ms,5,1.02,1,1.04\n"
                      "edge-lan,latency_p99_ms,ms,5,3.2,3,3.4\n"));
  CHECK(csv.find("\ncloud-near,cost_per_month_usd,USD,5,262,262,262\n") != std::string::npos);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 2 * 8);

  nlohmann::json j = nlohmann::json::parse(CompareJson(c));
  CHECK(j["format"] == 1);
  CHECK(j["keys"] == nlohmann::json{"network"});
  CHECK(j["cells"][0]["label"] == "edge-lan");
  CHECK(j["cells"][0]["values"][0] == nlohmann::json{{"key", "network"}, {"value", "edge-lan"}});
  CHECK(j["cells"][1]["runs"][2]["dir"] == tmp.File("set") + "/c2-cloud-near/run-3");
  CHECK(j["cells"][1]["metrics"]["latency_p99_ms"]["median"].get<double>() == Approx(18.2));
  CHECK(j["cells"][1]["metrics"]["latency_p99_ms"]["lo"].get<double>() == Approx(18.0));
  CHECK(j["difference"]["metrics"][0]["mann_whitney"]["exact"] == true);
  CHECK(j["difference"]["metrics"][0]["sentence"] == c.difference->metrics[0].sentence);
  CHECK(j["decision"]["cheapest"] == "edge-lan");
  CHECK(j["decision"]["cells"][1]["thresholds"][0]["margin"].get<double>() == Approx(31.6));
  CHECK(j["notes"].empty());
  CHECK(FormatComparison(c, CompareFormat::kCsv) == csv);
}

TEST_CASE("compare: the same input and seed give the same text", "[compare]") {
  TempDir tmp;
  std::vector<FixtureCell> cells = EdgeVsCloud();
  // Uneven figures, so that the intervals depend on the resamples drawn.
  const double p50s[] = {1000, 1013, 1007, 1042, 1021};
  for (size_t k = 0; k < 5; ++k) cells[0].runs[k].p50_us = static_cast<int64_t>(p50s[k]);
  WriteSet(tmp.File("set"), cells);
  CompareOptions one = Options();
  one.seed = 11;
  std::string first = CompareJson(CompareOk({tmp.File("set")}, one));
  CHECK(CompareJson(CompareOk({tmp.File("set")}, one)) == first);
  CompareOptions other = Options();
  other.seed = 12;
  other.confidence = 0.5;
  Comparison c = CompareOk({tmp.File("set")}, other);
  CHECK(c.seed == 12u);
  CHECK(CompareTable(c).find("[50% CI: percentile bootstrap of the median, seed 12") !=
        std::string::npos);
}

TEST_CASE("compare: the edgebench compare command", "[compare][cli]") {
  TempDir tmp;
  WriteSet(tmp.File("set"), EdgeVsCloud());
  std::string config = std::string(EDGEBENCH_SOURCE_DIR) + "/config";
  cli_support::CommandResult csv = cli_support::RunEdgebench(
      {"compare", tmp.File("set"), "--format", "csv", "--config-dir", config}, tmp.path());
  CHECK(csv.exit_code == 0);
  CHECK(csv.err.empty());
  CompareOptions o = Options();
  CHECK(csv.out == CompareCsv(CompareOk({tmp.File("set")}, o)));

  cli_support::CommandResult file = cli_support::RunEdgebench(
      {"compare", tmp.File("set"), "--seed", "3", "-o", tmp.File("out.md"), "--format", "markdown",
       "--config-dir", config},
      tmp.path());
  CHECK(file.exit_code == 0);
  CHECK(file.out.empty());
  o.seed = 3;
  CHECK(testing::ReadText(tmp.File("out.md")) == CompareMarkdown(CompareOk({tmp.File("set")}, o)));

  cli_support::CommandResult bad =
      cli_support::RunEdgebench({"compare", tmp.path(), "--config-dir", config}, tmp.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err == "edgebench: error: " + tmp.path() +
                       ": not a run directory (no summary.json) or a set (no index.json)\n");

  cli_support::CommandResult format = cli_support::RunEdgebench(
      {"compare", tmp.File("set"), "--format", "xml", "--config-dir", config}, tmp.path());
  CHECK(format.exit_code == 2);
  CHECK(format.err.starts_with(
      "edgebench: error: unknown format 'xml' (expected table, markdown, csv or json)\n"));

  cli_support::CommandResult help = cli_support::RunEdgebench({"compare", "--help"}, tmp.path());
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("percentile-bootstrap interval of the median") != std::string::npos);
  CHECK(help.out.find("--include-incomplete") != std::string::npos);
}

// Not a test: `bench/compare_bench.sh` runs it to write a set of 100 runs (two cells of 50)
// into $EDGEBENCH_BENCH_SET, each a copy of the run directory $EDGEBENCH_BENCH_RUN (a real
// run), with an index.json from WriteSetIndex.
TEST_CASE("compare: write the benchmark set", "[.compare-bench-set]") {
  const char* set = std::getenv("EDGEBENCH_BENCH_SET");  // NOLINT(concurrency-mt-unsafe)
  const char* run = std::getenv("EDGEBENCH_BENCH_RUN");  // NOLINT(concurrency-mt-unsafe)
  if (set == nullptr || run == nullptr) {
    WARN("skipped: set EDGEBENCH_BENCH_SET and EDGEBENCH_BENCH_RUN");
    return;
  }
  SetIndex index;
  index.name = "compare-bench";
  index.id = "bench";
  index.repeat = 50;
  for (int c = 0; c < 2; ++c) {
    SetCell cell{"c" + std::to_string(c + 1), "bench", "bench.yaml", {}, "", {}};
    for (int k = 0; k < 50; ++k) {
      std::string dir = cell.id + "/run-" + std::to_string(k + 1);
      fs::create_directories(std::string(set) + "/" + dir);
      fs::copy(run, std::string(set) + "/" + dir, fs::copy_options::recursive);
      cell.runs.push_back(SetRun{k, dir, "ok", std::nullopt});
      index.order.emplace_back(c, k);
    }
    index.cells.push_back(cell);
  }
  REQUIRE(WriteSetIndex(set, index).ok());
}
}  // namespace
}  // namespace edgebench

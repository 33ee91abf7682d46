// Tests for src/results/metrics.cc: each metric read off a hand-made RunResult, the cases in
// which a run did not measure it, the expect: verdicts and their sentences, and the names.
#include "edgebench/results/metrics.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

// A run that measured everything: 1000 messages sent in a 10 s window, 990 received, 4 still in
// flight at the end (so 6 lost), latency p50 1.5 ms .. max 9 ms, a sampled worker and broker,
// 100 000 captured IP bytes, and a cost in USD.
RunResult FullRun() {
  RunResult r;
  r.status = RunStatus::kOk;
  r.info.latency = true;
  r.measured_s = 10;
  r.sent_per_s = 100;
  r.received_per_s = 99;
  r.counters[Counter::kSent] = 1000;
  r.counters[Counter::kReceived] = 990;
  r.counters[Counter::kInFlightAtEnd] = 4;
  r.latency_us.summary.count = 1000;
  r.latency_us.summary.p50 = 1500;
  r.latency_us.summary.p90 = 2500;
  r.latency_us.summary.p99 = 4000;
  r.latency_us.summary.p999 = 6250;
  r.latency_us.summary.max = 9000;
  ProcessResult worker;
  worker.samples = 100;
  worker.cpu_pct_mean = 12.5;
  r.processes.worker = worker;
  ProcessResult broker;
  broker.samples = 100;
  broker.cpu_pct_mean = 3.25;
  broker.rss_peak_kb = 8704;
  r.processes.broker = broker;
  r.capture.status = "ok";
  r.capture.to_broker.ip_bytes = 60000;
  r.capture.from_broker.ip_bytes = 40000;
  CostResult cost;
  cost.currency = "USD";
  cost.per_month = 259.2;
  cost.per_million_messages = 1.25;
  r.cost = cost;
  return r;
}

std::optional<double> Value(const RunResult& r, Metric m) { return MetricValue(r, m); }

TEST_CASE("MetricValue reads each metric off the run", "[metrics]") {
  RunResult r = FullRun();
  CHECK(Value(r, Metric::kLatencyP50Ms) == 1.5);
  CHECK(Value(r, Metric::kLatencyP90Ms) == 2.5);
  CHECK(Value(r, Metric::kLatencyP99Ms) == 4.0);
  CHECK(Value(r, Metric::kLatencyP999Ms) == 6.25);
  CHECK(Value(r, Metric::kLatencyMaxMs) == 9.0);
  CHECK(Value(r, Metric::kSentPerS) == 100.0);
  CHECK(Value(r, Metric::kReceivedPerS) == 99.0);
  CHECK(Value(r, Metric::kLost) == 6.0);
  REQUIRE(Value(r, Metric::kLossRatio).has_value());
  CHECK(*Value(r, Metric::kLossRatio) == Approx(0.006));
  CHECK(Value(r, Metric::kWorkerCpuPct) == 12.5);
  CHECK(Value(r, Metric::kBrokerCpuPct) == 3.25);
  CHECK(Value(r, Metric::kBrokerRssPeakMb) == 8.5);        // 8704 kB / 1024
  CHECK(Value(r, Metric::kWireBytesPerMessage) == 100.0);  // (60000 + 40000) / 1000
  CHECK(Value(r, Metric::kCostPerMonthUsd) == 259.2);
  CHECK(Value(r, Metric::kCostPerMillionMessagesUsd) == 1.25);
}

TEST_CASE("MetricValue: latency off", "[metrics]") {
  RunResult r = FullRun();
  r.info.latency = false;
  for (Metric m :
       {Metric::kLatencyP50Ms, Metric::kLatencyP90Ms, Metric::kLatencyP99Ms, Metric::kLatencyP999Ms,
        Metric::kLatencyMaxMs, Metric::kLossRatio, Metric::kLost}) {
    INFO(InfoOf(m).name);
    CHECK(Value(r, m) == std::nullopt);
  }
  // What does not need the payload header is still measured.
  CHECK(Value(r, Metric::kSentPerS) == 100.0);
  CHECK(Value(r, Metric::kWorkerCpuPct) == 12.5);
}

TEST_CASE("MetricValue: no message arrived in the window", "[metrics]") {
  RunResult r = FullRun();
  r.latency_us.summary = LatencySummary{};
  CHECK(Value(r, Metric::kLatencyP50Ms) == std::nullopt);
  CHECK(Value(r, Metric::kLatencyMaxMs) == std::nullopt);
  // Nothing lost because nothing was sent: no ratio either.
  r.counters[Counter::kSent] = 0;
  CHECK(Value(r, Metric::kLossRatio) == std::nullopt);
  CHECK(Value(r, Metric::kLost) == std::nullopt);
  CHECK(Value(r, Metric::kWireBytesPerMessage) == std::nullopt);
}

TEST_CASE("MetricValue: no capture", "[metrics]") {
  RunResult r = FullRun();
  r.capture.status = "disabled";
  CHECK(Value(r, Metric::kWireBytesPerMessage) == std::nullopt);
  r.capture.status = "unavailable";
  CHECK(Value(r, Metric::kWireBytesPerMessage) == std::nullopt);
}

TEST_CASE("MetricValue: no broker process", "[metrics]") {
  RunResult r = FullRun();
  r.processes.broker.reset();
  CHECK(Value(r, Metric::kBrokerCpuPct) == std::nullopt);
  CHECK(Value(r, Metric::kBrokerRssPeakMb) == std::nullopt);
  r.processes.broker = ProcessResult{};  // there, but never sampled
  CHECK(Value(r, Metric::kBrokerCpuPct) == std::nullopt);
  CHECK(Value(r, Metric::kBrokerRssPeakMb) == std::nullopt);
  r.processes.worker = ProcessResult{};
  CHECK(Value(r, Metric::kWorkerCpuPct) == std::nullopt);
}

TEST_CASE("MetricValue: no cost, or a cost not in USD", "[metrics]") {
  RunResult r = FullRun();
  r.cost.reset();
  CHECK(Value(r, Metric::kCostPerMonthUsd) == std::nullopt);
  CHECK(Value(r, Metric::kCostPerMillionMessagesUsd) == std::nullopt);
  r.cost = CostResult{};
  r.cost->currency = "EUR";
  r.cost->per_month = 40;
  CHECK(Value(r, Metric::kCostPerMonthUsd) == std::nullopt);
}

TEST_CASE("MetricValue: a run that failed before its window measured nothing", "[metrics]") {
  RunResult r;
  r.status = RunStatus::kFailed;
  r.error = "cannot connect to the broker at 127.0.0.1:1: Connection refused";
  for (const MetricInfo& m : AllMetrics()) {
    INFO(m.name);
    CHECK(Value(r, m.metric) == std::nullopt);
  }
}

std::vector<ExpectResult> Check(const std::vector<Threshold>& t, const RunResult& r) {
  return CheckThresholds(t, r);
}

TEST_CASE("CheckThresholds: verdicts and reasons, in order", "[metrics]") {
  RunResult r = FullRun();
  std::vector<ExpectResult> e = Check({{"latency_p99_ms", std::nullopt, 50.0},
                                       {"latency_p99_ms", std::nullopt, 4.0},
                                       {"received_per_s", 100.0, std::nullopt},
                                       {"received_per_s", 99.0, std::nullopt},
                                       {"loss_ratio", std::nullopt, 0.0},
                                       {"lost", 0.0, 10.0},
                                       {"lost", 7.0, 10.0},
                                       {"latency_p99", std::nullopt, 50.0}},
                                      r);
  REQUIRE(e.size() == 8);
  CHECK(e[0] == ExpectResult{"latency_p99_ms", std::nullopt, 50.0, 4.0, true, ""});
  // The bounds are inclusive.
  CHECK(e[1] == ExpectResult{"latency_p99_ms", std::nullopt, 4.0, 4.0, true, ""});
  CHECK(e[2] ==
        ExpectResult{"received_per_s", 100.0, std::nullopt, 99.0, false, "below the minimum"});
  CHECK(e[3].pass);
  CHECK_FALSE(e[4].pass);
  CHECK(e[4].reason == "above the maximum");
  CHECK(*e[4].value == Approx(0.006));
  CHECK(e[5] == ExpectResult{"lost", 0.0, 10.0, 6.0, true, ""});
  CHECK(e[6] == ExpectResult{"lost", 7.0, 10.0, 6.0, false, "below the minimum"});
  CHECK(e[7] ==
        ExpectResult{"latency_p99", std::nullopt, 50.0, std::nullopt, false, "unknown metric"});
  CHECK(Check({}, r).empty());
}

TEST_CASE("CheckThresholds: what was not measured fails, and says why", "[metrics]") {
  RunResult r = FullRun();
  r.capture.status = "unavailable";
  r.cost.reset();
  r.processes.broker.reset();
  std::vector<ExpectResult> e = Check({{"wire_bytes_per_message", std::nullopt, 200.0},
                                       {"cost_per_month_usd", std::nullopt, 300.0},
                                       {"broker_cpu_pct", std::nullopt, 50.0},
                                       {"broker_rss_peak_mb", std::nullopt, 50.0}},
                                      r);
  REQUIRE(e.size() == 4);
  CHECK(e[0] == ExpectResult{"wire_bytes_per_message", std::nullopt, 200.0, std::nullopt, false,
                             "not measured: no packet capture (unavailable)"});
  CHECK(e[1].reason == "not measured: the scenario names no cost sheet");
  CHECK(e[2].reason == "not measured: no broker process was sampled (external broker)");
  CHECK(e[3].reason == "not measured: no broker process was sampled (external broker)");
  for (const ExpectResult& x : e) CHECK_FALSE(x.pass);

  r.cost = CostResult{};
  r.cost->currency = "EUR";
  CHECK(Check({{"cost_per_month_usd", std::nullopt, 300.0}}, r)[0].reason ==
        "not measured: the cost is in EUR");

  r.info.latency = false;
  CHECK(Check({{"latency_p99_ms", std::nullopt, 50.0}}, r)[0].reason ==
        "not measured: latency is off");
  r.info.latency = true;
  r.latency_us.summary = LatencySummary{};
  CHECK(Check({{"latency_p99_ms", std::nullopt, 50.0}}, r)[0].reason ==
        "not measured: no message arrived in the window");
}

TEST_CASE("CheckThresholds: a failed run fails every threshold", "[metrics]") {
  // Even with figures that would pass: a failed run's figures are not trusted.
  RunResult r = FullRun();
  r.status = RunStatus::kFailed;
  std::vector<ExpectResult> e =
      Check({{"latency_p99_ms", std::nullopt, 50.0}, {"sent_per_s", 1.0, std::nullopt}}, r);
  REQUIRE(e.size() == 2);
  CHECK(e[0] == ExpectResult{"latency_p99_ms", std::nullopt, 50.0, std::nullopt, false,
                             "not measured: the run failed"});
  CHECK(e[1].reason == "not measured: the run failed");
  CHECK_FALSE(e[1].pass);
}

TEST_CASE("CheckThresholds: an interrupted run fails every threshold", "[metrics]") {
  RunResult r = FullRun();
  r.status = RunStatus::kInterrupted;
  std::vector<ExpectResult> e = Check({{"latency_p99_ms", std::nullopt, 50.0}}, r);
  REQUIRE(e.size() == 1);
  CHECK_FALSE(e[0].pass);
  CHECK(e[0].value == std::nullopt);
  CHECK(e[0].reason == "not measured: the run was interrupted");
}

TEST_CASE("DescribeExpectation: one verdict in words", "[metrics]") {
  using E = ExpectResult;
  const std::optional<double> none;
  CHECK(DescribeExpectation(E{"latency_p99_ms", none, 50.0, 41.0, true, ""}) ==
        "latency_p99_ms 41 <= max 50");
  CHECK(DescribeExpectation(E{"latency_p99_ms", none, 50.0, 61.2, false, "above the maximum"}) ==
        "latency_p99_ms 61.2 > max 50");
  CHECK(DescribeExpectation(E{"received_per_s", 95.0, none, 99.5, true, ""}) ==
        "received_per_s 99.5 >= min 95");
  CHECK(DescribeExpectation(E{"received_per_s", 95.0, none, 12.25, false, "below the minimum"}) ==
        "received_per_s 12.25 < min 95");
  CHECK(DescribeExpectation(E{"lost", 0.0, 10.0, 6.0, true, ""}) == "lost 6 within [0, 10]");
  CHECK(DescribeExpectation(E{"lost", 7.0, 10.0, 6.0, false, "below the minimum"}) ==
        "lost 6 < min 7");
  CHECK(DescribeExpectation(E{"lost", 0.0, 10.0, 12.0, false, "above the maximum"}) ==
        "lost 12 > max 10");
  CHECK(DescribeExpectation(E{"loss_ratio", none, 0.0, 0.006, false, "above the maximum"}) ==
        "loss_ratio 0.006 > max 0");
  CHECK(DescribeExpectation(E{"latency_max_ms", none, 0.000001, 3.577, false,
                              "above the maximum"}) == "latency_max_ms 3.577 > max 0.000001");
  CHECK(DescribeExpectation(E{"cost_per_month_usd", none, 300.0, none, false,
                              "not measured: the scenario names no cost sheet"}) ==
        "cost_per_month_usd (max 300): not measured: the scenario names no cost sheet");
  CHECK(DescribeExpectation(E{"wire_bytes_per_message", 10.0, 200.0, none, false,
                              "not measured: no packet capture (disabled)"}) ==
        "wire_bytes_per_message (min 10, max 200): not measured: no packet capture (disabled)");
  CHECK(DescribeExpectation(E{"latency_p99", none, 50.0, none, false, "unknown metric"}) ==
        "latency_p99 (max 50): unknown metric");
}

TEST_CASE("DescribeExpectation of what CheckThresholds found", "[metrics]") {
  std::vector<ExpectResult> e =
      CheckThresholds({{"latency_p99_ms", std::nullopt, 0.000001}, {"lost", 0.0, 10.0}}, FullRun());
  REQUIRE(e.size() == 2);
  CHECK(DescribeExpectation(e[0]) == "latency_p99_ms 4 > max 0.000001");
  CHECK(DescribeExpectation(e[1]) == "lost 6 within [0, 10]");
}

TEST_CASE("metric names: one per metric, unique, in the order of the enum", "[metrics]") {
  std::vector<std::string> names = MetricNames();
  REQUIRE(names.size() == AllMetrics().size());
  CHECK(AllMetrics().size() == static_cast<size_t>(Metric::kCostPerMillionMessagesUsd) + 1);
  std::set<std::string> unique(names.begin(), names.end());
  CHECK(unique.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const MetricInfo& m = AllMetrics()[i];
    INFO(names[i]);
    CHECK(names[i] == m.name);
    CHECK(static_cast<size_t>(m.metric) == i);
    CHECK(&InfoOf(m.metric) == &m);
    CHECK(MetricNamed(m.name) == m.metric);
    CHECK_FALSE(m.label.empty());
  }
  CHECK(MetricNamed("latency_p99") == std::nullopt);
  CHECK(MetricNamed("") == std::nullopt);
  CHECK(InfoOf(Metric::kLatencyP99Ms).name == "latency_p99_ms");
  CHECK(InfoOf(Metric::kReceivedPerS).lower_is_better == false);
  CHECK(InfoOf(Metric::kLossRatio).lower_is_better == true);
}

}  // namespace
}  // namespace edgebench

// Metrics: the named figures of a run that `expect:` thresholds check and `compare`
// aggregates, each read off a RunResult in one place.
//
// Contract: MetricValue() is a pure function of the RunResult. It returns nullopt when the
// run did not measure the figure (latency off, no capture, no broker process, no cost
// sheet, a run that failed before its window); such a value never passes a threshold.
// Names are stable: they appear in scenarios (expect:), summary.json and compare's output.
#ifndef EDGEBENCH_RESULTS_METRICS_H_
#define EDGEBENCH_RESULTS_METRICS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/results/run_result.h"

namespace edgebench {

enum class Metric {
  kLatencyP50Ms,
  kLatencyP90Ms,
  kLatencyP99Ms,
  kLatencyP999Ms,
  kLatencyMaxMs,
  kSentPerS,
  kReceivedPerS,
  kLossRatio,  // lost / sent (0..1)
  kLost,
  kWorkerCpuPct,
  kBrokerCpuPct,
  kBrokerRssPeakMb,
  kWireBytesPerMessage,  // IP bytes both directions / messages sent (capture only)
  kCostPerMonthUsd,
  kCostPerMillionMessagesUsd,
};

struct MetricInfo {
  Metric metric;
  std::string_view name;   // "latency_p99_ms"
  std::string_view label;  // "latency p99" (for tables and sentences)
  std::string_view unit;   // "ms", "msg/s", "", "%", "MB", "B", "USD"
  bool lower_is_better;    // for "better"/"worse" in compare's sentences
};

// Every metric, in the order of the enum.
std::span<const MetricInfo> AllMetrics();
const MetricInfo& InfoOf(Metric metric);
// The metric named `name`, or nullopt.
std::optional<Metric> MetricNamed(std::string_view name);
// Every metric name, for validation messages and "did you mean".
std::vector<std::string> MetricNames();

std::optional<double> MetricValue(const RunResult& result, Metric metric);

// One threshold as the scenario writes it: `latency_p99_ms: {max: 50}`.
struct Threshold {
  std::string metric;
  std::optional<double> min;
  std::optional<double> max;
};

// Checks each threshold on the run (in order). A metric the run did not measure fails with
// reason "not measured: ..."; a failed or interrupted run fails every threshold.
std::vector<ExpectResult> CheckThresholds(const std::vector<Threshold>& thresholds,
                                          const RunResult& result);

// "latency_p99_ms 61.2 > max 50" / "latency_p99_ms 41.0 <= max 50": one verdict in words.
std::string DescribeExpectation(const ExpectResult& e);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_METRICS_H_

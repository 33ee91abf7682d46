// The named figures of a run (contract in metrics.h) and the expect: thresholds on them.
#include "edgebench/results/metrics.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace edgebench {
namespace {

constexpr std::array<MetricInfo, 15> kMetrics = {{
    {Metric::kLatencyP50Ms, "latency_p50_ms", "latency p50", "ms", true},
    {Metric::kLatencyP90Ms, "latency_p90_ms", "latency p90", "ms", true},
    {Metric::kLatencyP99Ms, "latency_p99_ms", "latency p99", "ms", true},
    {Metric::kLatencyP999Ms, "latency_p999_ms", "latency p99.9", "ms", true},
    {Metric::kLatencyMaxMs, "latency_max_ms", "latency max", "ms", true},
    {Metric::kSentPerS, "sent_per_s", "sent", "msg/s", false},
    {Metric::kReceivedPerS, "received_per_s", "delivered", "msg/s", false},
    {Metric::kLossRatio, "loss_ratio", "loss", "", true},
    {Metric::kLost, "lost", "lost", "messages", true},
    {Metric::kWorkerCpuPct, "worker_cpu_pct", "worker CPU", "%", true},
    {Metric::kBrokerCpuPct, "broker_cpu_pct", "broker CPU", "%", true},
    {Metric::kBrokerRssPeakMb, "broker_rss_peak_mb", "broker peak RSS", "MB", true},
    {Metric::kWireBytesPerMessage, "wire_bytes_per_message", "wire bytes per message", "B", true},
    {Metric::kCostPerMonthUsd, "cost_per_month_usd", "cost per month", "USD", true},
    {Metric::kCostPerMillionMessagesUsd, "cost_per_million_messages_usd",
     "cost per million messages", "USD", true},
}};

std::optional<double> Ms(const Distribution& d, int64_t LatencySummary::*field) {
  if (d.summary.count == 0) return std::nullopt;
  return static_cast<double>(d.summary.*field) / 1000.0;
}

std::optional<double> LatencyMetric(const RunResult& r, Metric m) {
  if (!r.info.latency) return std::nullopt;
  switch (m) {
    case Metric::kLatencyP50Ms:
      return Ms(r.latency_us, &LatencySummary::p50);
    case Metric::kLatencyP90Ms:
      return Ms(r.latency_us, &LatencySummary::p90);
    case Metric::kLatencyP99Ms:
      return Ms(r.latency_us, &LatencySummary::p99);
    case Metric::kLatencyP999Ms:
      return Ms(r.latency_us, &LatencySummary::p999);
    default:
      return Ms(r.latency_us, &LatencySummary::max);
  }
}

std::optional<double> CpuPct(const std::optional<ProcessResult>& p) {
  if (!p || p->samples == 0) return std::nullopt;
  return p->cpu_pct_mean;
}

std::optional<double> WireBytes(const RunResult& r) {
  uint64_t sent = r.counters[Counter::kSent];
  if (r.capture.status != "ok" || sent == 0) return std::nullopt;
  uint64_t bytes = r.capture.to_broker.ip_bytes + r.capture.from_broker.ip_bytes;
  return static_cast<double>(bytes) / static_cast<double>(sent);
}

std::optional<double> CostMetric(const RunResult& r, Metric m) {
  if (!r.cost || r.cost->currency != "USD") return std::nullopt;
  return m == Metric::kCostPerMonthUsd ? r.cost->per_month : r.cost->per_million_messages;
}

// Six significant digits, never an exponent: "0.000001", "61.2", "1234570".
std::string Number(double v) {
  char buf[400];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  double rounded = std::strtod(buf, nullptr);
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), rounded, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

std::span<const MetricInfo> AllMetrics() { return kMetrics; }

const MetricInfo& InfoOf(Metric metric) { return kMetrics[static_cast<size_t>(metric)]; }

std::optional<Metric> MetricNamed(std::string_view name) {
  for (const MetricInfo& m : kMetrics) {
    if (m.name == name) return m.metric;
  }
  return std::nullopt;
}

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const MetricInfo& m : kMetrics) names.emplace_back(m.name);
  return names;
}

std::optional<double> MetricValue(const RunResult& r, Metric metric) {
  switch (metric) {
    case Metric::kLatencyP50Ms:
    case Metric::kLatencyP90Ms:
    case Metric::kLatencyP99Ms:
    case Metric::kLatencyP999Ms:
    case Metric::kLatencyMaxMs:
      return LatencyMetric(r, metric);
    case Metric::kSentPerS:
      return r.measured_s > 0 ? std::optional<double>(r.sent_per_s) : std::nullopt;
    case Metric::kReceivedPerS:
      return r.measured_s > 0 ? std::optional<double>(r.received_per_s) : std::nullopt;
    case Metric::kLossRatio: {
      uint64_t sent = r.counters[Counter::kSent];
      if (!r.info.latency || sent == 0) return std::nullopt;
      return static_cast<double>(r.lost()) / static_cast<double>(sent);
    }
    case Metric::kLost:
      if (!r.info.latency || r.counters[Counter::kSent] == 0) return std::nullopt;
      return static_cast<double>(r.lost());
    case Metric::kWorkerCpuPct:
      return CpuPct(r.processes.worker);
    case Metric::kBrokerCpuPct:
      return CpuPct(r.processes.broker);
    case Metric::kBrokerRssPeakMb:
      if (!r.processes.broker || r.processes.broker->samples == 0) return std::nullopt;
      return static_cast<double>(r.processes.broker->rss_peak_kb) / 1024.0;
    case Metric::kWireBytesPerMessage:
      return WireBytes(r);
    case Metric::kCostPerMonthUsd:
    case Metric::kCostPerMillionMessagesUsd:
      return CostMetric(r, metric);
  }
  return std::nullopt;
}

namespace {

// Why `metric` has no value in `r`, for the verdict.
std::string NotMeasured(const RunResult& r, Metric metric) {
  if (r.status != RunStatus::kOk)
    return std::string("not measured: the run ") +
           (r.status == RunStatus::kFailed ? "failed" : "was interrupted");
  switch (metric) {
    case Metric::kWireBytesPerMessage:
      return "not measured: no packet capture (" + r.capture.status + ")";
    case Metric::kCostPerMonthUsd:
    case Metric::kCostPerMillionMessagesUsd:
      return r.cost ? "not measured: the cost is in " + r.cost->currency
                    : "not measured: the scenario names no cost sheet";
    case Metric::kBrokerCpuPct:
    case Metric::kBrokerRssPeakMb:
      return "not measured: no broker process was sampled (external broker)";
    default:
      return r.info.latency ? "not measured: no message arrived in the window"
                            : "not measured: latency is off";
  }
}

ExpectResult Check(const Threshold& t, const RunResult& r) {
  ExpectResult e{t.metric, t.min, t.max, std::nullopt, false, ""};
  std::optional<Metric> metric = MetricNamed(t.metric);
  if (!metric) {
    e.reason = "unknown metric";
    return e;
  }
  if (r.status == RunStatus::kOk) e.value = MetricValue(r, *metric);
  if (!e.value) {
    e.reason = NotMeasured(r, *metric);
  } else if (t.min && *e.value < *t.min) {
    e.reason = "below the minimum";
  } else if (t.max && *e.value > *t.max) {
    e.reason = "above the maximum";
  } else {
    e.pass = true;
  }
  return e;
}

}  // namespace

std::vector<ExpectResult> CheckThresholds(const std::vector<Threshold>& thresholds,
                                          const RunResult& result) {
  std::vector<ExpectResult> out;
  for (const Threshold& t : thresholds) out.push_back(Check(t, result));
  return out;
}

std::string DescribeExpectation(const ExpectResult& e) {
  std::string bounds;
  if (e.min) bounds += "min " + Number(*e.min);
  if (e.max) bounds += std::string(bounds.empty() ? "" : ", ") + "max " + Number(*e.max);
  if (!e.value) return e.metric + " (" + bounds + "): " + e.reason;
  std::string op;
  if (e.pass) {
    op = e.max ? " <= max " + Number(*e.max) : " >= min " + Number(*e.min);
    if (e.min && e.max) op = " within [" + Number(*e.min) + ", " + Number(*e.max) + "]";
  } else {
    op = e.reason == "below the minimum" ? " < min " + Number(*e.min) : " > max " + Number(*e.max);
  }
  return e.metric + " " + Number(*e.value) + op;
}

}  // namespace edgebench

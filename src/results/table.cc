// The table printed at the end of a run, from its RunResult.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "edgebench/results/metrics.h"
#include "edgebench/results/reporters.h"

#include "results/internal.h"

namespace edgebench {
namespace {

std::string Ms(int64_t us) { return fmt::format("{:.3f}", static_cast<double>(us) / 1000.0); }

std::string Mbit(double mbit) {
  return mbit > 0 ? fmt::format("{:g} Mbit/s", mbit) : std::string("unlimited");
}

// "p50 0.578  p90 0.698  max 0.949  (n=60; too few for p99, p99.9)": a percentile whose
// rank needs more samples than there are would only repeat the maximum, so it is left out.
std::string Percentiles(const LatencySummary& s, bool with_p90_p999) {
  struct P {
    const char* name;
    int64_t value;
    uint64_t needs;  // samples for the percentile to differ from the maximum
  };
  std::vector<P> all = {{"p50", s.p50, 2}};
  if (with_p90_p999) all.push_back({"p90", s.p90, 10});
  all.push_back({"p99", s.p99, 100});
  if (with_p90_p999) all.push_back({"p99.9", s.p999, 1000});
  std::string shown, missing;
  for (const P& p : all) {
    if (s.count >= p.needs) {
      shown += fmt::format("{} {}  ", p.name, Ms(p.value));
    } else {
      missing += (missing.empty() ? "" : ", ") + std::string(p.name);
    }
  }
  std::string n = fmt::format("n={}", s.count);
  if (!missing.empty()) n += "; too few for " + missing;
  return fmt::format("{}max {}  ({})", shown, Ms(s.max), n);
}

std::string MessagesLine(const RunResult& r) {
  const Counters& c = r.counters;
  auto opt = [&](Counter id) { return r.info.latency ? std::to_string(c[id]) : std::string("-"); };
  return fmt::format(
      "  messages    whole run: scheduled {}  sent {}  {} {}  received {}  lost {}  in flight {}  "
      "duplicated {}  reordered {}\n",
      c[Counter::kScheduled], c[Counter::kSent], r.info.qos == 0 ? "written" : "acked",
      c[Counter::kAcked], c[Counter::kReceived], r.lost(), c[Counter::kInFlightAtEnd],
      opt(Counter::kDuplicated), opt(Counter::kReordered));
}

std::string NetworkLines(const RunResult& r) {
  const CaptureResult& c = r.capture;
  if (c.status != "ok") {
    return fmt::format("  network     capture {}{}\n", c.status, c.reason ? ": " + *c.reason : "");
  }
  uint64_t sent = r.counters[Counter::kSent];
  double per_message = sent ? static_cast<double>(c.to_broker.ip_bytes + c.from_broker.ip_bytes) /
                                  static_cast<double>(sent)
                            : 0.0;
  std::string out = fmt::format(
      "  network     {} packets / {} bytes to the broker, {} / {} from it, {:.1f} wire bytes "
      "per message, {} retransmissions, {} dropped\n",
      c.to_broker.packets, c.to_broker.ip_bytes, c.from_broker.packets, c.from_broker.ip_bytes,
      per_message, c.retransmissions, c.dropped);
  std::string decode = c.broker_port > 0 ? fmt::format(" -d tcp.port=={},mqtt", c.broker_port) : "";
  out +=
      fmt::format("  capture     {}{}: open with tshark -r {}{}\n", c.pcap_file,
                  c.snaplen > 0 ? fmt::format(" (up to {} bytes of each packet)", c.snaplen) : "",
                  c.pcap_file, decode);
  return out;
}

// "  link        cloud-near (rtt 15 ms, ...) over proxy; measured RTT median 15.316 ms (min
// 14.547, 10 probes); collector at the broker"
std::string LinkLine(const LinkResult& l) {
  std::string what = "none (the devices reach the broker directly)";
  if (l.emulated) {
    what = fmt::format("{} (rtt {:g} ms, jitter {:g} ms, up {} / down {}) over {}",
                       l.profile.value_or("inline"), l.rtt_ms, l.jitter_ms, Mbit(l.uplink_mbit),
                       Mbit(l.downlink_mbit), l.backend.value_or("-"));
  }
  std::string measured =
      l.measured_rtt
          ? fmt::format("measured RTT median {:.3f} ms (min {:.3f}, {} probes)",
                        l.measured_rtt->median_ms, l.measured_rtt->min_ms, l.measured_rtt->count)
          : "RTT not measured: " + l.measured_rtt_error.value_or("-");
  return fmt::format("  link        {}; {}; collector at the {}\n", what, measured, l.subscribe_at);
}

std::string ProcessLine(const char* role, const std::optional<ProcessResult>& p,
                        const CaptureResult& capture) {
  if (!p) return fmt::format("  {:<14}not sampled\n", role);
  std::string line = fmt::format("{:.1f}% CPU, {:.2f} CPU s, peak RSS {:.1f} MB", p->cpu_pct_mean,
                                 p->cpu_s, static_cast<double>(p->rss_peak_kb) / 1024.0);
  if (std::string(role) == "orchestrator" && capture.status == "ok" && capture.buffer_bytes > 0) {
    // The capture ring is mapped up front but counts in RSS only as the kernel fills it.
    line += fmt::format(" (up to {:.1f} MB of it the capture buffer)",
                        static_cast<double>(capture.buffer_bytes) / (1024.0 * 1024.0));
  }
  return fmt::format("  {:<14}{}\n", role, line);
}

std::string CostSheets(const CostResult& cost) {
  std::string names;
  for (const CostSheetRef& sheet : cost.sheets) {
    names += (names.empty() ? "" : " + ") + sheet.name;
  }
  return names;
}

}  // namespace

std::string SummaryTable(const RunResult& r) {
  const RunInfo& i = r.info;
  std::string out = fmt::format("\n{} — status {}, QoS {}, {} devices, window {:g} s\n", i.scenario,
                                RunStatusName(r.status), i.qos, i.devices, r.measured_s);
  out += MessagesLine(r);
  out += fmt::format("  throughput  window: sent {:.1f} msg/s  received {:.1f} msg/s\n",
                     r.sent_per_s, r.received_per_s);
  if (i.latency) {
    out += "  latency ms  window, from the intended send time: " +
           Percentiles(r.latency_us.summary, true) + "\n";
  } else {
    out += "  latency     not measured (latency: false)\n";
  }
  out += "  gen lag ms  " + Percentiles(r.lag_us.summary, false) + "\n";
  out += NetworkLines(r);
  out += LinkLine(r.link);
  const Processes& p = r.processes;
  out += ProcessLine("worker", p.worker, r.capture);
  out += ProcessLine("broker", p.broker, r.capture);
  out += ProcessLine("orchestrator", p.orchestrator, r.capture);
  if (p.link) out += ProcessLine("link", p.link, r.capture);
  if (r.broker_resources) out += results_internal::BrokerResourcesLines(*r.broker_resources);
  if (r.cost) {
    out += fmt::format("  cost        {:.2f} {}/month, {:.4f} {} per million messages ({})\n",
                       r.cost->per_month, r.cost->currency, r.cost->per_million_messages,
                       r.cost->currency, CostSheets(*r.cost));
  }
  for (const ExpectResult& e : r.expectations) {
    out += fmt::format("  expect      {} {}\n", e.pass ? "pass" : "FAIL", DescribeExpectation(e));
  }
  for (const std::string& note : r.notes) out += "  note        " + note + "\n";
  return out;
}

}  // namespace edgebench

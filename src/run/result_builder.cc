// One run's raw reports -> its RunResult.
#include "edgebench/run/result_builder.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "edgebench/results/reporters.h"

namespace edgebench {
namespace {

// A generator lag p99 above this says the worker could not keep up (10 ms: far above the
// lag of a worker that keeps up, well under a second).
constexpr int64_t kBehindLagUs = 10'000;

RunInfo InfoOf(const Scenario& s, const RunData& run) {
  RunInfo i;
  i.scenario = s.name;
  i.qos = s.publish.qos;
  i.devices = s.devices.count;
  i.gateways = s.devices.gateways;
  i.warmup_s = s.warmup_s;
  i.duration_s = s.duration_s;
  i.drain_s = s.drain_s;
  i.latency = s.latency;
  i.tls = s.broker.tls.enabled;
  i.t0_unix_ms = run.t0_unix_ms;
  i.rate_per_device = s.publish.rate_max ? 0 : s.publish.rate;
  i.payload_bytes = s.publish.payload.size;
  i.topics_per_device = static_cast<int>(s.topics.list.size());
  return i;
}

// Window messages received per second, over the window or until its last message arrived,
// whichever is longer: a burst sent in 0.1 s and delivered over 0.5 s was delivered at the
// slower rate.
double ReceivedPerS(const RunInfo& info, const RunData& run) {
  uint64_t window_received = run.collector.counters[Counter::kWindowReceived];
  if (!info.latency) {
    // Without a header there is no intended time: count by receive second instead.
    window_received = 0;
    for (size_t i = 0; i < run.collector.per_second.size(); ++i) {
      if (std::string(PhaseOf(info, i)) == "measure") {
        window_received += run.collector.per_second[i].received;
      }
    }
  }
  double span = std::max(run.window_s, run.receive_span_s);
  return span > 0 ? static_cast<double>(window_received) / span : 0.0;
}

std::vector<TimelineSecond> TimelineOf(const RunData& run) {
  const auto& sent = run.worker.sent_per_second;
  const auto& recv = run.collector.per_second;
  const auto& wire = run.capture.per_second;
  bool captured = run.capture_status == "ok";
  std::vector<TimelineSecond> out(std::max(sent.size(), recv.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    TimelineSecond& t = out[i];
    if (i < sent.size()) t.sent = sent[i];
    if (i < recv.size()) {
      t.received = recv[i].received;
      t.p50_us = recv[i].p50_us;
      t.p99_us = recv[i].p99_us;
    }
    if (captured) {
      WireSecond w = i < wire.size() ? wire[i] : WireSecond{};
      t.bytes_to_broker = w.bytes_to_broker;
      t.bytes_from_broker = w.bytes_from_broker;
    }
  }
  return out;
}

std::vector<ProcessSample> SamplesOf(const RunData& run) {
  std::vector<ProcessSample> out;
  out.reserve(run.samples.size());
  for (const ProcSample& p : run.samples) {
    out.push_back(ProcessSampleOf(p, run.t0_unix_ms, run.sampler_offset_ms));
  }
  return out;
}

ProcessResult ProcessOf(const ProcessSummary& p) {
  ProcessResult r;
  r.pid = p.pid;
  r.samples = p.samples;
  r.cpu_s = p.cpu_s;
  r.cpu_pct_mean = p.cpu_pct_mean;
  r.rss_peak_kb = p.rss_peak_kb;
  return r;
}

Processes ProcessesOf(const RunData& run, const SampleDigest& digest) {
  Processes out;
  for (const ProcessSummary& p : digest.Summaries()) {
    if (p.role.rfind("worker.", 0) == 0) out.workers.push_back(ProcessOf(p));
    if (p.role == "worker") out.worker = ProcessOf(p);
    if (p.role == "broker") out.broker = ProcessOf(p);
    if (p.role == "orchestrator") out.orchestrator = ProcessOf(p);
    if (p.role == "link") out.link = ProcessOf(p);
  }
  if (!out.workers.empty()) {
    // Several workers: `worker` is their sum (CPU % of one core, peak RSS added up).
    ProcessResult sum;
    sum.workers = out.workers.size();
    for (const ProcessResult& w : out.workers) {
      sum.samples += w.samples;
      sum.cpu_s += w.cpu_s;
      sum.cpu_pct_mean += w.cpu_pct_mean;
      sum.rss_peak_kb += w.rss_peak_kb;
    }
    out.worker = sum;
  }
  // The worker's own getrusage figure covers its whole life (connects included) and, unlike
  // the 100 ms samples, also runs shorter than one interval.
  if (out.worker) out.worker->cpu_s_total = run.worker.cpu_s;
  if (out.orchestrator && run.orchestrator_cpu_s >= 0) {
    out.orchestrator->cpu_s_total = run.orchestrator_cpu_s;
  }
  return out;
}

DirectionTraffic TrafficOf(const DirectionStats& d) {
  DirectionTraffic t;
  t.packets = d.packets;
  t.ip_bytes = d.ip_bytes;
  t.tcp_payload_bytes = d.tcp_payload_bytes;
  for (size_t type = 1; type < d.mqtt.size(); ++type) {
    if (d.mqtt[type] > 0) t.mqtt[kMqttPacketNames[type]] = d.mqtt[type];
  }
  return t;
}

CaptureResult CaptureOf(const Scenario& s, const RunData& run) {
  CaptureResult c;
  c.status = run.capture_status;
  if (!run.capture_reason.empty()) c.reason = run.capture_reason;
  if (c.status != "ok") return c;
  const CaptureReport& r = run.capture;
  c.interface = r.interface;
  c.filter = r.filter;
  c.broker_port = run.capture_port;
  c.to_broker = TrafficOf(r.totals.to_broker);
  c.from_broker = TrafficOf(r.totals.from_broker);
  c.retransmissions = r.totals.to_broker.retransmissions + r.totals.from_broker.retransmissions;
  c.dropped = r.kernel_dropped + r.interface_dropped;
  c.tls = s.broker.tls.enabled;
  if (!c.tls)
    c.mqtt_malformed = r.totals.to_broker.mqtt_malformed + r.totals.from_broker.mqtt_malformed;
  c.unparsed_streams = r.totals.unparsed_streams;
  c.packets_seen = r.packets_seen;
  c.pcap_file = "capture.pcap";
  c.pcap_bytes = r.pcap_bytes;
  c.buffer_bytes = r.buffer_bytes;
  c.snaplen = r.snaplen;
  return c;
}

// The limit and the counters the run recorded, the broker's CPU against the quota, and a
// note when the quota, not the network, set the pace.
BrokerResourcesResult ResourcesOf(const RunData& run, const SampleDigest& digest,
                                  const Processes& processes, std::vector<std::string>* notes) {
  BrokerResourcesResult r = *run.broker_resources;
  if (!r.applied) return r;
  if (processes.broker) r.cpu_pct_mean = processes.broker->cpu_pct_mean;
  r.cpu_pct_peak_1s = std::round(digest.BusiestSecondCpuPct("broker") * 10) / 10.0;
  if (r.cpus > 0 && r.throttled_ratio() >= 0.1) {
    notes->push_back(fmt::format(
        "the broker used up its CPU quota ({:g} CPU) in {:.0f}% of the 100 ms periods it ran "
        "in and was stopped for {:.2f} s: the node's CPU budget limited this run",
        r.cpus, 100 * r.throttled_ratio(), r.throttled_s));
  }
  return r;
}

}  // namespace

// Rounded as samples.csv writes them, so a RunResult and its files read back are equal.
ProcessSample ProcessSampleOf(const ProcSample& p, int64_t t0_unix_ms, int64_t sampler_offset_ms) {
  ProcessSample q;
  q.t_ms = p.t_ms;
  if (t0_unix_ms > 0) q.t_run_ms = p.t_ms - sampler_offset_ms;
  q.role = p.role;
  q.pid = p.pid;
  q.cpu_s = std::round(p.cpu_s * 1000) / 1000.0;
  q.cpu_pct = std::round(p.cpu_pct * 10) / 10.0;
  q.rss_kb = p.rss_kb;
  q.rss_peak_kb = p.rss_peak_kb;
  q.threads = p.threads;
  q.voluntary_ctxt_switches = p.voluntary_ctxt_switches;
  q.nonvoluntary_ctxt_switches = p.nonvoluntary_ctxt_switches;
  return q;
}

namespace {

// When the generator could not keep to the schedule, a note that says so: its latency then
// includes the lag (it is measured from the intended send time), and the fleet was too big
// for this machine, whatever the broker did.
std::optional<std::string> BehindScheduleNote(const Scenario& s, const RunResult& r) {
  if (s.publish.rate_max) return std::nullopt;
  const uint64_t scheduled = r.counters[Counter::kScheduled];
  const uint64_t not_sent =
      r.counters[Counter::kSkippedDisconnected] + r.counters[Counter::kPublishErrors];
  const uint64_t behind = r.unsent() > not_sent ? r.unsent() - not_sent : 0;
  // An interrupted or failed run leaves the rest of its plan unsent by the stop, not by
  // falling behind: then only the lag tells.
  const bool unsent =
      r.status == RunStatus::kOk && scheduled > 0 && behind * 100 > scheduled;  // over 1 %
  const bool lagging = r.lag_us.summary.count > 0 && r.lag_us.summary.p99 > kBehindLagUs;
  if (!unsent && !lagging) return std::nullopt;
  const double p99_ms = static_cast<double>(r.lag_us.summary.p99) / 1000.0;
  return fmt::format(
      "the generator fell behind its schedule (generator lag p99 {} ms; {} of {} scheduled "
      "messages not sent): this machine could not carry the load, and the latency includes that "
      "lag; use more workers, fewer devices or a bigger machine",
      p99_ms < 10 ? fmt::format("{:.3g}", p99_ms) : fmt::format("{:.0f}", p99_ms), behind,
      scheduled);
}

// A worker died: its counts are its last progress report's, up to a second old. What the
// collector received was sent, and what was sent was scheduled.
void MakePartialCountsConsistent(RunResult* r) {
  Counters& c = r->counters;
  r->partial = true;
  const uint64_t received = c[Counter::kReceived];
  const uint64_t dup = c[Counter::kDuplicated];
  const uint64_t arrived = received > dup ? received - dup : 0;
  if (c[Counter::kSent] < arrived) c.Set(Counter::kSent, arrived);
  if (c[Counter::kScheduled] < c[Counter::kSent]) c.Set(Counter::kScheduled, c[Counter::kSent]);
  r->notes.push_back(
      "partial counts: a worker ended without its final report, so sent and scheduled are "
      "what the orchestrator saw (its last progress report, and at least what was received)");
}

}  // namespace

RunResult BuildRunResult(const Scenario& s, const RunData& run) {
  RunResult r;
  r.status = run.status;
  if (!run.error.empty()) r.error = run.error;
  r.info = InfoOf(s, run);
  r.measured_s = run.window_s;
  r.counters = run.worker.counters;
  r.counters.Merge(run.collector.counters);
  r.counters.Set(Counter::kInFlightAtEnd, run.in_flight_at_end);
  uint64_t window_sent = run.worker.counters[Counter::kWindowSent];
  r.sent_per_s = run.window_s > 0 ? static_cast<double>(window_sent) / run.window_s : 0.0;
  r.received_per_s = ReceivedPerS(r.info, run);
  r.latency_us = Distribution::Of(run.collector.latency_us);
  r.latency_actual_us = Distribution::Of(run.collector.latency_actual_us);
  r.lag_us = Distribution::Of(run.worker.lag_us);
  r.timeline = TimelineOf(run);
  r.samples = SamplesOf(run);
  const SampleDigest digest =
      run.sample_digest ? *run.sample_digest : SampleDigest::Of(run.samples);
  r.processes = ProcessesOf(run, digest);
  r.capture = CaptureOf(s, run);
  r.link = run.link;
  r.notes = run.notes;
  r.protocol_mismatches = run.protocol_mismatches;
  if (run.worker_partial) MakePartialCountsConsistent(&r);
  if (std::optional<std::string> note = BehindScheduleNote(s, r)) r.notes.push_back(*note);
  if (run.broker_resources) r.broker_resources = ResourcesOf(run, digest, r.processes, &r.notes);
  return r;
}

nlohmann::json BuildSummary(const Scenario& scenario, const RunData& run) {
  return SummaryToJson(BuildRunResult(scenario, run));
}

}  // namespace edgebench

// summary.json, timeline.csv, samples.csv and the terminal table.
#include "edgebench/run/summary.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace edgebench {

using nlohmann::json;

namespace {

json LatencyJson(const LatencyHistogram& h) {
  LatencySummary s = h.Summarize();
  return {{"count", s.count}, {"min", s.min},   {"mean", s.mean}, {"p50", s.p50},
          {"p90", s.p90},     {"p99", s.p99},   {"p999", s.p999}, {"max", s.max}};
}

json ProcessesJson(const std::vector<ProcSample>& samples) {
  json out = {{"worker", nullptr}, {"broker", nullptr}, {"orchestrator", nullptr}};
  json workers = json::array();
  for (const ProcessSummary& p : SummarizeSamples(samples)) {
    json one = {{"pid", p.pid},
                {"samples", p.samples},
                {"cpu_s", p.cpu_s},
                {"cpu_pct_mean", p.cpu_pct_mean},
                {"rss_peak_kb", p.rss_peak_kb}};
    if (p.role.rfind("worker.", 0) == 0) {
      workers.push_back(one);
    } else {
      out[p.role] = one;
    }
  }
  if (!workers.empty()) {
    // Several workers: `worker` is their sum (CPU % of one core, peak RSS added up).
    json sum = {{"pid", nullptr}, {"samples", 0}, {"cpu_s", 0.0}, {"cpu_pct_mean", 0.0},
                {"rss_peak_kb", 0}, {"workers", workers.size()}};
    for (const json& w : workers) {
      sum["samples"] = sum["samples"].get<uint64_t>() + w["samples"].get<uint64_t>();
      sum["cpu_s"] = sum["cpu_s"].get<double>() + w["cpu_s"].get<double>();
      sum["cpu_pct_mean"] = sum["cpu_pct_mean"].get<double>() + w["cpu_pct_mean"].get<double>();
      sum["rss_peak_kb"] = sum["rss_peak_kb"].get<int64_t>() + w["rss_peak_kb"].get<int64_t>();
    }
    out["worker"] = sum;
    out["workers"] = workers;
  }
  return out;
}

// The worker's own getrusage figure covers its whole life (connects included) and, unlike
// the 100 ms samples, also runs shorter than one interval.
void AddWorkerTotals(const WorkerReport& w, json* processes) {
  if ((*processes)["worker"].is_null()) return;
  (*processes)["worker"]["cpu_s_total"] = w.cpu_s;
}

json MqttCounts(const DirectionStats& d) {
  json out = json::object();
  for (size_t t = 1; t < d.mqtt.size(); ++t) {
    if (d.mqtt[t] > 0) out[kMqttPacketNames[t]] = d.mqtt[t];
  }
  return out;
}

json NetworkJson(const Scenario& s, const RunData& run) {
  if (run.capture_status != "ok") {
    return {{"capture", run.capture_status},
            {"reason", run.capture_reason.empty() ? json(nullptr) : json(run.capture_reason)}};
  }
  const CaptureReport& c = run.capture;
  const DirectionStats& to = c.totals.to_broker;
  const DirectionStats& from = c.totals.from_broker;
  uint64_t sent = run.worker.counters[Counter::kSent];
  return {{"capture", "ok"},
          {"reason", nullptr},
          {"interface", c.interface},
          {"filter", c.filter},
          {"packets_to_broker", to.packets},
          {"packets_from_broker", from.packets},
          {"bytes_to_broker", to.ip_bytes},
          {"bytes_from_broker", from.ip_bytes},
          {"tcp_payload_bytes_to_broker", to.tcp_payload_bytes},
          {"tcp_payload_bytes_from_broker", from.tcp_payload_bytes},
          {"retransmissions", to.retransmissions + from.retransmissions},
          {"dropped", c.kernel_dropped + c.interface_dropped},
          {"wire_bytes_per_message",
           sent ? json(static_cast<double>(to.ip_bytes + from.ip_bytes) / static_cast<double>(sent))
                : json(nullptr)},
          // Over TLS the MQTT bytes are encrypted: only the packet and byte counts apply.
          {"mqtt_packets", s.broker.tls.enabled ? json(nullptr)
                                                : json{{"to_broker", MqttCounts(to)},
                                                       {"from_broker", MqttCounts(from)}}},
          {"mqtt_malformed", s.broker.tls.enabled ? json(nullptr)
                                                  : json(to.mqtt_malformed + from.mqtt_malformed)},
          {"tls", s.broker.tls.enabled},
          {"unparsed_streams", c.totals.unparsed_streams},
          {"packets_seen", c.packets_seen},
          {"pcap_file", "capture.pcap"},
          {"pcap_bytes", c.pcap_bytes}};
}

const char* PhaseOf(const Scenario& s, size_t second) {
  double t = static_cast<double>(second);
  if (t < s.warmup_s) return "warmup";
  if (t < s.warmup_s + s.duration_s) return "measure";
  return "drain";
}

}  // namespace

json BuildSummary(const Scenario& s, const RunData& run) {
  const Counters& w = run.worker.counters;
  const Counters& c = run.collector.counters;
  const uint64_t sent = w[Counter::kSent];
  const uint64_t received = c[Counter::kReceived];
  const uint64_t scheduled = w[Counter::kScheduled];
  json messages = {{"scheduled", scheduled},
                   {"sent", sent},
                   {"acked", w[Counter::kAcked]},
                   {"received", received},
                   {"lost", sent > received ? sent - received : 0},
                   {"duplicated", s.latency ? json(c[Counter::kDuplicated]) : json(nullptr)},
                   {"reordered", s.latency ? json(c[Counter::kReordered]) : json(nullptr)},
                   {"unsent", scheduled > sent ? scheduled - sent : 0},
                   {"publish_errors", w[Counter::kPublishErrors]},
                   {"skipped_disconnected", w[Counter::kSkippedDisconnected]},
                   {"unacked", w[Counter::kUnacked]},
                   {"foreign", c[Counter::kForeign]}};
  double window = run.window_s;
  auto per_s = [window](uint64_t n) { return window > 0 ? static_cast<double>(n) / window : 0.0; };
  uint64_t window_received = c[Counter::kWindowReceived];
  if (!s.latency) {
    // Without a header there is no intended time: count by receive second instead.
    window_received = 0;
    for (size_t i = 0; i < run.collector.per_second.size(); ++i) {
      if (std::string(PhaseOf(s, i)) == "measure") window_received += run.collector.per_second[i].received;
    }
  }
  json summary = {
      {"status", run.status},
      {"error", run.error.empty() ? json(nullptr) : json(run.error)},
      {"scenario", s.name},
      {"qos", s.publish.qos},
      {"devices", s.devices.count},
      {"window", {{"warmup_s", s.warmup_s}, {"duration_s", s.duration_s},
                  {"drain_s", s.drain_s}, {"measured_s", window}}},
      {"messages", messages},
      {"throughput",
       {{"sent_per_s", per_s(w[Counter::kWindowSent])},
        // Over the window or until its last message arrived, whichever is longer: a burst
        // sent in 0.1 s and delivered over 0.5 s was delivered at the slower rate.
        {"received_per_s", std::max(window, run.receive_span_s) > 0
                               ? static_cast<double>(window_received) /
                                     std::max(window, run.receive_span_s)
                               : 0.0}}},
      {"latency_us", s.latency ? LatencyJson(run.collector.latency_us) : json(nullptr)},
      {"latency_from_actual_send_us", s.latency ? LatencyJson(run.collector.latency_actual_us) : json(nullptr)},
      {"generator_lag_us", LatencyJson(run.worker.lag_us)},
      {"connections", {{"devices", s.devices.count},
                       {"gateways", s.devices.gateways},
                       {"worker_disconnects", w[Counter::kWorkerDisconnects]},
                       {"worker_reconnects", w[Counter::kWorkerReconnects]},
                       {"collector_disconnects", c[Counter::kCollectorDisconnects]}}},
      {"processes", ProcessesJson(run.samples)},
      {"network", NetworkJson(s, run)},
      {"link", run.link.is_null() ? json::object() : run.link},
      {"notes", run.notes}};
  AddWorkerTotals(run.worker, &summary["processes"]);
  return summary;
}

std::string BuildTimelineCsv(const Scenario& s, const RunData& run) {
  std::string out = "second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker\n";
  const auto& sent = run.worker.sent_per_second;
  const auto& recv = run.collector.per_second;
  const auto& wire = run.capture.per_second;
  bool captured = run.capture_status == "ok";
  size_t rows = std::max(sent.size(), recv.size());
  for (size_t i = 0; i < rows; ++i) {
    SecondStats r = i < recv.size() ? recv[i] : SecondStats{};
    WireSecond w = i < wire.size() ? wire[i] : WireSecond{};
    out += fmt::format("{},{},{},{},{},{},{},{}\n", i, PhaseOf(s, i), i < sent.size() ? sent[i] : 0,
                       r.received, r.p50_us, r.p99_us,
                       captured ? std::to_string(w.bytes_to_broker) : "",
                       captured ? std::to_string(w.bytes_from_broker) : "");
  }
  return out;
}

std::string BuildSamplesCsv(const std::vector<ProcSample>& samples) {
  std::string out =
      "t_ms,role,pid,cpu_s,cpu_pct,rss_kb,rss_peak_kb,threads,voluntary_ctxt_switches,"
      "nonvoluntary_ctxt_switches\n";
  for (const ProcSample& p : samples) {
    out += fmt::format("{},{},{},{:.3f},{:.1f},{},{},{},{},{}\n", p.t_ms, p.role, p.pid, p.cpu_s,
                       p.cpu_pct, p.rss_kb, p.rss_peak_kb, p.threads, p.voluntary_ctxt_switches,
                       p.nonvoluntary_ctxt_switches);
  }
  return out;
}

namespace {

std::string Ms(const json& us) {
  if (us.is_null()) return "-";
  return fmt::format("{:.3f}", us.get<double>() / 1000.0);
}

std::string Mbit(const json& v) {
  double mbit = v.is_number() ? v.get<double>() : 0;
  return mbit > 0 ? fmt::format("{:g} Mbit/s", mbit) : std::string("unlimited");
}

std::string ProcessLine(const json& p) {
  if (p.is_null()) return "not sampled";
  return fmt::format("{:.1f}% CPU, {:.2f} CPU s, peak RSS {:.1f} MB", p["cpu_pct_mean"].get<double>(),
                     p["cpu_s"].get<double>(), p["rss_peak_kb"].get<double>() / 1024.0);
}

// "  link        cloud-near (rtt 15 ms, jitter 1.5 ms, up 100 Mbit/s / down 100 Mbit/s) over
// proxy; measured RTT median 15.316 ms (min 14.547, 10 probes); collector at the broker"
std::string LinkLine(const json& l) {
  if (!l.is_object() || l.empty()) return "";
  std::string what = "none (the devices reach the broker directly)";
  if (l.value("emulated", false)) {
    std::string name = l["profile"].is_string() ? l["profile"].get<std::string>() : "inline";
    what = fmt::format("{} (rtt {:g} ms, jitter {:g} ms, up {} / down {}) over {}", name,
                       l["rtt_ms"].get<double>(), l["jitter_ms"].get<double>(),
                       Mbit(l["uplink_mbit"]), Mbit(l["downlink_mbit"]),
                       l["backend"].is_string() ? l["backend"].get<std::string>() : "-");
  }
  const json& m = l["measured_rtt_ms"];
  std::string measured =
      m.is_object() ? fmt::format("measured RTT median {:.3f} ms (min {:.3f}, {} probes)",
                                  m["median"].get<double>(), m["min"].get<double>(),
                                  m["count"].dump())
                    : "RTT not measured: " + l.value("measured_rtt_error", std::string("-"));
  return fmt::format("  link        {}; {}; collector at the {}\n", what, measured,
                     l.value("subscribe_at", std::string("broker")));
}

}  // namespace

std::string FormatSummaryTable(const json& sm) {
  const json& m = sm["messages"];
  std::string out = fmt::format("\n{} — status {}, QoS {}, {} devices, window {:g} s\n",
                                sm["scenario"].get<std::string>(), sm["status"].get<std::string>(),
                                sm["qos"].get<int>(), sm["devices"].get<int>(),
                                sm["window"]["measured_s"].get<double>());
  auto opt = [](const json& v) { return v.is_null() ? std::string("-") : v.dump(); };
  out += fmt::format("  messages    scheduled {}  sent {}  acked {}  received {}  lost {}  "
                     "duplicated {}  reordered {}\n",
                     m["scheduled"].dump(), m["sent"].dump(), m["acked"].dump(),
                     m["received"].dump(), m["lost"].dump(), opt(m["duplicated"]),
                     opt(m["reordered"]));
  out += fmt::format("  throughput  sent {:.1f} msg/s  received {:.1f} msg/s\n",
                     sm["throughput"]["sent_per_s"].get<double>(),
                     sm["throughput"]["received_per_s"].get<double>());
  const json& l = sm["latency_us"];
  if (!l.is_null()) {
    out += fmt::format("  latency ms  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (n={})\n",
                       Ms(l["p50"]), Ms(l["p90"]), Ms(l["p99"]), Ms(l["p999"]), Ms(l["max"]),
                       l["count"].dump());
  } else {
    out += "  latency     not measured (latency: false)\n";
  }
  const json& g = sm["generator_lag_us"];
  out += fmt::format("  gen lag ms  p50 {}  p99 {}  max {}\n", Ms(g["p50"]), Ms(g["p99"]),
                     Ms(g["max"]));
  const json& n = sm["network"];
  if (n["capture"] == "ok") {
    out += fmt::format("  network     {} packets / {} bytes to the broker, {} / {} from it, "
                       "{:.1f} wire bytes per message, {} retransmissions, {} dropped\n",
                       n["packets_to_broker"].dump(), n["bytes_to_broker"].dump(),
                       n["packets_from_broker"].dump(), n["bytes_from_broker"].dump(),
                       n["wire_bytes_per_message"].is_null() ? 0.0 : n["wire_bytes_per_message"].get<double>(),
                       n["retransmissions"].dump(), n["dropped"].dump());
  } else {
    out += fmt::format("  network     capture {}{}\n", n["capture"].get<std::string>(),
                       n["reason"].is_null() ? "" : ": " + n["reason"].get<std::string>());
  }
  out += LinkLine(sm["link"]);
  for (const char* role : {"worker", "broker", "orchestrator", "link"}) {
    if (!sm["processes"].contains(role)) continue;  // "link" only with the proxy
    out += fmt::format("  {:<14}{}\n", role, ProcessLine(sm["processes"][role]));
  }
  return out;
}

}  // namespace edgebench

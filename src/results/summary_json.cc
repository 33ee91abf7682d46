// summary.json from a RunResult and back: the one place that knows its keys.
#include <optional>
#include <string>
#include <utility>

#include "edgebench/results/reporters.h"

#include "results/internal.h"

namespace edgebench {

using nlohmann::json;

namespace {

using results_internal::Opt;
using results_internal::OptOf;

json DistJson(const Distribution& d) {
  const LatencySummary& s = d.summary;
  return {{"count", s.count}, {"min", s.min}, {"mean", s.mean}, {"p50", s.p50},
          {"p90", s.p90},     {"p99", s.p99}, {"p999", s.p999}, {"max", s.max}};
}

Distribution DistOf(const json& j) {
  Distribution d;
  if (j.is_null()) return d;
  LatencySummary& s = d.summary;
  s.count = j.at("count").get<uint64_t>();
  s.min = j.at("min").get<int64_t>();
  s.mean = j.at("mean").get<double>();
  s.p50 = j.at("p50").get<int64_t>();
  s.p90 = j.at("p90").get<int64_t>();
  s.p99 = j.at("p99").get<int64_t>();
  s.p999 = j.at("p999").get<int64_t>();
  s.max = j.at("max").get<int64_t>();
  return d;
}

json ProcessJson(const std::optional<ProcessResult>& p) {
  if (!p) return nullptr;
  json j = {{"pid", Opt(p->pid)},
            {"samples", p->samples},
            {"cpu_s", p->cpu_s},
            {"cpu_pct_mean", p->cpu_pct_mean},
            {"rss_peak_kb", p->rss_peak_kb}};
  if (p->cpu_s_total) j["cpu_s_total"] = *p->cpu_s_total;
  if (p->workers) j["workers"] = *p->workers;
  return j;
}

std::optional<ProcessResult> ProcessOf(const json& j) {
  if (j.is_null()) return std::nullopt;
  ProcessResult p;
  p.pid = OptOf<int>(j, "pid");
  p.samples = j.at("samples").get<uint64_t>();
  p.cpu_s = j.at("cpu_s").get<double>();
  p.cpu_pct_mean = j.at("cpu_pct_mean").get<double>();
  p.rss_peak_kb = j.at("rss_peak_kb").get<int64_t>();
  p.cpu_s_total = OptOf<double>(j, "cpu_s_total");
  p.workers = OptOf<uint64_t>(j, "workers");
  return p;
}

json ProcessesJson(const Processes& p) {
  json j = {{"worker", ProcessJson(p.worker)},
            {"broker", ProcessJson(p.broker)},
            {"orchestrator", ProcessJson(p.orchestrator)}};
  if (p.link) j["link"] = ProcessJson(p.link);
  if (!p.workers.empty()) {
    j["workers"] = json::array();
    for (const ProcessResult& w : p.workers) j["workers"].push_back(ProcessJson(w));
  }
  return j;
}

Processes ProcessesOf(const json& j) {
  Processes p;
  p.worker = ProcessOf(j.value("worker", json(nullptr)));
  p.broker = ProcessOf(j.value("broker", json(nullptr)));
  p.orchestrator = ProcessOf(j.value("orchestrator", json(nullptr)));
  p.link = ProcessOf(j.value("link", json(nullptr)));
  for (const json& w : j.value("workers", json::array())) p.workers.push_back(*ProcessOf(w));
  return p;
}

json MessagesJson(const RunResult& r) {
  const Counters& c = r.counters;
  bool latency = r.info.latency;
  return {{"partial", r.partial},
          {"scheduled", c[Counter::kScheduled]},
          {"sent", c[Counter::kSent]},
          {"acked", c[Counter::kAcked]},
          {"received", c[Counter::kReceived]},
          {"lost", r.lost()},
          {"in_flight_at_end", c[Counter::kInFlightAtEnd]},
          {"duplicated", latency ? json(c[Counter::kDuplicated]) : json(nullptr)},
          {"reordered", latency ? json(c[Counter::kReordered]) : json(nullptr)},
          {"unsent", r.unsent()},
          {"publish_errors", c[Counter::kPublishErrors]},
          {"skipped_disconnected", c[Counter::kSkippedDisconnected]},
          {"unacked", c[Counter::kUnacked]},
          {"foreign", c[Counter::kForeign]}};
}

// Format 1 had no "counters": rebuild them from the keys it had.
Counters CountersOfFormat1(const json& summary) {
  Counters c;
  const json& m = summary.at("messages");
  const json& conn = summary.at("connections");
  auto set = [&c](Counter id, const json& v) {
    if (!v.is_null()) c.Set(id, v.get<uint64_t>());
  };
  for (Counter id : {Counter::kScheduled, Counter::kSent, Counter::kAcked, Counter::kReceived,
                     Counter::kDuplicated, Counter::kReordered, Counter::kPublishErrors,
                     Counter::kSkippedDisconnected, Counter::kUnacked, Counter::kForeign}) {
    const char* name = kCounterTable[static_cast<size_t>(id)].name;
    if (m.contains(name)) set(id, m.at(name));
  }
  for (Counter id :
       {Counter::kWorkerDisconnects, Counter::kWorkerReconnects, Counter::kCollectorDisconnects}) {
    const char* name = kCounterTable[static_cast<size_t>(id)].name;
    if (conn.contains(name)) set(id, conn.at(name));
  }
  return c;
}

json ExpectationsJson(const std::vector<ExpectResult>& all) {
  json out = json::array();
  for (const ExpectResult& e : all) {
    out.push_back({{"metric", e.metric},
                   {"min", Opt(e.min)},
                   {"max", Opt(e.max)},
                   {"value", Opt(e.value)},
                   {"verdict", e.pass ? "pass" : "fail"},
                   {"reason", e.reason}});
  }
  return out;
}

std::vector<ExpectResult> ExpectationsOf(const json& j) {
  std::vector<ExpectResult> out;
  for (const json& e : j) {
    out.push_back({e.at("metric").get<std::string>(), OptOf<double>(e, "min"),
                   OptOf<double>(e, "max"), OptOf<double>(e, "value"),
                   e.at("verdict").get<std::string>() == "pass",
                   e.at("reason").get<std::string>()});
  }
  return out;
}

json ProtocolMismatchesJson(const std::vector<ProtocolMismatch>& list) {
  json out = json::array();
  for (const ProtocolMismatch& m : list) {
    out.push_back({{"side", m.side}, {"message", m.message}, {"count", m.count}});
  }
  return out;
}

// Summaries written before protocol_mismatches existed have none.
std::vector<ProtocolMismatch> ProtocolMismatchesOf(const json& j) {
  std::vector<ProtocolMismatch> out;
  if (!j.contains("protocol_mismatches")) return out;
  for (const json& m : j.at("protocol_mismatches")) {
    out.push_back({m.at("side").get<std::string>(), m.at("message").get<std::string>(),
                   m.at("count").get<uint64_t>()});
  }
  return out;
}

}  // namespace

json SummaryToJson(const RunResult& r) {
  const RunInfo& i = r.info;
  const Counters& c = r.counters;
  return {
      {"format", kSummaryFormat},
      {"status", RunStatusName(r.status)},
      {"error", Opt(r.error)},
      {"scenario", i.scenario},
      {"qos", i.qos},
      {"devices", i.devices},
      {"latency", i.latency},
      {"t0_unix_ms", i.t0_unix_ms},
      {"load",
       {{"rate_per_device", i.rate_per_device},
        {"payload_bytes", i.payload_bytes},
        {"topics_per_device", i.topics_per_device}}},
      {"window",
       {{"warmup_s", i.warmup_s},
        {"duration_s", i.duration_s},
        {"drain_s", i.drain_s},
        {"measured_s", r.measured_s}}},
      {"messages", MessagesJson(r)},
      {"counters", c.ToJson()},
      {"throughput", {{"sent_per_s", r.sent_per_s}, {"received_per_s", r.received_per_s}}},
      {"latency_us", i.latency ? DistJson(r.latency_us) : json(nullptr)},
      {"latency_from_actual_send_us", i.latency ? DistJson(r.latency_actual_us) : json(nullptr)},
      {"generator_lag_us", DistJson(r.lag_us)},
      {"connections",
       {{"devices", i.devices},
        {"gateways", i.gateways},
        {"worker_disconnects", c[Counter::kWorkerDisconnects]},
        {"worker_reconnects", c[Counter::kWorkerReconnects]},
        {"collector_disconnects", c[Counter::kCollectorDisconnects]}}},
      {"processes", ProcessesJson(r.processes)},
      {"network", results_internal::NetworkToJson(r.capture, c[Counter::kSent])},
      {"link", results_internal::LinkToJson(r.link)},
      {"broker_resources", r.broker_resources
                               ? results_internal::BrokerResourcesToJson(*r.broker_resources)
                               : json(nullptr)},
      {"cost", r.cost ? results_internal::CostToJson(*r.cost) : json(nullptr)},
      {"notes", r.notes},
      {"protocol_mismatches", ProtocolMismatchesJson(r.protocol_mismatches)},
      {"expectations", ExpectationsJson(r.expectations)},
      {"expect_pass", r.expectations.empty() ? json(nullptr) : json(r.expectations_pass())}};
}

namespace {

Result<RunStatus> StatusOf(const std::string& s) {
  if (s == "ok") return RunStatus::kOk;
  if (s == "failed") return RunStatus::kFailed;
  if (s == "interrupted") return RunStatus::kInterrupted;
  return Error{"status must be ok, failed or interrupted, got '" + s + "'"};
}

RunInfo InfoOf(const json& j) {
  RunInfo i;
  i.scenario = j.at("scenario").get<std::string>();
  i.qos = j.at("qos").get<int>();
  i.devices = j.at("devices").get<int>();
  i.gateways = j.at("connections").value("gateways", 0);
  const json& w = j.at("window");
  i.warmup_s = w.at("warmup_s").get<double>();
  i.duration_s = w.at("duration_s").get<double>();
  i.drain_s = w.at("drain_s").get<double>();
  // Format 1 had no "latency": it was off exactly when latency_us was null.
  i.latency = j.contains("latency") ? j.at("latency").get<bool>() : !j.at("latency_us").is_null();
  i.tls = j.at("network").value("tls", false);
  i.t0_unix_ms = j.value("t0_unix_ms", int64_t{0});
  if (j.contains("load")) {
    const json& l = j.at("load");
    i.rate_per_device = l.at("rate_per_device").get<double>();
    i.payload_bytes = l.at("payload_bytes").get<int>();
    i.topics_per_device = l.at("topics_per_device").get<int>();
  }
  return i;
}

Result<RunResult> ReadSummary(const json& j, int format) {
  RunResult r;
  r.format = format;
  Result<RunStatus> status = StatusOf(j.at("status").get<std::string>());
  if (!status.ok()) return status.error();
  r.status = status.value();
  r.error = OptOf<std::string>(j, "error");
  r.info = InfoOf(j);
  r.measured_s = j.at("window").at("measured_s").get<double>();
  if (format >= 2) {
    Result<Counters> c = Counters::FromJson(j.at("counters"));
    if (!c.ok()) return c.error();
    r.counters = c.value();
  } else {
    r.counters = CountersOfFormat1(j);
  }
  r.partial = j.at("messages").value("partial", false);
  r.sent_per_s = j.at("throughput").at("sent_per_s").get<double>();
  r.received_per_s = j.at("throughput").at("received_per_s").get<double>();
  r.latency_us = DistOf(j.at("latency_us"));
  r.latency_actual_us = DistOf(j.at("latency_from_actual_send_us"));
  r.lag_us = DistOf(j.at("generator_lag_us"));
  r.processes = ProcessesOf(j.at("processes"));
  r.capture = results_internal::NetworkFromJson(j.at("network"));
  r.link = results_internal::LinkFromJson(j.at("link"));
  if (j.contains("broker_resources") && !j.at("broker_resources").is_null()) {
    r.broker_resources = results_internal::BrokerResourcesFromJson(j.at("broker_resources"));
  }
  if (j.contains("cost") && !j.at("cost").is_null()) {
    r.cost = results_internal::CostFromJson(j.at("cost"));
  }
  r.notes = j.at("notes").get<std::vector<std::string>>();
  r.protocol_mismatches = ProtocolMismatchesOf(j);
  if (j.contains("expectations")) r.expectations = ExpectationsOf(j.at("expectations"));
  return r;
}

}  // namespace

Result<RunResult> SummaryFromJson(const json& j) {
  if (!j.is_object()) return Error{"a summary must be a JSON object"};
  int format = 1;
  if (j.contains("format")) {
    if (!j.at("format").is_number_integer()) return Error{"format must be an integer"};
    format = j.at("format").get<int>();
  }
  if (format < 1 || format > kSummaryFormat) {
    return Error{"summary format " + std::to_string(format) +
                 (format > kSummaryFormat ? " is newer than" : " is not one") +
                 " this edgebench reads (1 to " + std::to_string(kSummaryFormat) + ")"};
  }
  try {
    return ReadSummary(j, format);
  } catch (const json::exception& e) {
    return Error{e.what()};
  }
}

json HistogramsToJson(const RunResult& r) {
  auto one = [](const Distribution& d) {
    return d.histogram ? d.histogram->ToJson() : json(nullptr);
  };
  return {{"format", kSummaryFormat},
          {"latency_us", one(r.latency_us)},
          {"latency_from_actual_send_us", one(r.latency_actual_us)},
          {"generator_lag_us", one(r.lag_us)}};
}

Status HistogramsFromJson(const json& j, RunResult* r) {
  if (!j.is_object()) return Error{"histograms must be a JSON object"};
  for (auto [key, d] : {std::pair<const char*, Distribution*>{"latency_us", &r->latency_us},
                        {"latency_from_actual_send_us", &r->latency_actual_us},
                        {"generator_lag_us", &r->lag_us}}) {
    if (!j.contains(key) || j.at(key).is_null()) continue;
    Result<LatencyHistogram> h = LatencyHistogram::FromJson(j.at(key));
    if (!h.ok()) return Error{std::string(key) + ": " + h.error().message};
    d->histogram = std::move(h.value());
  }
  return Ok{};
}

}  // namespace edgebench

// The worker pipe's messages as newline-delimited JSON, and merging worker reports.
#include "edgebench/load/worker_protocol.h"

#include <algorithm>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace edgebench {

using nlohmann::json;

void WorkerReport::Merge(const WorkerReport& other) {
  counters.Merge(other.counters);
  sent_per_device.insert(sent_per_device.end(), other.sent_per_device.begin(),
                         other.sent_per_device.end());
  if (other.sent_per_second.size() > sent_per_second.size()) {
    sent_per_second.resize(other.sent_per_second.size());
  }
  for (size_t i = 0; i < other.sent_per_second.size(); ++i) {
    sent_per_second[i] += other.sent_per_second[i];
  }
  lag_us.Merge(other.lag_us);
  cpu_s += other.cpu_s;
  rss_peak_kb = std::max(rss_peak_kb, other.rss_peak_kb);
  for (const ProtocolMismatch& m : other.protocol_mismatches) {
    AddProtocolMismatch(&protocol_mismatches, m);
  }
  for (const std::string& note : other.protocol_notes) {
    if (std::find(protocol_notes.begin(), protocol_notes.end(), note) == protocol_notes.end()) {
      protocol_notes.push_back(note);
    }
  }
}

namespace {

std::string Line(const json& j) { return j.dump() + "\n"; }

json MismatchesJson(const std::vector<ProtocolMismatch>& list) {
  json out = json::array();
  for (const ProtocolMismatch& m : list) {
    out.push_back({{"side", m.side}, {"message", m.message}, {"count", m.count}});
  }
  return out;
}

std::vector<ProtocolMismatch> MismatchesOf(const json& j) {
  std::vector<ProtocolMismatch> out;
  for (const json& m : j) {
    out.push_back({m.at("side").get<std::string>(), m.at("message").get<std::string>(),
                   m.at("count").get<uint64_t>()});
  }
  return out;
}

json ReportJson(const WorkerReport& r) {
  return {{"type", "final"},
          {"protocol_mismatches", MismatchesJson(r.protocol_mismatches)},
          {"protocol_notes", r.protocol_notes},
          {"counters", r.counters.ToJson()},
          {"sent_per_device", r.sent_per_device},
          {"sent_per_second", r.sent_per_second},
          {"lag_us", r.lag_us.ToJson()},
          {"cpu_s", r.cpu_s},
          {"rss_peak_kb", r.rss_peak_kb}};
}

Result<WorkerReport> ReportFromJson(const json& j) {
  WorkerReport r;
  Result<Counters> counters = Counters::FromJson(j.at("counters"));
  if (!counters.ok()) return counters.error();
  r.counters = counters.value();
  r.sent_per_device = j.at("sent_per_device").get<std::vector<uint64_t>>();
  r.sent_per_second = j.at("sent_per_second").get<std::vector<uint64_t>>();
  Result<LatencyHistogram> lag = LatencyHistogram::FromJson(j.at("lag_us"));
  if (!lag.ok()) return lag.error();
  r.lag_us = std::move(lag.value());
  r.cpu_s = j.at("cpu_s").get<double>();
  r.rss_peak_kb = j.at("rss_peak_kb").get<int64_t>();
  r.protocol_mismatches = MismatchesOf(j.at("protocol_mismatches"));
  r.protocol_notes = j.at("protocol_notes").get<std::vector<std::string>>();
  return r;
}

struct ToWorkerEncoder {
  json operator()(const ConnectMessage&) const { return {{"type", "connect"}}; }
  json operator()(const StopMessage&) const { return {{"type", "stop"}}; }
  json operator()(const GoMessage& m) const {
    return {{"type", "go"},
            {"t0_ns", m.clock.t0_ns},
            {"window_start_ns", m.clock.window_start_ns},
            {"window_end_ns", m.clock.window_end_ns},
            {"drain_end_ns", m.clock.drain_end_ns}};
  }
};

struct FromWorkerEncoder {
  json operator()(const ReadyMessage& m) const {
    return {{"type", "ready"}, {"connected", m.connected}};
  }
  json operator()(const ErrorMessage& m) const {
    return {{"type", "error"}, {"message", m.message}};
  }
  json operator()(const ProgressMessage& m) const {
    return {{"type", "progress"}, {"counters", m.counters.ToJson()}};
  }
  json operator()(const FinalMessage& m) const { return ReportJson(m.report); }
};

// The object on `line` and its "type", or an error naming what is wrong.
Result<std::pair<json, std::string>> Parse(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Error{"worker sent a malformed message: " + std::string(line.substr(0, 80))};
  }
  std::string type = j["type"].get<std::string>();
  return std::make_pair(std::move(j), std::move(type));
}

Result<FromWorkerMessage> FromWorkerOf(const json& j, const std::string& type) {
  if (type == "ready") return FromWorkerMessage(ReadyMessage{j.at("connected").get<int>()});
  if (type == "error") return FromWorkerMessage(ErrorMessage{j.at("message").get<std::string>()});
  if (type == "progress") {
    Result<Counters> c = Counters::FromJson(j.at("counters"));
    if (!c.ok()) return c.error();
    return FromWorkerMessage(ProgressMessage{c.value()});
  }
  if (type == "final") {
    Result<WorkerReport> r = ReportFromJson(j);
    if (!r.ok()) return r.error();
    return FromWorkerMessage(FinalMessage{std::move(r.value())});
  }
  return Error{"worker sent an unknown message type '" + type + "'"};
}

Result<ToWorkerMessage> ToWorkerOf(const json& j, const std::string& type) {
  if (type == "connect") return ToWorkerMessage(ConnectMessage{});
  if (type == "stop") return ToWorkerMessage(StopMessage{});
  if (type == "go") {
    GoMessage go;
    go.clock.t0_ns = j.at("t0_ns").get<uint64_t>();
    go.clock.window_start_ns = j.at("window_start_ns").get<uint64_t>();
    go.clock.window_end_ns = j.at("window_end_ns").get<uint64_t>();
    go.clock.drain_end_ns = j.at("drain_end_ns").get<uint64_t>();
    return ToWorkerMessage(go);
  }
  return Error{"orchestrator sent an unknown message type '" + type + "'"};
}

}  // namespace

std::string Encode(const ToWorkerMessage& message) {
  return Line(std::visit(ToWorkerEncoder{}, message));
}

std::string Encode(const FromWorkerMessage& message) {
  return Line(std::visit(FromWorkerEncoder{}, message));
}

Result<ToWorkerMessage> DecodeToWorker(std::string_view line) {
  Result<std::pair<json, std::string>> p = Parse(line);
  if (!p.ok()) return p.error();
  try {
    return ToWorkerOf(p->first, p->second);
  } catch (const json::exception& e) {
    return Error{"orchestrator sent a malformed '" + p->second + "' message: " + e.what()};
  }
}

Result<FromWorkerMessage> DecodeFromWorker(std::string_view line) {
  Result<std::pair<json, std::string>> p = Parse(line);
  if (!p.ok()) return p.error();
  try {
    return FromWorkerOf(p->first, p->second);
  } catch (const json::exception& e) {
    if (p->second == "final") return Error{std::string("worker report: ") + e.what()};
    return Error{"worker sent a malformed '" + p->second + "' message: " + e.what()};
  }
}

}  // namespace edgebench

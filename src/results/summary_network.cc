// summary.json's "network" (the capture) and "link" objects, both ways.
#include <string>
#include <utility>

#include "results/internal.h"

namespace edgebench::results_internal {

using nlohmann::json;

namespace {

json MqttJson(const DirectionTraffic& d) {
  json out = json::object();
  for (const auto& [type, n] : d.mqtt) out[type] = n;
  return out;
}

// The port at the end of the default filter "tcp and host H and port P" (0 if another).
int PortOfFilter(const std::string& filter) {
  size_t at = filter.rfind("port ");
  if (at == std::string::npos) return 0;
  try {
    return std::stoi(filter.substr(at + 5));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

json NetworkToJson(const CaptureResult& c, uint64_t sent) {
  if (c.status != "ok") return {{"capture", c.status}, {"reason", Opt(c.reason)}};
  uint64_t bytes = c.to_broker.ip_bytes + c.from_broker.ip_bytes;
  return {{"capture", "ok"},
          {"reason", nullptr},
          {"interface", c.interface},
          {"filter", c.filter},
          {"broker_port", c.broker_port},
          {"packets_to_broker", c.to_broker.packets},
          {"packets_from_broker", c.from_broker.packets},
          {"bytes_to_broker", c.to_broker.ip_bytes},
          {"bytes_from_broker", c.from_broker.ip_bytes},
          {"tcp_payload_bytes_to_broker", c.to_broker.tcp_payload_bytes},
          {"tcp_payload_bytes_from_broker", c.from_broker.tcp_payload_bytes},
          {"retransmissions", c.retransmissions},
          {"dropped", c.dropped},
          {"wire_bytes_per_message",
           sent ? json(static_cast<double>(bytes) / static_cast<double>(sent)) : json(nullptr)},
          // Over TLS the MQTT bytes are encrypted: only the packet and byte counts apply.
          {"mqtt_packets", c.tls ? json(nullptr)
                                 : json{{"to_broker", MqttJson(c.to_broker)},
                                        {"from_broker", MqttJson(c.from_broker)}}},
          {"mqtt_malformed", c.tls ? json(nullptr) : json(c.mqtt_malformed)},
          {"tls", c.tls},
          {"unparsed_streams", c.unparsed_streams},
          {"packets_seen", c.packets_seen},
          {"pcap_file", c.pcap_file},
          {"pcap_bytes", c.pcap_bytes},
          {"buffer_bytes", c.buffer_bytes},
          {"snaplen", c.snaplen}};
}

CaptureResult NetworkFromJson(const json& j) {
  CaptureResult c;
  c.status = j.at("capture").get<std::string>();
  c.reason = OptOf<std::string>(j, "reason");
  if (c.status != "ok") return c;
  c.interface = j.at("interface").get<std::string>();
  c.filter = j.at("filter").get<std::string>();
  c.broker_port =
      j.contains("broker_port") ? j.at("broker_port").get<int>() : PortOfFilter(c.filter);
  c.to_broker.packets = j.at("packets_to_broker").get<uint64_t>();
  c.from_broker.packets = j.at("packets_from_broker").get<uint64_t>();
  c.to_broker.ip_bytes = j.at("bytes_to_broker").get<uint64_t>();
  c.from_broker.ip_bytes = j.at("bytes_from_broker").get<uint64_t>();
  c.to_broker.tcp_payload_bytes = j.at("tcp_payload_bytes_to_broker").get<uint64_t>();
  c.from_broker.tcp_payload_bytes = j.at("tcp_payload_bytes_from_broker").get<uint64_t>();
  c.retransmissions = j.at("retransmissions").get<uint64_t>();
  c.dropped = j.at("dropped").get<uint64_t>();
  c.tls = j.at("tls").get<bool>();
  if (!c.tls) {
    const json& m = j.at("mqtt_packets");
    c.to_broker.mqtt = m.at("to_broker").get<std::map<std::string, uint64_t>>();
    c.from_broker.mqtt = m.at("from_broker").get<std::map<std::string, uint64_t>>();
    c.mqtt_malformed = j.at("mqtt_malformed").get<uint64_t>();
  }
  c.unparsed_streams = j.at("unparsed_streams").get<uint64_t>();
  c.packets_seen = j.at("packets_seen").get<uint64_t>();
  c.pcap_file = j.at("pcap_file").get<std::string>();
  c.pcap_bytes = j.at("pcap_bytes").get<uint64_t>();
  c.buffer_bytes = j.value("buffer_bytes", uint64_t{0});
  c.snaplen = j.value("snaplen", 0);
  return c;
}

namespace {

json DirectionJson(const LinkDirectionResult& d) {
  return {{"bytes", d.bytes},
          {"writes", d.writes},
          {"held_ms", {{"p50", d.held_p50_ms}, {"p99", d.held_p99_ms}, {"max", d.held_max_ms}}},
          {"late_ms",
           {{"p50", d.late_p50_ms},
            {"p99", d.late_p99_ms},
            {"p999", d.late_p999_ms},
            {"max", d.late_max_ms}}},
          {"max_queued_bytes", d.max_queued_bytes},
          {"paused", d.paused}};
}

LinkDirectionResult DirectionOf(const json& j) {
  LinkDirectionResult d;
  d.bytes = j.at("bytes").get<uint64_t>();
  d.writes = j.at("writes").get<uint64_t>();
  const json& held = j.at("held_ms");
  d.held_p50_ms = held.at("p50").get<double>();
  d.held_p99_ms = held.at("p99").get<double>();
  d.held_max_ms = held.at("max").get<double>();
  const json& late = j.at("late_ms");
  d.late_p50_ms = late.at("p50").get<double>();
  d.late_p99_ms = late.at("p99").get<double>();
  d.late_p999_ms = late.at("p999").get<double>();
  d.late_max_ms = late.at("max").get<double>();
  d.max_queued_bytes = j.at("max_queued_bytes").get<uint64_t>();
  d.paused = j.at("paused").get<uint64_t>();
  return d;
}

json RttJson(const std::optional<RttMeasurement>& m) {
  if (!m) return nullptr;
  return {{"count", m->count},
          {"min", m->min_ms},
          {"median", m->median_ms},
          {"max", m->max_ms},
          {"samples", m->samples_ms}};
}

std::optional<RttMeasurement> RttOf(const json& j) {
  if (j.is_null()) return std::nullopt;
  RttMeasurement m;
  m.count = j.at("count").get<uint64_t>();
  m.min_ms = j.at("min").get<double>();
  m.median_ms = j.at("median").get<double>();
  m.max_ms = j.at("max").get<double>();
  m.samples_ms = j.value("samples", std::vector<double>{});
  return m;
}

}  // namespace

json LinkToJson(const LinkResult& l) {
  json j = {{"emulated", l.emulated}, {"subscribe_at", l.subscribe_at}};
  if (l.emulated) {
    j["profile"] = Opt(l.profile);
    j["backend_requested"] = l.backend_requested;
    j["backend"] = Opt(l.backend);
    if (l.backend_reason) j["backend_reason"] = *l.backend_reason;
    j["rtt_ms"] = l.rtt_ms;
    j["jitter_ms"] = l.jitter_ms;
    j["loss_pct"] = l.loss_pct;
    j["uplink_mbit"] = l.uplink_mbit;
    j["downlink_mbit"] = l.downlink_mbit;
    j["loss_emulated"] = l.loss_emulated;
  }
  j["measured_rtt_ms"] = RttJson(l.measured_rtt);
  if (l.measured_rtt_error) j["measured_rtt_error"] = *l.measured_rtt_error;
  if (l.proxy) {
    j["proxy"] = {{"connections", l.proxy->connections},
                  {"upstream_failures", l.proxy->upstream_failures},
                  {"nice", l.proxy->nice},
                  {"up", DirectionJson(l.proxy->up)},
                  {"down", DirectionJson(l.proxy->down)}};
  }
  return j;
}

LinkResult LinkFromJson(const json& j) {
  LinkResult l;
  if (j.empty()) return l;
  l.emulated = j.at("emulated").get<bool>();
  l.subscribe_at = j.value("subscribe_at", std::string("broker"));
  if (l.emulated) {
    l.profile = OptOf<std::string>(j, "profile");
    l.backend_requested = j.at("backend_requested").get<std::string>();
    l.backend = OptOf<std::string>(j, "backend");
    l.backend_reason = OptOf<std::string>(j, "backend_reason");
    l.rtt_ms = j.at("rtt_ms").get<double>();
    l.jitter_ms = j.at("jitter_ms").get<double>();
    l.loss_pct = j.at("loss_pct").get<double>();
    l.uplink_mbit = j.at("uplink_mbit").get<double>();
    l.downlink_mbit = j.at("downlink_mbit").get<double>();
    l.loss_emulated = j.at("loss_emulated").get<bool>();
  }
  l.measured_rtt = RttOf(j.value("measured_rtt_ms", json(nullptr)));
  l.measured_rtt_error = OptOf<std::string>(j, "measured_rtt_error");
  if (j.contains("proxy")) {
    const json& p = j.at("proxy");
    ProxyResult r;
    r.connections = p.at("connections").get<uint64_t>();
    r.upstream_failures = p.at("upstream_failures").get<uint64_t>();
    r.nice = p.at("nice").get<int>();
    r.up = DirectionOf(p.at("up"));
    r.down = DirectionOf(p.at("down"));
    l.proxy = r;
  }
  return l;
}

}  // namespace edgebench::results_internal

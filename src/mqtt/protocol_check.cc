// What a broker's CONNACK granted against what the scenario asks (MQTT 5 section 3.2.2.3).
#include "edgebench/mqtt/protocol_check.h"

#include <string>

#include <fmt/format.h>

#include "edgebench/mqtt/mqtt_client.h"

namespace edgebench {
namespace {

constexpr const char* kUseV311 = "broker.protocol: 3.1.1 uses MQTT 3.1.1";

// The limits only a publisher meets: QoS, retain, packet size.
void CheckPublishLimits(const ConnackProperties& g, const ProtocolAsk& ask, ConnackCheck* out) {
  const std::string broker = "the broker at " + ask.address;
  if (g.maximum_qos && *g.maximum_qos < ask.publish_qos) {
    out->mismatches.push_back(fmt::format(
        "{} allows at most QoS {} (Maximum QoS in its MQTT 5 CONNACK); the scenario publishes "
        "at QoS {} (publish.qos)",
        broker, *g.maximum_qos, ask.publish_qos));
  }
  if (g.retain_available && !*g.retain_available && ask.retain) {
    out->mismatches.push_back(
        broker +
        " does not accept retained messages (Retain Available 0 in its MQTT 5 CONNACK); the "
        "scenario publishes with publish.retain: true");
  }
  if (g.maximum_packet_size && ask.publish_packet_bytes > *g.maximum_packet_size) {
    out->mismatches.push_back(fmt::format(
        "{} accepts packets of at most {} bytes (Maximum Packet Size in its MQTT 5 CONNACK); "
        "the devices' PUBLISH packets are {} bytes (publish.payload.size and the topic)",
        broker, *g.maximum_packet_size, ask.publish_packet_bytes));
  }
  if (g.receive_maximum && ask.publish_qos > 0 && *g.receive_maximum < ask.max_inflight) {
    out->notes.push_back(fmt::format(
        "{} takes at most {} unacknowledged QoS {} messages per connection (Receive Maximum in "
        "its MQTT 5 CONNACK), fewer than publish.max_inflight {}: the devices kept to {}",
        broker, *g.receive_maximum, ask.publish_qos, ask.max_inflight, *g.receive_maximum));
  }
}

}  // namespace

ConnackCheck CheckConnack(const ConnackProperties& g, const ProtocolAsk& ask) {
  ConnackCheck out;
  CheckPublishLimits(g, ask, &out);
  if (g.wildcard_subscription_available && !*g.wildcard_subscription_available && ask.wildcards) {
    out.mismatches.push_back(
        "the broker at " + ask.address +
        " does not allow wildcard subscriptions (Wildcard Subscription Available 0 in its MQTT 5 "
        "CONNACK); the collector subscribes with + or # (topics)");
  }
  if (g.server_keepalive_s && *g.server_keepalive_s != ask.keepalive_s) {
    out.notes.push_back(fmt::format(
        "the broker at {} assigned the {} a keep-alive of {} s (Server Keep Alive in its MQTT 5 "
        "CONNACK) instead of broker.keepalive_s {}: the {} used {} s",
        ask.address, ask.who, *g.server_keepalive_s, ask.keepalive_s, ask.who,
        *g.server_keepalive_s));
  }
  // Topic Alias Maximum and Shared Subscription Available bound features edgebench does not
  // use (no topic aliases, no shared subscriptions): nothing to check.
  return out;
}

std::string ConnackRefusal(int protocol, int code) {
  if (protocol == 5 && code == 1) {
    return std::string(
               "the broker does not support MQTT 5: it answered the MQTT 5 CONNECT with MQTT "
               "3.1.1's \"unacceptable protocol version\" (") +
           kUseV311 + ")";
  }
  if (protocol == 5 && code == 0x84) {
    return std::string("Unsupported Protocol Version: the broker does not support MQTT 5 (") +
           kUseV311 + ")";
  }
  return MqttClient::ConnackString(protocol, code);
}

std::string ClosedBeforeConnackHint(int protocol) {
  if (protocol != 5) return "";
  return std::string(" before answering the MQTT 5 CONNECT (a broker without MQTT 5 does this; ") +
         kUseV311 + ")";
}

size_t MqttPacketSize(size_t body_bytes) {
  size_t length_bytes = 1;
  for (size_t n = body_bytes; n >= 128; n >>= 7) ++length_bytes;
  return 1 + length_bytes + body_bytes;
}

size_t PublishPacketSize(size_t topic_bytes, size_t payload_bytes, int qos, int protocol,
                         size_t property_bytes) {
  size_t body = 2 + topic_bytes + (qos > 0 ? 2 : 0) + payload_bytes;
  // MQTT 5: the properties' length (a variable byte integer) and the properties.
  if (protocol == 5) body += MqttPacketSize(property_bytes) - 1;
  return MqttPacketSize(body);
}

}  // namespace edgebench

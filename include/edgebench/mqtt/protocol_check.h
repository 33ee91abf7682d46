// ProtocolCheck: what a broker granted in its CONNACK, checked against what the scenario asks.
//
// Contract: pure functions; thread-safe. A *mismatch* makes the run's counts meaningless (the
// broker will refuse or downgrade what the scenario measures): the caller fails the run with
// it. A *note* is a change the clients follow and the reader must know (an assigned
// keep-alive). Each is one line that says what the broker granted and what was asked, e.g.
// "the broker at 127.0.0.1:1883 allows at most QoS 1 (Maximum QoS in its MQTT 5 CONNACK);
// the scenario publishes at QoS 2 (publish.qos)".
#ifndef EDGEBENCH_MQTT_PROTOCOL_CHECK_H_
#define EDGEBENCH_MQTT_PROTOCOL_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgebench {

// The MQTT 5 CONNACK properties that bound what a client may do; each is empty when the
// broker did not send it (the protocol's default then: QoS 2, retain available, no limit).
struct ConnackProperties {
  std::optional<int> maximum_qos;
  std::optional<bool> retain_available;
  std::optional<int> receive_maximum;
  std::optional<uint32_t> maximum_packet_size;
  std::optional<int> topic_alias_maximum;
  std::optional<bool> wildcard_subscription_available;
  std::optional<bool> shared_subscription_available;
  std::optional<int> server_keepalive_s;
};

// What one side of the run asks of the broker.
struct ProtocolAsk {
  std::string who;      // "devices" or "collector": named in the lines
  std::string address;  // "127.0.0.1:1883"
  int keepalive_s = 60;
  // Devices only (0 / false for the collector, which publishes nothing).
  int publish_qos = 0;
  bool retain = false;
  size_t publish_packet_bytes = 0;  // the largest PUBLISH packet the devices send
  int max_inflight = 0;             // publish.max_inflight (QoS 1/2)
  // Collector only: its filters contain + or #.
  bool wildcards = false;
};

struct ConnackCheck {
  std::vector<std::string> mismatches;
  std::vector<std::string> notes;
};

ConnackCheck CheckConnack(const ConnackProperties& granted, const ProtocolAsk& ask);

// The reason of a refused CONNACK, `code` as the broker sent it. For an MQTT 5 CONNECT,
// code 1 is MQTT 3.1.1's "unacceptable protocol version" (an MQTT 3.1.1 broker answering
// in its own version) and 0x84 is MQTT 5's "Unsupported Protocol Version": both say the
// broker does not speak MQTT 5, and the text says to use broker.protocol: 3.1.1.
std::string ConnackRefusal(int protocol, int code);

// What to add to "the broker closed the connection" when it did so before any CONNACK: for
// an MQTT 5 CONNECT, "before answering the MQTT 5 CONNECT (a broker without MQTT 5 does
// this; broker.protocol: 3.1.1 uses MQTT 3.1.1)"; "" otherwise.
std::string ClosedBeforeConnackHint(int protocol);

// A packet's size: fixed header (1 byte and the remaining length's 1-4 bytes) plus `body`.
size_t MqttPacketSize(size_t body_bytes);

// The size of a PUBLISH to `topic` with `payload_bytes` at `qos` (MQTT 5: no properties
// beyond `property_bytes`).
size_t PublishPacketSize(size_t topic_bytes, size_t payload_bytes, int qos, int protocol,
                         size_t property_bytes = 0);

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_PROTOCOL_CHECK_H_

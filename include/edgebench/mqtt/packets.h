// MQTT packets the collector writes and reads, for MQTT 3.1.1 (protocol 4) and 5.
//
// Contract: pure functions on bytes. The Append* functions add one whole packet to `out`
// (so several acks go out in one write); the Parse* functions read one frame from
// MqttFrameDecoder in place and return false when it is malformed, never reading past its
// body. The spans of MqttPublish point into the frame's body.
#ifndef EDGEBENCH_MQTT_PACKETS_H_
#define EDGEBENCH_MQTT_PACKETS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgebench/mqtt/frame.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/protocol_check.h"

namespace edgebench {

using Bytes = std::vector<unsigned char>;

// CONNECT with the client id, keep-alive, clean session, user name and password and, for
// MQTT 5, the session expiry interval and user properties of `o`.
void AppendConnect(const MqttClientOptions& o, Bytes* out);
void AppendSubscribe(int protocol, uint16_t packet_id, const std::string& filter, int qos,
                     Bytes* out);
// PUBACK, PUBREC, PUBREL or PUBCOMP with success (the MQTT 5 reason code 0 is implied).
void AppendAck(MqttPacketType type, uint16_t packet_id, Bytes* out);
void AppendPingreq(Bytes* out);
void AppendDisconnect(Bytes* out);

struct MqttPublish {
  std::span<const unsigned char> topic;
  std::span<const unsigned char> payload;
  uint16_t packet_id = 0;  // 0 at QoS 0
  uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
};
bool ParsePublish(const MqttFrame& f, int protocol, MqttPublish* out);

struct MqttConnack {
  bool session_present = false;
  int code = 0;                  // 0 = accepted; the CONNACK return code (3.1.1) or reason code (5)
  ConnackProperties properties;  // MQTT 5
};
// For `protocol` 5 the properties are read too; a CONNACK of two bytes (an MQTT 3.1.1
// broker's answer to an MQTT 5 CONNECT) has none and still parses.
bool ParseConnack(const MqttFrame& f, MqttConnack* out, int protocol = 4);

// SUBACK: the packet id and the first return / reason code (>= 0x80: refused; else the
// granted QoS).
bool ParseSuback(const MqttFrame& f, int protocol, uint16_t* packet_id, int* code);
// The packet id at the start of a PUBACK, PUBREC, PUBREL or PUBCOMP.
bool ParsePacketId(const MqttFrame& f, uint16_t* packet_id);

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_PACKETS_H_

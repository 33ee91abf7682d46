// MqttSubscriber: the collector's own MQTT connection, written for throughput.
//
// Contract: one connection, driven by its owner's thread (not thread-safe). Connect()
// connects (TCP or TLS, see transport.h), sends CONNECT, waits for CONNACK, subscribes to
// every filter and returns once each SUBACK granted it. Pump() then waits for the socket
// and reads once, up to read_bytes (1 MiB; with TLS, records until that much or none is
// left), decodes the frames in place with MqttFrameDecoder and hands each PUBLISH to the
// sink with the time of that read; the QoS 1 PUBACKs, QoS 2 PUBRECs and PUBCOMPs of one
// read go out in one write. A QoS 2 message is handed over once, on its PUBLISH: a copy the
// broker sends again before its PUBREL is acknowledged, not handed over again.
// Per message: no allocation, no lookup, no syscall.
//
// MQTT 3.1.1 and 5 (no topic aliases: CONNECT does not allow them), user name and password,
// the MQTT 5 session expiry and user properties of MqttClientOptions. After a lost
// connection (a false Pump()/KeepAlive(), error() says why) the owner calls Connect() again;
// a resumed session keeps its QoS 2 state.
//
// What the broker grants is checked against what was asked (mqtt/protocol_check.h): a
// SUBACK that grants a lower QoS than `qos`, or an MQTT 5 CONNACK whose limits the
// subscription cannot meet, fails Connect() with one line saying so; an MQTT 5 Server Keep
// Alive is followed (and noted). During Pump() a PUBLISH below the subscription's QoS, a
// PUBREL for a packet id with no QoS 2 PUBLISH pending and an ack of a publish (the collector
// publishes nothing) are counted, per message, as deviations().
#ifndef EDGEBENCH_MQTT_SUBSCRIBER_H_
#define EDGEBENCH_MQTT_SUBSCRIBER_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/mqtt/frame.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/packets.h"
#include "edgebench/mqtt/transport.h"

namespace edgebench {

class MqttSubscriber {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    // `received_ns`: CLOCK_MONOTONIC when the read that brought it returned.
    virtual void OnPublish(const MqttPublish& message, uint64_t received_ns) = 0;
  };

  struct Config {
    MqttClientOptions client;  // id, host, port, protocol, keep-alive, TLS, credentials
    std::vector<std::string> filters;
    int qos = 0;
    size_t read_bytes = size_t{1} << 20;
  };

  struct Stats {
    uint64_t reads = 0;  // reads that returned data
    uint64_t bytes = 0;
    uint64_t ack_writes = 0;
  };

  // What the broker did that the collector did not ask for, since construction (kept
  // across reconnects).
  struct Deviations {
    uint64_t downgraded = 0;       // PUBLISHes delivered below the subscription's QoS
    int lowest_qos = 2;            // the lowest QoS among them
    uint64_t unknown_pubrel = 0;   // PUBRELs for a packet id with no QoS 2 PUBLISH pending
    uint64_t unexpected_acks = 0;  // PUBACK, PUBREC or PUBCOMP: the collector publishes nothing
    int unexpected_ack_type = 0;   // the packet type of the first of them
  };

  MqttSubscriber(Config config, Sink* sink);

  // Errors: "cannot connect to the broker at H:P: Connection refused" (or the TLS reason),
  // "the broker at H:P refused the collector's connection: Connection Refused: not
  // authorised.", "the broker at H:P refused the collector's subscription to 'F': ...",
  // "the broker at H:P granted QoS 1 for the collector's subscription to 'F'; the scenario
  // asks for QoS 2 (publish.qos)", a mismatch of CheckConnack(), "cannot subscribe at the
  // broker at H:P within 5 s: no answer (connect timeout)".
  Status Connect(double timeout_s);
  // False when the connection is lost (or there is none).
  bool Pump(int timeout_ms);
  // Sends PINGREQ when nothing was sent for half the keep-alive; false when a PINGREQ went
  // unanswered for a whole keep-alive.
  bool KeepAlive(uint64_t now_ns);
  // Sends DISCONNECT and closes.
  void Disconnect();

  bool connected() const { return transport_.has_value(); }
  const std::string& error() const { return error_; }
  const Stats& stats() const { return stats_; }
  const Deviations& deviations() const { return deviations_; }
  // One line per kind of deviation seen, and how often; empty when there were none.
  struct Described {
    std::string message;
    uint64_t count = 0;
  };
  std::vector<Described> DescribeDeviations() const;
  // What the broker changed and the subscriber followed (an assigned keep-alive), once each.
  const std::vector<std::string>& notes() const { return notes_; }
  std::string Address() const;

 private:
  Status Handshake(double timeout_s);
  Status CheckGrants();
  void OnAckFrame(const MqttFrame& f);
  size_t ReadOnce(bool* failed);
  void OnFrame(const MqttFrame& f, uint64_t now_ns);
  void OnPublishFrame(const MqttFrame& f, uint64_t now_ns);
  bool Flush();
  bool Lost(std::string why);

  Config config_;
  Sink* sink_;
  std::optional<Transport> transport_;
  MqttFrameDecoder decoder_{MqttFrameDecoder::Mode::kKeep};
  std::vector<unsigned char> in_;  // read_bytes, allocated once
  Bytes out_;                      // the acks of one read
  std::bitset<65536> awaiting_pubrel_;
  std::optional<MqttConnack> connack_;
  bool full_read_ = false;
  int subacks_ = 0;
  int refused_suback_ = -1;  // the index of the first refused filter
  int refused_code_ = 0;
  int downgraded_suback_ = -1;  // the index of the first filter granted a lower QoS
  int downgraded_code_ = 0;
  int keepalive_s_ = 0;  // the client's, or the broker's Server Keep Alive
  std::string protocol_error_;
  uint64_t last_write_ns_ = 0;
  uint64_t ping_sent_ns_ = 0;  // 0: none outstanding
  std::string error_;
  Stats stats_;
  Deviations deviations_;
  std::vector<std::string> notes_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_SUBSCRIBER_H_

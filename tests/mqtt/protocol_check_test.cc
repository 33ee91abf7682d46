// Tests for src/mqtt/protocol_check.cc: each CONNACK limit against what a scenario asks.
#include "edgebench/mqtt/protocol_check.h"

#include <string>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

ProtocolAsk Devices() {
  ProtocolAsk a;
  a.who = "devices";
  a.address = "10.0.0.1:1883";
  a.keepalive_s = 60;
  a.publish_qos = 2;
  a.retain = true;
  a.publish_packet_bytes = 300;
  a.max_inflight = 20;
  return a;
}

}  // namespace

TEST_CASE("CheckConnack: a broker that grants everything", "[protocol]") {
  ConnackProperties all;  // nothing sent: the protocol's defaults
  ConnackCheck c = CheckConnack(all, Devices());
  CHECK(c.mismatches.empty());
  CHECK(c.notes.empty());
  all.maximum_qos = 2;
  all.retain_available = true;
  all.maximum_packet_size = 300;
  all.receive_maximum = 20;
  all.server_keepalive_s = 60;
  all.topic_alias_maximum = 0;
  all.shared_subscription_available = false;
  all.wildcard_subscription_available = false;  // the devices subscribe to nothing
  c = CheckConnack(all, Devices());
  CHECK(c.mismatches.empty());
  CHECK(c.notes.empty());
}

TEST_CASE("CheckConnack: each limit below the scenario", "[protocol]") {
  ConnackProperties g;
  g.maximum_qos = 0;
  g.retain_available = false;
  g.maximum_packet_size = 299;
  g.receive_maximum = 5;
  g.server_keepalive_s = 10;
  ConnackCheck c = CheckConnack(g, Devices());
  REQUIRE(c.mismatches.size() == 3);
  CHECK(c.mismatches[0] ==
        "the broker at 10.0.0.1:1883 allows at most QoS 0 (Maximum QoS in its MQTT 5 CONNACK); "
        "the scenario publishes at QoS 2 (publish.qos)");
  CHECK(c.mismatches[1] ==
        "the broker at 10.0.0.1:1883 does not accept retained messages (Retain Available 0 in "
        "its MQTT 5 CONNACK); the scenario publishes with publish.retain: true");
  CHECK(c.mismatches[2] ==
        "the broker at 10.0.0.1:1883 accepts packets of at most 299 bytes (Maximum Packet Size "
        "in its MQTT 5 CONNACK); the devices' PUBLISH packets are 300 bytes "
        "(publish.payload.size and the topic)");
  REQUIRE(c.notes.size() == 2);
  CHECK(c.notes[0] ==
        "the broker at 10.0.0.1:1883 takes at most 5 unacknowledged QoS 2 messages per "
        "connection (Receive Maximum in its MQTT 5 CONNACK), fewer than publish.max_inflight 20: "
        "the devices kept to 5");
  CHECK(c.notes[1] ==
        "the broker at 10.0.0.1:1883 assigned the devices a keep-alive of 10 s (Server Keep "
        "Alive in its MQTT 5 CONNACK) instead of broker.keepalive_s 60: the devices used 10 s");

  ProtocolAsk collector;
  collector.who = "collector";
  collector.address = "h:1";
  collector.wildcards = true;
  ConnackProperties w;
  w.maximum_qos = 0;  // bounds publishes only: the collector publishes nothing
  w.wildcard_subscription_available = false;
  c = CheckConnack(w, collector);
  REQUIRE(c.mismatches.size() == 1);
  CHECK(c.mismatches[0] ==
        "the broker at h:1 does not allow wildcard subscriptions (Wildcard Subscription "
        "Available 0 in its MQTT 5 CONNACK); the collector subscribes with + or # (topics)");
}

TEST_CASE("ConnackRefusal names a broker without MQTT 5", "[protocol]") {
  CHECK(ConnackRefusal(5, 1) ==
        "the broker does not support MQTT 5: it answered the MQTT 5 CONNECT with MQTT 3.1.1's "
        "\"unacceptable protocol version\" (broker.protocol: 3.1.1 uses MQTT 3.1.1)");
  CHECK(ConnackRefusal(5, 0x84) ==
        "Unsupported Protocol Version: the broker does not support MQTT 5 (broker.protocol: "
        "3.1.1 uses MQTT 3.1.1)");
  CHECK(ConnackRefusal(4, 1) == "Connection Refused: unacceptable protocol version.");
  CHECK(ConnackRefusal(5, 0x87) == "Not authorized");
  CHECK(ClosedBeforeConnackHint(4).empty());
}

TEST_CASE("PublishPacketSize", "[protocol]") {
  // 0x32, length 5+2+100=... : topic "t/1" (2+3), packet id 2, payload 100: body 107.
  CHECK(PublishPacketSize(3, 100, 1, 4) == 1 + 1 + 107);
  CHECK(PublishPacketSize(3, 100, 0, 4) == 1 + 1 + 105);
  CHECK(PublishPacketSize(3, 200, 1, 4) == 1 + 2 + 207);  // a two-byte remaining length
  CHECK(PublishPacketSize(3, 100, 1, 5) == 1 + 1 + 108);  // property length 0
  CHECK(PublishPacketSize(3, 100, 1, 5, 10) == 1 + 1 + 118);
  CHECK(MqttPacketSize(127) == 129);
  CHECK(MqttPacketSize(128) == 131);
  CHECK(MqttPacketSize(16384) == 16388);
}

}  // namespace edgebench

// Tests for src/mqtt/packets.cc: the packets the collector writes, byte for byte against
// bytes written out by hand from the MQTT 3.1.1 and 5 specifications, and the parsers on
// good and malformed frames.
#include "edgebench/mqtt/packets.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/mqtt/frame.h"
#include "edgebench/mqtt/mqtt_client.h"

namespace edgebench {
namespace {

std::string Str(std::span<const unsigned char> s) { return std::string(s.begin(), s.end()); }

// A frame over `body` as the decoder hands it over.
MqttFrame FrameOf(uint8_t type, uint8_t flags, const Bytes& body) {
  return MqttFrame{type, flags, static_cast<uint32_t>(body.size()), {body.data(), body.size()}};
}

// Hex, for readable failure messages.
std::string Hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    if (!s.empty()) s += ' ';
    s += digits[c >> 4];
    s += digits[c & 0xF];
  }
  return s;
}

}  // namespace

TEST_CASE("AppendConnect for MQTT 3.1.1 with credentials", "[packets]") {
  MqttClientOptions o;
  o.client_id = "eb-1";
  o.keepalive_s = 30;
  o.clean_session = true;
  o.username = "user";
  o.password = "pw";
  o.session_expiry_s = 300;               // MQTT 5 only: ignored
  o.user_properties = {{"site", "lab"}};  // MQTT 5 only: ignored
  Bytes out;
  AppendConnect(o, &out);
  const Bytes expected = {
      0x10, 26,                              // CONNECT, remaining length 26
      0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,  // protocol name, level 4
      0xC2,                                  // user name, password, clean session
      0x00, 0x1E,                            // keep-alive 30 s
      0x00, 0x04, 'e', 'b', '-', '1',        // client id
      0x00, 0x04, 'u', 's', 'e', 'r',        // user name
      0x00, 0x02, 'p', 'w',                  // password
  };
  INFO(Hex(out));
  CHECK(out == expected);
}

TEST_CASE("AppendConnect for MQTT 3.1.1 without credentials or clean session", "[packets]") {
  MqttClientOptions o;
  o.client_id = "c";
  o.keepalive_s = 0;
  o.clean_session = false;
  Bytes out = {0xAA};  // appended after what is there
  AppendConnect(o, &out);
  const Bytes expected = {0xAA, 0x10, 13,   0x00, 0x04, 'M',  'Q',  'T',
                          'T',  0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 'c'};
  INFO(Hex(out));
  CHECK(out == expected);
}

TEST_CASE("AppendConnect for MQTT 5 with session expiry and a user property", "[packets]") {
  MqttClientOptions o;
  o.client_id = "c5";
  o.protocol = 5;
  o.keepalive_s = 60;
  o.clean_session = false;
  o.session_expiry_s = 300;
  o.user_properties = {{"site", "lab"}};
  Bytes out;
  AppendConnect(o, &out);
  // clang-format off
  const Bytes expected = {
      0x10, 32,                              // CONNECT, remaining length 32
      0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,  // protocol name, level 5
      0x00,                                  // no flags
      0x00, 0x3C,                            // keep-alive 60 s
      17,                                    // properties: 17 bytes
      0x11, 0x00, 0x00, 0x01, 0x2C,          // session expiry interval 300 s
      0x26, 0x00, 0x04, 's', 'i', 't', 'e', 0x00, 0x03, 'l', 'a', 'b',  // user property
      0x00, 0x02, 'c', '5',                  // client id
  };
  // clang-format on
  INFO(Hex(out));
  CHECK(out == expected);

  SECTION("with credentials and no properties") {
    MqttClientOptions p;
    p.client_id = "c5";
    p.protocol = 5;
    p.keepalive_s = 60;
    p.username = "u";
    p.password = "p";
    Bytes got;
    AppendConnect(p, &got);
    const Bytes want = {0x10, 21,   0x00, 0x04, 'M', 'Q',  'T',  'T', 0x05, 0xC2, 0x00, 0x3C,
                        0x00, 0x00, 0x02, 'c',  '5', 0x00, 0x01, 'u', 0x00, 0x01, 'p'};
    INFO(Hex(got));
    CHECK(got == want);
  }
}

TEST_CASE("AppendSubscribe for MQTT 3.1.1 and 5", "[packets]") {
  Bytes out;
  AppendSubscribe(4, 1, "t/+", 1, &out);
  CHECK(out == Bytes{0x82, 8, 0x00, 0x01, 0x00, 0x03, 't', '/', '+', 0x01});
  out.clear();
  AppendSubscribe(5, 0x1234, "a/#", 2, &out);
  // Packet id, no properties, the filter and its options (QoS 2).
  CHECK(out == Bytes{0x82, 9, 0x12, 0x34, 0x00, 0x00, 0x03, 'a', '/', '#', 0x02});
  out.clear();
  AppendSubscribe(4, 2, "x", 0, &out);
  AppendSubscribe(4, 3, "y", 0, &out);  // two in one buffer
  // clang-format off
  CHECK(out == Bytes{0x82, 6, 0x00, 0x02, 0x00, 0x01, 'x', 0x00,
                     0x82, 6, 0x00, 0x03, 0x00, 0x01, 'y', 0x00});
  // clang-format on
}

TEST_CASE("AppendSubscribe with a filter longer than 127 bytes", "[packets]") {
  const std::string filter(200, 'f');
  Bytes out;
  AppendSubscribe(4, 7, filter, 1, &out);
  Bytes expected = {0x82, 0xCD, 0x01, 0x00, 0x07, 0x00, 0xC8};  // 205 = CD 01; 200 = 00 C8
  for (char c : filter) expected.push_back(static_cast<unsigned char>(c));
  expected.push_back(0x01);
  CHECK(out == expected);
}

TEST_CASE("AppendAck, AppendPingreq and AppendDisconnect", "[packets]") {
  Bytes out;
  AppendAck(kMqttPuback, 0x0102, &out);
  AppendAck(kMqttPubrec, 0xFFFF, &out);
  AppendAck(kMqttPubrel, 1, &out);
  AppendAck(kMqttPubcomp, 0xABCD, &out);
  AppendPingreq(&out);
  AppendDisconnect(&out);
  CHECK(out == Bytes{0x40, 0x02, 0x01, 0x02,    // PUBACK
                     0x50, 0x02, 0xFF, 0xFF,    // PUBREC
                     0x62, 0x02, 0x00, 0x01,    // PUBREL: flags 0010
                     0x70, 0x02, 0xAB, 0xCD,    // PUBCOMP
                     0xC0, 0x00, 0xE0, 0x00});  // PINGREQ, DISCONNECT
}

TEST_CASE("ParsePublish at QoS 0, 1 and 2 for MQTT 3.1.1", "[packets]") {
  const Bytes q0 = {0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'};
  MqttFrame f = FrameOf(kMqttPublish, 0x00, q0);
  MqttPublish p;
  REQUIRE(ParsePublish(f, 4, &p));
  CHECK(Str(p.topic) == "a/b");
  CHECK(Str(p.payload) == "hello");
  CHECK(p.packet_id == 0);
  CHECK(p.qos == 0);
  CHECK(!p.dup);
  CHECK(!p.retain);
  // In place: the spans point into the frame's body.
  CHECK(p.topic.data() == q0.data() + 2);
  CHECK(p.payload.data() == q0.data() + 5);

  const Bytes q1 = {0x00, 0x01, 't', 0x00, 0x07, 'x'};
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x03, q1), 4, &p));  // QoS 1, retain
  CHECK(Str(p.topic) == "t");
  CHECK(Str(p.payload) == "x");
  CHECK(p.packet_id == 7);
  CHECK(p.qos == 1);
  CHECK(!p.dup);
  CHECK(p.retain);

  const Bytes q2 = {0x00, 0x02, 'a', 'b', 0xAB, 0xCD};            // empty payload
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x0C, q2), 4, &p));  // QoS 2, dup
  CHECK(Str(p.topic) == "ab");
  CHECK(p.payload.empty());
  CHECK(p.packet_id == 0xABCD);
  CHECK(p.qos == 2);
  CHECK(p.dup);
  CHECK(!p.retain);

  // MQTT 3.1.1 has no properties: a first payload byte is payload.
  const Bytes q0p = {0x00, 0x01, 't', 0x00, 'z'};
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x00, q0p), 4, &p));
  CHECK(p.payload.size() == 2);
}

TEST_CASE("ParsePublish for MQTT 5 skips the properties", "[packets]") {
  MqttPublish p;
  // QoS 1, properties: topic alias 5 (0x23 00 05) and a user property.
  const Bytes q1 = {0x00, 0x01, 't', 0x00, 0x09, 11,  0x23, 0x00, 0x05, 0x26,
                    0x00, 0x01, 'k', 0x00, 0x02, 'v', 'v',  0x00, 'p',  '5'};
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x02, q1), 5, &p));
  CHECK(Str(p.topic) == "t");
  CHECK(p.packet_id == 9);
  CHECK(p.qos == 1);
  CHECK(p.payload.size() == 3);
  CHECK(Str(p.payload) == std::string("\0p5", 3));

  const Bytes q0 = {0x00, 0x02, 'a', 'b', 0x00, 'h', 'i'};  // no properties
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x00, q0), 5, &p));
  CHECK(Str(p.topic) == "ab");
  CHECK(Str(p.payload) == "hi");
  CHECK(p.packet_id == 0);

  const Bytes q2 = {0x00, 0x01, 'q', 0x01, 0x00, 0x02, 0x01, 0x01};  // payload format 1
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x04, q2), 5, &p));
  CHECK(p.qos == 2);
  CHECK(p.packet_id == 0x0100);
  CHECK(p.payload.empty());

  // A 2-byte property length (128 bytes of user property).
  Bytes big = {0x00, 0x01, 't', 0x80, 0x01, 0x26, 0x00, 0x7B};
  big.insert(big.end(), 0x7B, 'n');
  big.insert(big.end(), {0x00, 0x00, 'P'});
  REQUIRE(big.size() == 3 + 2 + 128 + 1);
  REQUIRE(ParsePublish(FrameOf(kMqttPublish, 0x00, big), 5, &p));
  CHECK(Str(p.payload) == "P");
}

TEST_CASE("ParsePublish refuses malformed PUBLISH packets", "[packets]") {
  struct Case {
    std::string name;
    uint8_t flags;
    int protocol;
    Bytes body;
  };
  const std::vector<Case> cases = {
      {"empty body", 0x00, 4, {}},
      {"one byte of topic length", 0x00, 4, {0x00}},
      {"topic length past the end", 0x00, 4, {0x00, 0x05, 'a', 'b'}},
      {"topic length past the end by one", 0x02, 4, {0x00, 0x03, 'a', 'b'}},
      {"qos 3", 0x06, 4, {0x00, 0x01, 't', 0x00, 0x01}},
      {"missing packet id", 0x02, 4, {0x00, 0x01, 't'}},
      {"half a packet id", 0x04, 4, {0x00, 0x01, 't', 0x00}},
      {"MQTT 5 without a properties length", 0x00, 5, {0x00, 0x01, 't'}},
      {"properties length past the end", 0x02, 5, {0x00, 0x01, 't', 0x00, 0x01, 0x05, 0x01}},
      {"properties length unterminated", 0x00, 5, {0x00, 0x01, 't', 0x80}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    MqttPublish p;
    CHECK(!ParsePublish(FrameOf(kMqttPublish, c.flags, c.body), c.protocol, &p));
  }
}

TEST_CASE("ParseConnack", "[packets]") {
  MqttConnack c;
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, {0x01, 0x00}), &c));
  CHECK(c.session_present);
  CHECK(c.code == 0);
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x05}), &c));
  CHECK(!c.session_present);
  CHECK(c.code == 5);
  // MQTT 5: reason code 0x87 (not authorized), then properties.
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x87, 0x03, 0x21, 0x00, 0x0A}), &c));
  CHECK(c.code == 0x87);
  CHECK(!ParseConnack(FrameOf(kMqttConnack, 0, {0x00}), &c));
  CHECK(!ParseConnack(FrameOf(kMqttConnack, 0, {}), &c));
}

TEST_CASE("ParseConnack reads the MQTT 5 limits", "[packets][protocol]") {
  MqttConnack c;
  // Receive Maximum 10, Maximum QoS 1, Retain Available 0, Maximum Packet Size 0x00010000,
  // Assigned Client Identifier "ab", Topic Alias Maximum 5, a user property ("k", "v"),
  // Wildcard 0, Shared 1, Server Keep Alive 30.
  const Bytes body = {0x00, 0x00, 0x24, 0x21, 0x00, 0x0A, 0x24, 0x01, 0x25, 0x00, 0x27, 0x00, 0x01,
                      0x00, 0x00, 0x12, 0x00, 0x02, 'a',  'b',  0x22, 0x00, 0x05, 0x26, 0x00, 0x01,
                      'k',  0x00, 0x01, 'v',  0x28, 0x00, 0x2A, 0x01, 0x13, 0x00, 0x1E, 0x29, 0x01};
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, body), &c, 5));
  const ConnackProperties& p = c.properties;
  CHECK(p.receive_maximum == 10);
  CHECK(p.maximum_qos == 1);
  CHECK(p.retain_available == false);
  CHECK(p.maximum_packet_size == 65536u);
  CHECK(p.topic_alias_maximum == 5);
  CHECK(p.wildcard_subscription_available == false);
  CHECK(p.shared_subscription_available == true);
  CHECK(p.server_keepalive_s == 30);
  // Read as MQTT 3.1.1, the same bytes carry no properties.
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, body), &c, 4));
  CHECK(!c.properties.maximum_qos);
  // An MQTT 3.1.1 broker's CONNACK to an MQTT 5 CONNECT: no property length at all.
  REQUIRE(ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x01}), &c, 5));
  CHECK(c.code == 1);
  // A property a CONNACK cannot carry (0x01), a cut value, a length past the end.
  CHECK(!ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x00, 0x02, 0x01, 0x00}), &c, 5));
  CHECK(!ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x00, 0x02, 0x21, 0x00}), &c, 5));
  CHECK(!ParseConnack(FrameOf(kMqttConnack, 0, {0x00, 0x00, 0x05, 0x24, 0x01}), &c, 5));
}

TEST_CASE("ParseSuback for MQTT 3.1.1 and 5", "[packets]") {
  uint16_t id = 0;
  int code = -1;
  REQUIRE(ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x01, 0x01}), 4, &id, &code));
  CHECK(id == 1);
  CHECK(code == 1);
  REQUIRE(ParseSuback(FrameOf(kMqttSuback, 0, {0x12, 0x34, 0x80}), 4, &id, &code));
  CHECK(id == 0x1234);
  CHECK(code == 0x80);
  // The first return code of several.
  REQUIRE(ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x02, 0x02, 0x80}), 4, &id, &code));
  CHECK(code == 2);

  REQUIRE(ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x03, 0x00, 0x02}), 5, &id, &code));
  CHECK(id == 3);
  CHECK(code == 2);
  // A reason string property ("no"), then 0x87 (not authorized).
  REQUIRE(ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x04, 0x05, 0x1F, 0x00, 0x02, 'n', 'o', 0x87}),
                      5, &id, &code));
  CHECK(id == 4);
  CHECK(code == 0x87);

  CHECK(!ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x01}), 4, &id, &code));
  CHECK(!ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x01, 0x00}), 5, &id, &code));  // no code
  CHECK(!ParseSuback(FrameOf(kMqttSuback, 0, {0x00, 0x01, 0x09, 0x00}), 5, &id, &code));
}

TEST_CASE("ParsePacketId", "[packets]") {
  uint16_t id = 0;
  REQUIRE(ParsePacketId(FrameOf(kMqttPubrel, 2, {0x00, 0x2A}), &id));
  CHECK(id == 42);
  // MQTT 5 acks may carry a reason code and properties after the id.
  REQUIRE(ParsePacketId(FrameOf(kMqttPubrel, 2, {0xBE, 0xEF, 0x00, 0x00}), &id));
  CHECK(id == 0xBEEF);
  CHECK(!ParsePacketId(FrameOf(kMqttPubrel, 2, {0x01}), &id));
}

TEST_CASE("packets written by Append* decode with MqttFrameDecoder", "[packets]") {
  MqttClientOptions o;
  o.client_id = "round-trip";
  o.protocol = 5;
  o.user_properties = {{std::string(200, 'k'), "v"}};  // a 2-byte remaining length
  Bytes out;
  AppendConnect(o, &out);
  AppendSubscribe(5, 1, "t/#", 1, &out);
  AppendAck(kMqttPubrel, 9, &out);
  AppendPingreq(&out);
  std::vector<uint8_t> types;
  uint16_t pubrel_id = 0;
  MqttFrameDecoder d(MqttFrameDecoder::Mode::kKeep);
  REQUIRE(d.Feed(out.data(), out.size(), [&](const MqttFrame& f) {
    types.push_back(f.type);
    if (f.type == kMqttPubrel) {
      CHECK(f.flags == 0x2);
      CHECK(ParsePacketId(f, &pubrel_id));
    }
  }));
  CHECK(types == std::vector<uint8_t>{kMqttConnect, kMqttSubscribe, kMqttPubrel, kMqttPingreq});
  CHECK(pubrel_id == 9);
  CHECK(d.at_boundary());
}

}  // namespace edgebench

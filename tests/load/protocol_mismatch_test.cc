// Tests for the devices' protocol checks in src/load/load_generator.cc: a scripted broker
// (tests/mqtt/scripted_peer.h) answers the devices' PUBLISHes with the wrong kind of ack or
// with unknown packet ids, or grants less in its MQTT 5 CONNACK than the scenario needs; a
// real mosquitto configured to grant less (max_qos, retain_available, max_packet_size).
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/base/fd.h"
#include "edgebench/load/load_generator.h"
#include "edgebench/mqtt/mqtt_client.h"

#include "mqtt/scripted_peer.h"
#include "test_support.h"

namespace edgebench {
namespace {

using testing::ScenarioFromYaml;
using testing::ScriptedPeer;
using testing::TempDir;
using Bytes = ScriptedPeer::Bytes;

constexpr uint64_t kNsPerMs = 1'000'000;

// One device, 20 messages in 1 s; `broker` adds keys to broker: ("protocol: 5").
std::string OneDevice(int qos, const std::string& broker = "") {
  return "name: protocol-test\ndevices: {count: 1}\ntopics: [\"pm/{device}\"]\n"
         "publish: {rate: 20, qos: " +
         std::to_string(qos) +
         "}\nduration_s: 1\nwarmup_s: 0\ndrain_s: 1\nbroker: {connect_timeout_s: 2" +
         (broker.empty() ? "" : ", " + broker) + "}\n";
}

WorkerConfig ConfigFor(const Scenario& s, int port, const TempDir& dir) {
  WorkerConfig c;
  c.scenario = s;
  c.host = "127.0.0.1";
  c.port = port;
  c.run_id = 7;
  c.log_path = dir.File("edgebench.log");
  return c;
}

RunClock ClockFor(const Scenario& s) {
  RunClock clock;
  clock.t0_ns = MonotonicNowNs() + 100 * kNsPerMs;
  clock.window_start_ns = clock.t0_ns;
  clock.window_end_ns = clock.t0_ns + static_cast<uint64_t>(s.duration_s * 1e9);
  clock.drain_end_ns = clock.window_end_ns + static_cast<uint64_t>(s.drain_s * 1e9);
  return clock;
}

// How the scripted broker answers each PUBLISH.
struct Answer {
  unsigned char ack = 0x40;  // PUBACK (0x40), PUBREC (0x50)
  bool wrong_id = false;     // acknowledge packet id 0x1234 instead
};

// Accepts connections (a device reconnects after each protocol error), answers CONNECT with
// a CONNACK and each PUBLISH with `answer`, until `stop`.
void PlayBroker(ScriptedPeer& peer, const Answer& answer, const std::atomic<bool>& stop) {
  while (!stop) {
    // Nothing read (a pause, or the device hung up): take a new connection if one waits.
    Bytes p = peer.connected() ? peer.ReadPacket(50) : Bytes{};
    if (p.empty()) {
      if (peer.Accept(50)) {
        Bytes connect = peer.ReadPacket(1000);
        if (!connect.empty()) peer.Write({0x20, 0x02, 0x00, 0x00});
      }
      continue;
    }
    if ((p[0] >> 4) != 3 || ((p[0] >> 1) & 3) == 0) continue;  // not a QoS 1/2 PUBLISH
    size_t i = 1;
    while (p[i] & 0x80) ++i;  // the remaining length
    ++i;
    const size_t topic = (size_t{p[i]} << 8) | p[i + 1];
    const size_t id_at = i + 2 + topic;
    Bytes ack = {answer.ack, 0x02, p[id_at], p[id_at + 1]};
    if (answer.wrong_id) ack[2] = 0x12, ack[3] = 0x34;
    peer.Write(ack);
  }
}

// Connects one device to the scripted broker, runs the scenario and returns the report.
WorkerReport RunAgainst(const std::string& yaml, const Answer& answer) {
  MosquittoLibrary library;
  TempDir dir;
  ScriptedPeer peer;
  std::atomic<bool> stop{false};
  std::thread broker([&] { PlayBroker(peer, answer, stop); });
  Scenario s = ScenarioFromYaml(yaml);
  LoadGenerator generator(ConfigFor(s, peer.port(), dir));
  Status st = generator.Connect();
  int control[2] = {-1, -1};
  const bool piped = ::pipe(control) == 0;
  if (st && piped) generator.Run(ClockFor(s), control[0], [](const Counters&) {});
  stop = true;
  broker.join();
  if (piped) ::close(control[0]), ::close(control[1]);
  INFO((st ? std::string() : st.error().message));
  REQUIRE(st);
  REQUIRE(piped);
  return generator.TakeReport();
}

// Connect() against a scripted broker whose CONNACK is `connack`; its error, "" when none.
std::string ConnectError(const std::string& yaml, const Bytes& connack) {
  MosquittoLibrary library;
  TempDir dir;
  ScriptedPeer peer;
  std::thread broker([&] {
    if (!peer.Accept()) return;
    (void)peer.ReadPacket();
    peer.Write(connack);
    (void)peer.ReadPacket(3000);  // until the device leaves
  });
  LoadGenerator generator(ConfigFor(ScenarioFromYaml(yaml), peer.port(), dir));
  Status st = generator.Connect();
  generator.DisconnectAll();
  broker.join();
  return st ? "" : st.error().message;
}

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_CASE("a PUBACK for a QoS 2 PUBLISH is named and counted", "[load][protocol]") {
  WorkerReport r = RunAgainst(OneDevice(2), Answer{0x40, false});
  REQUIRE(r.protocol_mismatches.size() == 2);
  const ProtocolMismatch& wrong = r.protocol_mismatches[0];
  CHECK(wrong.side == "devices");
  CHECK_THAT(wrong.message,
             Catch::Matches("the broker at 127\\.0\\.0\\.1:[0-9]+ answered the devices' QoS 2 "
                            "PUBLISHes with PUBACK, the ack of QoS 1 \\(QoS 2 is PUBREC, PUBREL, "
                            "PUBCOMP\\); libmosquitto closes the connection on it \\(protocol "
                            "error\\)"));
  CHECK(wrong.count >= 2);  // the first names nothing; the second is recorded
  CHECK(r.counters[Counter::kWorkerDisconnects] >= 2);
  const ProtocolMismatch& none = r.protocol_mismatches[1];
  CHECK_THAT(none.message, Catch::EndsWith(" acknowledged none of the QoS 2 messages the devices "
                                           "sent (by the end of the drain)"));
  CHECK(none.count == r.counters[Counter::kSent]);
  CHECK(r.counters[Counter::kAcked] == 0);
}

TEST_CASE("a PUBREC for a QoS 1 PUBLISH is named", "[load][protocol]") {
  WorkerReport r = RunAgainst(OneDevice(1), Answer{0x50, false});
  REQUIRE(!r.protocol_mismatches.empty());
  CHECK_THAT(r.protocol_mismatches[0].message,
             Catch::Matches("the broker at 127\\.0\\.0\\.1:[0-9]+ answered the devices' QoS 1 "
                            "PUBLISHes with PUBREC, an ack of QoS 2 \\(QoS 1 is PUBACK\\); "
                            "libmosquitto closes the connection on it \\(protocol error\\)"));
}

// libmosquitto ignores an ack for a packet id it has not sent: the connection stays, the
// messages stay unacknowledged, and that is what is reported.
TEST_CASE("acks for unknown packet ids leave every message unacknowledged", "[load][protocol]") {
  WorkerReport r = RunAgainst(OneDevice(1), Answer{0x40, true});
  CHECK(r.counters[Counter::kWorkerDisconnects] == 0);
  CHECK(r.counters[Counter::kSent] == 20);
  CHECK(r.counters[Counter::kUnacked] == 20);
  REQUIRE(r.protocol_mismatches.size() == 1);
  CHECK_THAT(r.protocol_mismatches[0].message,
             Catch::Matches("the broker at 127\\.0\\.0\\.1:[0-9]+ acknowledged none of the QoS 1 "
                            "messages the devices sent \\(by the end of the drain\\)"));
  CHECK(r.protocol_mismatches[0].count == 20);
}

TEST_CASE("a broker that acks correctly gives no mismatch", "[load][protocol]") {
  WorkerReport r = RunAgainst(OneDevice(1), Answer{0x40, false});
  CHECK(r.counters[Counter::kAcked] == 20);
  CHECK(r.protocol_mismatches.empty());
  CHECK(r.protocol_notes.empty());
}

TEST_CASE("MQTT 5 CONNACK limits below the scenario fail Connect()", "[load][protocol]") {
  const std::string v5 = "protocol: 5";
  // Maximum QoS 1 (0x24).
  std::string err = ConnectError(OneDevice(2, v5), {0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x01});
  CHECK_THAT(err, Catch::Matches("the broker at 127\\.0\\.0\\.1:[0-9]+ allows at most QoS 1 "
                                 "\\(Maximum QoS in its MQTT 5 CONNACK\\); the scenario publishes "
                                 "at QoS 2 \\(publish.qos\\)"));
  // Maximum Packet Size 50 (0x27) for 200-byte payloads.
  err = ConnectError(
      "name: protocol-test\ndevices: {count: 1}\ntopics: [\"pm/{device}\"]\n"
      "publish: {rate: 20, qos: 1, payload: {size: 200}}\nduration_s: 1\nbroker:\n  protocol: 5\n",
      {0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0x00, 0x00, 0x00, 0x32});
  CHECK_THAT(err, Catch::Matches("the broker at 127\\.0\\.0\\.1:[0-9]+ accepts packets of at most "
                                 "50 bytes \\(Maximum Packet Size in its MQTT 5 CONNACK\\); the "
                                 "devices' PUBLISH packets are 2[0-9][0-9] bytes "
                                 "\\(publish.payload.size and the topic\\)"));
  // MQTT 5's Unsupported Protocol Version (0x84).
  err = ConnectError(OneDevice(1, v5), {0x20, 0x03, 0x00, 0x84, 0x00});
  CHECK(err ==
        "broker refused the connection: Unsupported Protocol Version: the broker does not "
        "support MQTT 5 (broker.protocol: 3.1.1 uses MQTT 3.1.1)");
}

TEST_CASE("mosquitto with max_qos 1, retain_available false, max_packet_size", "[load][protocol]") {
  struct Case {
    const char* setting;
    const char* publish;
    const char* expected;  // after "the broker at 127.0.0.1:PORT "
  };
  const Case cases[] = {
      {"max_qos 1", "{rate: 20, qos: 2}",
       "allows at most QoS 1 (Maximum QoS in its MQTT 5 CONNACK); the scenario publishes at "
       "QoS 2 (publish.qos)"},
      {"retain_available false", "{rate: 20, qos: 1, retain: true}",
       "does not accept retained messages (Retain Available 0 in its MQTT 5 CONNACK); the "
       "scenario publishes with publish.retain: true"},
      {"max_packet_size 100", "{rate: 20, qos: 1, payload: {size: 200}}",
       "accepts packets of at most 100 bytes (Maximum Packet Size in its MQTT 5 CONNACK); the "
       "devices' PUBLISH packets are 212 bytes (publish.payload.size and the topic)"},
  };
  for (const Case& c : cases) {
    INFO(c.setting);
    TempDir dir;
    const std::string conf = dir.File("mosquitto.conf.in");
    testing::WriteText(conf, testing::ReadText(EDGEBENCH_SOURCE_DIR "/config/mosquitto.conf.in") +
                                 c.setting + "\n");
    EmbeddedBrokerOptions options;
    options.config_template = conf;
    options.run_dir = dir.path();
    Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
    REQUIRE(broker.ok());
    MosquittoLibrary library;
    Scenario s = ScenarioFromYaml(
        std::string("name: protocol-test\ndevices: {count: 2}\ntopics: [\"pm/{device}\"]\n"
                    "publish: ") +
        c.publish + "\nduration_s: 1\nbroker: {protocol: 5, connect_timeout_s: 2}\n");
    LoadGenerator generator(ConfigFor(s, broker->port(), dir));
    Status st = generator.Connect();
    REQUIRE(!st);
    CHECK(st.error().message == "the broker at " + Address(broker->port()) + " " + c.expected);
    generator.DisconnectAll();
    broker->Stop();
  }
}

}  // namespace edgebench

namespace edgebench {

TEST_CASE("WorkerReport::Merge counts the same mismatch together, notes once", "[load][protocol]") {
  WorkerReport a;
  a.protocol_mismatches = {{"devices", "PUBACK for QoS 2", 3}};
  a.protocol_notes = {"keep-alive 30 s"};
  WorkerReport b;
  b.protocol_mismatches = {{"devices", "acknowledged none", 5}, {"devices", "PUBACK for QoS 2", 2}};
  b.protocol_notes = {"keep-alive 30 s", "receive maximum 5"};
  a.Merge(b);
  CHECK(a.protocol_mismatches ==
        std::vector<ProtocolMismatch>{{"devices", "PUBACK for QoS 2", 5},
                                      {"devices", "acknowledged none", 5}});
  CHECK(a.protocol_notes == std::vector<std::string>{"keep-alive 30 s", "receive maximum 5"});
}

}  // namespace edgebench

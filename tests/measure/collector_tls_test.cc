// Tests for src/measure/collector.cc on its own MQTT connection (MqttSubscriber) against
// real mosquitto brokers: TLS (CA, host name, mutual), MQTT 5 at QoS 1 and 2, user name and
// password, two filters, and a broker restarted on the same port. The messages come from a
// libmosquitto MqttClient, as the devices' do.
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"
#include "edgebench/measure/collector.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/payload.h"

#include "test_support.h"
#include "tls_support.h"

namespace edgebench {
namespace {

using std::chrono::milliseconds;
using testing::Pki;
using testing::ReadText;
using testing::RunProgram;
using testing::TempDir;
using testing::TestBroker;
using testing::TlsSettings;
using testing::WaitFor;
using testing::WriteText;

constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr uint32_t kRunId = 7;

MqttClientOptions TlsClient(const std::string& ca) {
  MqttClientOptions o;
  o.tls = true;
  o.ca_file = ca;
  return o;
}

// A device: a libmosquitto client driven with Loop() from the test's thread.
class Publisher : public MqttHandler {
 public:
  Publisher(MqttClientOptions o, int port) {
    o.client_id = "collector-tls-test-publisher";
    o.port = port;
    Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, this);
    INFO((c.ok() ? std::string() : c.error().message));
    REQUIRE(c.ok());
    client_ = std::move(c.value());
    REQUIRE(client_->ConnectAsync().ok());
    REQUIRE(LoopUntil([this] { return connect_rc_ >= 0; }, 5000));
    REQUIRE(connect_rc_ == 0);
  }
  ~Publisher() override {
    client_->Disconnect();
    client_->Loop(10);
  }

  void OnConnect(int rc) override { connect_rc_ = rc; }
  void OnPublish(int) override { ++acked_; }

  void Send(const std::string& topic, uint32_t device, uint32_t seq, int qos, bool retain = false) {
    std::vector<unsigned char> payload(64, '0');
    const uint64_t now = MonotonicNowNs();
    EncodeHeader(PayloadHeader{kRunId, device, seq, now, now}, payload.data());
    REQUIRE(client_->Publish(topic.c_str(), payload.data(), static_cast<int>(payload.size()), qos,
                             retain, nullptr) == 0);
    ++sent_;
  }
  // Waits until the broker acknowledged every message (QoS 1/2) or took it (QoS 0).
  bool WaitAcked(int timeout_ms = 10000) {
    return LoopUntil([this] { return acked_ == sent_; }, timeout_ms);
  }

 private:
  template <class F>
  bool LoopUntil(F done, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
    while (!done() && std::chrono::steady_clock::now() < deadline) client_->Loop(20);
    return done();
  }

  std::unique_ptr<MqttClient> client_;
  int connect_rc_ = -1;
  int sent_ = 0;
  int acked_ = 0;
};

CollectorConfig ConfigFor(int port, const MqttClientOptions& client, int qos = 1) {
  CollectorConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.qos = qos;
  c.filters = {"t/+"};
  c.devices = 2;
  c.run_id = kRunId;
  c.connect_timeout_s = 5;
  c.client = client;
  return c;
}

// Starts the collector (REQUIREd) with a measurement window around now. The clock is set
// first: the collector's thread takes it before its first read, so every message counts
// in the window (set later, it is taken after the read in progress, up to 50 ms later).
void Start(Collector& collector) {
  const uint64_t now = MonotonicNowNs();
  RunClock clock;
  clock.t0_ns = now - kNsPerS;
  clock.window_start_ns = now - kNsPerS;
  clock.window_end_ns = now + 600 * kNsPerS;
  clock.drain_end_ns = clock.window_end_ns + kNsPerS;
  collector.SetClock(clock);
  Status st = collector.Start();
  INFO((st.ok() ? std::string() : st.error().ToString()));
  REQUIRE(st.ok());
}

std::string StartError(const CollectorConfig& config) {
  Collector collector(config);
  Status st = collector.Start();
  return st.ok() ? "(started)" : st.error().ToString();
}

// Publishes `per_device` messages from each device on t/<device> and returns the report
// once the collector has all of them (or 10 s passed).
CollectorReport Exchange(Collector& collector, const MqttClientOptions& device, int port,
                         uint32_t per_device, int qos = 1) {
  {
    Publisher pub(device, port);
    for (uint32_t seq = 0; seq < per_device; ++seq) {
      for (uint32_t d = 0; d < 2; ++d) pub.Send("t/" + std::to_string(d), d, seq, qos);
    }
    REQUIRE(pub.WaitAcked());
  }
  WaitFor([&] { return collector.received() == uint64_t{2} * per_device; }, 10000);
  collector.Stop();
  return collector.TakeReport();
}

// Every message exactly once, measured, over one connection.
void CheckAllOnce(const CollectorReport& r, uint64_t per_device) {
  CHECK(r.counters[Counter::kReceived] == 2 * per_device);
  CHECK(r.counters[Counter::kWindowReceived] == 2 * per_device);
  CHECK(r.counters[Counter::kDuplicated] == 0);
  CHECK(r.counters[Counter::kForeign] == 0);
  CHECK(r.counters[Counter::kCollectorDisconnects] == 0);
  CHECK(r.received_per_device == std::vector<uint64_t>{per_device, per_device});
  CHECK(r.latency_us.count() == 2 * per_device);
  CHECK(r.latency_actual_us.count() == 2 * per_device);
  CHECK(r.latency_us.max() < 10'000'000);  // sane: under the test's own timeouts
  CHECK(r.counters[Counter::kFirstReceiveNs] > 0);
  CHECK(r.counters[Counter::kLastReceiveNs] >= r.counters[Counter::kFirstReceiveNs]);
}

std::string Prefix(int port) {
  return "cannot connect to the broker at 127.0.0.1:" + std::to_string(port) + ": ";
}

}  // namespace

TEST_CASE("collector over TLS with the broker's CA receives every message", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  MosquittoLibrary library;
  const MqttClientOptions tls = TlsClient(pki.Crt("ca"));
  Collector collector(ConfigFor(broker.port(), tls));
  Start(collector);
  CheckAllOnce(Exchange(collector, tls, broker.port(), 50), 50);
}

TEST_CASE("collector over TLS checks the host name unless tls_insecure", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "elsewhere", false));
  MosquittoLibrary library;
  MqttClientOptions tls = TlsClient(pki.Crt("ca"));
  // By name: the certificate names elsewhere.example, not localhost.
  CollectorConfig by_name = ConfigFor(broker.port(), tls);
  by_name.host = "localhost";
  CHECK(StartError(by_name) ==
        "cannot connect to the broker at localhost:" + std::to_string(broker.port()) +
            ": TLS error: host name verification failed; certificate verify failed");
  // By address (what a scenario's 127.0.0.1 gives): OpenSSL 3's SSL_set1_host() checks an
  // IP address as an address, so the verify result is X509_V_ERR_IP_ADDRESS_MISMATCH, which
  // must read as the same host name failure, not as the wrong-CA text.
  CHECK(StartError(ConfigFor(broker.port(), tls)) ==
        Prefix(broker.port()) +
            "TLS error: host name verification failed; certificate verify failed");
  tls.tls_insecure = true;
  Collector collector(ConfigFor(broker.port(), tls));
  Start(collector);
  CheckAllOnce(Exchange(collector, tls, broker.port(), 5), 5);
}

TEST_CASE("collector over TLS with another CA fails", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  MosquittoLibrary library;
  CHECK(StartError(ConfigFor(broker.port(), TlsClient(pki.Crt("other-ca")))) ==
        Prefix(broker.port()) + "TLS error: certificate verify failed");
  // tls_insecure skips the name, never the chain.
  MqttClientOptions insecure = TlsClient(pki.Crt("other-ca"));
  insecure.tls_insecure = true;
  CHECK(StartError(ConfigFor(broker.port(), insecure)) ==
        Prefix(broker.port()) + "TLS error: certificate verify failed");
  // A CA file that does not exist is named.
  CHECK(StartError(ConfigFor(broker.port(), TlsClient(dir.File("missing.crt")))) ==
        Prefix(broker.port()) + "cannot read TLS file " + dir.File("missing.crt") +
            ": No such file or directory");
}

TEST_CASE("collector over mutual TLS with the client certificate", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", true));
  MosquittoLibrary library;
  MqttClientOptions tls = TlsClient(pki.Crt("ca"));
  tls.cert_file = pki.Crt("client");
  tls.key_file = pki.Key("client");
  Collector collector(ConfigFor(broker.port(), tls));
  Start(collector);
  CheckAllOnce(Exchange(collector, tls, broker.port(), 10), 10);

  // Without one: TLS 1.3 finishes the client's handshake first, so the refusal is the
  // broker's alert, or its reset when that comes first.
  const std::string why = StartError(ConfigFor(broker.port(), TlsClient(pki.Crt("ca"))));
  CHECK((why == Prefix(broker.port()) + "TLS error: tlsv13 alert certificate required" ||
         why == Prefix(broker.port()) + "TLS error: the broker closed the connection"));
}

TEST_CASE("collector over MQTT 5 at QoS 1 and 2 receives every message exactly once",
          "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  MosquittoLibrary library;
  for (int qos : {1, 2}) {
    INFO("qos " << qos);
    MqttClientOptions tls = TlsClient(pki.Crt("ca"));
    tls.protocol = 5;
    tls.user_properties = {{"site", "lab"}};
    tls.session_expiry_s = 0;
    CollectorConfig config = ConfigFor(broker.port(), tls, qos);
    config.protocol = 5;
    Collector collector(config);
    Start(collector);
    CheckAllOnce(Exchange(collector, tls, broker.port(), 200, qos), 200);
  }
}

TEST_CASE("collector with a user name and password", "[collector]") {
  TempDir dir;
  const std::string passwords = dir.File("passwords");
  RunProgram({"mosquitto_passwd", "-c", "-b", passwords, "collector", "s3cret"},
             dir.File("mosquitto_passwd.log"));
  TestBroker broker(dir, "broker", "password_file " + passwords + "\nallow_anonymous false\n");
  MosquittoLibrary library;
  MqttClientOptions credentials;
  credentials.username = "collector";
  credentials.password = "s3cret";
  Collector collector(ConfigFor(broker.port(), credentials));
  Start(collector);
  CheckAllOnce(Exchange(collector, credentials, broker.port(), 5), 5);

  const std::string refused = "the broker at 127.0.0.1:" + std::to_string(broker.port()) +
                              " refused the collector's connection: ";
  MqttClientOptions wrong = credentials;
  wrong.password = "guess";
  CHECK(StartError(ConfigFor(broker.port(), wrong)) ==
        refused + "Connection Refused: not authorised.");
  CollectorConfig wrong5 = ConfigFor(broker.port(), wrong);
  wrong5.protocol = 5;
  CHECK(StartError(wrong5) == refused + "Not authorized");
  CHECK(StartError(ConfigFor(broker.port(), MqttClientOptions{})) ==
        refused + "Connection Refused: not authorised.");
}

TEST_CASE("collector subscribed to two filters gets messages from both", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  TestBroker broker(dir, "broker", TlsSettings(pki, "server", false));
  MosquittoLibrary library;
  const MqttClientOptions tls = TlsClient(pki.Crt("ca"));
  CollectorConfig config = ConfigFor(broker.port(), tls);
  config.filters = {"a/+", "b/+"};
  Collector collector(config);
  Start(collector);
  {
    Publisher pub(tls, broker.port());
    for (uint32_t seq = 0; seq < 3; ++seq) pub.Send("a/0", 0, seq, 1);
    for (uint32_t seq = 0; seq < 4; ++seq) pub.Send("b/1", 1, seq, 1);
    pub.Send("c/0", 0, 99, 1);  // matches neither filter
    REQUIRE(pub.WaitAcked());
  }
  REQUIRE(WaitFor([&] { return collector.received() == 7; }, 10000));
  collector.Stop();
  CollectorReport r = collector.TakeReport();
  CHECK(r.counters[Counter::kReceived] == 7);
  CHECK(r.received_per_device == std::vector<uint64_t>{3, 4});
  CHECK(r.counters[Counter::kDuplicated] == 0);
  CHECK(r.counters[Counter::kForeign] == 0);
}

TEST_CASE("collector reconnects to a broker restarted on the same port", "[collector][tls]") {
  TempDir dir;
  Pki pki(dir);
  std::optional<TestBroker> broker;
  broker.emplace(dir, "broker", TlsSettings(pki, "server", false));
  const int port = broker->port();
  MosquittoLibrary library;
  const MqttClientOptions tls = TlsClient(pki.Crt("ca"));
  Collector collector(ConfigFor(port, tls));
  Start(collector);
  {
    Publisher pub(tls, port);
    for (uint32_t seq = 0; seq < 5; ++seq) pub.Send("t/0", 0, seq, 1);
    REQUIRE(pub.WaitAcked());
  }
  REQUIRE(WaitFor([&] { return collector.received() == 5; }, 10000));

  broker.reset();  // SIGTERM: mosquitto closes every connection
  REQUIRE(WaitFor([&] { return collector.Snapshot().disconnects == 1; }, 10000));
  // Issue 13, item 1: the reconnect loop spun at 95 % CPU while the broker was gone. With the
  // back-off (50 ms doubling to 1 s) an outage of E seconds costs at most about 5 + E
  // attempts; a slower machine makes fewer, never more. A busy loop makes thousands.
  const auto gone = std::chrono::steady_clock::now();
  REQUIRE(WaitFor([&] { return collector.Snapshot().reconnect_attempts >= 6; }, 15000));
  const double gone_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - gone).count();
  const uint64_t attempts = collector.Snapshot().reconnect_attempts;
  INFO(attempts << " attempts in " << gone_s << " s");
  CHECK(static_cast<double>(attempts) <= 6 + gone_s);
  // The same port, as a second listener (EmbeddedBroker picks the first one itself); it
  // binds with SO_REUSEADDR, so the old connections' TIME_WAIT does not stand in the way.
  TestBroker restarted(
      dir, "restarted",
      "listener " + std::to_string(port) + " 127.0.0.1\n" + TlsSettings(pki, "server", false));
  // Subscribed again: a retained message reaches the collector exactly once, either on
  // its SUBSCRIBE (published before it) or as a plain message (after it).
  {
    Publisher pub(tls, port);
    pub.Send("t/1", 1, 0, 1, /*retain=*/true);
    REQUIRE(pub.WaitAcked());
  }
  REQUIRE(WaitFor([&] { return collector.received() == 6; }, 15000));
  {
    Publisher pub(tls, port);
    for (uint32_t seq = 5; seq < 10; ++seq) pub.Send("t/0", 0, seq, 1);
    for (uint32_t seq = 1; seq < 3; ++seq) pub.Send("t/1", 1, seq, 1);
    REQUIRE(pub.WaitAcked());
  }
  REQUIRE(WaitFor([&] { return collector.received() == 13; }, 10000));
  collector.Stop();
  CollectorReport r = collector.TakeReport();
  CHECK(r.counters[Counter::kCollectorDisconnects] == 1);
  CHECK(r.counters[Counter::kReceived] == 13);
  CHECK(r.received_per_device == std::vector<uint64_t>{10, 3});
  CHECK(r.counters[Counter::kDuplicated] == 0);
  CHECK(r.counters[Counter::kReordered] == 0);
}

}  // namespace edgebench

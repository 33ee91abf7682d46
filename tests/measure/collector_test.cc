// Tests for src/collector.cc: crafted messages through a real mosquitto, and the
// collector's connection errors.
#include "edgebench/measure/collector.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/payload.h"
#include "test_support.h"

namespace edgebench {
namespace {

using std::chrono::milliseconds;
using testing::BrokerFixture;
using testing::WaitFor;

constexpr uint64_t kNsPerS = 1'000'000'000;

// A publisher driven with Loop() from the test's thread; counts connects and acks.
class Publisher : public MqttHandler {
 public:
  explicit Publisher(int port) {
    MqttClientOptions o;
    o.client_id = "collector-test-publisher";
    o.port = port;
    Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, this);
    REQUIRE(c.ok());
    client_ = std::move(c.value());
    REQUIRE(client_->ConnectAsync().ok());
    REQUIRE(LoopUntil([this] { return connected_; }, 5000));
  }
  ~Publisher() override {
    client_->Disconnect();
    client_->Loop(10);
  }

  void OnConnect(int rc) override { connected_ = rc == 0; }
  void OnPublish(int) override { ++acked_; }

  void Send(const std::string& topic, const std::vector<unsigned char>& payload) {
    REQUIRE(client_->Publish(topic.c_str(), payload.data(), static_cast<int>(payload.size()),
                             /*qos=*/1, /*retain=*/false, nullptr) == 0);
    ++sent_;
  }
  bool WaitAcked(int timeout_ms) {
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
  bool connected_ = false;
  int sent_ = 0;
  int acked_ = 0;
};

std::vector<unsigned char> Message(uint32_t run_id, uint32_t device, uint32_t seq) {
  std::vector<unsigned char> payload(64, '0');
  uint64_t now = MonotonicNowNs();
  EncodeHeader(PayloadHeader{run_id, device, seq, now, now}, payload.data());
  return payload;
}

CollectorConfig ConfigFor(int port) {
  CollectorConfig config;
  config.host = "127.0.0.1";
  config.port = port;
  config.qos = 1;
  config.filters = {"t/+"};
  config.devices = 2;
  config.run_id = 7;
  config.connect_timeout_s = 2;
  return config;
}

}  // namespace

TEST_CASE("collector counts duplicates, reordering and foreign messages", "[collector]") {
  BrokerFixture broker;  // forks: before the collector's thread starts
  MosquittoLibrary library;
  Collector collector(ConfigFor(broker.port()));
  Status st = collector.Start();
  INFO((st.ok() ? std::string() : st.error().message));
  REQUIRE(st.ok());

  uint64_t now = MonotonicNowNs();
  RunClock clock;
  clock.t0_ns = now - kNsPerS;
  clock.window_start_ns = now - kNsPerS;
  clock.window_end_ns = now + 60 * kNsPerS;
  clock.drain_end_ns = clock.window_end_ns + kNsPerS;
  collector.SetClock(clock);
  std::this_thread::sleep_for(milliseconds(100));  // the collector's thread takes the clock

  {
    Publisher pub(broker.port());
    // One connection publishes them in this order, and the broker keeps that order.
    pub.Send("t/0", Message(7, 0, 0));
    pub.Send("t/0", Message(7, 0, 2));
    pub.Send("t/0", Message(7, 0, 1));                 // reordered
    pub.Send("t/0", Message(7, 0, 1));                 // duplicated
    pub.Send("t/0", Message(8, 0, 3));                 // another run
    pub.Send("t/0", std::vector<unsigned char>(10, 'x'));  // too short for a header
    pub.Send("t/1", Message(7, 1, 0));
    REQUIRE(pub.WaitAcked(5000));
  }
  REQUIRE(WaitFor([&] { return collector.received() == 4; }, 5000));
  collector.Stop();

  CollectorReport r = collector.TakeReport();
  CHECK(r.counters[Counter::kReceived] == 4);
  CHECK(r.counters[Counter::kDuplicated] == 1);
  CHECK(r.counters[Counter::kReordered] == 1);
  CHECK(r.counters[Counter::kForeign] == 2);
  CHECK(r.received_per_device == std::vector<uint64_t>{3, 1});
  CHECK(r.counters[Counter::kWindowReceived] == 4);
  CHECK(r.latency_us.count() == 4);
  CHECK(r.latency_actual_us.count() == 4);
  CHECK(r.latency_us.max() < 5'000'000);  // sane: well under the test's own duration
  CHECK(r.counters[Counter::kCollectorDisconnects] == 0);
  uint64_t per_second_total = 0;
  for (const SecondStats& second : r.per_second) per_second_total += second.received;
  CHECK(per_second_total == 4);
}

TEST_CASE("collector outside the window counts but does not measure", "[collector]") {
  BrokerFixture broker;
  MosquittoLibrary library;
  Collector collector(ConfigFor(broker.port()));
  REQUIRE(collector.Start().ok());
  uint64_t now = MonotonicNowNs();
  RunClock clock;
  clock.t0_ns = now;
  clock.window_start_ns = now + 60 * kNsPerS;  // the messages are all warm-up
  clock.window_end_ns = now + 61 * kNsPerS;
  clock.drain_end_ns = now + 62 * kNsPerS;
  collector.SetClock(clock);
  std::this_thread::sleep_for(milliseconds(100));
  {
    Publisher pub(broker.port());
    pub.Send("t/1", Message(7, 2, 0));  // device 2 is not part of a 2-device run
    pub.Send("t/0", Message(7, 0, 0));
    pub.Send("t/1", Message(7, 1, 0));
    REQUIRE(pub.WaitAcked(5000));
  }
  REQUIRE(WaitFor([&] { return collector.received() == 2; }, 5000));
  collector.Stop();
  CollectorReport r = collector.TakeReport();
  CHECK(r.counters[Counter::kReceived] == 2);
  CHECK(r.counters[Counter::kForeign] == 1);
  CHECK(r.counters[Counter::kWindowReceived] == 0);
  CHECK(r.latency_us.count() == 0);
}

TEST_CASE("collector pointed at a closed port", "[collector]") {
  const int port = testing::ClosedLoopbackPort();
  MosquittoLibrary library;
  CollectorConfig config = ConfigFor(port);
  config.connect_timeout_s = 1;
  Collector collector(config);
  auto start = std::chrono::steady_clock::now();
  Status st = collector.Start();
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(2000));
  REQUIRE(!st.ok());
  CHECK(st.error().ToString() == "cannot connect to the broker at 127.0.0.1:" +
                                     std::to_string(port) + ": Connection refused");
}

}  // namespace edgebench

// The collector: subscribes to the run's topics and turns arriving messages into latency,
// loss, duplicate and reorder figures.
#include "edgebench/measure/collector.h"

#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/payload.h"

namespace edgebench {
namespace {
constexpr uint64_t kNsPerS = 1'000'000'000;
}  // namespace

// Runs on the collector thread (after Start()); owns the client and every statistic.
class Collector::Handler : public MqttHandler {
 public:
  explicit Handler(const CollectorConfig& config) : config_(config) {
    report_.received_per_device.assign(static_cast<size_t>(config.devices), 0);
    seen_.resize(static_cast<size_t>(config.devices));
    highest_seq_.assign(static_cast<size_t>(config.devices), -1);
  }

  std::unique_ptr<MqttClient> client;
  bool connected = false;
  int subscribed = 0;  // SUBACKs received
  int refused_rc = -1;
  bool lost = false;
  RunClock clock;
  bool clock_set = false;

  void OnConnect(int rc) override {
    if (rc != 0) {
      refused_rc = rc;
      return;
    }
    connected = true;
    // (Re)subscribe on every connect: a clean session forgets subscriptions.
    for (const std::string& f : config_.filters) client->Subscribe(f.c_str(), config_.qos, nullptr);
  }
  void OnDisconnect(int rc) override {
    if (connected && rc != 0) report_.counters.Add(Counter::kCollectorDisconnects);
    connected = false;
    lost = rc != 0;
  }
  void OnSubscribe(int, int) override { ++subscribed; }

  void OnMessage(const char*, const void* payload, size_t size) override {
    uint64_t now = MonotonicNowNs();
    if (!config_.latency) {
      Count(now, -1);
      return;
    }
    PayloadHeader h;
    if (!DecodeHeader(payload, size, &h) || h.run_id != config_.run_id ||
        h.device >= static_cast<uint32_t>(config_.devices)) {
      report_.counters.Add(Counter::kForeign);
      return;
    }
    if (!MarkSeen(h.device, h.seq)) {
      report_.counters.Add(Counter::kDuplicated);
      return;
    }
    int64_t latency_us = static_cast<int64_t>(now - h.intended_ns) / 1000;
    if (clock_set && h.intended_ns >= clock.window_start_ns &&
        h.intended_ns < clock.window_end_ns) {
      report_.counters.Add(Counter::kWindowReceived);
      report_.counters.Set(Counter::kLastWindowReceiveNs, now);
      report_.latency_us.Record(latency_us);
      report_.latency_actual_us.Record(static_cast<int64_t>(now - h.sent_ns) / 1000);
    }
    Count(now, latency_us);
  }

  // Closes the per-second rows up to the second containing `now`.
  void AdvanceTo(uint64_t now) {
    if (!clock_set || now < clock.t0_ns) return;
    size_t second = static_cast<size_t>((now - clock.t0_ns) / kNsPerS);
    while (current_second_ < second) CloseSecond();
  }
  void Finish() {
    if (clock_set && (current_.received > 0 || current_second_ > 0)) CloseSecond();
  }
  CollectorReport& report() { return report_; }
  int64_t WindowP99() const { return report_.latency_us.ValueAtPercentile(99.0); }

 private:
  void Count(uint64_t now, int64_t latency_us) {
    report_.counters.Add(Counter::kReceived);
    report_.counters.Set(Counter::kLastReceiveNs, now);
    AdvanceTo(now);
    ++current_.received;
    if (latency_us >= 0) interval_.Record(latency_us);
  }

  void CloseSecond() {
    if (interval_.count() > 0) {
      current_.p50_us = interval_.ValueAtPercentile(50.0);
      current_.p99_us = interval_.ValueAtPercentile(99.0);
    }
    report_.per_second.push_back(current_);
    current_ = SecondStats{};
    interval_.Reset();
    ++current_second_;
  }

  // Records (device, seq); false when it was seen before. Also counts reordering.
  bool MarkSeen(uint32_t device, uint32_t seq) {
    std::vector<uint64_t>& bits = seen_[device];
    size_t word = seq / 64;
    if (word >= bits.size()) bits.resize(std::max(word + 1, bits.size() * 2), 0);
    uint64_t mask = uint64_t{1} << (seq % 64);
    if (bits[word] & mask) return false;
    bits[word] |= mask;
    ++report_.received_per_device[device];
    if (static_cast<int64_t>(seq) < highest_seq_[device]) {
      report_.counters.Add(Counter::kReordered);
    } else {
      highest_seq_[device] = seq;
    }
    return true;
  }

  const CollectorConfig& config_;
  CollectorReport report_;
  std::vector<std::vector<uint64_t>> seen_;  // one bit per sequence number, per device
  std::vector<int64_t> highest_seq_;
  SecondStats current_;
  size_t current_second_ = 0;
  LatencyHistogram interval_;
};

Collector::Collector(CollectorConfig config)
    : config_(std::move(config)), handler_(std::make_unique<Handler>(config_)) {}

Collector::~Collector() { Stop(); }

Status Collector::Start() {
  MqttClientOptions o = config_.client;
  if (o.client_id.empty()) o.client_id = "eb-" + std::to_string(config_.run_id) + "-collector";
  o.host = config_.host;
  o.port = config_.port;
  o.protocol = config_.protocol;
  o.keepalive_s = config_.keepalive_s;
  o.max_inflight = 0;  // unlimited: never throttle the broker's deliveries to us
  Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, handler_.get());
  if (!c.ok()) return Error{"collector: " + c.error().message};
  handler_->client = std::move(c.value());
  Status st = handler_->client->ConnectAsync();
  if (!st) return st;

  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(config_.connect_timeout_s * 1000));
  std::string why = "no answer (connect timeout)";
  while (handler_->subscribed < static_cast<int>(config_.filters.size())) {
    if (handler_->refused_rc >= 0) {
      return Error{"the broker at " + handler_->client->Address() +
                   " refused the collector's connection: " +
                   MqttClient::ConnackString(config_.protocol, handler_->refused_rc)};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{"cannot subscribe at the broker at " + handler_->client->Address() + " within " +
                   fmt::format("{:g}", config_.connect_timeout_s) + " s: " + why};
    }
    int rc = handler_->client->Loop(50);
    if (rc != 0 && handler_->refused_rc < 0) {
      why = handler_->client->DescribeError(rc);
      return Error{"cannot connect to the broker at " + handler_->client->Address() + ": " + why};
    }
  }
  spdlog::info("collector subscribed filters={}", fmt::join(config_.filters, ","));
  thread_ = std::thread([this] { Run(); });
  return Ok{};
}

void Collector::SetClock(const RunClock& clock) {
  std::lock_guard<std::mutex> lock(mu_);
  clock_ = clock;
  clock_set_ = true;
}

CollectorSnapshot Collector::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

// One round of the collector's own event loop: wait up to 50 ms for the socket, then read
// every packet already in the kernel's buffer. (mosquitto_loop() reads one packet per call
// behind a select(): at 100k msg/s that select alone would cost the collector a core.)
int Collector::Pump() {
  MqttClient& c = *handler_->client;
  int fd = c.socket();
  if (fd < 0) return MqttClient::kNoConnection;
  pollfd p{fd, static_cast<short>(POLLIN | (c.want_write() ? POLLOUT : 0)), 0};
  if (::poll(&p, 1, 50) < 0) return 0;
  int rc = 0;
  if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
    for (int i = 0; i < 65536 && rc == 0; ++i) {
      rc = c.LoopRead();
      int pending = 0;
      if (rc != 0 || c.socket() < 0 || ::ioctl(fd, FIONREAD, &pending) != 0 || pending <= 0) break;
    }
  }
  if (rc == 0 && c.socket() >= 0 && c.want_write()) rc = c.LoopWrite();
  return rc;
}

void Collector::Run() {
  Handler& h = *handler_;
  auto next_snapshot = std::chrono::steady_clock::now();
  auto next_reconnect = next_snapshot;
  auto next_misc = next_snapshot;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!h.clock_set) {
      std::lock_guard<std::mutex> lock(mu_);
      h.clock = clock_;
      h.clock_set = clock_set_;
    }
    int rc = Pump();
    auto now = std::chrono::steady_clock::now();
    if (rc != 0 && now >= next_reconnect) {
      // The broker went away; keep trying once a second, the run counts the gap.
      next_reconnect = now + std::chrono::seconds(1);
      (void)h.client->ReconnectAsync();
      if (h.client->socket() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (now >= next_misc) {
      next_misc = now + std::chrono::seconds(1);
      if (h.client->socket() >= 0) h.client->LoopMisc();  // keep-alive pings
    }
    received_.store(h.report().counters[Counter::kReceived], std::memory_order_relaxed);
    if (now >= next_snapshot) {
      next_snapshot = now + std::chrono::milliseconds(250);
      h.AdvanceTo(MonotonicNowNs());
      std::lock_guard<std::mutex> lock(mu_);
      snapshot_.received = h.report().counters[Counter::kReceived];
      snapshot_.p99_us = h.WindowP99();
      snapshot_.last_receive_ns = h.report().counters[Counter::kLastReceiveNs];
      snapshot_.disconnects = h.report().counters[Counter::kCollectorDisconnects];
    }
  }
}

void Collector::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  handler_->AdvanceTo(MonotonicNowNs());
  handler_->Finish();
  handler_->client->Disconnect();
}

CollectorReport Collector::TakeReport() { return std::move(handler_->report()); }

}  // namespace edgebench

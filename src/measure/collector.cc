// The collector: subscribes to the run's topics and turns arriving messages into latency,
// loss, duplicate and reorder figures.
#include "edgebench/measure/collector.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/payload.h"
#include "edgebench/mqtt/subscriber.h"

namespace edgebench {
namespace {
constexpr uint64_t kNsPerS = 1'000'000'000;
}  // namespace

// Runs on the collector thread (after Start()); owns the subscriber and every statistic.
class Collector::Handler : public MqttSubscriber::Sink {
 public:
  explicit Handler(const CollectorConfig& config) : config_(config) {
    report_.received_per_device.assign(static_cast<size_t>(config.devices), 0);
    seen_.resize(static_cast<size_t>(config.devices));
    highest_seq_.assign(static_cast<size_t>(config.devices), -1);
  }

  std::optional<MqttSubscriber> subscriber;
  RunClock clock;
  bool clock_set = false;

  // The hot path: per message an array index per device, a bit test and three histogram
  // records; no allocation but the seen-bitmap's doubling, no lookup, no syscall.
  void OnPublish(const MqttPublish& m, uint64_t now) override {
    if (!config_.latency) {
      Count(now, -1);
      return;
    }
    PayloadHeader h;
    if (!DecodeHeader(m.payload.data(), m.payload.size(), &h) || h.run_id != config_.run_id ||
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

  void OnLost() { report_.counters.Add(Counter::kCollectorDisconnects); }

  // Closes the per-second rows up to the second containing `now`.
  void AdvanceTo(uint64_t now) {
    if (!clock_set || now < next_second_ns_) return;
    if (now < clock.t0_ns) return;
    size_t second = static_cast<size_t>((now - clock.t0_ns) / kNsPerS);
    while (current_second_ < second) CloseSecond();
    next_second_ns_ = clock.t0_ns + (current_second_ + 1) * kNsPerS;
  }
  void Finish() {
    if (clock_set && (current_.received > 0 || current_second_ > 0)) CloseSecond();
  }
  CollectorReport& report() { return report_; }
  int64_t WindowP99() const { return report_.latency_us.ValueAtPercentile(99.0); }

 private:
  void Count(uint64_t now, int64_t latency_us) {
    if (report_.counters[Counter::kReceived] == 0) report_.counters.Set(Counter::kFirstReceiveNs, now);
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
  uint64_t next_second_ns_ = 0;  // AdvanceTo() has nothing to do before this time
  LatencyHistogram interval_;
};

Collector::Collector(CollectorConfig config)
    : config_(std::move(config)), handler_(std::make_unique<Handler>(config_)) {}

Collector::~Collector() { Stop(); }

MqttSubscriber::Config Collector::SubscriberConfig() const {
  MqttSubscriber::Config c;
  c.client = config_.client;
  if (c.client.client_id.empty()) c.client.client_id = "eb-" + std::to_string(config_.run_id) + "-collector";
  c.client.host = config_.host;
  c.client.port = config_.port;
  c.client.protocol = config_.protocol;
  c.client.keepalive_s = config_.keepalive_s;
  c.filters = config_.filters;
  c.qos = config_.qos;
  return c;
}

Status Collector::Start() {
  handler_->subscriber.emplace(SubscriberConfig(), handler_.get());
  if (Status st = handler_->subscriber->Connect(config_.connect_timeout_s); !st) return st;
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

// After a lost connection: one attempt when the back-off has passed (50 ms, doubling up to
// 1 s), so a broker that is gone costs a few attempts a second, never a busy loop.
void Collector::Reconnect(Clock::time_point now) {
  MqttSubscriber& sub = *handler_->subscriber;
  if (now < next_reconnect_) {
    std::this_thread::sleep_for(std::min<Clock::duration>(next_reconnect_ - now, kPumpWait));
    return;
  }
  Status st = sub.Connect(std::min(config_.connect_timeout_s, 1.0));
  if (st) {
    spdlog::info("collector reconnected after {} attempt(s)", reconnect_attempts_ + 1);
    reconnect_attempts_ = 0;
    backoff_ = kFirstBackoff;
    return;
  }
  if (reconnect_attempts_++ == 0) spdlog::info("collector: {}", st.error().message);
  next_reconnect_ = Clock::now() + backoff_;
  backoff_ = std::min<Clock::duration>(backoff_ * 2, std::chrono::seconds(1));
}

void Collector::Run() {
  Handler& h = *handler_;
  MqttSubscriber& sub = *h.subscriber;
  auto next_snapshot = Clock::now();
  auto next_keepalive = next_snapshot;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!h.clock_set) {
      std::lock_guard<std::mutex> lock(mu_);
      h.clock = clock_;
      h.clock_set = clock_set_;
    }
    auto now = Clock::now();
    if (sub.connected()) {
      if (!sub.Pump(static_cast<int>(kPumpWait.count())) ||
          (now >= next_keepalive && !sub.KeepAlive(MonotonicNowNs()))) {
        h.OnLost();
        spdlog::info("collector lost its connection: {}; reconnecting", sub.error());
        next_reconnect_ = Clock::now() + kFirstBackoff;
        backoff_ = kFirstBackoff * 2;
      }
      if (now >= next_keepalive) next_keepalive = now + std::chrono::seconds(1);
    } else {
      Reconnect(now);
    }
    received_.store(h.report().counters[Counter::kReceived], std::memory_order_relaxed);
    if (now >= next_snapshot) {
      next_snapshot = now + std::chrono::milliseconds(250);
      UpdateSnapshot();
    }
  }
}

void Collector::UpdateSnapshot() {
  Handler& h = *handler_;
  h.AdvanceTo(MonotonicNowNs());
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.received = h.report().counters[Counter::kReceived];
  snapshot_.p99_us = h.WindowP99();
  snapshot_.last_receive_ns = h.report().counters[Counter::kLastReceiveNs];
  snapshot_.disconnects = h.report().counters[Counter::kCollectorDisconnects];
}

void Collector::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  handler_->AdvanceTo(MonotonicNowNs());
  handler_->Finish();
  MqttSubscriber& sub = *handler_->subscriber;
  const MqttSubscriber::Stats& st = sub.stats();
  spdlog::info("collector reads={} bytes={} bytes_per_read={} ack_writes={}", st.reads, st.bytes,
               st.reads > 0 ? st.bytes / st.reads : 0, st.ack_writes);
  sub.Disconnect();
}

CollectorReport Collector::TakeReport() { return std::move(handler_->report()); }

}  // namespace edgebench

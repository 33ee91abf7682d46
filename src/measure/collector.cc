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
#include "edgebench/mqtt/subscriber.h"

namespace edgebench {
namespace {
// Waits shorter than this save nothing (a wake-up costs about as much); longer than this
// would blur a second's timeline.
constexpr uint64_t kMinCoalesceNs = 20'000;
constexpr uint64_t kMaxCoalesceNs = 1'000'000;
}  // namespace

// Runs on the collector thread (after Start()); owns the subscriber and every statistic.
class Collector::Handler : public MqttSubscriber::Sink {
 public:
  explicit Handler(const CollectorConfig& config)
      : stats(config.devices, config.run_id, config.latency) {}

  MessageStats stats;
  std::optional<MqttSubscriber> subscriber;
  uint64_t coalesce_ns = 0;  // how long Run() may wait after a read that brought data

  void OnPublish(const MqttPublish& m, uint64_t now) override { stats.Record(m.payload, now); }
  void OnLost() { stats.report().counters.Add(Counter::kCollectorDisconnects); }

  // Every 100 ms: Run() may wait up to 2 % of the median latency of this second so far
  // between reads, so the receive time of a message is late by at most that much.
  void UpdateCoalesce() {
    const uint64_t allowed =
        static_cast<uint64_t>(std::max<int64_t>(0, stats.SecondP50SoFar())) * 20;
    coalesce_ns = allowed < kMinCoalesceNs ? 0 : std::min(allowed, kMaxCoalesceNs);
  }

  // Traffic is flowing and latencies are long: let it gather for coalesce_ns, so one read
  // (one wake-up, which costs more than the messages it brings) carries several messages.
  void Coalesce() {
    Counters& c = stats.report().counters;
    c.Add(Counter::kCollectorCoalescedReads);
    c.Raise(Counter::kCollectorCoalesceMaxNs, coalesce_ns);
    std::this_thread::sleep_for(std::chrono::nanoseconds(coalesce_ns));
  }
  CollectorReport& report() { return stats.report(); }
};

Collector::Collector(CollectorConfig config)
    : config_(std::move(config)), handler_(std::make_unique<Handler>(config_)) {}

Collector::~Collector() { Stop(); }

MqttSubscriber::Config Collector::SubscriberConfig() const {
  MqttSubscriber::Config c;
  c.client = config_.client;
  if (c.client.client_id.empty())
    c.client.client_id = "eb-" + std::to_string(config_.run_id) + "-collector";
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
  ++reconnect_attempts_total_;
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
  auto next_coalesce = next_snapshot;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!h.stats.clock_set()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (clock_set_) h.stats.SetClock(clock_);
    }
    auto now = Clock::now();
    if (sub.connected()) {
      const uint64_t reads = sub.stats().reads;
      if (!sub.Pump(static_cast<int>(kPumpWait.count())) ||
          (now >= next_keepalive && !sub.KeepAlive(MonotonicNowNs()))) {
        h.OnLost();
        spdlog::info("collector lost its connection: {}; reconnecting", sub.error());
        next_reconnect_ = Clock::now() + kFirstBackoff;
        backoff_ = kFirstBackoff * 2;
      } else if (sub.stats().reads != reads && h.coalesce_ns > 0) {
        h.Coalesce();
      }
      if (now >= next_keepalive) next_keepalive = now + std::chrono::seconds(1);
    } else {
      Reconnect(now);
    }
    received_.store(h.report().counters[Counter::kReceived], std::memory_order_relaxed);
    if (now >= next_coalesce) {
      next_coalesce = now + std::chrono::milliseconds(100);
      h.UpdateCoalesce();
    }
    if (now >= next_snapshot) {
      next_snapshot = now + std::chrono::milliseconds(250);
      UpdateSnapshot();
    }
  }
}

void Collector::UpdateSnapshot() {
  Handler& h = *handler_;
  h.stats.AdvanceTo(MonotonicNowNs());
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.received = h.report().counters[Counter::kReceived];
  snapshot_.p99_us = h.stats.WindowP99();
  snapshot_.last_receive_ns = h.report().counters[Counter::kLastReceiveNs];
  snapshot_.disconnects = h.report().counters[Counter::kCollectorDisconnects];
  snapshot_.reconnect_attempts = reconnect_attempts_total_;
}

void Collector::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  handler_->stats.AdvanceTo(MonotonicNowNs());
  handler_->stats.Finish();
  MqttSubscriber& sub = *handler_->subscriber;
  const MqttSubscriber::Stats& st = sub.stats();
  Counters& c = handler_->report().counters;
  c.Set(Counter::kCollectorReads, st.reads);
  c.Set(Counter::kCollectorReadBytes, st.bytes);
  c.Set(Counter::kCollectorAckWrites, st.ack_writes);
  for (const MqttSubscriber::Described& d : sub.DescribeDeviations()) {
    AddProtocolMismatch(&handler_->report().protocol_mismatches,
                        ProtocolMismatch{"collector", d.message, d.count});
  }
  handler_->report().protocol_notes = sub.notes();
  spdlog::info("collector reads={} bytes={} bytes_per_read={} ack_writes={} coalesced_reads={}",
               st.reads, st.bytes, st.reads > 0 ? st.bytes / st.reads : 0, st.ack_writes,
               c[Counter::kCollectorCoalescedReads]);
  sub.Disconnect();
}

CollectorReport Collector::TakeReport() { return std::move(handler_->report()); }

}  // namespace edgebench

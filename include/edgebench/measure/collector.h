// Collector: the orchestrator's own subscriber, which measures latency and loss.
//
// Contract: Start() connects, subscribes to every device topic at the publish QoS and
// returns once the broker has granted the subscription (so it is subscribed before the
// first publish), or an Error. From then on one thread owns the connection (MqttSubscriber:
// 1 MiB reads decoded in place, acks batched per read) and all statistics; SetClock() must
// be called before the worker is told to go. A message's receive time is the time of the
// read that brought it. A lost connection is counted and retried with a back-off of 50 ms
// doubling to 1 s (never a busy loop). Snapshot() is safe from any thread. Stop() joins
// the thread; TakeReport() is valid after Stop().
#ifndef EDGEBENCH_MEASURE_COLLECTOR_H_
#define EDGEBENCH_MEASURE_COLLECTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/base/error.h"
#include "edgebench/measure/message_stats.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/subscriber.h"

namespace edgebench {

struct CollectorConfig {
  std::string host;
  int port = 0;
  int protocol = 4;
  int keepalive_s = 60;
  int qos = 0;
  std::vector<std::string> filters;
  int devices = 0;
  uint32_t run_id = 0;
  bool latency = true;  // payloads carry the edgebench header
  double connect_timeout_s = 5;
  MqttClientOptions client;  // TLS, credentials, MQTT 5 options (id, host, port set here too)
};

// What the live status line shows.
struct CollectorSnapshot {
  uint64_t received = 0;
  int64_t p99_us = 0;            // over the window so far
  uint64_t last_receive_ns = 0;  // CLOCK_MONOTONIC of the last arrival (0: none yet)
  uint64_t disconnects = 0;
  uint64_t reconnect_attempts = 0;  // every attempt so far, failed or not
};

class Collector {
 public:
  explicit Collector(CollectorConfig config);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Error: "cannot connect to the broker at 127.0.0.1:1883: Connection refused".
  Status Start();
  void SetClock(const RunClock& clock);
  CollectorSnapshot Snapshot() const;
  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  void Stop();
  CollectorReport TakeReport();

  class Handler;  // the statistics and the subscriber; defined in collector.cc

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kPumpWait{50};
  static constexpr std::chrono::milliseconds kFirstBackoff{50};

  MqttSubscriber::Config SubscriberConfig() const;
  void Run();
  void Reconnect(Clock::time_point now);
  void UpdateSnapshot();

  CollectorConfig config_;
  std::unique_ptr<Handler> handler_;  // owns the client and the statistics
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  // The collector thread's reconnect back-off.
  Clock::time_point next_reconnect_{};
  Clock::duration backoff_ = kFirstBackoff;
  int reconnect_attempts_ = 0;             // since the connection was lost
  uint64_t reconnect_attempts_total_ = 0;  // over the run, for the snapshot
  mutable std::mutex mu_;
  RunClock clock_;              // Guarded by mu_.
  bool clock_set_ = false;      // Guarded by mu_.
  CollectorSnapshot snapshot_;  // Guarded by mu_.
};

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_COLLECTOR_H_

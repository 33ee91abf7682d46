// MessageStats: what the collector makes of each message it receives.
//
// Contract: Record() is the collector's per-message work, apart from the network: it decodes
// the edgebench header of a payload, drops foreign messages and duplicates (one bit per
// sequence number and device), counts reordering, and records latency into the window's
// histograms and the per-second timeline. Per message: array indexes by device, a bit
// test, up to three histogram records and no allocation (the seen-bitmap of a device
// doubles when its sequence numbers outgrow it), no lookup, no syscall. Without SetClock()
// messages are counted but neither measured nor put on the timeline. Not thread-safe:
// one owner (the collector's thread).
#ifndef EDGEBENCH_MEASURE_MESSAGE_STATS_H_
#define EDGEBENCH_MEASURE_MESSAGE_STATS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/results/counters.h"
#include "edgebench/results/histogram.h"
#include "edgebench/results/run_result.h"

namespace edgebench {

// One second of the run, by receive time (second 0 starts at t0).
struct SecondStats {
  uint64_t received = 0;
  int64_t p50_us = 0;  // latency from the intended send time; 0 when nothing was received
  int64_t p99_us = 0;
};

struct CollectorReport {
  // The collector's counters: received (distinct messages of this run; duplicates not
  // counted), duplicated, reordered, foreign (on our topics but not from this run),
  // window_received, collector_disconnects, last_window_receive_ns, last_receive_ns.
  Counters counters;
  LatencyHistogram latency_us;         // receive - intended send time, window messages
  LatencyHistogram latency_actual_us;  // receive - actual send time, window messages
  std::vector<uint64_t> received_per_device;
  std::vector<SecondStats> per_second;
  // What the broker did against what the collector asked (mqtt/subscriber.h deviations()),
  // and what it changed that the collector followed.
  std::vector<ProtocolMismatch> protocol_mismatches;
  std::vector<std::string> protocol_notes;
};

class MessageStats {
 public:
  // How far behind its device's newest message a copy is still told apart from a first
  // delivery. Older ones count as duplicated: brokers deliver each subscription's messages in
  // order, so only a redelivered copy arrives that late.
  static constexpr uint32_t kSeenWindow = 4096;

  // `latency`: payloads carry the edgebench header (otherwise every message just counts).
  MessageStats(int devices, uint32_t run_id, bool latency);

  void SetClock(const RunClock& clock);
  bool clock_set() const { return clock_set_; }
  // `now`: CLOCK_MONOTONIC when the message was read.
  void Record(std::span<const unsigned char> payload, uint64_t now);
  // Closes the per-second rows up to the second containing `now`.
  void AdvanceTo(uint64_t now);
  // Closes the last second; call once, at the end.
  void Finish();

  // The median latency of this second so far; 0 before 100 messages.
  int64_t SecondP50SoFar() const;
  int64_t WindowP99() const { return report_.latency_us.ValueAtPercentile(99.0); }
  CollectorReport& report() { return report_; }

 private:
  void Count(uint64_t now, int64_t latency_us);
  void CloseSecond();
  bool MarkSeen(uint32_t device, uint32_t seq);

  int devices_;
  uint32_t run_id_;
  bool latency_;
  RunClock clock_;
  bool clock_set_ = false;
  CollectorReport report_;
  // The sequence numbers a device's messages had, one bit each, for the last
  // kSeenWindow..2 * kSeenWindow numbers below its newest: memory stays bounded however long
  // the run, and however large a number a payload carries.
  struct SeenWindow {
    uint64_t base_word = 0;      // bits[0] holds sequence numbers base_word * 64 ...
    std::vector<uint64_t> bits;  // at most 2 * kSeenWindow / 64 words
  };
  std::vector<SeenWindow> seen_;
  std::vector<int64_t> highest_seq_;
  SecondStats current_;
  size_t current_second_ = 0;
  uint64_t next_second_ns_ = 0;  // AdvanceTo() has nothing to do before this time
  LatencyHistogram interval_;    // this second's latencies
};

}  // namespace edgebench

#endif  // EDGEBENCH_MEASURE_MESSAGE_STATS_H_

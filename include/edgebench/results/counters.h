// Counters: every event count of a run as one mergeable value, named once.
//
// Contract: a Counters is a fixed array indexed by `Counter` (an increment on the hot path is
// one array index). Every counter is named once, in kCounterTable, together with how two
// values combine: kSum for counts, kMax and kMinNonZero for timestamps. Merge() folds another
// Counters in by those rules, so the reports of N workers, of the collector and (later) of N shards
// combine the same way; ToJson()/FromJson() are the only JSON form of counters (the worker
// pipe and summary.json's "counters" use it). Plain value type; not thread-safe.
#ifndef EDGEBENCH_RESULTS_COUNTERS_H_
#define EDGEBENCH_RESULTS_COUNTERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"

namespace edgebench {

enum class Counter : uint8_t {
  // The publisher workers.
  kScheduled,            // intended send time fell in [t0, window_end)
  kSent,                 // accepted by mosquitto_publish()
  kAcked,                // QoS 1/2: PUBACK/PUBCOMP received; QoS 0: written to the socket
  kPublishErrors,        // mosquitto_publish() refused
  kSkippedDisconnected,  // due while their connection was down: never published
  kUnacked,              // QoS 1/2: never acknowledged when the worker stopped
  kWindowSent,           // sent with an intended time inside the window
  kWorkerDisconnects,    // connections lost during the run
  kWorkerReconnects,     // lost connections that came back
  kLastSendNs,           // CLOCK_MONOTONIC time of the last publish (0: none)
  // The collector.
  kReceived,        // distinct messages of this run
  kDuplicated,      // copies of a message already received
  kReordered,       // arrived after a later message of the same device
  kForeign,         // on our topics but not from this run
  kWindowReceived,  // distinct messages with an intended time in the window
  kCollectorDisconnects,
  kLastWindowReceiveNs,      // when the last window message arrived (CLOCK_MONOTONIC)
  kLastReceiveNs,            // when the last message of this run arrived (CLOCK_MONOTONIC)
  kFirstReceiveNs,           // when the first message of this run arrived (0: none)
  kCollectorReads,           // reads of the collector's socket that brought data
  kCollectorReadBytes,       // bytes those reads brought
  kCollectorAckWrites,       // writes of acks (each carries every ack of one read)
  kCollectorCoalescedReads,  // reads that followed a deliberate wait (see collector.h)
  kCollectorCoalesceMaxNs,   // the longest such wait: the worst receive-time resolution
  // The orchestrator, at the end of the drain.
  kInFlightAtEnd,  // sent, not lost for sure: still arriving when the drain ended
  kCount
};

inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);

// kMinNonZero: the earliest of the values that are set (0 means "none").
enum class MergeRule : uint8_t { kSum, kMax, kMinNonZero };

struct CounterInfo {
  Counter id;
  const char* name;  // the JSON key
  MergeRule merge;
};

// In enum order: kCounterTable[i].id == Counter(i) (checked at compile time in counters.cc).
inline constexpr std::array<CounterInfo, kCounterCount> kCounterTable = {{
    {Counter::kScheduled, "scheduled", MergeRule::kSum},
    {Counter::kSent, "sent", MergeRule::kSum},
    {Counter::kAcked, "acked", MergeRule::kSum},
    {Counter::kPublishErrors, "publish_errors", MergeRule::kSum},
    {Counter::kSkippedDisconnected, "skipped_disconnected", MergeRule::kSum},
    {Counter::kUnacked, "unacked", MergeRule::kSum},
    {Counter::kWindowSent, "window_sent", MergeRule::kSum},
    {Counter::kWorkerDisconnects, "worker_disconnects", MergeRule::kSum},
    {Counter::kWorkerReconnects, "worker_reconnects", MergeRule::kSum},
    {Counter::kLastSendNs, "last_send_ns", MergeRule::kMax},
    {Counter::kReceived, "received", MergeRule::kSum},
    {Counter::kDuplicated, "duplicated", MergeRule::kSum},
    {Counter::kReordered, "reordered", MergeRule::kSum},
    {Counter::kForeign, "foreign", MergeRule::kSum},
    {Counter::kWindowReceived, "window_received", MergeRule::kSum},
    {Counter::kCollectorDisconnects, "collector_disconnects", MergeRule::kSum},
    {Counter::kLastWindowReceiveNs, "last_window_receive_ns", MergeRule::kMax},
    {Counter::kLastReceiveNs, "last_receive_ns", MergeRule::kMax},
    {Counter::kFirstReceiveNs, "first_receive_ns", MergeRule::kMinNonZero},
    {Counter::kCollectorReads, "collector_reads", MergeRule::kSum},
    {Counter::kCollectorReadBytes, "collector_read_bytes", MergeRule::kSum},
    {Counter::kCollectorAckWrites, "collector_ack_writes", MergeRule::kSum},
    {Counter::kCollectorCoalescedReads, "collector_coalesced_reads", MergeRule::kSum},
    {Counter::kCollectorCoalesceMaxNs, "collector_coalesce_max_ns", MergeRule::kMax},
    {Counter::kInFlightAtEnd, "in_flight_at_end", MergeRule::kSum},
}};

class Counters {
 public:
  uint64_t get(Counter c) const { return v_[static_cast<size_t>(c)]; }
  uint64_t& operator[](Counter c) { return v_[static_cast<size_t>(c)]; }
  uint64_t operator[](Counter c) const { return get(c); }
  void Add(Counter c, uint64_t n = 1) { v_[static_cast<size_t>(c)] += n; }
  void Set(Counter c, uint64_t value) { v_[static_cast<size_t>(c)] = value; }
  // Keeps the larger value (for kMax counters such as timestamps).
  void Raise(Counter c, uint64_t value) {
    uint64_t& v = v_[static_cast<size_t>(c)];
    if (value > v) v = value;
  }

  // Folds `other` in: kSum counters add, kMax counters keep the larger, kMinNonZero the
  // smaller of the set ones.
  void Merge(const Counters& other);
  bool operator==(const Counters&) const = default;

  // {"scheduled": 100, "sent": 98, ...}: every counter, in table order.
  nlohmann::json ToJson() const;
  // Reads ToJson()'s form. A missing key is 0 (a reader of an older writer); a key that is
  // not a counter, or a value that is not a non-negative integer, is an error:
  // "counters: unknown counter 'sentt'", "counters.sent must be a non-negative integer".
  static Result<Counters> FromJson(const nlohmann::json& j);

 private:
  std::array<uint64_t, kCounterCount> v_{};
};

// The table entry of the counter named `name`, or nullptr.
const CounterInfo* FindCounter(std::string_view name);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_COUNTERS_H_

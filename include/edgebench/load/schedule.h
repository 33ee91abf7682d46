// Schedule: the open-loop send times of every device (as in wrk2), and the due-time heap
// the worker's event loop pops them from.
//
// Device d (0-based, of N) sends message k (0-based) at
//   IntendedNs(d, k) = t0 + round((k + d/N) * period),  period = 1e9 / rate ns,
// that is, every device at the same rate with the devices' phases spread evenly over one
// period. Each time is computed from k directly (not by adding periods), so there is no
// drift: at rate 3, message 10^9 is still within 1 ns of t0 + 10^9 / 3 s. Messages whose
// intended time is >= end_ns are not scheduled.
//
// Thread-safety: Schedule is immutable after construction (safe to share); DueQueue is
// not thread-safe (one owner).
#ifndef EDGEBENCH_LOAD_SCHEDULE_H_
#define EDGEBENCH_LOAD_SCHEDULE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgebench {

class Schedule {
 public:
  // Requires: devices >= 1, rate_per_s > 0 (messages per second per device).
  // Times are CLOCK_MONOTONIC nanoseconds (clock.h).
  Schedule(int devices, double rate_per_s, uint64_t t0_ns, uint64_t end_ns);

  uint64_t IntendedNs(int device, uint64_t k) const;
  // The number of k with IntendedNs(device, k) < end_ns.
  uint64_t ScheduledCount(int device) const;
  // ScheduledCount summed over all devices. O(devices).
  uint64_t TotalScheduled() const;
  // Scheduled messages of all devices with intended time in [from_ns, to_ns) (for the
  // measurement window). O(devices).
  uint64_t CountInWindow(uint64_t from_ns, uint64_t to_ns) const;

  int devices() const { return devices_; }
  double rate_per_s() const { return rate_per_s_; }
  uint64_t t0_ns() const { return t0_ns_; }
  uint64_t end_ns() const { return end_ns_; }

 private:
  // The number of k with IntendedNs(device, k) < t_ns.
  uint64_t CountBefore(int device, uint64_t t_ns) const;

  int devices_;
  double rate_per_s_;
  uint64_t t0_ns_;
  uint64_t end_ns_;
  long double slot_ns_;  // period / devices: the gap between consecutive devices' phases
};

// A min-heap of (due_ns, device): the next device to send comes out first (ties by the
// lower device, so the order is deterministic). A std::vector binary heap; Push and Pop
// are O(log n) and allocate only when growing past reserve().
class DueQueue {
 public:
  struct Entry {
    uint64_t due_ns = 0;
    int device = 0;
  };

  void reserve(size_t n) { heap_.reserve(n); }
  void Push(uint64_t due_ns, int device);
  const Entry& Top() const { return heap_.front(); }  // Requires: !empty().
  void Pop();                                         // Requires: !empty().
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

 private:
  std::vector<Entry> heap_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_LOAD_SCHEDULE_H_

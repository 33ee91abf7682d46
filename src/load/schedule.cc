// Open-loop send times per device, and the due-time heap of the worker's event loop.
#include "edgebench/load/schedule.h"

#include <algorithm>
#include <cmath>

namespace edgebench {
namespace {

// Heap order for std::push_heap/pop_heap: "a comes out after b".
bool LaterThan(const DueQueue::Entry& a, const DueQueue::Entry& b) {
  if (a.due_ns != b.due_ns) return a.due_ns > b.due_ns;
  return a.device > b.device;
}

}  // namespace

Schedule::Schedule(int devices, double rate_per_s, uint64_t t0_ns, uint64_t end_ns)
    : devices_(devices),
      rate_per_s_(rate_per_s),
      t0_ns_(t0_ns),
      end_ns_(end_ns),
      slot_ns_(1e9L / (static_cast<long double>(rate_per_s) * std::max(devices, 1))) {}

uint64_t Schedule::IntendedNs(int device, uint64_t k) const {
  // An exact integer slot number times the slot length, rounded once. With 64 bits of
  // long double mantissa the relative error is ~1e-19: under 1 ns for decades after t0.
  const long double slot = static_cast<long double>(k) * std::max(devices_, 1) + device;
  return t0_ns_ + static_cast<uint64_t>(std::llroundl(slot * slot_ns_));
}

uint64_t Schedule::CountBefore(int device, uint64_t t_ns) const {
  if (t_ns <= t0_ns_) return 0;
  // Estimate from the inverse of IntendedNs, then correct the rounding at the edge.
  const long double slots = static_cast<long double>(t_ns - t0_ns_) / slot_ns_;
  const long double k_est =
      std::ceil((slots - device) / static_cast<long double>(std::max(devices_, 1)));
  uint64_t k = k_est > 0 ? static_cast<uint64_t>(k_est) : 0;
  while (k > 0 && IntendedNs(device, k - 1) >= t_ns) --k;
  while (IntendedNs(device, k) < t_ns) ++k;
  return k;
}

uint64_t Schedule::ScheduledCount(int device) const { return CountBefore(device, end_ns_); }

uint64_t Schedule::TotalScheduled() const {
  uint64_t total = 0;
  for (int d = 0; d < devices_; ++d) total += ScheduledCount(d);
  return total;
}

uint64_t Schedule::CountInWindow(uint64_t from_ns, uint64_t to_ns) const {
  to_ns = std::min(to_ns, end_ns_);
  if (from_ns >= to_ns) return 0;
  uint64_t total = 0;
  for (int d = 0; d < devices_; ++d) total += CountBefore(d, to_ns) - CountBefore(d, from_ns);
  return total;
}

void DueQueue::Push(uint64_t due_ns, int device) {
  heap_.push_back(Entry{due_ns, device});
  std::push_heap(heap_.begin(), heap_.end(), LaterThan);
}

void DueQueue::Pop() {
  std::pop_heap(heap_.begin(), heap_.end(), LaterThan);
  heap_.pop_back();
}

}  // namespace edgebench

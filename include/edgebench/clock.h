// MonotonicNowNs: the one clock edgebench stamps and schedules messages with.
#ifndef EDGEBENCH_CLOCK_H_
#define EDGEBENCH_CLOCK_H_

#include <cstdint>

namespace edgebench {

// Nanoseconds of CLOCK_MONOTONIC (the clock steady_clock uses on Linux). Comparable across
// threads and processes on the same host, not across hosts. Thread-safe.
uint64_t MonotonicNowNs();

}  // namespace edgebench

#endif  // EDGEBENCH_CLOCK_H_

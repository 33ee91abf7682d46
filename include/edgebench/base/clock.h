// MonotonicNowNs, the one clock edgebench stamps and schedules messages with, and RunClock.
#ifndef EDGEBENCH_BASE_CLOCK_H_
#define EDGEBENCH_BASE_CLOCK_H_

#include <cstdint>

namespace edgebench {

// Nanoseconds of CLOCK_MONOTONIC (the clock steady_clock uses on Linux). Comparable across
// threads and processes on the same host, not across hosts. Thread-safe.
uint64_t MonotonicNowNs();

// The times of one run, all CLOCK_MONOTONIC nanoseconds, shared by the worker, the
// collector and the capture.
struct RunClock {
  uint64_t t0_ns = 0;            // schedule origin: warm-up starts here
  uint64_t window_start_ns = 0;  // t0 + warmup
  uint64_t window_end_ns = 0;    // window_start + duration: no message is scheduled after it
  uint64_t drain_end_ns = 0;     // window_end + drain: the worker gives up on acks here
};

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_CLOCK_H_

// MonotonicNowNs() through clock_gettime, so stamps match what other processes on the host read.
#include "edgebench/base/clock.h"

#include <time.h>

namespace edgebench {

uint64_t MonotonicNowNs() {
  timespec ts{};
  // CLOCK_MONOTONIC cannot fail on Linux with a valid pointer, so the result is not checked.
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace edgebench

// Tests for the open-loop Schedule and the DueQueue heap.
#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/load/schedule.h"

namespace edgebench {

namespace {
constexpr uint64_t kSecond = 1'000'000'000;
}  // namespace

TEST_CASE("schedule intended times", "[schedule]") {
  const uint64_t t0 = 5 * kSecond;
  const Schedule s(3, 10.0, t0, t0 + kSecond);  // period 100 ms, phases 0, 33.3, 66.7 ms
  CHECK(s.IntendedNs(0, 0) == t0);
  CHECK(s.IntendedNs(1, 0) == t0 + 33'333'333);
  CHECK(s.IntendedNs(2, 0) == t0 + 66'666'667);
  CHECK(s.IntendedNs(0, 1) == t0 + 100'000'000);
  CHECK(s.IntendedNs(1, 1) == t0 + 133'333'333);
  CHECK(s.IntendedNs(2, 5) == t0 + 566'666'667);
  CHECK(s.IntendedNs(0, 7) == t0 + 700'000'000);
}

TEST_CASE("schedule phases spread devices evenly over one period", "[schedule]") {
  const Schedule s(8, 100.0, 0, kSecond);  // period 10 ms
  for (int d = 0; d < 8; ++d) {
    CHECK(s.IntendedNs(d, 0) == static_cast<uint64_t>(d) * 1'250'000);
    CHECK(s.IntendedNs(d, 3) - s.IntendedNs(d, 2) == 10'000'000);
  }
  // Interleaved: device d's message k comes before device d+1's, which comes before
  // device 0's message k+1.
  for (int d = 0; d + 1 < 8; ++d) CHECK(s.IntendedNs(d, 4) < s.IntendedNs(d + 1, 4));
  CHECK(s.IntendedNs(7, 4) < s.IntendedNs(0, 5));
}

TEST_CASE("schedule counts for one second at 10 msg/s and 3 devices", "[schedule]") {
  const uint64_t t0 = 5 * kSecond;
  const Schedule s(3, 10.0, t0, t0 + kSecond);
  CHECK(s.ScheduledCount(0) == 10);
  CHECK(s.ScheduledCount(1) == 10);
  CHECK(s.ScheduledCount(2) == 10);
  CHECK(s.TotalScheduled() == 30);
  // The last scheduled message is before end, the next one is not.
  CHECK(s.IntendedNs(2, 9) < t0 + kSecond);
  CHECK(s.IntendedNs(0, 10) == t0 + kSecond);
}

TEST_CASE("schedule edges", "[schedule]") {
  CHECK(Schedule(1, 10.0, 0, kSecond).TotalScheduled() == 10);  // t0 + 1 s excluded
  CHECK(Schedule(1, 10.0, 0, kSecond + 1).TotalScheduled() == 11);
  CHECK(Schedule(1, 0.5, 0, 10 * kSecond).TotalScheduled() == 5);  // 0, 2, 4, 6, 8 s
  CHECK(Schedule(4, 10.0, kSecond, kSecond).TotalScheduled() == 0);
  CHECK(Schedule(4, 10.0, kSecond, 0).TotalScheduled() == 0);
  CHECK(Schedule(2, 1.0, 0, 1).TotalScheduled() == 1);  // only device 0 at t0
  // Non-integer rate, many devices: the total matches the rate within one per device.
  const Schedule odd(1000, 7.3, 123, 123 + 10 * kSecond);
  const uint64_t total = odd.TotalScheduled();
  CHECK(total >= 73'000 - 1000);
  CHECK(total <= 73'000 + 1000);
  uint64_t by_device = 0;
  for (int d = 0; d < 1000; ++d) {
    const uint64_t n = odd.ScheduledCount(d);
    by_device += n;
    CHECK(odd.IntendedNs(d, n - 1) < 123 + 10 * kSecond);
    CHECK(odd.IntendedNs(d, n) >= 123 + 10 * kSecond);
  }
  CHECK(by_device == total);
}

TEST_CASE("schedule does not drift", "[schedule]") {
  const Schedule s(1, 3.0, 0, UINT64_MAX);
  CHECK(s.IntendedNs(0, 1'000'000'000) == 333'333'333'333'333'333);
  CHECK(s.IntendedNs(0, 999'999'999) == 333'333'333'000'000'000);
  CHECK(s.IntendedNs(0, 3'000'000'000) == 1'000'000'000'000'000'000);

  const uint64_t t0 = 12'345'678'901'234;
  const Schedule two(2, 3.0, t0, UINT64_MAX);  // period 1/3 s, device 1 half a period later
  CHECK(two.IntendedNs(1, 1'000'000'000) == t0 + 333'333'333'500'000'000);
  CHECK(two.IntendedNs(0, 1'000'000'000) == t0 + 333'333'333'333'333'333);
}

TEST_CASE("schedule count in window", "[schedule]") {
  const uint64_t t0 = 5 * kSecond;
  const Schedule s(3, 10.0, t0, t0 + kSecond);
  CHECK(s.CountInWindow(t0, t0 + kSecond) == 30);
  CHECK(s.CountInWindow(t0 + kSecond / 2, t0 + kSecond) == 15);
  CHECK(s.CountInWindow(t0 + 50'000'000, t0 + 100'000'000) == 1);  // device 2 at 66.7 ms
  CHECK(s.CountInWindow(t0, t0 + 100'000'000) == 3);
  CHECK(s.CountInWindow(0, 100 * kSecond) == 30);  // clamped to the schedule
  CHECK(s.CountInWindow(t0 + kSecond, t0 + 2 * kSecond) == 0);
  CHECK(s.CountInWindow(t0 + 300'000'000, t0 + 200'000'000) == 0);
  // Windows split anywhere add up.
  CHECK(s.CountInWindow(t0, t0 + 123'456'789) + s.CountInWindow(t0 + 123'456'789, t0 + kSecond) ==
        30);
}

TEST_CASE("due queue pops in due order", "[schedule]") {
  DueQueue q;
  q.reserve(1000);
  CHECK(q.empty());
  std::mt19937_64 rng(11);
  std::vector<std::pair<uint64_t, int>> pushed;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t due = rng() % 500;  // plenty of ties
    const int device = static_cast<int>(rng() % 50);
    q.Push(due, device);
    pushed.emplace_back(due, device);
  }
  CHECK(q.size() == 1000);
  std::sort(pushed.begin(), pushed.end());
  for (const auto& [due, device] : pushed) {
    REQUIRE(!q.empty());
    CHECK(q.Top().due_ns == due);
    CHECK(q.Top().device == device);
    q.Pop();
  }
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("due queue drives a schedule in time order", "[schedule]") {
  const Schedule s(4, 50.0, 1000, 1000 + kSecond);
  DueQueue q;
  std::vector<uint64_t> next_k(4, 0);
  for (int d = 0; d < 4; ++d) q.Push(s.IntendedNs(d, 0), d);
  uint64_t last = 0;
  uint64_t sent = 0;
  while (!q.empty()) {
    const DueQueue::Entry e = q.Top();
    q.Pop();
    CHECK(e.due_ns >= last);
    last = e.due_ns;
    ++sent;
    const uint64_t k = ++next_k[static_cast<size_t>(e.device)];
    if (k < s.ScheduledCount(e.device)) q.Push(s.IntendedNs(e.device, k), e.device);
  }
  CHECK(sent == s.TotalScheduled());
  CHECK(sent == 200);
}

}  // namespace edgebench

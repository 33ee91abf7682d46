// Tests for src/measure/message_stats.cc's duplicate detection: copies are told apart from
// first deliveries within kSeenWindow of a device's newest message, and memory stays bounded
// whatever sequence numbers arrive.
#include "edgebench/measure/message_stats.h"

#include <unistd.h>

#include <cstdint>

#include <catch2/catch.hpp>

#include "edgebench/measure/proc_sampler.h"
#include "edgebench/mqtt/payload.h"

using namespace edgebench;

namespace {

constexpr uint32_t kRun = 0x5eed;

int64_t RssKb() {
  Result<ProcSample> s = SampleOnce("/proc", static_cast<int>(::getpid()));
  REQUIRE(s.ok());
  return s->rss_kb;
}

class Feed {
 public:
  Feed() : stats_(2, kRun, /*latency=*/true) {}
  void Send(uint32_t device, uint32_t seq) {
    PayloadHeader h;
    h.run_id = kRun;
    h.device = device;
    h.seq = seq;
    h.intended_ns = 1000;
    h.sent_ns = 1000;
    unsigned char payload[kHeaderSize];
    EncodeHeader(h, payload);
    stats_.Record(payload, 2000);
  }
  uint64_t Count(Counter c) { return stats_.report().counters[c]; }

 private:
  MessageStats stats_;
};

}  // namespace

TEST_CASE("MessageStats: copies and reordering within the window", "[collector][seen]") {
  Feed f;
  for (uint32_t seq = 0; seq < 10'000; ++seq) f.Send(0, seq);
  f.Send(1, 5);
  f.Send(0, 9'999);                                  // a copy of the newest
  f.Send(0, 9'999 - MessageStats::kSeenWindow + 1);  // the oldest still told apart
  CHECK(f.Count(Counter::kReceived) == 10'001);
  CHECK(f.Count(Counter::kDuplicated) == 2);
  CHECK(f.Count(Counter::kReordered) == 0);
  f.Send(0, 20'000);
  f.Send(0, 19'000);  // late, but its first delivery
  CHECK(f.Count(Counter::kReceived) == 10'003);
  CHECK(f.Count(Counter::kReordered) == 1);
  CHECK(f.Count(Counter::kDuplicated) == 2);
}

TEST_CASE("MessageStats: a copy older than the window counts as duplicated", "[collector][seen]") {
  Feed f;
  for (uint32_t seq = 0; seq < 3 * MessageStats::kSeenWindow; ++seq) f.Send(0, seq);
  f.Send(0, 0);
  CHECK(f.Count(Counter::kReceived) == 3 * MessageStats::kSeenWindow);
  CHECK(f.Count(Counter::kDuplicated) == 1);
}

// Issue 13: a payload with sequence number 0xFFFFFFFF made the device's bitmap 512 MiB.
// Bounded now: the jump keeps one window.
TEST_CASE("MessageStats: the largest sequence numbers take no more memory", "[collector][seen]") {
  const int64_t rss_before_kb = RssKb();
  Feed f;
  f.Send(0, 1);
  f.Send(0, 0xFFFFFFFFu);
  f.Send(0, 0xFFFFFFFEu);
  f.Send(0, 0xFFFFFFFFu);  // a copy, still told apart after the jump
  f.Send(0, 1);            // far older than the window now
  f.Send(1, 0x80000000u);
  CHECK(f.Count(Counter::kReceived) == 4);
  CHECK(f.Count(Counter::kDuplicated) == 2);
  CHECK(f.Count(Counter::kReordered) == 1);
  // The old bitmap held 2^32 bits (512 MiB, zeroed, so resident) while `f` lives.
  CHECK(RssKb() - rss_before_kb < 64 * 1024);
}

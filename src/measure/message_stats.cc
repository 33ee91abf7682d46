// MessageStats: duplicates, reordering, latency and the per-second timeline of received
// messages.
#include "edgebench/measure/message_stats.h"

#include <algorithm>

#include "edgebench/mqtt/payload.h"

namespace edgebench {
namespace {
constexpr uint64_t kNsPerS = 1'000'000'000;
}  // namespace

MessageStats::MessageStats(int devices, uint32_t run_id, bool latency)
    : devices_(devices), run_id_(run_id), latency_(latency) {
  report_.received_per_device.assign(static_cast<size_t>(devices), 0);
  seen_.resize(static_cast<size_t>(devices));
  highest_seq_.assign(static_cast<size_t>(devices), -1);
}

void MessageStats::SetClock(const RunClock& clock) {
  clock_ = clock;
  clock_set_ = true;
}

void MessageStats::Record(std::span<const unsigned char> payload, uint64_t now) {
  if (!latency_) {
    Count(now, -1);
    return;
  }
  PayloadHeader h;
  if (!DecodeHeader(payload.data(), payload.size(), &h) || h.run_id != run_id_ ||
      h.device >= static_cast<uint32_t>(devices_)) {
    report_.counters.Add(Counter::kForeign);
    return;
  }
  if (!MarkSeen(h.device, h.seq)) {
    report_.counters.Add(Counter::kDuplicated);
    return;
  }
  const int64_t latency_us = static_cast<int64_t>(now - h.intended_ns) / 1000;
  if (clock_set_ && h.intended_ns >= clock_.window_start_ns &&
      h.intended_ns < clock_.window_end_ns) {
    report_.counters.Add(Counter::kWindowReceived);
    report_.counters.Set(Counter::kLastWindowReceiveNs, now);
    report_.latency_us.Record(latency_us);
    report_.latency_actual_us.Record(static_cast<int64_t>(now - h.sent_ns) / 1000);
  }
  Count(now, latency_us);
}

void MessageStats::AdvanceTo(uint64_t now) {
  if (!clock_set_ || now < next_second_ns_ || now < clock_.t0_ns) return;
  const size_t second = static_cast<size_t>((now - clock_.t0_ns) / kNsPerS);
  while (current_second_ < second) CloseSecond();
  next_second_ns_ = clock_.t0_ns + (current_second_ + 1) * kNsPerS;
}

void MessageStats::Finish() {
  if (clock_set_ && (current_.received > 0 || current_second_ > 0)) CloseSecond();
}

int64_t MessageStats::SecondP50SoFar() const {
  return interval_.count() >= 100 ? interval_.ValueAtPercentile(50.0) : 0;
}

void MessageStats::Count(uint64_t now, int64_t latency_us) {
  Counters& c = report_.counters;
  if (c[Counter::kReceived] == 0) c.Set(Counter::kFirstReceiveNs, now);
  c.Add(Counter::kReceived);
  c.Set(Counter::kLastReceiveNs, now);
  AdvanceTo(now);
  ++current_.received;
  if (latency_us >= 0) interval_.Record(latency_us);
}

void MessageStats::CloseSecond() {
  if (interval_.count() > 0) {
    current_.p50_us = interval_.ValueAtPercentile(50.0);
    current_.p99_us = interval_.ValueAtPercentile(99.0);
  }
  report_.per_second.push_back(current_);
  current_ = SecondStats{};
  interval_.Reset();
  ++current_second_;
}

// Records (device, seq); false when it was seen before, or is too old to tell (kSeenWindow).
// Also counts reordering.
bool MessageStats::MarkSeen(uint32_t device, uint32_t seq) {
  constexpr uint64_t kWindowWords = kSeenWindow / 64;
  SeenWindow& w = seen_[device];
  const uint64_t word = seq / 64;
  if (word < w.base_word) return false;
  if (word - w.base_word >= 2 * kWindowWords) {
    // Keep the kWindowWords words below `word`'s: drop the older ones (all, after a jump).
    const uint64_t new_base = word - kWindowWords + 1;
    const uint64_t drop = std::min<uint64_t>(new_base - w.base_word, w.bits.size());
    w.bits.erase(w.bits.begin(), w.bits.begin() + static_cast<std::ptrdiff_t>(drop));
    w.base_word = new_base;
  }
  const size_t index = static_cast<size_t>(word - w.base_word);
  if (index >= w.bits.size()) {
    w.bits.resize(std::min<size_t>(std::max(index + 1, w.bits.size() * 2), 2 * kWindowWords), 0);
  }
  const uint64_t mask = uint64_t{1} << (seq % 64);
  if (w.bits[index] & mask) return false;
  w.bits[index] |= mask;
  ++report_.received_per_device[device];
  if (static_cast<int64_t>(seq) < highest_seq_[device]) {
    report_.counters.Add(Counter::kReordered);
  } else {
    highest_seq_[device] = seq;
  }
  return true;
}

}  // namespace edgebench

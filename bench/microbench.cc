// Micro-benchmarks (Google Benchmark) of the per-message work of the collector and the
// worker, with a count of the heap allocations each benchmark's timed loop makes.
//
// Every benchmark reports items_per_second, time_per_item (the inverse: time per message)
// and allocs_per_item (operator new calls inside the timed loop per message). An item is one
// MQTT frame or one message. See docs/PERFORMANCE.md ("Per message: micro-benchmarks") for how to run it and the figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/load/schedule.h"
#include "edgebench/load/worker_protocol.h"
#include "edgebench/measure/message_stats.h"
#include "edgebench/mqtt/frame.h"
#include "edgebench/mqtt/packets.h"
#include "edgebench/mqtt/payload.h"
#include "edgebench/results/counters.h"
#include "edgebench/results/histogram.h"

// The allocation counter: every global operator new counts while g_counting is set, which
// is only inside a timed loop (AllocationCount below). The benchmarks run on one thread;
// the atomics only keep a stray library thread from racing the count.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};

void* CountedAlloc(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (n == 0) n = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(n);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}

void* CountedAllocOrThrow(std::size_t n, std::size_t align) {
  void* p = CountedAlloc(n, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return CountedAllocOrThrow(n, 0); }
void* operator new[](std::size_t n) { return CountedAllocOrThrow(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return CountedAllocOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return CountedAllocOrThrow(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n, 0); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace edgebench {
namespace {

constexpr size_t kStreamBytes = 1 << 20;     // the collector's read buffer of the benchmarks
constexpr size_t kChunkBytes = 1500;         // an Ethernet-sized piece of the stream
constexpr size_t kCollectorPayload = 32;     // the latency header alone
constexpr size_t kWorkerPayload = 64;        // publish.payload.size's default
constexpr uint64_t kMessageGapNs = 20'000;   // the collector's clock: 50,000 messages/s
constexpr uint64_t kNsPerS = 1'000'000'000;  //
constexpr uint32_t kRunId = 0x5EED;
constexpr int kMqtt311 = 4;  // protocol levels, as MqttClientOptions has them
constexpr int kMqtt5 = 5;

// Counts the allocations from construction (just before the timed loop) to Finish() (just
// after it); Pause()/Resume() leave out untimed set-up inside the loop.
class AllocationCount {
 public:
  AllocationCount() : start_(g_allocations.load()) { g_counting = true; }
  ~AllocationCount() { g_counting = false; }
  void Pause() { g_counting = false; }
  void Resume() { g_counting = true; }

  // Stops counting; sets items processed, time per item and allocations per item.
  void Finish(benchmark::State& state, int64_t items) {
    g_counting = false;
    const auto allocations = static_cast<double>(g_allocations.load() - start_);
    const auto n = static_cast<double>(std::max<int64_t>(items, 1));
    state.SetItemsProcessed(items);
    state.counters["time_per_item"] =
        benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["allocs_per_item"] = benchmark::Counter(allocations / n);
  }

 private:
  uint64_t start_;
};

// Latencies in microseconds, log-uniform over 100 us .. 20 ms, the same on every run.
std::vector<int64_t> MakeLatenciesUs(size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> log_us(std::log(100.0), std::log(20'000.0));
  std::vector<int64_t> v(n);
  for (int64_t& x : v) x = static_cast<int64_t>(std::exp(log_us(rng)));
  return v;
}

std::string Topic(int device) { return "bench/" + std::to_string(device); }

// A stream of PUBLISH frames as the collector reads them, and where each payload lies.
struct Stream {
  std::vector<unsigned char> bytes;
  std::vector<size_t> payload_at;
};

// One PUBLISH at QoS 0 (MQTT 5: with an empty property list); the payload is left zero.
void AppendPublish(const std::string& topic, int protocol, size_t payload_size, Stream* s) {
  const size_t length = 2 + topic.size() + (protocol == kMqtt5 ? 1 : 0) + payload_size;
  s->bytes.push_back(kMqttPublish << 4);
  for (size_t left = length;;) {  // the remaining length as a varint
    const auto b = static_cast<unsigned char>(left & 0x7F);
    left >>= 7;
    s->bytes.push_back(left > 0 ? static_cast<unsigned char>(b | 0x80) : b);
    if (left == 0) break;
  }
  s->bytes.push_back(static_cast<unsigned char>(topic.size() >> 8));
  s->bytes.push_back(static_cast<unsigned char>(topic.size() & 0xFF));
  s->bytes.insert(s->bytes.end(), topic.begin(), topic.end());
  if (protocol == kMqtt5) s->bytes.push_back(0);
  s->payload_at.push_back(s->bytes.size());
  s->bytes.resize(s->bytes.size() + payload_size);
}

// Whole frames on topics bench/0, bench/1, .. bench/<devices - 1> in turn, as many as fit
// in `limit` bytes (so the stream ends at a frame boundary).
Stream BuildStream(int devices, int protocol, size_t limit) {
  Stream s;
  s.bytes.reserve(limit + 64);
  for (int i = 0;; ++i) {
    const size_t before = s.bytes.size();
    AppendPublish(Topic(i % devices), protocol, kCollectorPayload, &s);
    if (s.bytes.size() > limit) {
      s.bytes.resize(before);
      s.payload_at.pop_back();
      return s;
    }
  }
}

// Feeds `bytes` in pieces of `chunk` bytes.
template <class OnFrame>
void FeedInChunks(MqttFrameDecoder& d, std::span<const unsigned char> bytes, size_t chunk,
                  OnFrame&& on_frame) {
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    d.Feed(bytes.data() + at, std::min(chunk, bytes.size() - at), on_frame);
  }
}

// The frames of a stream, decoded once (their bodies point into `s`).
std::vector<MqttFrame> FramesOf(const Stream& s) {
  std::vector<MqttFrame> frames;
  MqttFrameDecoder d(MqttFrameDecoder::Mode::kKeep);
  d.Feed(s.bytes.data(), s.bytes.size(), [&](const MqttFrame& f) { frames.push_back(f); });
  return frames;
}

// ---- 1. MqttFrameDecoder -------------------------------------------------------------

// Args: {mode (0 kKeep, 1 kHeadersOnly), chunk bytes (0: the whole 1 MiB in one Feed)}.
void BM_FrameDecoder(benchmark::State& state) {
  const auto mode =
      state.range(0) == 0 ? MqttFrameDecoder::Mode::kKeep : MqttFrameDecoder::Mode::kHeadersOnly;
  const Stream s = BuildStream(10, kMqtt311, kStreamBytes);
  const size_t chunk = state.range(1) == 0 ? s.bytes.size() : static_cast<size_t>(state.range(1));
  MqttFrameDecoder decoder(mode);
  int64_t frames = 0;
  uint64_t bytes = 0;
  auto on_frame = [&](const MqttFrame& f) {
    ++frames;
    bytes += f.length + f.body.size();
  };
  FeedInChunks(decoder, s.bytes, chunk, on_frame);  // warm-up: the split-body buffer grows
  frames = 0;
  AllocationCount allocs;
  for (auto _ : state) FeedInChunks(decoder, s.bytes, chunk, on_frame);
  allocs.Finish(state, frames);
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK(BM_FrameDecoder)
    ->ArgNames({"headers_only", "chunk"})
    ->Args({0, 0})
    ->Args({0, kChunkBytes})
    ->Args({1, 0})
    ->Args({1, kChunkBytes});

// ---- 2. ParsePublish -----------------------------------------------------------------

// Arg: the protocol level (4: MQTT 3.1.1, 5: MQTT 5).
void BM_ParsePublish(benchmark::State& state) {
  const int protocol = static_cast<int>(state.range(0));
  const Stream s = BuildStream(10, protocol, kStreamBytes);
  const std::vector<MqttFrame> frames = FramesOf(s);
  int64_t items = 0;
  uint64_t payload_bytes = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    for (const MqttFrame& f : frames) {
      MqttPublish p;
      if (ParsePublish(f, protocol, &p)) payload_bytes += p.payload.size() + p.topic.size();
    }
    items += static_cast<int64_t>(frames.size());
  }
  allocs.Finish(state, items);
  benchmark::DoNotOptimize(payload_bytes);
}
BENCHMARK(BM_ParsePublish)->ArgName("protocol")->Arg(kMqtt311)->Arg(kMqtt5);

// ---- 3. MessageStats::Record ---------------------------------------------------------

// A collector's MessageStats fed the messages of `devices` devices in turn (device i%N,
// each with increasing sequence numbers), every one inside the window, the clock advanced
// by the caller (20 us a message). Restart() makes a new MessageStats and warms it up
// untimed so that the next capacity() messages allocate nothing: MessageStats doubles a
// device's seen-bitmap as its sequence numbers outgrow it (up to 2 x kSeenWindow bits, then
// it slides, dropping old words without allocating), and its per-second timeline is a
// growing vector. So the warm-up sends sequence numbers 0..W of every device (the bitmaps
// then hold 2W bits) and jumps the clock to second 1025 (the timeline's capacity is then
// 2048 seconds); the timed messages are W+1 .. 2W-1, about 2^20 in all (21 s of timeline).
class WarmStats {
 public:
  explicit WarmStats(int devices)
      : devices_(devices),
        span_(SeqSpan(devices)),
        capacity_((span_ - 1) * static_cast<uint64_t>(devices)),
        latencies_us_(MakeLatenciesUs(4096)) {
    Restart();
  }

  void Restart() {
    stats_ = std::make_unique<MessageStats>(devices_, kRunId, true);
    stats_->SetClock(clock_);
    now_ns_ = clock_.t0_ns + kNsPerS;
    unsigned char payload[kHeaderSize];
    for (uint64_t seq = 0; seq <= span_; ++seq) {
      for (int d = 0; d < devices_; ++d) {
        EncodeHeader(Header(static_cast<uint32_t>(d), seq), payload);
        stats_->Record(payload, now_ns_);
        now_ns_ += kMessageGapNs;
      }
    }
    now_ns_ = clock_.t0_ns + 1025 * kNsPerS;
    stats_->AdvanceTo(now_ns_);
    next_ = 0;
  }

  bool has_room(uint64_t n) const { return next_ + n <= capacity_; }
  // The header of the next message, sent `latency` before now().
  PayloadHeader Next() {
    const uint64_t i = next_++;
    return Header(static_cast<uint32_t>(i % static_cast<uint64_t>(devices_)),
                  span_ + 1 + i / static_cast<uint64_t>(devices_));
  }
  uint64_t now() const { return now_ns_; }
  void Advance(uint64_t ns) { now_ns_ += ns; }
  MessageStats& stats() { return *stats_; }

 private:
  // W: a power of two times 64 bits, so that about 2^20 messages fit between restarts.
  static uint64_t SeqSpan(int devices) {
    uint64_t words = 1;
    while (words * 64 * static_cast<uint64_t>(devices) < (uint64_t{1} << 20)) words *= 2;
    return words * 64;
  }

  PayloadHeader Header(uint32_t device, uint64_t seq) {
    const auto latency_ns = static_cast<uint64_t>(latencies_us_[(seq * 31 + device) & 4095]) * 1000;
    const uint64_t intended = now_ns_ - latency_ns;
    return {kRunId, device, static_cast<uint32_t>(seq), intended, intended + 30'000};
  }

  int devices_;
  uint64_t span_;
  uint64_t capacity_;
  std::vector<int64_t> latencies_us_;
  RunClock clock_{1'000'000 * kNsPerS, 1'000'000 * kNsPerS, 2'000'000 * kNsPerS,
                  2'000'000 * kNsPerS};
  std::unique_ptr<MessageStats> stats_;
  uint64_t now_ns_ = 0;
  uint64_t next_ = 0;
};

// Arg: devices. The payload is encoded in the loop (EncodeHeader: see BM_EncodeHeader).
void BM_MessageStatsRecord(benchmark::State& state) {
  WarmStats warm(static_cast<int>(state.range(0)));
  unsigned char payload[kHeaderSize];
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    if (!warm.has_room(1)) {
      allocs.Pause();
      state.PauseTiming();
      warm.Restart();
      state.ResumeTiming();
      allocs.Resume();
    }
    EncodeHeader(warm.Next(), payload);
    warm.stats().Record(payload, warm.now());
    warm.Advance(kMessageGapNs);
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_MessageStatsRecord)->ArgName("devices")->Arg(10)->Arg(10'000);

// The same without the warm-up: a new MessageStats per benchmark run, sequence numbers from
// 0 without end; the bitmap and timeline growth shows as amortized allocations per item.
void BM_MessageStatsRecordCold(benchmark::State& state) {
  const auto devices = static_cast<uint32_t>(state.range(0));
  const std::vector<int64_t> latencies_us = MakeLatenciesUs(4096);
  const RunClock clock{kNsPerS, kNsPerS, 1'000'000 * kNsPerS, 1'000'000 * kNsPerS};
  MessageStats stats(static_cast<int>(devices), kRunId, true);
  stats.SetClock(clock);
  uint64_t now = clock.t0_ns + kNsPerS;
  unsigned char payload[kHeaderSize];
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    const auto i = static_cast<uint64_t>(items++);
    const uint64_t intended = now - static_cast<uint64_t>(latencies_us[i & 4095]) * 1000;
    const auto seq = static_cast<uint32_t>(i / devices);
    EncodeHeader({kRunId, static_cast<uint32_t>(i % devices), seq, intended, intended + 30'000},
                 payload);
    stats.Record(payload, now);
    now += kMessageGapNs;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_MessageStatsRecordCold)->ArgName("devices")->Arg(10)->Arg(10'000);

// The collector without the network: one 1 MiB read (every frame whole) through the
// decoder, ParsePublish and MessageStats::Record, all its messages read at one `now`, which
// advances 20 us per message. The headers are rewritten untimed before each pass (fresh
// sequence numbers, as a new read brings).
void BM_CollectorPipeline(benchmark::State& state) {
  const int devices = static_cast<int>(state.range(0));
  Stream s = BuildStream(devices, kMqtt311, kStreamBytes);
  const auto frames = static_cast<uint64_t>(s.payload_at.size());
  WarmStats warm(devices);
  MqttFrameDecoder decoder(MqttFrameDecoder::Mode::kKeep);
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    allocs.Pause();
    state.PauseTiming();
    if (!warm.has_room(frames)) warm.Restart();
    for (size_t at : s.payload_at) EncodeHeader(warm.Next(), s.bytes.data() + at);
    const uint64_t now = warm.now();
    warm.Advance(frames * kMessageGapNs);
    state.ResumeTiming();
    allocs.Resume();
    decoder.Feed(s.bytes.data(), s.bytes.size(), [&](const MqttFrame& f) {
      MqttPublish p;
      if (f.type == kMqttPublish && ParsePublish(f, kMqtt311, &p)) {
        warm.stats().Record(p.payload, now);
      }
    });
    items += static_cast<int64_t>(frames);
  }
  allocs.Finish(state, items);
  if (warm.stats().report().counters[Counter::kForeign] != 0) state.SkipWithError("foreign");
}
BENCHMARK(BM_CollectorPipeline)->ArgName("devices")->Arg(10)->Arg(10'000);

// ---- 4. LatencyHistogram::Record -----------------------------------------------------

void BM_HistogramRecord(benchmark::State& state) {
  const std::vector<int64_t> latencies_us = MakeLatenciesUs(4096);
  LatencyHistogram h;
  size_t i = 0;
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    h.Record(latencies_us[i++ & 4095]);
    ++items;
  }
  allocs.Finish(state, items);
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord);

// ---- 5. The worker's own per-message work --------------------------------------------

// LoadGenerator::Publish is private, so this is its sequence rebuilt from the public
// pieces it calls, in its order: the filler, the send time, the header, the counters, the
// per-second count and the lag histogram. Not included: mosquitto_publish (libmosquitto's
// own work) and the schedule (BM_WorkerSchedule). Arg: devices.
void BM_WorkerPublish(benchmark::State& state) {
  const auto devices = static_cast<uint32_t>(state.range(0));
  const std::vector<int64_t> lag_us = MakeLatenciesUs(4096);
  const FillerPool filler(PayloadKind::kDigits, kWorkerPayload - kHeaderSize, 1);
  std::vector<unsigned char> buffer(kWorkerPayload);
  std::vector<uint32_t> next_seq(devices, 0);
  WorkerReport report;
  const uint64_t t0 = MonotonicNowNs();
  const RunClock clock{t0, t0, t0 + 3600 * kNsPerS, t0 + 3600 * kNsPerS};
  uint64_t i = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    const auto device = static_cast<uint32_t>(i++ % devices);
    const uint32_t seq = next_seq[device]++;
    Counters& counters = report.counters;
    counters.Add(Counter::kScheduled);
    filler.Fill(device, seq, buffer.data() + kHeaderSize, kWorkerPayload - kHeaderSize);
    const uint64_t sent_ns = MonotonicNowNs();
    // The schedule's time, a realistic lag before the send (lag_us is 100 us .. 20 ms).
    const uint64_t intended_ns = sent_ns - static_cast<uint64_t>(lag_us[i & 4095]) * 1000;
    EncodeHeader(PayloadHeader{kRunId, device, seq, intended_ns, sent_ns}, buffer.data());
    benchmark::DoNotOptimize(buffer.data());
    counters.Add(Counter::kSent);
    counters.Set(Counter::kLastSendNs, sent_ns);
    const size_t second = sent_ns > clock.t0_ns ? (sent_ns - clock.t0_ns) / kNsPerS : 0;
    if (second >= report.sent_per_second.size()) report.sent_per_second.resize(second + 1);
    ++report.sent_per_second[second];
    if (intended_ns >= clock.window_start_ns && intended_ns < clock.window_end_ns) {
      counters.Add(Counter::kWindowSent);
      report.lag_us.Record(static_cast<int64_t>((sent_ns - intended_ns) / 1000));
    }
  }
  allocs.Finish(state, static_cast<int64_t>(i));
}
BENCHMARK(BM_WorkerPublish)->ArgName("devices")->Arg(10)->Arg(10'000);

// The worker's scheduling per message (LoadGenerator::SendScheduled / NextDueNs): pop the
// device that is due, its next intended time, push it back. Arg: devices.
void BM_WorkerSchedule(benchmark::State& state) {
  const int devices = static_cast<int>(state.range(0));
  const Schedule schedule(devices, 10.0, kNsPerS, UINT64_MAX);
  std::vector<uint64_t> k(static_cast<size_t>(devices), 0);
  DueQueue queue;
  queue.reserve(k.size());
  for (int d = 0; d < devices; ++d) queue.Push(schedule.IntendedNs(d, 0), d);
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    const DueQueue::Entry e = queue.Top();
    queue.Pop();
    const uint64_t next = ++k[static_cast<size_t>(e.device)];
    queue.Push(schedule.IntendedNs(e.device, next), e.device);
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_WorkerSchedule)->ArgName("devices")->Arg(10)->Arg(10'000);

// BM_WorkerSchedule's arithmetic alone (long double: exact over a long run).
void BM_ScheduleIntendedNs(benchmark::State& state) {
  const Schedule schedule(10'000, 10.0, kNsPerS, UINT64_MAX);
  uint64_t i = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(schedule.IntendedNs(static_cast<int>(i % 10'000), i / 10'000));
    ++i;
  }
  allocs.Finish(state, static_cast<int64_t>(i));
}
BENCHMARK(BM_ScheduleIntendedNs);

// The pieces of BM_WorkerPublish alone.
void BM_FillerFill(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const FillerPool filler(PayloadKind::kDigits, n, 1);
  std::vector<unsigned char> buffer(n);
  uint32_t seq = 0;
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    filler.Fill(seq % 10'000, seq / 10'000, buffer.data(), n);
    benchmark::DoNotOptimize(buffer.data());
    ++seq;
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_FillerFill)->ArgName("bytes")->Arg(kWorkerPayload - kHeaderSize)->Arg(1024);

void BM_EncodeHeader(benchmark::State& state) {
  unsigned char out[kHeaderSize];
  PayloadHeader h{kRunId, 7, 0, 1'000'000, 1'000'100};
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    ++h.seq;
    EncodeHeader(h, out);
    benchmark::DoNotOptimize(out);
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_EncodeHeader);

void BM_MonotonicNowNs(benchmark::State& state) {
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    benchmark::DoNotOptimize(MonotonicNowNs());
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_MonotonicNowNs);

// The allocation counter's own check: one std::vector per item must show 1.
void BM_AllocationCounterCheck(benchmark::State& state) {
  int64_t items = 0;
  AllocationCount allocs;
  for (auto _ : state) {
    std::vector<int> v(1);
    benchmark::DoNotOptimize(v.data());
    ++items;
  }
  allocs.Finish(state, items);
}
BENCHMARK(BM_AllocationCounterCheck);

}  // namespace
}  // namespace edgebench

BENCHMARK_MAIN();

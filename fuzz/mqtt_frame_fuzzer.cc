// libFuzzer target: the MQTT frame decoder of include/edgebench/mqtt/frame.h in both modes,
// and the packet parsers of mqtt/packets.h on every frame it yields.
//
// Input: one byte of settings (bit 0: MQTT 5 for the parsers; bits 1-7: the seed of the
// chunk sizes), then the TCP byte stream of one direction of a connection. The stream is
// decoded three ways, and they must agree frame for frame:
//   - kKeep, fed whole (the reference),
//   - kKeep, fed in chunks of pseudo-random sizes (the assembly of cut bodies),
//   - kHeadersOnly, fed in the same chunks (types, flags and lengths only).
// Every kKeep body must be `length` bytes, and every span the parsers return must lie
// inside it. A disagreement aborts (a crash for libFuzzer).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "edgebench/mqtt/frame.h"
#include "edgebench/mqtt/packets.h"

namespace edgebench {
namespace {

// What a frame looks like to all three decodings, and a copy of its body (kKeep).
struct Seen {
  uint8_t type;
  uint8_t flags;
  uint32_t length;
  std::vector<unsigned char> body;
};

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "mqtt_frame_fuzzer: %s\n", what);
  std::abort();
}

bool Inside(std::span<const unsigned char> part, std::span<const unsigned char> whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// Runs every parser of packets.h on the frame, checking that what they return points into it.
void ParseAll(const MqttFrame& f, int protocol) {
  MqttPublish publish;
  if (ParsePublish(f, protocol, &publish)) {
    Require(Inside(publish.topic, f.body), "ParsePublish: topic outside the body");
    Require(Inside(publish.payload, f.body), "ParsePublish: payload outside the body");
    Require(publish.qos <= 2, "ParsePublish: qos above 2");
    Require(publish.qos > 0 || publish.packet_id == 0, "ParsePublish: a packet id at QoS 0");
  }
  MqttConnack connack;
  (void)ParseConnack(f, &connack);
  uint16_t packet_id = 0;
  int code = 0;
  (void)ParseSuback(f, protocol, &packet_id, &code);
  (void)ParsePacketId(f, &packet_id);
}

// Chunk sizes 1..64, or now and then a big one, from a small LCG: deterministic per input.
class Chunks {
 public:
  explicit Chunks(uint32_t seed) : state_(seed * 2654435761u + 1) {}
  size_t Next() {
    state_ = state_ * 1103515245u + 12345u;
    const uint32_t r = state_ >> 16;
    return (r & 0x7) == 0 ? 4096 : 1 + (r % 64);
  }

 private:
  uint32_t state_;
};

struct Decoded {
  std::vector<Seen> frames;
  bool failed = false;
};

Decoded DecodeKeep(const unsigned char* p, size_t n, uint32_t seed, bool whole, int protocol) {
  MqttFrameDecoder decoder(MqttFrameDecoder::Mode::kKeep);
  Decoded d;
  auto on_frame = [&](const MqttFrame& f) {
    Require(f.body.size() == f.length, "kKeep: body size differs from the remaining length");
    Require(f.type >= 1 && f.type <= 15, "kKeep: packet type out of range");
    ParseAll(f, protocol);
    d.frames.push_back(Seen{f.type, f.flags, f.length, {f.body.begin(), f.body.end()}});
  };
  Chunks chunks(seed);
  size_t i = 0;
  while (i < n) {
    const size_t take = whole ? n : std::min(n - i, chunks.Next());
    if (!decoder.Feed(p + i, take, on_frame)) break;
    i += take;
  }
  d.failed = decoder.failed();
  return d;
}

Decoded DecodeHeaders(const unsigned char* p, size_t n, uint32_t seed) {
  MqttFrameDecoder decoder(MqttFrameDecoder::Mode::kHeadersOnly);
  Decoded d;
  auto on_frame = [&](const MqttFrame& f) {
    Require(f.body.empty(), "kHeadersOnly: a body was passed");
    d.frames.push_back(Seen{f.type, f.flags, f.length, {}});
  };
  Chunks chunks(seed);
  size_t i = 0;
  while (i < n) {
    const size_t take = std::min(n - i, chunks.Next());
    if (!decoder.Feed(p + i, take, on_frame)) break;
    i += take;
  }
  d.failed = decoder.failed();
  return d;
}

void Compare(const Decoded& reference, const Decoded& other, bool bodies, const char* what) {
  Require(reference.failed == other.failed, what);
  // kHeadersOnly reports a frame when its header is complete, so it may hold one more
  // frame (the last, whose body the stream cut short) than kKeep.
  const size_t n = reference.frames.size();
  Require(other.frames.size() == n || (!bodies && other.frames.size() == n + 1), what);
  for (size_t i = 0; i < n; ++i) {
    const Seen& a = reference.frames[i];
    const Seen& b = other.frames[i];
    Require(a.type == b.type && a.flags == b.flags && a.length == b.length, what);
    Require(!bodies || a.body == b.body, what);
  }
}

}  // namespace
}  // namespace edgebench

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgebench;
  if (size < 1) return 0;
  const int protocol = (data[0] & 0x01) != 0 ? 5 : 4;
  const uint32_t seed = data[0] >> 1;
  const unsigned char* stream = data + 1;
  const size_t n = size - 1;
  const Decoded whole = DecodeKeep(stream, n, seed, true, protocol);
  Compare(whole, DecodeKeep(stream, n, seed, false, protocol), true,
          "kKeep in chunks differs from kKeep fed whole");
  Compare(whole, DecodeHeaders(stream, n, seed), false,
          "kHeadersOnly in chunks differs from kKeep fed whole");
  return 0;
}

// Payload: the 32-byte latency header every measured message starts with, and the filler
// that pads a message to its configured size.
//
// Header layout (little-endian on every host; offsets in bytes):
//   0  uint16 magic 0xEB42 (bytes 0x42 0xEB)   2  uint8 version = 1   3  uint8 flags = 0
//   4  uint32 run_id     8  uint32 device     12  uint32 seq
//   16 uint64 intended_ns (when the schedule wanted it sent)
//   24 uint64 sent_ns     (when it was handed to the client)
// Both times are CLOCK_MONOTONIC nanoseconds (see clock.h), so latency is only meaningful
// when publisher and subscriber run on the same host.
//
// Thread-safety: the functions are pure; a FillerPool is immutable after construction, so
// Fill() may be called from any number of threads at once.
#ifndef EDGEBENCH_MQTT_PAYLOAD_H_
#define EDGEBENCH_MQTT_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct PayloadHeader {
  uint32_t run_id = 0;
  uint32_t device = 0;
  uint32_t seq = 0;
  uint64_t intended_ns = 0;
  uint64_t sent_ns = 0;
};

inline constexpr size_t kHeaderSize = 32;
static_assert(kHeaderSize == static_cast<size_t>(kPayloadHeaderBytes),
              "payload header size must match scenario.h");

inline constexpr uint16_t kPayloadMagic = 0xEB42;
inline constexpr uint8_t kPayloadVersion = 1;

// Writes the header into out[0..kHeaderSize).
void EncodeHeader(const PayloadHeader& h, unsigned char* out);

// Reads a header from the start of data[0..size). Returns false (and leaves *out alone)
// when size < kHeaderSize or the magic or version is wrong. The flags byte is ignored.
bool DecodeHeader(const void* data, size_t size, PayloadHeader* out);

// Pre-generated filler, so that the per-message cost is a memcpy rather than an RNG call.
// The pool holds 64 KiB + payload_size bytes made by std::mt19937_64 seeded with `seed`:
// the same seed gives the same bytes on every run.
class FillerPool {
 public:
  FillerPool(PayloadKind kind, size_t payload_size, uint64_t seed);

  // Writes the filler for message (device, seq) into out[0..n). Each (device, seq) reads
  // the pool at its own offset, so consecutive messages of a device differ.
  //   kDigits: ASCII '0'..'9'.
  //   kRandom: arbitrary bytes.
  //   kJson:   {"v":"<digits>"} with as many digits as make exactly n bytes (n >= 8).
  //            Shorter is still valid JSON: n = 2..7 gives "{}" followed by spaces
  //            ("{}   " for n = 5), n = 1 gives a single digit, n = 0 writes nothing.
  // Any n works; n <= payload_size keeps it a single memcpy.
  void Fill(uint32_t device, uint32_t seq, unsigned char* out, size_t n) const;

  PayloadKind kind() const { return kind_; }

 private:
  void CopyFromPool(uint32_t device, uint32_t seq, unsigned char* out, size_t n) const;

  PayloadKind kind_;
  std::vector<unsigned char> pool_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_PAYLOAD_H_

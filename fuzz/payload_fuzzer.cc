// libFuzzer target: the payload header decoder of include/edgebench/mqtt/payload.h.
//
// Input: the payload of one received PUBLISH. DecodeHeader() must read only its first
// kHeaderSize bytes, refuse what is shorter or has the wrong magic or version (leaving the
// output alone), and what it accepts must encode back to the same 32 bytes (the flags byte,
// which it ignores, aside). A disagreement aborts (a crash for libFuzzer).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "edgebench/mqtt/payload.h"

namespace {

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "payload_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgebench;
  const PayloadHeader untouched{1, 2, 3, 4, 5};
  PayloadHeader h = untouched;
  const bool ok = DecodeHeader(data, size, &h);
  const bool valid =
      size >= kHeaderSize && data[0] == 0x42 && data[1] == 0xEB && data[2] == kPayloadVersion;
  Require(ok == valid, "accepted a header it should refuse, or the reverse");
  if (!ok) {
    Require(h.run_id == untouched.run_id && h.device == untouched.device &&
                h.seq == untouched.seq && h.intended_ns == untouched.intended_ns &&
                h.sent_ns == untouched.sent_ns,
            "a refused header changed the output");
    return 0;
  }
  unsigned char again[kHeaderSize];
  EncodeHeader(h, again);
  again[3] = data[3];  // flags: ignored by the decoder, written as 0 by the encoder
  Require(std::memcmp(again, data, kHeaderSize) == 0, "the header does not encode back the same");
  return 0;
}

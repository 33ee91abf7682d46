// Encoding of the latency header and the pre-generated payload filler.
#include "edgebench/mqtt/payload.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace edgebench {
namespace {

// Explicit byte order rather than memcpy of the host integer: the format is little-endian
// on every host.
void PutLe(uint64_t v, int bytes, unsigned char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

uint64_t GetLe(const unsigned char* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

constexpr size_t kPoolSpareBytes = 64 * 1024;
constexpr char kJsonOpen[] = "{\"v\":\"";  // {"v":"
constexpr char kJsonClose[] = "\"}";
constexpr size_t kJsonOpenSize = sizeof kJsonOpen - 1;
constexpr size_t kJsonCloseSize = sizeof kJsonClose - 1;

}  // namespace

void EncodeHeader(const PayloadHeader& h, unsigned char* out) {
  PutLe(kPayloadMagic, 2, out);
  out[2] = kPayloadVersion;
  out[3] = 0;  // flags
  PutLe(h.run_id, 4, out + 4);
  PutLe(h.device, 4, out + 8);
  PutLe(h.seq, 4, out + 12);
  PutLe(h.intended_ns, 8, out + 16);
  PutLe(h.sent_ns, 8, out + 24);
}

bool DecodeHeader(const void* data, size_t size, PayloadHeader* out) {
  if (size < kHeaderSize) return false;
  const auto* in = static_cast<const unsigned char*>(data);
  if (GetLe(in, 2) != kPayloadMagic || in[2] != kPayloadVersion) return false;
  out->run_id = static_cast<uint32_t>(GetLe(in + 4, 4));
  out->device = static_cast<uint32_t>(GetLe(in + 8, 4));
  out->seq = static_cast<uint32_t>(GetLe(in + 12, 4));
  out->intended_ns = GetLe(in + 16, 8);
  out->sent_ns = GetLe(in + 24, 8);
  return true;
}

FillerPool::FillerPool(PayloadKind kind, size_t payload_size, uint64_t seed)
    : kind_(kind), pool_(kPoolSpareBytes + payload_size) {
  std::mt19937_64 rng(seed);
  // Eight bytes (or eight digits) per draw; the distributions of <random> are not the same
  // across standard libraries, so plain modulo keeps the pool identical everywhere.
  for (size_t i = 0; i < pool_.size(); i += 8) {
    uint64_t bits = rng();
    for (size_t k = i; k < std::min(i + 8, pool_.size()); ++k) {
      if (kind_ == PayloadKind::kRandom) {
        pool_[k] = static_cast<unsigned char>(bits);
        bits >>= 8;
      } else {
        pool_[k] = static_cast<unsigned char>('0' + bits % 10);
        bits /= 10;
      }
    }
  }
}

void FillerPool::CopyFromPool(uint32_t device, uint32_t seq, unsigned char* out, size_t n) const {
  if (n == 0) return;
  const size_t span = std::min(n, pool_.size());
  const size_t window = pool_.size() - span + 1;  // number of possible start offsets
  // Steps of two primes: consecutive seqs (and neighbouring devices) land at different
  // offsets because both primes are smaller than the window (at least 64 KiB + 1).
  size_t offset = static_cast<size_t>(
      (static_cast<uint64_t>(seq) * 7919u + static_cast<uint64_t>(device) * 104729u) % window);
  // Longer than the pool only when n > payload_size: wrap around.
  while (n > 0) {
    const size_t chunk = std::min(n, pool_.size() - offset);
    std::memcpy(out, pool_.data() + offset, chunk);
    out += chunk;
    n -= chunk;
    offset = 0;
  }
}

void FillerPool::Fill(uint32_t device, uint32_t seq, unsigned char* out, size_t n) const {
  if (kind_ != PayloadKind::kJson) {
    CopyFromPool(device, seq, out, n);
    return;
  }
  if (n >= kJsonOpenSize + kJsonCloseSize) {
    std::memcpy(out, kJsonOpen, kJsonOpenSize);
    CopyFromPool(device, seq, out + kJsonOpenSize, n - kJsonOpenSize - kJsonCloseSize);
    std::memcpy(out + n - kJsonCloseSize, kJsonClose, kJsonCloseSize);
  } else if (n >= 2) {
    out[0] = '{';
    out[1] = '}';
    std::memset(out + 2, ' ', n - 2);
  } else {
    CopyFromPool(device, seq, out, n);  // one digit: a JSON number
  }
}

}  // namespace edgebench

// MqttFrameDecoder: splits a TCP byte stream into MQTT control packets (frames).
//
// Contract: one decoder per direction of one connection. Feed() takes the stream in chunks
// of any size, split anywhere, and calls on_frame(const MqttFrame&) once per packet, in
// order. It is the one MQTT framer of edgebench: the collector keeps bodies (kKeep) and
// reads PUBLISH in place; the capture's WireStats only counts packets (kHeadersOnly).
//
// kKeep: on_frame gets the whole body. A body that lies whole inside the chunk is passed in
// place (no copy); only a packet cut by a chunk boundary is assembled in an internal buffer
// (reused, so it allocates only to grow). The span is valid during the call only.
// kHeadersOnly: on_frame is called as soon as the fixed header is complete, with an empty
// body, and body bytes are skipped; Skip() accounts for body bytes that were never seen.
//
// Malformed input (packet type 0, a fifth remaining-length byte, or a length above
// max_length) makes Feed() return false and the decoder stay failed until Reset(): the
// stream's framing is lost. Not thread-safe; a plain value (copyable).
#ifndef EDGEBENCH_MQTT_FRAME_H_
#define EDGEBENCH_MQTT_FRAME_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace edgebench {

inline constexpr uint32_t kMqttMaxRemainingLength = 268'435'455;  // 4 bytes of varint

// MQTT control packet types.
enum MqttPacketType : uint8_t {
  kMqttConnect = 1,
  kMqttConnack = 2,
  kMqttPublish = 3,
  kMqttPuback = 4,
  kMqttPubrec = 5,
  kMqttPubrel = 6,
  kMqttPubcomp = 7,
  kMqttSubscribe = 8,
  kMqttSuback = 9,
  kMqttPingreq = 12,
  kMqttPingresp = 13,
  kMqttDisconnect = 14,
};

struct MqttFrame {
  uint8_t type = 0;     // 1..15
  uint8_t flags = 0;    // the low nibble of the first byte (PUBLISH: dup, qos, retain)
  uint32_t length = 0;  // the remaining length
  std::span<const unsigned char> body;  // `length` bytes (kKeep), or empty (kHeadersOnly)
};

class MqttFrameDecoder {
 public:
  enum class Mode : uint8_t { kKeep, kHeadersOnly };

  explicit MqttFrameDecoder(Mode mode, uint32_t max_length = kMqttMaxRemainingLength)
      : mode_(mode), max_length_(max_length) {}

  // Feeds the next `n` bytes. False once the stream is malformed (see above).
  template <class OnFrame>
  bool Feed(const unsigned char* p, size_t n, OnFrame&& on_frame);

  // kHeadersOnly: `n` bytes of the stream that were not captured. True when they lie inside
  // a body (skipped); false when a header falls in them (the framing is lost: failed()).
  bool Skip(size_t n);

  void Reset() { *this = MqttFrameDecoder(mode_, max_length_); }
  bool failed() const { return state_ == State::kFailed; }
  // True between packets (no partial packet held).
  bool at_boundary() const { return state_ == State::kFirstByte; }

 private:
  enum class State : uint8_t { kFirstByte, kLength, kBody, kFailed };

  // Reads one header byte; returns false when the stream is malformed.
  bool HeaderByte(unsigned char b);
  bool Fail() {
    state_ = State::kFailed;
    return false;
  }
  // Parses a whole fixed header at p[0..n): its size, or 0 when it is not all there or is
  // malformed (the slow path then decides).
  size_t WholeHeader(const unsigned char* p, size_t n, MqttFrame* f) const;
  template <class OnFrame>
  size_t FeedBody(const unsigned char* p, size_t n, OnFrame& on_frame);

  Mode mode_;
  uint32_t max_length_;
  State state_ = State::kFirstByte;
  uint8_t length_bytes_ = 0;
  uint32_t body_left_ = 0;
  MqttFrame frame_;                  // the packet being read
  std::vector<unsigned char> body_;  // kKeep: a body cut by a chunk boundary
};

inline size_t MqttFrameDecoder::WholeHeader(const unsigned char* p, size_t n, MqttFrame* f) const {
  if (n < 2 || (p[0] >> 4) == 0) return 0;
  uint32_t length = 0;
  for (size_t i = 1; i < n && i <= 4; ++i) {
    length |= uint32_t{p[i] & 0x7Fu} << (7 * (i - 1));
    if ((p[i] & 0x80) == 0) {
      if (length > max_length_) return 0;
      f->type = static_cast<uint8_t>(p[0] >> 4);
      f->flags = static_cast<uint8_t>(p[0] & 0x0F);
      f->length = length;
      return i + 1;
    }
  }
  return 0;
}

inline bool MqttFrameDecoder::HeaderByte(unsigned char b) {
  if (state_ == State::kFirstByte) {
    if ((b >> 4) == 0) return Fail();
    frame_ = MqttFrame{static_cast<uint8_t>(b >> 4), static_cast<uint8_t>(b & 0x0F), 0, {}};
    length_bytes_ = 0;
    state_ = State::kLength;
    return true;
  }
  frame_.length |= uint32_t{b & 0x7Fu} << (7 * length_bytes_);
  ++length_bytes_;
  if ((b & 0x80) != 0) return length_bytes_ < 4 || Fail();
  if (frame_.length > max_length_) return Fail();
  body_left_ = frame_.length;
  state_ = State::kBody;
  return true;
}

template <class OnFrame>
size_t MqttFrameDecoder::FeedBody(const unsigned char* p, size_t n, OnFrame& on_frame) {
  const size_t take = std::min<size_t>(n, body_left_);
  if (mode_ == Mode::kKeep) {
    // Grows with the bytes that came, not with the length the header claims.
    const size_t have = frame_.length - body_left_;
    if (body_.size() < have + take) body_.resize(have + take);
    std::memcpy(body_.data() + have, p, take);
  }
  body_left_ -= static_cast<uint32_t>(take);
  if (body_left_ == 0) {
    state_ = State::kFirstByte;
    if (mode_ == Mode::kKeep) {
      frame_.body = {body_.data(), frame_.length};
      on_frame(static_cast<const MqttFrame&>(frame_));
    }
  }
  return take;
}

template <class OnFrame>
bool MqttFrameDecoder::Feed(const unsigned char* p, size_t n, OnFrame&& on_frame) {
  size_t i = 0;
  while (i < n) {
    if (state_ == State::kFailed) return false;
    if (state_ == State::kBody) {
      i += FeedBody(p + i, n - i, on_frame);
      continue;
    }
    MqttFrame f;
    size_t header = state_ == State::kFirstByte ? WholeHeader(p + i, n - i, &f) : 0;
    if (header != 0 && (mode_ == Mode::kHeadersOnly || header + f.length <= n - i)) {
      // The fast path: a whole header (and, to keep it, a whole body) in this chunk.
      i += header;
      if (mode_ == Mode::kKeep) {
        f.body = {p + i, f.length};
        i += f.length;
        on_frame(static_cast<const MqttFrame&>(f));
      } else {
        on_frame(static_cast<const MqttFrame&>(f));
        const size_t here = std::min<size_t>(f.length, n - i);  // the body's bytes in this chunk
        i += here;
        if (here < f.length) {
          frame_ = f;
          body_left_ = static_cast<uint32_t>(f.length - here);
          state_ = State::kBody;
        }
      }
      continue;
    }
    if (!HeaderByte(p[i++])) return false;
    if (state_ != State::kBody) continue;
    if (mode_ == Mode::kHeadersOnly) on_frame(static_cast<const MqttFrame&>(frame_));
    if (frame_.length == 0) {
      state_ = State::kFirstByte;
      if (mode_ == Mode::kKeep) on_frame(static_cast<const MqttFrame&>(frame_));
    }
  }
  return state_ != State::kFailed;
}

inline bool MqttFrameDecoder::Skip(size_t n) {
  if (n == 0 || state_ == State::kFailed) return !failed();
  if (state_ != State::kBody || n > body_left_) return Fail();
  body_left_ -= static_cast<uint32_t>(n);
  if (body_left_ == 0) state_ = State::kFirstByte;
  return true;
}

}  // namespace edgebench

#endif  // EDGEBENCH_MQTT_FRAME_H_

// Tests for include/edgebench/mqtt/frame.h: a stream of frames fed whole, split at every
// byte and one byte at a time, in both modes; malformed streams; Skip() and at_boundary().
#include "edgebench/mqtt/frame.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

using Bytes = std::vector<unsigned char>;
using Mode = MqttFrameDecoder::Mode;

// One frame as the test wrote it.
struct Original {
  uint8_t type;
  uint8_t flags;
  Bytes body;
};

// The fixed header written here by hand, independently of the code under test.
void Encode(const Original& o, Bytes* out) {
  out->push_back(static_cast<unsigned char>((o.type << 4) | o.flags));
  size_t n = o.body.size();
  do {
    unsigned char b = static_cast<unsigned char>(n & 0x7F);
    n >>= 7;
    if (n != 0) b |= 0x80;
    out->push_back(b);
  } while (n != 0);
  out->insert(out->end(), o.body.begin(), o.body.end());
}

Bytes Pattern(size_t n, unsigned seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<unsigned char>((i * 7 + size_t{seed} * 13) & 0xFF);
  return b;
}

// PINGRESP (length 0), PUBLISH with 1-, 2- and 3-byte remaining lengths, a PUBACK and a
// closing PINGRESP, so a 0-length frame sits at both ends.
std::vector<Original> Frames() {
  Bytes small = {0x00, 0x03, 'a', '/', 'b', 'h', 'i'};
  return {
      {kMqttPingresp, 0x0, {}},
      {kMqttPublish, 0x0, small},              // length 7: 1 byte
      {kMqttPublish, 0x2, Pattern(300, 1)},    // length 300: 2 bytes (AC 02)
      {kMqttPublish, 0xD, Pattern(20000, 2)},  // length 20,000: 3 bytes (A0 9C 01)
      {kMqttPuback, 0x0, {0x12, 0x34}},
      {kMqttPingresp, 0x0, {}},
  };
}

Bytes Stream(const std::vector<Original>& frames) {
  Bytes s;
  for (const Original& f : frames) Encode(f, &s);
  return s;
}

// Compares every frame as it arrives with the originals; no copies, so that feeding the
// stream split at each of its 20,000 positions stays fast.
class Checker {
 public:
  Checker(const std::vector<Original>& frames, Mode mode) : frames_(frames), mode_(mode) {}

  void operator()(const MqttFrame& f) {
    if (count_ >= frames_.size()) {
      ok_ = false;
      return;
    }
    const Original& o = frames_[count_++];
    bool same = f.type == o.type && f.flags == o.flags && f.length == o.body.size();
    if (mode_ == Mode::kKeep) {
      same = same && f.body.size() == o.body.size() &&
             (o.body.empty() || std::memcmp(f.body.data(), o.body.data(), o.body.size()) == 0);
    } else {
      same = same && f.body.empty();
    }
    if (!same && ok_) first_bad_ = count_ - 1;
    ok_ = ok_ && same;
  }
  // True when every frame arrived, in order, exactly as written.
  bool complete() const { return ok_ && count_ == frames_.size(); }
  size_t count() const { return count_; }
  size_t first_bad() const { return first_bad_; }

 private:
  const std::vector<Original>& frames_;
  Mode mode_;
  size_t count_ = 0;
  bool ok_ = true;
  size_t first_bad_ = 0;
};

}  // namespace

TEST_CASE("the test stream has 1-, 2- and 3-byte remaining lengths", "[frame]") {
  Bytes s = Stream(Frames());
  // PINGRESP, then the first PUBLISH's header, then the 2-byte and 3-byte lengths.
  CHECK(s[0] == 0xD0);
  CHECK(s[1] == 0x00);
  CHECK(s[2] == 0x30);
  CHECK(s[3] == 7);
  size_t third = 2 + 2 + 7;
  CHECK(s[third] == 0x32);
  CHECK(s[third + 1] == 0xAC);
  CHECK(s[third + 2] == 0x02);
  size_t fourth = third + 3 + 300;
  CHECK(s[fourth] == 0x3D);
  CHECK(s[fourth + 1] == 0xA0);
  CHECK(s[fourth + 2] == 0x9C);
  CHECK(s[fourth + 3] == 0x01);
}

TEST_CASE("frames fed whole keep type, flags, length and body, in place", "[frame]") {
  const std::vector<Original> frames = Frames();
  const Bytes s = Stream(frames);
  MqttFrameDecoder d(Mode::kKeep);
  Checker check(frames, Mode::kKeep);
  bool in_place = true;
  REQUIRE(d.Feed(s.data(), s.size(), [&](const MqttFrame& f) {
    check(f);
    // A body that lies whole in the chunk is passed without a copy.
    if (!f.body.empty() && (f.body.data() < s.data() || f.body.data() >= s.data() + s.size())) {
      in_place = false;
    }
  }));
  CHECK(check.complete());
  CHECK(in_place);
  CHECK(d.at_boundary());
  CHECK(!d.failed());
}

TEST_CASE("frames split into two chunks at every byte position", "[frame]") {
  const std::vector<Original> frames = Frames();
  const Bytes s = Stream(frames);
  for (Mode mode : {Mode::kKeep, Mode::kHeadersOnly}) {
    // One decoder for all positions: Reset() between them must be enough.
    MqttFrameDecoder d(mode);
    size_t failures = 0;
    size_t first_failure = 0;
    for (size_t cut = 0; cut <= s.size(); ++cut) {
      d.Reset();
      Checker check(frames, mode);
      bool fed = d.Feed(s.data(), cut, check) && d.Feed(s.data() + cut, s.size() - cut, check);
      if (!fed || !check.complete() || !d.at_boundary()) {
        if (failures++ == 0) first_failure = cut;
      }
    }
    INFO("mode " << (mode == Mode::kKeep ? "keep" : "headers only") << ", first failing cut "
                 << first_failure << " of " << s.size());
    CHECK(failures == 0);
  }
}

TEST_CASE("frames fed one byte at a time", "[frame]") {
  const std::vector<Original> frames = Frames();
  const Bytes s = Stream(frames);
  for (Mode mode : {Mode::kKeep, Mode::kHeadersOnly}) {
    INFO("mode " << (mode == Mode::kKeep ? "keep" : "headers only"));
    MqttFrameDecoder d(mode);
    Checker check(frames, mode);
    bool fed = true;
    for (unsigned char b : s) fed = fed && d.Feed(&b, 1, check);
    CHECK(fed);
    INFO("first bad frame " << check.first_bad() << ", frames " << check.count());
    CHECK(check.complete());
    CHECK(d.at_boundary());
  }
}

TEST_CASE("kHeadersOnly reports a frame as soon as its header is complete", "[frame]") {
  const Original big{kMqttPublish, 0x2, Pattern(20000, 3)};
  Bytes s;
  Encode(big, &s);
  MqttFrameDecoder d(Mode::kHeadersOnly);
  std::vector<MqttFrame> got;
  auto record = [&](const MqttFrame& f) { got.push_back(f); };
  REQUIRE(d.Feed(s.data(), 3, record));  // the type and two of three length bytes
  CHECK(got.empty());
  CHECK(!d.at_boundary());
  REQUIRE(d.Feed(s.data() + 3, 1, record));  // the last length byte
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == kMqttPublish);
  CHECK(got[0].flags == 0x2);
  CHECK(got[0].length == 20000);
  CHECK(got[0].body.empty());
  CHECK(!d.at_boundary());
  REQUIRE(d.Feed(s.data() + 4, 19999, record));
  CHECK(!d.at_boundary());
  REQUIRE(d.Feed(s.data() + 4 + 19999, 1, record));
  CHECK(d.at_boundary());
  CHECK(got.size() == 1);
}

TEST_CASE("at_boundary is true only between frames", "[frame]") {
  const Bytes s = {0x40, 0x02, 0x00, 0x01, 0xD0, 0x00};  // PUBACK 1, PINGRESP
  MqttFrameDecoder d(Mode::kKeep);
  CHECK(d.at_boundary());
  int frames = 0;
  auto count = [&](const MqttFrame&) { ++frames; };
  std::vector<bool> boundary;
  for (unsigned char b : s) {
    REQUIRE(d.Feed(&b, 1, count));
    boundary.push_back(d.at_boundary());
  }
  CHECK(boundary == std::vector<bool>{false, false, false, true, false, true});
  CHECK(frames == 2);
}

TEST_CASE("malformed streams fail the decoder until Reset", "[frame]") {
  struct Case {
    std::string name;
    Bytes bytes;
    uint32_t max_length;
  };
  const std::vector<Case> cases = {
      {"packet type 0", {0x00, 0x00}, kMqttMaxRemainingLength},
      {"packet type 0 after a good frame", {0xD0, 0x00, 0x0F, 0x00}, kMqttMaxRemainingLength},
      {"a fifth remaining-length byte",
       {0x30, 0x80, 0x80, 0x80, 0x80, 0x01},
       kMqttMaxRemainingLength},
      {"a length above max_length", {0x30, 0x65}, 100},  // 101 > 100
  };
  const Bytes good = {0xD0, 0x00, 0x40, 0x02, 0x00, 0x07};  // PINGRESP, PUBACK 7
  for (const Case& c : cases) {
    for (Mode mode : {Mode::kKeep, Mode::kHeadersOnly}) {
      for (bool bytewise : {false, true}) {
        INFO(c.name << (mode == Mode::kKeep ? ", keep" : ", headers only")
                    << (bytewise ? ", one byte at a time" : ", whole"));
        MqttFrameDecoder d(mode, c.max_length);
        int frames = 0;
        auto count = [&](const MqttFrame&) { ++frames; };
        bool fed = true;
        if (bytewise) {
          for (unsigned char b : c.bytes) fed = fed && d.Feed(&b, 1, count);
        } else {
          fed = d.Feed(c.bytes.data(), c.bytes.size(), count);
        }
        CHECK(!fed);
        CHECK(d.failed());
        CHECK(!d.at_boundary());
        const int before = frames;  // the good frame ahead of a bad one counts
        CHECK(!d.Feed(good.data(), good.size(), count));
        CHECK(frames == before);
        CHECK(d.failed());
        CHECK(!d.Skip(1));
        CHECK(d.failed());
        d.Reset();
        CHECK(!d.failed());
        CHECK(d.at_boundary());
        CHECK(d.Feed(good.data(), good.size(), count));
        CHECK(frames == before + 2);
      }
    }
  }
}

TEST_CASE("a length of exactly max_length and the largest 4-byte length are accepted", "[frame]") {
  MqttFrameDecoder d(Mode::kHeadersOnly, 100);
  const Bytes at_limit = {0x30, 0x64};  // 100
  std::vector<uint32_t> lengths;
  auto record = [&](const MqttFrame& f) { lengths.push_back(f.length); };
  CHECK(d.Feed(at_limit.data(), at_limit.size(), record));
  MqttFrameDecoder big(Mode::kHeadersOnly);
  const Bytes largest = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};  // 268,435,455
  CHECK(big.Feed(largest.data(), largest.size(), record));
  CHECK(lengths == std::vector<uint32_t>{100, kMqttMaxRemainingLength});
  CHECK(!big.failed());
}

TEST_CASE("Skip accounts for body bytes never seen, not for headers", "[frame]") {
  // A PUBLISH of length 100 whose header and first 10 body bytes were captured.
  Bytes head = {0x30, 100};
  Bytes body = Pattern(10, 4);
  head.insert(head.end(), body.begin(), body.end());
  const Bytes next = {0xD0, 0x00};
  std::vector<uint8_t> types;
  auto record = [&](const MqttFrame& f) { types.push_back(f.type); };

  MqttFrameDecoder d(Mode::kHeadersOnly);
  REQUIRE(d.Feed(head.data(), head.size(), record));
  CHECK(d.Skip(0));
  CHECK(d.Skip(50));
  CHECK(!d.at_boundary());
  CHECK(d.Skip(40));  // the last 40 body bytes: exactly to the boundary
  CHECK(d.at_boundary());
  CHECK(d.Feed(next.data(), next.size(), record));
  CHECK(types == std::vector<uint8_t>{kMqttPublish, kMqttPingresp});
  CHECK(!d.failed());

  SECTION("past the end of the body") {
    MqttFrameDecoder e(Mode::kHeadersOnly);
    REQUIRE(e.Feed(head.data(), head.size(), record));
    CHECK(!e.Skip(91));  // one byte of the next header was never seen
    CHECK(e.failed());
    CHECK(!e.Feed(next.data(), next.size(), record));
  }
  SECTION("at a boundary") {
    MqttFrameDecoder e(Mode::kHeadersOnly);
    REQUIRE(e.Feed(next.data(), next.size(), record));
    CHECK(!e.Skip(1));
    CHECK(e.failed());
  }
  SECTION("inside a header") {
    MqttFrameDecoder e(Mode::kHeadersOnly);
    const Bytes partial = {0x30, 0x80};  // a length byte that says more follow
    REQUIRE(e.Feed(partial.data(), partial.size(), record));
    CHECK(!e.Skip(1));
    CHECK(e.failed());
  }
}

TEST_CASE("a copied decoder continues independently", "[frame]") {
  const std::vector<Original> frames = Frames();
  const Bytes s = Stream(frames);
  const size_t cut = 2 + 2 + 7 + 3 + 100;  // inside the 300-byte body
  MqttFrameDecoder d(Mode::kKeep);
  Checker first(frames, Mode::kKeep);
  REQUIRE(d.Feed(s.data(), cut, first));
  MqttFrameDecoder copy = d;
  Checker a = first;
  Checker b = first;
  REQUIRE(d.Feed(s.data() + cut, s.size() - cut, a));
  REQUIRE(copy.Feed(s.data() + cut, s.size() - cut, b));
  CHECK(a.complete());
  CHECK(b.complete());
}

}  // namespace edgebench

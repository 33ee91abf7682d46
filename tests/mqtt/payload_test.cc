// Tests for the payload header encoding, FillerPool and MonotonicNowNs.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/payload.h"

namespace edgebench {
namespace {

PayloadHeader Sample() {
  PayloadHeader h;
  h.run_id = 0x01020304;
  h.device = 0x0A0B0C0D;
  h.seq = 0xDEADBEEF;
  h.intended_ns = 0x1122334455667788;
  h.sent_ns = 0x8877665544332211;
  return h;
}

std::string FillString(const FillerPool& pool, uint32_t device, uint32_t seq, size_t n) {
  std::string s(n, '\0');
  pool.Fill(device, seq, reinterpret_cast<unsigned char*>(s.data()), n);
  return s;
}

}  // namespace

TEST_CASE("payload header round trip", "[payload]") {
  std::array<unsigned char, kHeaderSize> buf{};
  EncodeHeader(Sample(), buf.data());
  PayloadHeader out;
  REQUIRE(DecodeHeader(buf.data(), buf.size(), &out));
  CHECK(out.run_id == 0x01020304);
  CHECK(out.device == 0x0A0B0C0D);
  CHECK(out.seq == 0xDEADBEEF);
  CHECK(out.intended_ns == 0x1122334455667788);
  CHECK(out.sent_ns == 0x8877665544332211);
}

TEST_CASE("payload header byte layout", "[payload]") {
  std::array<unsigned char, kHeaderSize> buf{};
  EncodeHeader(Sample(), buf.data());
  const std::array<unsigned char, kHeaderSize> expected = {
      0x42, 0xEB, 0x01, 0x00,                          // magic, version, flags
      0x04, 0x03, 0x02, 0x01,                          // run_id
      0x0D, 0x0C, 0x0B, 0x0A,                          // device
      0xEF, 0xBE, 0xAD, 0xDE,                          // seq
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // intended_ns
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // sent_ns
  };
  CHECK(buf == expected);
  static_assert(kHeaderSize == 32);
}

TEST_CASE("payload header decode rejects bad input", "[payload]") {
  std::vector<unsigned char> buf(64, 0xFF);
  EncodeHeader(Sample(), buf.data());
  PayloadHeader out;
  out.seq = 7;

  CHECK(DecodeHeader(buf.data(), buf.size(), &out));  // trailing filler is fine
  out.seq = 7;
  CHECK_FALSE(DecodeHeader(buf.data(), 31, &out));
  CHECK_FALSE(DecodeHeader(buf.data(), 0, &out));
  CHECK(out.seq == 7);  // untouched on failure

  auto bad_magic = buf;
  bad_magic[0] = 0xEB;
  bad_magic[1] = 0x42;  // big-endian magic is not accepted
  CHECK_FALSE(DecodeHeader(bad_magic.data(), bad_magic.size(), &out));

  auto bad_version = buf;
  bad_version[2] = 2;
  CHECK_FALSE(DecodeHeader(bad_version.data(), bad_version.size(), &out));

  auto flags = buf;
  flags[3] = 0x80;  // flags are reserved, not checked
  CHECK(DecodeHeader(flags.data(), flags.size(), &out));
}

TEST_CASE("filler digits", "[payload]") {
  const FillerPool pool(PayloadKind::kDigits, 256, 1);
  const std::string s = FillString(pool, 3, 17, 256);
  REQUIRE(s.size() == 256);
  for (char c : s) CHECK((c >= '0' && c <= '9'));
  // Every digit shows up somewhere in a 64 KiB pool's worth of messages.
  std::string seen;
  for (uint32_t seq = 0; seq < 100; ++seq) seen += FillString(pool, 0, seq, 32);
  for (char d = '0'; d <= '9'; ++d) CHECK(seen.find(d) != std::string::npos);
}

TEST_CASE("filler random", "[payload]") {
  const FillerPool pool(PayloadKind::kRandom, 1024, 9);
  const std::string s = FillString(pool, 0, 0, 1024);
  // Random bytes cover far more than the ten digit values.
  std::array<bool, 256> seen{};
  for (char c : s) seen[static_cast<unsigned char>(c)] = true;
  int distinct = 0;
  for (bool b : seen) distinct += b ? 1 : 0;
  CHECK(distinct > 200);
}

TEST_CASE("filler json", "[payload]") {
  const FillerPool pool(PayloadKind::kJson, 64, 5);
  const std::string s = FillString(pool, 1, 2, 40);
  REQUIRE(s.size() == 40);
  CHECK(s.substr(0, 6) == "{\"v\":\"");
  CHECK(s.substr(38) == "\"}");
  for (char c : s.substr(6, 32)) CHECK((c >= '0' && c <= '9'));

  CHECK(FillString(pool, 1, 2, 8) == "{\"v\":\"\"}");
  CHECK(FillString(pool, 1, 2, 9).substr(0, 6) == "{\"v\":\"");
  CHECK(FillString(pool, 1, 2, 7) == "{}     ");
  CHECK(FillString(pool, 1, 2, 2) == "{}");
  const std::string one = FillString(pool, 1, 2, 1);
  CHECK((one[0] >= '0' && one[0] <= '9'));
}

TEST_CASE("filler is deterministic per seed and differs per message", "[payload]") {
  for (PayloadKind kind : {PayloadKind::kDigits, PayloadKind::kRandom, PayloadKind::kJson}) {
    const FillerPool a(kind, 128, 1234);
    const FillerPool b(kind, 128, 1234);
    const FillerPool other_seed(kind, 128, 1235);
    CHECK(FillString(a, 4, 99, 100) == FillString(b, 4, 99, 100));
    CHECK(FillString(a, 4, 99, 100) != FillString(other_seed, 4, 99, 100));
    for (uint32_t seq = 0; seq < 50; ++seq) {
      CHECK(FillString(a, 4, seq, 100) != FillString(a, 4, seq + 1, 100));
    }
    CHECK(FillString(a, 4, 0, 100) != FillString(a, 5, 0, 100));
  }
}

TEST_CASE("filler longer than the pool wraps", "[payload]") {
  const FillerPool pool(PayloadKind::kDigits, 0, 1);  // 64 KiB pool
  const std::string s = FillString(pool, 0, 3, 200'000);
  REQUIRE(s.size() == 200'000);
  for (char c : s) {
    if (c < '0' || c > '9') FAIL("not a digit");
  }
}

TEST_CASE("monotonic clock", "[payload]") {
  const uint64_t a = MonotonicNowNs();
  const uint64_t b = MonotonicNowNs();
  CHECK(a > 0);
  CHECK(b >= a);
}

}  // namespace edgebench

// Tests for LatencyHistogram: accuracy against sorted arrays, merge, JSON and .hgrm output.
#include "edgebench/results/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace edgebench {
namespace {

std::vector<int64_t> Uniform(size_t n, std::mt19937_64& rng) {
  std::vector<int64_t> v(n);
  for (auto& x : v) x = static_cast<int64_t>(rng() % 1'000'000) + 1;
  return v;
}

std::vector<int64_t> Exponential(size_t n, std::mt19937_64& rng) {
  std::vector<int64_t> v(n);
  for (auto& x : v) {
    // U in (0, 1], then -ln(U) * 2000: mean 2 ms in microseconds, long tail.
    const double u = (static_cast<double>(rng() >> 11) + 1.0) / 9007199254740992.0;
    x = static_cast<int64_t>(-std::log(u) * 2000.0);
  }
  return v;
}

std::vector<int64_t> WithOutliers(size_t n, std::mt19937_64& rng) {
  std::vector<int64_t> v(n);
  for (auto& x : v) {
    const uint64_t r = rng();
    x = r % 1000 == 0 ? 50'000'000 + static_cast<int64_t>(r % 10'000'000)
                      : 400 + static_cast<int64_t>(r % 200);
  }
  return v;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void CheckAgainstReference(std::vector<int64_t> values) {
  LatencyHistogram h;
  for (int64_t v : values) h.Record(v);
  std::sort(values.begin(), values.end());
  const auto n = static_cast<uint64_t>(values.size());

  REQUIRE(h.count() == n);
  CHECK(h.min() == values.front());
  CHECK(h.max() == values.back());
  double sum = 0;
  for (int64_t v : values) sum += static_cast<double>(v);
  CHECK(h.mean() == Approx(sum / static_cast<double>(n)).epsilon(1e-12));

  // Percentiles in units of 0.001%, so the reference rank ceil(p/100 * n) is exact.
  for (uint64_t p_milli :
       {1000u, 10000u, 25000u, 50000u, 75000u, 90000u, 99000u, 99900u, 99990u, 99999u, 100000u}) {
    const uint64_t rank = std::max<uint64_t>((p_milli * n + 99999) / 100000, 1);
    const int64_t expected = values[rank - 1];
    const double p = static_cast<double>(p_milli) / 1000.0;
    const int64_t got = h.ValueAtPercentile(p);
    INFO("p=" << p << " rank=" << rank << " expected=" << expected << " got=" << got);
    CHECK(got >= expected);  // the top of the reference value's bucket
    CHECK(static_cast<double>(got - expected) <= 1e-3 * static_cast<double>(expected));
  }
}

}  // namespace

TEST_CASE("histogram layout follows HdrHistogram", "[histogram]") {
  LatencyHistogram h;  // one hour in microseconds, 3 digits
  CHECK(h.highest_trackable() == 3'600'000'000);
  CHECK(h.significant_digits() == 3);
  const auto lines = Lines(h.ToHgrm());
  REQUIRE(!lines.empty());
  CHECK(lines.back() == "#[Buckets =           22, SubBuckets     =         2048]");

  LatencyHistogram two(3'600'000'000, 2);  // 2 * 10^2 = 200 -> 256 sub-buckets
  CHECK(Lines(two.ToHgrm()).back() == "#[Buckets =           25, SubBuckets     =          256]");
}

TEST_CASE("histogram percentiles match a sorted array", "[histogram]") {
  std::mt19937_64 rng(42);
  SECTION("uniform") { CheckAgainstReference(Uniform(100'000, rng)); }
  SECTION("exponential") { CheckAgainstReference(Exponential(100'000, rng)); }
  SECTION("outliers") { CheckAgainstReference(WithOutliers(100'000, rng)); }
}

TEST_CASE("histogram small values are exact", "[histogram]") {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 10; ++v) h.Record(v);
  CHECK(h.ValueAtPercentile(50) == 5);
  CHECK(h.ValueAtPercentile(90) == 9);
  CHECK(h.ValueAtPercentile(91) == 10);
  CHECK(h.ValueAtPercentile(100) == 10);
  CHECK(h.ValueAtPercentile(0) == 1);
  CHECK(h.ValueAtPercentile(0.0001) == 1);
  CHECK(h.mean() == 5.5);
}

TEST_CASE("histogram percentile never exceeds the exact max", "[histogram]") {
  LatencyHistogram h;
  h.Record(1'000'001);  // bucket of width 512: its top is 1'000'447
  CHECK(h.ValueAtPercentile(100) == 1'000'001);
  CHECK(h.ValueAtPercentile(50) == 1'000'001);
  h.Record(1'000'000);
  CHECK(h.ValueAtPercentile(50) == 1'000'001);
  CHECK(h.max() == 1'000'001);
  CHECK(h.min() == 1'000'000);
}

TEST_CASE("histogram 99.9% of 1000 values is rank 999", "[histogram]") {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v);
  CHECK(h.ValueAtPercentile(99.9) == 999);
  CHECK(h.ValueAtPercentile(99.91) == 1000);
}

TEST_CASE("histogram empty", "[histogram]") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0);
  CHECK(h.ValueAtPercentile(99) == 0);
  const LatencySummary s = h.Summarize();
  CHECK(s.count == 0);
  CHECK(s.p999 == 0);
}

TEST_CASE("histogram summary", "[histogram]") {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v);
  const LatencySummary s = h.Summarize();
  CHECK(s.count == 1000);
  CHECK(s.min == 1);
  CHECK(s.mean == 500.5);
  CHECK(s.p50 == 500);
  CHECK(s.p90 == 900);
  CHECK(s.p99 == 990);
  CHECK(s.p999 == 999);
  CHECK(s.max == 1000);
}

TEST_CASE("histogram merge equals recording into one", "[histogram]") {
  std::mt19937_64 rng(7);
  const std::vector<int64_t> values = Exponential(50'000, rng);
  LatencyHistogram a, b, all;
  for (size_t i = 0; i < values.size(); ++i) {
    (i % 3 == 0 ? a : b).Record(values[i]);
    all.Record(values[i]);
  }
  a.Merge(b);
  CHECK(a.ToJson() == all.ToJson());
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  CHECK(a.mean() == all.mean());
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    CHECK(a.ValueAtPercentile(p) == all.ValueAtPercentile(p));
  }
  CHECK(a.ToHgrm() == all.ToHgrm());

  LatencyHistogram empty;
  a.Merge(empty);
  CHECK(a.ToJson() == all.ToJson());
}

TEST_CASE("histogram merge of a different layout", "[histogram]") {
  LatencyHistogram a(1'000'000, 3);
  LatencyHistogram b(10'000, 2);
  b.Record(5);
  b.Record(7000);
  a.Merge(b);
  CHECK(a.count() == 2);
  CHECK(a.min() == 5);
  CHECK(a.max() == 7000);
  CHECK(a.mean() == 3502.5);
}

TEST_CASE("histogram reset", "[histogram]") {
  LatencyHistogram h;
  h.Record(5);
  h.Record(-1);
  h.Record(4'000'000'000);
  h.Reset();
  CHECK(h.count() == 0);
  CHECK(h.saturated() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0);
  CHECK(h.ToJson() == LatencyHistogram().ToJson());
  h.Record(42);
  CHECK(h.min() == 42);
  CHECK(h.max() == 42);
}

TEST_CASE("histogram saturation and negatives", "[histogram]") {
  LatencyHistogram h(1000, 3);
  h.Record(5000);
  h.RecordN(1001, 2);
  h.Record(1000);
  CHECK(h.count() == 4);
  CHECK(h.saturated() == 3);
  CHECK(h.max() == 1000);
  CHECK(h.ValueAtPercentile(100) == 1000);

  LatencyHistogram n;
  n.Record(-5);
  CHECK(n.count() == 1);
  CHECK(n.min() == 0);
  CHECK(n.max() == 0);
  CHECK(n.ValueAtPercentile(50) == 0);
  CHECK(n.saturated() == 0);

  LatencyHistogram zero;
  zero.RecordN(10, 0);
  CHECK(zero.count() == 0);
  CHECK(zero.max() == 0);
}

TEST_CASE("histogram json round trip", "[histogram]") {
  std::mt19937_64 rng(3);
  LatencyHistogram h(10'000'000, 3);
  for (int64_t v : WithOutliers(10'000, rng)) h.Record(v);  // some saturate
  h.Record(0);
  REQUIRE(h.saturated() > 0);
  const nlohmann::json j = h.ToJson();
  CHECK(j["highest_trackable"] == 10'000'000);
  CHECK(j["significant_digits"] == 3);
  CHECK(j["min"] == 0);
  CHECK(j["max"] == 10'000'000);
  CHECK(j["counts"][0][0] == 0);
  CHECK(j["counts"][0][1] == 1);

  // Through text, as over the worker pipe.
  const auto back = LatencyHistogram::FromJson(nlohmann::json::parse(j.dump()));
  REQUIRE(back.ok());
  CHECK(back->ToJson() == j);
  CHECK(back->count() == h.count());
  CHECK(back->saturated() == h.saturated());
  CHECK(back->min() == h.min());
  CHECK(back->max() == h.max());
  CHECK(back->mean() == h.mean());
  CHECK(back->ToHgrm() == h.ToHgrm());
  for (double p : {50.0, 99.0, 99.99}) {
    CHECK(back->ValueAtPercentile(p) == h.ValueAtPercentile(p));
  }

  const auto empty = LatencyHistogram::FromJson(LatencyHistogram().ToJson());
  REQUIRE(empty.ok());
  CHECK(empty->count() == 0);
  CHECK(empty->min() == 0);
  LatencyHistogram e = empty.value();
  e.Record(7);
  CHECK(e.min() == 7);
}

TEST_CASE("histogram json errors", "[histogram]") {
  LatencyHistogram h;
  h.Record(100);
  h.Record(5000);
  const nlohmann::json good = h.ToJson();
  auto error_of = [](const nlohmann::json& j) {
    const auto r = LatencyHistogram::FromJson(j);
    return r.ok() ? std::string("ok") : r.error().ToString();
  };
  CHECK(error_of(good) == "ok");

  nlohmann::json j = good;
  j.erase("counts");
  CHECK(error_of(j) == "histogram json: missing 'counts'");
  j = good;
  j.erase("highest_trackable");
  CHECK(error_of(j) == "histogram json: missing 'highest_trackable'");
  CHECK(error_of(nlohmann::json::array()) == "histogram json: expected an object");

  j = good;
  j["significant_digits"] = 6;
  CHECK(error_of(j) == "histogram json: 'significant_digits' must be an integer from 1 to 5");
  j = good;
  j["highest_trackable"] = "big";
  CHECK(error_of(j) == "histogram json: 'highest_trackable' must be an integer >= 2");
  j = good;
  j["sum"] = -1;
  CHECK(error_of(j) == "histogram json: 'sum' must be a non-negative number");
  j = good;
  j["counts"] = nlohmann::json::parse("[[1, 2, 3]]");
  CHECK(error_of(j) ==
        "histogram json: counts[0] must be [index, count] with non-negative integers");
  j = good;
  j["counts"] = nlohmann::json::parse("[[5, -1]]");
  CHECK(error_of(j) ==
        "histogram json: counts[0] must be [index, count] with non-negative integers");
  j = good;
  j["counts"] = nlohmann::json::parse("[[23552, 1]]");
  CHECK(error_of(j) == "histogram json: counts[0] index 23552 is out of range (0..23551)");
  j = good;
  j["counts"] = nlohmann::json::parse("[[100, 1], [100, 1]]");
  CHECK(error_of(j) == "histogram json: counts[1] index 100 is not above the previous index");
  j = good;
  j["min"] = 99;
  CHECK(error_of(j) == "histogram json: 'min' 99 is not in the lowest bucket");
  j = good;
  j["max"] = 6000;
  CHECK(error_of(j) == "histogram json: 'max' 6000 is not in the highest bucket");
  j = good;
  j["saturated"] = 3;
  CHECK(error_of(j) == "histogram json: 'saturated' exceeds the total count");
  j = good;
  j["counts"] = nlohmann::json::array();
  CHECK(error_of(j) == "histogram json: 'min' and 'max' must be 0 when counts is empty");
}

TEST_CASE("histogram hgrm output, line by line", "[histogram]") {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 10; ++v) h.Record(v);
  // Derived by hand from HdrHistogram's PercentileIterator with 5 ticks per half distance:
  // levels 0, 10, .., 50, then steps of 5 to 75, 2.5 to 87.5, 1.25 to 93.75; a bucket
  // produces a row for every level its cumulative percentile reaches.
  const std::vector<std::string> expected = {
      "       Value     Percentile TotalCount 1/(1-Percentile)",
      "",
      "       1.000 0.000000000000          1           1.00",
      "       1.000 0.100000000000          1           1.11",
      "       2.000 0.200000000000          2           1.25",
      "       3.000 0.300000000000          3           1.43",
      "       4.000 0.400000000000          4           1.67",
      "       5.000 0.500000000000          5           2.00",
      "       6.000 0.550000000000          6           2.22",
      "       6.000 0.600000000000          6           2.50",
      "       7.000 0.650000000000          7           2.86",
      "       7.000 0.700000000000          7           3.33",
      "       8.000 0.750000000000          8           4.00",
      "       8.000 0.775000000000          8           4.44",
      "       8.000 0.800000000000          8           5.00",
      "       9.000 0.825000000000          9           5.71",
      "       9.000 0.850000000000          9           6.67",
      "       9.000 0.875000000000          9           8.00",
      "       9.000 0.887500000000          9           8.89",
      "       9.000 0.900000000000          9          10.00",
      "      10.000 0.912500000000         10          11.43",
      "      10.000 1.000000000000         10",
      "#[Mean    =        5.500, StdDeviation   =        2.872]",
      "#[Max     =       10.000, Total count    =           10]",
      "#[Buckets =           22, SubBuckets     =         2048]",
  };
  const std::string text = h.ToHgrm();
  const auto lines = Lines(text);
  REQUIRE(lines.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("line " << i + 1);
    CHECK(lines[i] == expected[i]);
  }
  CHECK(text.back() == '\n');
}

TEST_CASE("histogram hgrm scaling, footer from buckets, java rounding", "[histogram]") {
  LatencyHistogram h;
  h.Record(2469);  // bucket [2468, 2469]: median 2469, top 2469
  h.Record(2468);
  const auto lines = Lines(h.ToHgrm(2000.0));
  REQUIRE(lines.size() == 7);
  // 2469 / 2000 = 1.2345: Java rounds the shortest decimal half-up ("1.235"); glibc's
  // printf would print the binary value 1.23449999... as "1.234".
  CHECK(lines[2] == "       1.235 0.000000000000          2           1.00");
  CHECK(lines[3] == "       1.235 1.000000000000          2");
  CHECK(lines[4] == "#[Mean    =        1.235, StdDeviation   =        0.000]");
  CHECK(lines[5] == "#[Max     =        1.235, Total count    =            2]");

  // Footer values come from the buckets (as in HdrHistogram), not from max()/mean().
  LatencyHistogram big;
  big.Record(1'000'001);  // bucket [999'936, 1'000'447]
  const auto big_lines = Lines(big.ToHgrm());
  CHECK(big_lines[2] == " 1000447.000 0.000000000000          1           1.00");
  CHECK(big_lines[3] == " 1000447.000 1.000000000000          1");
  CHECK(big_lines[4] == "#[Mean    =  1000192.000, StdDeviation   =        0.000]");
  CHECK(big_lines[5] == "#[Max     =  1000447.000, Total count    =            1]");
}

TEST_CASE("histogram hgrm of an empty histogram", "[histogram]") {
  const auto lines = Lines(LatencyHistogram().ToHgrm());
  const std::vector<std::string> expected = {
      "       Value     Percentile TotalCount 1/(1-Percentile)",
      "",
      "#[Mean    =        0.000, StdDeviation   =        0.000]",
      "#[Max     =        0.000, Total count    =            0]",
      "#[Buckets =           22, SubBuckets     =         2048]",
  };
  CHECK(lines == expected);
}

}  // namespace edgebench

// LatencyHistogram: an HDR-style log-linear histogram of integer values (microseconds).
//
// Contract: constant memory fixed at construction; Record() is O(1) and allocation-free;
// relative error of any reported value is below 10^-significant_digits; histograms with
// the same configuration merge exactly. Not thread-safe: one owner at a time.
#ifndef EDGEBENCH_RESULTS_HISTOGRAM_H_
#define EDGEBENCH_RESULTS_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"

namespace edgebench {

// The figures every report shows for a distribution. All values in the histogram's unit.
struct LatencySummary {
  uint64_t count = 0;
  int64_t min = 0;
  double mean = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t p99 = 0;
  int64_t p999 = 0;
  int64_t max = 0;
  bool operator==(const LatencySummary&) const = default;
};

class LatencyHistogram {
 public:
  // Tracks values 0..highest_trackable (default: one hour in microseconds) with
  // `significant_digits` (1..5) decimal digits of precision. Out-of-range arguments are
  // clamped (highest_trackable to at least 2, significant_digits into 1..5).
  LatencyHistogram() : LatencyHistogram(3'600'000'000, 3) {}
  LatencyHistogram(int64_t highest_trackable, int significant_digits);

  // Negative values are recorded as 0; values above highest_trackable are recorded as
  // highest_trackable and counted in saturated().
  void Record(int64_t value) { RecordN(value, 1); }
  void RecordN(int64_t value, uint64_t n);

  // Adds every count of `other`. Exact when both have the same highest_trackable and
  // significant_digits; otherwise each bucket of `other` is re-recorded at its lowest value.
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return total_count_; }
  uint64_t saturated() const { return saturated_count_; }
  int64_t min() const;  // 0 when empty
  int64_t max() const;  // 0 when empty; exact (highest recorded value, not bucket edge)
  double mean() const;  // 0 when empty
  // The value at `percentile` (0..100], as HdrHistogram reports it: the highest value
  // equivalent to the bucket that holds the percentile's rank (rank = ceil(p/100 * count),
  // at least 1), but never above max(). Percentile 0 gives min(). 0 when empty.
  int64_t ValueAtPercentile(double percentile) const;
  LatencySummary Summarize() const;

  // The percentile distribution in HdrHistogram's .hgrm text format (columns Value,
  // Percentile, TotalCount, 1/(1-Percentile), footer with Mean, StdDeviation, Max,
  // Total count, Buckets, SubBuckets). Values are divided by `value_scale` (for example
  // 1.0 to print microseconds). Byte-for-byte what HdrHistogram's (Java)
  // outputPercentileDistribution prints (values with significant_digits decimals, so
  // "%12.3f" by default), so rows show bucket tops and the footer's Mean,
  // StdDeviation and Max come from bucket midpoints / the top of max's bucket, as there;
  // they can differ from mean() and max() within the histogram's precision.
  std::string ToHgrm(double value_scale = 1.0, int ticks_per_half_distance = 5) const;

  // Sparse, exact serialisation (for the worker pipe and shard merging):
  // {"highest_trackable", "significant_digits", "min", "max", "sum", "saturated",
  //  "counts": [[index, count], ...]} with only non-zero counts, in index order.
  // FromJson() checks every field and that min/max fall in the first/last non-empty bucket.
  nlohmann::json ToJson() const;
  static Result<LatencyHistogram> FromJson(const nlohmann::json& j);

  int64_t highest_trackable() const { return highest_trackable_; }
  int significant_digits() const { return significant_digits_; }

 private:
  // bucket/sub-bucket layout as in HdrHistogram
  size_t IndexOf(int64_t value) const;
  int64_t ValueFromIndex(size_t index) const;      // lowest value of the bucket
  int64_t HighestEquivalent(int64_t value) const;  // highest value of its bucket
  int64_t LowestEquivalent(int64_t value) const;
  int64_t SizeOfEquivalentRange(int64_t value) const;
  bool SameLayout(const LatencyHistogram& other) const;
  Status LoadJsonCounts(const nlohmann::json& counts, size_t* first, size_t* last);
  // HdrHistogram's getMean()/getStdDeviation(): from bucket midpoints (for ToHgrm).
  double HdrMean() const;
  double HdrStdDeviation() const;

  int64_t highest_trackable_;
  int significant_digits_;
  int sub_bucket_half_count_magnitude_ = 0;
  int64_t sub_bucket_count_ = 0;
  int64_t sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  int unit_magnitude_ = 0;
  std::vector<uint64_t> counts_;
  uint64_t total_count_ = 0;
  uint64_t saturated_count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  double sum_ = 0;  // for the exact mean
};

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_HISTOGRAM_H_

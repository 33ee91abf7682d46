// Stats: the few statistics `compare` needs for a handful of repeats: medians, quantiles,
// percentile-bootstrap intervals and the Mann-Whitney U test, as plain functions.
//
// Contract: pure functions of their arguments; the bootstrap is seeded (std::mt19937_64)
// so the same input and seed give the same interval on every machine that has the same
// standard library (the draws use uniform_int_distribution, whose mapping is
// implementation-defined; libstdc++ here). Inputs need not be sorted and are not changed.
// NaN values are not allowed (Requires: no NaN). Definitions: docs/compare.md.
#ifndef EDGEBENCH_STATS_STATS_H_
#define EDGEBENCH_STATS_STATS_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace edgebench {

// The middle value (the mean of the two middle values for an even count); nullopt when
// empty. Equals Python's statistics.median.
std::optional<double> Median(const std::vector<double>& values);

// The q-quantile (0 <= q <= 1) by linear interpolation between order statistics, Hyndman
// and Fan's type 7 (R's default, numpy.quantile's "linear", Python's
// statistics.quantiles(method="inclusive")): with x sorted and h = (n - 1) q, the value
// x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)]). nullopt when empty or q
// is outside [0, 1].
std::optional<double> Quantile(const std::vector<double>& values, double q);

struct Interval {
  double lo = 0;
  double hi = 0;
  bool operator==(const Interval&) const = default;
};

struct BootstrapOptions {
  double confidence = 0.95;  // (0, 1)
  int resamples = 10000;     // >= 1
  uint64_t seed = 1;
};

// Percentile bootstrap interval of the median: `resamples` resamples of the values drawn
// with replacement, the median of each, and the (1-c)/2 and (1+c)/2 quantiles (type 7) of
// those medians. nullopt with fewer than 2 values (an interval from one value would be a
// point, which says nothing about the spread) or bad options.
std::optional<Interval> BootstrapMedianInterval(const std::vector<double>& values,
                                                const BootstrapOptions& options = {});

struct DifferenceEstimate {
  double estimate = 0;  // median(b) - median(a)
  double lo = 0;        // percentile bootstrap interval of median(b*) - median(a*),
  double hi = 0;        // a* and b* resampled independently
  bool operator==(const DifferenceEstimate&) const = default;
};

// nullopt when either side has fewer than 2 values, or bad options.
std::optional<DifferenceEstimate> BootstrapDifferenceOfMedians(
    const std::vector<double>& a, const std::vector<double>& b,
    const BootstrapOptions& options = {});

// The exact distribution is used up to this many values on each side (with ties: the exact
// permutation distribution of the midrank statistic).
inline constexpr size_t kMannWhitneyExactMax = 20;

struct MannWhitneyResult {
  double u = 0;            // U of a: pairs (x in a, y in b) with x > y, ties counting 1/2
  double p_two_sided = 1;  // P(U as far from n1 n2 / 2 as observed) under H0
  bool exact = false;      // true: the exact null distribution; false: normal approximation
                           // with tie correction and continuity correction
  bool operator==(const MannWhitneyResult&) const = default;
};

// The Mann-Whitney U (Wilcoxon rank-sum) test of a against b. Exact when both sides have
// at most kMannWhitneyExactMax values: with ties, the exact permutation distribution of U
// from midranks (so 3 runs against 3 never reach p < 0.1, tied or not); otherwise the
// normal approximation (z = (|U - n1 n2 / 2| - 1/2) / sigma, sigma with the tie
// correction). When every value is tied, sigma is 0: p is 1. nullopt when a side is empty.
std::optional<MannWhitneyResult> MannWhitneyU(const std::vector<double>& a,
                                              const std::vector<double>& b);

}  // namespace edgebench

#endif  // EDGEBENCH_STATS_STATS_H_

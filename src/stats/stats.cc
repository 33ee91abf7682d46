// Medians, quantiles, percentile-bootstrap intervals and the Mann-Whitney U test.
#include "edgebench/stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace edgebench {
namespace {

// The median of `v`, reordering it (nth_element, so a resample costs O(n), not a sort).
double MedianInPlace(std::vector<double>& v) {
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

// Type 7 quantile of sorted, non-empty values.
double SortedQuantile(const std::vector<double>& sorted, double q) {
  double h = static_cast<double>(sorted.size() - 1) * q;
  auto lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

bool GoodOptions(const BootstrapOptions& o) {
  return o.confidence > 0 && o.confidence < 1 && o.resamples >= 1;
}

// The (1-c)/2 and (1+c)/2 quantiles of the resampled statistics.
Interval PercentileInterval(std::vector<double> stats, double confidence) {
  std::sort(stats.begin(), stats.end());
  return {SortedQuantile(stats, (1 - confidence) / 2), SortedQuantile(stats, (1 + confidence) / 2)};
}

// One resample of `values` with replacement into `out`, and its median.
double ResampledMedian(const std::vector<double>& values, std::mt19937_64& rng,
                       std::vector<double>& out) {
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  out.resize(values.size());
  for (double& x : out) x = values[pick(rng)];
  return MedianInPlace(out);
}

// U of a (pairs with x > y, ties 1/2) by merging the sorted samples: O(n log n).
double UStatistic(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double u = 0;
  size_t below = 0;  // values of b below x
  size_t equal_end = 0;
  for (double x : a) {
    while (below < b.size() && b[below] < x) ++below;
    equal_end = std::max(equal_end, below);
    while (equal_end < b.size() && b[equal_end] == x) ++equal_end;
    u += static_cast<double>(below) + 0.5 * static_cast<double>(equal_end - below);
  }
  return u;
}

// How many of the C(n1+n2, n1) arrangements give each U = 0..n1*n2 (Mann and Whitney's
// recurrence f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u)). Doubles are exact
// here: C(40, 20) < 2^53.
std::vector<double> ExactUCounts(size_t n1, size_t n2) {
  // table[j][u] for the current i (first sample size), j = 0..n2.
  std::vector<std::vector<double>> table(n2 + 1, std::vector<double>(n1 * n2 + 1, 0));
  for (size_t j = 0; j <= n2; ++j) table[j][0] = 1;  // i = 0: U is 0
  for (size_t i = 1; i <= n1; ++i) {
    std::vector<std::vector<double>> next(n2 + 1, std::vector<double>(n1 * n2 + 1, 0));
    next[0][0] = 1;  // j = 0: U is 0
    for (size_t j = 1; j <= n2; ++j) {
      for (size_t u = 0; u <= i * j; ++u) {
        double from_a = u >= j ? table[j][u - j] : 0;  // the largest value is in a
        next[j][u] = from_a + next[j - 1][u];          // or in b
      }
    }
    table = std::move(next);
  }
  return table[n2];
}

bool HasTies(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  return std::adjacent_find(all.begin(), all.end()) != all.end();
}

double ExactTwoSidedP(double u, size_t n1, size_t n2) {
  std::vector<double> counts = ExactUCounts(n1, n2);
  double total = 0;
  for (double c : counts) total += c;
  double product = static_cast<double>(n1 * n2);
  // The distribution is symmetric about n1 n2 / 2: P(U >= the farther tail's value).
  auto far = static_cast<size_t>(std::max(u, product - u));
  double tail = 0;
  for (size_t k = far; k < counts.size(); ++k) tail += counts[k];
  return std::min(1.0, 2 * tail / total);
}

// The exact permutation distribution with ties: every way to choose which n1 of the pooled
// values are a's, counted by their sum of (mid)ranks with a subset-sum table over doubled
// ranks (midranks are multiples of 1/2). P(|U - n1 n2 / 2| >= the observed distance).
double ExactTiedTwoSidedP(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  std::vector<int> doubled;  // 2 x midrank of each pooled value
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    for (size_t k = i; k < j; ++k) doubled.push_back(static_cast<int>(i + j + 1));
    i = j;
  }
  size_t n1 = a.size();
  int max_sum = 0;
  for (int d : doubled) max_sum += d;
  // ways[k][s]: subsets of k values whose doubled ranks add up to s.
  std::vector<std::vector<double>> ways(n1 + 1,
                                        std::vector<double>(static_cast<size_t>(max_sum) + 1));
  ways[0][0] = 1;
  for (int d : doubled) {
    for (size_t k = n1; k >= 1; --k) {
      for (size_t s = static_cast<size_t>(max_sum); s >= static_cast<size_t>(d); --s) {
        ways[k][s] += ways[k - 1][s - static_cast<size_t>(d)];
      }
    }
  }
  double product = static_cast<double>(n1 * b.size());
  double center = product / 2;
  double observed = std::fabs(UStatistic(a, b) - center);
  double tail = 0;
  double total = 0;
  for (size_t s = 0; s < ways[n1].size(); ++s) {
    if (ways[n1][s] == 0) continue;
    double u = static_cast<double>(s) / 2 - static_cast<double>(n1 * (n1 + 1)) / 2;
    total += ways[n1][s];
    if (std::fabs(u - center) >= observed - 1e-9) tail += ways[n1][s];
  }
  return std::min(1.0, tail / total);
}

// Normal approximation with the tie correction of the variance and a continuity
// correction (as scipy.stats.mannwhitneyu(method="asymptotic")).
double NormalTwoSidedP(double u, const std::vector<double>& a, const std::vector<double>& b) {
  auto n1 = static_cast<double>(a.size());
  auto n2 = static_cast<double>(b.size());
  double n = n1 + n2;
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  double tie_sum = 0;  // sum of t^3 - t over groups of t equal values
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    auto t = static_cast<double>(j - i);
    tie_sum += t * t * t - t;
    i = j;
  }
  double variance = n1 * n2 / 12 * ((n + 1) - tie_sum / (n * (n - 1)));
  if (variance <= 0) return 1;  // every value tied: no evidence of a difference
  double z = (std::fabs(u - n1 * n2 / 2) - 0.5) / std::sqrt(variance);
  if (z <= 0) return 1;
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace

std::optional<double> Median(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  std::vector<double> copy = values;
  return MedianInPlace(copy);
}

std::optional<double> Quantile(const std::vector<double>& values, double q) {
  if (values.empty() || !(q >= 0 && q <= 1)) return std::nullopt;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  return SortedQuantile(sorted, q);
}

std::optional<Interval> BootstrapMedianInterval(const std::vector<double>& values,
                                                const BootstrapOptions& options) {
  if (values.size() < 2 || !GoodOptions(options)) return std::nullopt;
  std::mt19937_64 rng(options.seed);
  std::vector<double> medians(static_cast<size_t>(options.resamples));
  std::vector<double> scratch;
  for (double& m : medians) m = ResampledMedian(values, rng, scratch);
  return PercentileInterval(std::move(medians), options.confidence);
}

std::optional<DifferenceEstimate> BootstrapDifferenceOfMedians(const std::vector<double>& a,
                                                               const std::vector<double>& b,
                                                               const BootstrapOptions& options) {
  if (a.size() < 2 || b.size() < 2 || !GoodOptions(options)) return std::nullopt;
  std::mt19937_64 rng(options.seed);
  std::vector<double> differences(static_cast<size_t>(options.resamples));
  std::vector<double> scratch;
  for (double& d : differences) {
    double median_a = ResampledMedian(a, rng, scratch);
    d = ResampledMedian(b, rng, scratch) - median_a;
  }
  Interval interval = PercentileInterval(std::move(differences), options.confidence);
  return DifferenceEstimate{*Median(b) - *Median(a), interval.lo, interval.hi};
}

std::optional<MannWhitneyResult> MannWhitneyU(const std::vector<double>& a,
                                              const std::vector<double>& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  MannWhitneyResult r;
  r.u = UStatistic(a, b);
  r.exact = a.size() <= kMannWhitneyExactMax && b.size() <= kMannWhitneyExactMax;
  if (!r.exact) {
    r.p_two_sided = NormalTwoSidedP(r.u, a, b);
  } else if (HasTies(a, b)) {
    r.p_two_sided = ExactTiedTwoSidedP(a, b);
  } else {
    r.p_two_sided = ExactTwoSidedP(r.u, a.size(), b.size());
  }
  return r;
}

}  // namespace edgebench

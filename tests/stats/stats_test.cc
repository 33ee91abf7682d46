// Tests for the statistics of compare: medians, quantiles, bootstrap intervals, Mann-Whitney.
//
// Reference values come from tests/stats/stats_reference.py (Python 3.11's standard library
// only: the statistics module, exact enumeration); its output is quoted at each check.
#include "edgebench/stats/stats.h"

#include <vector>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

TEST_CASE("Median is the middle value, or the mean of the two middle values", "[stats]") {
  // statistics.median([3, 1, 2]) = 2; statistics.median([4, 1, 3, 2]) = 2.5
  CHECK(Median({3, 1, 2}) == 2.0);
  CHECK(Median({4, 1, 3, 2}) == 2.5);
  CHECK(Median({7}) == 7.0);
  CHECK(Median({5, 5, 5, 5}) == 5.0);
  CHECK_FALSE(Median({}).has_value());
}

TEST_CASE("Quantile is type 7 (statistics.quantiles method=inclusive)", "[stats]") {
  std::vector<double> data = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  // statistics.quantiles(1..10, n=4, method="inclusive") = [3.25, 5.5, 7.75]
  CHECK(*Quantile(data, 0.25) == Approx(3.25));
  CHECK(*Quantile(data, 0.5) == Approx(5.5));
  CHECK(*Quantile(data, 0.75) == Approx(7.75));
  CHECK(*Quantile(data, 0) == 1.0);
  CHECK(*Quantile(data, 1) == 10.0);
  // statistics.quantiles([2.5, 7, 1, 9], n=10, method="inclusive")
  //   = [1.45, 1.9, 2.35, 3.4, 4.75, 6.1, 7.2, 7.8, 8.4]
  std::vector<double> four = {2.5, 7, 1, 9};
  CHECK(*Quantile(four, 0.1) == Approx(1.45));
  CHECK(*Quantile(four, 0.4) == Approx(3.4));
  CHECK(*Quantile(four, 0.9) == Approx(8.4));
  CHECK(*Quantile({4}, 0.3) == 4.0);
  CHECK_FALSE(Quantile({}, 0.5).has_value());
  CHECK_FALSE(Quantile(data, 1.5).has_value());
  CHECK_FALSE(Quantile(data, -0.1).has_value());
}

TEST_CASE("The bootstrap interval of a median lands where its exact distribution says", "[stats]") {
  // A resample's median of 1..5 (every 5^5 resample enumerated): P(<= 1) = 0.05792 and
  // P(<= 4) = 0.94208. So the 2.5% and 97.5% quantiles of 10000 resampled medians are 1
  // and 5 unless about 580 expected draws fall below 250 (over 13 standard deviations).
  std::optional<Interval> i = BootstrapMedianInterval({3, 1, 4, 5, 2});
  REQUIRE(i.has_value());
  CHECK(i->lo == 1.0);
  CHECK(i->hi == 5.0);
  // [0, 1]: medians 0, 0.5 and 1 with probability 1/4, 1/2, 1/4.
  std::optional<Interval> two = BootstrapMedianInterval({0, 1}, {0.95, 10000, 7});
  REQUIRE(two.has_value());
  CHECK(two->lo == 0.0);
  CHECK(two->hi == 1.0);
  // A narrower confidence cuts into the tails: 50% -> P(<= 2) = 0.317 > 0.25, P(<= 3) =
  // 0.683 < 0.75, so the quartiles of the medians are 2 and 4.
  std::optional<Interval> half = BootstrapMedianInterval({1, 2, 3, 4, 5}, {0.5, 10000, 1});
  REQUIRE(half.has_value());
  CHECK(half->lo == 2.0);
  CHECK(half->hi == 4.0);
}

TEST_CASE("The bootstrap is reproducible with its seed and changes with another", "[stats]") {
  std::vector<double> v = {12.5, 13.1, 11.9, 14.2, 12.8, 13.7, 12.2, 15.0, 11.4, 13.3};
  BootstrapOptions a{0.9, 2000, 42};
  BootstrapOptions b{0.9, 2000, 43};
  CHECK(BootstrapMedianInterval(v, a) == BootstrapMedianInterval(v, a));
  // The 5% quantile of the medians falls between order statistics, so it depends on
  // which resamples were drawn; two seeds giving identical lo and hi would mean the seed
  // is ignored.
  std::optional<Interval> ia = BootstrapMedianInterval(v, a);
  std::optional<Interval> ib = BootstrapMedianInterval(v, b);
  REQUIRE(ia.has_value());
  REQUIRE(ib.has_value());
  CHECK_FALSE(*ia == *ib);
  CHECK(ia->lo <= *Median(v));
  CHECK(ia->hi >= *Median(v));
}

TEST_CASE("No bootstrap interval from fewer than two values or bad options", "[stats]") {
  CHECK_FALSE(BootstrapMedianInterval({}).has_value());
  CHECK_FALSE(BootstrapMedianInterval({3}).has_value());
  CHECK_FALSE(BootstrapMedianInterval({1, 2}, {1.0, 100, 1}).has_value());
  CHECK_FALSE(BootstrapMedianInterval({1, 2}, {0.95, 0, 1}).has_value());
  CHECK_FALSE(BootstrapDifferenceOfMedians({1}, {1, 2}).has_value());
  CHECK_FALSE(BootstrapDifferenceOfMedians({1, 2}, {}).has_value());
  // All ties: a point, which is the truth of the resamples.
  std::optional<Interval> ties = BootstrapMedianInterval({4, 4, 4});
  REQUIRE(ties.has_value());
  CHECK(ties->lo == 4.0);
  CHECK(ties->hi == 4.0);
}

TEST_CASE("The bootstrap difference of medians is median(b) - median(a) with its interval",
          "[stats]") {
  // median(b*) - median(a*) - 10 for a = 1..5, b = 11..15 (exact, both enumerated):
  // P(<= -4) = 0.00335, P(<= -3) = 0.03342, P(<= 2) = 0.96658, P(<= 3) = 0.99665. So the
  // 2.5% and 97.5% quantiles of 10000 draws are -3 and 3: 7..13 around 10.
  std::optional<DifferenceEstimate> d =
      BootstrapDifferenceOfMedians({1, 2, 3, 4, 5}, {15, 11, 13, 12, 14});
  REQUIRE(d.has_value());
  CHECK(d->estimate == 10.0);
  CHECK(d->lo == 7.0);
  CHECK(d->hi == 13.0);
  std::optional<DifferenceEstimate> lower = BootstrapDifferenceOfMedians({8, 8, 8}, {5, 5});
  REQUIRE(lower.has_value());
  CHECK(*lower == DifferenceEstimate{-3, -3, -3});
}

TEST_CASE("Mann-Whitney U is exact for small samples without ties", "[stats]") {
  // Every split of the pooled values enumerated (stats_reference.py):
  // [1,2,3] vs [4,5,6]: U 0, 2 of 20 splits as extreme, p = 0.1
  std::optional<MannWhitneyResult> r = MannWhitneyU({1, 2, 3}, {4, 5, 6});
  REQUIRE(r.has_value());
  CHECK(r->u == 0.0);
  CHECK(r->exact);
  CHECK(r->p_two_sided == Approx(0.1));
  // [1..5] vs [6..10]: U 0, 2 of 252, p = 0.007936507936507936
  CHECK(MannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10})->p_two_sided ==
        Approx(0.007936507936507936));
  // Reversed: U = n1 n2 = 25, the same p.
  std::optional<MannWhitneyResult> rev = MannWhitneyU({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5});
  CHECK(rev->u == 25.0);
  CHECK(rev->p_two_sided == Approx(0.007936507936507936));
  // [1,3,5,7] vs [2,4,6,8,10]: U 6, 52 of 126, p = 0.4126984126984127
  CHECK(MannWhitneyU({1, 3, 5, 7}, {2, 4, 6, 8, 10})->p_two_sided == Approx(0.4126984126984127));
  // [1.5,2.5,9] vs [3,4]: U 2, 8 of 10, p = 0.8
  CHECK(MannWhitneyU({1.5, 2.5, 9.0}, {3.0, 4.0})->u == 2.0);
  CHECK(MannWhitneyU({1.5, 2.5, 9.0}, {3.0, 4.0})->p_two_sided == Approx(0.8));
  // [3,6,...,24] vs [1,2,4,5,7,8,10]: U 47, 186 of 6435, p = 0.028904428904428906
  std::optional<MannWhitneyResult> big =
      MannWhitneyU({3, 6, 9, 12, 15, 18, 21, 24}, {1, 2, 4, 5, 7, 8, 10});
  CHECK(big->u == 47.0);
  CHECK(big->exact);
  CHECK(big->p_two_sided == Approx(0.028904428904428906));
  // One run a side: the smallest p possible is 1.
  CHECK(MannWhitneyU({1}, {2})->p_two_sided == Approx(1.0));
}

TEST_CASE("Mann-Whitney U with ties is exact up to 20 a side, normal past that", "[stats]") {
  // The exact permutation distribution with midranks, by enumerating all C(8, 4) = 70 splits
  // of the pooled values (python: itertools.combinations, U with ties counting 1/2):
  // [1,2,2,3] vs [2,3,4,4]: U 2.5, 14 of 70 splits at least as far from 8, p = 0.2.
  std::optional<MannWhitneyResult> ties = MannWhitneyU({1, 2, 2, 3}, {2, 3, 4, 4});
  REQUIRE(ties.has_value());
  CHECK(ties->exact);
  CHECK(ties->u == 2.5);
  CHECK(ties->p_two_sided == Approx(0.2).epsilon(1e-12));
  // Separated sides, each one tie group: as without ties, 2 / C(6, 3) = 0.1 (the normal
  // approximation would give 0.047, a "significant" 3 against 3 that no exact test allows).
  std::optional<MannWhitneyResult> groups =
      MannWhitneyU({14.84, 14.84, 14.84}, {777.9, 777.9, 777.9});
  CHECK(groups->exact);
  CHECK(groups->p_two_sided == Approx(0.1).epsilon(1e-12));
  // All ties: U 3 = n1 n2 / 2 in every split, p = 1.
  std::optional<MannWhitneyResult> all = MannWhitneyU({5, 5, 5}, {5, 5});
  CHECK(all->u == 3.0);
  CHECK(all->exact);
  CHECK(all->p_two_sided == 1.0);
  // 21 vs 21 values without ties: past kMannWhitneyExactMax. U 66, p = 0.00010707045073714981
  std::vector<double> a, b;
  for (int i = 0; i < 21; ++i) a.push_back(i + 0.5);
  for (int i = 10; i < 31; ++i) b.push_back(i);
  std::optional<MannWhitneyResult> many = MannWhitneyU(a, b);
  CHECK_FALSE(many->exact);
  CHECK(many->u == 66.0);
  CHECK(many->p_two_sided == Approx(0.00010707045073714981).epsilon(1e-9));
  CHECK_FALSE(MannWhitneyU({}, {1}).has_value());
  CHECK_FALSE(MannWhitneyU({1}, {}).has_value());
}

}  // namespace
}  // namespace edgebench

// The search planner: doubling, then bisection, to the stated resolution.
#include "edgebench/search/search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace edgebench {

namespace {

// The rounding of publish.rate candidates: a value a person would write in a cell id.
constexpr int kSignificantDigits = 4;

double PowerOfTen(int exponent) {
  double p = 1;
  for (int i = 0; i < exponent; ++i) p *= 10;
  return p;
}

int DecimalExponent(double v) { return static_cast<int>(std::floor(std::log10(v))); }

// Rounds v > 0 to 4 significant digits. Dividing by an exact power of ten (rather than
// multiplying by an inexact 0.01) gives the double nearest to the decimal: 37.5, not
// 37.500000000000007.
double RoundSignificant(double v) {
  if (!(v > 0)) return v;
  int decimals = kSignificantDigits - 1 - DecimalExponent(v);
  if (decimals >= 0) {
    double p = PowerOfTen(decimals);
    return std::round(v * p) / p;
  }
  double p = PowerOfTen(-decimals);
  return std::round(v / p) * p;
}

// The distance between neighbouring values of 4 significant digits near v > 0 (1000 at
// 1234567, 0.01 at 37.5). It only grows with v.
double SpacingAt(double v) {
  int exponent = DecimalExponent(v) - (kSignificantDigits - 1);
  return exponent >= 0 ? PowerOfTen(exponent) : 1 / PowerOfTen(-exponent);
}

}  // namespace

Verdict VerdictOf(int holds, int runs) {
  if (holds <= 0) return Verdict::kFails;
  if (holds >= runs) return Verdict::kHolds;
  return Verdict::kMixed;
}

std::string VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kHolds:
      return "holds";
    case Verdict::kFails:
      return "fails";
    case Verdict::kMixed:
      return "mixed";
  }
  return "fails";
}

SearchPlanner::SearchPlanner(const SearchSpec& spec, int repeats)
    : spec_(spec), repeats_(std::max(repeats, 1)) {}

std::optional<double> SearchPlanner::Next() const { return PlanNext().value; }

void SearchPlanner::Record(double value, int runs, int holds) {
  Verdict verdict = VerdictOf(holds, runs);
  steps_.push_back(SearchStep{static_cast<int>(steps_.size()) + 1, value, runs, holds, verdict});
  runs_used_ += runs;
  if (verdict == Verdict::kMixed) ++mixed_steps_;
}

SearchAnswer SearchPlanner::Answer() const {
  Bracket bracket = CurrentBracket();
  Plan plan = PlanNext();
  return SearchAnswer{bracket.lo, bracket.hi, plan.value ? "" : plan.stop_reason, mixed_steps_};
}

// From the steps rather than kept up to date, so that it cannot drift from them: bisection
// only tries values inside the bracket, so this is the bracket it narrowed.
SearchPlanner::Bracket SearchPlanner::CurrentBracket() const {
  Bracket b;
  for (const SearchStep& s : steps_) {
    if (s.verdict == Verdict::kHolds && (!b.lo || s.value > *b.lo)) b.lo = s.value;
  }
  for (const SearchStep& s : steps_) {
    if (s.verdict == Verdict::kHolds || (b.lo && s.value <= *b.lo)) continue;
    if (!b.hi || s.value < *b.hi) b.hi = s.value;
  }
  return b;
}

SearchPlanner::Plan SearchPlanner::PlanNext() const {
  if (steps_.empty()) {
    if (repeats_ > spec_.max_runs) return Plan{std::nullopt, "budget"};
    return Plan{spec_.from, ""};
  }
  if (steps_.front().verdict != Verdict::kHolds) return Plan{std::nullopt, "from_fails"};
  Bracket b = CurrentBracket();
  double candidate = 0;
  if (!b.hi) {
    if (*b.lo >= spec_.to) return Plan{std::nullopt, "range_holds"};
    candidate = DoubleOf(*b.lo);
  } else {
    std::optional<double> mid = Midpoint(*b.lo, *b.hi);
    if (WithinResolution(*b.lo, *b.hi) || !mid) return Plan{std::nullopt, "resolution"};
    candidate = *mid;
  }
  if (mixed_steps_ >= std::max(spec_.max_mixed, 1)) return Plan{std::nullopt, "noisy"};
  if (runs_used_ + repeats_ > spec_.max_runs) return Plan{std::nullopt, "budget"};
  return Plan{candidate, ""};
}

double SearchPlanner::DoubleOf(double value) const {
  double next = spec_.integer() ? 2 * value : RoundSignificant(2 * value);
  return std::min(next, spec_.to);
}

std::optional<double> SearchPlanner::Midpoint(double lo, double hi) const {
  double center = lo + (hi - lo) / 2;
  double mid = spec_.integer() ? std::floor(center) : RoundSignificant(center);
  if (mid <= lo || mid >= hi) return std::nullopt;
  return mid;
}

bool SearchPlanner::WithinResolution(double lo, double hi) const {
  double limit = spec_.resolution_pct ? lo * spec_.resolution / 100 : spec_.resolution;
  return hi - lo <= limit;
}

int SearchPlanner::WorstCaseRuns() const {
  // The doubling values do not depend on the verdicts; only where doubling stops does.
  std::vector<double> doubling = {spec_.from};
  while (doubling.back() < spec_.to) {
    double next = DoubleOf(doubling.back());
    if (!(next > doubling.back())) break;  // from <= 0: not a range to double through
    doubling.push_back(next);
  }
  int64_t steps = static_cast<int64_t>(doubling.size());  // every doubling step held
  for (size_t k = 1; k < doubling.size(); ++k) {
    // Steps 1..k held, step k+1 (doubling[k]) did not: bisect (doubling[k-1], doubling[k]).
    int64_t bisection = BisectionBound(doubling[k - 1], doubling[k]);
    steps = std::max(steps, static_cast<int64_t>(k) + 1 + bisection);
  }
  // The budget stops the search before a step that would pass max_runs.
  int64_t affordable_steps = spec_.max_runs / repeats_;
  return static_cast<int>(std::min(steps, affordable_steps) * repeats_);
}

// At most how many bisection steps (lo, hi) can take. The bracket's width at depth n is at
// most w(n), where w(0) = hi - lo and w(n+1) = w(n)/2 plus what rounding the midpoint can
// add (integer: ceil; publish.rate: half the spacing of 4 significant digits at hi). Its
// lower end never falls below lo, so the resolution limit is never below the one at lo.
int SearchPlanner::BisectionBound(double lo, double hi) const {
  double limit = spec_.resolution_pct ? lo * spec_.resolution / 100 : spec_.resolution;
  double width = hi - lo;
  if (spec_.integer()) {
    int steps = 0;
    while (width > limit && width > 1) {
      width = std::ceil(width / 2);
      ++steps;
    }
    return steps;
  }
  // publish.rate: the halving stalls near the rounding, so also bound by the number of
  // values of 4 significant digits strictly inside a bracket of width w(n) (at most
  // w(n)/spacing(lo) + 1): each step tries one of them, and none left ends the search.
  double slack = SpacingAt(hi) / 2;
  double spacing = SpacingAt(lo);
  double best = std::numeric_limits<double>::max();
  for (int n = 0; n < 1000; ++n) {
    if (width <= limit) return static_cast<int>(std::min(best, static_cast<double>(n)));
    best = std::min(best, n + std::floor(width / spacing) + 1);
    double next = width / 2 + slack;
    if (!(next < width)) break;
    width = next;
  }
  return static_cast<int>(std::min(best, 1e6));
}

}  // namespace edgebench

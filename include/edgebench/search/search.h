// SearchPlanner: which value of a `search:` key to run next, and what the steps so far
// say about the highest value at which the scenario's `expect:` thresholds hold.
//
// Contract. Pure: no I/O, no clock; the caller runs the steps and records their verdicts.
// A step runs the scenario `repeats` times at one value; it holds when every repeat held.
// - Step 1 tries `from`. When it fails or is mixed the search is over: "from_fails".
// - Doubling: from, 2*from, 4*from, ... capped so that the last doubling step is `to`
//   exactly. When `to` holds the search is over: "range_holds".
// - The first step that does not hold (fails or mixed) ends doubling. Bisection then tries
//   the midpoint of the bracket: lo, the highest value that held, and hi, the lowest value
//   above it that did not. Integer keys (devices.count, publish.payload.size) take the
//   floor of the midpoint.
// - The search is over with "resolution" when hi - lo <= resolution (absolute), or
//   hi - lo <= lo * resolution / 100 (resolution_pct); and when no candidate lies strictly
//   between lo and hi: for an integer key no whole number, for publish.rate no value of 4
//   significant digits (candidates of publish.rate above `from`, doubling ones too, are
//   rounded to 4 significant digits, so 37.5 is tried, not 37.500000001; `to` is not).
// - A mixed step counts as not holding for the bracket, and is counted; when mixed_steps
//   reaches spec.max_mixed (at least 1) the search is over: "noisy". A bracket already
//   within the resolution wins: the search got where it was going, so "resolution".
// - Budget: before each step, when runs_used + repeats > spec.max_runs, the search is over:
//   "budget".
// The checks are made in this order: from_fails, range_holds, resolution, noisy, budget.
// Requires: 0 < from < to; for an integer key, from and to are whole numbers; repeats >= 1.
// Plain value; not thread-safe.
#ifndef EDGEBENCH_SEARCH_SEARCH_H_
#define EDGEBENCH_SEARCH_SEARCH_H_

#include <optional>
#include <string>
#include <vector>

#include "edgebench/scenario/scenario.h"

namespace edgebench {

// Every repeat held / none held / some held.
enum class Verdict { kHolds, kFails, kMixed };

// Requires: 0 <= holds <= runs. A step without runs (runs == 0) fails.
Verdict VerdictOf(int holds, int runs);
// "holds", "fails", "mixed".
std::string VerdictName(Verdict verdict);

struct SearchStep {
  int step = 0;  // 1-based
  double value = 0;
  int runs = 0;
  int holds = 0;
  Verdict verdict = Verdict::kFails;
  bool operator==(const SearchStep&) const = default;
};

struct SearchAnswer {
  std::optional<double> holds;  // highest value that held in every repeat; none: `from` did not
  // Lowest value tried above `holds` that did not hold; none: nothing above it failed (`to`
  // held, or the budget ran out while doubling). When `from` did not hold: `from`.
  std::optional<double> fails;
  // "from_fails", "range_holds", "resolution", "noisy", "budget"; "" while not over.
  std::string stop_reason;
  int mixed_steps = 0;
  bool operator==(const SearchAnswer&) const = default;
};

class SearchPlanner {
 public:
  SearchPlanner(const SearchSpec& spec, int repeats);

  // The value to try next; none when the search is over (Answer().stop_reason says why).
  std::optional<double> Next() const;
  // The verdict of `runs` runs at `value`, `holds` of which held every threshold.
  // Requires: value == *Next(); 0 <= holds <= runs <= repeats.
  void Record(double value, int runs, int holds);

  const std::vector<SearchStep>& steps() const { return steps_; }
  SearchAnswer Answer() const;
  int runs_used() const { return runs_used_; }
  // The most runs the search can take, whatever the verdicts (an upper bound, at most
  // spec.max_runs): for the time estimate before the first step.
  int WorstCaseRuns() const;

 private:
  struct Plan {
    std::optional<double> value;
    std::string stop_reason;  // when !value
  };
  struct Bracket {
    std::optional<double> lo;  // highest value that held
    std::optional<double> hi;  // lowest value above lo that did not
  };
  Plan PlanNext() const;
  Bracket CurrentBracket() const;
  // The value bisection tries in (lo, hi); none when no candidate lies strictly between.
  std::optional<double> Midpoint(double lo, double hi) const;
  bool WithinResolution(double lo, double hi) const;
  double DoubleOf(double value) const;
  int BisectionBound(double lo, double hi) const;

  SearchSpec spec_;
  int repeats_;
  std::vector<SearchStep> steps_;
  int runs_used_ = 0;
  int mixed_steps_ = 0;
};

}  // namespace edgebench

#endif  // EDGEBENCH_SEARCH_SEARCH_H_

// Tests for src/search/search.cc: the planner's rules, each on synthetic verdicts, and its
// worst case against every possible sequence of verdicts.
#include "edgebench/search/search.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace edgebench {
namespace {

SearchSpec Spec(const std::string& key, double from, double to, double resolution,
                bool resolution_pct = true) {
  SearchSpec spec;
  spec.key = key;
  spec.from = from;
  spec.to = to;
  spec.resolution = resolution;
  spec.resolution_pct = resolution_pct;
  spec.max_runs = 1000;
  spec.max_mixed = 2;
  return spec;
}

// How many of `repeats` runs at a value held.
using Outcome = std::function<int(double value, int repeats)>;

// A scenario that holds (in every repeat) up to `limit` and fails above it.
Outcome HoldsUpTo(double limit) {
  return [limit](double value, int repeats) { return value <= limit ? repeats : 0; };
}

// Runs the search to its end; the values it tried, in order.
std::vector<double> Drive(SearchPlanner& planner, const Outcome& outcome, int repeats) {
  std::vector<double> tried;
  while (std::optional<double> value = planner.Next()) {
    REQUIRE(tried.size() < 200);  // a search that never ends fails here, not by hanging
    tried.push_back(*value);
    planner.Record(*value, repeats, outcome(*value, repeats));
  }
  return tried;
}

TEST_CASE("VerdictOf and VerdictName", "[search]") {
  CHECK(VerdictOf(3, 3) == Verdict::kHolds);
  CHECK(VerdictOf(0, 3) == Verdict::kFails);
  CHECK(VerdictOf(1, 3) == Verdict::kMixed);
  CHECK(VerdictOf(1, 1) == Verdict::kHolds);
  // A step none of whose runs happened held nothing.
  CHECK(VerdictOf(0, 0) == Verdict::kFails);
  CHECK(VerdictName(Verdict::kHolds) == "holds");
  CHECK(VerdictName(Verdict::kFails) == "fails");
  CHECK(VerdictName(Verdict::kMixed) == "mixed");
}

TEST_CASE("doubling, then bisection: every value tried, in order", "[search]") {
  SearchPlanner planner(Spec("devices.count", 50, 3200, 10), 1);
  std::vector<double> tried = Drive(planner, HoldsUpTo(437), 1);
  // 800 fails; bisection in (400, 800) until the bracket is within 10% of its low end.
  CHECK(tried == std::vector<double>{50, 100, 200, 400, 800, 600, 500, 450, 425});
  SearchAnswer answer = planner.Answer();
  CHECK(answer == SearchAnswer{425, 450, "resolution", 0});
  CHECK(planner.runs_used() == 9);
  REQUIRE(planner.steps().size() == 9);
  CHECK(planner.steps()[4] == SearchStep{5, 800, 1, 0, Verdict::kFails});
  CHECK(planner.steps()[8] == SearchStep{9, 425, 1, 1, Verdict::kHolds});
}

TEST_CASE("the answer brackets the threshold within the resolution", "[search]") {
  for (bool pct : {true, false}) {
    SearchSpec spec = Spec("devices.count", 50, 3200, pct ? 10 : 25, pct);
    for (int threshold = 50; threshold < 3200; ++threshold) {
      SearchPlanner planner(spec, 1);
      Drive(planner, HoldsUpTo(threshold), 1);
      SearchAnswer a = planner.Answer();
      INFO("threshold " << threshold << " pct " << pct);
      REQUIRE(a.holds);
      REQUIRE(a.fails);
      CHECK(*a.holds <= threshold);
      CHECK(*a.fails > threshold);
      double limit = pct ? *a.holds * 0.10 : 25;
      CHECK(*a.fails - *a.holds <= std::max(limit, 1.0));
      CHECK(a.stop_reason == "resolution");
    }
  }
}

TEST_CASE("from fails or is mixed: over after one step", "[search]") {
  SearchPlanner planner(Spec("devices.count", 50, 3200, 10), 3);
  REQUIRE(planner.Next() == 50.0);
  planner.Record(50, 3, 0);
  CHECK(planner.Next() == std::nullopt);
  CHECK(planner.Answer() == SearchAnswer{std::nullopt, 50, "from_fails", 0});

  SearchPlanner mixed(Spec("devices.count", 50, 3200, 10), 3);
  mixed.Record(50, 3, 2);
  CHECK(mixed.Next() == std::nullopt);
  CHECK(mixed.Answer() == SearchAnswer{std::nullopt, 50, "from_fails", 1});
}

TEST_CASE("the last doubling step is `to` exactly; `to` holding ends the search", "[search]") {
  SearchPlanner planner(Spec("devices.count", 50, 3000, 10), 2);
  std::vector<double> tried = Drive(planner, HoldsUpTo(1e9), 2);
  CHECK(tried == std::vector<double>{50, 100, 200, 400, 800, 1600, 3000});
  CHECK(planner.Answer() == SearchAnswer{3000, std::nullopt, "range_holds", 0});
  CHECK(planner.runs_used() == 14);
}

TEST_CASE("`to` failing is bisected like any other step", "[search]") {
  SearchPlanner planner(Spec("devices.count", 50, 500, 10), 1);
  std::vector<double> tried = Drive(planner, HoldsUpTo(460), 1);
  CHECK(tried == std::vector<double>{50, 100, 200, 400, 500, 450, 475});
  CHECK(planner.Answer() == SearchAnswer{450, 475, "resolution", 0});
}

TEST_CASE("mixed steps count as not holding, and max_mixed of them stop the search", "[search]") {
  // Above 400 one run in three holds.
  Outcome noisy = [](double value, int repeats) { return value <= 400 ? repeats : 1; };
  SearchPlanner planner(Spec("devices.count", 50, 3200, 10), 3);
  std::vector<double> tried = Drive(planner, noisy, 3);
  CHECK(tried == std::vector<double>{50, 100, 200, 400, 800, 600});
  CHECK(planner.Answer() == SearchAnswer{400, 600, "noisy", 2});
  CHECK(planner.steps()[5].verdict == Verdict::kMixed);

  // max_mixed 0 acts as 1: one mixed step is enough.
  SearchSpec spec = Spec("devices.count", 50, 3200, 10);
  spec.max_mixed = 0;
  SearchPlanner strict(spec, 3);
  CHECK(Drive(strict, noisy, 3) == std::vector<double>{50, 100, 200, 400, 800});
  CHECK(strict.Answer() == SearchAnswer{400, 800, "noisy", 1});
}

TEST_CASE("a bracket within the resolution is 'resolution' even after max_mixed", "[search]") {
  SearchSpec spec = Spec("devices.count", 100, 105, 10);
  spec.max_mixed = 1;
  SearchPlanner planner(spec, 2);
  planner.Record(100, 2, 2);
  REQUIRE(planner.Next() == 105.0);
  planner.Record(105, 2, 1);
  CHECK(planner.Next() == std::nullopt);
  CHECK(planner.Answer() == SearchAnswer{100, 105, "resolution", 1});
}

TEST_CASE("the budget stops the search before a step that would pass max_runs", "[search]") {
  SearchSpec spec = Spec("devices.count", 50, 3200, 10);
  spec.max_runs = 10;
  SearchPlanner doubling(spec, 3);
  CHECK(Drive(doubling, HoldsUpTo(1e9), 3) == std::vector<double>{50, 100, 200});
  CHECK(doubling.runs_used() == 9);
  CHECK(doubling.Answer() == SearchAnswer{200, std::nullopt, "budget", 0});

  spec.max_runs = 6;
  SearchPlanner bisecting(spec, 1);
  CHECK(Drive(bisecting, HoldsUpTo(437), 1) == std::vector<double>{50, 100, 200, 400, 800, 600});
  CHECK(bisecting.Answer() == SearchAnswer{400, 600, "budget", 0});

  // Not even one step fits.
  spec.max_runs = 2;
  SearchPlanner none(spec, 3);
  CHECK(none.Next() == std::nullopt);
  CHECK(none.Answer() == SearchAnswer{std::nullopt, std::nullopt, "budget", 0});
}

TEST_CASE("an integer key stops when no whole number lies inside the bracket", "[search]") {
  // Absolute resolution 0: only the integers end it.
  SearchPlanner planner(Spec("publish.payload.size", 4, 7, 0, false), 1);
  CHECK(Drive(planner, HoldsUpTo(5), 1) == std::vector<double>{4, 7, 5, 6});
  CHECK(planner.Answer() == SearchAnswer{5, 6, "resolution", 0});

  SearchPlanner adjacent(Spec("devices.count", 10, 11, 0, false), 1);
  CHECK(Drive(adjacent, HoldsUpTo(10), 1) == std::vector<double>{10, 11});
  CHECK(adjacent.Answer() == SearchAnswer{10, 11, "resolution", 0});
}

TEST_CASE("publish.rate candidates are rounded to 4 significant digits", "[search]") {
  // 2 * 9.876 = 19.752 is tried as 19.75; `from` and `to` are tried as given.
  SearchPlanner doubling(Spec("publish.rate", 1.2345, 50, 10), 1);
  CHECK(Drive(doubling, HoldsUpTo(1e9), 1) ==
        std::vector<double>{1.2345, 2.469, 4.938, 9.876, 19.75, 39.5, 50});

  // (0.4 + 0.7) / 2 is 0.54999999999999993 in doubles; it is tried as 0.55.
  SearchPlanner bisecting(Spec("publish.rate", 0.1, 0.7, 1), 1);
  std::vector<double> tried = Drive(bisecting, HoldsUpTo(0.5), 1);
  REQUIRE(tried.size() >= 5);
  CHECK(tried[4] == 0.55);
  CHECK(std::vector<double>(tried.begin(), tried.begin() + 4) ==
        std::vector<double>{0.1, 0.2, 0.4, 0.7});

  // Where rounding the midpoint gives an end of the bracket, the bracket is as narrow as
  // 4 significant digits go.
  SearchPlanner narrow(Spec("publish.rate", 10, 10.01, 0, false), 1);
  CHECK(Drive(narrow, HoldsUpTo(10), 1) == std::vector<double>{10, 10.01});
  CHECK(narrow.Answer() == SearchAnswer{10, 10.01, "resolution", 0});
}

TEST_CASE("publish.rate searches end bracketing the threshold", "[search]") {
  for (bool pct : {true, false}) {
    SearchSpec spec = Spec("publish.rate", 0.5, 1000, pct ? 2 : 0.01, pct);
    for (double threshold = 0.5; threshold < 1000; threshold = threshold * 1.37 + 0.0137) {
      SearchPlanner planner(spec, 1);
      Drive(planner, HoldsUpTo(threshold), 1);
      SearchAnswer a = planner.Answer();
      INFO("threshold " << threshold << " pct " << pct);
      REQUIRE(a.holds);
      REQUIRE(a.fails);
      CHECK(*a.holds <= threshold);
      CHECK(*a.fails > threshold);
      double limit = pct ? *a.holds * 0.02 : 0.01;
      // Within the resolution, or as close as 4 significant digits can be.
      CHECK(*a.fails - *a.holds <= std::max(limit, *a.fails * 1e-3));
      CHECK(a.stop_reason == "resolution");
    }
  }
}

// The most runs any sequence of verdicts makes the search take: every branch explored.
int MostRuns(const SearchPlanner& planner, int repeats, bool with_mixed) {
  std::optional<double> value = planner.Next();
  if (!value) return planner.runs_used();
  int most = 0;
  for (int holds = 0; holds <= repeats; ++holds) {
    if (!with_mixed && holds != 0 && holds != repeats) continue;
    SearchPlanner next = planner;
    next.Record(*value, repeats, holds);
    most = std::max(most, MostRuns(next, repeats, with_mixed));
  }
  return most;
}

TEST_CASE("WorstCaseRuns bounds every possible search", "[search]") {
  struct Case {
    SearchSpec spec;
    int repeats;
    bool exact;  // integer key, absolute resolution: the bound is reached
  };
  std::vector<Case> cases = {
      {Spec("devices.count", 50, 3200, 10), 1, false},
      {Spec("devices.count", 50, 3200, 25, false), 1, true},
      {Spec("devices.count", 1, 100, 0, false), 1, true},
      {Spec("publish.payload.size", 64, 65536, 5), 1, false},
      {Spec("publish.rate", 0.5, 1000, 10), 1, false},
      {Spec("publish.rate", 3, 7, 0.01, false), 1, false},
      {Spec("publish.rate", 100, 800, 1), 2, false},
  };
  for (const Case& c : cases) {
    SearchPlanner planner(c.spec, c.repeats);
    int worst = planner.WorstCaseRuns();
    int most = MostRuns(planner, c.repeats, c.repeats > 1);
    INFO(c.spec.key << " " << c.spec.from << ".." << c.spec.to << " worst " << worst);
    CHECK(most <= worst);
    CHECK(worst <= c.spec.max_runs);
    if (c.exact) CHECK(most == worst);
  }
}

TEST_CASE("WorstCaseRuns is capped by the budget", "[search]") {
  SearchSpec spec = Spec("devices.count", 50, 3200, 25, false);
  SearchPlanner unbounded(spec, 3);
  REQUIRE(unbounded.WorstCaseRuns() > 20);
  spec.max_runs = 20;
  SearchPlanner planner(spec, 3);
  // Six steps of three runs fit in 20; a seventh would not.
  CHECK(planner.WorstCaseRuns() == 18);
  CHECK(MostRuns(planner, 3, false) == 18);
  spec.max_runs = 2;
  CHECK(SearchPlanner(spec, 3).WorstCaseRuns() == 0);
}

}  // namespace
}  // namespace edgebench

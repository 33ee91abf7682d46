// Tests for src/set/plan.cc: the interleaved order, the plan of one or several scenario
// files (cell ids, set name, keys, seed, cool-down), the estimated time and the dry-run text.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/scenario/scenario.h"
#include "edgebench/set/set.h"

namespace edgebench {
namespace {

using Order = std::vector<std::pair<int, int>>;

ExternalChecks Checks() {
  ExternalChecks c;
  c.profiles = {{"edge-lan", LinkProfile{0.4, 0, 0, 0, 0}},
                {"cloud-near", LinkProfile{15, 0, 0, 0, 0}}};
  c.profiles_file = "config/profiles.yaml";
  return c;
}

Experiment Expand(std::string_view yaml, const std::string& file = "t.yaml") {
  Result<Experiment> e = ParseExperiment(yaml, file, {}, Checks());
  INFO((e ? "" : e.error().ToString()));
  REQUIRE(e.ok());
  return e.value();
}

// Checks that `order` holds every (cell, repeat) of `repeats` exactly once, in rounds: round r
// is a run of consecutive entries with repeat r holding each cell with more than r repeats.
void CheckRounds(const Order& order, const std::vector<int>& repeats) {
  size_t planned = 0;
  for (int n : repeats) planned += static_cast<size_t>(n);
  REQUIRE(order.size() == planned);
  std::set<std::pair<int, int>> seen(order.begin(), order.end());
  CHECK(seen.size() == order.size());
  size_t at = 0;
  for (int r = 0; at < order.size(); ++r) {
    std::vector<int> expected;
    for (size_t c = 0; c < repeats.size(); ++c) {
      if (repeats[c] > r) expected.push_back(static_cast<int>(c));
    }
    REQUIRE(at + expected.size() <= order.size());
    std::vector<int> got;
    for (size_t i = 0; i < expected.size(); ++i, ++at) {
      CHECK(order[at].second == r);
      got.push_back(order[at].first);
    }
    std::sort(got.begin(), got.end());
    CHECK(got == expected);
  }
}

TEST_CASE("InterleavedOrder runs every cell once per round", "[set]") {
  std::vector<int> repeats = {3, 3, 3, 3};
  Order order = InterleavedOrder(repeats, 7);
  CheckRounds(order, repeats);
  // The rounds are shuffled each with their own generator: not all in the same order.
  Order r0(order.begin(), order.begin() + 4);
  Order r1(order.begin() + 4, order.begin() + 8);
  Order r2(order.begin() + 8, order.end());
  auto cells = [](const Order& round) {
    std::vector<int> c;
    for (const auto& p : round) c.push_back(p.first);
    return c;
  };
  CHECK_FALSE((cells(r0) == cells(r1) && cells(r1) == cells(r2)));
}

TEST_CASE("InterleavedOrder: cells with different repeat counts", "[set]") {
  std::vector<int> repeats = {1, 3, 2};
  Order order = InterleavedOrder(repeats, 1);
  CheckRounds(order, repeats);
  // Round 0 has all three cells, round 1 cells 1 and 2, round 2 cell 1 alone.
  REQUIRE(order.size() == 6);
  CHECK(order[5] == std::pair<int, int>{1, 2});
  CheckRounds(InterleavedOrder({5}, 3), {5});
  CHECK(InterleavedOrder({5}, 3) == Order{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}});
}

TEST_CASE("InterleavedOrder: the seed decides the order", "[set]") {
  std::vector<int> six(6, 1);
  CHECK(InterleavedOrder(six, 1) == InterleavedOrder(six, 1));
  CHECK(InterleavedOrder(six, 42) == InterleavedOrder(six, 42));
  CHECK(InterleavedOrder(six, 1) != InterleavedOrder(six, 2));
  CheckRounds(InterleavedOrder(six, 1), six);
  CheckRounds(InterleavedOrder(six, 2), six);
  // Pinned: mt19937_64's output is fixed by the standard, so this order is the same on every
  // platform (the order of scenarios/edge-vs-cloud.yaml, two cells x3, seed 1).
  CHECK(InterleavedOrder({3, 3}, 1) == Order{{1, 0}, {0, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}});
}

TEST_CASE("InterleavedOrder: no cells, no runs", "[set]") {
  CHECK(InterleavedOrder({}, 1).empty());
  CHECK(InterleavedOrder({}, 99).empty());
}

TEST_CASE("PlanSet of a matrix: ids, keys, name, seed, order", "[set]") {
  Experiment e = Expand(
      "name: grid\nseed: 42\nrepeat: 2\ncooldown_s: 0.5\nmatrix:\n"
      "  network: [edge-lan, cloud-near]\n  devices.count: [10, 20]\n");
  SetPlan plan = PlanSet({e});
  CHECK(plan.name == "grid");
  CHECK(plan.seed == 42);
  CHECK(plan.cooldown_s == 0.5);
  CHECK(plan.keys == std::vector<std::string>{"network", "devices.count"});
  REQUIRE(plan.cells.size() == 4);
  CHECK(plan.cells[0].id == "c1-edge-lan-10");
  CHECK(plan.cells[1].id == "c2-edge-lan-20");
  CHECK(plan.cells[2].id == "c3-cloud-near-10");
  CHECK(plan.cells[3].id == "c4-cloud-near-20");
  CHECK(plan.cells[3].source == "t.yaml");
  CHECK(plan.cells[3].values == std::vector<std::pair<std::string, std::string>>{
                                    {"network", "cloud-near"}, {"devices.count", "20"}});
  CHECK(plan.cells[3].scenario.devices.count == 20);
  CHECK(plan.order == InterleavedOrder({2, 2, 2, 2}, 42));
  CheckRounds(plan.order, {2, 2, 2, 2});
  CHECK_FALSE(IsSingleRun({e}));
}

TEST_CASE("PlanSet: a named axis, and values that are not plain words", "[set]") {
  SetPlan named =
      PlanSet({Expand("name: p\nmatrix:\n  placement:\n    - {label: edge, network: edge-lan}\n"
                      "    - {label: cloud, network: cloud-near}\n")});
  REQUIRE(named.cells.size() == 2);
  CHECK(named.cells[0].id == "c1-edge");
  CHECK(named.cells[1].id == "c2-cloud");
  CHECK(named.keys == std::vector<std::string>{"network"});

  SetPlan lists = PlanSet({Expand("name: l\nmatrix:\n  topics: [[s1, s2], [s3]]\n")});
  REQUIRE(lists.cells.size() == 2);
  CHECK(lists.cells[0].id == "c1-s1-s2");
  CHECK(lists.cells[1].id == "c2-s3");
}

TEST_CASE("PlanSet: a file without a matrix", "[set]") {
  Experiment once = Expand("name: one\n");
  CHECK(IsSingleRun({once}));
  SetPlan plan = PlanSet({once});
  REQUIRE(plan.cells.size() == 1);
  CHECK(plan.cells[0].id == "c1");
  CHECK(plan.keys.empty());
  CHECK(plan.order == Order{{0, 0}});

  Experiment thrice = Expand("name: three\nrepeat: 3\n");
  CHECK_FALSE(IsSingleRun({thrice}));
  SetPlan repeated = PlanSet({thrice});
  CHECK(repeated.name == "three");
  CHECK(repeated.order == Order{{0, 0}, {0, 1}, {0, 2}});
}

TEST_CASE("PlanSet of several files: joined name, the keys they differ in", "[set]") {
  Experiment a = Expand("name: a\ncooldown_s: 1\ndevices: {count: 10}\n", "a.yaml");
  Experiment b =
      Expand("name: b\ncooldown_s: 5\ndevices: {count: 20}\npublish: {qos: 1}\n", "b.yaml");
  Experiment c = Expand("name: c\ncooldown_s: 1\ndevices: {count: 10}\n", "c.yaml");
  CHECK_FALSE(IsSingleRun({a, b}));
  SetPlan plan = PlanSet({a, b, c});
  CHECK(plan.name == "a+b+c");
  REQUIRE(plan.cells.size() == 3);
  CHECK(plan.cells[0].id == "c1-a");
  CHECK(plan.cells[1].id == "c2-b");
  CHECK(plan.cells[2].id == "c3-c");
  CHECK(plan.cells[0].source == "a.yaml");
  CHECK(plan.cells[1].source == "b.yaml");
  // cooldown_s differs too, but the plan takes the longest of them.
  CHECK(plan.keys == std::vector<std::string>{"cooldown_s", "devices.count", "publish.qos"});
  CHECK(plan.cooldown_s == 5);
  CheckRounds(plan.order, {1, 1, 1});

  // Two files of one scenario name give that name once.
  Experiment a2 = Expand("name: a\ndevices: {count: 30}\n", "a2.yaml");
  SetPlan same = PlanSet({a, a2});
  CHECK(same.name == "a");
  CHECK(same.keys == std::vector<std::string>{"cooldown_s", "devices.count"});
}

TEST_CASE("PlanSet of several files keeps each file's matrix", "[set]") {
  Experiment m = Expand("name: m\nmatrix:\n  publish.qos: [0, 1]\n", "m.yaml");
  Experiment n = Expand("name: n\nrepeat: 2\n", "n.yaml");
  SetPlan plan = PlanSet({m, n});
  CHECK(plan.name == "m+n");
  REQUIRE(plan.cells.size() == 3);
  CHECK(plan.cells[0].id == "c1-0");
  CHECK(plan.cells[1].id == "c2-1");
  CHECK(plan.cells[2].id == "c3-n");
  CHECK(plan.keys == std::vector<std::string>{"publish.qos", "repeat"});
  CheckRounds(plan.order, {1, 1, 2});
}

TEST_CASE("EstimatedSeconds: warm-up, window, drain, 2 s per run and the cool-downs", "[set]") {
  // Cell 1: 1 + 1 + 0.5 + 2 = 4.5 s a run; cell 2: 1 + 4 + 0.5 + 2 = 7.5 s; three cool-downs of 3 s
  // between four runs.
  SetPlan plan =
      PlanSet({Expand("name: t\nwarmup_s: 1\ndrain_s: 0.5\nrepeat: 2\ncooldown_s: 3\nmatrix:\n"
                      "  duration_s: [1, 4]\n")});
  REQUIRE(plan.order.size() == 4);
  CHECK(EstimatedSeconds(plan, 4) == Approx(4.5 * 2 + 7.5 * 2 + 3 * 3));
  CHECK(EstimatedSeconds(plan, 100) == Approx(33.0));
  CHECK(EstimatedSeconds(plan, 0) == 0);
  double last = plan.order.back().first == 0 ? 4.5 : 7.5;
  CHECK(EstimatedSeconds(plan, 1) == Approx(last));
  double before_last = plan.order[2].first == 0 ? 4.5 : 7.5;
  CHECK(EstimatedSeconds(plan, 2) == Approx(before_last + 3 + last));
  CHECK(EstimatedSeconds(SetPlan{}, 3) == 0);
}

TEST_CASE("FormatDuration", "[set]") {
  CHECK(FormatDuration(0) == "0s");
  CHECK(FormatDuration(45) == "45s");
  CHECK(FormatDuration(59.4) == "59s");
  CHECK(FormatDuration(59.6) == "1m00s");
  CHECK(FormatDuration(185) == "3m05s");
  CHECK(FormatDuration(3599) == "59m59s");
  CHECK(FormatDuration(3600) == "1h00m");
  CHECK(FormatDuration(4800) == "1h20m");
}

TEST_CASE("DescribePlan: the cells, the order and the time", "[set]") {
  SetPlan plan = PlanSet(
      {Expand("name: small\nwarmup_s: 0\nduration_s: 1\ndrain_s: 0.5\nrepeat: 2\ncooldown_s: 1\n"
              "matrix:\n  publish.qos: [0, 1]\n")});
  REQUIRE(plan.order.size() == 4);
  CheckRounds(plan.order, {2, 2});
  // Runs of 0 + 1 + 0.5 + 2 = 3.5 s: 4 x 3.5 + 3 x 1 = 17 s. The order is InterleavedOrder's for
  // seed 1 (its rounds are checked above).
  CHECK(DescribePlan(plan) ==
        "set small: 2 cells, 4 runs, order seed 1, cool-down 1 s\n"
        "  c1-0                     t.yaml x2 publish.qos=0\n"
        "  c2-1                     t.yaml x2 publish.qos=1\n"
        "order: c2-1#1 c1-0#1 c1-0#2 c2-1#2\n"
        "estimated time: 17s\n");
}

}  // namespace
}  // namespace edgebench

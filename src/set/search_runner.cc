// Runs a search (contract in set.h): each cell of the plan is searched by its own planner;
// the steps of all cells run round by round, interleaved, as cells of the set.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "edgebench/base/fd.h"
#include "edgebench/results/metrics.h"
#include "edgebench/results/run_directory.h"
#include "edgebench/results/search_result.h"
#include "edgebench/search/search.h"
#include "edgebench/set/set.h"

#include "set/internal.h"

namespace edgebench {
namespace {

using namespace set_internal;  // NOLINT(google-build-using-namespace)

// One searched cell: its planner and where its steps go in search.json.
struct Searched {
  PlannedCell base;  // the searched cell, with its search:
  SearchPlanner planner;
  std::optional<double> value;  // the value of this round's step
  int step_cell = -1;           // this round's step cell in the plan and the index
};

// The thresholds that define "holds", as text: "latency_p99_ms max 50".
std::vector<std::string> ExpectTexts(const Scenario& s) {
  std::vector<std::string> out;
  for (const ExpectSpec& e : s.expect) {
    out.push_back(e.metric + (e.min ? " min " + FormatSearchValue(*e.min) : "") +
                  (e.max ? " max " + FormatSearchValue(*e.max) : ""));
  }
  return out;
}

SearchResult ResultOf(const SetPlan& plan) {
  const Scenario& s = plan.cells.at(0).scenario;
  const SearchSpec& spec = *s.search;
  SearchResult r{kSearchResultFormat,
                 spec.key,
                 spec.from,
                 spec.to,
                 spec.resolution,
                 spec.resolution_pct,
                 spec.max_runs,
                 spec.max_mixed,
                 s.repeat,
                 {},
                 {}};
  r.expect = ExpectTexts(s);
  for (const PlannedCell& c : plan.cells) r.groups.push_back({c.id, c.values, {}, {}, {}, "", 0});
  return r;
}

// The searched cells' base scenarios go to cells/<id>.yaml; the index starts with no cells.
Result<std::string> CreateSearchDir(const SetPlan& plan, const RunOptions& options,
                                    SetIndex* index) {
  SetPlan bases = plan;
  bases.order.clear();
  Result<std::string> dir = CreateSetDir(bases, options, index);
  if (!dir.ok()) return dir;
  index->cells.clear();
  index->matrix_keys.push_back(plan.cells.at(0).scenario.search->key);
  if (Status st = WriteSetIndex(*dir, *index); !st) return st.error();
  return dir;
}

// Adds the step cell of `g` at `value` to the plan, the index and cells/.
Status AddStepCell(Execution& x, SetPlan& plan, Searched& g, double value) {
  const PlannedCell& base = g.base;
  int step = static_cast<int>(g.planner.steps().size()) + 1;
  std::string text = FormatSearchValue(value);
  PlannedCell cell{base.id + "-s" + std::to_string(step) + "-" + text, base.source, base.values,
                   WithSearchValue(base.scenario, value)};
  cell.values.emplace_back(base.scenario.search->key, text);
  Status st = WriteFile(x.dir + "/cells/" + cell.id + ".yaml", ScenarioToYaml(cell.scenario));
  if (!st) return st.error().WithKind(ErrorKind::kRunFailed);
  SetCell indexed{cell.id,     cell.scenario.name,           cell.source,
                  cell.values, "cells/" + cell.id + ".yaml", {}};
  for (int r = 0; r < cell.scenario.repeat; ++r) indexed.runs.push_back({r, "", "missing", {}});
  g.step_cell = static_cast<int>(plan.cells.size());
  g.value = value;
  plan.cells.push_back(std::move(cell));
  x.index.cells.push_back(std::move(indexed));
  return Ok{};
}

// "[search c1-edge step 3] devices.count=400, run 1 of 2; holds up to 200, fails at 800".
std::string Progress(const Execution& x, const SetPlan& plan, const Searched& g, int repeat) {
  const PlannedCell& c = plan.cells[static_cast<size_t>(g.step_cell)];
  SearchAnswer a = g.planner.Answer();
  std::string bracket = a.holds ? "holds up to " + FormatSearchValue(*a.holds) : "nothing held yet";
  if (a.fails) bracket += ", fails at " + FormatSearchValue(*a.fails);
  return fmt::format("[search {} step {}] {}={}, run {} of {}; {}; {} runs done", g.base.id,
                     g.planner.steps().size() + 1, c.values.back().first, c.values.back().second,
                     repeat + 1, c.scenario.repeat, bracket, x.index.runs_done());
}

// The verdict of a finished step: runs that happened, and those that held every threshold.
std::pair<int, int> StepVerdict(const SetCell& cell) {
  int runs = 0;
  int holds = 0;
  for (const SetRun& r : cell.runs) {
    if (r.status != "ok" && r.status != "failed") continue;  // missing, interrupted
    ++runs;
    if (r.status == "ok" && r.expect_pass == true) ++holds;
  }
  return {runs, holds};
}

void RecordStep(const Execution& x, Searched& g, SearchGroup* out) {
  const SetCell& cell = x.index.cells[static_cast<size_t>(g.step_cell)];
  auto [runs, holds] = StepVerdict(cell);
  g.planner.Record(*g.value, runs, holds);
  const SearchStep& s = g.planner.steps().back();
  out->steps.push_back({s.step, s.value, cell.id, s.runs, s.holds, VerdictName(s.verdict)});
  SearchAnswer a = g.planner.Answer();
  out->holds = a.holds;
  out->fails = a.fails;
  out->stop_reason = a.stop_reason;
  out->runs_used = g.planner.runs_used();
  g.value.reset();
}

}  // namespace

namespace {

struct SearchExecution {
  SetPlan plan;  // grows by one cell per step
  Execution x;
  SearchResult result;
  std::vector<Searched> searched;
  int round = 0;
};

// Adds this round's step cells and their runs, interleaved, to the order; false when every
// search is over.
bool PlanRound(SearchExecution& e, std::vector<size_t>* slots) {
  std::vector<int> repeats;
  std::vector<int> cells;
  for (Searched& g : e.searched) {
    std::optional<double> next = g.planner.Next();
    if (!next) continue;
    if (Status st = AddStepCell(e.x, e.plan, g, *next); !st) {
      e.x.write_errors.push_back(st.error());
      return false;
    }
    cells.push_back(g.step_cell);
    repeats.push_back(e.plan.cells[static_cast<size_t>(g.step_cell)].scenario.repeat);
  }
  if (cells.empty()) return false;
  for (auto [i, repeat] : InterleavedOrder(repeats, e.plan.seed + static_cast<uint64_t>(e.round))) {
    slots->push_back(e.plan.order.size());
    e.plan.order.emplace_back(cells[static_cast<size_t>(i)], repeat);
    e.x.index.order.emplace_back(cells[static_cast<size_t>(i)], repeat);
  }
  ++e.round;
  return WriteSetIndex(e.x.dir, e.x.index).ok();
}

const Searched& SearchedOf(const SearchExecution& e, int cell) {
  for (const Searched& g : e.searched) {
    if (g.step_cell == cell) return g;
  }
  return e.searched.front();  // not reached: every planned cell is some search's step
}

// Runs this round's slots; false when interrupted.
bool RunRound(SearchExecution& e, const std::vector<size_t>& slots) {
  for (size_t slot : slots) {
    if (StopRequested()) return false;
    if (e.x.index.runs_done() > 0 && !CoolDown(e.plan.cooldown_s)) return false;
    auto [cell, repeat] = e.plan.order[slot];
    RunPlanned(e.x, slot, Progress(e.x, e.plan, SearchedOf(e, cell), repeat));
    if (e.x.interrupted) return false;
  }
  return !StopRequested();
}

// A first step whose every run failed (not a threshold: the run itself) means the search
// cannot measure anything: a broker that does not start, a capture that is required.
bool FirstStepFailed(const SearchExecution& e) {
  if (e.round != 1) return false;
  for (const Searched& g : e.searched) {
    const SetCell& c = e.x.index.cells[static_cast<size_t>(g.step_cell)];
    for (const SetRun& r : c.runs) {
      if (r.status != "failed") return false;
    }
  }
  return true;
}

void PrintSearchSummary(const SearchExecution& e) {
  std::printf("\nsearch %s: %zu runs in %s\n", e.x.index.name.c_str(), e.x.index.runs_done(),
              e.x.dir.c_str());
  for (const SearchGroup& g : e.result.groups) {
    std::string values;
    for (const auto& [key, value] : g.values) values += key + "=" + value + " ";
    std::printf("  %-16s %s%s\n", g.id.c_str(), values.c_str(),
                DescribeAnswer(e.result, g).c_str());
  }
  std::printf("next: edgebench compare %s\n      edgebench report %s -o report.html\n",
              e.x.dir.c_str(), e.x.dir.c_str());
  std::fflush(stdout);
}

std::vector<Error> SearchErrors(const SearchExecution& e, bool failed_first) {
  std::vector<Error> errors;
  if (e.x.interrupted) {
    errors.push_back({ErrorKind::kInterrupted,
                      fmt::format("search interrupted after {} runs; what it found so far is in "
                                  "{}/search.json",
                                  e.x.index.runs_done(), e.x.dir)});
  }
  errors.insert(errors.end(), e.x.write_errors.begin(), e.x.write_errors.end());
  // A run that failed later is data (the load broke the broker, say): its step did not hold.
  if (failed_first) {
    errors.insert(errors.end(), e.x.run_errors.begin(), e.x.run_errors.end());
    return errors;
  }
  for (const SearchGroup& g : e.result.groups) {
    if (g.stop_reason == "from_fails") {
      errors.push_back({ErrorKind::kThreshold, g.id + ": " + DescribeAnswer(e.result, g)});
    }
  }
  return errors;
}

}  // namespace

double EstimatedSearchSeconds(const SetPlan& plan) {
  double total = 0;
  for (const PlannedCell& c : plan.cells) {
    const Scenario& s = c.scenario;
    int runs = SearchPlanner(*s.search, s.repeat).WorstCaseRuns();
    total += runs * (s.warmup_s + s.duration_s + s.drain_s + 2.0 + plan.cooldown_s);
  }
  return total;
}

std::string DescribeSearchPlan(const SetPlan& plan) {
  const Scenario& s = plan.cells.at(0).scenario;
  const SearchSpec& spec = *s.search;
  std::string out = fmt::format(
      "search {}: {} from {} to {}, resolution {}{}, {} runs per step, at most {} runs per "
      "cell, stops after {} mixed steps\n",
      plan.name, spec.key, FormatSearchValue(spec.from), FormatSearchValue(spec.to),
      FormatSearchValue(spec.resolution), spec.resolution_pct ? "%" : "", s.repeat, spec.max_runs,
      spec.max_mixed);
  out += "holds when: " + fmt::format("{}", fmt::join(ExpectTexts(s), ", ")) + "\n";
  for (const PlannedCell& c : plan.cells) {
    out += fmt::format("  {:<24} {}{}, at most {} runs\n", c.id, c.source,
                       c.values.empty() ? "" : " " + Values(c),
                       SearchPlanner(*c.scenario.search, c.scenario.repeat).WorstCaseRuns());
  }
  out += "estimated time: at most " + FormatDuration(EstimatedSearchSeconds(plan)) + "\n";
  return out;
}

SetOutcome RunSearch(const SetPlan& plan, const RunOptions& options) {
  SearchExecution e{
      plan, Execution{e.plan, options, "", {}, {}, {}, {}, false}, ResultOf(plan), {}, 0};
  Result<std::string> dir = CreateSearchDir(plan, options, &e.x.index);
  if (!dir.ok()) return {{dir.error()}, ""};
  e.x.dir = *dir;
  e.plan.order.clear();
  e.plan.cells.clear();  // the plan's cells, like the index's, are the steps
  for (const PlannedCell& c : plan.cells) {
    const Scenario& s = c.scenario;
    e.searched.push_back({c, SearchPlanner(*s.search, s.repeat), std::nullopt, -1});
  }
  PointLatest(e.x.dir);
  std::printf("%sresults: %s/search.json\n", DescribeSearchPlan(plan).c_str(), e.x.dir.c_str());
  bool failed_first = false;
  std::vector<size_t> slots;
  while (!e.x.interrupted && PlanRound(e, &slots)) {
    if (!RunRound(e, slots)) {
      e.x.interrupted = true;
      break;
    }
    for (size_t i = 0; i < e.searched.size(); ++i) {
      if (e.searched[i].value) RecordStep(e.x, e.searched[i], &e.result.groups[i]);
    }
    if (!WriteSearchResult(e.x.dir, e.result)) break;  // the write below reports it
    if ((failed_first = FirstStepFailed(e))) break;
    slots.clear();
  }
  // Also when the first round was interrupted, so that a search always has its search.json.
  if (Status st = WriteSearchResult(e.x.dir, e.result); !st) {
    e.x.write_errors.push_back(st.error().WithKind(ErrorKind::kRunFailed));
  }
  PrintSearchSummary(e);
  return {SearchErrors(e, failed_first), e.x.dir};
}

}  // namespace edgebench

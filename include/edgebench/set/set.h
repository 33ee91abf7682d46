// Set: the runs of an experiment — every cell of a matrix, or of several scenario files,
// repeated — planned in an interleaved seeded order, run one after the other with a
// cool-down, and indexed in OUT/<set name>/<set id>/index.json.
//
// Contract: PlanSet() and InterleavedOrder() are pure (same input, same plan). RunSet()
// creates the set directory, writes the cells' resolved scenarios (cells/<id>.yaml) and
// index.json before the first run, rewrites index.json after every run (atomically), and
// points OUT/<set name>/latest at the set. An interruption keeps every finished run; the
// index says which are missing, and ResumeSet() runs exactly those. Requires, like
// RunScenario(), that no thread but the caller's is running.
#ifndef EDGEBENCH_SET_SET_H_
#define EDGEBENCH_SET_SET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/results/set_index.h"
#include "edgebench/run/run.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct PlannedCell {
  std::string id;  // "c1-edge-lan": c<number> and the cell's values, as a directory name
  std::string source;
  std::vector<std::pair<std::string, std::string>> values;
  Scenario scenario;
};

struct SetPlan {
  std::string name;               // one file: its scenario's name; several: the names joined by "+"
  uint64_t seed = 1;              // of the order: the first cell's scenario seed
  double cooldown_s = 0;          // the longest cooldown_s of the cells
  std::vector<std::string> keys;  // the key paths the cells differ in (matrix keys, or all)
  std::vector<PlannedCell> cells;
  std::vector<std::pair<int, int>> order;  // (cell, repeat)
};

// Round r (0-based) holds every cell with more than r repeats, shuffled with a generator
// seeded by (seed, r): each cell runs once per round, and no cell is always first.
std::vector<std::pair<int, int>> InterleavedOrder(const std::vector<int>& repeats, uint64_t seed);

// The plan of one or more expanded scenario files.
SetPlan PlanSet(const std::vector<Experiment>& experiments);

// True when `experiments` is a single run: one file, one cell, repeat 1.
bool IsSingleRun(const std::vector<Experiment>& experiments);

// Seconds the plan is expected to take: each run's warm-up, window and drain, about 2 s of
// start and stop, and the cool-downs between runs.
double EstimatedSeconds(const SetPlan& plan, size_t runs_left);

// "45s", "3m05s", "1h20m".
std::string FormatDuration(double seconds);

// `run --dry-run`: the cells with their values, the order, and the estimated time.
std::string DescribePlan(const SetPlan& plan);

struct SetOutcome {
  // The first kind decides the exit code: kInterrupted, then kRunFailed/kUnavailable for
  // a run that could not be done, then kThreshold for a cell that failed `expect:`.
  std::vector<Error> errors;
  std::string set_dir;
};

// Prints each run's table and directory and a progress line before each run to stdout.
SetOutcome RunSet(const SetPlan& plan, const RunOptions& options);

// A search (the plan's cells have `search:`; one scenario file): each cell (a matrix cell,
// e.g. one placement) is searched by its own SearchPlanner. Round by round, every search
// that is not over adds a step cell (`<cell id>-s<step>-<value>`, its values ending with
// search.key=value) to index.json and cells/, and its `repeat` runs join one interleaved
// round; after each round the steps' verdicts (a run holds when it is ok and passes every
// expect: threshold; a failed run does not hold) go to the planners and SET_DIR/search.json
// is rewritten. Errors: kInterrupted; a file of the set that could not be written; the runs
// of the first round, when every one failed (nothing could be measured); kThreshold for a
// cell whose `from` did not hold. A later run that fails, or a step that fails its
// thresholds, is what a search looks for: it does not hold, and is no error.
SetOutcome RunSearch(const SetPlan& plan, const RunOptions& options);
// `run --dry-run` of a search: the key, range, resolution, budget, the cells and the most
// runs each can take, and the longest it can take.
std::string DescribeSearchPlan(const SetPlan& plan);
double EstimatedSearchSeconds(const SetPlan& plan);

// Reads SET_DIR/index.json and the cells' scenarios (parsed with `checks`) and runs the
// missing and interrupted runs. Errors (kUsage): not a set, a complete set, a cell
// scenario that no longer validates.
SetOutcome ResumeSet(const std::string& set_dir, const ExternalChecks& checks,
                     const RunOptions& options);

}  // namespace edgebench

#endif  // EDGEBENCH_SET_SET_H_

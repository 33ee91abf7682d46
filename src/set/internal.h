// What the set runner (runner.cc) and the search runner (search_runner.cc) share: the set
// directory, the `latest` link, the cool-down, and running one planned run into the index.
// Internal: nothing outside src/set/ includes this header.
#ifndef EDGEBENCH_SRC_SET_INTERNAL_H_
#define EDGEBENCH_SRC_SET_INTERNAL_H_

#include <map>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/results/set_index.h"
#include "edgebench/run/run.h"
#include "edgebench/set/set.h"

namespace edgebench::set_internal {

struct Execution {
  const SetPlan& plan;
  const RunOptions& options;
  std::string dir;
  SetIndex index;
  std::vector<Error> run_errors;    // runs that could not be done
  std::vector<Error> write_errors;  // index.json, cells/, search.json that could not be written
  std::map<int, std::string> failed_thresholds;  // cell -> the first failing run's verdicts
  bool interrupted = false;
};

// The index of a plan before its first run: every run "missing".
SetIndex IndexOf(const SetPlan& plan, const std::string& id,
                 const std::vector<std::string>& command_line);
// OUT/<name>/<id>/ with cells/<id>.yaml and index.json.
Result<std::string> CreateSetDir(const SetPlan& plan, const RunOptions& options, SetIndex* index);
// OUT/<name>/latest -> <id>, replaced atomically; a failure costs only the link.
void PointLatest(const std::string& set_dir);
// "placement=edge network=edge-lan".
std::string Values(const PlannedCell& c);
// Sleeps `seconds` in short steps; false when a stop was requested.
bool CoolDown(double seconds);
// Writes the outcome of one run into the index (status, directory, verdict, errors).
void RecordRun(Execution& x, int cell, int repeat, const RunOutcome& out);
// Runs plan.order[slot] after printing `progress` (one line, without the newline), prints
// its table and directory, records it and rewrites index.json.
void RunPlanned(Execution& x, size_t slot, const std::string& progress);
void RunSlot(Execution& x, size_t slot, size_t done_before, size_t total);

}  // namespace edgebench::set_internal

#endif  // EDGEBENCH_SRC_SET_INTERNAL_H_

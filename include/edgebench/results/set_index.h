// SetIndex: index.json of a set of runs (a matrix with repeats, or several scenario files
// run together): which cells it has, the values that make each cell, the order the runs
// were planned in, and each run's directory and verdict.
//
// Contract: SetIndexToJson()/SetIndexFromJson() round-trip (operator==). Paths in the index
// are relative to the set directory, so a set can be moved or archived as a whole.
// ReadSetIndex() names the file in every error ("DIR/index.json: ..."). Plain values.
#ifndef EDGEBENCH_RESULTS_SET_INDEX_H_
#define EDGEBENCH_RESULTS_SET_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"

namespace edgebench {

inline constexpr int kSetIndexFormat = 1;

// One planned run of a cell.
struct SetRun {
  int repeat = 0;                   // 0-based
  std::string dir;                  // results directory, relative to the set; "" while missing
  std::string status = "missing";   // "ok", "failed", "interrupted" or "missing"
  std::optional<bool> expect_pass;  // none: no expect: thresholds, or no result
  bool operator==(const SetRun&) const = default;
};

// One cell: a scenario with the matrix values applied.
struct SetCell {
  std::string id;                                           // "c1-edge-lan": a directory name
  std::string scenario;                                     // the cell scenario's name
  std::string source;                                       // the scenario file the cell came from
  std::vector<std::pair<std::string, std::string>> values;  // matrix key -> value (YAML text)
  std::string scenario_file;  // the resolved scenario, relative: "cells/c1-edge-lan.yaml"
  std::vector<SetRun> runs;   // one per repeat, by repeat
  bool operator==(const SetCell&) const = default;
  // false when a finished run failed a threshold; none when nothing was checked yet.
  std::optional<bool> expect_pass() const;
};

struct SetIndex {
  int format = kSetIndexFormat;
  std::string name;     // the set's name: OUT/<name>/<id>/
  std::string id;       // "20261201T131500Z-a1b2c3"
  std::string created;  // ISO 8601 UTC
  uint64_t seed = 1;    // of the run order
  int repeat = 1;
  double cooldown_s = 0;
  std::vector<std::string> matrix_keys;  // the keys the cells differ in, in matrix order
  std::vector<SetCell> cells;
  std::vector<std::pair<int, int>> order;  // (cell index, repeat), the order runs happen in
  std::vector<std::string> command_line;
  bool operator==(const SetIndex&) const = default;

  size_t runs_done() const;     // runs that happened: ok or failed (interrupted is redone)
  size_t runs_missing() const;  // planned runs not done yet
};

nlohmann::json SetIndexToJson(const SetIndex& index);
// Error: "index format 2 is newer than this edgebench reads (1)", or the missing key.
Result<SetIndex> SetIndexFromJson(const nlohmann::json& j);
// DIR/index.json. Errors: "DIR/index.json: cannot read file: ...", "DIR/index.json: ...".
Result<SetIndex> ReadSetIndex(const std::string& set_dir);
// Writes DIR/index.json atomically (a temporary file renamed over it): a reader never sees
// half an index, and an interrupted write leaves the previous one.
Status WriteSetIndex(const std::string& set_dir, const SetIndex& index);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_SET_INDEX_H_

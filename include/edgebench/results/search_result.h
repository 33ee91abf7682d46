// SearchResult: search.json of a set that searched a key (`search:`): the search's
// settings, and for each searched matrix cell the steps tried and the answer they give.
//
// Contract: SearchResultToJson()/SearchResultFromJson() round-trip (operator==).
// ReadSearchResult() names the file in every error ("DIR/search.json: ..."), and
// WriteSearchResult() replaces it atomically. Verdicts are "holds", "fails" or "mixed";
// the reader refuses any other. Plain values; this module knows nothing of the planner.
#ifndef EDGEBENCH_RESULTS_SEARCH_RESULT_H_
#define EDGEBENCH_RESULTS_SEARCH_RESULT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"

namespace edgebench {

inline constexpr int kSearchResultFormat = 1;

// One step: `runs` runs of one value, `holds` of which held every threshold.
struct SearchResultStep {
  int step = 0;  // 1-based
  double value = 0;
  std::string cell;  // the set's cell id of the step's runs (index.json)
  int runs = 0;
  int holds = 0;
  std::string verdict;  // "holds", "fails" or "mixed"
  bool operator==(const SearchResultStep&) const = default;
};

// One searched matrix cell (e.g. placement=edge).
struct SearchGroup {
  std::string id;                                           // "c1-edge"
  std::vector<std::pair<std::string, std::string>> values;  // matrix key -> value (YAML text)
  std::vector<SearchResultStep> steps;
  std::optional<double> holds;  // the highest value that held in every repeat
  std::optional<double> fails;  // the lowest value above it that did not
  // "from_fails", "range_holds", "resolution", "noisy", "budget"; "" while running.
  std::string stop_reason;
  int runs_used = 0;
  bool operator==(const SearchGroup&) const = default;
};

struct SearchResult {
  int format = kSearchResultFormat;
  std::string key;  // "devices.count"
  double from = 0;
  double to = 0;
  double resolution = 0;
  bool resolution_pct = true;  // resolution in percent of the bracket's low end
  int max_runs = 0;
  int max_mixed = 0;
  int repeat = 1;
  std::vector<std::string> expect;  // the thresholds as text: "latency_p99_ms max 50"
  std::vector<SearchGroup> groups;
  bool operator==(const SearchResult&) const = default;
};

nlohmann::json SearchResultToJson(const SearchResult& result);
// Errors: "search result must be a JSON object", "search result format 2 is newer than this
// edgebench reads (1)", "malformed search result: ..." naming the missing key or wrong type,
// "group c1-edge step 3: verdict must be holds, fails or mixed, got 'maybe'".
Result<SearchResult> SearchResultFromJson(const nlohmann::json& j);
// DIR/search.json. Errors: "DIR/search.json: cannot read file: ...", "DIR/search.json: ...".
Result<SearchResult> ReadSearchResult(const std::string& set_dir);
// Writes DIR/search.json atomically (a temporary file renamed over it): a reader never
// sees half a result, and an interrupted write leaves the previous one.
Status WriteSearchResult(const std::string& set_dir, const SearchResult& result);

// A searched value as it reads in a cell id or a sentence: the shortest decimal that reads
// back as the same double, never an exponent ("400", "37.5", "0.55", "1000000").
std::string FormatSearchValue(double value);

// One line on a group's answer, for the terminal and the report, by stop_reason:
//   resolution   "devices.count holds up to 400 (fails at 450; resolution 10%; 9 runs)"
//   from_fails   "devices.count: 50 (from) does not hold (3 runs)", or when it was mixed
//                "devices.count: 50 (from) held in only 2 of 3 runs"
//   range_holds  "devices.count holds across the whole range up to 3200 (21 runs)"
//   noisy        "devices.count holds up to 400 (fails at 600; noisy: 2 steps held in only
//                some runs; 18 runs)"
//   budget       "devices.count holds up to 200 (not tried higher; out of budget: max_runs 10;
//                9 runs)", or before any step
//                "devices.count: not tried (max_runs 2 is less than one step of 3 runs)"
//   "" (running) "devices.count holds up to 400 so far (fails at 800; searching; 5 runs)"
// Another reason is shown as "stopped: REASON".
std::string DescribeAnswer(const SearchResult& result, const SearchGroup& group);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_SEARCH_RESULT_H_

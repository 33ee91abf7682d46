// Compare: runs and sets of runs read back, grouped into cells, each cell's figures as a
// median with a bootstrap interval over its repeats, the difference of two cells in plain
// words, and the decision (which placements meet every `expect:` threshold, the cheapest).
//
// Contract: LoadCells() is the only part that reads files: run directories through
// ReadRunDirectory() and their resolved scenario.yaml through the scenario module, sets
// through ReadSetIndex(). Every error is ErrorKind::kUsage and one line that names the path.
// CompareCells() and the formatters are pure functions (no I/O, no clock): the same input
// and seed give the same Comparison and the same text. Every figure comes from
// MetricValue() (results/metrics.h). Statistics: stats/stats.h, docs/compare.md.
// A set with search.json (`search:`) read on its own carries its search: each searched
// matrix cell's steps in value order with their verdicts and figures, its answer
// (DescribeAnswer) and one sentence comparing the answers; its answer replaces the per-cell
// decision. Plain values; not thread-safe.
#ifndef EDGEBENCH_COMPARE_COMPARE_H_
#define EDGEBENCH_COMPARE_COMPARE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/results/metrics.h"
#include "edgebench/results/run_result.h"
#include "edgebench/results/search_result.h"
#include "edgebench/scenario/scenario.h"
#include "edgebench/stats/stats.h"

namespace edgebench {

struct CompareOptions {
  bool include_incomplete = false;  // also runs that are .partial/.failed/.interrupted or not ok
  uint64_t seed = 1;                // of the bootstrap resampling
  double confidence = 0.95;
  int resamples = 10000;
  // For reading each run's resolved scenario.yaml: the network profiles it may name
  // (config/profiles.yaml). Capture checks are not used: a run from another host names
  // that host's interfaces.
  ExternalChecks checks;
};

// One run as compare read it.
struct CompareRun {
  std::string dir;            // the run directory, as found (relative to the set when from a set)
  RunResult result;           // ReadRunDirectory(dir)
  Scenario scenario;          // dir/scenario.yaml, resolved
  std::optional<int> repeat;  // 0-based, when from a set
};

// Runs that are the same scenario with the same values: one cell of a matrix, or loose
// run directories grouped by scenario name and identical values.
struct CompareCell {
  std::string label;     // "edge-lan" (one key), "network=edge-lan devices.count=100", or
                         // the scenario name; unique within a Comparison
  std::string id;        // the set's cell id ("c1-edge-lan"), "" for loose runs
  std::string scenario;  // the scenario name
  std::vector<std::pair<std::string, std::string>> values;  // differing key -> YAML text
  std::vector<CompareRun> runs;                             // in the order found
};

// What LoadCells() found: the cells, the keys they differ in, and what it skipped.
struct LoadedCells {
  std::vector<CompareCell> cells;
  std::vector<std::string> keys;   // the keys any two cells differ in, sorted
  std::vector<std::string> notes;  // "skipped results/x/20261201T...-a1b2c3.failed: status failed"
  // The set's search.json (ReadSearchResult), when the only path given is a set that
  // searched a key. A search set among other paths is compared cell by cell, with a note.
  std::optional<SearchResult> search;
};

// Each path is a run directory (summary.json), a set directory (index.json) or a link to
// one (results/edge-vs-cloud/latest). Errors (kUsage), each naming the path:
//   ReadSearchResult's message for a set whose search.json cannot be read
//   "PATH: not a run directory (no summary.json) or a set (no index.json)"
//   ReadRunDirectory's or ReadSetIndex's message, which names the file
//   "PATH/scenario.yaml: ..." (the scenario module's message)
//   "SET: cells c1-edge-lan and c2-cloud-near differ in publish.qos, which is not a
//    matrix key"
//   "SET: run DIR of cell c1-edge-lan differs from DIR2 in devices.count"
//   "no runs to compare: every run was skipped (--include-incomplete compares them)"
Result<LoadedCells> LoadCells(const std::vector<std::string>& paths, const CompareOptions& options);

// The metrics compare summarises, in the order of its columns: latency p50 and p99,
// received msg/s, loss ratio, worker and broker CPU, wire bytes per message, cost/month.
std::span<const Metric> CompareMetrics();

// One metric over a cell's runs.
struct MetricSummary {
  Metric metric = Metric::kLatencyP50Ms;
  std::vector<double> values;        // one per run that measured it, in run order
  std::optional<double> median;      // none when no run measured it
  std::optional<Interval> interval;  // none with fewer than 2 values
};

struct CellSummary {
  std::string label;  // CompareCell::label
  size_t runs = 0;
  std::vector<MetricSummary> metrics;  // in CompareMetrics() order
};

// One metric of two cells a and b, b against a (b - a).
struct MetricDifference {
  Metric metric = Metric::kLatencyP50Ms;
  size_t n_a = 0;  // runs that measured it
  size_t n_b = 0;
  std::optional<double> median_a;
  std::optional<double> median_b;
  std::optional<DifferenceEstimate> difference;  // none with fewer than 2 runs a side
  std::optional<MannWhitneyResult> test;         // none when a side has no value
  // "cloud-near latency p99 is 8.1 ms higher than edge-lan (95% CI 7.6..8.7, 5 vs 5
  // runs; Mann-Whitney U p=0.008, exact)"; "" when neither side measured it.
  std::string sentence;
};

// One percentile of two single runs' own latency distributions (exact histograms, or the
// summary's figures for runs of format 1).
struct PercentilePair {
  double percentile = 0;  // 50, 90, 99, 99.9, 100 (max)
  double a_ms = 0;
  double b_ms = 0;
};

// With one run on each side: their latency distributions side by side.
struct DistributionComparison {
  std::vector<PercentilePair> percentiles;
  uint64_t count_a = 0;  // messages in each distribution
  uint64_t count_b = 0;
  // "One run on each side: in their own latency distributions (398 messages of edge-lan,
  // 412 of cloud-near), cloud-near is 0.5 ms higher at p50, ..., 8.1 ms higher at max than
  // edge-lan; repeats are needed for an interval."
  std::string sentence;
};

// Exactly two cells (or two loose runs): b against a, a being the first given.
struct Difference {
  std::string a;  // labels
  std::string b;
  std::vector<MetricDifference> metrics;                // in CompareMetrics() order
  std::optional<DistributionComparison> distributions;  // when both sides have one run
};

// One threshold of a cell, over all its runs.
struct ThresholdMargin {
  std::string metric;  // "latency_p99_ms"
  std::optional<double> min;
  std::optional<double> max;
  size_t runs = 0;               // runs that checked it
  size_t runs_passed = 0;        // runs whose ExpectResult passed
  std::optional<double> worst;   // the value of the run closest to (or past) the threshold
  std::optional<double> margin;  // distance of `worst` inside the threshold (negative:
                                 // outside), in the metric's unit; none without a value
  std::string reason;            // the first failing run's reason, when one failed
  bool met() const { return runs > 0 && runs_passed == runs; }
};

struct CellVerdict {
  std::string label;
  bool meets_all = false;                    // every threshold met in every run
  std::optional<double> cost_per_month_usd;  // median over the runs
  std::vector<ThresholdMargin> thresholds;   // in the scenario's order
};

// The answer: which cells meet every threshold, and the cheapest of them.
struct Decision {
  std::vector<CellVerdict> cells;   // in cell order
  std::optional<size_t> cheapest;   // index in cells: the cheapest cell that meets all
  std::optional<size_t> runner_up;  // the next cheapest that meets all
  std::optional<double> ratio;      // runner_up cost / cheapest cost
  // "edge-lan meets latency_p99_ms <= 50 with 46 ms to spare at USD 41/month; cloud-near
  // meets it with 32 ms to spare at USD 262/month: edge-lan is 6.4x cheaper." or
  // "No cell meets every threshold: edge-lan fails loss_ratio <= 0 (0.002 in 1 of 5 runs)".
  std::vector<std::string> sentences;
};

// One step of a search: the runs of one value of the searched key in one group.
struct SearchStepSummary {
  double value = 0;
  std::string cell;     // the set's cell id of the step ("c1-edge-s3-100")
  std::string verdict;  // "holds", "fails" or "mixed" (search.json)
  int runs = 0;         // runs the search counted (search.json)
  int holds = 0;        // of them, the runs that held every threshold
  // One per SearchCurves::metrics, over the step's runs that compare loaded (a skipped
  // run is in `runs` but not here; a step with none has no values).
  std::vector<MetricSummary> metrics;
};

// One searched matrix cell (placement=edge): its steps and its answer.
struct SearchCurve {
  std::string label;  // as compare labels a cell by its matrix values ("edge"); the
                      // scenario name when the search had no matrix
  std::string id;     // search.json's group id ("c1-edge")
  std::vector<std::pair<std::string, std::string>> values;  // matrix key -> value
  std::vector<SearchStepSummary> steps;                     // in value order
  std::optional<double> holds;        // the highest value that held in every run
  std::optional<double> fails;        // the lowest value above it that did not
  std::string stop_reason;            // as in search.json ("" while running)
  std::string answer;                 // DescribeAnswer(): "publish.rate holds up to 50 (...)"
  std::optional<double> broker_cpus;  // the group's broker.resources.cpus, when limited
};

// A search as compare shows it.
struct SearchCurves {
  // "Search of publish.rate from 25 to 800 msg/s per device, 1 run per step; a step holds
  // when every run meets latency_p99_ms max 30 and loss_ratio max 0."
  std::string heading;
  std::string key;   // "publish.rate"
  std::string unit;  // of the key's values: "msg/s per device", "devices", "bytes"
  double from = 0;
  double to = 0;
  int repeat = 1;                   // runs per step
  std::vector<std::string> expect;  // search.json's thresholds as text: "latency_p99_ms max 30"
  // The same thresholds typed, from the steps' resolved scenarios (`expect:`).
  std::vector<Threshold> thresholds;
  // The figures of each step: latency p50 and p99, delivered msg/s, broker CPU, then each
  // threshold's metric that is not among them (loss ratio, ...).
  std::vector<Metric> metrics;
  std::vector<SearchCurve> groups;  // in search.json order
  // With two groups or more, their answers compared: "edge holds up to 75 msg/s per device
  // and cloud up to 300 (...): cloud carries 4x the publish.rate of edge." "" with one.
  std::string sentence;
};

struct Comparison {
  std::vector<CompareCell> cells;        // with their runs, for the report's charts
  std::vector<std::string> keys;         // the keys the cells differ in
  std::vector<std::string> notes;        // skipped runs, and how the intervals were made
  std::vector<CellSummary> summaries;    // one per cell, in cell order
  std::optional<Difference> difference;  // exactly two cells (never for a search)
  std::optional<Decision> decision;      // when any run carries expectations (not a search)
  std::optional<SearchCurves> search;    // LoadedCells::search, summarised
  double confidence = 0.95;
  uint64_t seed = 1;
};

// The statistics of loaded cells. Two loose runs of the same scenario are compared as two
// cells (labelled by their directory names).
Comparison CompareCells(LoadedCells loaded, const CompareOptions& options);

// LoadCells() then CompareCells().
Result<Comparison> Compare(const std::vector<std::string>& paths, const CompareOptions& options);

enum class CompareFormat { kTable, kMarkdown, kCsv, kJson };
// "table", "markdown", "csv" or "json". Error (kUsage): "unknown format 'x' (expected
// table, markdown, csv or json)".
Result<CompareFormat> ParseCompareFormat(std::string_view name);

// The terminal table: one row per cell (median and [lo..hi] per metric), then the
// difference sentences and the decision. For a search: a table of the steps per group,
// each group's answer, and the sentence comparing them, in place of the cell table (each
// step is a cell: the step tables show the same medians, in value order).
std::string CompareTable(const Comparison& comparison);
// The same as GitHub markdown tables and paragraphs.
std::string CompareMarkdown(const Comparison& comparison);
// One row per cell and metric: cell,metric,unit,runs,median,lo,hi. For a search one row per
// step: group,key,value,cell,verdict,runs,runs_held, each metric's median, lo and hi
// (latency_p99_ms,latency_p99_ms_lo,latency_p99_ms_hi), then the group's holds, fails,
// stop_reason and answer.
std::string CompareCsv(const Comparison& comparison);
// Everything but the runs' own results: cells (label, id, scenario, values, run dirs),
// summaries, difference, decision, search, notes.
std::string CompareJson(const Comparison& comparison);
std::string FormatComparison(const Comparison& comparison, CompareFormat format);

// A figure as compare prints it: at most 4 significant digits, trailing zeros dropped
// ("8.1", "46.6", "100.4", "0.002135"), whole numbers from 1000 up ("12345"); "-" for none.
std::string FormatFigure(std::optional<double> value);

}  // namespace edgebench

#endif  // EDGEBENCH_COMPARE_COMPARE_H_

// The report's parts shared by the files of src/report/: the gnuplot script builder each
// chart adds itself to, and the HTML sections. Internal: nothing outside src/report/
// includes this header.
#ifndef EDGEBENCH_SRC_REPORT_INTERNAL_H_
#define EDGEBENCH_SRC_REPORT_INTERNAL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgebench/compare/compare.h"
#include "edgebench/report/report.h"

namespace edgebench::report_internal {

// Builds one gnuplot script for every chart. Each chart starts from `reset` with the
// common settings, so no setting of one chart leaks into the next.
class ScriptBuilder {
 public:
  explicit ScriptBuilder(std::string out_dir) : out_dir_(std::move(out_dir)) {}

  // Starts chart `id` at width x height (SVG units): terminal, output and common settings.
  void BeginChart(const std::string& id, const std::string& title, const std::string& caption,
                  int width, int height);
  // Marks the chart begun last as a search's (ChartSpec::search).
  void MarkSearch() { plan_.charts.back().search = true; }
  // Adds `rows` (lines of whitespace-separated columns) as a datablock; returns its name.
  std::string AddBlock(std::string_view rows);
  // Appends script text as is.
  void Line(std::string_view text);
  void Note(std::string note) { plan_.notes.push_back(std::move(note)); }

  ChartPlan Finish() &&;

 private:
  std::string out_dir_;
  ChartPlan plan_;
  int blocks_ = 0;
};

// A number for the script: %.6g, "?" (gnuplot's missing value here) when not finite.
std::string Num(double value);
// `text` as a single-quoted gnuplot string: ' doubled, line breaks as spaces.
std::string Quote(std::string_view text);
// `text` as a double-quoted column of a datablock (a " becomes ').
std::string Column(std::string_view text);
// The summary of `metric` in `summary`, or nullptr.
const MetricSummary* FindMetric(const CellSummary& summary, Metric metric);
// "run 2" for the second repeat of a set, else the run directory's last component.
std::string RunName(const CompareRun& run, size_t index_in_cell);

// Each chart family adds its charts (or a note why there is none).
void AddSearchCharts(const SearchCurves& search, ScriptBuilder& out);
void AddLatencyChart(const Comparison& comparison, ScriptBuilder& out);
void AddWireChart(const Comparison& comparison, ScriptBuilder& out);
void AddCostChart(const Comparison& comparison, ScriptBuilder& out);
void AddTimelineChart(const CompareCell& cell, size_t cell_index, ScriptBuilder& out);
void AddResourceChart(const CompareCell& cell, size_t cell_index, ScriptBuilder& out);

// HTML sections (html.cc): compare's tables and sentences, and the runs' files.
std::string ComparisonSection(const Comparison& comparison);
// The search (html_search.cc): its answers, a table of steps per group, and `charts` (the
// search's figures, or a notice why there are none).
std::string SearchSection(const SearchCurves& search, const std::string& charts);
std::string RunsSection(const Comparison& comparison);

}  // namespace edgebench::report_internal

#endif  // EDGEBENCH_SRC_REPORT_INTERNAL_H_

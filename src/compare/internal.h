// Pieces shared by the files of the compare module; not part of its contract.
#ifndef EDGEBENCH_SRC_COMPARE_INTERNAL_H_
#define EDGEBENCH_SRC_COMPARE_INTERNAL_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/compare/compare.h"

namespace edgebench::compare_internal {

// The values of every run of a cell, for one metric (MetricValue), in run order.
std::vector<double> ValuesOf(const CompareCell& cell, Metric metric);

// "8.1 ms", "120 msg/s", "0.002", "12 percentage points", "USD 41": a magnitude with the
// metric's unit as a sentence says it.
std::string WithUnit(double value, const MetricInfo& info);

// A value (not a difference) with its unit: "12%" where WithUnit says "12 percentage points".
std::string ValueText(double value, const MetricInfo& info);

// The differences of exactly two cells (compare.cc), and the decision (decision.cc).
Difference DifferenceOf(const CompareCell& a, const CompareCell& b, const CompareOptions& o);
std::optional<Decision> DecisionOf(const std::vector<CompareCell>& cells);

// A cell's label from its values: "edge-lan" for one key with a word value, else
// "network=edge-lan devices.count=100" (a named profile shown as the key it sets).
std::string LabelOfValues(const std::vector<std::pair<std::string, std::string>>& values);

// Formatting shared by format.cc and format_search.cc:
// "latency p99 (ms)", the header of a metric's column.
std::string MetricHeader(Metric metric);
// "8.1 [7.6..8.7]", "8.1" with one run, "-" when not measured.
std::string SummaryText(const MetricSummary& summary);
// Rows as aligned columns (two spaces apart), each line starting with `indent`.
std::string AlignedTable(const std::vector<std::vector<std::string>>& rows,
                         const std::string& indent);
// Rows as a GitHub table, the first `text_columns` left-aligned, the rest right-aligned.
std::string MarkdownTable(const std::vector<std::vector<std::string>>& rows, size_t text_columns);
std::string CsvField(const std::string& text);
// The shortest text that reads back as the same double; "" for none.
std::string ExactText(std::optional<double> value);
nlohmann::json OptionalJson(std::optional<double> value);

// The search of a set, summarised over the loaded cells (search.cc).
SearchCurves SearchCurvesOf(const SearchResult& search, const std::vector<CompareCell>& cells,
                            const CompareOptions& options);

// The search's output in each format (format_search.cc).
// The search's heading and one table of steps per group, with its answer; the method note
// and the sections after them are format.cc's.
std::string SearchTable(const Comparison& comparison);
std::string SearchMarkdown(const Comparison& comparison);
std::string SearchCsv(const SearchCurves& search);
nlohmann::json SearchJson(const SearchCurves& search);

// "latency_p99_ms <= 50", ">= 95", "in 10..20".
std::string ThresholdText(const std::string& metric, std::optional<double> min,
                          std::optional<double> max);

}  // namespace edgebench::compare_internal

#endif  // EDGEBENCH_SRC_COMPARE_INTERNAL_H_

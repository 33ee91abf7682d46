// Pieces shared by the files of the compare module; not part of its contract.
#ifndef EDGEBENCH_SRC_COMPARE_INTERNAL_H_
#define EDGEBENCH_SRC_COMPARE_INTERNAL_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

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

// "latency_p99_ms <= 50", ">= 95", "in 10..20".
std::string ThresholdText(const std::string& metric, std::optional<double> min,
                          std::optional<double> max);

}  // namespace edgebench::compare_internal

#endif  // EDGEBENCH_SRC_COMPARE_INTERNAL_H_

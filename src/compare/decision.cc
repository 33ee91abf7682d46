// The answer compare ends with: which cells meet every `expect:` threshold in all their
// runs, how close each is to each threshold, and the cheapest of them.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "compare/internal.h"

namespace edgebench::compare_internal {
namespace {

// How far `value` lies inside the threshold (negative: outside), towards its nearer bound.
std::optional<double> MarginOf(const ExpectResult& e) {
  if (!e.value) return std::nullopt;
  std::optional<double> margin;
  if (e.max) margin = *e.max - *e.value;
  if (e.min) margin = std::min(margin.value_or(*e.value - *e.min), *e.value - *e.min);
  return margin;
}

ThresholdMargin* FindThreshold(std::vector<ThresholdMargin>& all, const ExpectResult& e) {
  for (ThresholdMargin& t : all) {
    if (t.metric == e.metric && t.min == e.min && t.max == e.max) return &t;
  }
  all.push_back(ThresholdMargin{e.metric, e.min, e.max, 0, 0, {}, {}, ""});
  return &all.back();
}

CellVerdict VerdictOf(const CompareCell& cell) {
  CellVerdict v{cell.label, false, Median(ValuesOf(cell, Metric::kCostPerMonthUsd)), {}};
  for (const CompareRun& run : cell.runs) {
    for (const ExpectResult& e : run.result.expectations) {
      ThresholdMargin* t = FindThreshold(v.thresholds, e);
      ++t->runs;
      if (e.pass) ++t->runs_passed;
      if (!e.pass && t->reason.empty()) t->reason = e.reason;
      std::optional<double> margin = MarginOf(e);
      if (margin && (!t->margin || *margin < *t->margin)) {
        t->margin = margin;
        t->worst = e.value;
      }
    }
  }
  v.meets_all =
      !v.thresholds.empty() && std::all_of(v.thresholds.begin(), v.thresholds.end(),
                                           [](const ThresholdMargin& t) { return t.met(); });
  return v;
}

std::string UnitOf(const std::string& metric, double value) {
  std::optional<Metric> m = MetricNamed(metric);
  return m ? WithUnit(value, InfoOf(*m)) : FormatFigure(value);
}

std::string CostText(const CellVerdict& v) {
  return v.cost_per_month_usd ? " at USD " + FormatFigure(*v.cost_per_month_usd) + "/month"
                              : " (no cost sheet)";
}

// "edge-lan meets latency_p99_ms <= 50 with 46 ms to spare in all 5 runs at USD 41/month"
std::string MeetsClause(const CellVerdict& v, size_t runs) {
  std::string text = v.label + " meets ";
  for (size_t i = 0; i < v.thresholds.size(); ++i) {
    const ThresholdMargin& t = v.thresholds[i];
    text += i == 0 ? "" : i + 1 == v.thresholds.size() ? " and " : ", ";
    text += ThresholdText(t.metric, t.min, t.max);
    if (t.margin) text += " with " + UnitOf(t.metric, *t.margin) + " to spare";
  }
  if (runs == 2) text += " in both runs";
  if (runs > 2) text += " in all " + std::to_string(runs) + " runs";
  return text + CostText(v);
}

// "cloud-far fails latency_p99_ms <= 50 (61.2 in 3 of 5 runs: above the maximum)"
std::string FailsClause(const CellVerdict& v) {
  if (v.thresholds.empty()) return v.label + " has no expect: thresholds";
  std::string text;
  for (const ThresholdMargin& t : v.thresholds) {
    if (t.met()) continue;
    text += text.empty() ? v.label + " fails " : "; and ";
    text += ThresholdText(t.metric, t.min, t.max) + " (";
    if (t.worst) text += UnitOf(t.metric, *t.worst) + " ";
    text += "in " + std::to_string(t.runs - t.runs_passed) + " of " + std::to_string(t.runs) +
            " runs" + (t.reason.empty() ? "" : ": " + t.reason) + ")";
  }
  return text;
}

// The cells that meet every threshold, cheapest first (cells without a cost last).
std::vector<size_t> PassingByCost(const std::vector<CellVerdict>& cells) {
  std::vector<size_t> order;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].meets_all) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const std::optional<double>& cx = cells[x].cost_per_month_usd;
    const std::optional<double>& cy = cells[y].cost_per_month_usd;
    if (cx && cy) return *cx < *cy;
    return cx.has_value() && !cy.has_value();
  });
  return order;
}

void Conclude(Decision& d, const std::vector<size_t>& passing, const std::vector<size_t>& runs) {
  std::string meets;
  for (size_t i : passing) {
    meets += (meets.empty() ? "" : "; ") + MeetsClause(d.cells[i], runs[i]);
  }
  if (passing.empty()) {
    d.sentences.push_back("No cell meets every threshold.");
  } else if (d.ratio) {
    const std::string& cheap = d.cells[*d.cheapest].label;
    d.sentences.push_back(meets + ": " + cheap + " is " + FormatFigure(*d.ratio) +
                          "x cheaper than " + d.cells[*d.runner_up].label + ".");
  } else if (passing.size() == 1) {
    d.sentences.push_back(meets + ": the only cell that meets every threshold.");
  } else {
    d.sentences.push_back(meets + ".");
  }
  for (const CellVerdict& v : d.cells) {
    if (!v.meets_all) d.sentences.push_back(FailsClause(v) + ".");
  }
}

}  // namespace

std::string ThresholdText(const std::string& metric, std::optional<double> min,
                          std::optional<double> max) {
  if (min && max) return metric + " in " + FormatFigure(*min) + ".." + FormatFigure(*max);
  if (max) return metric + " <= " + FormatFigure(*max);
  if (min) return metric + " >= " + FormatFigure(*min);
  return metric;
}

std::optional<Decision> DecisionOf(const std::vector<CompareCell>& cells) {
  bool any = std::any_of(cells.begin(), cells.end(), [](const CompareCell& c) {
    return std::any_of(c.runs.begin(), c.runs.end(),
                       [](const CompareRun& r) { return !r.result.expectations.empty(); });
  });
  if (!any) return std::nullopt;
  Decision d;
  std::vector<size_t> runs;
  for (const CompareCell& c : cells) {
    d.cells.push_back(VerdictOf(c));
    runs.push_back(c.runs.size());
  }
  std::vector<size_t> passing = PassingByCost(d.cells);
  if (!passing.empty() && d.cells[passing[0]].cost_per_month_usd) d.cheapest = passing[0];
  if (d.cheapest && passing.size() > 1 && d.cells[passing[1]].cost_per_month_usd) {
    d.runner_up = passing[1];
    double cheap = *d.cells[passing[0]].cost_per_month_usd;
    if (cheap > 0) d.ratio = *d.cells[passing[1]].cost_per_month_usd / cheap;
  }
  Conclude(d, passing, runs);
  return d;
}

}  // namespace edgebench::compare_internal

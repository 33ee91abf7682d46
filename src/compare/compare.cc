// CompareCells(): each cell's medians and intervals, and the difference of two cells in words.
#include "edgebench/compare/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "compare/internal.h"

namespace edgebench {
namespace {

using namespace compare_internal;  // NOLINT(google-build-using-namespace)

constexpr Metric kCompareMetrics[] = {
    Metric::kLatencyP50Ms,        Metric::kLatencyP99Ms,    Metric::kReceivedPerS,
    Metric::kLossRatio,           Metric::kWorkerCpuPct,    Metric::kBrokerCpuPct,
    Metric::kWireBytesPerMessage, Metric::kCostPerMonthUsd,
};

BootstrapOptions BootstrapOf(const CompareOptions& o) {
  return {o.confidence, o.resamples, o.seed};
}

// "p=0.008", "p<0.001": two significant digits are all a p-value of a few runs supports.
std::string PValueText(double p) {
  if (p < 0.001) return "p<0.001";
  char buf[32];
  std::snprintf(buf, sizeof buf, "p=%.2g", p);
  return buf;
}

std::string ConfidenceText(double confidence) { return FormatFigure(confidence * 100) + "% CI"; }

// "(95% CI 7.6..8.7, 5 vs 5 runs; Mann-Whitney U p=0.008, exact)": the interval turned to
// the direction the sentence states, so "8.1 ms lower (95% CI 7.6..8.7" reads naturally.
std::string Evidence(const MetricDifference& d, double delta, double confidence) {
  std::string runs = std::to_string(d.n_a) + " vs " + std::to_string(d.n_b) + " runs";
  std::string text = "(";
  if (d.difference) {
    double lo = delta >= 0 ? d.difference->lo : -d.difference->hi;
    double hi = delta >= 0 ? d.difference->hi : -d.difference->lo;
    text +=
        ConfidenceText(confidence) + " " + FormatFigure(lo) + ".." + FormatFigure(hi) + ", " + runs;
    if (lo <= 0) text += ", which includes no difference";
  } else {
    text += runs + ": repeats are needed for an interval";
  }
  if (d.test) {
    text += "; Mann-Whitney U " + PValueText(d.test->p_two_sided) +
            (d.test->exact ? ", exact" : ", normal approximation");
  }
  return text + ")";
}

std::string DifferenceSentence(const MetricDifference& d, const std::string& a,
                               const std::string& b, double confidence) {
  const MetricInfo& info = InfoOf(d.metric);
  std::string label(info.label);
  if (!d.median_a && !d.median_b) return "";
  if (!d.median_a || !d.median_b) {
    return label + ": only " + (d.median_a ? a : b) + " measured it";
  }
  double delta = *d.median_b - *d.median_a;
  if (delta == 0) {
    return b + " " + label + " is the same as " + a + "'s, " + ValueText(*d.median_a, info) + " " +
           Evidence(d, delta, confidence);
  }
  return b + " " + label + " is " + WithUnit(std::fabs(delta), info) +
         (delta > 0 ? " higher" : " lower") + " than " + a + " " + Evidence(d, delta, confidence);
}

// The figures of one run's latency distribution at `percentile` (100: the maximum), in ms.
double LatencyAtMs(const RunResult& r, double percentile) {
  const Distribution& d = r.latency_us;
  if (d.histogram) return static_cast<double>(d.histogram->ValueAtPercentile(percentile)) / 1000;
  const LatencySummary& s = d.summary;
  int64_t us = percentile <= 50     ? s.p50
               : percentile <= 90   ? s.p90
               : percentile <= 99   ? s.p99
               : percentile <= 99.9 ? s.p999
                                    : s.max;
  return static_cast<double>(us) / 1000;
}

std::string PercentileName(double percentile) {
  return percentile >= 100 ? "max" : "p" + FormatFigure(percentile);
}

DistributionComparison CompareDistributions(const RunResult& a, const RunResult& b,
                                            const std::string& la, const std::string& lb) {
  DistributionComparison dc;
  dc.count_a = a.latency_us.summary.count;
  dc.count_b = b.latency_us.summary.count;
  std::string parts;
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    PercentilePair pair{p, LatencyAtMs(a, p), LatencyAtMs(b, p)};
    dc.percentiles.push_back(pair);
    double delta = pair.b_ms - pair.a_ms;
    parts += parts.empty() ? "" : ", ";
    parts += delta == 0
                 ? "the same"
                 : FormatFigure(std::fabs(delta)) + " ms " + (delta > 0 ? "higher" : "lower");
    parts += " at " + PercentileName(p);
  }
  dc.sentence = "One run on each side: in their own latency distributions (" +
                std::to_string(dc.count_a) + " messages of " + la + ", " +
                std::to_string(dc.count_b) + " of " + lb + "), " + lb + " is " + parts + " than " +
                la + "; repeats are needed for an interval.";
  return dc;
}

// Two loose runs of one scenario: compared run against run, each its own cell.
void SplitTwoLooseRuns(std::vector<CompareCell>& cells, std::vector<std::string>& notes) {
  if (cells.size() != 1 || !cells[0].id.empty() || cells[0].runs.size() != 2) return;
  CompareCell one = std::move(cells[0]);
  cells.clear();
  for (CompareRun& run : one.runs) {
    std::string name = std::filesystem::path(run.dir).lexically_normal().filename().string();
    if (!cells.empty() && cells[0].label == name) name = run.dir;
    cells.push_back(CompareCell{name, "", one.scenario, {}, {std::move(run)}});
  }
  notes.push_back("both runs are scenario " + one.scenario + " with the same values: run " +
                  cells[1].label + " against run " + cells[0].label);
}

}  // namespace

namespace compare_internal {

std::vector<double> ValuesOf(const CompareCell& cell, Metric metric) {
  std::vector<double> values;
  for (const CompareRun& run : cell.runs) {
    if (std::optional<double> v = MetricValue(run.result, metric)) values.push_back(*v);
  }
  return values;
}

std::string WithUnit(double value, const MetricInfo& info) {
  std::string unit(info.unit);
  if (unit.empty()) return FormatFigure(value);
  if (unit == "%") return FormatFigure(value) + " percentage points";
  if (unit == "USD" || unit == "EUR") return unit + " " + FormatFigure(value);
  return FormatFigure(value) + " " + unit;
}

std::string ValueText(double value, const MetricInfo& info) {
  if (info.unit == "%") return FormatFigure(value) + "%";
  return WithUnit(value, info);
}

Difference DifferenceOf(const CompareCell& a, const CompareCell& b, const CompareOptions& o) {
  Difference diff{a.label, b.label, {}, std::nullopt};
  for (Metric m : CompareMetrics()) {
    std::vector<double> va = ValuesOf(a, m);
    std::vector<double> vb = ValuesOf(b, m);
    MetricDifference d;
    d.metric = m;
    d.n_a = va.size();
    d.n_b = vb.size();
    d.median_a = Median(va);
    d.median_b = Median(vb);
    d.difference = BootstrapDifferenceOfMedians(va, vb, BootstrapOf(o));
    // With one run on a side the test's smallest possible p is 2/(n+1): it cannot tell.
    if (va.size() >= 2 && vb.size() >= 2) d.test = MannWhitneyU(vb, va);
    d.sentence = DifferenceSentence(d, a.label, b.label, o.confidence);
    diff.metrics.push_back(std::move(d));
  }
  if (a.runs.size() == 1 && b.runs.size() == 1) {
    diff.distributions = CompareDistributions(a.runs[0].result, b.runs[0].result, a.label, b.label);
  }
  return diff;
}

}  // namespace compare_internal

std::span<const Metric> CompareMetrics() { return kCompareMetrics; }

std::string FormatFigure(std::optional<double> value) {
  if (!value) return "-";
  double v = *value;
  char buf[64];
  if (std::fabs(v) >= 1000 || v == 0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  int decimals = std::max(0, 3 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string text = buf;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

Comparison CompareCells(LoadedCells loaded, const CompareOptions& options) {
  Comparison c;
  c.notes = std::move(loaded.notes);
  SplitTwoLooseRuns(loaded.cells, c.notes);
  c.keys = std::move(loaded.keys);
  c.confidence = options.confidence;
  c.seed = options.seed;
  for (const CompareCell& cell : loaded.cells) {
    CellSummary s{cell.label, cell.runs.size(), {}};
    for (Metric m : CompareMetrics()) {
      std::vector<double> values = ValuesOf(cell, m);
      std::optional<double> median = Median(values);
      std::optional<Interval> interval = BootstrapMedianInterval(values, BootstrapOf(options));
      s.metrics.push_back(MetricSummary{m, std::move(values), median, interval});
    }
    c.summaries.push_back(std::move(s));
  }
  if (loaded.search) {
    // A search's cells are its steps: its answer is the search's, not the cheapest step's.
    c.search = SearchCurvesOf(*loaded.search, loaded.cells, options);
  } else {
    if (loaded.cells.size() == 2) {
      c.difference = DifferenceOf(loaded.cells[0], loaded.cells[1], options);
    }
    c.decision = DecisionOf(loaded.cells);
  }
  c.cells = std::move(loaded.cells);
  return c;
}

Result<Comparison> Compare(const std::vector<std::string>& paths, const CompareOptions& options) {
  Result<LoadedCells> loaded = LoadCells(paths, options);
  if (!loaded.ok()) return loaded.error();
  return CompareCells(std::move(*loaded), options);
}

}  // namespace edgebench

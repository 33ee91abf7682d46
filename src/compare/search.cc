// A search as compare shows it: each searched group's steps in value order with their
// figures and verdicts, its answer, and one sentence that compares the groups' answers.
#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compare/internal.h"

namespace edgebench::compare_internal {
namespace {

// The figures every step shows; each threshold's metric is added after them.
constexpr Metric kSearchMetrics[] = {Metric::kLatencyP50Ms, Metric::kLatencyP99Ms,
                                     Metric::kReceivedPerS, Metric::kBrokerCpuPct};

// The unit of the searched key's values, as a sentence says it (the keys `search:` takes).
std::string KeyUnit(const std::string& key) {
  if (key == "publish.rate") return "msg/s per device";
  if (key == "devices.count") return "devices";
  if (key == "publish.payload.size") return "bytes";
  return "";
}

const CompareCell* CellWithId(const std::vector<CompareCell>& cells, const std::string& id) {
  for (const CompareCell& c : cells) {
    if (c.id == id && !c.runs.empty()) return &c;
  }
  return nullptr;
}

// The first loaded run of any of the group's steps, for what its scenario says.
const CompareRun* FirstRun(const SearchGroup& g, const std::vector<CompareCell>& cells) {
  for (const SearchResultStep& s : g.steps) {
    if (const CompareCell* c = CellWithId(cells, s.cell)) return &c->runs[0];
  }
  return nullptr;
}

// The thresholds every step was held to, typed: the `expect:` of the steps' scenarios.
std::vector<Threshold> ThresholdsOf(const SearchResult& search,
                                    const std::vector<CompareCell>& cells) {
  std::vector<Threshold> out;
  for (const SearchGroup& g : search.groups) {
    const CompareRun* run = FirstRun(g, cells);
    if (run == nullptr) continue;
    for (const ExpectSpec& e : run->scenario.expect) out.push_back({e.metric, e.min, e.max});
    break;
  }
  return out;
}

std::vector<Metric> MetricsOf(const std::vector<Threshold>& thresholds) {
  std::vector<Metric> metrics(std::begin(kSearchMetrics), std::end(kSearchMetrics));
  for (const Threshold& t : thresholds) {
    std::optional<Metric> m = MetricNamed(t.metric);
    if (m && std::find(metrics.begin(), metrics.end(), *m) == metrics.end()) metrics.push_back(*m);
  }
  return metrics;
}

SearchStepSummary StepOf(const SearchResultStep& s, const std::vector<CompareCell>& cells,
                         const std::vector<Metric>& metrics, const CompareOptions& o) {
  SearchStepSummary step{s.value, s.cell, s.verdict, s.runs, s.holds, {}};
  const CompareCell* cell = CellWithId(cells, s.cell);
  for (Metric m : metrics) {
    std::vector<double> values = cell ? ValuesOf(*cell, m) : std::vector<double>();
    std::optional<double> median = Median(values);
    std::optional<Interval> interval =
        BootstrapMedianInterval(values, BootstrapOptions{o.confidence, o.resamples, o.seed});
    step.metrics.push_back(MetricSummary{m, std::move(values), median, interval});
  }
  return step;
}

SearchCurve CurveOf(const SearchResult& search, const SearchGroup& g,
                    const std::vector<CompareCell>& cells, const std::vector<Metric>& metrics,
                    const CompareOptions& o) {
  SearchCurve curve{"",          g.id,    g.values,      {},
                    g.holds,     g.fails, g.stop_reason, DescribeAnswer(search, g),
                    std::nullopt};
  const CompareRun* run = FirstRun(g, cells);
  if (g.values.empty()) {
    curve.label = run ? run->scenario.name : g.id;
  } else {
    curve.label = LabelOfValues(g.values);
  }
  if (run && run->scenario.broker.resources.limited && run->scenario.broker.resources.cpus > 0) {
    curve.broker_cpus = run->scenario.broker.resources.cpus;
  }
  for (const SearchResultStep& s : g.steps) curve.steps.push_back(StepOf(s, cells, metrics, o));
  std::stable_sort(
      curve.steps.begin(), curve.steps.end(),
      [](const SearchStepSummary& a, const SearchStepSummary& b) { return a.value < b.value; });
  return curve;
}

// Two groups of one label (not from one matrix) are told apart by their ids.
void UniqueLabels(std::vector<SearchCurve>& groups) {
  std::map<std::string, int> uses;
  for (const SearchCurve& g : groups) ++uses[g.label];
  for (SearchCurve& g : groups) {
    if (uses[g.label] > 1) g.label += " (" + g.id + ")";
  }
}

// "latency_p99_ms max 30 and loss_ratio max 0".
std::string JoinThresholds(const std::vector<std::string>& expect) {
  std::string text;
  for (size_t i = 0; i < expect.size(); ++i) {
    text += i == 0 ? "" : i + 1 == expect.size() ? " and " : ", ";
    text += expect[i];
  }
  return text;
}

// "Search of publish.rate from 25 to 800 msg/s per device, 1 run per step; a step holds
// when every run meets latency_p99_ms max 30 and loss_ratio max 0."
std::string Heading(const SearchCurves& s) {
  std::string text = "Search of " + s.key + " from " + FormatSearchValue(s.from) + " to " +
                     FormatSearchValue(s.to) + (s.unit.empty() ? "" : " " + s.unit) + ", " +
                     std::to_string(s.repeat) + (s.repeat == 1 ? " run" : " runs") + " per step";
  if (s.expect.empty()) return text + "; no thresholds.";
  return text + "; a step holds when every run meets " + JoinThresholds(s.expect) + ".";
}

// "cloud holds up to 300 msg/s per device" (the first), "edge up to 75" (the next ones).
std::string HeldClause(const SearchCurve& g, const std::string& unit, bool first) {
  std::string text = g.label + (first ? " holds " : " ");
  text += g.stop_reason == "range_holds" ? "across the whole range up to " : "up to ";
  text += FormatSearchValue(*g.holds);
  if (first && !unit.empty()) text += " " + unit;
  if (g.stop_reason.empty()) text += " so far";
  return text;
}

// "cloud has no answer: not even 25, where the search starts, held in every run".
std::string NoAnswerClause(const SearchCurve& g, double from) {
  if (g.stop_reason == "from_fails") {
    return g.label + " has no answer: not even " + FormatSearchValue(g.fails.value_or(from)) +
           ", where the search starts, held in every run";
  }
  return g.label + " has no answer: " + g.answer;
}

// How the best group compares with the least one, or with a group that held nothing:
// ": cloud carries 4x the publish.rate of edge", ", so edge carries more than 2x ...".
std::string Conclusion(const SearchCurves& s, const std::vector<const SearchCurve*>& answered,
                       const std::vector<const SearchCurve*>& unanswered) {
  const SearchCurve& top = *answered.front();
  if (answered.size() == 1) {
    for (const SearchCurve* u : unanswered) {
      if (u->stop_reason != "from_fails") continue;
      // u's limit lies below its first value, top's at or above what it held.
      double ratio = *top.holds / u->fails.value_or(s.from);
      return ", so " + top.label + " carries more than " + FormatFigure(ratio) + "x the " + s.key +
             " of " + u->label;
    }
    return "";
  }
  const SearchCurve& low = *answered.back();
  if (*top.holds == *low.holds) {
    return std::string(": ") + (answered.size() == 2 ? "both" : "all") + " carry the same " +
           s.key + " within the thresholds, as far as the search resolves";
  }
  // A group without a failing value above it may hold more than it showed.
  bool at_least = !top.fails && low.fails;
  std::string text = ": " + top.label + " carries " + (at_least ? "at least " : "") +
                     FormatFigure(*top.holds / *low.holds) + "x the " + s.key + " of " + low.label;
  if (!low.fails) {
    text += " (" + low.label + " was not tried above " + FormatSearchValue(*low.holds) +
            ", so it may carry more)";
  }
  return text;
}

// The groups' answers in one sentence; "" with fewer than two groups.
std::string CompareAnswers(const SearchCurves& s) {
  if (s.groups.size() < 2) return "";
  std::vector<const SearchCurve*> answered;
  std::vector<const SearchCurve*> unanswered;
  for (const SearchCurve& g : s.groups) (g.holds ? answered : unanswered).push_back(&g);
  std::string text;
  if (answered.empty()) {
    text = "No group holds at any value tried";
    for (const SearchCurve* u : unanswered) text += "; " + NoAnswerClause(*u, s.from);
    return text + ".";
  }
  std::stable_sort(
      answered.begin(), answered.end(),
      [](const SearchCurve* a, const SearchCurve* b) { return *a->holds > *b->holds; });
  for (size_t i = 0; i < answered.size(); ++i) {
    text += i == 0 ? "" : i + 1 == answered.size() ? " and " : ", ";
    text += HeldClause(*answered[i], s.unit, i == 0);
  }
  text += " (the highest " + s.key + " at which every run met every threshold)";
  for (const SearchCurve* u : unanswered) text += "; " + NoAnswerClause(*u, s.from);
  return text + Conclusion(s, answered, unanswered) + ".";
}

}  // namespace

SearchCurves SearchCurvesOf(const SearchResult& search, const std::vector<CompareCell>& cells,
                            const CompareOptions& options) {
  SearchCurves out;
  out.key = search.key;
  out.unit = KeyUnit(search.key);
  out.from = search.from;
  out.to = search.to;
  out.repeat = search.repeat;
  out.expect = search.expect;
  out.thresholds = ThresholdsOf(search, cells);
  out.metrics = MetricsOf(out.thresholds);
  out.heading = Heading(out);
  for (const SearchGroup& g : search.groups) {
    out.groups.push_back(CurveOf(search, g, cells, out.metrics, options));
  }
  UniqueLabels(out.groups);
  out.sentence = CompareAnswers(out);
  return out;
}

}  // namespace edgebench::compare_internal

// The search's charts: each step's latency, delivered msg/s and broker CPU against the
// searched key, one line per group, its points marked by verdict, the thresholds as
// horizontal lines and each group's answer as a labelled vertical one.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/internal.h"

namespace edgebench::report_internal {
namespace {

// One colour per group (Okabe and Ito's, which colour-blind readers tell apart).
constexpr const char* kGroupColors[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                        "#e69f00", "#56b4e9", "#000000"};
constexpr const char* kThresholdColor = "#b3261e";

std::string ColorOf(size_t group) {
  return "rgb " + Quote(kGroupColors[group % std::size(kGroupColors)]);
}

// gnuplot point types: holds a filled circle, fails an open one, mixed an open triangle.
int PointType(const std::string& verdict) {
  if (verdict == "holds") return 7;
  if (verdict == "mixed") return 8;
  return 6;
}

std::optional<double> StepMedian(const SearchStepSummary& step, Metric metric) {
  for (const MetricSummary& m : step.metrics) {
    if (m.metric == metric) return m.median;
  }
  return std::nullopt;
}

// The x axis: the search's whole range, so that a chart shows how far each group got.
struct KeyAxis {
  double lo = 0;
  double hi = 1;
  bool log = false;  // base 2, when to/from >= 8: the search doubles from `from`
};

KeyAxis AxisOf(const SearchCurves& s) {
  if (s.from > 0 && s.to / s.from >= 8) return {s.from / 1.15, s.to * 1.15, true};
  double pad = (s.to - s.from) * 0.05;
  return {s.from - pad, s.to + pad, false};
}

// Where `x` lies across the axis, 0 (left) to 1 (right).
double Fraction(const KeyAxis& a, double x) {
  return a.log ? std::log(x / a.lo) / std::log(a.hi / a.lo) : (x - a.lo) / (a.hi - a.lo);
}

void SetKeyAxis(const SearchCurves& s, const KeyAxis& a, ScriptBuilder& out) {
  std::string text = "set xrange [" + Num(a.lo) + ":" + Num(a.hi) + "]";
  if (a.log) {
    // Tics at from, 2 from, 4 from, ...: the values the search doubles through; and at `to`.
    std::string tics;
    double last = s.from;
    for (double v = s.from; v <= s.to * (1 + 1e-9); v *= 2) {
      tics += (tics.empty() ? "" : ", ") + Quote(FormatSearchValue(v)) + " " + Num(v);
      last = v;
    }
    if (last < s.to / 1.4) tics += ", " + Quote(FormatSearchValue(s.to)) + " " + Num(s.to);
    text += "\nset logscale x 2\nset xtics (" + tics + ")";
  }
  std::string label = s.key + (s.unit.empty() ? "" : " (" + s.unit + ")");
  // Fixed margins: the three charts' plots line up, whatever their keys hold.
  out.Line(text + "\nset xlabel " + Quote(label + (a.log ? ", log scale" : "")) +
           "\nset key outside right top\nset lmargin 10\nset rmargin at screen 0.72");
}

std::string AnswerLabel(const SearchCurve& g) {
  if (!g.holds) {
    return g.label + (g.stop_reason == "from_fails" ? ": nothing held" : ": no answer yet");
  }
  return g.label + " holds up to " + FormatSearchValue(*g.holds) +
         (g.stop_reason == "range_holds" ? " (the whole range)"
          : g.stop_reason.empty()        ? " so far"
                                         : "");
}

// Each group's answer: a dotted vertical line at the value it holds up to, labelled in the
// group's colour; a group that held nothing gets the label only.
void MarkAnswers(const SearchCurves& s, const KeyAxis& a, ScriptBuilder& out) {
  for (size_t i = 0; i < s.groups.size(); ++i) {
    const SearchCurve& g = s.groups[i];
    std::string y = "graph " + Num(0.95 - 0.07 * static_cast<double>(i));
    std::string colour = " tc " + ColorOf(i) + " front";
    if (!g.holds) {
      out.Line("set label " + Quote(AnswerLabel(g)) + " at graph 0.02, " + y + " left" + colour);
      continue;
    }
    std::string x = "first " + Num(*g.holds);
    out.Line("set arrow from " + x + ", graph 0 to " + x + ", graph 1 nohead dt 3 lw 1.5 lc " +
             ColorOf(i) + " back");
    bool right = Fraction(a, *g.holds) > 0.6;  // keep the text inside the plot
    out.Line("set label " + Quote(AnswerLabel(g)) + " at " + x + ", " + y +
             (right ? " right offset -0.5,0" : " left offset 0.5,0") + colour);
  }
}

// A horizontal line for each bound of each threshold on one of `metrics`, titled as
// search.json writes it ("latency_p99_ms max 30").
std::vector<std::string> ThresholdPlots(const SearchCurves& s, const std::vector<Metric>& metrics,
                                        bool log_y) {
  std::vector<std::string> plots;
  for (const Threshold& t : s.thresholds) {
    std::optional<Metric> m = MetricNamed(t.metric);
    if (!m || std::find(metrics.begin(), metrics.end(), *m) == metrics.end()) continue;
    for (const auto& [bound, word] : {std::pair{t.min, "min"}, std::pair{t.max, "max"}}) {
      if (!bound || (log_y && *bound <= 0)) continue;
      plots.push_back(Num(*bound) + " with lines dt 2 lw 1.5 lc rgb " + Quote(kThresholdColor) +
                      " title " + Quote(t.metric + " " + word + " " + FormatSearchValue(*bound)));
    }
  }
  return plots;
}

// Key entries for the verdicts the steps have, in the order holds, mixed, fails.
std::vector<std::string> VerdictKey(const SearchCurves& s) {
  std::vector<std::string> plots;
  const std::pair<const char*, const char*> verdicts[] = {{"holds", "holds: every run held"},
                                                          {"mixed", "mixed: some runs held"},
                                                          {"fails", "fails: no run held"}};
  for (const auto& entry : verdicts) {
    const std::string verdict = entry.first;
    bool any = std::any_of(s.groups.begin(), s.groups.end(), [&](const SearchCurve& g) {
      return std::any_of(g.steps.begin(), g.steps.end(),
                         [&](const SearchStepSummary& st) { return st.verdict == verdict; });
    });
    if (any) {
      plots.push_back("keyentry with points pt " + std::to_string(PointType(verdict)) +
                      " ps 1.3 lc rgb '#000000' title " + Quote(entry.second));
    }
  }
  return plots;
}

// What one chart draws: a line per group for each series (the first solid, the next
// dashed), and the lines that go with them (thresholds, quotas).
struct SearchChart {
  std::string id;
  std::string title;
  std::string caption;
  std::string ylabel;
  std::vector<std::pair<Metric, std::string>> series;  // metric, its name in the key ("p99")
  bool may_log_y = false;  // log y when the values span more than a factor of 20
  std::vector<std::string> extra_plots;
};

// A group's steps as rows "value figure... point-type"; "" when no step has a figure.
std::string GroupRows(const SearchCurve& g, const SearchChart& chart, bool log_y) {
  std::string rows;
  bool any = false;
  for (const SearchStepSummary& step : g.steps) {
    rows += Num(step.value);
    for (const auto& [metric, name] : chart.series) {
      std::optional<double> v = StepMedian(step, metric);
      bool drawable = v && (!log_y || *v > 0);
      rows += " " + (drawable ? Num(*v) : std::string("?"));
      any = any || drawable;
    }
    rows += " " + std::to_string(PointType(step.verdict)) + "\n";
  }
  return any ? rows : "";
}

bool WantLogY(const SearchCurves& s, const SearchChart& chart) {
  double lowest = INFINITY;
  double highest = 0;
  for (const SearchCurve& g : s.groups) {
    for (const SearchStepSummary& step : g.steps) {
      for (const auto& [metric, name] : chart.series) {
        std::optional<double> v = StepMedian(step, metric);
        if (!v || *v <= 0) continue;
        lowest = std::min(lowest, *v);
        highest = std::max(highest, *v);
      }
    }
  }
  return chart.may_log_y && std::isfinite(lowest) && highest / lowest > 20;
}

void DrawSearchChart(const SearchCurves& s, const SearchChart& chart, ScriptBuilder& out) {
  bool log_y = WantLogY(s, chart);
  std::vector<std::string> blocks;
  bool any = false;
  for (const SearchCurve& g : s.groups) {
    blocks.push_back(GroupRows(g, chart, log_y));
    any = any || !blocks.back().empty();
  }
  if (!any) {
    out.Note("no step of the search measured " + std::string(InfoOf(chart.series[0].first).label) +
             ", so there is no " + chart.id + " chart");
    return;
  }
  out.BeginChart(chart.id, chart.title, chart.caption, 900, 460);
  out.MarkSearch();
  KeyAxis axis = AxisOf(s);
  SetKeyAxis(s, axis, out);
  out.Line("set ylabel " + Quote(chart.ylabel + (log_y ? ", log scale" : "")) +
           (log_y ? "\nset logscale y" : "\nset yrange [0:*]\nset offsets 0, 0, graph 0.12, 0"));
  MarkAnswers(s, axis, out);
  std::vector<std::string> plots;
  for (size_t i = 0; i < s.groups.size(); ++i) {
    if (blocks[i].empty()) continue;
    std::string block = out.AddBlock(blocks[i]);
    std::string pt_column = std::to_string(chart.series.size() + 2);
    for (size_t k = 0; k < chart.series.size(); ++k) {
      const std::string& name = chart.series[k].second;
      plots.push_back(block + " using 1:" + std::to_string(k + 2) + ":" + pt_column +
                      " with linespoints pt variable ps " + (k == 0 ? "1.3 lw 2" : "1 lw 1.5") +
                      " dt " + (k == 0 ? "1" : "2") + " lc " + ColorOf(i) + " title " +
                      Quote(s.groups[i].label + (name.empty() ? "" : " " + name)));
    }
  }
  std::vector<Metric> metrics;
  for (const auto& [metric, name] : chart.series) metrics.push_back(metric);
  for (const std::string& p : ThresholdPlots(s, metrics, log_y)) plots.push_back(p);
  for (const std::string& p : chart.extra_plots) plots.push_back(p);
  for (const std::string& p : VerdictKey(s)) plots.push_back(p);
  std::string plot = "plot ";
  for (size_t i = 0; i < plots.size(); ++i) plot += (i ? ", " : "") + plots[i];
  out.Line(plot);
}

// Each group's broker CPU quota (broker.resources.cpus) as a line on the CPU chart.
std::vector<std::string> QuotaPlots(const SearchCurves& s) {
  std::vector<std::string> plots;
  for (size_t i = 0; i < s.groups.size(); ++i) {
    const std::optional<double>& cpus = s.groups[i].broker_cpus;
    if (!cpus) continue;
    plots.push_back(Num(*cpus * 100) + " with lines dt 4 lw 1.5 lc " + ColorOf(i) + " title " +
                    Quote(s.groups[i].label + " broker quota " + FormatFigure(*cpus) + " CPU"));
  }
  return plots;
}

constexpr const char* kHowToRead =
    " Filled circles: steps that held every threshold in every run; open circles: steps that "
    "failed; open triangles: steps that held in only some runs. The dotted vertical line is "
    "each group's answer, the highest value that held in every run.";

}  // namespace

void AddSearchCharts(const SearchCurves& s, ScriptBuilder& out) {
  std::string against = " against " + s.key;
  DrawSearchChart(
      s,
      {"search-latency",
       "Latency" + against + " (median of each step's runs)",
       "One line per group through its steps in value order: solid, the p99 latency of the "
       "step (the median over its runs); dashed, its p50. The red dashed lines are the latency "
       "thresholds of expect:." +
           std::string(kHowToRead),
       "latency (ms)",
       {{Metric::kLatencyP99Ms, "p99"}, {Metric::kLatencyP50Ms, "p50"}},
       true,
       {}},
      out);
  DrawSearchChart(s,
                  {"search-delivered",
                   "Delivered msg/s" + against,
                   "Messages the subscriber received per second of the measured window, the "
                   "median over each step's runs. While the placement keeps up the line climbs "
                   "with the load; where it flattens, the rest queues or is lost." +
                       std::string(kHowToRead),
                   "delivered msg/s",
                   {{Metric::kReceivedPerS, ""}},
                   false,
                   {}},
                  out);
  DrawSearchChart(s,
                  {"search-cpu",
                   "Broker CPU" + against,
                   "The broker's CPU in percent of one core (100% is one full core), the median "
                   "over each step's runs; a dash-dotted line in a group's colour is its broker's "
                   "CPU quota (broker.resources.cpus), the ceiling it cannot pass." +
                       std::string(kHowToRead),
                   "broker CPU (% of one core)",
                   {{Metric::kBrokerCpuPct, ""}},
                   false,
                   QuotaPlots(s)},
                  out);
}

}  // namespace edgebench::report_internal

// Report: one self-contained HTML page of a Comparison: compare's tables, the charts drawn
// by gnuplot, and each run's scenario.yaml and manifest.json.
//
// Contract: the page makes no network request when opened: the CSS is inline, every chart is
// an inline <svg> that gnuplot wrote (no script, font, image or link to anything outside).
// The charts come from one gnuplot process (`set terminal svg`) started as a child in a
// temporary directory that is removed afterwards; no SVG geometry is written here. Without
// gnuplot (not found, or ReportOptions::gnuplot empty) the page has every table and says how
// to get the charts; a gnuplot that fails gives the same page with its error, and a warning.
// RenderReport() reads only each run's DIR/scenario.yaml and DIR/manifest.json (shown as
// text, never parsed) besides running gnuplot. The other functions are pure. docs/report.md
// says what each chart shows. Not thread-safe (it starts a child process: call it from the
// main thread).
#ifndef EDGEBENCH_REPORT_REPORT_H_
#define EDGEBENCH_REPORT_REPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/compare/compare.h"
#include "edgebench/results/histogram.h"

namespace edgebench {

struct ReportOptions {
  std::string title = "edgebench report";
  // The gnuplot program, looked up in PATH when it has no '/'; "" draws no charts.
  std::string gnuplot = "gnuplot";
  int gnuplot_timeout_ms = 120'000;
};

struct Report {
  std::string html;
  std::vector<std::string> charts;  // the id of each chart in the page, in page order
  // Why charts are missing ("gnuplot not found ...", "gnuplot exited with status 1: ...");
  // each is also shown in the page.
  std::vector<std::string> warnings;
};

// The whole page. Errors: none from gnuplot (see Report::warnings); a temporary directory
// that cannot be made or written ("cannot write /tmp/...: No space left on device").
Result<Report> RenderReport(const Comparison& comparison, const ReportOptions& options = {});

// One point of a percentile distribution: `percentile` (0..100) and its value.
struct PercentilePoint {
  double percentile = 0;
  double inverse_tail = 1;  // 1 / (1 - percentile/100): the HdrHistogram plot's x
  double value_ms = 0;
};

// The distribution of `histogram` (in microseconds) at log-spaced percentiles:
// `points_per_decade` points per factor of 10 in 1/(1-p), from p = 0 (the minimum) up to
// 1/(1-p) = count, whose point is the maximum (the top 1/count of the messages is the
// largest one). Empty for an empty histogram.
std::vector<PercentilePoint> PercentileCurve(const LatencyHistogram& histogram,
                                             int points_per_decade = 20);

// The latency of every run of `cell` merged exactly (LatencyHistogram::Merge), or nullopt
// when no run has an exact histogram (format 1 runs, latency off).
std::optional<LatencyHistogram> MergedLatency(const CompareCell& cell);

// One chart: its id in the page ("latency", "timeline-1", ...), its title, and the SVG
// file gnuplot writes it to.
struct ChartSpec {
  std::string id;
  std::string title;
  std::string caption;  // how to read it, shown under the chart
  std::string file;     // "<out_dir>/<id>.svg"
  bool search = false;  // a search's chart ("search-..."), shown in the search's section
};

// What the charts of a comparison are and the gnuplot script that draws them all (one `set
// output` per chart, the data inline), plus notes on charts left out for lack of data ("no
// run captured packets: wire bytes per message need capture"). A search's charts come
// first: its steps' latency, delivered msg/s and broker CPU against the searched key, one
// line per group, points by verdict, the thresholds as horizontal lines and each group's
// answer as a labelled vertical one; its cells get no latency-by-percentile chart (one line
// per step would not read).
struct ChartPlan {
  std::vector<ChartSpec> charts;
  std::string script;
  std::vector<std::string> notes;
};
ChartPlan PlanCharts(const Comparison& comparison, const std::string& out_dir);

// gnuplot's SVG made fit for inlining in HTML: the XML prolog dropped and every id (and
// each reference to one) prefixed with `id_prefix`, so that several charts in one page do
// not share ids. The drawing itself is unchanged. Empty when `svg` has no <svg element.
std::string InlineSvg(std::string_view svg, std::string_view id_prefix);

// Text for HTML: & < > " ' escaped.
std::string HtmlEscape(std::string_view text);

}  // namespace edgebench

#endif  // EDGEBENCH_REPORT_REPORT_H_

// Tests for the report: the HdrHistogram curve, the merge of a cell's histograms, the chart
// plan and its data, the SVG inlining, and whole pages with gnuplot, without it and with a
// gnuplot that fails.
#include "edgebench/report/report.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"

#include "report/fixture_runs.h"
#include "test_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;

CompareCell FixtureCell(const std::string& label, testing::FixtureSpec spec, int runs,
                        const std::string& dir) {
  CompareCell cell;
  cell.label = label;
  cell.scenario = spec.scenario;
  cell.values = {{"network", label}};
  for (int i = 0; i < runs; ++i) {
    spec.seed = spec.seed * 31 + static_cast<uint64_t>(i);
    CompareRun run;
    run.dir = dir + "/" + label + "-" + std::to_string(i);
    run.result = testing::FixtureRun(spec);
    run.repeat = i;
    cell.runs.push_back(std::move(run));
  }
  return cell;
}

// Two cells of two runs each, with what compare would have summarised for the wire chart.
Comparison TwoCells(const std::string& dir = "/nonexistent") {
  Comparison c;
  testing::FixtureSpec edge;
  testing::FixtureSpec cloud;
  cloud.scenario = "cloud";
  cloud.rtt_ms = 20;
  cloud.cost_usd = 260;
  cloud.seed = 7;
  c.cells = {FixtureCell("edge-lan", edge, 2, dir), FixtureCell("cloud-near", cloud, 2, dir)};
  c.keys = {"network"};
  for (const CompareCell& cell : c.cells) {
    MetricSummary wire{Metric::kWireBytesPerMessage, {239, 241}, 240, Interval{239, 241}};
    c.summaries.push_back(CellSummary{cell.label, cell.runs.size(), {wire}});
  }
  return c;
}

std::vector<std::string> Ids(const ChartPlan& plan) {
  std::vector<std::string> ids;
  for (const ChartSpec& c : plan.charts) ids.push_back(c.id);
  return ids;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

TEST_CASE("the percentile curve: min, log-spaced percentiles, and max at 1/(1-p) = count",
          "[report]") {
  LatencyHistogram h;  // 1..1000 us once each: exact below 2048 with 3 digits
  for (int v = 1; v <= 1000; ++v) h.Record(v);
  std::vector<PercentilePoint> points = PercentileCurve(h, 1);
  REQUIRE(points.size() == 4);
  CHECK(points[0].percentile == 0);
  CHECK(points[0].inverse_tail == 1);
  CHECK(points[0].value_ms == Approx(0.001));
  CHECK(points[1].percentile == Approx(90));
  CHECK(points[1].inverse_tail == Approx(10));
  CHECK(points[1].value_ms == Approx(0.900));  // rank 900 of 1000
  CHECK(points[2].percentile == Approx(99));
  CHECK(points[2].value_ms == Approx(0.990));
  CHECK(points[3].percentile == Approx(99.9));
  CHECK(points[3].inverse_tail == 1000);
  CHECK(points[3].value_ms == Approx(1.000));
  CHECK(PercentileCurve(h, 20).size() == 61);  // 1 + 59 between 10^0.05 and 10^2.95 + max
  CHECK(PercentileCurve(LatencyHistogram(), 20).empty());
}

TEST_CASE("a cell's runs merge into one exact histogram", "[report]") {
  Comparison c = TwoCells();
  const CompareCell& cell = c.cells[0];
  std::optional<LatencyHistogram> merged = MergedLatency(cell);
  REQUIRE(merged);
  LatencyHistogram by_hand = *cell.runs[0].result.latency_us.histogram;
  by_hand.Merge(*cell.runs[1].result.latency_us.histogram);
  CHECK(merged->count() == 4000);  // 100 devices x 20 s, twice
  CHECK(merged->ToJson() == by_hand.ToJson());
  CompareCell format1 = cell;
  for (CompareRun& run : format1.runs) run.result.latency_us.histogram.reset();
  CHECK_FALSE(MergedLatency(format1));
}

TEST_CASE("the chart plan: one script, every chart, its data inline", "[report]") {
  Comparison c = TwoCells();
  ChartPlan plan = PlanCharts(c, "/tmp/x");
  CHECK(Ids(plan) == std::vector<std::string>{"latency", "wire", "cost", "timeline-1",
                                              "resources-1", "timeline-2", "resources-2"});
  CHECK(plan.notes.empty());
  CHECK(plan.charts[0].file == "/tmp/x/latency.svg");
  CHECK(Count(plan.script, "\nset output '/tmp/x/") == 7);
  CHECK(Count(plan.script, "set terminal svg") == 7);
  CHECK(plan.script.find("set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, "
                         "'99.99%%' 10000)") != std::string::npos);
  // The cloud cell's latency (10 ms and up) is more than 20x the edge's: log y.
  CHECK(plan.script.find("set logscale y") != std::string::npos);
  // Cost: the parts of each cell's median run (the lower of two), and their total.
  const CostResult& a = *c.cells[0].runs[0].result.cost;
  const CostResult& b = *c.cells[0].runs[1].result.cost;
  const CostResult& median = a.per_month <= b.per_month ? a : b;
  std::string row = "\"edge-lan\" " + Fmt(median.parts[0].amount_usd) + " " +
                    Fmt(median.parts[1].amount_usd) + " " +
                    Fmt(median.parts[0].amount_usd + median.parts[1].amount_usd) + "\n";
  CHECK(plan.script.find(row) != std::string::npos);
  CHECK(plan.script.find("\"cell\" \"fixture: messages\" \"fixture: connection_minutes\" "
                         "\"total\"\n") != std::string::npos);
  // Wire: median, interval and each run.
  CHECK(plan.script.find("0 \"edge-lan\" 240 239 241\n1 \"cloud-near\" 240 239 241\n") !=
        std::string::npos);
}

TEST_CASE("charts without data are left out, each with a note", "[report]") {
  Comparison c = TwoCells();
  c.cells.resize(1);
  c.summaries.clear();
  RunResult& only = c.cells[0].runs[0].result;
  c.cells[0].runs.resize(1);
  only.latency_us = Distribution{};
  only.timeline.clear();
  only.samples.clear();
  only.cost.reset();
  ChartPlan plan = PlanCharts(c, "/tmp/x");
  CHECK(plan.charts.empty());
  CHECK(plan.script.empty());
  CHECK(plan.notes ==
        std::vector<std::string>{
            "edge-lan: no latency distribution (latency off, or runs without exact histograms), "
            "so it is not in the latency chart",
            "no run captured packets, so there is no wire bytes chart (capture: {enabled: true} "
            "in the scenario measures them)",
            "no run has a cost, so there is no cost chart (cost: {sheet: NAME} in the scenario "
            "prices it with config/costs/NAME.yaml)",
            "edge-lan: no run has a per-second timeline", "edge-lan: no run has process samples"});
}

TEST_CASE("a format 1 run draws the summary's percentiles", "[report]") {
  Comparison c = TwoCells();
  c.cells.resize(1);
  c.cells[0].runs.resize(1);
  LatencySummary& s = c.cells[0].runs[0].result.latency_us.summary;
  c.cells[0].runs[0].result.latency_us.histogram.reset();
  s = LatencySummary{2000, 500, 900, 800, 1200, 2500, 4000, 9000};
  ChartPlan plan = PlanCharts(c, "/tmp/x");
  CHECK(plan.notes.front() ==
        "edge-lan: the latency chart shows only the summary's percentiles (the run has no exact "
        "histogram)");
  CHECK(plan.script.find("$d1 << EOD\n1 0.5\n2 0.8\n10 1.2\n100 2.5\n1000 4\n2000 9\nEOD\n") !=
        std::string::npos);
}

TEST_CASE("gnuplot's SVG inlined: no prolog, every id and reference prefixed", "[report]") {
  std::string svg =
      "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 10 10\">\n<g id=\"gnuplot_canvas\">"
      "<path id='gpPt1' d='M0,0'/><use xlink:href='#gpPt1' grid='x'/></g></svg>\n";
  CHECK(InlineSvg(svg, "latency-") ==
        "<svg viewBox=\"0 0 10 10\">\n<g id=\"latency-gnuplot_canvas\"><path id='latency-gpPt1' "
        "d='M0,0'/><use xlink:href='#latency-gpPt1' grid='x'/></g></svg>\n");
  CHECK(InlineSvg("no svg here", "x-").empty());
  CHECK(HtmlEscape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST_CASE("the page with gnuplot: every chart inline, nothing to fetch", "[report]") {
  if (!FindProgram("gnuplot")) {
    WARN("skipped: gnuplot is not installed (apt-get install gnuplot-nox)");
    return;
  }
  testing::TempDir tmp;
  Comparison c = TwoCells(tmp.path());
  fs::create_directories(c.cells[0].runs[0].dir);
  REQUIRE(WriteFile(c.cells[0].runs[0].dir + "/scenario.yaml", "name: edge <&>\n").ok());
  Result<Report> report = RenderReport(c);
  INFO((report.ok() ? std::string() : report.error().ToString()));
  REQUIRE(report.ok());
  CHECK(report->warnings.empty());
  CHECK(report->charts == std::vector<std::string>{"latency", "wire", "cost", "timeline-1",
                                                   "resources-1", "timeline-2", "resources-2"});
  const std::string& html = report->html;
  CHECK(Count(html, "<svg") == 7);
  CHECK(Count(html, "<figure class=\"chart\"") == 7);
  CHECK(Count(html, "id=\"latency-gnuplot_canvas\"") == 1);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find("<?xml") == std::string::npos);
  // The runs' files, as text: one that exists (escaped), one that does not.
  CHECK(html.find("<h4>scenario.yaml</h4>\n<pre>name: edge &lt;&amp;&gt;\n</pre>") !=
        std::string::npos);
  CHECK(html.find("<h4>manifest.json</h4>\n<pre>cannot read " + c.cells[0].runs[0].dir +
                  "/manifest.json: No such file or directory</pre>") != std::string::npos);
  CHECK(Count(html, "<details class=\"run\">") == 4);
}

TEST_CASE("the page without gnuplot has the tables and says how to get the charts", "[report]") {
  ReportOptions options;
  options.gnuplot = "/nonexistent/gnuplot";
  Result<Report> report = RenderReport(TwoCells(), options);
  REQUIRE(report.ok());
  CHECK(report->charts.empty());
  CHECK(report->warnings ==
        std::vector<std::string>{"gnuplot not found: the report has no charts (install "
                                 "gnuplot-nox)"});
  const std::string& html = report->html;
  CHECK(html.find("<p class=\"notice\">Charts are not drawn: gnuplot was not found. Install it "
                  "(Debian and Ubuntu: <code>apt-get install gnuplot-nox</code>) and run "
                  "<code>edgebench report</code> again.</p>") != std::string::npos);
  CHECK(html.find("<h2 id=\"cells\">Cells</h2>") != std::string::npos);
  CHECK(html.find("<td class=\"label\">cloud-near</td>") != std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
  CHECK(Count(html, "<details class=\"run\">") == 4);
}

TEST_CASE("a gnuplot that fails leaves the tables and says why", "[report]") {
  testing::TempDir tmp;
  std::string fake = tmp.File("gnuplot");
  REQUIRE(WriteFile(fake, "#!/bin/sh\necho 'line 3: unexpected thing' >&2\nexit 1\n").ok());
  fs::permissions(fake, fs::perms::owner_all);
  ReportOptions options;
  options.gnuplot = fake;
  Result<Report> report = RenderReport(TwoCells(), options);
  REQUIRE(report.ok());
  CHECK(report->charts.empty());
  CHECK(report->warnings == std::vector<std::string>{"gnuplot exited with status 1: line 3: "
                                                     "unexpected thing; the report has no "
                                                     "charts"});
  CHECK(report->html.find("<p class=\"notice\">Charts are not drawn: gnuplot exited with status "
                          "1: line 3: unexpected thing; the report has no charts.</p>") !=
        std::string::npos);
  CHECK(report->html.find("<h2 id=\"cells\">Cells</h2>") != std::string::npos);
}

TEST_CASE("a fixture run directory reads back as the run it was written from", "[report]") {
  testing::TempDir tmp;
  testing::FixtureSpec spec;
  spec.rtt_ms = 20;
  REQUIRE(testing::WriteFixtureRun(spec, tmp.path()).ok());
  Result<RunResult> back = ReadRunDirectory(tmp.path());
  INFO((back.ok() ? std::string() : back.error().ToString()));
  REQUIRE(back.ok());
  RunResult written = testing::FixtureRun(spec);
  CHECK(back->info == written.info);
  CHECK(back->counters == written.counters);
  CHECK(back->latency_us == written.latency_us);
  CHECK(back->timeline == written.timeline);
  CHECK(back->samples == written.samples);
  CHECK(back->capture == written.capture);
  CHECK(back->cost == written.cost);
  CHECK(back.value() == written);
  CHECK(testing::ReadText(tmp.File("scenario.yaml")).find("rtt_ms: 20") != std::string::npos);
}

TEST_CASE("the page's tables: the answer first, the cells, the difference", "[report]") {
  Comparison c = TwoCells();
  c.summaries[0].metrics.push_back(
      MetricSummary{Metric::kLatencyP99Ms, {4.2, 4.6}, 4.4, Interval{4.2, 4.6}});
  Decision d;
  d.sentences = {"edge-lan meets latency_p99_ms <= 50 with 46 ms to spare at USD 41/month."};
  ThresholdMargin p99{"latency_p99_ms", std::nullopt, 50.0, 2, 2, 4.6, 45.4, ""};
  ThresholdMargin loss{"loss_ratio", std::nullopt, 0.0, 2, 1, 0.002, -0.002, "above the maximum"};
  d.cells = {CellVerdict{"edge-lan", true, 41.0, {p99}},
             CellVerdict{"cloud-near", false, 262.0, {p99, loss}}};
  d.cheapest = 0;
  c.decision = d;
  Difference diff;
  diff.a = "edge-lan";
  diff.b = "cloud-near";
  MetricDifference md;
  md.metric = Metric::kLatencyP99Ms;
  md.sentence = "cloud-near latency p99 is 8.1 ms higher than edge-lan (95% CI 7.6..8.7)";
  diff.metrics = {md};
  c.difference = diff;
  ReportOptions options;
  options.gnuplot = "";
  Result<Report> report = RenderReport(c, options);
  REQUIRE(report.ok());
  const std::string& html = report->html;
  size_t answer = html.find("<h2>The answer</h2>");
  size_t cells = html.find("<h2 id=\"cells\">Cells</h2>");
  size_t difference = html.find("<h2 id=\"difference\">cloud-near against edge-lan</h2>");
  REQUIRE(answer != std::string::npos);
  CHECK(answer < cells);
  CHECK(cells < difference);
  CHECK(html.find("<p>edge-lan meets latency_p99_ms &lt;= 50 with 46 ms to spare at USD "
                  "41/month.</p>") != std::string::npos);
  CHECK(html.find("<tr><td class=\"label\" rowspan=\"2\">cloud-near</td><td rowspan=\"2\">"
                  "<span class=\"fail\">no</span></td><td rowspan=\"2\">262</td><td class=\""
                  "label\">latency_p99_ms &le; 50</td><td>2 of 2</td><td>4.6</td><td>45.4</td>"
                  "</tr>\n<tr><td class=\"label\">loss_ratio &le; 0</td><td><span class=\"fail\">"
                  "1 of 2</span></td><td>0.002</td><td>-0.002</td></tr>\n") != std::string::npos);
  // edge-lan in compare's column order: p50, p99 4.4 [4.2..4.6], received, loss, worker and
  // broker CPU, wire 240 [239..241], cost; "-" where not measured.
  CHECK(html.find("<tr><td class=\"label\">edge-lan</td><td class=\"label\">edge-lan</td>"
                  "<td>2</td><td>-</td><td>4.4<br><small>4.2..4.6</small></td><td>-</td><td>-"
                  "</td><td>-</td><td>-</td><td>240<br><small>239..241</small></td><td>-</td>"
                  "</tr>") != std::string::npos);
  CHECK(html.find("<li>cloud-near latency p99 is 8.1 ms higher than edge-lan (95% CI "
                  "7.6..8.7)</li>") != std::string::npos);
}

}  // namespace edgebench

// Tests for the report of a search: the chart plan (three charts against the searched key,
// first, with their thresholds, answers and verdict markers), and whole pages with gnuplot
// (the SVGs in the search's section, the threshold line and answer labels drawn) and
// without it.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/base/process.h"
#include "edgebench/compare/compare.h"
#include "edgebench/report/report.h"

#include "report/fixture_search.h"
#include "test_support.h"

namespace edgebench {
namespace {

using testing::EdgeAndCloudSearch;
using testing::FixtureSearch;
using testing::TempDir;

Comparison CompareSearch(const FixtureSearch& f, const TempDir& tmp) {
  Status st = testing::WriteFixtureSearch(f, tmp.File("set"));
  INFO((st.ok() ? std::string() : st.error().ToString()));
  REQUIRE(st.ok());
  Result<Comparison> c = Compare({tmp.File("set")}, CompareOptions{});
  INFO((c.ok() ? std::string() : c.error().ToString()));
  REQUIRE(c.ok());
  REQUIRE(c->search.has_value());
  return std::move(c.value());
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The script of chart `id`: from its `set output` to the next chart's.
std::string ChartScript(const ChartPlan& plan, const std::string& id) {
  size_t start = plan.script.find("/" + id + ".svg'");
  if (start == std::string::npos) return "";
  size_t end = plan.script.find("set output", start);
  return plan.script.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The page's text between `from` and the first `to` after it.
std::string Between(const std::string& html, const std::string& from, const std::string& to) {
  size_t start = html.find(from);
  if (start == std::string::npos) return "";
  size_t end = html.find(to, start);
  return html.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

TEST_CASE("the search's charts: against the key, first, with thresholds, answers, verdicts",
          "[report][search_curves]") {
  TempDir tmp;
  ChartPlan plan = PlanCharts(CompareSearch(EdgeAndCloudSearch(), tmp), "/out");
  std::vector<std::string> ids;
  for (const ChartSpec& c : plan.charts) ids.push_back(c.id + (c.search ? " (search)" : ""));
  // The steps' runs have no timeline or samples, so the search's charts are all there is.
  CHECK(ids == std::vector<std::string>{"search-latency (search)", "search-delivered (search)",
                                        "search-cpu (search)"});
  CHECK(std::find(plan.notes.begin(), plan.notes.end(),
                  "a search's steps have no latency-by-percentile chart (a line per step would "
                  "not read): the search's latency chart shows each step's p50 and p99") !=
        plan.notes.end());

  std::string latency = ChartScript(plan, "search-latency");
  // The search's range on a log scale, with tics at the values it doubles through.
  CHECK(Has(latency,
            "set xrange [21.7391:920]\nset logscale x 2\nset xtics ('25' 25, '50' 50, '100' 100, "
            "'200' 200, '400' 400, '800' 800)\nset xlabel 'publish.rate (msg/s per device), log "
            "scale'"));
  CHECK(Has(latency, "set ylabel 'latency (ms), log scale'\nset logscale y"));
  // Each group's answer: a dotted line at its value, labelled, inside the plot.
  CHECK(Has(latency,
            "set arrow from first 75, graph 0 to first 75, graph 1 nohead dt 3 lw 1.5 lc rgb "
            "'#0072b2' back\nset label 'edge holds up to 75' at first 75, graph 0.95 left offset "
            "0.5,0 tc rgb '#0072b2' front\n"));
  CHECK(Has(latency,
            "set label 'cloud holds up to 300' at first 300, graph 0.88 right offset -0.5,0 tc "
            "rgb '#d55e00' front\n"));
  // Each group's steps in value order: value, p99, p50, the point type of its verdict.
  CHECK(Has(latency,
            " << EOD\n25 4.096 0.064 7\n50 8.192 0.128 7\n75 16.384 0.256 7\n100 40.96 "
            "0.64 6\nEOD\n"));
  CHECK(Has(latency,
            "using 1:2:4 with linespoints pt variable ps 1.3 lw 2 dt 1 lc rgb '#0072b2' title "
            "'edge p99'"));
  CHECK(Has(latency,
            "using 1:3:4 with linespoints pt variable ps 1 lw 1.5 dt 2 lc rgb '#d55e00' title "
            "'cloud p50'"));
  // The latency threshold as a line; loss_ratio belongs on no chart of these.
  CHECK(Has(latency, ", 30 with lines dt 2 lw 1.5 lc rgb '#b3261e' title 'latency_p99_ms max 30'"));
  CHECK_FALSE(Has(plan.script, "loss_ratio"));
  CHECK(Has(latency,
            ", keyentry with points pt 7 ps 1.3 lc rgb '#000000' title 'holds: every run held', "
            "keyentry with points pt 6 ps 1.3 lc rgb '#000000' title 'fails: no run held'\n"));
  CHECK_FALSE(Has(latency, "mixed"));

  std::string delivered = ChartScript(plan, "search-delivered");
  CHECK(Has(delivered, "set ylabel 'delivered msg/s'\nset yrange [0:*]"));
  CHECK(Has(delivered, " << EOD\n25 500 7\n50 1000 7\n75 1500 7\n100 1800 6\nEOD\n"));
  CHECK(Has(delivered, "set label 'edge holds up to 75'"));
  std::string cpu = ChartScript(plan, "search-cpu");
  CHECK(Has(cpu, "10 with lines dt 4 lw 1.5 lc rgb '#0072b2' title 'edge broker quota 0.1 CPU'"));
  CHECK(Has(cpu, "50 with lines dt 4 lw 1.5 lc rgb '#d55e00' title 'cloud broker quota 0.5 CPU'"));
}

TEST_CASE("a search over a narrow range has a linear key axis; nothing held is labelled",
          "[report][search_curves]") {
  FixtureSearch f = EdgeAndCloudSearch();
  f.to = 150;  // 150 / 25 < 8
  testing::FixtureSearchGroup& cloud = f.groups[1];
  cloud.steps = {testing::SearchStep(25, 40960, 500, 2)};
  cloud.holds = std::nullopt;
  cloud.fails = 25;
  cloud.stop_reason = "from_fails";
  TempDir tmp;
  ChartPlan plan = PlanCharts(CompareSearch(f, tmp), "/out");
  std::string latency = ChartScript(plan, "search-latency");
  CHECK(Has(latency, "set xrange [18.75:156.25]\nset xlabel 'publish.rate (msg/s per device)'"));
  CHECK_FALSE(Has(latency, "logscale x"));
  CHECK(Has(latency,
            "set label 'cloud: nothing held' at graph 0.02, graph 0.88 left tc rgb '#d55e00' "
            "front\n"));
  CHECK_FALSE(Has(latency, "set arrow from first 25"));
}

TEST_CASE("the page of a search: its section first, with its tables and charts",
          "[report][search_curves]") {
  if (!FindProgram("gnuplot")) {
    WARN("skipped: gnuplot is not installed (apt-get install gnuplot-nox)");
    return;
  }
  TempDir tmp;
  Result<Report> report = RenderReport(CompareSearch(EdgeAndCloudSearch(), tmp));
  REQUIRE(report.ok());
  CHECK(report->warnings.empty());
  CHECK(report->charts ==
        std::vector<std::string>{"search-latency", "search-delivered", "search-cpu"});
  const std::string& html = report->html;
  std::string section = Between(html, "<section id=\"search\">", "</section>");
  REQUIRE_FALSE(section.empty());
  CHECK(html.find("<section id=\"search\">") < html.find("<h2 id=\"cells\">"));
  CHECK(Has(section,
            "<h2>The search: publish.rate</h2>\n<p>Search of publish.rate from 25 to 800 "
            "msg/s per device, 1 run per step; a step holds when every run meets "
            "latency_p99_ms max 30 and loss_ratio max 0.</p>\n"));
  CHECK(Has(section,
            "<p><b>edge</b>: publish.rate holds up to 75 (fails at 100; resolution 25%; 4 "
            "runs)</p>\n"));
  CHECK(Has(section, "<p>cloud holds up to 300 msg/s per device and edge up to 75"));
  CHECK(Has(section,
            "<tr><td>100</td><td><span class=\"fail\">fails</span></td><td>0 of 1</td><td>0.64"
            "</td><td>40.96</td><td>1800</td><td>10</td><td>0</td><td "
            "class=\"label\">c1-edge-s3-100</td></tr>\n"));
  // Each chart drawn inside the section; the threshold line and the answers labelled in it.
  std::string latency = Between(section, "data-chart=\"search-latency\"", "</figure>");
  CHECK(Has(latency, "<svg"));
  CHECK(Has(latency, "<text>latency_p99_ms max 30</text>"));
  CHECK(Has(latency, "<text>edge holds up to 75</text>"));
  CHECK(Has(latency, "<text>cloud holds up to 300</text>"));
  CHECK(Has(latency, "<text>holds: every run held</text>"));
  CHECK(Has(section, "data-chart=\"search-delivered\""));
  CHECK(Has(Between(section, "data-chart=\"search-cpu\"", "</figure>"),
            "<text>edge broker quota 0.1 CPU</text>"));
  CHECK_FALSE(Has(html, "data-chart=\"latency\""));
  CHECK_FALSE(Has(html, "<section class=\"answer\" id=\"answer\">"));  // no per-step decision
}

TEST_CASE("the page of a search without gnuplot: the tables, and why there are no charts",
          "[report][search_curves]") {
  TempDir tmp;
  ReportOptions options;
  options.gnuplot = "";
  Result<Report> report = RenderReport(CompareSearch(EdgeAndCloudSearch(), tmp), options);
  REQUIRE(report.ok());
  CHECK(report->charts.empty());
  std::string section = Between(report->html, "<section id=\"search\">", "</section>");
  CHECK(Has(section, "<table class=\"search-steps\" data-group=\"c2-cloud\">"));
  CHECK(Has(section, "<p class=\"notice\">Charts are not drawn: gnuplot was not found."));
}

}  // namespace edgebench

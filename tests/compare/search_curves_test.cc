// Tests for compare of a search set: synthetic search sets (tests/report/fixture_search.h)
// whose every row, answer and sentence is checked against text written by hand, and one
// real search run by the edgebench binary, checked against its own search.json and runs.
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "edgebench/compare/compare.h"
#include "edgebench/results/run_directory.h"
#include "edgebench/results/search_result.h"
#include "edgebench/results/set_index.h"

#include "cli_support.h"
#include "report/fixture_search.h"
#include "test_support.h"

namespace edgebench {
namespace {

using testing::EdgeAndCloudSearch;
using testing::FixtureSearch;
using testing::FixtureSearchGroup;
using testing::SearchStep;
using testing::StepFigures;
using testing::StepRun;
using testing::TempDir;

CompareOptions Options() {
  CompareOptions o;
  o.checks.machine_cpus = 0;
  return o;
}

Comparison CompareOk(const std::vector<std::string>& paths) {
  Result<Comparison> c = Compare(paths, Options());
  INFO((c.ok() ? std::string() : c.error().ToString()));
  REQUIRE(c.ok());
  return std::move(c.value());
}

// The comparison of the search set `f`, written to DIR/set.
Comparison CompareSearch(const FixtureSearch& f, const TempDir& tmp) {
  Status st = testing::WriteFixtureSearch(f, tmp.File("set"));
  INFO((st.ok() ? std::string() : st.error().ToString()));
  REQUIRE(st.ok());
  return CompareOk({tmp.File("set")});
}

std::string SentenceOf(const FixtureSearch& f) {
  TempDir tmp;
  Comparison c = CompareSearch(f, tmp);
  REQUIRE(c.search.has_value());
  return c.search->sentence;
}

}  // namespace

TEST_CASE("search curves: the steps of each group in value order, the answers, one sentence",
          "[search_curves]") {
  TempDir tmp;
  Comparison c = CompareSearch(EdgeAndCloudSearch(), tmp);
  REQUIRE(c.search.has_value());
  CHECK_FALSE(c.decision.has_value());  // no "cheapest step" answer
  CHECK_FALSE(c.difference.has_value());
  CHECK(c.cells.size() == 10);
  const SearchCurves& s = *c.search;
  CHECK(s.key == "publish.rate");
  CHECK(s.unit == "msg/s per device");
  REQUIRE(s.thresholds.size() == 2);
  CHECK(s.thresholds[0].metric == "latency_p99_ms");
  CHECK(s.thresholds[0].max == 30);
  REQUIRE(s.groups.size() == 2);
  CHECK(s.groups[0].label == "edge");
  CHECK(s.groups[0].broker_cpus == 0.1);
  std::vector<double> values;
  for (const SearchStepSummary& step : s.groups[0].steps) values.push_back(step.value);
  CHECK(values == std::vector<double>{25, 50, 75, 100});
  CHECK(s.groups[0].steps[3].cell == "c1-edge-s3-100");

  CHECK(CompareTable(c) ==
        "Search of publish.rate from 25 to 800 msg/s per device, 1 run per step; a step holds "
        "when every run meets latency_p99_ms max 30 and loss_ratio max 0.\n"
        "\n"
        "edge (c1-edge):\n"
        "  publish.rate  verdict  runs held  latency p50 (ms)  latency p99 (ms)  delivered "
        "(msg/s)  broker CPU (%)  loss\n"
        "  25            holds    1 of 1     0.064             4.096             500          "
        "      3               0\n"
        "  50            holds    1 of 1     0.128             8.192             1000         "
        "      6               0\n"
        "  75            holds    1 of 1     0.256             16.38             1500         "
        "      9               0\n"
        "  100           fails    0 of 1     0.64              40.96             1800         "
        "      10              0\n"
        "  answer: publish.rate holds up to 75 (fails at 100; resolution 25%; 4 runs)\n"
        "\n"
        "cloud (c2-cloud):\n"
        "  publish.rate  verdict  runs held  latency p50 (ms)  latency p99 (ms)  delivered "
        "(msg/s)  broker CPU (%)  loss\n"
        "  25            holds    1 of 1     0.32              20.48             500          "
        "      2               0\n"
        "  50            holds    1 of 1     0.32              20.48             1000         "
        "      4               0\n"
        "  100           holds    1 of 1     0.32              20.48             2000         "
        "      8               0\n"
        "  200           holds    1 of 1     0.384             24.58             4000         "
        "      16              0\n"
        "  300           holds    1 of 1     0.448             28.67             6000         "
        "      24              0\n"
        "  400           fails    0 of 1     1.28              81.92             6000         "
        "      50              0\n"
        "  answer: publish.rate holds up to 300 (fails at 400; resolution 25%; 6 runs)\n"
        "\n"
        "Each figure: the median over the step's runs [95% CI: percentile bootstrap of the "
        "median, seed 1; none with one run].\n"
        "\n"
        "The answer:\n"
        "  edge: publish.rate holds up to 75 (fails at 100; resolution 25%; 4 runs)\n"
        "  cloud: publish.rate holds up to 300 (fails at 400; resolution 25%; 6 runs)\n"
        "  cloud holds up to 300 msg/s per device and edge up to 75 (the highest publish.rate "
        "at which every run met every threshold): cloud carries 4x the publish.rate of edge.\n");
}

TEST_CASE("search curves: markdown, CSV and JSON of a search", "[search_curves]") {
  TempDir tmp;
  Comparison c = CompareSearch(EdgeAndCloudSearch(), tmp);
  std::string md = CompareMarkdown(c);
  CHECK(md.starts_with(
      "Search of publish.rate from 25 to 800 msg/s per device, 1 run per step; a step holds "
      "when every run meets latency_p99_ms max 30 and loss_ratio max 0.\n\n### edge (c1-edge)\n\n"
      "| publish.rate | verdict | runs held | latency p50 (ms) | latency p99 (ms) | delivered "
      "(msg/s) | broker CPU (%) | loss |\n"
      "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
      "| 25 | holds | 1 of 1 | 0.064 | 4.096 | 500 | 3 | 0 |\n"));
  CHECK(md.find("| 100 | fails | 0 of 1 | 0.64 | 40.96 | 1800 | 10 | 0 |\n\nAnswer: publish.rate "
                "holds up to 75 (fails at 100; resolution 25%; 4 runs)\n\n### cloud (c2-cloud)") !=
        std::string::npos);
  CHECK(md.find("### The answer\n\n- edge: publish.rate holds up to 75") != std::string::npos);

  std::string csv = CompareCsv(c);
  std::vector<std::string> lines;
  for (size_t at = 0; at < csv.size();) {
    size_t end = csv.find('\n', at);
    lines.push_back(csv.substr(at, end - at));
    at = end + 1;
  }
  REQUIRE(lines.size() == 11);  // a header and the 10 steps
  CHECK(lines[0] ==
        "group,key,value,cell,verdict,runs,runs_held,latency_p50_ms,latency_p50_ms_lo,"
        "latency_p50_ms_hi,latency_p99_ms,latency_p99_ms_lo,latency_p99_ms_hi,received_per_s,"
        "received_per_s_lo,received_per_s_hi,broker_cpu_pct,broker_cpu_pct_lo,broker_cpu_pct_hi,"
        "loss_ratio,loss_ratio_lo,loss_ratio_hi,holds,fails,stop_reason,answer");
  CHECK(lines[4] ==
        "edge,publish.rate,100,c1-edge-s3-100,fails,1,0,0.64,,,40.96,,,1800,,,10,,,0,,,75,100,"
        "resolution,publish.rate holds up to 75 (fails at 100; resolution 25%; 4 runs)");

  nlohmann::json j = nlohmann::json::parse(CompareJson(c));
  CHECK(j["decision"].is_null());
  const nlohmann::json& search = j["search"];
  CHECK(search["key"] == "publish.rate");
  CHECK(search["thresholds"][0] ==
        nlohmann::json({{"metric", "latency_p99_ms"}, {"min", nullptr}, {"max", 30.0}}));
  CHECK(search["groups"][1]["label"] == "cloud");
  CHECK(search["groups"][1]["holds"] == 300.0);
  CHECK(search["groups"][1]["broker_cpus"] == 0.5);
  CHECK(search["groups"][1]["steps"][5]["verdict"] == "fails");
  CHECK(search["groups"][1]["steps"][5]["metrics"]["latency_p99_ms"]["median"] == 81.92);
  CHECK(search["sentence"] == c.search->sentence);
  CHECK(j["cells"].size() == 10);
}

TEST_CASE("search curves: the sentence says what is compared for every kind of answer",
          "[search_curves]") {
  FixtureSearch base = EdgeAndCloudSearch();
  FixtureSearchGroup& edge = base.groups[0];
  FixtureSearchGroup& cloud = base.groups[1];

  SECTION("one group holds nothing: the other carries more than its value over the start") {
    cloud.steps = {SearchStep(25, 40960, 500, 2)};
    cloud.holds = std::nullopt;
    cloud.fails = 25;
    cloud.stop_reason = "from_fails";
    CHECK(SentenceOf(base) ==
          "edge holds up to 75 msg/s per device (the highest publish.rate at which every run "
          "met every threshold); cloud has no answer: not even 25, where the search starts, held "
          "in every run, so edge carries more than 3x the publish.rate of cloud.");
  }
  SECTION("a group that held the whole range may carry more: at least") {
    cloud.steps = {SearchStep(800, 20480, 16000, 40)};
    cloud.holds = 800;
    cloud.fails = std::nullopt;
    cloud.stop_reason = "range_holds";
    CHECK(SentenceOf(base) ==
          "cloud holds across the whole range up to 800 msg/s per device and edge up to 75 (the "
          "highest publish.rate at which every run met every threshold): cloud carries at least "
          "10.67x the publish.rate of edge.");
  }
  SECTION("the lower group ran out of budget: its limit may be higher") {
    edge.steps.pop_back();
    edge.steps.pop_back();
    edge.holds = 50;
    edge.fails = std::nullopt;
    edge.stop_reason = "budget";
    CHECK(SentenceOf(base) ==
          "cloud holds up to 300 msg/s per device and edge up to 50 (the highest publish.rate at "
          "which every run met every threshold): cloud carries 6x the publish.rate of edge (edge "
          "was not tried above 50, so it may carry more).");
  }
  SECTION("the same answer") {
    cloud.holds = 75;
    cloud.fails = 100;
    CHECK(SentenceOf(base) ==
          "edge holds up to 75 msg/s per device and cloud up to 75 (the highest publish.rate at "
          "which every run met every threshold): both carry the same publish.rate within the "
          "thresholds, as far as the search resolves.");
  }
  SECTION("no group holds anything") {
    for (FixtureSearchGroup* g : {&edge, &cloud}) {
      g->steps = {SearchStep(25, 40960, 500, 2)};
      g->holds = std::nullopt;
      g->fails = 25;
      g->stop_reason = "from_fails";
    }
    CHECK(SentenceOf(base) ==
          "No group holds at any value tried; edge has no answer: not even 25, where the search "
          "starts, held in every run; cloud has no answer: not even 25, where the search starts, "
          "held in every run.");
  }
  SECTION("three groups: the best against the least, the middle one named") {
    FixtureSearchGroup far{"c3-far", "far", 80, std::nullopt, {}, 150, 200, "resolution"};
    far.steps = {SearchStep(150, 20480, 3000, 12)};
    base.groups.push_back(far);
    CHECK(SentenceOf(base) ==
          "cloud holds up to 300 msg/s per device, far up to 150 and edge up to 75 (the highest "
          "publish.rate at which every run met every threshold): cloud carries 4x the "
          "publish.rate of edge.");
  }
  SECTION("a search still running says so") {
    cloud.stop_reason = "";
    CHECK(SentenceOf(base) ==
          "cloud holds up to 300 msg/s per device so far and edge up to 75 (the highest "
          "publish.rate at which every run met every threshold): cloud carries 4x the "
          "publish.rate of edge.");
  }
  SECTION("one group: no sentence, its answer is the answer") {
    base.groups.pop_back();
    TempDir tmp;
    Comparison c = CompareSearch(base, tmp);
    CHECK(c.search->sentence.empty());
    std::string table = CompareTable(c);
    CHECK(table.substr(table.find("The answer:")) ==
          "The answer:\n  edge: publish.rate holds up to 75 (fails at 100; resolution 25%; 4 "
          "runs)\n");
  }
}

TEST_CASE("search curves: repeats give intervals, a step held in some runs is mixed",
          "[search_curves]") {
  FixtureSearch f;
  f.repeat = 3;
  f.key = "devices.count";
  f.from = 100;
  f.to = 400;
  FixtureSearchGroup g{"c1-edge", "edge", 0, std::nullopt, {}, 100, 200, "noisy"};
  auto run = [](int64_t p99_us) {
    StepFigures fig;
    fig.p99_us = p99_us;
    fig.p50_us = 1000;
    return StepRun(fig);
  };
  g.steps = {{100, {run(10240), run(12288), run(14336)}},
             {200, {run(20480), run(40960), run(28672)}}};
  f.groups = {g};
  TempDir tmp;
  Comparison c = CompareSearch(f, tmp);
  REQUIRE(c.search.has_value());
  CHECK(c.search->unit == "devices");
  const SearchStepSummary& mixed = c.search->groups[0].steps[1];
  CHECK(mixed.verdict == "mixed");
  CHECK(mixed.runs == 3);
  CHECK(mixed.holds == 2);
  std::string table = CompareTable(c);
  INFO(table);
  CHECK(table.find("Search of devices.count from 100 to 400 devices, 3 runs per step; a step "
                   "holds when every run meets latency_p99_ms max 30.\n") == 0);
  CHECK(table.find("  100            holds    3 of 3     1 [1..1]          12.29 [10.24..14.34]") !=
        std::string::npos);
  CHECK(table.find("  200            mixed    2 of 3     1 [1..1]          28.67 [20.48..40.96]") !=
        std::string::npos);
  CHECK(table.find("  answer: devices.count holds up to 200") == std::string::npos);
  CHECK(table.find("  answer: devices.count holds up to 100 (fails at 200; noisy: 1 step held "
                   "in only some runs; 6 runs)\n") != std::string::npos);
}

TEST_CASE("search curves: a search with other paths is compared cell by cell, with a note",
          "[search_curves]") {
  TempDir tmp;
  REQUIRE(testing::WriteFixtureSearch(EdgeAndCloudSearch(), tmp.File("set")).ok());
  std::string run = tmp.File("set") + "/c1-edge-s1-25/run-1";
  Comparison c = CompareOk({tmp.File("set"), run});
  CHECK_FALSE(c.search.has_value());
  CHECK(c.decision.has_value());
  CHECK(std::find(c.notes.begin(), c.notes.end(),
                  tmp.File("set") +
                      " is a search: compared cell by cell here; compare it on its own for its "
                      "steps against the searched key") != c.notes.end());
}

TEST_CASE("search curves: an unreadable search.json is a usage error naming it",
          "[search_curves]") {
  TempDir tmp;
  REQUIRE(testing::WriteFixtureSearch(EdgeAndCloudSearch(), tmp.File("set")).ok());
  REQUIRE(WriteFile(tmp.File("set") + "/search.json", "{\"format\": 1}").ok());
  Result<Comparison> c = Compare({tmp.File("set")}, Options());
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ErrorKind::kUsage);
  CHECK(c.error().ToString() ==
        tmp.File("set") +
            "/search.json: malformed search result: [json.exception.out_of_range.403] key 'key' "
            "not found");
}

namespace {

// A real search, run once per test process by the edgebench binary: edge (a tenth of a CPU
// for the broker) against cloud (half a CPU, 15 ms away). Its directory is removed at exit.
struct RealSearch {
  TempDir dir;
  std::string set;
  std::string skipped;  // why it could not run here, for the WARN
  cli_support::CommandResult run;

  RealSearch() {
    if (::geteuid() != 0) {
      skipped = "a real search needs root (the broker's cgroup for broker.resources)";
      return;
    }
    std::string yaml =
        "name: curves-test\nmatrix:\n  placement:\n"
        "    - {label: edge, network: edge-lan, broker: {resources: {cpus: 0.1}}}\n"
        "    - {label: cloud, network: cloud-near, broker: {resources: {cpus: 0.5}}}\n"
        "devices: {count: 20}\npublish: {rate: 10, qos: 1}\nduration_s: 1\ndrain_s: 1\n"
        "cooldown_s: 0\ncapture: {enabled: false}\n"
        "search: {key: publish.rate, from: 25, to: 800, resolution: 25%, max_runs: 4}\n"
        "expect: {latency_p99_ms: {max: 30}, loss_ratio: {max: 0}}\n";
    testing::WriteText(dir.File("s.yaml"), yaml);
    run = cli_support::RunEdgebench({"run", "--out", dir.File("out"), dir.File("s.yaml")},
                                    dir.path());
    set = dir.File("out") + "/curves-test/latest";
  }
};

// What compare needs to read a real run's scenario: the profiles it names, as the CLI loads.
CompareOptions RealOptions() {
  CompareOptions o;
  std::string config = std::string(EDGEBENCH_SOURCE_DIR) + "/config";
  o.checks.profiles_file = config + "/profiles.yaml";
  Result<std::map<std::string, LinkProfile>> profiles = LoadProfiles(o.checks.profiles_file);
  REQUIRE(profiles.ok());
  o.checks.profiles = std::move(*profiles);
  o.checks.nodes_file = config + "/nodes.yaml";
  Result<std::map<std::string, NodeProfile>> nodes = LoadNodeProfiles(o.checks.nodes_file);
  REQUIRE(nodes.ok());
  o.checks.nodes = std::move(*nodes);
  return o;
}

const RealSearch& TheRealSearch() {
  static RealSearch real;
  return real;
}

// The step rows as compare should print them, from search.json and each run's summary.
std::vector<std::string> ExpectedRows(const std::string& set, const SearchGroup& g) {
  Result<SetIndex> index = ReadSetIndex(set);
  REQUIRE(index.ok());
  std::vector<SearchResultStep> steps = g.steps;
  std::sort(steps.begin(), steps.end(),
            [](const SearchResultStep& a, const SearchResultStep& b) { return a.value < b.value; });
  std::vector<std::string> rows;
  for (const SearchResultStep& s : steps) {
    std::string row = FormatSearchValue(s.value) + " " + s.verdict + " " + std::to_string(s.holds) +
                      " of " + std::to_string(s.runs);
    for (Metric m : {Metric::kLatencyP50Ms, Metric::kLatencyP99Ms, Metric::kReceivedPerS,
                     Metric::kBrokerCpuPct, Metric::kLossRatio}) {
      std::vector<double> values;  // of the step's runs that compare reads (status ok)
      for (const SetCell& cell : index->cells) {
        if (cell.id != s.cell) continue;
        for (const SetRun& run : cell.runs) {
          if (run.status != "ok") continue;
          Result<RunResult> r = ReadRunDirectory(set + "/" + run.dir);
          REQUIRE(r.ok());
          if (std::optional<double> v = MetricValue(*r, m)) values.push_back(*v);
        }
      }
      REQUIRE(values.size() <= 1);  // repeat 1: no interval to print
      row += " " + FormatFigure(Median(values));
    }
    rows.push_back(row);
  }
  return rows;
}

// A table's lines from `heading` to the blank line after it, each with its runs of spaces
// made one.
std::vector<std::string> RowsAfter(const std::string& table, const std::string& heading) {
  std::vector<std::string> rows;
  size_t at = table.find("\n" + heading + ":\n");
  if (at == std::string::npos) return rows;
  at = table.find('\n', table.find('\n', at + 1) + 1) + 1;  // past the heading and header
  while (at < table.size() && table.compare(at, 10, "  answer: ") != 0) {
    size_t end = table.find('\n', at);
    std::string line;
    for (size_t i = at + 2; i < end; ++i) {
      if (table[i] != ' ' || line.back() != ' ') line += table[i];
    }
    rows.push_back(line);
    at = end + 1;
  }
  return rows;
}

}  // namespace

TEST_CASE("search curves: a real search run by edgebench, compared and reported",
          "[search_curves]") {
  const RealSearch& real = TheRealSearch();
  if (!real.skipped.empty()) {
    WARN("skipped: " << real.skipped);
    return;
  }
  INFO(real.run.out << real.run.err);
  // 0: every group answered; 1: a group whose first step failed (an expect: failure).
  REQUIRE((real.run.exit_code == 0 || real.run.exit_code == 1));
  Result<SearchResult> search = ReadSearchResult(real.set);
  REQUIRE(search.ok());
  REQUIRE(search->groups.size() == 2);
  Result<Comparison> compared = Compare({real.set}, RealOptions());
  INFO((compared.ok() ? std::string() : compared.error().ToString()));
  REQUIRE(compared.ok());
  const Comparison& c = *compared;
  REQUIRE(c.search.has_value());
  std::string table = CompareTable(c);
  INFO(table);
  const char* labels[] = {"edge (c1-edge)", "cloud (c2-cloud)"};
  for (size_t i = 0; i < 2; ++i) {
    const SearchGroup& g = search->groups[i];
    CHECK(RowsAfter(table, labels[i]) == ExpectedRows(real.set, g));
    CHECK(table.find("  answer: " + DescribeAnswer(*search, g) + "\n") != std::string::npos);
    CHECK(c.search->groups[i].answer == DescribeAnswer(*search, g));
  }
  // The sentence names both groups and compares them (or says neither held).
  const std::string& sentence = c.search->sentence;
  CHECK(sentence.find("edge") != std::string::npos);
  CHECK(sentence.find("cloud") != std::string::npos);
  bool compares = sentence.find(" carries ") != std::string::npos ||
                  sentence.starts_with("No group holds") ||
                  sentence.find("has no answer") != std::string::npos;
  CHECK(compares);
  CHECK(table.find("\nThe answer:\n  edge: ") != std::string::npos);
  CHECK(table.find("latency_p99_ms <= 30") == std::string::npos);  // no per-step decision

  cli_support::CommandResult cli =
      cli_support::RunEdgebench({"compare", real.set}, real.dir.path());
  CHECK(cli.exit_code == 0);
  CHECK(cli.out == table);

  if (!FindProgram("gnuplot")) {
    WARN("the report of the real search is not checked: gnuplot is not installed");
    return;
  }
  std::string page = real.dir.File("report.html");
  cli_support::CommandResult report =
      cli_support::RunEdgebench({"report", real.set, "-o", page}, real.dir.path());
  CHECK(report.exit_code == 0);
  std::string html = testing::ReadText(page);
  size_t search_at = html.find("<section id=\"search\">");
  CHECK(search_at != std::string::npos);
  CHECK(search_at < html.find("<h2 id=\"cells\">"));
  for (const char* id : {"search-latency", "search-delivered", "search-cpu"}) {
    CHECK(html.find("data-chart=\"" + std::string(id) + "\"") < html.find("<h2 id=\"cells\">"));
  }
  CHECK(html.find("latency_p99_ms max 30</text>") != std::string::npos);
}

}  // namespace edgebench

// Tests for `edgebench report`: a page from fixture run directories, the same without
// gnuplot, and the one-line errors for paths that are not runs and an unwritable output.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "edgebench/base/process.h"

#include "cli_support.h"
#include "report/fixture_runs.h"

namespace {

namespace fs = std::filesystem;
using cli_support::CommandResult;
using cli_support::RunCommand;
using cli_support::RunEdgebench;

// Two placements of two runs each under `root`; returns the run directories.
std::vector<std::string> WriteRuns(const fs::path& root) {
  std::vector<std::string> dirs;
  for (int i = 0; i < 4; ++i) {
    edgebench::testing::FixtureSpec spec;
    spec.scenario = i < 2 ? "edge-lan" : "cloud-near";
    spec.rtt_ms = i < 2 ? 0 : 20;
    spec.seed = static_cast<uint64_t>(i + 1);
    fs::path dir = root / spec.scenario / ("run-" + std::to_string(i));
    fs::create_directories(dir);
    REQUIRE(edgebench::testing::WriteFixtureRun(spec, dir.string()).ok());
    dirs.push_back(dir.string());
  }
  return dirs;
}

}  // namespace

TEST_CASE("edgebench report writes one page with the tables and the charts", "[report]") {
  if (!edgebench::FindProgram("gnuplot")) {
    WARN("skipped: gnuplot is not installed (apt-get install gnuplot-nox)");
    return;
  }
  cli_support::TempDir tmp;
  std::vector<std::string> args = {"report"};
  for (const std::string& d : WriteRuns(tmp.path)) args.push_back(d);
  std::string html = (tmp.path / "report.html").string();
  args.insert(args.end(), {"-o", html});
  CommandResult r = RunEdgebench(args, tmp.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "wrote " + html + ": 2 cells, 4 runs, 7 charts\n");
  std::string page = cli_support::Slurp(html);
  CHECK(page.find("<h2 id=\"cells\">Cells</h2>") != std::string::npos);
  CHECK(page.find("<td class=\"label\">cloud-near</td>") != std::string::npos);
  CHECK(page.find("<figure class=\"chart\" id=\"chart-latency\"") != std::string::npos);
  CHECK(page.find("<figure class=\"chart\" id=\"chart-resources-2\"") != std::string::npos);
}

TEST_CASE("edgebench report without gnuplot warns and keeps the tables", "[report]") {
  cli_support::TempDir tmp;
  std::vector<std::string> args = {"/usr/bin/env", "PATH=/nonexistent", EDGEBENCH_BINARY, "report"};
  for (const std::string& d : WriteRuns(tmp.path)) args.push_back(d);
  std::string html = (tmp.path / "report.html").string();
  args.insert(args.end(), {"-o", html});
  CommandResult r = RunCommand(args, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.err ==
        "edgebench: warning: gnuplot not found: the report has no charts (install gnuplot-nox)\n");
  CHECK(r.out == "wrote " + html + ": 2 cells, 4 runs, 0 charts\n");
  std::string page = cli_support::Slurp(html);
  CHECK(page.find("apt-get install gnuplot-nox") != std::string::npos);
  CHECK(page.find("<td class=\"label\">edge-lan</td>") != std::string::npos);
  CHECK(page.find("<svg") == std::string::npos);
}

TEST_CASE("edgebench report: a path that is not a run, an unwritable file: one line, exit 2",
          "[report]") {
  cli_support::TempDir tmp;
  std::string html = (tmp.path / "report.html").string();
  CommandResult r = RunEdgebench({"report", tmp.path.string(), "-o", html}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + tmp.path.string() +
                     ": not a run directory (no summary.json) or a set (no index.json)\n");
  CHECK_FALSE(fs::exists(html));
  std::vector<std::string> dirs = WriteRuns(tmp.path / "runs");
  r = RunEdgebench({"report", dirs[0], "-o", "/nonexistent/report.html"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(cli_support::LastLine(r.err) ==
        "edgebench: error: cannot write /nonexistent/report.html: No such file or directory");
  r = RunEdgebench({"report", dirs[0]}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: --output is required\nRun 'edgebench --help' for usage.\n");
}

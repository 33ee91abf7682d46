// edgebench report RUN_OR_SET... -o FILE: compare's tables and gnuplot's charts of runs and
// sets in one self-contained HTML page.
#include <cstdio>
#include <string>

#include "edgebench/base/fd.h"
#include "edgebench/compare/compare.h"
#include "edgebench/report/report.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {

void AddReportOptions(CLI::App& app, CommandLine& cl) {
  app.add_option("paths", cl.files,
                 "Run directories, set directories (with index.json) or links to one, such as "
                 "results/edge-vs-cloud/latest")
      ->required();
  app.add_option("-o,--output", cl.compare.output, "The HTML file to write")->required();
  app.add_flag("--include-incomplete", cl.compare.include_incomplete,
               "Also report runs that did not complete (.partial, .failed, .interrupted), "
               "which are skipped with a note otherwise");
  app.add_option("--config-dir", cl.run.config_dir,
                 "Directory with profiles.yaml, for the network profiles the runs' scenarios "
                 "name (default: found next to the binary)")
      ->capture_default_str();
  app.footer(
      "Writes one HTML file that needs nothing else to open (no network request): the\n"
      "tables of `edgebench compare` (with the answer when the runs carry expect: and\n"
      "cost), the charts (latency by percentile on an HdrHistogram axis, delivered msg/s\n"
      "and p99 per second, CPU and RSS per process, wire bytes per message, cost per\n"
      "month) and each run's scenario.yaml and manifest.json. The charts need gnuplot\n"
      "(Debian: apt-get install gnuplot-nox); without it the page has the tables and says\n"
      "so. docs/report.md explains each chart. A path that is not a run or a set: exit 2.");
}

CliOutcome ReportCommand(CommandLine& cl) {
  CompareOptions options;
  options.include_incomplete = cl.compare.include_incomplete;
  Result<ExternalChecks> checks = ScenarioChecks(cl.run.config_dir);
  if (!checks.ok()) return {{checks.error().WithKind(ErrorKind::kUsage)}, false};
  options.checks = std::move(checks.value());
  Result<Comparison> comparison = Compare(cl.files, options);
  if (!comparison.ok()) return {{comparison.error()}, false};
  Result<Report> report = RenderReport(*comparison);
  if (!report.ok()) return {{report.error()}, false};
  // As compare's -o: a file that cannot be written is the user's path (exit 2).
  if (Status st = WriteFile(cl.compare.output, report->html); !st) {
    return {{st.error().WithKind(ErrorKind::kUsage)}, false};
  }
  CliOutcome out;
  for (const std::string& w : report->warnings)
    out.warnings.emplace_back(ErrorKind::kUnavailable, w);
  size_t runs = 0;
  for (const CompareCell& cell : comparison->cells) runs += cell.runs.size();
  std::printf("wrote %s: %zu cell%s, %zu run%s, %zu chart%s\n", cl.compare.output.c_str(),
              comparison->cells.size(), comparison->cells.size() == 1 ? "" : "s", runs,
              runs == 1 ? "" : "s", report->charts.size(), report->charts.size() == 1 ? "" : "s");
  for (const std::string& note : comparison->notes) std::printf("note: %s\n", note.c_str());
  return out;
}

}  // namespace edgebench::cli_internal

// edgebench compare RUN_OR_SET...: runs and sets read back, one row per cell, the difference
// of two cells and the decision (compare/compare.h), in the format asked for.
#include <cerrno>
#include <cstdio>
#include <string>

#include "edgebench/compare/compare.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {
namespace {

// The checks a resolved scenario.yaml needs: only the network profiles it may name.
Result<ExternalChecks> CompareChecks(const std::string& config_dir) {
  Result<ExternalChecks> checks = ScenarioChecks(config_dir);
  if (!checks.ok()) return checks.error().WithKind(ErrorKind::kUsage);
  return checks;
}

Status WriteOutput(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return Error{ErrorKind::kUsage, "cannot write " + path + ": " + ErrnoMessage(errno)};
  size_t written = std::fwrite(text.data(), 1, text.size(), f);
  int write_errno = errno;
  if (std::fclose(f) != 0 || written != text.size()) {
    int err = written != text.size() ? write_errno : errno;
    return Error{ErrorKind::kUsage, "cannot write " + path + ": " + ErrnoMessage(err)};
  }
  return Ok{};
}

}  // namespace

void AddCompareOptions(CLI::App& app, CommandLine& cl) {
  app.add_option("runs", cl.files,
                 "Run directories (with summary.json), set directories (with index.json) or "
                 "links to them (results/<name>/latest)")
      ->required();
  app.add_option("--format", cl.compare.format, "table, markdown, csv or json")
      ->capture_default_str();
  app.add_flag("--include-incomplete", cl.compare.include_incomplete,
               "Also compare .partial, .failed and .interrupted runs and runs whose status is "
               "not ok (skipped with a note otherwise)");
  app.add_option("--seed", cl.compare.seed, "Seed of the bootstrap resampling")
      ->capture_default_str();
  app.add_option("-o,--output", cl.compare.output, "Write to this file instead of stdout");
  app.add_option("--config-dir", cl.run.config_dir,
                 "Directory with profiles.yaml, for the network profiles the runs' scenario.yaml "
                 "name (default: found next to the binary)")
      ->capture_default_str();
  app.footer(
      "Groups the runs into cells (a set's matrix cells; loose runs by scenario name and\n"
      "values) and prints one row per cell: the median over its runs of latency p50 and p99,\n"
      "delivered msg/s, loss, worker and broker CPU, wire bytes per message and cost per\n"
      "month, each with a 95% percentile-bootstrap interval of the median (from 2 runs up).\n"
      "For two cells it says the difference in words: a bootstrap interval of the difference\n"
      "of medians and a Mann-Whitney U test (exact for up to 20 runs a side, ties included).\n"
      "With one run a side it compares the runs' own latency distributions. When the runs\n"
      "carry expect: thresholds it ends with the answer: which cells meet every threshold in\n"
      "all their runs, by how much, and the cheapest. docs/compare.md explains the statistics.\n"
      "Exit 2 for a path that is not a run or a set, an unreadable summary, or cells that\n"
      "differ in more than their matrix keys. Example:\n"
      "  edgebench compare results/edge-vs-cloud/latest --format markdown -o compare.md");
}

CliOutcome CompareCommand(CommandLine& cl) {
  Result<CompareFormat> format = ParseCompareFormat(cl.compare.format);
  if (!format.ok()) return {{format.error()}, true};
  Result<ExternalChecks> checks = CompareChecks(cl.run.config_dir);
  if (!checks.ok()) return {{checks.error()}, false};
  CompareOptions options;
  options.include_incomplete = cl.compare.include_incomplete;
  options.seed = cl.compare.seed;
  options.checks = std::move(*checks);
  Result<Comparison> comparison = Compare(cl.files, options);
  if (!comparison.ok()) return {{comparison.error()}, false};
  std::string text = FormatComparison(*comparison, *format);
  if (cl.compare.output.empty()) {
    std::fputs(text.c_str(), stdout);
    return {};
  }
  Status written = WriteOutput(cl.compare.output, text);
  if (!written.ok()) return {{written.error()}, false};
  return {};
}

}  // namespace edgebench::cli_internal

// The command table's parts, shared by the files of src/cli/: what a subcommand row is,
// the values its options fill in, and the scenario loading that run and validate share.
// Internal: nothing outside src/cli/ includes this header.
#ifndef EDGEBENCH_SRC_CLI_INTERNAL_H_
#define EDGEBENCH_SRC_CLI_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "edgebench/base/error.h"
#include "edgebench/cli/cli.h"
#include "edgebench/run/run.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench::cli_internal {

// compare's own options (the runs and sets go to CommandLine::files); report uses
// include_incomplete and output (its -o) too.
struct CompareArgs {
  std::string format = "table";
  bool include_incomplete = false;
  uint64_t seed = 1;
  std::string output;  // "" = stdout
};

// Everything the options of any subcommand write to. Only one subcommand is parsed per
// call, so the rows share one CommandLine; a new option is a new field here.
struct CommandLine {
  std::string log_level = "info";
  std::vector<std::string> files;  // run, validate: the scenario files
  std::vector<std::string> sets;   // run, validate: --set key.path=value
  RunOptions run;                  // run: --out, --config-dir (validate: --config-dir)
  bool dry_run = false;            // run --dry-run: print the plan only
  std::string resume;              // run --resume SET_DIR
  CompareArgs compare;             // compare: --format, --include-incomplete, --seed, -o
};

// One row of the command table. `add_options` declares the subcommand's own options and
// arguments (RunCli adds --log-level to every row); `handler` runs it once parsing and
// logging setup succeeded. A new subcommand is one row in cli.cc.
struct Subcommand {
  const char* name;
  const char* help;  // one line, shown in `edgebench --help`
  void (*add_options)(CLI::App& app, CommandLine& cl);
  CliOutcome (*handler)(CommandLine& cl);
};

void AddRunOptions(CLI::App& app, CommandLine& cl);
CliOutcome RunCommand(CommandLine& cl);
void AddValidateOptions(CLI::App& app, CommandLine& cl);
CliOutcome ValidateCommand(CommandLine& cl);
void AddCompareOptions(CLI::App& app, CommandLine& cl);
CliOutcome CompareCommand(CommandLine& cl);
void AddVersionOptions(CLI::App& app, CommandLine& cl);
CliOutcome VersionCommand(CommandLine& cl);
void AddReportOptions(CLI::App& app, CommandLine& cl);
CliOutcome ReportCommand(CommandLine& cl);

// The name in `names` that `word` most likely misspells, or "": within two edits (one
// for words of up to four letters; swapping two neighbours is one edit), or a prefix of
// exactly one name.
std::string SuggestName(std::string_view word, const std::vector<std::string>& names);

// True when `dir` holds mosquitto.conf.in.
bool IsConfigDir(const std::string& dir);
// The --set values parsed; an error is a usage error.
Result<std::vector<Override>> ParseOverrides(const std::vector<std::string>& sets);
// The checks a scenario needs from other modules, and the network profiles of config_dir.
Result<ExternalChecks> ScenarioChecks(const std::string& config_dir);
// Every file expanded into its cells (each validated); the first error, as a scenario error.
Result<std::vector<Experiment>> LoadExperiments(const std::vector<std::string>& files,
                                                const std::vector<Override>& overrides,
                                                const ExternalChecks& checks);

}  // namespace edgebench::cli_internal

#endif  // EDGEBENCH_SRC_CLI_INTERNAL_H_

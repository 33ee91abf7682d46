// The command table: one row per subcommand (run, validate, compare, report, version),
// parsed with CLI11.
#include "edgebench/cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/edit_distance.h"
#include "edgebench/base/logging.h"

#include "cli/internal.h"

namespace edgebench {
namespace {

using namespace cli_internal;  // NOLINT(google-build-using-namespace)

// The subcommands, in the order `edgebench --help` lists them.
const Subcommand kSubcommands[] = {
    {"run", "Run a scenario, or a set (matrix, repeats, several files), and write the results",
     AddRunOptions, RunCommand},
    {"validate", "Check scenario files without running them", AddValidateOptions, ValidateCommand},
    {"compare", "Compare runs and sets: medians, intervals, differences and the answer",
     AddCompareOptions, CompareCommand},
    {"report", "Write one HTML page with the tables and charts of runs and sets", AddReportOptions,
     ReportCommand},
    {"version", "Print edgebench's version and build", AddVersionOptions, VersionCommand},
};

constexpr const char* kDescription =
    "edgebench: measure an MQTT device fleet against an edge or a cloud broker.\n"
    "Write a scenario YAML (docs/scenario.md), then `edgebench run scenarios/edge.yaml`.";

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 1 the runs completed but an `expect:` threshold failed; 2 bad usage\n"
    "or scenario (nothing started); 3 a run could not be done (broker unreachable, worker\n"
    "died, netem backend unavailable, disk full); 130 interrupted by SIGINT, SIGTERM, SIGHUP\n"
    "or SIGQUIT (partial results kept).";

// On the top level and on every subcommand, so each one's --help lists it.
void AddLogLevel(CLI::App& app, CommandLine& cl) {
  app.add_option("--log-level", cl.log_level,
                 "What goes to stderr: trace, debug, info, warn, error or off (the run's "
                 "edgebench.log always gets debug)")
      ->capture_default_str();
}

std::vector<std::string> SubcommandNames() {
  std::vector<std::string> names;
  for (const Subcommand& row : kSubcommands) names.emplace_back(row.name);
  return names;
}

// "run, validate or version".
std::string ListOfNames(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
    list += names[i];
  }
  return list;
}

// CLI11 would say "A subcommand is required" for a misspelt one; say what is wrong. The
// first word that is neither an option nor the value of --log-level is the subcommand.
std::optional<Error> CheckSubcommand(int argc, char** argv) {
  std::vector<std::string> names = SubcommandNames();
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--log-level") {
      ++i;
      continue;
    }
    if (word.starts_with("-")) continue;
    if (std::find(names.begin(), names.end(), word) != names.end()) return std::nullopt;
    std::string suggestion = SuggestName(word, names);
    std::string hint = suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ";
    return Error{ErrorKind::kUsage, "unknown subcommand '" + word + "' (" + hint + "expected " +
                                        ListOfNames(names) + ")"};
  }
  return std::nullopt;
}

}  // namespace

namespace cli_internal {

std::string SuggestName(std::string_view word, const std::vector<std::string>& names) {
  size_t max_distance = word.size() <= 4 ? 1 : 2;
  std::string best;
  size_t best_distance = max_distance + 1;
  for (const std::string& name : names) {
    size_t distance = EditDistance(word, name);
    if (distance < best_distance) {
      best_distance = distance;
      best = name;
    }
  }
  if (!best.empty() || word.size() < 2) return best;
  // "ver" for "version": only when no other name starts the same way.
  for (const std::string& name : names) {
    if (!name.starts_with(word)) continue;
    if (!best.empty()) return "";
    best = name;
  }
  return best;
}

}  // namespace cli_internal

std::string FindConfigDir(const char* argv0) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread starts
  if (const char* env = std::getenv("EDGEBENCH_CONFIG_DIR")) return env;
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string(argv0);
  std::string bin_dir = self.substr(0, self.rfind('/'));
  for (const std::string& c : {bin_dir + "/../config", bin_dir + "/../share/edgebench/config",
                               std::string(EDGEBENCH_SOURCE_CONFIG_DIR)}) {
    if (IsConfigDir(c)) return std::filesystem::path(c).lexically_normal().string();
  }
  return "config";
}

CliOutcome RunCli(int argc, char** argv) {
  CommandLine cl;
  cl.run.config_dir = FindConfigDir(argv[0]);
  CLI::App app{kDescription, "edgebench"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  app.fallthrough();
  AddLogLevel(app, cl);
  for (const Subcommand& row : kSubcommands) {
    CLI::App* sub = app.add_subcommand(row.name, row.help);
    row.add_options(*sub, cl);
    AddLogLevel(*sub, cl);
    // A subcommand starts with the top level's footer; one of its own goes above it.
    if (sub->get_footer() != kExitCodesHelp) {
      sub->footer(sub->get_footer() + "\n\n" + kExitCodesHelp);
    }
  }
  if (std::optional<Error> e = CheckSubcommand(argc, argv)) return {{*e}, true};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    CliOutcome out;
    out.help_exit_code = app.exit(e);
    return out;
  } catch (const CLI::ParseError& e) {
    return {{Error{ErrorKind::kUsage, e.what()}}, true};
  }
  if (Status st = SetupConsoleLogging(cl.log_level); !st) {
    return {{st.error().WithKind(ErrorKind::kUsage)}, true};
  }
  cl.run.log_level = cl.log_level;
  cl.run.command_line.assign(argv, argv + argc);
  for (const Subcommand& row : kSubcommands) {
    if (app.got_subcommand(row.name)) return row.handler(cl);
  }
  return {};  // unreachable: require_subcommand(1)
}

}  // namespace edgebench

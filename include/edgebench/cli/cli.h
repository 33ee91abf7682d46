// Cli: the edgebench command line, a table of subcommands (run, validate, version).
//
// Contract: RunCli() parses argv, runs the subcommand and returns what main() needs to
// print and return; it prints results to stdout but never prints errors itself.
#ifndef EDGEBENCH_CLI_CLI_H_
#define EDGEBENCH_CLI_CLI_H_

#include <string>
#include <vector>

#include "edgebench/base/error.h"

namespace edgebench {

struct CliOutcome {
  // Each printed by main() as "edgebench: error: ..."; the first one's kind picks the exit
  // code. An interruption may come without a message (then nothing is printed for it).
  std::vector<Error> errors;
  bool show_usage_hint = false;  // add "Run 'edgebench --help' ..." after the errors
  int help_exit_code = 0;        // --help and version: what CLI11 asked for
  // Printed by main() as "edgebench: warning: ..." before the errors; they change no exit
  // code (validate: a file that only a run reads is missing).
  std::vector<Error> warnings{};
};

CliOutcome RunCli(int argc, char** argv);

// Where config/ (mosquitto.conf.in) is: $EDGEBENCH_CONFIG_DIR, else next to the binary's
// parent directory, else the source tree edgebench was built from.
std::string FindConfigDir(const char* argv0);

}  // namespace edgebench

#endif  // EDGEBENCH_CLI_CLI_H_

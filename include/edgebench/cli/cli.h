// Cli: the edgebench command line (run, validate, version) over the modules.
//
// Contract: RunCli() parses argv, runs the subcommand and returns what main() needs to
// print and return; it prints results to stdout but never prints errors itself.
#ifndef EDGEBENCH_CLI_CLI_H_
#define EDGEBENCH_CLI_CLI_H_

#include <string>
#include <vector>

namespace edgebench {

struct CliOutcome {
  int exit_code = 0;
  std::vector<std::string> errors;  // each printed by main() as "edgebench: error: ..."
  bool show_usage_hint = false;     // add "Run 'edgebench --help' ..." after the errors
};

CliOutcome RunCli(int argc, char** argv);

// Where config/ (mosquitto.conf.in) is: $EDGEBENCH_CONFIG_DIR, else next to the binary's
// parent directory, else the source tree edgebench was built from.
std::string FindConfigDir(const char* argv0);

}  // namespace edgebench

#endif  // EDGEBENCH_CLI_CLI_H_

// edgebench's entry point: the only place that prints errors and picks the exit code.
#include <cstdio>
#include <exception>
#include <string>

#include "edgebench/cli/cli.h"

int main(int argc, char** argv) {
  try {
    edgebench::CliOutcome out = edgebench::RunCli(argc, argv);
    for (const std::string& e : out.errors) std::fprintf(stderr, "edgebench: error: %s\n", e.c_str());
    if (out.show_usage_hint) std::fprintf(stderr, "Run 'edgebench --help' for usage.\n");
    return out.exit_code;
  } catch (const std::exception& e) {
    // A bug, not an input problem: still one line and a documented code.
    std::fprintf(stderr, "edgebench: error: internal error: %s\n", e.what());
    return 3;
  }
}

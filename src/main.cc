// edgebench's entry point: the only place that prints errors and maps them to exit codes.
#include <cstdio>
#include <exception>
#include <string>

#include "edgebench/base/error.h"
#include "edgebench/cli/cli.h"

namespace {

// The exit codes of docs/cli.md.
int ExitCodeFor(edgebench::ErrorKind kind) {
  using edgebench::ErrorKind;
  switch (kind) {
    case ErrorKind::kThreshold:
      return 1;
    case ErrorKind::kUsage:
    case ErrorKind::kScenario:
      return 2;
    case ErrorKind::kUnavailable:
    case ErrorKind::kRunFailed:
    case ErrorKind::kInternal:
      return 3;
    case ErrorKind::kInterrupted:
      return 130;
  }
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    edgebench::CliOutcome out = edgebench::RunCli(argc, argv);
    for (const edgebench::Error& w : out.warnings) {
      std::fprintf(stderr, "edgebench: warning: %s\n",
                   edgebench::EscapeControlCharacters(w.ToStringWithContext()).c_str());
    }
    for (const edgebench::Error& e : out.errors) {
      if (e.message.empty()) continue;  // an interruption: the exit code says it
      std::fprintf(stderr, "edgebench: error: %s\n",
                   edgebench::EscapeControlCharacters(e.ToStringWithContext()).c_str());
    }
    if (out.show_usage_hint) std::fprintf(stderr, "Run 'edgebench --help' for usage.\n");
    if (out.errors.empty()) return out.help_exit_code;
    return ExitCodeFor(out.errors.front().kind);
  } catch (const std::exception& e) {
    // A bug, not an input problem: still one line and a documented code.
    std::fprintf(stderr, "edgebench: error: internal error: %s\n",
                 edgebench::EscapeControlCharacters(e.what()).c_str());
    return ExitCodeFor(edgebench::ErrorKind::kInternal);
  }
}

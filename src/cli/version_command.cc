// edgebench version: the version, the git revision it was built from, and libmosquitto's.
#include <cstdio>

#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/results/run_directory.h"

#include "cli/internal.h"

namespace edgebench::cli_internal {

void AddVersionOptions(CLI::App&, CommandLine&) {}

CliOutcome VersionCommand(CommandLine&) {
  std::printf("edgebench %s (git %s, libmosquitto %s)\n", EdgebenchVersion().c_str(),
              EdgebenchGitRevision().c_str(), MosquittoLibrary::Version().c_str());
  return {};
}

}  // namespace edgebench::cli_internal

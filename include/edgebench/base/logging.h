// Logging setup (spdlog): one logger per process, to stderr and to the run's log file.
//
// Contract: call SetupConsoleLogging() in main(); AddLogFile() once the run directory
// exists; SetupWorkerLogging() in a forked worker (it replaces what fork copied). All
// loggers are synchronous (no logging thread), so fork() stays safe. Call FlushLogs()
// before fork() so no buffered line is written twice.
#ifndef EDGEBENCH_BASE_LOGGING_H_
#define EDGEBENCH_BASE_LOGGING_H_

#include <string>

#include "edgebench/base/error.h"

namespace edgebench {

// Level names: trace, debug, info, warn, error, off. Error for others.
Status SetupConsoleLogging(const std::string& level);
// Also log to `path` (appending), with the level of the console logger or debug.
Status AddLogFile(const std::string& path);
// In a forked worker: log to `path` only, each line tagged "worker"; warnings and errors
// also to stderr.
void SetupWorkerLogging(const std::string& path, const std::string& level);
void FlushLogs();

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_LOGGING_H_

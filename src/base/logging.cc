// spdlog setup for the orchestrator and the worker.
#include "edgebench/base/logging.h"

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace edgebench {
namespace {

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v";

std::shared_ptr<spdlog::sinks::sink> g_console;  // the orchestrator's stderr sink

}  // namespace

Status SetupConsoleLogging(const std::string& level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Error{"--log-level must be trace, debug, info, warn, error or off, got '" + level + "'"};
  }
  g_console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  g_console->set_level(lvl);
  auto logger = std::make_shared<spdlog::logger>("edgebench", g_console);
  logger->set_level(spdlog::level::trace);
  logger->set_pattern(kPattern);
  if (::isatty(STDERR_FILENO) != 0) {
    // On a terminal, a log line first clears the line it lands on: the live status line
    // (run/run.cc) is redrawn under it at its next update instead of being glued to it.
    g_console->set_pattern(std::string("\r\033[K") + kPattern);
  }
  spdlog::set_default_logger(logger);
  return Ok{};
}

Status AddLogFile(const std::string& path) {
  try {
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
    file->set_level(spdlog::level::debug);
    file->set_pattern(kPattern);
    spdlog::default_logger()->sinks().push_back(file);
    spdlog::default_logger()->flush_on(spdlog::level::info);
  } catch (const spdlog::spdlog_ex& e) {
    return Error{"cannot write " + path + ": " + e.what()};
  }
  return Ok{};
}

void SetupWorkerLogging(const std::string& path, const std::string& level) {
  std::vector<spdlog::sink_ptr> sinks;
  auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  err->set_level(spdlog::level::warn);
  sinks.push_back(err);
  if (!path.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
      file->set_level(spdlog::level::debug);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex&) {
      // The orchestrator opened the same file a moment ago; if that fails now, the
      // worker still logs warnings to stderr.
    }
  }
  auto logger = std::make_shared<spdlog::logger>("worker", sinks.begin(), sinks.end());
  spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  logger->set_level(lvl == spdlog::level::off && level != "off" ? spdlog::level::info : lvl);
  logger->set_pattern(kPattern);
  logger->flush_on(spdlog::level::info);
  g_console.reset();
  spdlog::set_default_logger(logger);
}

void FlushLogs() { spdlog::default_logger()->flush(); }

}  // namespace edgebench

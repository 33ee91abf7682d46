// Helpers shared by the tests: a self-removing temporary directory, a real mosquitto on a
// free loopback port, scenarios from YAML text and a few process checks.
#ifndef EDGEBENCH_TESTS_TEST_SUPPORT_H_
#define EDGEBENCH_TESTS_TEST_SUPPORT_H_

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include "edgebench/broker/broker.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): no threads yet
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/edgebench-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      FAIL("mkdtemp " << pattern << ": " << strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// True when no process (not even a zombie) has this pid any more.
inline bool ProcessGone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// A mosquitto started from config/mosquitto.conf.in in its own temporary run directory,
// stopped (and reaped) on destruction. Start it before any thread runs: it forks.
class BrokerFixture {
 public:
  BrokerFixture() {
    EmbeddedBrokerOptions options;
    options.config_template = EDGEBENCH_SOURCE_DIR "/config/mosquitto.conf.in";
    options.run_dir = dir_.path();
    Result<EmbeddedBroker> broker = EmbeddedBroker::Start(options);
    INFO((broker.ok() ? std::string() : broker.error().message));
    REQUIRE(broker.ok());
    broker_.emplace(std::move(broker.value()));
  }
  ~BrokerFixture() {
    if (broker_) broker_->Stop();
  }
  BrokerFixture(const BrokerFixture&) = delete;
  BrokerFixture& operator=(const BrokerFixture&) = delete;

  int port() const { return broker_->port(); }
  EmbeddedBroker& broker() { return *broker_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::optional<EmbeddedBroker> broker_;
};

// A scenario from YAML text; fails the test (showing the error) when it does not parse.
inline Scenario ScenarioFromYaml(std::string_view yaml) {
  Result<Scenario> s = ParseScenario(yaml, "<test>");
  INFO((s.ok() ? std::string() : s.error().ToStringWithContext()));
  REQUIRE(s.ok());
  return s.value();
}

// A loopback port nothing listens on (free a moment ago).
inline int ClosedLoopbackPort() {
  Result<int> port = FindFreeLoopbackPort();
  REQUIRE(port.ok());
  return *port;
}

// Polls `done` every 5 ms until it is true or `timeout_ms` passed; its last value.
template <class F>
bool WaitFor(F done, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace edgebench::testing

#endif  // EDGEBENCH_TESTS_TEST_SUPPORT_H_

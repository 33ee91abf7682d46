// SIGINT, SIGTERM and SIGHUP in every phase of a real run (setup, warm-up, window, drain, and
// between two scenarios of one command line): exit 130, status interrupted in a directory named
// .interrupted, every scheduled message accounted for, and nothing left behind. Each phase is
// awaited by a line edgebench writes, never by a fixed sleep.
#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fault/fault_support.h"

namespace {

using namespace fault;  // NOLINT(google-build-using-namespace)

const char* SignalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "another signal";
  }
}

// 5 devices x 10 msg/s over warm-up 0.5 s + window 3 s: what the plan schedules, whatever
// the stop left unsent.
constexpr int kPlanned = 5 * 10 * 35 / 10;

// Runs `scenario`, waits for `needle` in its log, sends `sig`; the run's summary after the
// common checks of an interrupted run.
nlohmann::json InterruptAt(const SmallScenario& scenario, const std::string& needle, int sig) {
  TempDir dir;
  fs::path file = dir.Write(scenario.name + ".yaml", scenario.Yaml());
  EdgebenchRun run(dir.path, {"run", file.string()});
  REQUIRE(run.WaitForLog(needle));
  run.Signal(sig);
  nlohmann::json summary = CheckOutcome(run, "interrupted");
  CHECK(run.Stderr().find("edgebench: error:") == std::string::npos);
  return summary;
}

}  // namespace

TEST_CASE("a signal during setup: exit 130, interrupted, nothing left", "[fault][integration]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO(SignalName(sig) << " while the devices connect");
  SmallScenario s{"setup"};
  // A connect ramp of 5 devices at 2 a second keeps the run in setup for 2.5 s after the
  // broker started.
  s.devices = "{count: 5, connect_rate: 2}";
  nlohmann::json summary = InterruptAt(s, "broker started pid=", sig);
  // Nothing was measured: the run stopped before its clock started or early in it.
  CHECK(summary.at("window").at("measured_s").get<double>() < 3);
}

TEST_CASE("a signal during the warm-up: exit 130, interrupted, nothing left",
          "[fault][integration]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO(SignalName(sig) << " in the warm-up");
  SmallScenario s{"warmup"};
  s.warmup_s = 3;  // the status line says "warm-up" after 1 s
  s.duration_s = 0.5;
  nlohmann::json summary = InterruptAt(s, "progress [warm-up", sig);
  const nlohmann::json& m = summary.at("messages");
  CHECK(m.at("scheduled") == kPlanned);
  CHECK(m.at("sent").get<int>() < kPlanned);
  CHECK(m.at("unsent").get<int>() > 0);
}

TEST_CASE("a signal in the measurement window: exit 130, interrupted, nothing left",
          "[fault][integration]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO(SignalName(sig) << " in the window");
  SmallScenario s{"window"};
  // A cgroup for the broker where this machine has them, so the check that none is left
  // has one to look for.
  s.extra = "broker: {resources: {cpus: 1, required: false}}\n";
  nlohmann::json summary = InterruptAt(s, "progress [measuring", sig);
  const nlohmann::json& m = summary.at("messages");
  CHECK(m.at("scheduled") == kPlanned);
  CHECK(m.at("sent").get<int>() > 0);
  CHECK(m.at("unsent").get<int>() > 0);
  CHECK(summary.at("window").at("measured_s").get<double>() < 3);
}

// Issue 13, item 3: a signal after the worker has finished used to be ignored (exit 0, what
// was still in flight counted as lost).
TEST_CASE("a signal during the drain: exit 130, interrupted, nothing lost, nothing left",
          "[fault][integration]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO(SignalName(sig) << " in the drain");
  SmallScenario s{"drain"};
  // 50 KB/s into a 0.2 Mbit/s (25 KB/s) uplink: when the worker is done at the end of the
  // window, about half of what it sent is still queued in the link proxy, arriving for
  // seconds more. The drain lasts as long as that.
  s.publish = "{rate: 10, qos: 0, payload: {size: 1024}}";
  s.drain_s = 30;
  s.extra = "network: {rtt_ms: 0, uplink_mbit: 0.2, backend: proxy}\n";
  nlohmann::json summary = InterruptAt(s, "worker done sent=", sig);
  const nlohmann::json& m = summary.at("messages");
  CHECK(m.at("unsent") == 0);
  // The link loses nothing; what had not arrived yet was in flight, and a note says so.
  CHECK(m.at("lost") == 0);
  const uint64_t sent = m.at("sent"), received = m.at("received");
  CHECK(sent > received);
  CHECK(m.at("in_flight_at_end") == sent - received);
  const std::string note = std::to_string(sent - received) +
                           " messages had not arrived when the run was interrupted: counted as "
                           "in flight, not lost";
  bool noted = false;
  for (const auto& n : summary.at("notes")) noted = noted || n.get<std::string>() == note;
  CHECK(noted);
}

TEST_CASE("a signal between two scenarios of one command line: exit 130, the rest listed",
          "[fault][integration]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  INFO(SignalName(sig) << " in the cool-down between two runs");
  TempDir dir;
  SmallScenario first{"first"};
  first.extra = "cooldown_s: 60\n";
  SmallScenario second{"second"};
  second.extra = "cooldown_s: 60\n";
  fs::path a = dir.Write("first.yaml", first.Yaml());
  fs::path b = dir.Write("second.yaml", second.Yaml());
  EdgebenchRun run(dir.path, {"run", a.string(), b.string()});
  // The first run is over once its final directory is on stdout; the cool-down follows.
  REQUIRE(run.WaitUntil([&] {
    std::vector<fs::path> dirs = RunDirs(run.out());
    return dirs.size() == 1 && dirs[0].extension().empty() &&
           run.Stdout().find(dirs[0].string() + "\n") != std::string::npos;
  }));
  run.Signal(sig);
  INFO("stderr: " << run.Stderr());
  CHECK(run.Wait() == 130);
  std::vector<fs::path> dirs = RunDirs(run.out());
  REQUIRE(dirs.size() == 1);
  CheckRunDir(dirs[0], "ok");
  CheckNothingLeft(run);
  // The run not done is listed: in index.json as missing, and on stderr.
  nlohmann::json index =
      nlohmann::json::parse(Slurp(dirs[0].parent_path().parent_path() / "index.json"));
  CHECK(index.at("runs_done") == 1);
  CHECK(index.at("runs_missing") == 1);
  std::vector<std::string> statuses;
  for (const nlohmann::json& cell : index.at("cells")) {
    statuses.push_back(cell.at("runs").at(0).at("status"));
  }
  std::sort(statuses.begin(), statuses.end());
  CHECK(statuses == std::vector<std::string>{"missing", "ok"});
  CHECK(run.Stderr().find("edgebench: error: set interrupted after 1 of 2 runs") !=
        std::string::npos);
}

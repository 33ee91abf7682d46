// Tests for src/worker.cc and src/load_generator.cc: a real forked worker publishing to a
// real mosquitto, its failure modes, and the report's JSON form.
#include "edgebench/load/worker.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/clock.h"

#include "test_support.h"

namespace edgebench {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::BrokerFixture;
using testing::ProcessGone;
using testing::ScenarioFromYaml;
using testing::TempDir;

constexpr uint64_t kNsPerMs = 1'000'000;

// 5 devices x 20 msg/s for 1 s at QoS 1: 100 messages.
const char* const kSmallScenario = R"(name: worker-test
devices:
  count: 5
topics:
  - "wt/{device}"
publish:
  rate: 20
  qos: 1
duration_s: 1
warmup_s: 0
drain_s: 1
)";

WorkerConfig ConfigFor(const Scenario& scenario, int port, const TempDir& dir) {
  WorkerConfig config;
  config.scenario = scenario;
  config.host = "127.0.0.1";
  config.port = port;
  config.run_id = 42;
  config.log_path = dir.File("edgebench.log");
  return config;
}

// As Run::Measure builds it: the schedule starts a little after `go`.
RunClock ClockFor(const Scenario& s) {
  auto ns = [](double seconds) { return static_cast<uint64_t>(seconds * 1e9); };
  RunClock clock;
  clock.t0_ns = MonotonicNowNs() + 100 * kNsPerMs;
  clock.window_start_ns = clock.t0_ns + ns(s.warmup_s);
  clock.window_end_ns = clock.window_start_ns + ns(s.duration_s);
  clock.drain_end_ns = clock.window_end_ns + ns(s.drain_s);
  return clock;
}

WorkerReport SampleReport() {
  WorkerReport r;
  r.counters[Counter::kScheduled] = 100;
  r.counters[Counter::kSent] = 98;
  r.counters[Counter::kAcked] = 97;
  r.counters[Counter::kPublishErrors] = 2;
  r.counters[Counter::kWorkerDisconnects] = 1;
  r.counters[Counter::kWorkerReconnects] = 1;
  r.counters[Counter::kSkippedDisconnected] = 3;
  r.counters[Counter::kWindowSent] = 90;
  r.counters[Counter::kLastSendNs] = 123'456'789;
  r.sent_per_device = {50, 48};
  r.sent_per_second = {10, 80, 8};
  r.lag_us.Record(5);
  r.lag_us.Record(120);
  r.lag_us.Record(98'765);
  r.counters[Counter::kUnacked] = 1;
  r.cpu_s = 0.25;
  r.rss_peak_kb = 12'345;
  r.protocol_mismatches = {{"devices", "the broker at h:1 acknowledged none", 98}};
  r.protocol_notes = {"a keep-alive of 30 s"};
  return r;
}

// Forks a worker at a closed port with connect_timeout_s: 1 and returns its error, checking
// that it arrives within the connect timeout + 1 s and that the worker exits with status 3.
std::string ClosedPortError(int port) {
  TempDir dir;
  Scenario s = ScenarioFromYaml(std::string(kSmallScenario) + "broker:\n  connect_timeout_s: 1\n");
  Result<Worker> worker = Worker::Fork(ConfigFor(s, port, dir));
  REQUIRE(worker.ok());
  REQUIRE(worker->Connect().ok());
  const int pid = worker->pid();
  auto start = steady_clock::now();
  Result<int> ready = worker->WaitReady(5000);
  CHECK(steady_clock::now() - start < milliseconds(2000));
  REQUIRE(!ready.ok());
  CHECK(DescribeWaitStatus(worker->Finish(2000)) == "exited with status 3");
  CHECK(ProcessGone(pid));
  return ready.error().ToString();
}

}  // namespace

TEST_CASE("worker publishes a small scenario to a real broker", "[worker]") {
  BrokerFixture broker;
  TempDir dir;
  Scenario s = ScenarioFromYaml(kSmallScenario);
  Result<Worker> worker = Worker::Fork(ConfigFor(s, broker.port(), dir));
  REQUIRE(worker.ok());
  REQUIRE(worker->Connect().ok());
  const int pid = worker->pid();
  CHECK(pid > 0);

  Result<int> ready = worker->WaitReady(5000);
  INFO((ready.ok() ? std::string() : ready.error().message));
  REQUIRE(ready.ok());
  CHECK(*ready == 5);

  RunClock clock = ClockFor(s);
  REQUIRE(worker->Go(clock).ok());

  std::optional<WorkerReport> report;
  uint64_t last_progress_sent = 0;
  auto deadline = steady_clock::now() + milliseconds(8000);
  while (!report && steady_clock::now() < deadline) {
    Result<std::optional<FromWorkerMessage>> ev = worker->Next(500);
    INFO((ev.ok() ? std::string() : ev.error().message));
    REQUIRE(ev.ok());
    if (!ev.value()) continue;
    const FromWorkerMessage& e = *ev.value();
    if (const auto* progress = std::get_if<ProgressMessage>(&e)) {
      CHECK(progress->counters[Counter::kScheduled] == 100);
      CHECK(progress->counters[Counter::kSent] >= last_progress_sent);
      CHECK(progress->counters[Counter::kSent] <= 100);
      last_progress_sent = progress->counters[Counter::kSent];
    } else {
      REQUIRE(std::holds_alternative<FinalMessage>(e));
      report = std::get<FinalMessage>(e).report;
    }
  }
  REQUIRE(report);
  // The worker gives up on acks at drain_end at the latest.
  CHECK(MonotonicNowNs() < clock.drain_end_ns + 2000 * kNsPerMs);
  const Counters& c = report->counters;
  CHECK(c[Counter::kScheduled] == 100);
  CHECK(c[Counter::kSent] == 100);
  CHECK(c[Counter::kAcked] == 100);
  CHECK(c[Counter::kWindowSent] == 100);
  CHECK(c[Counter::kPublishErrors] == 0);
  CHECK(c[Counter::kWorkerDisconnects] == 0);
  CHECK(report->counters[Counter::kUnacked] == 0);
  CHECK(report->sent_per_device == std::vector<uint64_t>(5, 20));
  CHECK(std::accumulate(report->sent_per_second.begin(), report->sent_per_second.end(),
                        uint64_t{0}) == 100);
  CHECK(report->lag_us.count() == 100);
  CHECK(report->rss_peak_kb > 0);

  int status = worker->Finish(2000);
  CHECK(DescribeWaitStatus(status) == "exited with status 0");
  CHECK(ProcessGone(pid));
}

TEST_CASE("worker leaves when the orchestrator closes the pipe before go", "[worker]") {
  BrokerFixture broker;
  TempDir dir;
  Scenario s = ScenarioFromYaml(kSmallScenario);
  Result<Worker> worker = Worker::Fork(ConfigFor(s, broker.port(), dir));
  REQUIRE(worker.ok());
  REQUIRE(worker->Connect().ok());
  const int pid = worker->pid();
  Result<int> ready = worker->WaitReady(5000);
  REQUIRE(ready.ok());
  auto start = steady_clock::now();
  CHECK(DescribeWaitStatus(worker->Finish(2000)) == "exited with status 0");
  CHECK(steady_clock::now() - start < milliseconds(1500));  // left by itself, not killed
  CHECK(ProcessGone(pid));
}

TEST_CASE("worker that is never told to connect leaves on EOF", "[worker]") {
  TempDir dir;
  const int port = testing::ClosedLoopbackPort();  // never contacted
  Result<Worker> worker = Worker::Fork(ConfigFor(ScenarioFromYaml(kSmallScenario), port, dir));
  REQUIRE(worker.ok());
  const int pid = worker->pid();
  auto start = steady_clock::now();
  CHECK(DescribeWaitStatus(worker->Finish(2000)) == "exited with status 0");
  CHECK(steady_clock::now() - start < milliseconds(1500));
  CHECK(ProcessGone(pid));
}

TEST_CASE("worker pointed at a closed port reports that it cannot connect", "[worker]") {
  const int port = testing::ClosedLoopbackPort();
  CHECK_THAT(ClosedPortError(port),
             Catch::Matchers::StartsWith(
                 "cannot connect to the broker at 127.0.0.1:" + std::to_string(port) + ": "));
}

// A refused connection is retried until connect_timeout_s, then reported with the count.
TEST_CASE("worker at a closed port says how many devices connected", "[worker]") {
  const int port = testing::ClosedLoopbackPort();
  CHECK(ClosedPortError(port) ==
        "cannot connect to the broker at 127.0.0.1:" + std::to_string(port) +
            ": 0 of 5 devices connected within 1 s (Connection refused)");
}

TEST_CASE("worker killed during the run is reported, not waited for", "[worker]") {
  BrokerFixture broker;
  TempDir dir;
  Scenario s = ScenarioFromYaml(kSmallScenario);
  Result<Worker> worker = Worker::Fork(ConfigFor(s, broker.port(), dir));
  REQUIRE(worker.ok());
  REQUIRE(worker->Connect().ok());
  const int pid = worker->pid();
  REQUIRE(worker->WaitReady(5000).ok());
  REQUIRE(worker->Go(ClockFor(s)).ok());
  std::this_thread::sleep_for(milliseconds(300));  // publishing by now
  REQUIRE(::kill(pid, SIGKILL) == 0);

  auto start = steady_clock::now();
  std::optional<Error> error;
  while (!error && steady_clock::now() - start < milliseconds(3000)) {
    Result<std::optional<FromWorkerMessage>> ev = worker->Next(500);
    if (!ev.ok()) {
      error = ev.error();
    } else if (ev.value()) {
      CHECK(std::holds_alternative<ProgressMessage>(*ev.value()));  // never a final report
    }
  }
  REQUIRE(error);
  CHECK(error->ToString() == "worker killed by signal 9 (Killed)");
  CHECK(steady_clock::now() - start < milliseconds(1500));
  CHECK(ProcessGone(pid));  // reaped while describing the exit
}

namespace {

// The report as the worker sends it: one line of the worker protocol, parsed as JSON.
nlohmann::json Wire(const WorkerReport& r) {
  std::string line = Encode(FromWorkerMessage(FinalMessage{r}));
  REQUIRE(line.back() == '\n');
  return nlohmann::json::parse(line);
}

Result<WorkerReport> WorkerReportFromJson(const nlohmann::json& j) {
  Result<FromWorkerMessage> m = DecodeFromWorker(j.dump());
  if (!m.ok()) return m.error();
  REQUIRE(std::holds_alternative<FinalMessage>(m.value()));
  return std::get<FinalMessage>(m.value()).report;
}

}  // namespace

TEST_CASE("WorkerReport JSON round trip", "[worker]") {
  WorkerReport in = SampleReport();
  nlohmann::json j = Wire(in);
  CHECK(j.at("type") == "final");
  Result<WorkerReport> out = WorkerReportFromJson(nlohmann::json::parse(j.dump()));
  INFO((out.ok() ? std::string() : out.error().message));
  REQUIRE(out.ok());
  CHECK(out->counters[Counter::kScheduled] == 100);
  CHECK(out->counters[Counter::kSent] == 98);
  CHECK(out->counters[Counter::kAcked] == 97);
  CHECK(out->counters[Counter::kPublishErrors] == 2);
  CHECK(out->counters[Counter::kWorkerDisconnects] == 1);
  CHECK(out->counters[Counter::kWindowSent] == 90);
  CHECK(out->counters[Counter::kWorkerReconnects] == 1);
  CHECK(out->counters[Counter::kSkippedDisconnected] == 3);
  CHECK(out->counters[Counter::kLastSendNs] == 123'456'789);
  CHECK(out->sent_per_device == in.sent_per_device);
  CHECK(out->sent_per_second == in.sent_per_second);
  CHECK(out->lag_us.count() == 3);
  CHECK(out->lag_us.min() == 5);
  CHECK(out->lag_us.max() == 98'765);
  CHECK(out->lag_us.ToJson() == in.lag_us.ToJson());
  CHECK(out->counters[Counter::kUnacked] == 1);
  CHECK(out->cpu_s == 0.25);
  CHECK(out->rss_peak_kb == 12'345);
  CHECK(out->protocol_mismatches == in.protocol_mismatches);
  CHECK(out->protocol_notes == in.protocol_notes);
  CHECK(Wire(out.value()) == j);
}

TEST_CASE("WorkerReportFromJson errors", "[worker]") {
  nlohmann::json j = Wire(SampleReport());
  SECTION("missing sent_per_device") {
    j.erase("sent_per_device");
    Result<WorkerReport> r = WorkerReportFromJson(j);
    REQUIRE(!r.ok());
    CHECK(r.error().ToString() ==
          "worker report: [json.exception.out_of_range.403] key 'sent_per_device' not found");
  }
  SECTION("missing lag_us") {
    j.erase("lag_us");
    Result<WorkerReport> r = WorkerReportFromJson(j);
    REQUIRE(!r.ok());
    CHECK(r.error().ToString() ==
          "worker report: [json.exception.out_of_range.403] key 'lag_us' not found");
  }
  SECTION("lag_us without counts") {
    j["lag_us"].erase("counts");
    Result<WorkerReport> r = WorkerReportFromJson(j);
    REQUIRE(!r.ok());
    CHECK(r.error().ToString() == "histogram json: missing 'counts'");
  }
  SECTION("sent_per_second of the wrong type") {
    j["sent_per_second"] = "many";
    Result<WorkerReport> r = WorkerReportFromJson(j);
    REQUIRE(!r.ok());
    CHECK(r.error().ToString() ==
          "worker report: [json.exception.type_error.302] type must be array, but is string");
  }
}

}  // namespace edgebench

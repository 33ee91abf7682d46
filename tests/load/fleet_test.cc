// Fleet features end to end: rate: max with publish.count, gateways, Poisson arrivals, the
// connect ramp, several workers, the in-flight window, reconnects after a broker restart,
// and the open-files limit.
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"

#include "cli_support.h"

namespace {

using namespace cli_support;
using nlohmann::json;

CommandResult Run(const TempDir& tmp, const std::string& yaml,
                  const std::vector<std::string>& extra = {}) {
  fs::path scenario = tmp.Write("s.yaml", yaml);
  std::vector<std::string> args = {"run", scenario.string(), "--out",
                                   (tmp.path / "results").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunEdgebench(args, tmp.path);
}

// A mosquitto on a fixed port that the test can stop and start again.
edgebench::ChildProcess StartMosquitto(const TempDir& tmp, int port) {
  char user[256] = "root";
  getlogin_r(user, sizeof user);
  fs::path conf = tmp.Write("restart.conf", "listener " + std::to_string(port) +
                                                " 127.0.0.1\nallow_anonymous true\n"
                                                "user " +
                                                std::string(getuid() == 0 ? "root" : user) + "\n");
  auto child = edgebench::SpawnProgram({"mosquitto", "-c", conf.string()},
                                       (tmp.path / "restart.log").string());
  REQUIRE(child.ok());
  for (int i = 0; i < 200 && !edgebench::CanConnect("127.0.0.1", port, 50); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::move(child.value());
}

}  // namespace

TEST_CASE("rate: max with publish.count sends exactly the count and ends early",
          "[fleet][integration]") {
  int qos = GENERATE(0, 1);
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: max\ndevices: {count: 10}\ntopics: ['bench/{device}']\n"
                        "publish: {rate: max, count: 2000, qos: " +
                            std::to_string(qos) +
                            ", payload: {size: 32}}\nduration_s: 60\ndrain_s: 5\n"
                            "capture: {enabled: false}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.seconds < 30);  // bounded by the count, not by the 60 s window
  json s = SummaryOf(r.out);
  CHECK(s["messages"]["scheduled"] == 20000);
  CHECK(s["messages"]["sent"] == 20000);
  CHECK(s["messages"]["received"] == 20000);
  CHECK(s["messages"]["lost"] == 0);
  CHECK(s["generator_lag_us"]["max"] == 0);
  CHECK(s["window"]["measured_s"].get<double>() < 30);
  CHECK(s["throughput"]["sent_per_s"].get<double>() > 1000);
  CHECK(s["notes"].dump().find("publish.rate: max") != std::string::npos);
}

TEST_CASE("gateways: the devices share the given number of connections", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: gw\ndevices: {count: 50, gateways: 2}\n"
                        "publish: {rate: 10, qos: 1}\nduration_s: 1\ndrain_s: 2\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  CHECK(s["messages"]["sent"] == 500);
  CHECK(s["messages"]["received"] == 500);
  CHECK(s["connections"]["gateways"] == 2);
  if (s["network"]["capture"] == "ok") {
    CHECK(s["network"]["mqtt_packets"]["to_broker"]["CONNECT"] == 3);  // 2 gateways + collector
  }
}

TEST_CASE("Poisson arrivals keep the mean rate but not the spacing", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: poisson\ndevices: {count: 50}\n"
                        "publish: {rate: 20, arrival: poisson}\nduration_s: 2\ndrain_s: 2\n"
                        "capture: {enabled: false}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  uint64_t scheduled = s["messages"]["scheduled"];
  CHECK(scheduled != 2000);  // a constant schedule would give exactly 50 x 20 x 2
  CHECK(scheduled > 1700);   // 2000 expected; a Poisson count this far off is < 1e-10 likely
  CHECK(scheduled < 2300);
  CHECK(s["messages"]["received"] == s["messages"]["sent"]);
}

TEST_CASE("connect_rate ramps the connections up", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: ramp\ndevices: {count: 20, connect_rate: 40}\n"
                        "duration_s: 1\ncapture: {enabled: false}\n",
                        {"--log-level", "info"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // 20 connections at 40 per second: the last starts 475 ms after the first.
  std::string log = Slurp(fs::path(LastLine(r.out)) / "edgebench.log");
  size_t at = log.find("worker 0 connected in_ms=");
  REQUIRE(at != std::string::npos);
  int ms = std::stoi(log.substr(at + 25));
  CHECK(ms >= 450);
  CHECK(ms < 2000);
}

TEST_CASE("workers: 2 split the devices and their reports merge", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: two\ndevices: {count: 21}\nworkers: 2\n"
                        "publish: {rate: 10, qos: 1}\nduration_s: 2\ndrain_s: 2\n"
                        "capture: {enabled: false}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  CHECK(s["messages"]["scheduled"] == 420);
  CHECK(s["messages"]["sent"] == 420);
  CHECK(s["messages"]["received"] == 420);
  CHECK(s["messages"]["duplicated"] == 0);
  REQUIRE(s["processes"]["workers"].size() == 2);
  CHECK(s["processes"]["worker"]["workers"] == 2);
  CHECK(s["latency_us"]["count"] == 420);
}

TEST_CASE("max_inflight 1 at QoS 1 still delivers everything", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: window\ndevices: {count: 2}\n"
                        "publish: {rate: max, count: 500, qos: 1, max_inflight: 1}\n"
                        "duration_s: 30\ncapture: {enabled: false}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  CHECK(s["messages"]["acked"] == 1000);
  CHECK(s["messages"]["received"] == 1000);
}

TEST_CASE("a broker restarted mid-run: reconnects are counted, every message accounted for",
          "[fleet][integration]") {
  TempDir tmp;
  int port = *edgebench::FindFreeLoopbackPort();
  edgebench::ChildProcess broker = StartMosquitto(tmp, port);
  fs::path scenario = tmp.Write(
      "restart.yaml", "name: restart\nbroker: {embedded: false, port: " + std::to_string(port) +
                          "}\ndevices: {count: 10}\n"
                          "publish: {rate: 20, qos: 1}\nduration_s: 6\ndrain_s: 3\n"
                          "capture: {enabled: false}\n");
  // The broker is restarted from this thread: a child's PR_SET_PDEATHSIG follows the thread
  // that started it, so a broker started by a short-lived thread would die with it.
  CommandResult r;
  std::thread run([&] {
    r = RunEdgebench({"run", scenario.string(), "--out", (tmp.path / "results").string()},
                     tmp.path);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  broker.Terminate(2000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  broker = StartMosquitto(tmp, port);
  run.join();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  const json& m = s["messages"];
  CHECK(m["scheduled"] == 1200);
  CHECK(s["connections"]["worker_disconnects"] == 10);
  CHECK(s["connections"]["worker_reconnects"] == 10);
  CHECK(s["connections"]["collector_disconnects"] == 1);
  CHECK(m["skipped_disconnected"].get<uint64_t>() > 0);
  // Every scheduled message is sent or not; every sent one is received or lost.
  CHECK(m["sent"].get<uint64_t>() + m["unsent"].get<uint64_t>() == 1200);
  CHECK(m["received"].get<uint64_t>() + m["lost"].get<uint64_t>() == m["sent"].get<uint64_t>());
  CHECK(m["received"].get<uint64_t>() > 600);  // about 1.5 s of 6 s down at most
}

TEST_CASE("a fleet beyond the open-files limit is refused before connecting", "[fleet]") {
  TempDir tmp;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max > 90000) {
    WARN("open-files hard limit too high to test here");
    return;
  }
  CommandResult r = Run(tmp, "name: huge\ndevices: {count: 30000}\ncapture: {enabled: false}\n",
                        {"--log-level", "off"});
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "edgebench: error: 30000 connections need about 90064 open files (3 per "
        "connection), but the hard limit is " +
            std::to_string(lim.rlim_max) +
            "; use devices.gateways, more workers, or raise the hard limit (ulimit -Hn)\n");
}

TEST_CASE("MQTT 5 end to end, with session expiry and user properties", "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: v5\nbroker:\n  protocol: 5\n  session_expiry_s: 30\n"
                        "  user_properties: {site: plant-7}\ndevices: {count: 5}\n"
                        "publish: {rate: 20, qos: 2}\nduration_s: 1\ndrain_s: 2\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  CHECK(s["messages"]["sent"] == 100);
  CHECK(s["messages"]["acked"] == 100);
  CHECK(s["messages"]["received"] == 100);
  if (s["network"]["capture"] == "ok") {
    // QoS 2: PUBREC and PUBCOMP from the broker for each message.
    CHECK(s["network"]["mqtt_packets"]["from_broker"]["PUBREC"].get<int>() >= 100);
    CHECK(s["network"]["mqtt_packets"]["from_broker"]["PUBCOMP"].get<int>() >= 100);
  }
  std::string log = Slurp(fs::path(LastLine(r.out)) / "broker.log");
  CHECK(log.find("(p5, c1, k60)") != std::string::npos);  // mosquitto logs the protocol level
}

// One connection cannot publish a million messages a second through libmosquitto on any
// machine this runs on (about 100,000 here): the generator falls behind, and the run must say
// so rather than show its latency as if the load had been carried.
TEST_CASE("a load the machine cannot generate is reported as behind, with what went unsent",
          "[fleet][integration]") {
  TempDir tmp;
  CommandResult r = Run(tmp,
                        "name: behind\ndevices: {count: 1}\n"
                        "publish: {rate: 1000000, qos: 0, payload: {size: 32}}\n"
                        "warmup_s: 0\nduration_s: 1\ndrain_s: 2\ncapture: {enabled: false}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = SummaryOf(r.out);
  CHECK(s["status"] == "ok");
  // Every message of the window is scheduled, whether or not it was sent.
  CHECK(s["messages"]["scheduled"] == 1000000);
  const uint64_t sent = s["messages"]["sent"].get<uint64_t>();
  CHECK(sent < 1000000);
  CHECK(s["messages"]["unsent"] == 1000000 - sent);
  CHECK(s["generator_lag_us"]["p99"].get<int64_t>() > 10'000);
  std::string behind;
  for (const auto& note : s["notes"]) {
    if (note.get<std::string>().rfind("the generator fell behind its schedule", 0) == 0) {
      behind = note.get<std::string>();
    }
  }
  CHECK(behind.find("; " + std::to_string(1000000 - sent) +
                    " of 1000000 scheduled messages not "
                    "sent): this machine could not carry the load") != std::string::npos);
}

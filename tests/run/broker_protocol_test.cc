// Whole runs against brokers that do not do what the scenario asks (issue 13, item 12): a
// mosquitto configured to grant less (max_qos, max_keepalive) and RabbitMQ's MQTT plugin, a
// second, non-mosquitto broker that speaks only part of the protocol (MQTT 3.1.1 only, QoS 2
// downgraded to 1, PUBACK for a QoS 2 PUBLISH). A mismatch fails the run (exit 3, .failed)
// with one line; what the broker does right stays ok.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"
#include "edgebench/load/load_generator.h"
#include "edgebench/mqtt/mqtt_client.h"

#include "cli_support.h"
#include "test_support.h"

namespace edgebench {
namespace {

using testing::ProcessGone;
using testing::ReadText;
using testing::ScenarioFromYaml;
using testing::TempDir;
using testing::WriteText;

constexpr const char* kRabbitServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";

struct RunOutput {
  cli_support::CommandResult command;
  std::filesystem::path dir;  // the results directory (the last line of stdout)
  nlohmann::json summary;
};

// Runs edgebench against the broker at 127.0.0.1:port: 5 devices, 10 msg/s, 1 s.
RunOutput RunAt(const TempDir& dir, int port, const std::string& name, int qos,
                const std::string& protocol = "3.1.1") {
  const std::string yaml =
      "name: " + name +
      "\nbroker:\n  embedded: false\n  host: 127.0.0.1\n  port: " + std::to_string(port) +
      "\n  protocol: " + protocol +
      "\n  connect_timeout_s: 5\ndevices: {count: 5}\n"
      "topics: [\"pm/{device}\"]\npublish: {rate: 10, qos: " +
      std::to_string(qos) + "}\nduration_s: 1\nwarmup_s: 0\ndrain_s: 2\n";
  WriteText(dir.File(name + ".yaml"), yaml);
  RunOutput r;
  r.command = cli_support::RunEdgebench(
      {"run", dir.File(name + ".yaml"), "--out", dir.File("results"), "--log-level", "off"},
      dir.path());
  r.dir = cli_support::LastLine(r.command.out);
  std::ifstream in(r.dir / "summary.json");
  r.summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return r;
}

// A mosquitto from the usual template plus `extra` configuration lines.
std::optional<EmbeddedBroker> MosquittoWith(const TempDir& dir, const std::string& extra) {
  const std::string conf = dir.File("mosquitto.conf.in");
  WriteText(conf, ReadText(EDGEBENCH_SOURCE_DIR "/config/mosquitto.conf.in") + extra + "\n");
  EmbeddedBrokerOptions options;
  options.config_template = conf;
  options.run_dir = dir.path();
  Result<EmbeddedBroker> b = EmbeddedBroker::Start(options);
  INFO((b.ok() ? std::string() : b.error().message));
  REQUIRE(b.ok());
  return std::move(b.value());
}

// The pids of `pid`'s children (from /proc/PID/task/*/children).
std::vector<int> ChildrenOf(int pid) {
  std::vector<int> out;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(t.path() / "children");
    for (int child = 0; in >> child;) out.push_back(child);
  }
  return out;
}

// RabbitMQ with its MQTT plugin on a free loopback port, in a temporary directory: its own
// node name, its own epmd (a child of the test, on a free port, loopback only) and Erlang
// distribution port, its own cookie (HOME), no AMQP listener. The script runs the Erlang VM
// in its place (`detached`, see rabbitmq-server), so the child's pid is the VM's and the
// parent-death signal of SpawnProgram reaches it. Stop() ends the VM, then epmd, by pid.
class RabbitMq {
 public:
  // Why it cannot run here, or "" when it can.
  static std::string Unavailable() {
    if (::access(kRabbitServer, X_OK) != 0) {
      return "rabbitmq-server is not installed (scripts/setup.sh installs it)";
    }
    if (!FindProgram("epmd")) return "epmd (erlang-base) is not installed";
    return "";
  }

  RabbitMq() {
    Result<int> mqtt = FindFreeLoopbackPort();
    Result<int> epmd = FindFreeLoopbackPort();
    Result<int> dist = FindFreeLoopbackPort();
    REQUIRE((mqtt.ok() && epmd.ok() && dist.ok()));
    port_ = *mqtt;
    WriteText(dir_.File("rabbitmq.conf"),
              "listeners.tcp = none\nmqtt.listeners.tcp.default = "
              "127.0.0.1:" +
                  std::to_string(port_) + "\nmqtt.allow_anonymous = true\n");
    WriteText(dir_.File("enabled_plugins"), "[rabbitmq_mqtt].\n");
    Result<ChildProcess> e = SpawnProgram(
        {"epmd", "-address", "127.0.0.1", "-port", std::to_string(*epmd)}, dir_.File("epmd.log"));
    REQUIRE(e.ok());
    epmd_ = std::move(e.value());
    const auto start = std::chrono::steady_clock::now();
    Result<ChildProcess> s = SpawnProgram(
        {"env", "HOME=" + dir_.path(), "detached=1", "ERL_EPMD_PORT=" + std::to_string(*epmd),
         "RABBITMQ_NODENAME=edgebench" + std::to_string(::getpid()) + "@localhost",
         "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_DIST_PORT=" + std::to_string(*dist),
         "RABBITMQ_CONFIG_FILE=" + dir_.File("rabbitmq.conf"),
         "RABBITMQ_ADVANCED_CONFIG_FILE=" + dir_.File("advanced.config"),
         "RABBITMQ_ENABLED_PLUGINS_FILE=" + dir_.File("enabled_plugins"),
         "RABBITMQ_MNESIA_BASE=" + dir_.File("mnesia"), "RABBITMQ_LOG_BASE=" + dir_.File("log"),
         "RABBITMQ_LOGS=-", "RABBITMQ_CONF_ENV_FILE=/dev/null",
         "RABBITMQ_PID_FILE=" + dir_.File("rabbitmq.pid"), kRabbitServer},
        dir_.File("rabbitmq.log"));
    REQUIRE(s.ok());
    server_ = std::move(s.value());
    // Erlang boots slowly (about 10-25 s here): wait up to 120 s, failing early if it exits.
    bool up = false;
    for (int i = 0; i < 1200 && !up && !server_.Poll(); ++i) {
      up = CanConnect("127.0.0.1", port_, 100);
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    startup_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(ReadText(dir_.File("rabbitmq.log")));
    REQUIRE(up);
  }
  ~RabbitMq() { Stop(); }
  RabbitMq(const RabbitMq&) = delete;
  RabbitMq& operator=(const RabbitMq&) = delete;

  int port() const { return port_; }
  double startup_s() const { return startup_s_; }

  // The VM (SIGTERM, SIGKILL after 10 s), then epmd; returns the pids that were running
  // (the VM, its helpers, epmd), each gone once this returns.
  std::vector<int> Stop() {
    std::vector<int> pids;
    if (server_.started() && !server_.status()) {
      pids = ChildrenOf(server_.pid());  // erl_child_setup: ends with the VM
      pids.push_back(server_.pid());
      server_.Terminate(10000);
    }
    if (epmd_.started() && !epmd_.status()) {
      pids.push_back(epmd_.pid());
      epmd_.Terminate(2000);
    }
    for (int pid : pids) testing::WaitFor([&] { return ProcessGone(pid); }, 5000);
    return pids;
  }

 private:
  TempDir dir_;
  ChildProcess epmd_;
  ChildProcess server_;
  int port_ = 0;
  double startup_s_ = 0;
};

// The devices alone (no collector), one device at QoS 2, against the broker at `port`.
WorkerReport DevicesAt(int port, const std::string& yaml) {
  MosquittoLibrary library;
  TempDir dir;
  WorkerConfig c;
  c.scenario = ScenarioFromYaml(yaml);
  c.host = "127.0.0.1";
  c.port = port;
  c.run_id = 9;
  c.log_path = dir.File("edgebench.log");
  LoadGenerator generator(c);
  Status st = generator.Connect();
  INFO((st ? std::string() : st.error().message));
  REQUIRE(st);
  RunClock clock;
  clock.t0_ns = MonotonicNowNs() + 100'000'000;
  clock.window_start_ns = clock.t0_ns;
  clock.window_end_ns = clock.t0_ns + 1'000'000'000;
  clock.drain_end_ns = clock.window_end_ns + 1'000'000'000;
  int control[2];
  REQUIRE(::pipe(control) == 0);
  generator.Run(clock, control[0], [](const Counters&) {});
  ::close(control[0]);
  ::close(control[1]);
  generator.DisconnectAll();
  return generator.TakeReport();
}

}  // namespace

TEST_CASE("mosquitto: QoS 2 stays ok; max_qos 1 fails the run; max_keepalive is a note",
          "[protocol][integration]") {
  {
    TempDir dir;
    std::optional<EmbeddedBroker> broker = MosquittoWith(dir, "");
    RunOutput r = RunAt(dir, broker->port(), "qos2", 2);
    INFO(r.command.err);
    CHECK(r.command.exit_code == 0);
    CHECK(r.summary["status"] == "ok");
    CHECK(r.summary["protocol_mismatches"] == nlohmann::json::array());
    CHECK(r.summary["counters"]["received"] == 50);
    CHECK(r.summary["counters"]["duplicated"] == 0);
  }
  for (const std::string& protocol : {std::string("3.1.1"), std::string("5")}) {
    INFO("protocol " << protocol);
    TempDir dir;
    std::optional<EmbeddedBroker> broker = MosquittoWith(dir, "max_qos 1");
    RunOutput r = RunAt(dir, broker->port(), "maxqos", 2, protocol);
    const std::string line = "the broker at 127.0.0.1:" + std::to_string(broker->port()) +
                             " granted QoS 1 for the collector's subscription to 'pm/+'; the "
                             "scenario asks for QoS 2 (publish.qos)";
    CHECK(r.command.exit_code == 3);
    CHECK(r.command.err == "edgebench: error: " + line + "\n");
    CHECK(r.dir.extension() == ".failed");
    CHECK(r.summary["status"] == "failed");
    CHECK(r.summary["error"] == line);
  }
  // MQTT 5: mosquitto assigns its max_keepalive through Server Keep Alive; both sides
  // follow it, the run is ok and says so.
  TempDir dir;
  std::optional<EmbeddedBroker> broker = MosquittoWith(dir, "max_keepalive 30");
  RunOutput r = RunAt(dir, broker->port(), "keepalive", 1, "5");
  INFO(r.command.err);
  CHECK(r.command.exit_code == 0);
  CHECK(r.summary["status"] == "ok");
  const std::string at = "the broker at 127.0.0.1:" + std::to_string(broker->port());
  std::vector<std::string> notes = r.summary["notes"].get<std::vector<std::string>>();
  for (const std::string& who : {std::string("devices"), std::string("collector")}) {
    const std::string note = at + " assigned the " + who +
                             " a keep-alive of 30 s (Server Keep Alive in its MQTT 5 CONNACK) "
                             "instead of broker.keepalive_s 60: the " +
                             who + " used 30 s";
    CHECK(std::count(notes.begin(), notes.end(), note) == 1);
  }
}

// One broker for every check (it takes seconds to start); skipped where RabbitMQ is not
// installed.
TEST_CASE("RabbitMQ: QoS 1 ok; QoS 2 and MQTT 5 fail with the reason", "[protocol][rabbitmq]") {
  if (std::string why = RabbitMq::Unavailable(); !why.empty()) {
    WARN("skipped: " << why);
    return;
  }
  std::vector<int> pids;
  {
    RabbitMq rabbit;
    WARN("RabbitMQ accepted MQTT connections " << rabbit.startup_s() << " s after it started");
    const std::string at = "the broker at 127.0.0.1:" + std::to_string(rabbit.port());
    TempDir dir;

    RunOutput ok = RunAt(dir, rabbit.port(), "rabbit-qos1", 1);
    INFO(ok.command.err);
    CHECK(ok.command.exit_code == 0);
    CHECK(ok.summary["status"] == "ok");
    CHECK(ok.summary["counters"]["received"] == 50);
    CHECK(ok.summary["protocol_mismatches"] == nlohmann::json::array());

    RunOutput qos2 = RunAt(dir, rabbit.port(), "rabbit-qos2", 2);
    const std::string line =
        at +
        " granted QoS 1 for the collector's subscription to 'pm/+'; the scenario asks "
        "for QoS 2 (publish.qos)";
    CHECK(qos2.command.exit_code == 3);
    CHECK(qos2.command.err == "edgebench: error: " + line + "\n");
    CHECK(qos2.dir.extension() == ".failed");
    CHECK(qos2.summary["error"] == line);

    RunOutput v5 = RunAt(dir, rabbit.port(), "rabbit-v5", 1, "5");
    CHECK(v5.command.exit_code == 3);
    CHECK(v5.command.err ==
          "edgebench: error: cannot connect to the broker at 127.0.0.1:" +
              std::to_string(rabbit.port()) +
              ": the broker closed the connection before answering the MQTT 5 CONNECT (a "
              "broker without MQTT 5 does this; broker.protocol: 3.1.1 uses MQTT 3.1.1)\n");

    // The devices' side, which the collector's refusal hides in a whole run: RabbitMQ
    // answers a QoS 2 PUBLISH with PUBACK.
    WorkerReport devices =
        DevicesAt(rabbit.port(),
                  "name: rabbit-devices\ndevices: {count: 1}\ntopics: [\"pm/{device}\"]\n"
                  "publish: {rate: 20, qos: 2}\nduration_s: 1\nwarmup_s: 0\ndrain_s: 1\n");
    REQUIRE(!devices.protocol_mismatches.empty());
    CHECK(devices.protocol_mismatches[0].message ==
          at + " answered the devices' QoS 2 PUBLISHes with PUBACK, the ack of QoS 1 (QoS 2 is "
               "PUBREC, PUBREL, PUBCOMP); libmosquitto closes the connection on it (protocol "
               "error)");
    CHECK(devices.counters[Counter::kAcked] == 0);
    pids = rabbit.Stop();
  }
  CHECK(pids.size() >= 2);  // the VM and epmd at least
  for (int pid : pids) CHECK(ProcessGone(pid));
}

}  // namespace edgebench

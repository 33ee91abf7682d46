// End-to-end tests of the edgebench command: real binary, real mosquitto, real worker.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/broker/broker.h"

#include "cli_support.h"

namespace {

using namespace cli_support;

std::string SmallScenario(int qos) {
  return "name: small\n"
         "devices:\n  count: 20\n"
         "topics: [sensor1, sensor2]\n"
         "publish:\n  rate: 10\n  qos: " +
         std::to_string(qos) +
         "\n"
         "  payload:\n    size: 48\n    kind: random\n"
         "duration_s: 2\nwarmup_s: 1\ndrain_s: 2\n";
}

}  // namespace

TEST_CASE("run: 20 devices against the embedded broker lose nothing", "[cli][integration]") {
  int qos = GENERATE(0, 1);
  TempDir tmp;
  fs::path scenario = tmp.Write("small.yaml", SmallScenario(qos));
  fs::path out = tmp.path / "results";
  CommandResult r = RunEdgebench({"run", scenario.string(), "--out", out.string()}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  fs::path dir = LastLine(r.out);
  REQUIRE(fs::is_directory(dir));
  CHECK(dir.parent_path() == out / "small");
  CHECK(dir.filename().string().find(".partial") == std::string::npos);
  for (const char* f :
       {"scenario.yaml", "manifest.json", "summary.json", "timeline.csv", "samples.csv",
        "latency.hgrm", "edgebench.log", "broker.log", "mosquitto.conf"}) {
    CHECK(fs::exists(dir / f));
  }
  nlohmann::json s = nlohmann::json::parse(Slurp((dir / "summary.json").string()));
  CHECK(s["status"] == "ok");
  const auto& m = s["messages"];
  // 20 devices x 10 msg/s x (1 s warm-up + 2 s window).
  CHECK(m["scheduled"] == 600);
  CHECK(m["sent"] == 600);
  CHECK(m["acked"] == 600);
  CHECK(m["received"] == 600);
  CHECK(m["lost"] == 0);
  CHECK(m["duplicated"] == 0);
  CHECK(m["unsent"] == 0);
  CHECK(s["latency_us"]["count"] == 400);  // the window only
  CHECK(s["throughput"]["sent_per_s"].get<double>() == Approx(200.0));
  CHECK(s["latency_us"]["p50"].get<int64_t>() > 0);
  CHECK(s["processes"]["worker"]["cpu_s"].get<double>() >= 0);
  CHECK(s["processes"]["broker"]["rss_peak_kb"].get<int64_t>() > 0);
  CHECK(s["processes"]["orchestrator"]["samples"].get<int>() >= 20);

  nlohmann::json manifest = nlohmann::json::parse(Slurp((dir / "manifest.json").string()));
  CHECK(manifest["broker"]["mosquitto_version"] == "2.0.11");
  CHECK(manifest["host"]["cpu_count"].get<int>() >= 1);

  std::string timeline = Slurp((dir / "timeline.csv").string());
  CHECK(
      timeline.rfind(
          "second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker,wall_time\n",
          0) == 0);
  CHECK(timeline.find("\n0,warmup,200,") != std::string::npos);
  CHECK(Slurp((dir / "latency.hgrm").string()).find("Total count    =") != std::string::npos);
}

TEST_CASE("run: an unreachable broker exits 3 with one clear line", "[cli][integration]") {
  TempDir tmp;
  int port = *edgebench::FindFreeLoopbackPort();  // nothing listens there
  fs::path scenario =
      tmp.Write("down.yaml",
                "name: down\nbroker:\n  embedded: false\n  host: 127.0.0.1\n"
                "  port: " +
                    std::to_string(port) + "\n  connect_timeout_s: 2\ndevices:\n  count: 5\n");
  fs::path out = tmp.path / "results";
  CommandResult r = RunEdgebench(
      {"run", scenario.string(), "--out", out.string(), "--log-level", "off"}, tmp.path);
  CHECK(r.exit_code == 3);
  CHECK(r.err == "edgebench: error: cannot connect to the broker at 127.0.0.1:" +
                     std::to_string(port) + ": Connection refused\n");
  CHECK(r.seconds < 2 + 1.0);
  // The failed run is kept and marked, not left as .partial.
  fs::path dir = LastLine(r.out);
  CHECK(dir.filename().string().size() > 7);
  CHECK(dir.extension() == ".failed");
  nlohmann::json s = nlohmann::json::parse(Slurp((dir / "summary.json").string()));
  CHECK(s["status"] == "failed");
  CHECK(s["error"] == "cannot connect to the broker at 127.0.0.1:" + std::to_string(port) +
                          ": Connection refused");
}

TEST_CASE("run: a bad scenario exits 2 and creates nothing", "[cli]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("bad.yaml", "name: bad\npublish:\n  qos: 3\n");
  fs::path out = tmp.path / "results";
  CommandResult r = RunEdgebench({"run", scenario.string(), "--out", out.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + scenario.string() +
                     ":3:8: publish.qos must be 0, 1 or 2, got 3\n  qos: 3\n       ^\n");
  CHECK(r.out.empty());
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("run: a missing scenario file exits 2", "[cli]") {
  TempDir tmp;
  CommandResult r = RunEdgebench(
      {"run", (tmp.path / "nope.yaml").string(), "--out", (tmp.path / "results").string()},
      tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + (tmp.path / "nope.yaml").string() +
                     ": cannot read file: No such file or directory\n");
  CHECK_FALSE(fs::exists(tmp.path / "results"));
}

TEST_CASE("validate: ok files and bad ones, with --set", "[cli]") {
  TempDir tmp;
  fs::path good = tmp.Write("good.yaml", "name: good\n");
  fs::path typo = tmp.Write("typo.yaml", "name: typo\npublish:\n  qso: 1\n");
  CommandResult r = RunEdgebench({"validate", good.string()}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.out == good.string() + ": ok\n");

  r = RunEdgebench({"validate", good.string(), typo.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.out == good.string() + ": ok\n");
  CHECK(r.err == "edgebench: error: " + typo.string() +
                     ":3:3: unknown key 'qso' in publish (did you mean 'qos'?)\n  qso: 1\n  ^\n");

  r = RunEdgebench({"validate", good.string(), "--set", "publish.qos=7"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: --set publish.qos=7: publish.qos must be 0, 1 or 2, got 7\n");

  r = RunEdgebench({"validate", good.string(), "--set", "nonsense"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: --set expects key.path=value, got 'nonsense'\n"
        "Run 'edgebench --help' for usage.\n");
}

TEST_CASE("every scenario under scenarios/ validates through the CLI", "[cli]") {
  TempDir tmp;
  for (const auto& e : fs::directory_iterator(fs::path(EDGEBENCH_SOURCE_DIR) / "scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    std::vector<std::string> args = {"validate", e.path().string()};
    // An *.example.yaml names files of the user's (a CA certificate): point it at one.
    if (e.path().string().ends_with(".example.yaml")) {
      // ... and its password variable must be set (the value is never used here).
      ::setenv("EDGEBENCH_PASSWORD", "not-used", 0);
      args.push_back("--set");
      args.push_back("broker.tls.ca_file=" + e.path().string());
    }
    CommandResult r = RunEdgebench(args, tmp.path);
    INFO(e.path() << ": " << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("usage errors exit 2; --help exits 0", "[cli]") {
  TempDir tmp;
  CommandResult r = RunEdgebench({"frobnicate"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: unknown subcommand 'frobnicate' (expected run, validate, compare, "
        "report or version)\n"
        "Run 'edgebench --help' for usage.\n");
  r = RunEdgebench({"--help"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Exit codes: 0 ok; 1 the runs completed but an `expect:` threshold failed; 2 "
                   "bad usage") != std::string::npos);
  r = RunEdgebench({"run", "--help"}, tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--set") != std::string::npos);
  r = RunEdgebench({"run", "x.yaml", "--log-level", "loud"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: --log-level must be trace, debug, info, warn, error or off, "
        "got 'loud'\nRun 'edgebench --help' for usage.\n");
}

TEST_CASE("a mistyped subcommand gets a suggestion", "[cli]") {
  TempDir tmp;
  CommandResult r = RunEdgebench({"valdate", "x.yaml"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: unknown subcommand 'valdate' (did you mean 'validate'? "
        "expected run, validate, compare, report or version)\nRun 'edgebench --help' for usage.\n");
  CHECK(r.out.empty());
  r = RunEdgebench({"--log-level", "warn", "rn", "x.yaml"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: unknown subcommand 'rn' (did you mean 'run'? expected run, "
        "validate, compare, report or version)\nRun 'edgebench --help' for usage.\n");
  r = RunEdgebench({"verison"}, tmp.path);
  CHECK(r.err ==
        "edgebench: error: unknown subcommand 'verison' (did you mean 'version'? "
        "expected run, validate, compare, report or version)\nRun 'edgebench --help' for usage.\n");
  // A prefix of one name only.
  r = RunEdgebench({"ver"}, tmp.path);
  CHECK(r.err ==
        "edgebench: error: unknown subcommand 'ver' (did you mean 'version'? "
        "expected run, validate, compare, report or version)\nRun 'edgebench --help' for usage.\n");
}

TEST_CASE("every subcommand's --help lists --log-level", "[cli]") {
  TempDir tmp;
  for (const char* sub : {"run", "validate", "compare", "report", "version"}) {
    INFO(sub);
    CommandResult r = RunEdgebench({sub, "--help"}, tmp.path);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\n  --log-level TEXT=info       What goes to stderr: trace, debug, info, "
                     "warn, error or off") != std::string::npos);
    CHECK(r.out.find("Exit codes: 0 ok;") != std::string::npos);
  }
  // ... and it works after the subcommand as before it.
  fs::path good = tmp.Write("good.yaml", "name: good\n");
  CommandResult r = RunEdgebench({"validate", good.string(), "--log-level", "off"}, tmp.path);
  CHECK(r.exit_code == 0);
  r = RunEdgebench({"--log-level", "off", "validate", good.string()}, tmp.path);
  CHECK(r.exit_code == 0);
}

TEST_CASE("validate of every scenario on a fresh clone: ok, the example warns, run refuses it",
          "[cli]") {
  // A fresh clone: no CA file of the user's, no password variable, run from the tree's root
  // with the shell's glob, as the README writes it.
  if (fs::exists("/etc/edgebench/broker-ca.pem")) {
    WARN("/etc/edgebench/broker-ca.pem exists here, so this is not a fresh machine");
    return;
  }
  TempDir tmp;
  const std::string source = EDGEBENCH_SOURCE_DIR;
  std::string command = "cd '" + source +
                        "' && exec env -u EDGEBENCH_PASSWORD -u "
                        "EDGEBENCH_CONFIG_DIR '" +
                        std::string(EDGEBENCH_BINARY) + "' ";
  CommandResult r = RunCommand({"/bin/sh", "-c", command + "validate scenarios/*.yaml"}, tmp.path);
  CHECK(r.exit_code == 0);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(fs::path(source) / "scenarios")) {
    if (e.path().extension() == ".yaml")
      files.push_back("scenarios/" + e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);
  std::string expected_out;
  for (const std::string& f : files) {
    std::string verdict = ": ok\n";
    if (f == "scenarios/real-broker.example.yaml") verdict = ": ok (2 warnings)\n";
    if (f == "scenarios/edge-vs-cloud.yaml" || f == "scenarios/edge-inversion.yaml") {
      verdict = ": ok (2 cells)\n";
    }
    expected_out += f + verdict;
  }
  CHECK(r.out == expected_out);
  CHECK(r.err ==
        "edgebench: warning: scenarios/real-broker.example.yaml:26:14: broker.tls.ca_file: cannot "
        "read '/etc/edgebench/broker-ca.pem': No such file or directory (edgebench run needs this "
        "file)\n"
        "    ca_file: /etc/edgebench/broker-ca.pem\n"
        "             ^\n"
        "edgebench: warning: scenarios/real-broker.example.yaml:28:17: broker.password_env: "
        "environment variable 'EDGEBENCH_PASSWORD' is not set (edgebench run needs it set)\n"
        "  password_env: EDGEBENCH_PASSWORD\n"
        "                ^\n");

  // run still refuses, before anything starts.
  fs::path out = tmp.path / "results";
  r = RunCommand({"/bin/sh", "-c",
                  command + "run scenarios/real-broker.example.yaml --out '" + out.string() + "'"},
                 tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: scenarios/real-broker.example.yaml:26:14: broker.tls.ca_file: "
        "cannot read '/etc/edgebench/broker-ca.pem': No such file or directory\n"
        "    ca_file: /etc/edgebench/broker-ca.pem\n"
        "             ^\n");
  CHECK(r.out.empty());
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("run: SIGINT, SIGTERM, SIGHUP or SIGQUIT stops the run, keeps partial results, exits 130",
          "[cli][integration]") {
  const int signal = GENERATE(SIGINT, SIGTERM, SIGHUP, SIGQUIT);
  INFO("signal " << signal);
  TempDir tmp;
  fs::path scenario = tmp.Write("long.yaml",
                                "name: long\ndevices:\n  count: 10\npublish:\n  rate: 10\n"
                                "duration_s: 30\n");
  fs::path out = tmp.path / "results";
  CommandResult r = RunEdgebench({"run", scenario.string(), "--out", out.string()}, tmp.path,
                                 /*interrupt_after_ms=*/2500, signal);
  CHECK(r.exit_code == 130);
  CHECK(r.err.find("interrupted: stopping the workers and keeping partial results") !=
        std::string::npos);
  CHECK(r.seconds < 10);
  fs::path dir = LastLine(r.out);
  CHECK(dir.extension() == ".interrupted");
  nlohmann::json s = nlohmann::json::parse(Slurp((dir / "summary.json").string()));
  CHECK(s["status"] == "interrupted");
  CHECK(s["messages"]["sent"].get<int>() > 0);
  CHECK(s["messages"]["sent"].get<int>() < 300);
  // What the plan scheduled (10 devices x 10 msg/s x 30 s), and what the stop left unsent.
  CHECK(s["messages"]["scheduled"] == 3000);
  CHECK(s["messages"]["unsent"] == 3000 - s["messages"]["sent"].get<int>());
  CHECK(s["window"]["measured_s"].get<double>() < 5);
}

TEST_CASE("run: an empty or unusable --out is refused before anything starts", "[cli]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("s.yaml", "name: s\nduration_s: 1\n");
  CommandResult r = RunEdgebench({"run", scenario.string(), "--out", ""}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: --out must name a directory, got \"\"\n");
  CHECK(r.out.empty());

  // A file where the directory should be, itself or as a parent.
  fs::path file = tmp.Write("a-file", "x\n");
  r = RunEdgebench({"run", scenario.string(), "--out", file.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: --out '" + file.string() + "': " + file.string() +
                     " is not a directory\n");
  r = RunEdgebench({"run", scenario.string(), "--out", (file / "results").string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: --out '" + (file / "results").string() + "': " + file.string() +
                     " is not a directory\n");
  // A directory that does not exist yet is fine: it is made when the run starts.
  r = RunEdgebench(
      {"run", scenario.string(), "--out", (tmp.path / "new" / "dir").string(), "--dry-run"},
      tmp.path);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(tmp.path / "new"));
}

TEST_CASE("errors show control characters escaped and long lines cut around the column", "[cli]") {
  TempDir tmp;
  // An ESC sequence and a BEL inside a value: echoed in the message and in the source line.
  fs::path esc = tmp.Write("esc.yaml", "name: x\npublish:\n  qos: a\x1b[31mb\x07\n");
  CommandResult r = RunEdgebench({"validate", esc.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + esc.string() +
                     ":3:9: a control character (byte 0x1b): the file must be UTF-8 text "
                     "without control characters\n"
                     "  qos: a\\x1b[31mb\\x07\n"
                     "        ^\n");

  // One 200,000-character line: the echo keeps 60 characters either side of the column.
  const std::string pad(100000, ' ');
  fs::path wide = tmp.Write("wide.yaml", "name: x\npublish: {" + pad + "qos: 9" + pad + "}\n");
  r = RunEdgebench({"validate", wide.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + wide.string() +
                     ":2:100016: publish.qos must be 0, 1 or 2, got 9\n..." + std::string(55, ' ') +
                     "qos: 9" + std::string(59, ' ') + "...\n" + std::string(63, ' ') + "^\n");
}

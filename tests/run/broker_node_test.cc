// broker.resources end to end with real processes: the embedded mosquitto in a cgroup with a
// CPU quota (held to it, throttled under a load it cannot carry), killed by its memory limit
// (reported as exactly that), killed from outside (the run fails, exit 3), and the cgroup of
// an edgebench killed with SIGKILL removed by the next run. Needs root and cgroups with the
// cpu and memory controllers; otherwise each test skips and says why.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/cgroup/cgroup.h"

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;
using cli_support::RunEdgebench;
using cli_support::TempDir;

// Why these tests cannot run here, or "".
std::string CannotRun() {
  if (::geteuid() != 0)
    return "broker.resources needs root; the tests run as uid " + std::to_string(::geteuid());
  return edgebench::CgroupUnavailableReason();
}

#define SKIP_UNLESS_CGROUPS()                                \
  do {                                                       \
    std::string why = CannotRun();                           \
    if (!why.empty()) {                                      \
      WARN("skipped: cgroups cannot be used here: " << why); \
      return;                                                \
    }                                                        \
  } while (false)

// The one results directory under OUT/<name>/.
fs::path OnlyRunDir(const fs::path& out, const std::string& name) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(out / name)) dirs.push_back(e.path());
  REQUIRE(dirs.size() == 1);
  return dirs[0];
}

nlohmann::json Summary(const fs::path& dir) {
  return nlohmann::json::parse(cli_support::Slurp(dir / "summary.json"));
}

// The pids of `parent`'s children whose command name is `comm`.
std::vector<pid_t> ChildrenNamed(pid_t parent, const std::string& comm) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = cli_support::Slurp(e.path() / "stat");
    size_t open = stat.find('(');
    size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%*c %d", &ppid) != 1) continue;
    if (ppid == parent && stat.substr(open + 1, close - open - 1) == comm) {
      out.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return out;
}

// Starts edgebench in the background; stdout and stderr go to files in `dir`.
pid_t StartEdgebench(const std::vector<std::string>& args, const fs::path& dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> argv = {EDGEBENCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    std::string out = (dir / "stdout.txt").string();
    std::string err = (dir / "stderr.txt").string();
    (void)!std::freopen(out.c_str(), "w", stdout);
    (void)!std::freopen(err.c_str(), "w", stderr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  return pid;
}

// Waits (up to 60 s) until edgebench's log says the measurement started; the run's pid of
// mosquitto then.
std::optional<pid_t> WaitUntilMeasuring(pid_t edgebench, const fs::path& out) {
  for (int i = 0; i < 600; ++i) {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(out, ec)) {
      if (e.path().filename() != "edgebench.log") continue;
      if (cli_support::Slurp(e.path()).find("measuring warmup_s") == std::string::npos) continue;
      std::vector<pid_t> brokers = ChildrenNamed(edgebench, "mosquitto");
      if (brokers.size() == 1) return brokers[0];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("a broker limited to 0.25 CPUs stays within it and is throttled under load",
          "[run][resources][integration]") {
  SKIP_UNLESS_CGROUPS();
  TempDir dir;
  // 20 devices at 1000 msg/s each, 1 KB payloads at QoS 1: far more than a quarter of a
  // core can carry, so the quota, not the load, sets the pace.
  fs::path s = dir.Write("cpu.yaml",
                         "name: cpu\nbroker: {resources: {cpus: 0.25}}\ndevices: {count: 20}\n"
                         "publish: {rate: 1000, qos: 1, payload: {size: 1024}}\nduration_s: 3\n"
                         "drain_s: 1\ncapture: {enabled: false}\n");
  cli_support::CommandResult r =
      RunEdgebench({"run", s.string(), "--out", (dir.path / "out").string()}, dir.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = Summary(OnlyRunDir(dir.path / "out", "cpu"));
  const nlohmann::json& res = j.at("broker_resources");
  CHECK(res.at("applied") == true);
  CHECK(res.at("limit").at("cpus") == 0.25);
  CHECK(res.at("limit").at("memory_mb").is_null());
  // The kernel enforces 25 ms per 100 ms; the busiest whole second may read a little above
  // 25% from sampling, never near a whole core.
  CHECK(res.at("cpu_pct_peak_1s").get<double>() <= 30.0);
  CHECK(res.at("cpu_pct_mean").get<double>() <= 30.0);
  CHECK(res.at("throttling").at("nr_throttled").get<uint64_t>() > 0);
  CHECK(res.at("throttling").at("throttled_s").get<double>() > 0);
  CHECK(res.at("oom_kills") == 0);
  CHECK(r.out.find("  node        0.25 CPU (cgroup ") != std::string::npos);
  // Its cgroup is gone with the run: the log names what was made.
  std::string log = cli_support::Slurp(OnlyRunDir(dir.path / "out", "cpu") / "edgebench.log");
  size_t at = log.find("cgroup created dirs=");
  REQUIRE(at != std::string::npos);
  std::string dirs = log.substr(at + 20, log.find(' ', at + 20) - at - 20);
  for (size_t start = 0; start <= dirs.size();) {
    size_t comma = std::min(dirs.find(',', start), dirs.size());
    std::string one = dirs.substr(start, comma - start);
    CHECK(one.find("/edgebench-") != std::string::npos);
    CHECK_FALSE(fs::exists(one));
    start = comma + 1;
  }
}

TEST_CASE("a broker killed by its memory limit fails the run and says so",
          "[run][resources][integration]") {
  SKIP_UNLESS_CGROUPS();
  TempDir dir;
  // 1000 retained 64 KB messages need 64 MB; the broker may have 24.
  fs::path s = dir.Write("oom.yaml",
                         "name: oom\nbroker: {resources: {memory_mb: 24}}\ndevices: {count: 20}\n"
                         "topics: {pattern: \"oom/{device}/{index}\", count: 50}\n"
                         "publish: {rate: 100, retain: true, payload: {size: 65536}}\n"
                         "duration_s: 10\ncapture: {enabled: false}\n");
  cli_support::CommandResult r =
      RunEdgebench({"run", s.string(), "--out", (dir.path / "out").string()}, dir.path);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("edgebench: error: the embedded broker was killed by its memory limit (24 MiB, "
                   "broker.resources; the cgroup counted 1 OOM kill) ") != std::string::npos);
  fs::path run = OnlyRunDir(dir.path / "out", "oom");
  CHECK(run.extension() == ".failed");
  nlohmann::json j = Summary(run);
  CHECK(j.at("status") == "failed");
  CHECK(j.at("broker_resources").at("oom_kills") == 1);
  CHECK(j.at("error").get<std::string>().starts_with(
      "the embedded broker was killed by its memory limit"));
}

// The broker, the link proxy or the worker killed, and a signal in the drain: tests/fault/
// (process_fault_test.cc, signal_fault_test.cc).

TEST_CASE("the cgroup of an edgebench killed with SIGKILL is removed by the next run",
          "[run][resources][integration]") {
  SKIP_UNLESS_CGROUPS();
  TempDir dir;
  fs::path s = dir.Write("stale.yaml",
                         "name: stale\nbroker: {resources: {cpus: 0.5, memory_mb: 64}}\n"
                         "devices: {count: 2}\nduration_s: 60\ncapture: {enabled: false}\n");
  fs::path out = dir.path / "out";
  pid_t eb = StartEdgebench({"run", s.string(), "--out", out.string()}, dir.path);
  std::optional<pid_t> broker = WaitUntilMeasuring(eb, out);
  ::kill(eb, SIGKILL);  // no clean-up: the broker dies with it (PR_SET_PDEATHSIG)
  WaitExit(eb);
  REQUIRE(broker);
  edgebench::Result<edgebench::CgroupLayout> layout = edgebench::DetectCgroupLayout();
  REQUIRE(layout.ok());
  std::string stale = layout->cpu_parent + "/edgebench-" + std::to_string(eb) + "-1";
  REQUIRE(fs::is_directory(stale));
  // The broker's exit after the parent's death takes a moment; the next run must wait for
  // nothing: a cgroup still holding it would be left with a warning, so wait for it here.
  for (int i = 0; i < 100 && !cli_support::Slurp(stale + "/cgroup.procs").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fs::path quick = dir.Write("quick.yaml",
                             "name: quick\nbroker: {resources: {cpus: 0.5}}\nduration_s: 1\n"
                             "capture: {enabled: false}\n");
  cli_support::CommandResult r =
      RunEdgebench({"run", quick.string(), "--out", out.string()}, dir.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(fs::exists(stale));
  CHECK(r.err.find("removed the cgroup of an edgebench that is gone: " + stale) !=
        std::string::npos);
}

TEST_CASE("without cgroup rights the run fails; with required false it warns and notes it",
          "[run][resources][integration]") {
  // Root can always write cgroups, so the test drops to uid 65534 (nobody) with setpriv.
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("skipped: needs root and /usr/bin/setpriv (util-linux) to run edgebench as nobody");
    return;
  }
  TempDir dir;
  fs::permissions(dir.path, fs::perms::all);  // nobody writes its results here
  auto run_as_nobody = [&](const std::string& name, const std::string& required) {
    fs::path s =
        dir.Write(name + ".yaml", "name: " + name +
                                      "\nbroker: {resources: {cpus: 0.5, required: " + required +
                                      "}}\nduration_s: 1\n"
                                      "capture: {enabled: false}\n");
    fs::permissions(s, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    return cli_support::RunCommand(
        {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", EDGEBENCH_BINARY,
         "run", s.string(), "--out", (dir.path / "out").string()},
        dir.path);
  };
  cli_support::CommandResult refused = run_as_nobody("must", "true");
  CHECK(refused.exit_code == 3);
  CHECK(cli_support::LastLine(refused.err)
            .starts_with("edgebench: error: broker.resources: cannot limit the embedded broker: "
                         "cannot create cgroup "));
  CHECK(cli_support::LastLine(refused.err)
            .ends_with(": Permission denied (with broker.resources.required: false the broker "
                       "runs unlimited, noted in summary.json)"));

  cli_support::CommandResult unlimited = run_as_nobody("may", "false");
  INFO(unlimited.err);
  REQUIRE(unlimited.exit_code == 0);
  nlohmann::json j = Summary(OnlyRunDir(dir.path / "out", "may"));
  const nlohmann::json& res = j.at("broker_resources");
  CHECK(res.at("applied") == false);
  CHECK(res.at("reason").get<std::string>().ends_with(": Permission denied"));
  CHECK(j.at("notes").at(0).get<std::string>().starts_with(
      "broker.resources not applied: the broker ran without a CPU or memory limit (cannot "
      "create cgroup "));
  CHECK(unlimited.err.find("broker.resources not applied (required: false): cannot create "
                           "cgroup ") != std::string::npos);
}

// End-to-end tests of the emulated link in `edgebench run`: the real binary and its embedded
// mosquitto behind the proxy or the netem backend, the summary's "link" object, the proxy's
// process samples, cleanup of namespaces and interfaces, and several scenarios in one call.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/link/netem_link.h"

#include "cli_support.h"

namespace {

using namespace cli_support;
using nlohmann::json;

constexpr int kDevices = 10;
constexpr int kWindowMessages = kDevices * 20 * 2;  // 20 msg/s for the 2 s window

// A fleet small enough for a 2-core host, long enough for a stable median: 10 devices at
// 20 msg/s with 64-byte payloads, 0.5 s of warm-up, a 2 s window, 1 s of drain.
std::string Fleet(const std::string& name, const std::string& network, int qos = 0,
                  const std::string& capture = "capture: {enabled: false}\n") {
  return "name: " + name + "\ndevices: {count: " + std::to_string(kDevices) +
         "}\npublish: {rate: 20, qos: " + std::to_string(qos) +
         ", payload: {size: 64}}\nwarmup_s: 0.5\nduration_s: 2\ndrain_s: 1\n" + capture + network;
}

// The outcome of one `edgebench run` and, when it made one, its results directory.
struct RunResult {
  CommandResult cmd;
  fs::path dir;
  json summary;   // null when there is no summary.json
  json manifest;  // null when there is no manifest.json
  std::string log;
};

RunResult Collect(CommandResult cmd) {
  RunResult r;
  r.cmd = std::move(cmd);
  std::string last = LastLine(r.cmd.out);
  if (last.empty() || !fs::is_directory(last)) return r;
  r.dir = last;
  if (fs::exists(r.dir / "summary.json")) {
    r.summary = json::parse(Slurp(r.dir / "summary.json"));
  }
  if (fs::exists(r.dir / "manifest.json")) {
    r.manifest = json::parse(Slurp(r.dir / "manifest.json"));
  }
  r.log = Slurp(r.dir / "edgebench.log");
  return r;
}

// Writes `yaml` as <dir>/<file> and runs it with --out <dir>/results.
RunResult RunScenarioFile(const fs::path& dir, const std::string& file, const std::string& yaml) {
  fs::create_directories(dir);
  std::ofstream(dir / file) << yaml;
  return Collect(
      RunEdgebench({"run", (dir / file).string(), "--out", (dir / "results").string()}, dir));
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The text of the first `key=<value>` in `text` at or after `from`, up to the next space
// or end of line; "" when absent.
std::string ValueAfter(const std::string& text, const std::string& key, size_t from = 0) {
  size_t at = text.find(key, from);
  if (at == std::string::npos) return "";
  at += key.size();
  size_t end = text.find_first_of(" \n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// Why netem cannot run here ("" when it can), probed once.
const std::string& NetemReason() {
  static const std::string reason = edgebench::NetemUnavailableReason();
  return reason;
}

bool RunningAsRoot() {
  if (::geteuid() == 0) return true;
  WARN("skipped: the netem backend needs root (network namespaces, veth and tc)");
  return false;
}

// ---------------------------------------------------------------------------
// Namespaces and interfaces.

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The namespaces an edgebench with this pid made: "edgebench-<pid>x..." and its probe's.
std::vector<std::string> NamespacesOf(pid_t pid) {
  std::vector<std::string> mine;
  std::string link = "edgebench-" + std::to_string(pid) + "x";
  std::string probe = "edgebench-probe-" + std::to_string(pid);
  for (const std::string& name : ListDir("/run/netns")) {
    if (name.starts_with(link) || name == probe) mine.push_back(name);
  }
  return mine;
}

// The netem link's interfaces on this host: "ebh..." and "ebd...".
std::set<std::string> NetemInterfaces() {
  std::set<std::string> names;
  for (const std::string& name : ListDir("/sys/class/net")) {
    if (name.starts_with("ebh") || name.starts_with("ebd")) names.insert(name);
  }
  return names;
}

// The host end of the link in namespace "edgebench-<id>".
std::string HostInterfaceOf(const std::string& namespace_name) {
  edgebench::NetemLinkConfig config;
  config.id = namespace_name.substr(std::string("edgebench-").size());
  return edgebench::NetemHostInterface(config);
}

void RemoveLink(const std::string& namespace_name) {
  if (namespace_name.starts_with("edgebench-probe-")) {
    (void)edgebench::RunNetworkTool({"ip", "netns", "del", namespace_name});
    return;
  }
  std::string host = HostInterfaceOf(namespace_name);
  if (fs::exists("/sys/class/net/" + host)) {
    (void)edgebench::RunNetworkTool({"ip", "link", "del", host});
  }
  if (fs::exists("/run/netns/" + namespace_name)) {
    (void)edgebench::RunNetworkTool({"ip", "netns", "del", namespace_name});
  }
}

// Removes, when the test ends, whatever the watched edgebench processes left behind, so a
// failed check does not leave a namespace or an interface on the host.
class LinkLeftovers {
 public:
  LinkLeftovers() = default;
  LinkLeftovers(const LinkLeftovers&) = delete;
  LinkLeftovers& operator=(const LinkLeftovers&) = delete;
  ~LinkLeftovers() {
    for (pid_t pid : pids_) {
      for (const std::string& name : NamespacesOf(pid)) RemoveLink(name);
    }
  }
  void Watch(pid_t pid) { pids_.push_back(pid); }

 private:
  std::vector<pid_t> pids_;
};

// Checks that the run of `pid` built one link and left neither its namespace nor the
// interfaces it made (named in its log) nor any new ebh/ebd one. The kernel dismantles a
// namespace in the background, so interfaces get a moment.
void CheckNoLeftovers(pid_t pid, const std::string& log, const std::set<std::string>& before) {
  CHECK(NamespacesOf(pid).empty());
  std::vector<std::string> named;
  for (size_t at = log.find("netem link up namespace="); at != std::string::npos;
       at = log.find("netem link up namespace=", at + 1)) {
    named.push_back(ValueAfter(log, "host=", at));
    named.push_back(ValueAfter(log, "device=", at));
  }
  auto gone = [&] {
    for (const std::string& name : named) {
      if (fs::exists("/sys/class/net/" + name)) return false;
    }
    std::set<std::string> now = NetemInterfaces();
    return std::includes(before.begin(), before.end(), now.begin(), now.end());
  };
  bool clean = gone();
  for (int i = 0; i < 300 && !clean; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    clean = gone();
  }
  std::string left;
  for (const std::string& name : NetemInterfaces()) {
    if (!before.count(name)) left += " " + name;
  }
  INFO("new netem interfaces still present:" << left);
  CHECK(named.size() == 2);  // the run built one link
  CHECK(clean);
}

// ---------------------------------------------------------------------------
// An edgebench started in the background, killed and reaped when the test ends.

class Edgebench {
 public:
  Edgebench(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag)
      : out_path_(dir / (tag + ".stdout")), err_path_(dir / (tag + ".stderr")) {
    std::vector<std::string> argv = {EDGEBENCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    start_ = std::chrono::steady_clock::now();
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    REQUIRE(pid_ > 0);
  }
  ~Edgebench() {
    if (pid_ > 0) Kill();
  }
  Edgebench(const Edgebench&) = delete;
  Edgebench& operator=(const Edgebench&) = delete;

  pid_t pid() const { return pid_; }

  CommandResult Wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return MakeResult(status);
  }

  CommandResult Kill() {
    ::kill(pid_, SIGKILL);
    return Wait();
  }

 private:
  CommandResult MakeResult(int status) const {
    CommandResult r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(out_path_);
    r.err = Slurp(err_path_);
    return r;
  }

  fs::path out_path_;
  fs::path err_path_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// Writes `yaml` as <dir>/<tag>.yaml and runs it to the end (--log-level off, so stderr has
// only the error line) in the background helper, so the test knows the pid, and so the
// namespace names, of the run.
RunResult RunWatched(const fs::path& dir, const std::string& tag, const std::string& yaml,
                     LinkLeftovers* leftovers, pid_t* pid,
                     const std::vector<std::string>& extra_args = {}) {
  fs::create_directories(dir);
  std::ofstream(dir / (tag + ".yaml")) << yaml;
  std::vector<std::string> args = {"run",         (dir / (tag + ".yaml")).string(),
                                   "--out",       (dir / "results").string(),
                                   "--log-level", "off"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  Edgebench e(args, dir, tag);
  leftovers->Watch(e.pid());
  *pid = e.pid();
  return Collect(e.Wait());
}

// ---------------------------------------------------------------------------
// One fleet over edge-lan and over a 40 ms proxy link, run once and shared by the tests
// that only read their results.

struct AcceptanceRuns {
  TempDir tmp;
  RunResult edge;
  RunResult far;
  AcceptanceRuns() {
    edge = RunScenarioFile(tmp.path, "edge.yaml", Fleet("edge", "network: edge-lan\n"));
    far = RunScenarioFile(tmp.path, "far.yaml",
                          Fleet("far", "network: {rtt_ms: 40, jitter_ms: 0, backend: proxy}\n"));
  }
};

const AcceptanceRuns& Acceptance() {
  static AcceptanceRuns runs;
  return runs;
}

void RequireOk(const RunResult& r) {
  INFO(r.cmd.err);
  REQUIRE(r.cmd.exit_code == 0);
  REQUIRE(r.summary.is_object());
  REQUIRE(r.summary["status"] == "ok");
}

}  // namespace

TEST_CASE("link: 40 ms of RTT adds 20 ms to the one-way latency of the same fleet",
          "[link_run][integration]") {
  const AcceptanceRuns& runs = Acceptance();
  RequireOk(runs.edge);
  RequireOk(runs.far);
  for (const RunResult* r : {&runs.edge, &runs.far}) {
    const json& m = r->summary["messages"];
    CHECK(m["sent"] == m["scheduled"]);
    CHECK(m["received"] == m["sent"]);
    CHECK(m["lost"] == 0);
    CHECK(r->summary["latency_us"]["count"] == kWindowMessages);
    CHECK(r->summary["link"]["emulated"] == true);
    CHECK(r->summary["link"]["subscribe_at"] == "broker");
  }
  CHECK(runs.edge.summary["link"]["profile"] == "edge-lan");
  CHECK(runs.edge.summary["link"]["rtt_ms"] == 0.3);
  CHECK(runs.far.summary["link"]["profile"].is_null());
  CHECK(runs.far.summary["link"]["rtt_ms"] == 40.0);
  CHECK(runs.far.summary["link"]["backend_requested"] == "proxy");
  CHECK(runs.far.summary["link"]["backend"] == "proxy");
  CHECK_FALSE(runs.far.summary["link"].contains("backend_reason"));
  int64_t edge_p50 = runs.edge.summary["latency_us"]["p50"];
  int64_t far_p50 = runs.far.summary["latency_us"]["p50"];
  INFO("p50 edge-lan " << edge_p50 << " us, 40 ms link " << far_p50 << " us");
  // The collector sits next to the broker: a message crosses the link once.
  CHECK(far_p50 - edge_p50 >= 18000);
  CHECK(far_p50 - edge_p50 <= 22000);
}

TEST_CASE("link: subscribe.at devices puts the collector behind the link too",
          "[link_run][integration]") {
  TempDir tmp;
  RunResult r = RunScenarioFile(tmp.path, "behind.yaml",
                                Fleet("behind",
                                      "network: {rtt_ms: 40, jitter_ms: 0, backend: proxy}\n"
                                      "subscribe: {at: devices}\n"));
  RequireOk(r);
  CHECK(r.summary["messages"]["received"] == r.summary["messages"]["sent"]);
  CHECK(r.summary["messages"]["lost"] == 0);
  CHECK(r.summary["link"]["subscribe_at"] == "devices");
  CHECK(r.manifest["link"]["subscribe_at"] == "devices");
  // Up to the broker and down again: the whole round trip.
  int64_t p50 = r.summary["latency_us"]["p50"];
  CHECK(p50 >= 38000);
  CHECK(p50 <= 45000);
  // The devices, the probe and the collector all connect through the proxy.
  CHECK(r.summary["link"]["proxy"]["connections"] == kDevices + 2);
  CHECK(r.summary["link"]["proxy"]["down"]["bytes"].get<uint64_t>() >
        static_cast<uint64_t>(kWindowMessages) * 64);
  CHECK(Contains(r.cmd.out, "collector at the devices"));
}

TEST_CASE("link: measured_rtt_ms shows the emulated round trip", "[link_run][integration]") {
  const AcceptanceRuns& runs = Acceptance();
  RequireOk(runs.edge);
  RequireOk(runs.far);
  const json& far = runs.far.summary["link"]["measured_rtt_ms"];
  INFO(far.dump());
  REQUIRE(far.is_object());
  CHECK(far["count"] == 10);
  REQUIRE(far["samples"].size() == 10);
  CHECK(far["min"].get<double>() >= 39.9);
  CHECK(far["median"].get<double>() < 50);
  CHECK(far["max"].get<double>() >= far["median"].get<double>());
  for (const json& v : far["samples"]) {
    CHECK(v.get<double>() >= far["min"].get<double>());
    CHECK(v.get<double>() <= far["max"].get<double>());
  }
  CHECK_FALSE(runs.far.summary["link"].contains("measured_rtt_error"));

  const json& edge = runs.edge.summary["link"]["measured_rtt_ms"];
  INFO(edge.dump());
  REQUIRE(edge.is_object());
  CHECK(edge["count"] == 10);
  CHECK(edge["median"].get<double>() < 5);

  // The manifest has the same link, without the proxy's report.
  json link = runs.far.summary["link"];
  REQUIRE(link.contains("proxy"));
  link.erase("proxy");
  CHECK(runs.far.manifest["link"] == link);
  CHECK(Contains(runs.far.cmd.out, "measured RTT median "));
}

TEST_CASE("link: backend auto takes netem when it can, else the proxy and says why",
          "[link_run][integration]") {
  const AcceptanceRuns& runs = Acceptance();
  RequireOk(runs.edge);
  const json& link = runs.edge.summary["link"];
  CHECK(link["backend_requested"] == "auto");
  if (NetemReason().empty()) {
    CHECK(link["backend"] == "netem");
    CHECK_FALSE(link.contains("backend_reason"));
    CHECK_FALSE(Contains(runs.edge.log, "the proxy carries the link"));
    return;
  }
  std::string reason = "the proxy carries the link: netem is not available here: " + NetemReason();
  CHECK(link["backend"] == "proxy");
  CHECK(link["backend_reason"] == reason);
  CHECK(runs.edge.manifest["link"]["backend_reason"] == reason);
  CHECK(Contains(runs.edge.log, " warning [edgebench] " + reason + "\n"));
  CHECK(Contains(runs.edge.cmd.err, " warning [edgebench] " + reason + "\n"));
}

TEST_CASE("link: backend netem where it cannot run fails the run with one line",
          "[link_run][integration]") {
  if (NetemReason().empty()) {
    WARN("skipped: netem works on this host, so asking for it cannot fail");
    return;
  }
  TempDir tmp;
  LinkLeftovers leftovers;
  pid_t pid = 0;
  RunResult r =
      RunWatched(tmp.path, "netem", Fleet("netem", "network: {rtt_ms: 20, backend: netem}\n"),
                 &leftovers, &pid);
  std::string error = "network.backend netem is not available here: " + NetemReason() +
                      "; use network.backend: proxy (or auto)";
  CHECK(r.cmd.exit_code == 3);
  CHECK(r.cmd.err == "edgebench: error: " + error + "\n");
  REQUIRE_FALSE(r.dir.empty());
  CHECK(r.cmd.out == r.dir.string() + "\n");
  CHECK(r.dir.extension() == ".failed");
  CHECK(r.dir.parent_path() == tmp.path / "results" / "netem");
  CHECK(r.summary["status"] == "failed");
  CHECK(r.summary["error"] == error);
  CHECK(r.summary["link"]["backend_requested"] == "netem");
  CHECK(r.summary["link"]["backend"].is_null());
  CHECK(r.summary["link"]["measured_rtt_ms"].is_null());
  CHECK(NamespacesOf(pid).empty());
}

TEST_CASE("link: the proxy process is sampled as role link", "[link_run][integration]") {
  const AcceptanceRuns& runs = Acceptance();
  RequireOk(runs.far);
  const json& link = runs.far.summary["processes"]["link"];
  INFO(runs.far.summary["processes"].dump());
  REQUIRE(link.is_object());
  CHECK(link["cpu_s"].get<double>() >= 0);
  CHECK(link["samples"].get<int>() >= 10);  // 100 ms samples over a 3.5 s run
  CHECK(link["rss_peak_kb"].get<int64_t>() > 0);
  // samples.csv: t_ms,role,pid,...; every "link" row is the proxy's.
  int link_rows = 0;
  int other_pid_rows = 0;
  std::istringstream csv(Slurp(runs.far.dir / "samples.csv"));
  for (std::string line; std::getline(csv, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (fields.size() < 3 || fields[1] != "link") continue;
    ++link_rows;
    if (fields[2] != link["pid"].dump()) ++other_pid_rows;
  }
  CHECK(link_rows == link["samples"].get<int>());
  CHECK(other_pid_rows == 0);
  CHECK(Contains(runs.far.cmd.out, "\n  link          "));

  const json& proxy = runs.far.summary["link"]["proxy"];
  INFO(proxy.dump());
  REQUIRE(proxy.is_object());
  // Every device and the RTT probe; the collector sits at the broker.
  CHECK(proxy["connections"].get<int>() >= kDevices + 1);
  CHECK(proxy["upstream_failures"] == 0);
  CHECK(proxy["up"]["bytes"].get<uint64_t>() > static_cast<uint64_t>(kWindowMessages) * 64);
  CHECK(proxy["up"]["writes"].get<uint64_t>() > 0);
  CHECK(proxy["down"]["bytes"].get<uint64_t>() > 0);
  CHECK(proxy["up"]["held_ms"]["p50"].get<double>() >= 19.9);
  CHECK(proxy["up"]["late_ms"]["p50"].get<double>() >= 0);
  CHECK(proxy["up"]["paused"] == 0);
}

TEST_CASE("link: loss over the proxy is noted, not emulated", "[link_run][integration]") {
  TempDir tmp;
  RunResult r = RunScenarioFile(tmp.path, "lossy.yaml",
                                Fleet("lossy", "network: {profile: cloud-far, backend: proxy}\n"));
  RequireOk(r);
  const std::string note =
      "network.loss_pct 0.1% is not emulated: the proxy carries a TCP stream, which has no "
      "packets to lose (the netem backend can)";
  const json& link = r.summary["link"];
  CHECK(link["profile"] == "cloud-far");
  CHECK(link["backend"] == "proxy");
  CHECK(link["loss_pct"] == 0.1);
  CHECK(link["rtt_ms"] == 30.0);
  CHECK(link["jitter_ms"] == 3.0);
  CHECK(link["uplink_mbit"] == 50.0);
  CHECK(link["loss_emulated"] == false);
  CHECK(r.summary["notes"] == json::array({note}));
  CHECK(Contains(r.log, " warning [edgebench] " + note + "\n"));
  CHECK(r.summary["messages"]["lost"] == 0);
  CHECK(r.summary["messages"]["received"] == r.summary["messages"]["sent"]);
}

TEST_CASE("link: netem with rates only runs here and removes its namespace",
          "[link_run][integration][netem]") {
  if (!RunningAsRoot()) return;
  bool capture = GENERATE(false, true);
  INFO("capture " << capture);
  TempDir tmp;
  LinkLeftovers leftovers;
  std::set<std::string> before = NetemInterfaces();
  pid_t pid = 0;
  RunResult r =
      RunWatched(tmp.path, "rates",
                 Fleet("rates", "network: {backend: netem, uplink_mbit: 50, downlink_mbit: 50}\n",
                       1, capture ? "capture: {enabled: true}\n" : "capture: {enabled: false}\n"),
                 &leftovers, &pid);
  INFO(r.cmd.err);
  CHECK(r.cmd.exit_code == 0);
  REQUIRE(r.summary.is_object());
  const json& link = r.summary["link"];
  INFO(link.dump());
  CHECK(link["backend_requested"] == "netem");
  CHECK(link["backend"] == "netem");
  CHECK(link["uplink_mbit"] == 50.0);
  CHECK(link["rtt_ms"] == 0.0);
  CHECK_FALSE(link.contains("proxy"));
  CHECK_FALSE(r.summary["processes"].contains("link"));
  const json& m = r.summary["messages"];
  CHECK(m["sent"] == m["scheduled"]);
  CHECK(m["acked"] == m["sent"]);
  CHECK(m["received"] == m["sent"]);
  CHECK(m["lost"] == 0);
  CHECK(link["measured_rtt_ms"].is_object());
  CHECK(link["measured_rtt_ms"]["count"] == 10);
  // The devices really were in the namespace: the log names it.
  CHECK(Contains(r.log, "from namespace edgebench-" + std::to_string(pid) + "x"));
  if (capture) {
    const json& n = r.summary["network"];
    INFO(n.dump());
    CHECK(n["capture"] == "ok");
    CHECK(n["interface"].get<std::string>().starts_with("ebh"));
    CHECK(n["packets_to_broker"].get<uint64_t>() > 0);
    CHECK(n["mqtt_packets"]["to_broker"]["PUBLISH"].get<uint64_t>() >= m["sent"].get<uint64_t>());
  }
  CheckNoLeftovers(pid, r.log, before);
}

TEST_CASE("link: a netem run that fails after building its link removes it",
          "[link_run][integration][netem]") {
  if (!RunningAsRoot()) return;
  TempDir tmp;
  LinkLeftovers leftovers;
  std::set<std::string> before = NetemInterfaces();
  // A broker config mosquitto refuses: the broker starts after the namespace exists (it
  // must listen on the veth's host end), so the run fails with the link already built.
  fs::path config = tmp.path / "config";
  fs::create_directories(config);
  fs::copy_file(fs::path(EDGEBENCH_SOURCE_DIR) / "config" / "profiles.yaml",
                config / "profiles.yaml");
  std::ofstream(config / "mosquitto.conf.in")
      << "listener @PORT@ 127.0.0.1\nuser @USER@\nlog_dest stdout\nbogus_option true\n";
  pid_t pid = 0;
  RunResult r =
      RunWatched(tmp.path, "broken",
                 Fleet("broken", "network: {backend: netem, uplink_mbit: 50, downlink_mbit: 50}\n"),
                 &leftovers, &pid, {"--config-dir", config.string()});
  CHECK(r.cmd.exit_code == 3);
  REQUIRE_FALSE(r.dir.empty());
  // mosquitto starts its lines with a Unix time: replace it to compare the whole text.
  std::string err = std::regex_replace(r.cmd.err, std::regex("[0-9]{9,}: "), "T: ");
  std::string partial = r.dir.parent_path().string() + "/" + r.dir.stem().string() + ".partial";
  CHECK(err ==
        "edgebench: error: cannot start the embedded broker: mosquitto exited with "
        "status 3: T: Error: Unknown configuration variable \"bogus_option\". T: Error "
        "found at " +
            partial + "/mosquitto.conf:4.\n");
  REQUIRE_FALSE(r.dir.empty());
  CHECK(r.dir.extension() == ".failed");
  CHECK(r.summary["status"] == "failed");
  CHECK(r.summary["link"]["backend"] == "netem");
  // The link had been built...
  CHECK(Contains(r.log, "netem link up namespace=edgebench-" + std::to_string(pid) + "x"));
  // ... and is gone.
  CheckNoLeftovers(pid, r.log, before);
}

namespace {

// Makes this process the reaper of orphaned descendants while it lives, so the children of
// a killed edgebench come back to the test, which reaps them (killing any that outlive it).
class OrphanReaper {
 public:
  OrphanReaper() {
    ::prctl(PR_GET_CHILD_SUBREAPER, &previous_);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~OrphanReaper() {
    for (pid_t pid : pids_) {
      if (!Reaped(pid, 3000)) {
        ::kill(pid, SIGKILL);
        Reaped(pid, 3000);
      }
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, previous_);
  }
  OrphanReaper(const OrphanReaper&) = delete;
  OrphanReaper& operator=(const OrphanReaper&) = delete;

  void Watch(pid_t pid) { pids_.push_back(pid); }

  // True once `pid` has exited and been reaped (here, or by whoever else was its parent).
  static bool Reaped(pid_t pid, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int status = 0;
      pid_t got = ::waitpid(pid, &status, WNOHANG);
      if (got == pid) return true;
      if (got < 0 && errno == ECHILD && ::kill(pid, 0) != 0 && errno == ESRCH) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  int previous_ = 0;
  std::vector<pid_t> pids_;
};

// The edgebench.log of the one run under `out` (still .partial while it runs).
std::string PartialLog(const fs::path& out) {
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(out, ec)) {
    if (e.path().filename() == "edgebench.log") return Slurp(e.path());
  }
  return "";
}

pid_t PidAfter(const std::string& log, const std::string& key) {
  std::string text = ValueAfter(log, key);
  return text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
}

}  // namespace

TEST_CASE("link: the namespace of a killed netem run is removed by the next one",
          "[link_run][integration][netem]") {
  if (!RunningAsRoot()) return;
  TempDir tmp;
  LinkLeftovers leftovers;
  OrphanReaper reaper;
  std::string network = "network: {backend: netem, uplink_mbit: 50, downlink_mbit: 50}\n";
  std::ofstream(tmp.path / "long.yaml")
      << "name: long\ndevices: {count: 5}\npublish: {rate: 10}\nduration_s: 60\n"
         "capture: {enabled: false}\n" +
             network;
  fs::path killed_out = tmp.path / "killed";
  std::string stale;
  {
    Edgebench killed({"run", (tmp.path / "long.yaml").string(), "--out", killed_out.string(),
                      "--log-level", "off"},
                     tmp.path, "killed");
    leftovers.Watch(killed.pid());
    auto measuring = [&] { return Contains(PartialLog(killed_out), "measuring warmup_s="); };
    bool started = measuring();
    for (int i = 0; i < 1500 && !started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      started = measuring();
    }
    std::vector<std::string> namespaces = NamespacesOf(killed.pid());
    std::string log = PartialLog(killed_out);
    INFO(log);
    pid_t broker = PidAfter(log, "broker started pid=");
    pid_t worker = PidAfter(log, "worker 0 forked pid=");
    if (broker > 0) reaper.Watch(broker);
    if (worker > 0) reaper.Watch(worker);
    REQUIRE(started);
    REQUIRE(broker > 0);
    REQUIRE(worker > 0);
    REQUIRE(namespaces.size() == 1);
    stale = namespaces[0];
    CommandResult k = killed.Kill();
    CHECK(k.exit_code == 128 + SIGKILL);
    // The broker and the worker die with it (PR_SET_PDEATHSIG)...
    CHECK(OrphanReaper::Reaped(broker, 5000));
    CHECK(OrphanReaper::Reaped(worker, 5000));
  }
  // ... but nothing removes the namespace or the veth.
  CHECK(fs::exists("/run/netns/" + stale));
  CHECK(fs::exists("/sys/class/net/" + HostInterfaceOf(stale)));

  std::set<std::string> before = NetemInterfaces();
  before.erase(HostInterfaceOf(stale));
  pid_t pid = 0;
  RunResult r = RunWatched(tmp.path, "next", Fleet("next", network), &leftovers, &pid);
  INFO(r.cmd.err);
  CHECK(r.cmd.exit_code == 0);
  CHECK(r.summary["link"]["backend"] == "netem");
  CHECK(Contains(
      r.log, "removed network namespace " + stale + " left by an edgebench that no longer runs\n"));
  CHECK_FALSE(fs::exists("/run/netns/" + stale));
  CHECK_FALSE(fs::exists("/sys/class/net/" + HostInterfaceOf(stale)));
  CheckNoLeftovers(pid, r.log, before);
}

TEST_CASE("run: several scenario files run as one set; a bad one starts none",
          "[link_run][integration]") {
  TempDir tmp;
  fs::path out = tmp.path / "results";
  fs::path first = tmp.Write("a.yaml", Fleet("first", "network: edge-lan\n"));
  fs::path second = tmp.Write("b.yaml", Fleet("second", ""));
  CommandResult r =
      RunEdgebench({"run", first.string(), second.string(), "--out", out.string()}, tmp.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // Two files are a set (docs/scenario.md, Sets): OUT/first+second/<id>/c<n>-<name>/<run>,
  // each run's directory printed after its table.
  std::map<std::string, fs::path> dirs;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(out.string() + "/")) {
      fs::path dir(line);
      CHECK(dir.parent_path().parent_path().parent_path() == out / "first+second");
      dirs[dir.parent_path().filename().string()] = dir;
    }
  }
  REQUIRE(dirs.size() == 2);
  REQUIRE(dirs.count("c1-first") == 1);
  REQUIRE(dirs.count("c2-second") == 1);
  for (const auto& [cell, dir] : dirs) {
    INFO(dir);
    REQUIRE(fs::is_directory(dir));
    json s = json::parse(Slurp(dir / "summary.json"));
    CHECK(s["status"] == "ok");
    CHECK(s["messages"]["lost"] == 0);
  }
  CHECK(r.out.find(dirs["c1-first"].string()) > r.out.find("first — status"));
  CHECK(r.out.find(dirs["c2-second"].string()) > r.out.find("second — status"));
  CHECK(json::parse(Slurp(dirs["c1-first"] / "summary.json"))["link"]["profile"] == "edge-lan");
  CHECK(json::parse(Slurp(dirs["c2-second"] / "summary.json"))["link"]["emulated"] == false);

  // A bad second file: nothing runs, not even the good first one.
  TempDir bad_tmp;
  fs::path bad_out = bad_tmp.path / "results";
  fs::path good = bad_tmp.Write("good.yaml", Fleet("good", ""));
  fs::path bad = bad_tmp.Write("bad.yaml", "name: bad\nnetwork: cloud-nera\n");
  std::string config = std::string(EDGEBENCH_SOURCE_DIR) + "/config";
  CommandResult b = RunEdgebench(
      {"run", good.string(), bad.string(), "--out", bad_out.string(), "--config-dir", config},
      bad_tmp.path);
  CHECK(b.exit_code == 2);
  CHECK(b.err == "edgebench: error: " + bad.string() +
                     ":2:10: unknown network profile 'cloud-nera' (did you mean 'cloud-near'?); " +
                     config +
                     "/profiles.yaml has cloud-far, cloud-near, cloud-public-5g, "
                     "constrained-site, edge-5g-campus, edge-lan\n"
                     "network: cloud-nera\n"
                     "         ^\n");
  CHECK(b.out.empty());
  CHECK_FALSE(fs::exists(bad_out));
}

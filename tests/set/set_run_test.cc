// End-to-end tests of sets: the real binary runs a matrix with repeats against its own
// mosquitto on loopback, gates on expect:, is interrupted with SIGINT and resumed, and prints a
// dry-run plan. Runs are tiny (1 s windows, 2-3 devices, no capture, no network emulation).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/results/reporters.h"
#include "edgebench/results/set_index.h"
#include "edgebench/scenario/scenario.h"
#include "edgebench/set/set.h"

#include "cli_support.h"

namespace {

using namespace cli_support;
using edgebench::ReadSetIndex;
using edgebench::Result;
using edgebench::RunResult;
using edgebench::SetCell;
using edgebench::SetIndex;
using edgebench::SetRun;

// A run of 2 devices at 5 msg/s for 1 s: about 2 s with the broker's start and stop.
std::string Tiny(const std::string& name, const std::string& extra) {
  return "name: " + name +
         "\n"
         "devices: {count: 2}\n"
         "publish: {rate: 5}\n"
         "warmup_s: 0\nduration_s: 1\ndrain_s: 0.5\ncooldown_s: 0\n"
         "capture: {enabled: false}\n" +
         extra;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// OUT/<name>/latest resolved to the set directory as edgebench names it (OUT/<name>/<id>).
fs::path SetDirOf(const fs::path& out, const std::string& name) {
  fs::path latest = out / name / "latest";
  if (!fs::is_symlink(latest)) return {};
  return out / name / fs::read_symlink(latest);
}

SetIndex IndexOf(const fs::path& set_dir) {
  Result<SetIndex> index = ReadSetIndex(set_dir.string());
  INFO((index ? "" : index.error().message));
  REQUIRE(index.ok());
  return index.value();
}

std::map<std::string, int> StatusCounts(const SetIndex& index) {
  std::map<std::string, int> counts;
  for (const SetCell& c : index.cells) {
    for (const SetRun& r : c.runs) ++counts[r.status];
  }
  return counts;
}

// Every run of the index has happened, ok, in SET/<cell id>/, and reads back as ok.
void CheckComplete(const fs::path& set_dir, const SetIndex& index) {
  CHECK(index.runs_missing() == 0);
  for (const SetCell& c : index.cells) {
    for (const SetRun& r : c.runs) {
      INFO(c.id << " run " << r.repeat << " " << r.dir);
      CHECK(r.status == "ok");
      CHECK(fs::path(r.dir).parent_path() == c.id);
      CHECK(fs::is_directory(set_dir / r.dir));
      Result<RunResult> run = edgebench::ReadRunDirectory((set_dir / r.dir).string());
      REQUIRE(run.ok());
      CHECK(run.value().status == edgebench::RunStatus::kOk);
    }
  }
}

// A child edgebench with its output in files, killed and reaped if the test leaves early.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& dir)
      : out_(dir / "child-stdout.txt"), err_(dir / "child-stderr.txt") {
    std::vector<std::string> argv = {EDGEBENCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  void Signal(int sig) const { kill(pid_, sig); }
  CommandResult Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(out_);
    r.err = Slurp(err_);
    return r;
  }

 private:
  fs::path out_;
  fs::path err_;
  pid_t pid_ = -1;
};

// Polls (every 20 ms, for up to `timeout_s`) until `done` holds or the child exits.
template <class F>
bool PollUntil(const Child& child, double timeout_s, F done) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    if (!child.running()) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

const char* kGrid =
    "repeat: 2\n"
    "expect:\n  latency_p99_ms: {max: 100000}\n  sent_per_s: {min: 1}\n"
    "matrix:\n  publish.qos: [0, 1]\n  devices.count: [2, 3]\n";

}  // namespace

TEST_CASE("a 2x2 matrix with repeat 2 runs 8 runs, interleaved, into one set", "[set_run]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("grid.yaml", Tiny("grid", kGrid));
  fs::path out = tmp.path / "results";
  CommandResult r = RunEdgebench(
      {"run", scenario.string(), "--out", out.string(), "--log-level", "off"}, tmp.path);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());

  fs::path set_dir = SetDirOf(out, "grid");
  REQUIRE(fs::is_directory(set_dir));
  // Only the set and its `latest` link are under OUT/grid/.
  std::set<std::string> entries;
  for (const auto& e : fs::directory_iterator(out / "grid")) entries.insert(e.path().filename());
  CHECK(entries == std::set<std::string>{"latest", set_dir.filename().string()});

  SetIndex index = IndexOf(set_dir);
  CHECK(index.name == "grid");
  CHECK(index.id == set_dir.filename().string());
  CHECK(index.repeat == 2);
  CHECK(index.seed == 1);
  CHECK(index.matrix_keys == std::vector<std::string>{"publish.qos", "devices.count"});
  REQUIRE(index.cells.size() == 4);
  std::vector<std::string> ids;
  for (const SetCell& c : index.cells) ids.push_back(c.id);
  CHECK(ids == std::vector<std::string>{"c1-0-2", "c2-0-3", "c3-1-2", "c4-1-3"});
  for (const SetCell& c : index.cells) {
    CHECK(c.runs.size() == 2);
    CHECK(c.expect_pass() == true);
    CHECK(c.source == scenario.string());
  }
  CheckComplete(set_dir, index);
  CHECK(index.order == edgebench::InterleavedOrder({2, 2, 2, 2}, 1));

  // Interleaved: each round of 4 holds every cell once, and the runs happened in that order.
  REQUIRE(index.order.size() == 8);
  int64_t previous_t0 = 0;
  for (size_t i = 0; i < index.order.size(); ++i) {
    auto [cell, repeat] = index.order[i];
    CHECK(repeat == static_cast<int>(i / 4));
    const SetCell& c = index.cells[static_cast<size_t>(cell)];
    Result<RunResult> run =
        edgebench::ReadRunDirectory((set_dir / c.runs[static_cast<size_t>(repeat)].dir).string());
    REQUIRE(run.ok());
    INFO(c.id);
    CHECK(run.value().info.qos == std::stoi(c.values[0].second));
    CHECK(run.value().info.devices == std::stoi(c.values[1].second));
    CHECK(run.value().info.t0_unix_ms > previous_t0);
    previous_t0 = run.value().info.t0_unix_ms;
  }
  for (int round = 0; round < 2; ++round) {
    std::set<int> cells;
    for (size_t i = 0; i < 4; ++i)
      cells.insert(index.order[static_cast<size_t>(round) * 4 + i].first);
    CHECK(cells == std::set<int>{0, 1, 2, 3});
  }

  // cells/<id>.yaml hold each cell's resolved scenario: it reads back as the cell.
  Result<edgebench::Experiment> planned = edgebench::LoadExperiment(scenario.string());
  REQUIRE(planned.ok());
  REQUIRE(planned.value().cells.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    INFO(index.cells[i].scenario_file);
    CHECK(index.cells[i].scenario_file == "cells/" + index.cells[i].id + ".yaml");
    Result<edgebench::Scenario> back =
        edgebench::LoadScenario((set_dir / index.cells[i].scenario_file).string());
    REQUIRE(back.ok());
    edgebench::Scenario expected = planned.value().cells[i].scenario;
    expected.source_file = back.value().source_file;
    CHECK(back.value() == expected);
  }

  // Progress before each run, and the summary at the end.
  CHECK(r.out.rfind("set grid: 4 cells, 8 runs, about ", 0) == 0);
  size_t progress = 0;
  for (size_t at = r.out.find("\n[set "); at != std::string::npos;
       at = r.out.find("\n[set ", at + 1)) {
    ++progress;
  }
  CHECK(progress == 8);
  CHECK(r.out.find("\n[set 8/8] ") != std::string::npos);
  CHECK(r.out.find("\nset grid: 8 of 8 runs done, in " + set_dir.string() + "\n") !=
        std::string::npos);
}

TEST_CASE("expect: a single run passes (exit 0) or fails (exit 1) and says which", "[set_run]") {
  TempDir tmp;
  fs::path out = tmp.path / "results";
  fs::path pass =
      tmp.Write("pass.yaml", Tiny("pass", "expect:\n  latency_p99_ms: {max: 100000}\n"));
  CommandResult r =
      RunEdgebench({"run", pass.string(), "--out", out.string(), "--log-level", "off"}, tmp.path);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  Result<RunResult> passed = edgebench::ReadRunDirectory(LastLine(r.out));
  REQUIRE(passed.ok());
  REQUIRE(passed.value().expectations.size() == 1);
  CHECK(passed.value().expectations[0].pass);
  CHECK(passed.value().expectations[0].metric == "latency_p99_ms");
  CHECK(SummaryOf(r.out)["expectations"][0]["verdict"] == "pass");
  CHECK_FALSE(fs::exists(out / "pass" / "latest"));  // a single run is not a set

  fs::path fail =
      tmp.Write("fail.yaml", Tiny("fail", "expect:\n  latency_p99_ms: {max: 0.000001}\n"));
  r = RunEdgebench({"run", fail.string(), "--out", out.string(), "--log-level", "off"}, tmp.path);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  fs::path dir = LastLine(r.out);
  REQUIRE(dir.parent_path() == out / "fail");
  Result<RunResult> run = edgebench::ReadRunDirectory(dir.string());
  REQUIRE(run.ok());
  REQUIRE(run.value().expectations.size() == 1);
  const edgebench::ExpectResult& e = run.value().expectations[0];
  CHECK_FALSE(e.pass);
  CHECK(e.reason == "above the maximum");
  REQUIRE(e.value.has_value());
  CHECK(*e.value > 0);
  CHECK(r.err == "edgebench: error: expect failed: latency_p99_ms " + Number(*e.value) +
                     " > max 0.000001\n");
  CHECK(r.out.find("  expect      FAIL latency_p99_ms " + Number(*e.value) + " > max 0.000001\n") !=
        std::string::npos);
}

namespace {

// One cell that passes and one that fails, run once for the test cases that look at it.
struct GateSet {
  TempDir tmp;
  fs::path set_dir;
  CommandResult result;

  GateSet() {
    fs::path scenario = tmp.Write(
        "gate.yaml", Tiny("gate",
                          "matrix:\n  gate:\n"
                          "    - {label: loose, expect: {latency_p99_ms: {max: 100000}}}\n"
                          "    - {label: tight, expect: {latency_p99_ms: {max: 0.000001}}}\n"));
    fs::path out = tmp.path / "results";
    result = RunEdgebench({"run", scenario.string(), "--out", out.string(), "--log-level", "off"},
                          tmp.path);
    set_dir = SetDirOf(out, "gate");
  }
};

const GateSet& Gate() {
  static const GateSet gate;
  return gate;
}

}  // namespace

TEST_CASE("expect: a set with a failing cell exits 1; index.json has each verdict", "[set_run]") {
  const GateSet& g = Gate();
  INFO(g.result.out << g.result.err);
  CHECK(g.result.exit_code == 1);
  REQUIRE(fs::is_directory(g.set_dir));
  SetIndex index = IndexOf(g.set_dir);
  REQUIRE(index.cells.size() == 2);
  CHECK(index.cells[0].id == "c1-loose");
  CHECK(index.cells[1].id == "c2-tight");
  CheckComplete(g.set_dir, index);
  CHECK(index.cells[0].expect_pass() == true);
  CHECK(index.cells[1].expect_pass() == false);
  CHECK(index.cells[1].runs[0].expect_pass == false);
  nlohmann::json j = nlohmann::json::parse(Slurp(g.set_dir / "index.json"));
  CHECK(j["cells"][0]["expect_pass"] == true);
  CHECK(j["cells"][1]["expect_pass"] == false);
  CHECK(j["complete"] == true);
  // The measured latency varies; everything around it is fixed.
  CHECK(g.result.err.starts_with(
      "edgebench: error: expect failed in c2-tight (1 of 1 runs): latency_p99_ms "));
  CHECK(g.result.err.ends_with(" > max 0.000001\n"));
}

// A CI log says which threshold failed, not only which cell.
TEST_CASE("expect: a set's error line names the threshold that failed", "[set_run]") {
  const GateSet& g = Gate();
  INFO(g.result.err);
  CHECK(g.result.exit_code == 1);
  CHECK(g.result.err.find("latency_p99_ms ") != std::string::npos);
  CHECK(g.result.err.find(" > max 0.000001") != std::string::npos);
}

TEST_CASE("an interrupted set keeps its runs; --resume finishes it", "[set_run]") {
  TempDir tmp;
  fs::path scenario =
      tmp.Write("resume.yaml", Tiny("resume", "repeat: 2\nmatrix:\n  publish.qos: [0, 1]\n"));
  fs::path out = tmp.path / "results";
  std::optional<SetIndex> seen;
  CommandResult r;
  {
    Child child({"run", scenario.string(), "--out", out.string(), "--log-level", "off"}, tmp.path);
    // Until the index says a run is done (index.json is replaced atomically).
    bool one_done = PollUntil(child, 120, [&] {
      fs::path dir = SetDirOf(out, "resume");
      if (dir.empty()) return false;
      Result<SetIndex> index = ReadSetIndex(dir.string());
      if (!index.ok() || StatusCounts(*index)["ok"] < 1) return false;
      seen = *index;
      return true;
    });
    REQUIRE(one_done);
    REQUIRE(child.running());
    child.Signal(SIGINT);
    r = child.Wait();
  }
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 130);
  fs::path set_dir = SetDirOf(out, "resume");
  SetIndex index = IndexOf(set_dir);
  std::map<std::string, int> counts = StatusCounts(index);
  INFO("ok " << counts["ok"] << ", interrupted " << counts["interrupted"] << ", missing "
             << counts["missing"]);
  CHECK(counts["ok"] >= 1);
  CHECK(counts["ok"] + counts["interrupted"] + counts["missing"] == 4);
  CHECK(counts["missing"] >= 1);
  // An interrupted run is redone by --resume: it counts as missing.
  CHECK(index.runs_missing() == static_cast<size_t>(counts["missing"] + counts["interrupted"]));
  // The runs not done are named, in the set's order.
  std::string not_run;
  for (auto [cell, repeat] : index.order) {
    const SetCell& c = index.cells[static_cast<size_t>(cell)];
    const std::string& st = c.runs[static_cast<size_t>(repeat)].status;
    if (st != "missing" && st != "interrupted") continue;
    not_run += (not_run.empty() ? "" : ", ") + c.id + " run " + std::to_string(repeat + 1);
  }
  CHECK(r.err == "edgebench: error: set interrupted after " + std::to_string(index.runs_done()) +
                     " of 4 runs; not run: " + not_run +
                     "; finish it with: edgebench run --resume " + set_dir.string() + "\n");
  // The runs done before the signal are kept as they are.
  std::map<std::string, std::string> kept;
  for (const SetCell& c : index.cells) {
    for (const SetRun& run : c.runs) {
      if (run.status == "ok") {
        CHECK(fs::is_directory(set_dir / run.dir));
        kept[c.id + "#" + std::to_string(run.repeat)] = run.dir;
      }
      if (run.status == "interrupted") CHECK(fs::path(run.dir).extension() == ".interrupted");
      if (run.status == "missing") CHECK(run.dir.empty());
    }
  }

  // Through the `latest` link, as `run --help` suggests.
  fs::path latest = out / "resume" / "latest";
  r = RunEdgebench({"run", "--resume", latest.string(), "--log-level", "off"}, tmp.path);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("resuming set resume: " + std::to_string(4 - counts["ok"]) +
                        " of 4 runs to do; index: " + latest.string() + "/index.json\n",
                    0) == 0);
  CHECK(SetDirOf(out, "resume") == set_dir);
  SetIndex resumed = IndexOf(set_dir);
  CheckComplete(set_dir, resumed);
  CHECK(resumed.order == index.order);
  CHECK(resumed.id == index.id);
  for (const SetCell& c : resumed.cells) {
    for (const SetRun& run : c.runs) {
      auto it = kept.find(c.id + "#" + std::to_string(run.repeat));
      if (it != kept.end()) CHECK(run.dir == it->second);
    }
  }
  CHECK(nlohmann::json::parse(Slurp(set_dir / "index.json"))["complete"] == true);

  // A complete set has nothing to resume.
  r = RunEdgebench({"run", "--resume", set_dir.string(), "--log-level", "off"}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + set_dir.string() +
                     ": the set is complete (4 runs done); nothing to resume\n");
  CHECK(IndexOf(set_dir) == resumed);

  // Not a set: a run directory has no index.json.
  r = RunEdgebench({"run", "--resume", (set_dir / resumed.cells[0].runs[0].dir).string()},
                   tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("edgebench: error: ", 0) == 0);
  CHECK(r.err.find("/index.json") != std::string::npos);

  // --resume takes nothing else.
  r = RunEdgebench({"run", "--resume", set_dir.string(), scenario.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "edgebench: error: --resume takes the set directory only: the set's own cells/*.yaml say "
        "what to run\nRun 'edgebench --help' for usage.\n");
}

TEST_CASE("run --resume of a directory that is not a set exits 2 with one line", "[set_run]") {
  TempDir tmp;
  CommandResult r = RunEdgebench({"run", "--resume", tmp.path.string()}, tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "edgebench: error: " + tmp.path.string() +
                     "/index.json: cannot read file: No such file or directory\n");
}

TEST_CASE("run --dry-run prints the plan and creates nothing", "[set_run]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("grid.yaml", Tiny("grid", kGrid));
  fs::path out = tmp.path / "results";
  CommandResult r =
      RunEdgebench({"run", "--dry-run", scenario.string(), "--out", out.string()}, tmp.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_FALSE(fs::exists(out));
  Result<edgebench::Experiment> e = edgebench::LoadExperiment(scenario.string());
  REQUIRE(e.ok());
  CHECK(r.out == edgebench::DescribePlan(edgebench::PlanSet({e.value()})));
  // 8 runs of 0 + 1 + 0.5 + 2 s, no cool-down.
  CHECK(r.out.rfind("set grid: 4 cells, 8 runs, order seed 1, cool-down 0 s\n  c1-0-2 ", 0) == 0);
  CHECK(r.out.find("\nestimated time: 28s\n") != std::string::npos);

  // Several files on one command line are one set.
  fs::path other = tmp.Write("other.yaml", Tiny("other", ""));
  r = RunEdgebench({"run", "--dry-run", scenario.string(), other.string(), "--out", out.string()},
                   tmp.path);
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("set grid+other: 5 cells, 9 runs, order seed 1, cool-down 0 s\n", 0) == 0);
  CHECK_FALSE(fs::exists(out));
}

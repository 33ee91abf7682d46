// Runs a set: the set directory, index.json after every run, progress, cool-down, the
// `latest` link, and resume (contract in set.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "edgebench/base/fd.h"
#include "edgebench/results/metrics.h"
#include "edgebench/results/run_directory.h"
#include "edgebench/set/set.h"

#include "set/internal.h"

namespace edgebench {
namespace set_internal {

namespace fs = std::filesystem;

SetIndex IndexOf(const SetPlan& plan, const std::string& id,
                 const std::vector<std::string>& command_line) {
  SetIndex index;
  index.name = plan.name;
  index.id = id;
  index.created = UtcIso8601();
  index.seed = plan.seed;
  index.cooldown_s = plan.cooldown_s;
  index.matrix_keys = plan.keys;
  index.order = plan.order;
  index.command_line = command_line;
  for (const PlannedCell& c : plan.cells) {
    SetCell cell{c.id, c.scenario.name, c.source, c.values, "cells/" + c.id + ".yaml", {}};
    for (int r = 0; r < c.scenario.repeat; ++r) cell.runs.push_back(SetRun{r, "", "missing", {}});
    index.repeat = std::max(index.repeat, c.scenario.repeat);
    index.cells.push_back(std::move(cell));
  }
  return index;
}

// OUT/<name>/<id>/ with cells/<id>.yaml and index.json.
Result<std::string> CreateSetDir(const SetPlan& plan, const RunOptions& options, SetIndex* index) {
  std::string parent = options.out_root + "/" + plan.name;
  std::string id = UtcStamp() + "-" + ShortId();
  std::string dir = parent + "/" + id;
  std::error_code ec;
  fs::create_directories(dir + "/cells", ec);
  if (ec)
    return Error{ErrorKind::kRunFailed, "cannot create set directory " + dir + ": " + ec.message()};
  *index = IndexOf(plan, id, options.command_line);
  for (const PlannedCell& c : plan.cells) {
    if (Status st = WriteFile(dir + "/cells/" + c.id + ".yaml", ScenarioToYaml(c.scenario)); !st) {
      return st.error().WithKind(ErrorKind::kRunFailed);
    }
  }
  if (Status st = WriteSetIndex(dir, *index); !st)
    return st.error().WithKind(ErrorKind::kRunFailed);
  return dir;
}

// OUT/<name>/latest -> <id>, replaced atomically; a failure costs only the link.
void PointLatest(const std::string& set_dir) {
  fs::path dir(set_dir);
  fs::path link = dir.parent_path() / "latest";
  fs::path temporary = dir.parent_path() / (".latest-" + ShortId());
  std::error_code ec;
  fs::create_directory_symlink(dir.filename(), temporary, ec);
  if (!ec) fs::rename(temporary, link, ec);
  if (ec) {
    std::fprintf(stderr, "edgebench: warning: cannot point %s at %s: %s\n", link.c_str(),
                 dir.filename().c_str(), ec.message().c_str());
    fs::remove(temporary, ec);
  }
}

std::string Values(const PlannedCell& c) {
  std::string out;
  for (const auto& [key, value] : c.values) out += (out.empty() ? "" : " ") + key + "=" + value;
  return out;
}

// Sleeps `seconds` in short steps; false when a stop was requested.
bool CoolDown(double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (StopRequested()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !StopRequested();
}

void RecordRun(Execution& x, int cell, int repeat, const RunOutcome& out) {
  SetRun& run = x.index.cells[static_cast<size_t>(cell)].runs[static_cast<size_t>(repeat)];
  run.status = RunStatusName(out.status);
  run.dir = out.results_dir.empty() ? "" : fs::relative(out.results_dir, x.dir).string();
  run.expect_pass.reset();
  if (out.status == RunStatus::kOk && !out.expectations.empty()) {
    run.expect_pass = true;
    std::string failed;
    for (const ExpectResult& e : out.expectations) {
      if (!e.pass) failed += (failed.empty() ? "" : "; ") + DescribeExpectation(e);
    }
    run.expect_pass = failed.empty();
    if (!failed.empty()) x.failed_thresholds.emplace(cell, failed);
  }
  if (out.error && out.error->kind != ErrorKind::kThreshold) {
    Error e = *out.error;
    if (e.kind == ErrorKind::kInterrupted) x.interrupted = true;
    e.message = x.plan.cells[static_cast<size_t>(cell)].id + " run " + std::to_string(repeat + 1) +
                ": " + e.message;
    if (e.kind != ErrorKind::kInterrupted) x.run_errors.push_back(e);
  }
}

void RunPlanned(Execution& x, size_t slot, const std::string& progress) {
  auto [cell, repeat] = x.plan.order[slot];
  const PlannedCell& c = x.plan.cells[static_cast<size_t>(cell)];
  std::printf("\n%s\n", progress.c_str());
  std::fflush(stdout);
  RunOptions o = x.options;
  o.out_root = x.dir;
  o.group = c.id;
  RunOutcome out = RunScenario(c.scenario, o);
  if (!out.table.empty()) std::printf("%s", out.table.c_str());
  if (!out.results_dir.empty()) std::printf("%s\n", out.results_dir.c_str());
  std::fflush(stdout);
  RecordRun(x, cell, repeat, out);
  if (Status st = WriteSetIndex(x.dir, x.index); !st) {
    x.write_errors.push_back(st.error().WithKind(ErrorKind::kRunFailed));
  }
}

void RunSlot(Execution& x, size_t slot, size_t done_before, size_t total) {
  auto [cell, repeat] = x.plan.order[slot];
  const PlannedCell& c = x.plan.cells[static_cast<size_t>(cell)];
  size_t left = total - done_before;
  RunPlanned(x, slot,
             fmt::format("[set {}/{}] {}{}{}, run {} of {}; about {} left", done_before + 1, total,
                         c.id, c.values.empty() ? "" : " ", Values(c), repeat + 1,
                         c.scenario.repeat, FormatDuration(EstimatedSeconds(x.plan, left))));
}

}  // namespace set_internal

namespace {

using namespace set_internal;  // NOLINT(google-build-using-namespace)
namespace fs = std::filesystem;

// The slots of the order still to run: missing or interrupted.
std::vector<size_t> SlotsToRun(const SetIndex& index) {
  std::vector<size_t> slots;
  for (size_t i = 0; i < index.order.size(); ++i) {
    auto [cell, repeat] = index.order[i];
    const std::string& status =
        index.cells[static_cast<size_t>(cell)].runs[static_cast<size_t>(repeat)].status;
    if (status == "missing" || status == "interrupted") slots.push_back(i);
  }
  return slots;
}

// The set's last lines on stdout: each cell's runs and verdict, and what to do next.
void PrintSummary(const Execution& x) {
  std::printf("\nset %s: %zu of %zu runs done, in %s\n", x.index.name.c_str(), x.index.runs_done(),
              x.index.order.size(), x.dir.c_str());
  for (const SetCell& c : x.index.cells) {
    size_t ok = 0;
    for (const SetRun& r : c.runs) ok += r.status == "ok" ? 1 : 0;
    std::optional<bool> pass = c.expect_pass();
    std::string values;
    for (const auto& [key, value] : c.values) values += " " + key + "=" + value;
    std::printf("  %-24s%s: %zu of %zu runs ok%s\n", c.id.c_str(), values.c_str(), ok,
                c.runs.size(),
                !pass   ? ""
                : *pass ? ", expect pass"
                        : ", expect FAIL");
  }
  std::printf("next: edgebench compare %s\n      edgebench report %s -o report.html\n",
              x.dir.c_str(), x.dir.c_str());
  std::fflush(stdout);
}

// "c2-cloud run 1, c1-edge run 2": the runs of the order not done, the first ten of them.
std::string RunsNotDone(const SetIndex& index) {
  std::vector<size_t> slots = SlotsToRun(index);
  std::string out;
  for (size_t i = 0; i < slots.size() && i < 10; ++i) {
    auto [cell, repeat] = index.order[slots[i]];
    out += fmt::format("{}{} run {}", i ? ", " : "", index.cells[static_cast<size_t>(cell)].id,
                       repeat + 1);
  }
  if (slots.size() > 10) out += fmt::format(" and {} more", slots.size() - 10);
  return out;
}

// The errors in the order of their exit codes: interrupted, runs not done, thresholds.
std::vector<Error> Errors(const Execution& x) {
  std::vector<Error> errors;
  if (x.interrupted || x.index.runs_missing() > 0) {
    errors.push_back(
        {ErrorKind::kInterrupted,
         fmt::format("set interrupted after {} of {} runs; not run: {}; finish "
                     "it with: edgebench run --resume {}",
                     x.index.runs_done(), x.index.order.size(), RunsNotDone(x.index), x.dir)});
  }
  errors.insert(errors.end(), x.run_errors.begin(), x.run_errors.end());
  errors.insert(errors.end(), x.write_errors.begin(), x.write_errors.end());
  for (const SetCell& c : x.index.cells) {
    std::optional<bool> pass = c.expect_pass();
    if (pass && !*pass) {
      size_t failed = 0;
      for (const SetRun& r : c.runs) failed += r.expect_pass == false ? 1 : 0;
      auto it = x.failed_thresholds.find(static_cast<int>(&c - x.index.cells.data()));
      std::string what =
          it == x.failed_thresholds.end() ? "see " + x.dir + "/index.json" : it->second;
      errors.push_back(
          {ErrorKind::kThreshold, fmt::format("expect failed in {} ({} of {} runs): {}", c.id,
                                              failed, c.runs.size(), what)});
    }
  }
  return errors;
}

SetOutcome Execute(Execution& x, const std::vector<size_t>& slots) {
  size_t done = x.index.runs_done();
  size_t total = x.index.order.size();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (StopRequested()) break;
    if (i > 0 && !CoolDown(x.plan.cooldown_s)) break;
    RunSlot(x, slots[i], done + i, total);
    if (x.interrupted) break;
  }
  if (StopRequested()) x.interrupted = true;
  PrintSummary(x);
  return {Errors(x), x.dir};
}

// The plan of a set that exists: its cells read back from cells/<id>.yaml.
Result<SetPlan> PlanOfIndex(const std::string& set_dir, const SetIndex& index,
                            const ExternalChecks& checks) {
  SetPlan plan;
  plan.name = index.name;
  plan.seed = index.seed;
  plan.cooldown_s = index.cooldown_s;
  plan.keys = index.matrix_keys;
  plan.order = index.order;
  for (const SetCell& c : index.cells) {
    Result<Scenario> s = LoadScenario(set_dir + "/" + c.scenario_file, {}, checks);
    if (!s.ok()) return s.error().WithKind(ErrorKind::kUsage);
    plan.cells.push_back({c.id, c.source, c.values, std::move(s.value())});
  }
  return plan;
}

}  // namespace

SetOutcome RunSet(const SetPlan& plan, const RunOptions& options) {
  Execution x{plan, options, "", {}, {}, {}, {}, false};
  Result<std::string> dir = CreateSetDir(plan, options, &x.index);
  if (!dir.ok()) return {{dir.error()}, ""};
  x.dir = *dir;
  PointLatest(x.dir);
  std::printf("set %s: %zu cells, %zu runs, about %s; index: %s/index.json\n", plan.name.c_str(),
              plan.cells.size(), plan.order.size(),
              FormatDuration(EstimatedSeconds(plan, plan.order.size())).c_str(), x.dir.c_str());
  std::vector<size_t> slots;
  for (size_t i = 0; i < plan.order.size(); ++i) slots.push_back(i);
  return Execute(x, slots);
}

SetOutcome ResumeSet(const std::string& set_dir, const ExternalChecks& checks,
                     const RunOptions& options) {
  Result<SetIndex> index = ReadSetIndex(set_dir);
  if (!index.ok()) return {{index.error().WithKind(ErrorKind::kUsage)}, ""};
  if (fs::exists(set_dir + "/search.json")) {
    return {{Error{ErrorKind::kUsage,
                   set_dir + " is a search: resuming one is not supported yet; its finished "
                             "steps are in search.json; run the scenario again"}},
            set_dir};
  }
  std::vector<size_t> slots = SlotsToRun(*index);
  if (slots.empty()) {
    return {{Error{ErrorKind::kUsage, set_dir + ": the set is complete (" +
                                          std::to_string(index->order.size()) +
                                          " runs done); nothing to resume"}},
            set_dir};
  }
  Result<SetPlan> plan = PlanOfIndex(set_dir, *index, checks);
  if (!plan.ok()) return {{plan.error()}, ""};
  Execution x{*plan, options, set_dir, std::move(index.value()), {}, {}, {}, false};
  for (size_t slot : slots) {
    auto [cell, repeat] = x.index.order[slot];
    x.index.cells[static_cast<size_t>(cell)].runs[static_cast<size_t>(repeat)] =
        SetRun{repeat, "", "missing", {}};
  }
  std::printf("resuming set %s: %zu of %zu runs to do; index: %s/index.json\n",
              x.index.name.c_str(), slots.size(), x.index.order.size(), set_dir.c_str());
  return Execute(x, slots);
}

}  // namespace edgebench

// LoadCells(): run directories and sets read back and grouped into cells, with the checks
// that keep compare from mixing runs that are not what their cells say they are.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/compare/compare.h"
#include "edgebench/results/reporters.h"
#include "edgebench/results/search_result.h"
#include "edgebench/results/set_index.h"

#include "compare/internal.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using Values = std::map<std::string, std::string>;

// Keys that do not change what a run does, so runs of one cell may differ in them: the
// seed (a set may give each repeat its own: the arrival jitter and payload bytes it picks
// are the randomness repeats are meant to sample), and repeat and cool-down (they shape
// the set, not the run).
const std::set<std::string> kRunIgnoredKeys = {"seed", "repeat", "cooldown_s"};
// Keys that name a scenario rather than configure it: cells may differ in them.
const std::set<std::string> kNameKeys = {"name", "description"};

Error UsageError(std::string message) { return Error{ErrorKind::kUsage, std::move(message)}; }

// ".failed" when the directory's name ends so; "" for a complete run's name.
std::string IncompleteSuffix(const std::string& dir) {
  std::string name = fs::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(dir).lexically_normal().parent_path().filename().string();
  for (const char* suffix : {".partial", ".failed", ".interrupted"}) {
    if (name.ends_with(suffix)) return suffix;
  }
  return "";
}

std::string SkipHint() { return "; --include-incomplete compares it"; }

Values RunValues(const Scenario& scenario) {
  Values v = ScenarioValues(scenario);
  for (const std::string& key : kRunIgnoredKeys) v.erase(key);
  return v;
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// The resolved scenario a run wrote. Capture checks are dropped (they check this host's
// interfaces) and files only a run reads (a CA certificate) are warnings, not errors.
Result<Scenario> ReadResolvedScenario(const std::string& dir, const ExternalChecks& checks) {
  ExternalChecks c = checks;
  c.capture_filter = nullptr;
  c.capture_interface = nullptr;
  std::vector<Error> ignored_warnings;
  c.run_time_warnings = &ignored_warnings;
  Result<Scenario> s = LoadScenario(dir + "/scenario.yaml", {}, c);
  if (!s.ok()) return UsageError(s.error().ToString());
  return s;
}

// One run directory with its scenario, or nullopt (and a note) when it is skipped.
Result<std::optional<CompareRun>> ReadRun(const std::string& dir, const CompareOptions& options,
                                          std::vector<std::string>* notes) {
  std::string suffix = IncompleteSuffix(dir);
  if (!suffix.empty() && !options.include_incomplete) {
    notes->push_back("skipped " + dir + ": incomplete run (" + suffix + ")" + SkipHint());
    return std::optional<CompareRun>();
  }
  Result<RunResult> result = ReadRunDirectory(dir);
  if (!result.ok()) return UsageError(result.error().ToString());
  if (result->status != RunStatus::kOk && !options.include_incomplete) {
    std::string why = result->error ? ": " + *result->error : "";
    notes->push_back("skipped " + dir + ": status " + RunStatusName(result->status) + why +
                     SkipHint());
    return std::optional<CompareRun>();
  }
  Result<Scenario> scenario = ReadResolvedScenario(dir, options.checks);
  if (!scenario.ok()) return scenario.error();
  return std::optional<CompareRun>(CompareRun{dir, std::move(*result), std::move(*scenario), {}});
}

// True when `key` is a matrix key or lies under one ("network.rtt_ms" under "network").
bool UnderAny(const std::string& key, const std::set<std::string>& allowed) {
  for (const std::string& a : allowed) {
    if (key == a || key.starts_with(a + ".")) return true;
  }
  return false;
}

// The runs of one cell of a set; they must not differ from each other.
Status LoadSetCell(const std::string& set_dir, const SetCell& cell, const CompareOptions& options,
                   LoadedCells* out) {
  CompareCell c{"", cell.id, cell.scenario, cell.values, {}};
  std::string first_dir;  // of the cell's first run, as the index names it
  for (const SetRun& run : cell.runs) {
    if (run.dir.empty()) {
      out->notes.push_back("skipped repeat " + std::to_string(run.repeat + 1) + " of cell " +
                           cell.id + " in " + set_dir + ": not run yet");
      continue;
    }
    std::string dir = set_dir + "/" + run.dir;
    if (run.status != "ok" && !options.include_incomplete) {
      out->notes.push_back("skipped " + dir + ": status " + run.status + SkipHint());
      continue;
    }
    Result<std::optional<CompareRun>> r = ReadRun(dir, options, &out->notes);
    if (!r.ok()) return r.error();
    if (!r->has_value()) continue;
    (*r)->repeat = run.repeat;
    if (c.runs.empty()) first_dir = run.dir;
    std::vector<std::string> keys =
        c.runs.empty() ? std::vector<std::string>()
                       : DifferingKeys(RunValues(c.runs[0].scenario), RunValues((*r)->scenario));
    if (!keys.empty()) {
      std::string message = set_dir;
      message += ": run " + run.dir + " of cell " + cell.id;
      message += " differs from " + first_dir + " in " + JoinKeys(keys);
      return UsageError(message);
    }
    c.runs.push_back(std::move(**r));
  }
  if (c.runs.empty()) {
    out->notes.push_back("skipped cell " + cell.id + " of " + set_dir + ": no run to compare");
  } else {
    out->cells.push_back(std::move(c));
  }
  return Ok{};
}

// Cells of one scenario file may differ only in the matrix keys (and their names); cells
// from different files are different scenarios by design.
Status CheckSetCells(const std::string& set_dir, const SetIndex& index,
                     const std::vector<CompareCell>& cells) {
  std::set<std::string> allowed(index.matrix_keys.begin(), index.matrix_keys.end());
  allowed.insert(kNameKeys.begin(), kNameKeys.end());
  std::map<std::string, std::string> source_of;
  for (const SetCell& cell : index.cells) source_of[cell.id] = cell.source;
  std::map<std::string, const CompareCell*> first_of_source;
  for (const CompareCell& cell : cells) {
    auto [it, inserted] = first_of_source.emplace(source_of[cell.id], &cell);
    if (inserted) continue;
    std::vector<std::string> extra;
    for (const std::string& key :
         DifferingKeys(RunValues(it->second->runs[0].scenario), RunValues(cell.runs[0].scenario))) {
      if (!UnderAny(key, allowed)) extra.push_back(key);
    }
    if (extra.empty()) continue;
    return UsageError(
        set_dir + ": cells " + it->second->id + " and " + cell.id + " differ in " +
        JoinKeys(extra) +
        (extra.size() == 1 ? ", which is not a matrix key" : ", which are not matrix keys"));
  }
  return Ok{};
}

Status LoadSet(const std::string& set_dir, const CompareOptions& options, LoadedCells* out) {
  Result<SetIndex> index = ReadSetIndex(set_dir);
  if (!index.ok()) return UsageError(index.error().ToString());
  LoadedCells set;
  for (const SetCell& cell : index->cells) {
    Status st = LoadSetCell(set_dir, cell, options, &set);
    if (!st.ok()) return st;
  }
  Status st = CheckSetCells(set_dir, *index, set.cells);
  if (!st.ok()) return st;
  for (CompareCell& c : set.cells) out->cells.push_back(std::move(c));
  out->notes.insert(out->notes.end(), set.notes.begin(), set.notes.end());
  return Ok{};
}

// Loose runs grouped by scenario name and identical values, in the order first seen.
std::vector<CompareCell> GroupLooseRuns(std::vector<CompareRun> runs) {
  std::vector<CompareCell> cells;
  std::vector<Values> values_of;
  for (CompareRun& run : runs) {
    Values v = RunValues(run.scenario);
    size_t i = 0;
    while (i < cells.size() && !(cells[i].scenario == run.scenario.name && values_of[i] == v)) ++i;
    if (i == cells.size()) {
      cells.push_back(CompareCell{"", "", run.scenario.name, {}, {}});
      values_of.push_back(v);
    }
    cells[i].runs.push_back(std::move(run));
  }
  // Each group's values: those of the keys the groups differ in.
  std::set<std::string> keys;
  for (size_t i = 1; i < cells.size(); ++i) {
    for (const std::string& k : DifferingKeys(values_of[0], values_of[i])) keys.insert(k);
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    for (const std::string& k : keys) {
      if (kNameKeys.count(k)) continue;
      auto it = values_of[i].find(k);
      cells[i].values.emplace_back(k, it == values_of[i].end() ? "-" : it->second);
    }
  }
  return cells;
}

bool IsNumber(const std::string& text) {
  if (text.empty()) return false;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The values a label shows: a named profile stands for the values it sets, so
// network.profile=edge-lan with network.rtt_ms=0.3 and the rest shows as network=edge-lan.
std::vector<std::pair<std::string, std::string>> LabelValues(
    const std::vector<std::pair<std::string, std::string>>& values) {
  std::set<std::string> profiled;  // "network." for network.profile
  for (const auto& [key, value] : values) {
    if (key.ends_with(".profile")) profiled.insert(key.substr(0, key.size() - 7));
  }
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& [key, value] : values) {
    size_t dot = key.rfind('.');
    std::string prefix = dot == std::string::npos ? "" : key.substr(0, dot + 1);
    if (!profiled.count(prefix)) {
      shown.emplace_back(key, value);
    } else if (key.ends_with(".profile")) {
      shown.emplace_back(prefix.substr(0, prefix.size() - 1), value);
    }
  }
  return shown;
}

std::string LabelOf(const CompareCell& cell, bool names_differ) {
  if (cell.values.empty() || (names_differ && cell.id.empty())) return cell.scenario;
  return compare_internal::LabelOfValues(cell.values);
}

// Labels for every cell, unique: a clash gets the cell's id or its first run's directory.
void LabelCells(std::vector<CompareCell>& cells) {
  std::set<std::string> loose_names;
  for (const CompareCell& c : cells) {
    if (c.id.empty()) loose_names.insert(c.scenario);
  }
  std::map<std::string, int> uses;
  for (CompareCell& c : cells) ++uses[c.label = LabelOf(c, loose_names.size() > 1)];
  std::set<std::string> taken;
  for (CompareCell& c : cells) {
    if (uses[c.label] > 1) {
      std::string origin = c.id.empty() ? fs::path(c.runs[0].dir).filename().string() : c.id;
      c.label += " (" + origin + ")";
    }
    for (int n = 2; taken.count(c.label); ++n) c.label += " #" + std::to_string(n);
    taken.insert(c.label);
  }
}

// The keys any two cells differ in (names aside), from each cell's first run. When every
// cell carries its values (a set's matrix axes, a named axis such as `placement` among
// them), those keys, in the order first seen: the values are what the cells are labelled by.
std::vector<std::string> CellKeys(const std::vector<CompareCell>& cells) {
  bool all_valued = std::all_of(cells.begin(), cells.end(),
                                [](const CompareCell& c) { return !c.values.empty(); });
  if (all_valued && cells.size() > 1) {
    std::vector<std::string> named;
    for (const CompareCell& c : cells) {
      for (const auto& [key, value] : c.values) {
        if (std::find(named.begin(), named.end(), key) == named.end()) named.push_back(key);
      }
    }
    return named;
  }
  std::set<std::string> keys;
  for (size_t i = 1; i < cells.size(); ++i) {
    for (const std::string& k : DifferingKeys(RunValues(cells[0].runs[0].scenario),
                                              RunValues(cells[i].runs[0].scenario))) {
      if (!kNameKeys.count(k)) keys.insert(k);
    }
  }
  return {keys.begin(), keys.end()};
}

// The search of a set given on its own. A search set among other paths is compared cell by
// cell: its steps would be mixed with cells that are no step of it.
Status LoadSearch(const std::vector<std::string>& paths, LoadedCells* out) {
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::exists(path + "/index.json", ec) || !fs::exists(path + "/search.json", ec)) continue;
    if (paths.size() > 1) {
      out->notes.push_back(path +
                           " is a search: compared cell by cell here; compare it on its own "
                           "for its steps against the searched key");
      continue;
    }
    Result<SearchResult> search = ReadSearchResult(path);
    if (!search.ok()) return UsageError(search.error().ToString());
    out->search = std::move(*search);
  }
  return Ok{};
}

}  // namespace

namespace compare_internal {

// "edge-lan" for one key with a word value, else "network=edge-lan devices.count=100".
std::string LabelOfValues(const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::pair<std::string, std::string>> shown = LabelValues(values);
  if (shown.size() == 1 && !IsNumber(shown[0].second)) return shown[0].second;
  std::string label;
  for (const auto& [key, value] : shown) {
    if (!label.empty()) label += ' ';
    label += key;
    label += '=';
    label += value;
  }
  return label;
}

}  // namespace compare_internal

Result<LoadedCells> LoadCells(const std::vector<std::string>& paths,
                              const CompareOptions& options) {
  LoadedCells out;
  std::vector<CompareRun> loose;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return UsageError(path + ": no such run directory or set");
    Status st = Ok{};
    if (fs::exists(path + "/index.json", ec)) {
      st = LoadSet(path, options, &out);
    } else if (fs::is_directory(path, ec) &&
               (fs::exists(path + "/summary.json", ec) || !IncompleteSuffix(path).empty())) {
      Result<std::optional<CompareRun>> run = ReadRun(path, options, &out.notes);
      if (!run.ok()) return run.error();
      if (run->has_value()) loose.push_back(std::move(**run));
    } else {
      return UsageError(path + ": not a run directory (no summary.json) or a set (no index.json)");
    }
    if (!st.ok()) return st.error();
  }
  for (CompareCell& c : GroupLooseRuns(std::move(loose))) out.cells.push_back(std::move(c));
  if (Status st = LoadSearch(paths, &out); !st) return st.error();
  if (out.cells.empty()) {
    std::string first = out.notes.empty() ? "" : " (" + out.notes.front() + ")";
    return UsageError("no runs to compare: every run was skipped" + first);
  }
  LabelCells(out.cells);
  out.keys = CellKeys(out.cells);
  return out;
}

}  // namespace edgebench

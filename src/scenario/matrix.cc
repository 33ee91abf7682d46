// matrix: expanded into cells, each a validated Scenario (contract in scenario.h).
//
// An axis is either a key path with a list of values (`devices.count: [100, 1000]`), or a
// named axis whose values are maps of key paths, each with a label, that vary several keys
// together (`placement: [{label: edge, network: edge-lan, cost.sheet: edge-node}, ...]`).
// Every cell re-parses the file, so a value from the matrix keeps its own line and column
// and an error in a cell points at the matrix value that made it.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "edgebench/scenario/scenario.h"

#include "scenario/internal.h"

namespace edgebench {

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

namespace {

// Keys of the whole set, which a cell cannot vary.
constexpr std::string_view kSetLevel[] = {"name", "matrix", "repeat", "cooldown_s"};

// One axis as read from the first parse: its name, the key paths it sets, the labels.
struct Axis {
  std::string name;
  bool named = false;  // a named axis: each value is a map of key paths with a label
  std::vector<std::string> labels;
  std::vector<std::string> keys;  // every key path the axis sets
};

std::string FlowText(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

void CheckKeyPath(Reader& r, const Entry& at, const std::string& path) {
  std::vector<std::string> keys = SplitPath(path);
  for (std::string_view set_level : kSetLevel) {
    if (keys.front() == set_level) {
      r.Fail(at, "matrix cannot vary '" + path + "': it belongs to the whole set");
      return;
    }
  }
  if (std::optional<std::string> problem = KeyPathProblem(keys)) r.Fail(at, *problem);
}

// A named axis: each value a map with `label` and key paths.
void ReadNamedAxis(Reader& r, const Entry& e, Axis* axis) {
  axis->named = true;
  for (const YAML::Node& item : e.value) {
    Entry at{e.path, e.key, item};
    if (!item.IsMap() || !item["label"] || !item["label"].IsScalar()) {
      r.Fail(at, "matrix." + axis->name +
                     ": each value must be a map with label: and the keys it sets (a named "
                     "axis), or '" +
                     axis->name + "' must be a scenario key");
      return;
    }
    axis->labels.push_back(item["label"].Scalar());
    for (auto it = item.begin(); it != item.end() && !r.failed(); ++it) {
      std::string key = it->first.Scalar();
      if (key == "label") continue;
      CheckKeyPath(r, Entry{e.path, it->first, it->second}, key);
      if (std::find(axis->keys.begin(), axis->keys.end(), key) == axis->keys.end()) {
        axis->keys.push_back(key);
      }
    }
  }
}

void ReadAxis(Reader& r, const Entry& e, Axis* axis) {
  axis->name = e.key.IsScalar() ? e.key.Scalar() : "";
  if (!e.value.IsSequence() || e.value.size() == 0) {
    r.Fail(e, "matrix." + axis->name + " must be a non-empty list of values");
    return;
  }
  if (e.value.size() > kMaxMatrixValues) {
    r.Fail(e, "matrix." + axis->name + " must have at most " + std::to_string(kMaxMatrixValues) +
                  " values, got " + std::to_string(e.value.size()));
    return;
  }
  bool maps = e.value[0].IsMap() && e.value[0]["label"];
  if (maps || KeyPathProblem(SplitPath(axis->name))) {
    if (!maps) CheckKeyPath(r, Entry{e.path, e.key, e.key}, axis->name);
    if (!r.failed()) ReadNamedAxis(r, e, axis);
    return;
  }
  CheckKeyPath(r, Entry{e.path, e.key, e.key}, axis->name);
  axis->keys = {axis->name};
  for (const YAML::Node& value : e.value) axis->labels.push_back(FlowText(value));
}

std::vector<Axis> ReadMatrix(Reader& r, const YAML::Node& root) {
  std::vector<Axis> axes;
  YAML::Node matrix = root["matrix"];
  if (!matrix || matrix.IsNull()) return axes;
  if (!matrix.IsMap()) {
    r.Fail("matrix", matrix.Mark(), "matrix must be a map of key: [values]");
    return axes;
  }
  if (matrix.size() > kMaxMatrixAxes) {
    r.Fail("matrix", matrix.Mark(),
           "matrix must have at most " + std::to_string(kMaxMatrixAxes) + " axes, got " +
               std::to_string(matrix.size()));
    return axes;
  }
  size_t cells = 1;
  for (auto it = matrix.begin(); it != matrix.end() && !r.failed(); ++it) {
    Axis axis;
    ReadAxis(r, Entry{"matrix." + FlowText(it->first), it->first, it->second}, &axis);
    cells *= axis.labels.empty() ? 1 : axis.labels.size();
    if (cells > kMaxMatrixCells) {
      r.Fail("matrix", matrix.Mark(),
             "matrix has more than " + std::to_string(kMaxMatrixCells) + " cells");
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

Status CheckOverrides(const std::vector<Axis>& axes, const std::vector<Override>& overrides,
                      const std::string& file) {
  for (const Override& o : overrides) {
    for (const Axis& a : axes) {
      for (const std::string& key : a.keys) {
        if (Covers(o.path, key) || Covers(key, o.path)) {
          return OverrideError(
              o, "'" + key + "' is a matrix key in " + file + "; --set cannot override it");
        }
      }
    }
  }
  return Ok{};
}

// The matrix values of cell `pick` (one value index per axis) put into a fresh tree.
void PutCellValues(YAML::Node root, const std::vector<Axis>& axes,
                   const std::vector<size_t>& pick) {
  YAML::Node matrix = root["matrix"];
  size_t i = 0;
  for (auto it = matrix.begin(); it != matrix.end(); ++it, ++i) {
    YAML::Node value = it->second[pick[i]];
    if (!axes[i].named) {
      PutValue(root, SplitPath(axes[i].name), value);
      continue;
    }
    for (auto kv = value.begin(); kv != value.end(); ++kv) {
      if (kv->first.Scalar() != "label") PutValue(root, SplitPath(kv->first.Scalar()), kv->second);
    }
  }
  root.remove("matrix");
}

// The searched key is set by the search at every step: neither a matrix axis nor a --set
// may set it too.
void CheckSearchKeyFree(Reader& r, const YAML::Node& root, const std::vector<Axis>& axes,
                        const std::vector<Override>& overrides, const SearchSpec& search) {
  YAML::Mark mark = root["search"]["key"].Mark();
  for (const Axis& a : axes) {
    for (const std::string& key : a.keys) {
      if (Covers(key, search.key) || Covers(search.key, key)) {
        r.Fail("search.key", mark,
               "search.key " + search.key + " is also set by the matrix axis " + a.name +
                   "; the search sets it at every step");
        return;
      }
    }
  }
  for (const Override& o : overrides) {
    if (Covers(o.path, search.key) || Covers(search.key, o.path)) {
      r.Fail("search.key", mark,
             "search.key " + search.key + " is also set by --set " + o.path +
                 "; the search sets it at every step (change search.from/to instead)");
      return;
    }
  }
}

std::string CellLabel(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string label;
  for (const auto& [key, value] : values) label += (label.empty() ? "" : " ") + key + "=" + value;
  return label;
}

Result<ExperimentCell> BuildCell(std::string_view text, const std::string& file,
                                 const std::vector<Axis>& axes, const std::vector<size_t>& pick,
                                 const std::vector<Override>& overrides,
                                 const ExternalChecks& checks) {
  ExperimentCell cell;
  for (size_t i = 0; i < axes.size(); ++i) {
    cell.values.emplace_back(axes[i].name, axes[i].labels[pick[i]]);
  }
  Reader r(file, text, overrides, checks.run_time_warnings, checks.warnings);
  YAML::Node root = YAML::Load(std::string(text));
  PutCellValues(root, axes, pick);
  for (const Override& o : overrides) {
    if (Status st = ApplyOverride(root, o); !st) return st.error();
  }
  Result<Scenario> s = Validate(r, root, file, checks);
  if (s.ok() && s->search) {
    CheckSearchKeyFree(r, root, axes, overrides, *s->search);
    CheckSearchRange(r, root, file, checks, *s->search);
    if (r.failed()) s = r.error();
  }
  if (!s.ok()) {
    Error e = s.error();
    if (!axes.empty()) e.message = "in matrix cell " + CellLabel(cell.values) + ": " + e.message;
    return e;
  }
  cell.scenario = std::move(s.value());
  return cell;
}

// Each cell parses the file again (so its errors keep their lines): bound the total.
void CheckMatrixReads(Reader& r, const YAML::Node& root, const std::vector<Axis>& axes,
                      size_t file_bytes) {
  size_t cells = 1;
  for (const Axis& a : axes) cells *= a.labels.size();
  if (cells < 2 || static_cast<int64_t>(cells * file_bytes) <= kMaxMatrixBytesRead) return;
  r.Fail("matrix", root["matrix"].Mark(),
         "a matrix of " + std::to_string(cells) + " cells reads this file once per cell, so it " +
             "must be at most " +
             FormatByteLimit(kMaxMatrixBytesRead / static_cast<int64_t>(cells)) + ", got " +
             std::to_string(file_bytes) + " bytes");
}

// Advances `pick` like an odometer, the last axis fastest; false after the last cell.
bool NextCell(const std::vector<Axis>& axes, std::vector<size_t>* pick) {
  for (size_t i = axes.size(); i-- > 0;) {
    if (++(*pick)[i] < axes[i].labels.size()) return true;
    (*pick)[i] = 0;
  }
  return false;
}

}  // namespace

Result<Experiment> ParseExperiment(std::string_view yaml_text, const std::string& file_name,
                                   const std::vector<Override>& overrides,
                                   const ExternalChecks& checks) {
  Reader r(file_name, yaml_text, overrides);
  YAML::Node root = LoadMap(r, yaml_text, "a scenario must be a YAML map of keys");
  if (r.failed()) return r.error();
  std::vector<Axis> axes = ReadMatrix(r, root);
  if (r.failed()) return r.error();
  CheckMatrixReads(r, root, axes, yaml_text.size());
  if (r.failed()) return r.error();
  if (Status st = CheckOverrides(axes, overrides, file_name); !st) return st.error();
  Experiment ex;
  ex.source_file = file_name;
  for (const Axis& a : axes) {
    ex.matrix.push_back({a.name, a.labels});
    ex.keys.insert(ex.keys.end(), a.keys.begin(), a.keys.end());
  }
  std::vector<size_t> pick(axes.size(), 0);
  size_t warnings_before = checks.warnings ? checks.warnings->size() : 0;
  do {
    Result<ExperimentCell> cell = BuildCell(yaml_text, file_name, axes, pick, overrides, checks);
    if (!cell.ok()) {
      // Warnings are for a file that is otherwise good; the error says enough.
      if (checks.warnings) checks.warnings->resize(warnings_before);
      return cell.error();
    }
    ex.cells.push_back(std::move(cell.value()));
  } while (NextCell(axes, &pick));
  return ex;
}

Result<Experiment> LoadExperiment(const std::string& path, const std::vector<Override>& overrides,
                                  const ExternalChecks& checks) {
  Result<std::string> text = ReadScenarioFile(path);
  if (!text) return text.error();
  return ParseExperiment(*text, path, overrides, checks);
}

namespace {

void Flatten(const YAML::Node& node, const std::string& path,
             std::map<std::string, std::string>* out) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      Flatten(it->second, JoinPath(path, it->first.Scalar()), out);
    }
    return;
  }
  (*out)[path] = FlowText(node);
}

}  // namespace

std::map<std::string, std::string> ScenarioValues(const Scenario& scenario) {
  std::map<std::string, std::string> out;
  Flatten(YAML::Load(ScenarioToYaml(scenario)), "", &out);
  return out;
}

std::vector<std::string> DifferingKeys(const std::map<std::string, std::string>& a,
                                       const std::map<std::string, std::string>& b) {
  std::set<std::string> keys;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second != value) keys.insert(key);
  }
  for (const auto& [key, value] : b) {
    if (!a.contains(key)) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace edgebench

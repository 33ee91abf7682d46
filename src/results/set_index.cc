// index.json of a set: the one place that knows its keys.
#include "edgebench/results/set_index.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/fd.h"

#include "results/internal.h"

namespace edgebench {

using nlohmann::json;

std::optional<bool> SetCell::expect_pass() const {
  std::optional<bool> verdict;
  for (const SetRun& r : runs) {
    if (!r.expect_pass) continue;
    verdict = verdict.value_or(true) && *r.expect_pass;
  }
  return verdict;
}

size_t SetIndex::runs_done() const {
  size_t n = 0;
  for (const SetCell& c : cells) {
    for (const SetRun& r : c.runs) n += r.status == "missing" || r.status == "interrupted" ? 0 : 1;
  }
  return n;
}

size_t SetIndex::runs_missing() const {
  size_t done = runs_done();
  return order.size() > done ? order.size() - done : 0;
}

namespace {

json RunJson(const SetRun& r) {
  return {{"repeat", r.repeat},
          {"dir", r.dir},
          {"status", r.status},
          {"expect_pass", r.expect_pass ? json(*r.expect_pass) : json(nullptr)}};
}

json CellJson(const SetCell& c) {
  json values = json::array();
  for (const auto& [key, value] : c.values) values.push_back({{"key", key}, {"value", value}});
  json runs = json::array();
  for (const SetRun& r : c.runs) runs.push_back(RunJson(r));
  std::optional<bool> pass = c.expect_pass();
  return {{"id", c.id},
          {"scenario", c.scenario},
          {"source", c.source},
          {"values", values},
          {"scenario_file", c.scenario_file},
          {"expect_pass", pass ? json(*pass) : json(nullptr)},
          {"runs", runs}};
}

SetRun RunOf(const json& j) {
  SetRun r;
  r.repeat = j.at("repeat").get<int>();
  r.dir = j.at("dir").get<std::string>();
  r.status = j.at("status").get<std::string>();
  if (!j.at("expect_pass").is_null()) r.expect_pass = j.at("expect_pass").get<bool>();
  return r;
}

SetCell CellOf(const json& j) {
  SetCell c;
  c.id = j.at("id").get<std::string>();
  c.scenario = j.at("scenario").get<std::string>();
  c.source = j.at("source").get<std::string>();
  for (const json& v : j.at("values")) {
    c.values.emplace_back(v.at("key").get<std::string>(), v.at("value").get<std::string>());
  }
  c.scenario_file = j.at("scenario_file").get<std::string>();
  for (const json& r : j.at("runs")) c.runs.push_back(RunOf(r));
  return c;
}

// The order lists every run of every cell exactly once.
Status CheckOrder(const SetIndex& index) {
  std::vector<std::vector<int>> seen;
  size_t runs = 0;
  for (const SetCell& c : index.cells) {
    seen.emplace_back(c.runs.size(), 0);
    runs += c.runs.size();
  }
  for (const auto& [cell, repeat] : index.order) {
    if (cell < 0 || static_cast<size_t>(cell) >= index.cells.size() || repeat < 0 ||
        static_cast<size_t>(repeat) >= seen[static_cast<size_t>(cell)].size()) {
      return Error{"order names run " + std::to_string(repeat) + " of cell " +
                   std::to_string(cell) + ", which the index does not have"};
    }
    if (++seen[static_cast<size_t>(cell)][static_cast<size_t>(repeat)] > 1) {
      return Error{"order names run " + std::to_string(repeat) + " of cell " +
                   std::to_string(cell) + " twice"};
    }
  }
  if (index.order.size() != runs) {
    return Error{"order lists " + std::to_string(index.order.size()) + " runs, the cells have " +
                 std::to_string(runs)};
  }
  return Ok{};
}

}  // namespace

json SetIndexToJson(const SetIndex& index) {
  json cells = json::array();
  for (const SetCell& c : index.cells) cells.push_back(CellJson(c));
  json order = json::array();
  for (const auto& [cell, repeat] : index.order) order.push_back({cell, repeat});
  return {{"format", index.format},
          {"name", index.name},
          {"id", index.id},
          {"created", index.created},
          {"seed", index.seed},
          {"repeat", index.repeat},
          {"cooldown_s", index.cooldown_s},
          {"matrix_keys", index.matrix_keys},
          {"runs_planned", index.order.size()},
          {"runs_done", index.runs_done()},
          {"runs_missing", index.runs_missing()},
          {"complete", index.runs_missing() == 0},
          {"command_line", index.command_line},
          {"order", order},
          {"cells", cells}};
}

Result<SetIndex> SetIndexFromJson(const json& j) {
  if (!j.is_object()) return Error{"index must be a JSON object"};
  try {
    int format = j.value("format", 0);
    if (format > kSetIndexFormat) {
      return Error{"index format " + std::to_string(format) +
                   " is newer than this edgebench reads (" + std::to_string(kSetIndexFormat) + ")"};
    }
    SetIndex index;
    index.format = j.at("format").get<int>();
    index.name = j.at("name").get<std::string>();
    index.id = j.at("id").get<std::string>();
    index.created = j.at("created").get<std::string>();
    index.seed = j.at("seed").get<uint64_t>();
    index.repeat = j.at("repeat").get<int>();
    index.cooldown_s = j.at("cooldown_s").get<double>();
    index.matrix_keys = j.at("matrix_keys").get<std::vector<std::string>>();
    index.command_line = j.at("command_line").get<std::vector<std::string>>();
    for (const json& o : j.at("order")) index.order.emplace_back(o.at(0), o.at(1));
    for (const json& c : j.at("cells")) index.cells.push_back(CellOf(c));
    if (Status st = CheckOrder(index); !st) return st.error();
    return index;
  } catch (const json::exception& e) {
    return Error{std::string("malformed index: ") + e.what()};
  }
}

Result<SetIndex> ReadSetIndex(const std::string& set_dir) {
  std::string path = set_dir + "/index.json";
  Result<json> j = results_internal::ReadJsonFile(path);
  if (!j.ok()) return j.error();
  Result<SetIndex> index = SetIndexFromJson(*j);
  if (!index.ok()) return Error{path + ": " + index.error().message};
  return index;
}

Status WriteSetIndex(const std::string& set_dir, const SetIndex& index) {
  return results_internal::WriteJsonAtomically(set_dir + "/index.json", SetIndexToJson(index));
}

}  // namespace edgebench

// Tests for src/results/set_index.cc: index.json of a set, its round trip, its errors, the
// atomic write, and the counts and verdicts derived from it.
#include "edgebench/results/set_index.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Two cells of two runs: one run of each done, one of them failing its threshold.
SetIndex Sample() {
  SetIndex index;
  index.name = "edge-vs-cloud";
  index.id = "20261201T131500Z-a1b2c3";
  index.created = "2026-12-01T13:15:00.000Z";
  index.seed = 7;
  index.repeat = 2;
  index.cooldown_s = 1.5;
  index.matrix_keys = {"network", "cost"};
  index.command_line = {"edgebench", "run", "scenarios/edge-vs-cloud.yaml"};
  SetCell edge{
      "c1-edge",
      "edge-vs-cloud",
      "scenarios/edge-vs-cloud.yaml",
      {{"placement", "edge"}},
      "cells/c1-edge.yaml",
      {SetRun{0, "c1-edge/20261201T131500Z-000001", "ok", true}, SetRun{1, "", "missing", {}}}};
  SetCell cloud{"c2-cloud",
                "edge-vs-cloud",
                "scenarios/edge-vs-cloud.yaml",
                {{"placement", "cloud"}},
                "cells/c2-cloud.yaml",
                {SetRun{0, "c2-cloud/20261201T131510Z-000002", "ok", false},
                 SetRun{1, "c2-cloud/20261201T131520Z-000003.interrupted", "interrupted", {}}}};
  index.cells = {edge, cloud};
  index.order = {{1, 0}, {0, 0}, {1, 1}, {0, 1}};
  return index;
}

TEST_CASE("index.json round-trips", "[set_index]") {
  SetIndex index = Sample();
  json j = SetIndexToJson(index);
  Result<SetIndex> back = SetIndexFromJson(j);
  INFO((back ? "" : back.error().message));
  REQUIRE(back.ok());
  CHECK(back.value() == index);
  // Through text as well, as the file holds it.
  Result<SetIndex> parsed = SetIndexFromJson(json::parse(j.dump(2)));
  REQUIRE(parsed.ok());
  CHECK(parsed.value() == index);
  // The derived keys a reader without edgebench looks at.
  CHECK(j["format"] == 1);
  CHECK(j["runs_planned"] == 4);
  // The interrupted run is redone by --resume, so it is not done.
  CHECK(j["runs_done"] == 2);
  CHECK(j["runs_missing"] == 2);
  CHECK(j["complete"] == false);
  CHECK(j["cells"][0]["expect_pass"] == true);
  CHECK(j["cells"][1]["expect_pass"] == false);
  CHECK(j["cells"][0]["runs"][1]["expect_pass"].is_null());
  CHECK(j["order"] == json::parse("[[1,0],[0,0],[1,1],[0,1]]"));
}

TEST_CASE("runs_done and runs_missing", "[set_index]") {
  SetIndex index = Sample();
  CHECK(index.runs_done() == 2);
  CHECK(index.runs_missing() == 2);
  index.cells[0].runs[1] = SetRun{1, "c1-edge/x", "failed", {}};
  CHECK(index.runs_done() == 3);
  CHECK(index.runs_missing() == 1);
  CHECK(SetIndex{}.runs_done() == 0);
  CHECK(SetIndex{}.runs_missing() == 0);
}

TEST_CASE("SetCell::expect_pass", "[set_index]") {
  SetCell cell;
  CHECK(cell.expect_pass() == std::nullopt);
  cell.runs = {SetRun{0, "", "missing", {}}, SetRun{1, "a", "failed", {}}};
  CHECK(cell.expect_pass() == std::nullopt);
  cell.runs[0] = SetRun{0, "b", "ok", true};
  CHECK(cell.expect_pass() == true);
  cell.runs[1] = SetRun{1, "a", "ok", false};
  CHECK(cell.expect_pass() == false);
  // A failing run is not outweighed by passing ones after it.
  cell.runs.push_back(SetRun{2, "c", "ok", true});
  CHECK(cell.expect_pass() == false);
}

TEST_CASE("an index of a newer format is refused with one line", "[set_index]") {
  json j = SetIndexToJson(Sample());
  j["format"] = 2;
  Result<SetIndex> r = SetIndexFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "index format 2 is newer than this edgebench reads (1)");
}

TEST_CASE("a malformed index names what is wrong", "[set_index]") {
  CHECK(SetIndexFromJson(json::array()).error().message == "index must be a JSON object");
  json j = SetIndexToJson(Sample());
  j.erase("seed");
  Result<SetIndex> r = SetIndexFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "malformed index: [json.exception.out_of_range.403] key 'seed' not found");
  j = SetIndexToJson(Sample());
  j["cells"][0]["runs"][0]["status"] = 3;
  r = SetIndexFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "malformed index: [json.exception.type_error.302] type must be string, but is number");
}

TEST_CASE("an index whose format is not a number is malformed, not an exception", "[set_index]") {
  json j = SetIndexToJson(Sample());
  j["format"] = "1";
  std::optional<std::string> message;
  try {
    Result<SetIndex> r = SetIndexFromJson(j);
    if (!r.ok()) message = r.error().message;
  } catch (const std::exception& e) {
    FAIL("SetIndexFromJson threw: " << e.what());
  }
  CHECK(message ==
        "malformed index: [json.exception.type_error.302] type must be number, but is string");
}

TEST_CASE("an order naming a run the index lacks is refused", "[set_index]") {
  json j = SetIndexToJson(Sample());
  j["order"].push_back({0, 2});
  Result<SetIndex> r = SetIndexFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "order names run 2 of cell 0, which the index does not have");
  j = SetIndexToJson(Sample());
  j["order"].push_back({5, 0});
  CHECK(SetIndexFromJson(j).error().message ==
        "order names run 0 of cell 5, which the index does not have");
  j = SetIndexToJson(Sample());
  j["order"].push_back({-1, 0});
  CHECK(SetIndexFromJson(j).error().message ==
        "order names run 0 of cell -1, which the index does not have");
}

TEST_CASE("an order that leaves out a run of a cell is refused", "[set_index]") {
  json j = SetIndexToJson(Sample());
  j["order"].erase(j["order"].size() - 1);  // (0, 1) is no longer in the order
  j["cells"][0]["runs"][1] = {
      {"repeat", 1}, {"dir", "c1-edge/y"}, {"status", "ok"}, {"expect_pass", true}};
  Result<SetIndex> r = SetIndexFromJson(j);
  if (r.ok()) CHECK(r.value().runs_missing() == 0);
  CHECK_FALSE(r.ok());
}

TEST_CASE("an index with an interrupted run is not complete", "[set_index]") {
  SetIndex index = Sample();
  index.cells[0].runs[1] = SetRun{1, "c1-edge/z", "ok", true};
  REQUIRE(index.cells[1].runs[1].status == "interrupted");
  CHECK(SetIndexToJson(index)["complete"] == false);
}

TEST_CASE("WriteSetIndex and ReadSetIndex", "[set_index]") {
  cli_support::TempDir tmp;
  std::string dir = tmp.path.string();
  SetIndex index = Sample();
  REQUIRE(WriteSetIndex(dir, index));
  CHECK(fs::exists(tmp.path / "index.json"));
  CHECK_FALSE(fs::exists(tmp.path / "index.json.tmp"));
  Result<SetIndex> back = ReadSetIndex(dir);
  REQUIRE(back.ok());
  CHECK(back.value() == index);
  // A second write replaces the first.
  index.cells[0].runs[1] = SetRun{1, "c1-edge/20261201T131530Z-000004", "ok", true};
  REQUIRE(WriteSetIndex(dir, index));
  CHECK_FALSE(fs::exists(tmp.path / "index.json.tmp"));
  CHECK(ReadSetIndex(dir).value() == index);
  CHECK(fs::directory_iterator(tmp.path) != fs::directory_iterator());
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++files;
  CHECK(files == 1);
}

TEST_CASE("ReadSetIndex of a directory without an index", "[set_index]") {
  cli_support::TempDir tmp;
  std::string dir = tmp.path.string();
  Result<SetIndex> r = ReadSetIndex(dir);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == dir + "/index.json: cannot read file: No such file or directory");
}

TEST_CASE("ReadSetIndex names the file in every error", "[set_index]") {
  cli_support::TempDir tmp;
  std::string dir = tmp.path.string();
  REQUIRE_FALSE(ReadSetIndex(dir).ok());
  tmp.Write("index.json", "{\"format\": 1,");
  CHECK(ReadSetIndex(dir).error().message == dir + "/index.json: not valid JSON");
  json j = SetIndexToJson(Sample());
  j["format"] = 9;
  tmp.Write("index.json", j.dump());
  CHECK(ReadSetIndex(dir).error().message ==
        dir + "/index.json: index format 9 is newer than this edgebench reads (1)");
}

TEST_CASE("WriteSetIndex into a directory that does not exist fails", "[set_index]") {
  cli_support::TempDir tmp;
  std::string dir = (tmp.path / "nope").string();
  Status st = WriteSetIndex(dir, Sample());
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "cannot write " + dir + "/index.json: No such file or directory");
  CHECK_FALSE(fs::exists(tmp.path / "nope"));
}

}  // namespace
}  // namespace edgebench

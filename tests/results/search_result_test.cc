// Tests for src/results/search_result.cc: search.json, its round trip, its errors, the
// atomic write, and the sentence for each way a search ends.
#include "edgebench/results/search_result.h"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// devices.count searched for two placements: edge finished, cloud still running.
SearchResult Sample() {
  SearchResult r;
  r.key = "devices.count";
  r.from = 50;
  r.to = 3200;
  r.resolution = 10;
  r.resolution_pct = true;
  r.max_runs = 50;
  r.max_mixed = 2;
  r.repeat = 1;
  r.expect = {"latency_p99_ms max 50", "loss_pct max 0.1"};
  SearchGroup edge;
  edge.id = "c1-edge";
  edge.values = {{"placement", "edge"}};
  double tried[] = {50, 100, 200, 400, 800, 600, 500, 450, 425};
  for (int i = 0; i < 9; ++i) {
    bool held = tried[i] <= 437;
    edge.steps.push_back(SearchResultStep{
        i + 1, tried[i], "c" + std::to_string(i + 1) + "-edge-" + FormatSearchValue(tried[i]), 1,
        held ? 1 : 0, held ? "holds" : "fails"});
  }
  edge.holds = 425;
  edge.fails = 450;
  edge.stop_reason = "resolution";
  edge.runs_used = 9;
  SearchGroup cloud;
  cloud.id = "c2-cloud";
  cloud.values = {{"placement", "cloud"}};
  cloud.steps = {SearchResultStep{1, 50, "c10-cloud-50", 1, 1, "holds"}};
  cloud.holds = 50;
  cloud.runs_used = 1;
  r.groups = {edge, cloud};
  return r;
}

TEST_CASE("search.json round-trips", "[search_result]") {
  SearchResult r = Sample();
  json j = SearchResultToJson(r);
  Result<SearchResult> back = SearchResultFromJson(j);
  INFO((back ? "" : back.error().message));
  REQUIRE(back.ok());
  CHECK(back.value() == r);
  Result<SearchResult> parsed = SearchResultFromJson(json::parse(j.dump(2)));
  REQUIRE(parsed.ok());
  CHECK(parsed.value() == r);
  // What a reader without edgebench looks at.
  CHECK(j["format"] == 1);
  CHECK(j["complete"] == false);
  CHECK(j["groups"][0]["holds"] == 425.0);
  CHECK(j["groups"][1]["fails"].is_null());
  CHECK(j["groups"][0]["steps"][4]["verdict"] == "fails");
  CHECK(j["groups"][0]["steps"][4]["cell"] == "c5-edge-800");
  r.groups[1].stop_reason = "budget";
  CHECK(SearchResultToJson(r)["complete"] == true);
  // Values that are not whole survive as well.
  r.key = "publish.rate";
  r.groups[0].steps[0].value = 37.5;
  r.groups[0].fails = 0.55;
  CHECK(SearchResultFromJson(json::parse(SearchResultToJson(r).dump())).value() == r);
}

TEST_CASE("a search result of a newer format is refused with one line", "[search_result]") {
  json j = SearchResultToJson(Sample());
  j["format"] = 2;
  Result<SearchResult> r = SearchResultFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "search result format 2 is newer than this edgebench reads (1)");
}

TEST_CASE("a malformed search result names what is wrong", "[search_result]") {
  CHECK(SearchResultFromJson(json::array()).error().message ==
        "search result must be a JSON object");
  json j = SearchResultToJson(Sample());
  j.erase("max_runs");
  Result<SearchResult> r = SearchResultFromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "malformed search result: [json.exception.out_of_range.403] key 'max_runs' not found");
  j = SearchResultToJson(Sample());
  j["groups"][0]["steps"][2].erase("cell");
  CHECK(SearchResultFromJson(j).error().message ==
        "malformed search result: [json.exception.out_of_range.403] key 'cell' not found");
  j = SearchResultToJson(Sample());
  j["groups"][0]["holds"] = "425";
  CHECK(SearchResultFromJson(j).error().message ==
        "malformed search result: [json.exception.type_error.302] type must be number, but is "
        "string");
  j = SearchResultToJson(Sample());
  j["groups"][0]["steps"][2]["verdict"] = "maybe";
  CHECK(SearchResultFromJson(j).error().message ==
        "group c1-edge step 3: verdict must be holds, fails or mixed, got 'maybe'");
}

TEST_CASE("WriteSearchResult and ReadSearchResult", "[search_result]") {
  testing::TempDir tmp;
  SearchResult r = Sample();
  REQUIRE(WriteSearchResult(tmp.path(), r));
  CHECK(fs::exists(tmp.File("search.json")));
  CHECK_FALSE(fs::exists(tmp.File("search.json.tmp")));
  Result<SearchResult> back = ReadSearchResult(tmp.path());
  REQUIRE(back.ok());
  CHECK(back.value() == r);
  // A second write replaces the first and leaves no temporary file.
  r.groups[1].steps.push_back(SearchResultStep{2, 100, "c11-cloud-100", 1, 0, "fails"});
  r.groups[1].fails = 100;
  r.groups[1].runs_used = 2;
  REQUIRE(WriteSearchResult(tmp.path(), r));
  CHECK(ReadSearchResult(tmp.path()).value() == r);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path())) ++files;
  CHECK(files == 1);
}

TEST_CASE("ReadSearchResult names the file in every error", "[search_result]") {
  testing::TempDir tmp;
  std::string dir = tmp.path();
  CHECK(ReadSearchResult(dir).error().message ==
        dir + "/search.json: cannot read file: No such file or directory");
  testing::WriteText(tmp.File("search.json"), "{\"format\": 1,");
  CHECK(ReadSearchResult(dir).error().message == dir + "/search.json: not valid JSON");
  json j = SearchResultToJson(Sample());
  j["format"] = 9;
  testing::WriteText(tmp.File("search.json"), j.dump());
  CHECK(ReadSearchResult(dir).error().message ==
        dir + "/search.json: search result format 9 is newer than this edgebench reads (1)");
}

TEST_CASE("WriteSearchResult into a directory that does not exist fails", "[search_result]") {
  testing::TempDir tmp;
  std::string dir = tmp.File("nope");
  Status st = WriteSearchResult(dir, Sample());
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "cannot write " + dir + "/search.json: No such file or directory");
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("FormatSearchValue: the shortest decimal, never an exponent", "[search_result]") {
  CHECK(FormatSearchValue(400) == "400");
  CHECK(FormatSearchValue(37.5) == "37.5");
  CHECK(FormatSearchValue(0.55) == "0.55");
  CHECK(FormatSearchValue(1000000) == "1000000");
  CHECK(FormatSearchValue(0.0001) == "0.0001");
}

// A group with the given answer and no steps (the sentence reads them only for some).
SearchGroup Answer(std::optional<double> holds, std::optional<double> fails,
                   const std::string& stop_reason, int runs_used) {
  SearchGroup g;
  g.id = "c1-edge";
  g.holds = holds;
  g.fails = fails;
  g.stop_reason = stop_reason;
  g.runs_used = runs_used;
  return g;
}

TEST_CASE("DescribeAnswer for each way a search ends", "[search_result]") {
  SearchResult r = Sample();
  CHECK(DescribeAnswer(r, r.groups[0]) ==
        "devices.count holds up to 425 (fails at 450; resolution 10%; 9 runs)");
  r.resolution = 25;
  r.resolution_pct = false;
  CHECK(DescribeAnswer(r, r.groups[0]) ==
        "devices.count holds up to 425 (fails at 450; resolution 25; 9 runs)");

  // Mixed steps inside a bracket that reached its resolution are still named.
  SearchGroup blurred = Answer(40, 42.5, "resolution", 16);
  blurred.steps = {SearchResultStep{7, 45, "c1-edge-s7-45", 2, 1, "mixed"},
                   SearchResultStep{8, 42.5, "c1-edge-s8-42.5", 2, 1, "mixed"}};
  CHECK(DescribeAnswer(r, blurred) ==
        "devices.count holds up to 40 (fails at 42.5; resolution 25, 2 steps held in only some "
        "runs; 16 runs)");

  SearchGroup from = Answer(std::nullopt, 50, "from_fails", 3);
  from.steps = {SearchResultStep{1, 50, "c1-edge-50", 3, 0, "fails"}};
  CHECK(DescribeAnswer(r, from) == "devices.count: 50 (from) does not hold (3 runs)");
  from.steps[0] = SearchResultStep{1, 50, "c1-edge-50", 3, 2, "mixed"};
  CHECK(DescribeAnswer(r, from) == "devices.count: 50 (from) held in only 2 of 3 runs");

  CHECK(DescribeAnswer(r, Answer(3200, std::nullopt, "range_holds", 7)) ==
        "devices.count holds across the whole range up to 3200 (7 runs)");

  SearchGroup noisy = Answer(400, 600, "noisy", 18);
  noisy.steps = {SearchResultStep{5, 800, "c5-edge-800", 3, 1, "mixed"},
                 SearchResultStep{6, 600, "c6-edge-600", 3, 2, "mixed"}};
  CHECK(DescribeAnswer(r, noisy) ==
        "devices.count holds up to 400 (fails at 600; noisy: 2 steps held in only some runs; "
        "18 runs)");

  r.max_runs = 10;
  CHECK(DescribeAnswer(r, Answer(200, std::nullopt, "budget", 9)) ==
        "devices.count holds up to 200 (not tried higher; out of budget: max_runs 10; 9 runs)");
  CHECK(DescribeAnswer(r, Answer(400, 800, "budget", 10)) ==
        "devices.count holds up to 400 (fails at 800; out of budget: max_runs 10; 10 runs)");
  r.max_runs = 2;
  r.repeat = 3;
  CHECK(DescribeAnswer(r, Answer(std::nullopt, std::nullopt, "budget", 0)) ==
        "devices.count: not tried (max_runs 2 is less than one step of 3 runs)");
}

TEST_CASE("DescribeAnswer while the search runs", "[search_result]") {
  SearchResult r = Sample();
  CHECK(DescribeAnswer(r, Answer(400, 800, "", 5)) ==
        "devices.count holds up to 400 so far (fails at 800; searching; 5 runs)");
  CHECK(DescribeAnswer(r, Answer(50, std::nullopt, "", 1)) ==
        "devices.count holds up to 50 so far (not tried higher; searching; 1 run)");
  CHECK(DescribeAnswer(r, Answer(std::nullopt, std::nullopt, "", 0)) ==
        "devices.count: searching (no step done yet)");
  SearchGroup failed = Answer(std::nullopt, 50, "", 3);
  failed.steps = {SearchResultStep{1, 50, "c1-edge-50", 3, 0, "fails"}};
  CHECK(DescribeAnswer(r, failed) == "devices.count: nothing held so far (searching; 3 runs)");
  CHECK(DescribeAnswer(r, Answer(std::nullopt, std::nullopt, "interrupted", 2)) ==
        "devices.count: nothing held (stopped: interrupted; 2 runs)");
  CHECK(DescribeAnswer(r, Answer(400, 800, "interrupted", 6)) ==
        "devices.count holds up to 400 (fails at 800; stopped: interrupted; 6 runs)");
}

}  // namespace
}  // namespace edgebench

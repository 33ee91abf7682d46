// A real search end to end: the binary, the embedded broker, one run per step, and the
// steps, verdicts and answer it writes (index.json, search.json, stdout).
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace {

namespace fs = std::filesystem;

// Holds while the fleet's send rate is at most 110 msg/s: 2 devices at `publish.rate` each,
// so up to 55 msg/s per device. No step lands within 9% of that edge: 10, 20, 40 hold, 80
// fails, then 60 fails and 50 holds, and 50..60 is within 25% of 50.
constexpr const char* kSearch =
    "name: find\n"
    "devices: {count: 2}\n"
    "duration_s: 1\n"
    "drain_s: 0.5\n"
    "cooldown_s: 0\n"
    "capture: {enabled: false}\n"
    "search: {key: publish.rate, from: 10, to: 160, resolution: 25%, max_runs: 10}\n"
    "expect: {sent_per_s: {max: 110}}\n";

}  // namespace

TEST_CASE("run: a search doubles, bisects and reports the highest rate that holds",
          "[set][search][integration]") {
  cli_support::TempDir dir;
  fs::path s = dir.Write("find.yaml", kSearch);
  fs::path out = dir.path / "out";
  cli_support::CommandResult dry =
      cli_support::RunEdgebench({"run", "--dry-run", s.string()}, dir.path);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("search find: publish.rate from 10 to 160, resolution 25%, 1 runs per "
                     "step, at most 10 runs per cell, stops after 2 mixed steps\n"
                     "holds when: sent_per_s max 110\n") == 0);
  CHECK_FALSE(fs::exists(out));

  cli_support::CommandResult r =
      cli_support::RunEdgebench({"run", s.string(), "--out", out.string()}, dir.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path set = out / "find" / "latest";
  nlohmann::json search = nlohmann::json::parse(cli_support::Slurp(set / "search.json"));
  const nlohmann::json& g = search.at("groups").at(0);
  std::vector<double> values;
  std::vector<std::string> verdicts;
  for (const nlohmann::json& step : g.at("steps")) {
    values.push_back(step.at("value").get<double>());
    verdicts.push_back(step.at("verdict").get<std::string>());
  }
  CHECK(values == std::vector<double>{10, 20, 40, 80, 60, 50});
  CHECK(verdicts == std::vector<std::string>{"holds", "holds", "holds", "fails", "fails", "holds"});
  CHECK(g.at("holds") == 50.0);
  CHECK(g.at("fails") == 60.0);
  CHECK(g.at("stop_reason") == "resolution");
  CHECK(r.out.find("  c1               publish.rate holds up to 50 (fails at 60; resolution "
                   "25%; 6 runs)\n") != std::string::npos);

  nlohmann::json index = nlohmann::json::parse(cli_support::Slurp(set / "index.json"));
  std::vector<std::string> ids;
  for (const nlohmann::json& c : index.at("cells")) {
    ids.push_back(c.at("id").get<std::string>());
    REQUIRE(c.at("runs").size() == 1);
    CHECK(c.at("runs").at(0).at("status") == "ok");
    CHECK(c.at("values").back().at("key") == "publish.rate");
    CHECK(fs::is_directory(set / c.at("runs").at(0).at("dir").get<std::string>()));
  }
  CHECK(ids == std::vector<std::string>{"c1-s1-10", "c1-s2-20", "c1-s3-40", "c1-s4-80", "c1-s5-60",
                                        "c1-s6-50"});
  CHECK(index.at("order").size() == 6);

  // A search cannot be resumed (yet): said in one line, exit 2.
  cli_support::CommandResult resume =
      cli_support::RunEdgebench({"run", "--resume", set.string()}, dir.path);
  CHECK(resume.exit_code == 2);
  CHECK(resume.err == "edgebench: error: " + set.string() +
                          " is a search: resuming one is not supported yet; its finished steps "
                          "are in search.json; run the scenario again\n");
}

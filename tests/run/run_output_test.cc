// A real run's results directory, read back through RunResult: the table it prints is the
// table of what it wrote, the files share one clock, and the status line says the phase.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/results/reporters.h"
#include "edgebench/results/run_result.h"

#include "cli_support.h"

namespace edgebench {
namespace {

using cli_support::CommandResult;
using cli_support::LastLine;
using cli_support::RunEdgebench;
using cli_support::Slurp;
using cli_support::TempDir;
namespace fs = std::filesystem;

const char* const kScenario =
    "name: out\n"
    "devices:\n  count: 10\n"
    "publish:\n  rate: 10\n  qos: 1\n"
    "duration_s: 2\nwarmup_s: 1\ndrain_s: 2\n";

}  // namespace

TEST_CASE("run: what a run printed is what its directory reads back as",
          "[run_output][integration]") {
  TempDir tmp;
  fs::path scenario = tmp.Write("out.yaml", kScenario);
  CommandResult r =
      RunEdgebench({"run", scenario.string(), "--out", (tmp.path / "r").string()}, tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path dir = LastLine(r.out);
  Result<RunResult> back = ReadRunDirectory(dir.string());
  INFO((back.ok() ? std::string() : back.error().ToString()));
  REQUIRE(back.ok());
  const RunResult& result = back.value();
  CHECK(result.format == kSummaryFormat);
  CHECK(result.counters[Counter::kReceived] == 300);
  CHECK(result.lost() == 0);
  CHECK(result.counters[Counter::kInFlightAtEnd] == 0);  // a lossless link shows no loss
  REQUIRE(result.latency_us.histogram);                  // histograms.json: exact, mergeable
  CHECK(result.latency_us.histogram->count() == 200);
  // The table on stdout is the table of the result read back from the files.
  CHECK(r.out.find(SummaryTable(result)) != std::string::npos);

  // samples.csv and timeline.csv on one clock: the sampler starts before t0, so its first
  // samples are at negative run time, and both files carry the same wall clock.
  REQUIRE(!result.samples.empty());
  REQUIRE(result.samples.front().t_run_ms);
  CHECK(*result.samples.front().t_run_ms < 0);
  CHECK(result.info.t0_unix_ms > 0);
  std::string timeline = Slurp((dir / "timeline.csv").string());
  CHECK(timeline.find("0,warmup,") != std::string::npos);
  CHECK(timeline.find(UtcIso8601FromUnixMs(result.info.t0_unix_ms)) != std::string::npos);

  // stdout is not a terminal here, so the status line is logged once a second, with its phase.
  std::string log = Slurp((dir / "edgebench.log").string());
  CHECK(log.find("progress [measuring ") != std::string::npos);
  CHECK(log.find(" missing ") != std::string::npos);
  CHECK(log.find(" disconnects 0") != std::string::npos);
}

}  // namespace edgebench

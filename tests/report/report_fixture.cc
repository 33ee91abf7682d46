// edgebench_report_fixture OUT [CELLS [REPEATS [DURATION_S]]]: writes CELLS x REPEATS synthetic
// run directories (tests/report/fixture_runs.h) under OUT/<scenario>/<stamp>-<n>/, for the
// browser test and bench/report_bench.sh. Prints each directory written.
// edgebench_report_fixture --search OUT: writes a synthetic search set at OUT
// (tests/report/fixture_search.h: edge holds up to 75, cloud up to 300), each step's run
// with a fixture run's timeline and /proc samples. Prints OUT.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "report/fixture_runs.h"
#include "report/fixture_search.h"

namespace {

// The placements the cells stand for: name, link round trip, typical latency, cost.
struct Placement {
  const char* name;
  double rtt_ms;
  double base_latency_ms;
  double cost_usd;
};
constexpr Placement kPlacements[] = {{"edge-lan", 0, 0.8, 41},    {"cloud-near", 20, 1.2, 262},
                                     {"cloud-far", 80, 1.5, 262}, {"edge-gateway", 0, 1.0, 55},
                                     {"cloud-vm", 20, 1.1, 120},  {"cloud-vm-far", 80, 1.4, 120}};
constexpr int kPlacementCount = sizeof kPlacements / sizeof kPlacements[0];

int WriteSearch(const std::string& out) {
  edgebench::testing::FixtureSearch search = edgebench::testing::EdgeAndCloudSearch();
  uint64_t seed = 1;
  for (edgebench::testing::FixtureSearchGroup& g : search.groups) {
    for (edgebench::testing::FixtureSearchStep& step : g.steps) {
      for (edgebench::RunResult& run : step.runs) {
        // The step's figures stay; the per-second and per-process charts get data to draw.
        edgebench::testing::FixtureSpec spec;
        spec.duration_s = run.info.duration_s;
        spec.warmup_s = run.info.warmup_s;
        spec.drain_s = run.info.drain_s;
        spec.seed = seed++;
        edgebench::RunResult shaped = edgebench::testing::FixtureRun(spec);
        run.timeline = std::move(shaped.timeline);
        run.samples = std::move(shaped.samples);
      }
    }
  }
  edgebench::Status st = edgebench::testing::WriteFixtureSearch(search, out);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--search") return WriteSearch(argv[2]);
  if (argc < 2 || argc > 5) {
    std::fprintf(stderr, "usage: %s OUT [CELLS [REPEATS [DURATION_S]]] | --search OUT\n", argv[0]);
    return 2;
  }
  std::string out = argv[1];
  int cells = argc > 2 ? std::atoi(argv[2]) : 2;
  int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  double duration_s = argc > 4 ? std::atof(argv[4]) : 20;
  if (cells < 1 || cells > kPlacementCount || repeats < 1 || duration_s < 1) {
    std::fprintf(stderr, "CELLS must be 1..%d, REPEATS and DURATION_S at least 1\n",
                 kPlacementCount);
    return 2;
  }
  for (int c = 0; c < cells; ++c) {
    for (int r = 0; r < repeats; ++r) {
      edgebench::testing::FixtureSpec spec;
      spec.scenario = kPlacements[c].name;
      spec.rtt_ms = kPlacements[c].rtt_ms;
      spec.base_latency_ms = kPlacements[c].base_latency_ms;
      spec.cost_usd = kPlacements[c].cost_usd;
      spec.duration_s = duration_s;
      spec.seed = static_cast<uint64_t>(c * 1000 + r + 1);
      char name[64];
      std::snprintf(name, sizeof name, "20261201T%02d%02d00Z-f%05d", 10 + c, r % 60, c * 1000 + r);
      std::string dir = out + "/" + spec.scenario + "/" + name;
      std::filesystem::create_directories(dir);
      edgebench::Status st = edgebench::testing::WriteFixtureRun(spec, dir);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.error().ToString().c_str());
        return 1;
      }
      std::printf("%s\n", dir.c_str());
    }
  }
  return 0;
}

// Summary: turns one run's raw reports into summary.json, timeline.csv, samples.csv and
// the table printed on the terminal.
//
// Contract: pure functions of their inputs (no I/O, no clocks), so they are unit-tested
// on made-up reports. The meaning of every key is documented in docs/results.md.
#ifndef EDGEBENCH_RUN_SUMMARY_H_
#define EDGEBENCH_RUN_SUMMARY_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/measure/collector.h"
#include "edgebench/measure/packet_capture.h"
#include "edgebench/measure/proc_sampler.h"
#include "edgebench/scenario/scenario.h"
#include "edgebench/load/worker.h"

namespace edgebench {

struct RunData {
  std::string status = "ok";  // "ok", "failed" or "interrupted"
  std::string error;          // why it failed, when it did
  double window_s = 0;        // the measurement window actually covered
  double receive_span_s = 0;  // window start to the arrival of its last message
  WorkerReport worker;
  CollectorReport collector;
  std::vector<ProcSample> samples;
  std::string capture_status = "disabled";  // "ok", "disabled" or "unavailable"
  std::string capture_reason;               // why not "ok"
  CaptureReport capture;                    // valid when capture_status == "ok"
  std::vector<std::string> notes;  // facts a reader must know ("latency off: ...")
  nlohmann::json link;             // LinkJson(): the network profile, backend and probe
};

nlohmann::json BuildSummary(const Scenario& scenario, const RunData& run);
// One row per second: second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker.
std::string BuildTimelineCsv(const Scenario& scenario, const RunData& run);
// One row per sample per process.
std::string BuildSamplesCsv(const std::vector<ProcSample>& samples);
// The short table shown on the terminal at the end of a run.
std::string FormatSummaryTable(const nlohmann::json& summary);

}  // namespace edgebench

#endif  // EDGEBENCH_RUN_SUMMARY_H_

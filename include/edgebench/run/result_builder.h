// ResultBuilder: turns one run's raw reports (worker, collector, sampler, capture, link)
// into its RunResult.
//
// Contract: pure functions of their inputs (no I/O, no clocks), so they are unit-tested on
// made-up reports. The RunResult is what every reporter renders (results/reporters.h).
#ifndef EDGEBENCH_RUN_RESULT_BUILDER_H_
#define EDGEBENCH_RUN_RESULT_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"
#include "edgebench/link/link.h"
#include "edgebench/load/worker_protocol.h"
#include "edgebench/measure/collector.h"
#include "edgebench/measure/packet_capture.h"
#include "edgebench/measure/proc_sampler.h"
#include "edgebench/measure/sample_digest.h"
#include "edgebench/results/run_result.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

// What the run's modules reported, as they reported it.
struct RunData {
  RunStatus status = RunStatus::kOk;
  std::string error;              // why it failed, when it did
  double window_s = 0;            // the measurement window actually covered
  double receive_span_s = 0;      // window start to the arrival of its last message
  int64_t t0_unix_ms = 0;         // wall-clock time of t0 (0: the run never started)
  int64_t sampler_offset_ms = 0;  // t0 minus the sampler's start, in ms
  uint64_t in_flight_at_end = 0;  // still arriving when the drain ended (not lost)
  WorkerReport worker;
  // A worker ended without its final report: `worker` has its last progress report's counts
  // (sent once a second), and no lag histogram for it.
  bool worker_partial = false;
  CollectorReport collector;
  double orchestrator_cpu_s = -1;  // the orchestrator's own getrusage() at the end (-1: none)
  // The samples, rendered into RunResult::samples (samples.csv). A Run streams them to
  // samples.csv as it takes them (SampleStream) and leaves this empty.
  std::vector<ProcSample> samples;
  // The samples' per-role summaries, for the processes and the broker's busiest second; a
  // Run fills it as it samples. Unset: BuildRunResult digests `samples`.
  std::optional<SampleDigest> sample_digest;
  std::string capture_status = "disabled";  // "ok", "disabled" or "unavailable"
  std::string capture_reason;               // why not "ok"
  CaptureReport capture;                    // valid when capture_status == "ok"
  int capture_port = 0;                     // the broker port the capture filtered on
  std::vector<std::string> notes;           // facts a reader must know ("latency off: ...")
  std::vector<ProtocolMismatch> protocol_mismatches;  // the workers' and the collector's
  LinkResult link;                                    // DescribeLink()
  // broker.resources: the budget and the cgroup's counters; the builder adds the broker's
  // CPU against it from the samples.
  std::optional<BrokerResourcesResult> broker_resources;
};

// One sample as samples.csv holds it (rounded, t_run_ms from the run's t0 when there is one),
// so that a RunResult and its files read back are equal.
ProcessSample ProcessSampleOf(const ProcSample& p, int64_t t0_unix_ms, int64_t sampler_offset_ms);

RunResult BuildRunResult(const Scenario& scenario, const RunData& run);

// The summary's and manifest's "link": profile, backend, values, what the backend cannot
// emulate, the probe (or why it failed) and the proxy's report. `link`, `probe` and `proxy`
// may be null (the run failed before they existed).
LinkResult DescribeLink(const Scenario& s, const Link* link, const Result<RttProbe>* probe,
                        const std::optional<LinkProxyReport>* proxy);

// summary.json of BuildRunResult(): for the tests of the keys.
nlohmann::json BuildSummary(const Scenario& scenario, const RunData& run);

}  // namespace edgebench

#endif  // EDGEBENCH_RUN_RESULT_BUILDER_H_

// Reporters: each output of a run rendered from a RunResult, and the readers that turn the
// files back into one.
//
// Contract: every reporter is a pure function of a RunResult (no I/O, no clock), in the
// manner of google/benchmark's reporters: the terminal table, summary.json,
// histograms.json, timeline.csv, samples.csv and latency.hgrm. No reporter reads another's
// output. The readers accept what this and earlier versions wrote and check what they read:
// errors name the file and what is wrong ("results/x/summary.json: summary format 3 is newer
// than this edgebench reads (2)"). Key meanings: docs/results.md.
#ifndef EDGEBENCH_RESULTS_REPORTERS_H_
#define EDGEBENCH_RESULTS_REPORTERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"
#include "edgebench/results/run_result.h"

namespace edgebench {

// summary.json (without the exact histograms, which go to histograms.json).
nlohmann::json SummaryToJson(const RunResult& result);
// Everything of summary.json: all but the timeline, the samples and the exact histograms.
// Error: "summary format 3 is newer than this edgebench reads (2)", or the missing key.
Result<RunResult> SummaryFromJson(const nlohmann::json& j);

// {"format": 2, "latency_us": {...}, "latency_from_actual_send_us": ..., "generator_lag_us":
// ...}: the exact histograms (LatencyHistogram::ToJson), null where unknown.
nlohmann::json HistogramsToJson(const RunResult& result);
Status HistogramsFromJson(const nlohmann::json& j, RunResult* result);

// timeline.csv: second,phase,wall_time,sent,received,p50_us,p99_us,bytes_to_broker,
// bytes_from_broker (format 1 had no wall_time; both are read).
std::string TimelineCsv(const RunResult& result);
Result<std::vector<TimelineSecond>> ParseTimelineCsv(std::string_view text);

// samples.csv: t_ms,role,pid,cpu_s,cpu_pct,rss_kb,rss_peak_kb,threads,
// voluntary_ctxt_switches,nonvoluntary_ctxt_switches,t_run_ms,wall_time
// (format 1 ended after nonvoluntary_ctxt_switches; both are read).
std::string SamplesCsv(const RunResult& result);
// Its header line and one row, for a run that writes samples.csv as it samples: the header
// and the rows of `result.samples` are exactly SamplesCsv(result).
std::string SamplesCsvHeader();
std::string SamplesCsvRow(const ProcessSample& sample, int64_t t0_unix_ms);
Result<std::vector<ProcessSample>> ParseSamplesCsv(std::string_view text);

// The table printed at the end of a run.
std::string SummaryTable(const RunResult& result);

// A file of the results directory and the reporter that renders it.
struct ReportFile {
  std::string name;
  std::string content;
};
// Every file a run writes from its RunResult: summary.json, histograms.json, timeline.csv,
// samples.csv, and latency.hgrm when latency was measured.
std::vector<ReportFile> RenderRunFiles(const RunResult& result);

// Reads a results directory back (summary.json, and histograms.json, timeline.csv and
// samples.csv where present). Errors name the file: "DIR/summary.json: cannot read file:
// No such file or directory", "DIR/timeline.csv:3: expected 9 fields, got 2".
Result<RunResult> ReadRunDirectory(const std::string& dir);

// "2026-12-01T11:12:40.123Z" for `unix_ms` (UTC).
std::string UtcIso8601FromUnixMs(int64_t unix_ms);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_REPORTERS_H_

// RunResult: everything one run measured, as one typed value that every reader uses.
//
// Contract: a RunResult stands alone: it carries what it needs of the scenario (RunInfo),
// so reporters (results/reporters.h) render it without the scenario, and
// ReadRunDirectory() rebuilds it from a results directory written by this or an earlier
// version of edgebench (summary.json without "format" is format 1). Rendering a RunResult
// and reading the files back gives an equal RunResult (operator==). Counters and the
// histograms merge exactly (Counters::Merge, LatencyHistogram::Merge); directories of
// format 1 have no exact histograms (`histogram` is then empty), only their summaries.
// Plain values; not thread-safe.
#ifndef EDGEBENCH_RESULTS_RUN_RESULT_H_
#define EDGEBENCH_RESULTS_RUN_RESULT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/results/counters.h"
#include "edgebench/results/histogram.h"

namespace edgebench {

// The summary.json format this build writes. Readers accept 1 (no "format" key) to this.
inline constexpr int kSummaryFormat = 2;

enum class RunStatus { kOk, kFailed, kInterrupted };
const char* RunStatusName(RunStatus status);  // "ok", "failed", "interrupted"

// What was run: the scenario's facts a reader needs.
struct RunInfo {
  std::string scenario;
  int qos = 0;
  int devices = 0;
  int gateways = 0;
  double warmup_s = 0;
  double duration_s = 0;
  double drain_s = 0;
  bool latency = true;  // payloads carried edgebench's header
  bool tls = false;
  int64_t t0_unix_ms = 0;  // wall-clock time (UTC, ms since 1970) of t0; 0 when unknown
  // The load as planned (format 2 summaries before these keys existed read as 0).
  double rate_per_device = 0;  // messages per second per device; 0 for `rate: max`
  int payload_bytes = 0;       // MQTT payload size of each message
  int topics_per_device = 0;
  bool operator==(const RunInfo&) const = default;
};

// A distribution: its summary, and the exact histogram when known.
struct Distribution {
  LatencySummary summary;
  std::optional<LatencyHistogram> histogram;

  static Distribution Of(const LatencyHistogram& h);
  bool operator==(const Distribution& other) const;
};

// One second of the run, second 0 starting at t0. Phase follows from RunInfo.
struct TimelineSecond {
  uint64_t sent = 0;      // by actual send time
  uint64_t received = 0;  // by receive time
  int64_t p50_us = 0;     // latency of that second's arrivals (0: none)
  int64_t p99_us = 0;
  std::optional<uint64_t> bytes_to_broker;  // IP bytes by capture time; none without capture
  std::optional<uint64_t> bytes_from_broker;
  bool operator==(const TimelineSecond&) const = default;
};

// One /proc sample of one process.
struct ProcessSample {
  int64_t t_ms = 0;                 // since the sampler started
  std::optional<int64_t> t_run_ms;  // on the run's clock: ms since t0 (negative before it)
  std::string role;
  int pid = 0;
  double cpu_s = 0;    // cumulative, rounded to ms
  double cpu_pct = 0;  // since the previous sample, rounded to 0.1
  int64_t rss_kb = 0;
  int64_t rss_peak_kb = 0;
  int64_t threads = 0;
  uint64_t voluntary_ctxt_switches = 0;
  uint64_t nonvoluntary_ctxt_switches = 0;
  bool operator==(const ProcessSample&) const = default;
};

// One process (or the sum of the workers) over the sampled window.
struct ProcessResult {
  std::optional<int> pid;  // none for the sum of several workers
  uint64_t samples = 0;
  double cpu_s = 0;
  double cpu_pct_mean = 0;
  int64_t rss_peak_kb = 0;
  std::optional<double> cpu_s_total;  // the worker's or orchestrator's own getrusage figure
  std::optional<uint64_t> workers;    // the sum of this many workers
  bool operator==(const ProcessResult&) const = default;
};

struct Processes {
  std::optional<ProcessResult> worker;  // with several workers: their sum
  std::optional<ProcessResult> broker;  // none for an external broker
  std::optional<ProcessResult> orchestrator;
  std::optional<ProcessResult> link;   // the link proxy, when it ran
  std::vector<ProcessResult> workers;  // each worker, when there were several
  bool operator==(const Processes&) const = default;
};

struct DirectionTraffic {
  uint64_t packets = 0;
  uint64_t ip_bytes = 0;
  uint64_t tcp_payload_bytes = 0;
  std::map<std::string, uint64_t> mqtt;  // MQTT control packets by type name
  bool operator==(const DirectionTraffic&) const = default;
};

struct CaptureResult {
  std::string status = "disabled";    // "ok", "disabled" or "unavailable"
  std::optional<std::string> reason;  // why not "ok"
  // The rest is meaningful when status is "ok".
  std::string interface;
  std::string filter;
  int broker_port = 0;  // the port MQTT runs on in capture.pcap (0: unknown)
  DirectionTraffic to_broker;
  DirectionTraffic from_broker;
  uint64_t retransmissions = 0;
  uint64_t dropped = 0;
  bool tls = false;  // the MQTT packets are encrypted: no MQTT counts
  uint64_t mqtt_malformed = 0;
  uint64_t unparsed_streams = 0;
  uint64_t packets_seen = 0;
  std::string pcap_file;
  uint64_t pcap_bytes = 0;
  uint64_t buffer_bytes = 0;  // the kernel capture buffer (0: unknown)
  int snaplen = 0;  // the most bytes kept of a packet, as the pcap header says (0: unknown)
  bool operator==(const CaptureResult&) const = default;
};

struct RttMeasurement {
  uint64_t count = 0;
  double min_ms = 0;
  double median_ms = 0;
  double max_ms = 0;
  std::vector<double> samples_ms;
  bool operator==(const RttMeasurement&) const = default;
};

struct LinkDirectionResult {
  uint64_t bytes = 0;
  uint64_t writes = 0;
  double held_p50_ms = 0, held_p99_ms = 0, held_max_ms = 0;
  double late_p50_ms = 0, late_p99_ms = 0, late_p999_ms = 0, late_max_ms = 0;
  uint64_t max_queued_bytes = 0;
  uint64_t paused = 0;
  bool operator==(const LinkDirectionResult&) const = default;
};

struct ProxyResult {
  uint64_t connections = 0;
  uint64_t upstream_failures = 0;
  int nice = 0;
  LinkDirectionResult up;
  LinkDirectionResult down;
  bool operator==(const ProxyResult&) const = default;
};

// The network between the devices and the broker (docs/results.md, link.*).
struct LinkResult {
  bool emulated = false;
  std::string subscribe_at = "broker";  // or "devices"
  // The rest of the profile is meaningful when emulated.
  std::optional<std::string> profile;  // none: values given inline
  std::string backend_requested;       // "auto", "netem", "proxy"
  std::optional<std::string> backend;  // what carried it; none when the run failed first
  std::optional<std::string> backend_reason;
  double rtt_ms = 0, jitter_ms = 0, loss_pct = 0, uplink_mbit = 0, downlink_mbit = 0;
  bool loss_emulated = false;
  std::optional<RttMeasurement> measured_rtt;
  std::optional<std::string> measured_rtt_error;
  std::optional<ProxyResult> proxy;
  bool operator==(const LinkResult&) const = default;
};

// One line of a cost: a quantity a price sheet charges for, scaled to a month.
struct CostPart {
  std::string sheet;      // the price sheet's name (config/costs/<sheet>.yaml)
  std::string item;       // what is charged: "messages", "connection_minutes", "egress", ...
  double quantity = 0;    // per month, in `unit`
  std::string unit;       // "million messages", "GB", "instance-hour", "kWh", "month", ...
  double unit_price = 0;  // in the sheet's currency, per `unit`
  std::string currency;   // the sheet's currency ("USD", "EUR")
  double amount = 0;      // quantity * unit_price (after free tiers), in `currency`
  double amount_usd = 0;  // amount at the exchange rate the cost used
  std::string note;       // how the quantity was derived ("5 KB metering steps: 1 per message")
  bool operator==(const CostPart&) const = default;
};

// A price sheet as the cost used it: where its prices come from and when they were read.
struct CostSheetRef {
  std::string name;
  std::string title;
  std::string currency;
  std::string source;       // URL or citation
  std::string price_date;   // "2026-11-01": when the prices were read
  double usd_per_unit = 1;  // the exchange rate used (1 for USD)
  bool operator==(const CostSheetRef&) const = default;
};

// What the run's measurements scale to in a month (30 days) at the scenario's rate.
struct CostBasis {
  double seconds_per_month = 2592000;  // 30 days
  double messages_per_s = 0;           // published messages per second the cost assumes
  double messages_per_month = 0;
  double connections = 0;                  // MQTT connections held open (devices or gateways)
  double bytes_to_broker_per_message = 0;  // IP bytes on the wire (measured, or estimated)
  double bytes_from_broker_per_message = 0;
  bool wire_bytes_measured = false;  // false: estimated from the MQTT packet size
  bool operator==(const CostBasis&) const = default;
};

// summary.json "cost": cost per month and per million messages, and every part of it.
struct CostResult {
  std::string currency = "USD";  // of the totals (parts keep their sheet's currency too)
  double per_month = 0;
  double per_million_messages = 0;
  CostBasis basis;
  std::vector<CostSheetRef> sheets;
  std::vector<CostPart> parts;
  std::vector<std::string> notes;
  bool operator==(const CostResult&) const = default;
};

// One `expect:` threshold of the scenario, checked on the finished run.
struct ExpectResult {
  std::string metric;         // "latency_p99_ms" (results/metrics.h)
  std::optional<double> min;  // the threshold(s) as written
  std::optional<double> max;
  std::optional<double> value;  // what the run measured; none: it could not be measured
  bool pass = false;            // value present and within [min, max]
  std::string reason;           // when not passed: "above the maximum", or why no value
  bool operator==(const ExpectResult&) const = default;
};

// summary.json "broker_resources": the CPU and memory budget the embedded broker ran under,
// and how it fared against it (docs/results.md). Present when the scenario set one.
struct BrokerResourcesResult {
  bool applied = false;               // false: required: false and no usable cgroup here
  std::optional<std::string> reason;  // why not applied
  std::optional<std::string> node;    // the node profile the budget came from
  double cpus = 0;                    // the CPU quota, in CPUs (0: no CPU limit)
  int64_t memory_mb = 0;              // the memory limit (0: none)
  std::string cgroup;                 // "v1" or "v2" when applied
  // Measured, when applied: the broker's CPU against the quota (in % of one CPU, like
  // processes.broker), the cgroup's throttling counters and memory high-water mark.
  double cpu_pct_mean = 0;
  double cpu_pct_peak_1s = 0;  // the busiest whole second of the run
  uint64_t nr_periods = 0;     // quota periods (100 ms) in which the broker ran
  uint64_t nr_throttled = 0;   // ... in which it used up its quota and was stopped
  double throttled_s = 0;      // total time it was stopped
  std::optional<int64_t> memory_peak_kb;
  uint64_t oom_kills = 0;  // processes the memory limit killed
  // nr_throttled / nr_periods (0 when none ran).
  double throttled_ratio() const;
  bool operator==(const BrokerResourcesResult&) const = default;
};

// Something the broker granted or answered that is not what the scenario asked for
// (docs/results.md, protocol_mismatches): the run's counts would not mean what they say, so
// a run with one is failed.
struct ProtocolMismatch {
  std::string side;     // "devices" or "collector": whose connections saw it
  std::string message;  // one line: "the broker at H:P answered the devices' QoS 2 ..."
  uint64_t count = 1;   // how often it was seen (over every connection of that side)
  bool operator==(const ProtocolMismatch&) const = default;
};

// Adds `m` to `list`, or its count to the entry of the same side and message.
void AddProtocolMismatch(std::vector<ProtocolMismatch>* list, const ProtocolMismatch& m);

struct RunResult {
  int format = kSummaryFormat;  // of the summary.json it was read from
  RunStatus status = RunStatus::kOk;
  std::optional<std::string> error;  // why not ok
  RunInfo info;
  double measured_s = 0;      // the window actually covered
  double sent_per_s = 0;      // window messages sent / measured_s
  double received_per_s = 0;  // window messages received / max(measured_s, receive span)
  Counters counters;          // whole run: the workers', the collector's and the drain's
  // The counts are what the orchestrator saw, not the workers' final reports (a worker died):
  // sent is at least what the collector received, and scheduled at least what was sent.
  bool partial = false;
  Distribution latency_us;         // receive - intended send, window messages
  Distribution latency_actual_us;  // receive - actual send
  Distribution lag_us;             // actual - intended send (the generator's lag)
  std::vector<TimelineSecond> timeline;
  std::vector<ProcessSample> samples;
  Processes processes;
  CaptureResult capture;
  LinkResult link;
  std::vector<std::string> notes;
  std::vector<ProtocolMismatch> protocol_mismatches;      // none on a broker that complied
  std::optional<BrokerResourcesResult> broker_resources;  // when the scenario set a budget
  std::optional<CostResult> cost;                         // when the scenario names cost sheets
  std::vector<ExpectResult> expectations;                 // the scenario's expect:, in its order

  // Derived counts (docs/results.md): never negative.
  uint64_t lost() const;    // sent - received - in_flight_at_end
  uint64_t unsent() const;  // scheduled - sent
  // True when every expectation passed (also when there are none).
  bool expectations_pass() const;
  bool operator==(const RunResult&) const = default;
};

// "warmup", "measure" or "drain" for second `second` of a run.
const char* PhaseOf(const RunInfo& info, size_t second);

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_RUN_RESULT_H_

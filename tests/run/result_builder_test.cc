// Tests for src/run/result_builder.cc and the reporters on hand-made reports: summary.json,
// timeline.csv, samples.csv and the terminal table.
#include "edgebench/run/result_builder.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "edgebench/results/reporters.h"

#include "test_support.h"

namespace edgebench {
namespace {

using nlohmann::json;
using testing::ScenarioFromYaml;

// 4 devices x 10 msg/s: 1 s warm-up, 2 s measured, 1 s drain.
const char* const kScenario = R"(name: sum-test
devices:
  count: 4
publish:
  rate: 10
  qos: 1
warmup_s: 1
duration_s: 2
drain_s: 1
)";

RunData SampleRun() {
  RunData run;
  run.window_s = 2.0;
  Counters& w = run.worker.counters;
  w[Counter::kScheduled] = 100;
  w[Counter::kSent] = 98;
  w[Counter::kAcked] = 97;
  w[Counter::kPublishErrors] = 2;
  w[Counter::kWorkerDisconnects] = 1;
  w[Counter::kWindowSent] = 50;
  w[Counter::kUnacked] = 1;
  run.worker.sent_per_second = {10, 20, 5};
  run.worker.lag_us.RecordN(250, 2);
  CollectorReport& c = run.collector;
  c.counters[Counter::kReceived] = 95;
  c.counters[Counter::kDuplicated] = 1;
  c.counters[Counter::kReordered] = 2;
  c.counters[Counter::kForeign] = 3;
  c.counters[Counter::kWindowReceived] = 40;
  c.counters[Counter::kCollectorDisconnects] = 4;
  c.latency_us.RecordN(1000, 4);
  c.latency_actual_us.RecordN(900, 4);
  c.received_per_device = {24, 24, 24, 23};
  c.per_second = {{9, 100, 200}, {20, 150, 300}, {6, 120, 250}};
  ProcSample first;
  first.t_ms = 0;
  first.role = "worker";
  first.pid = 42;
  first.cpu_s = 1.0;
  first.rss_peak_kb = 1024;
  ProcSample last = first;
  last.t_ms = 1000;
  last.cpu_s = 1.5;
  last.rss_peak_kb = 2048;
  run.samples = {first, last};
  run.notes = {"a note"};
  return run;
}

}  // namespace

// Every key docs/results.md documents for summary.json.
TEST_CASE("BuildSummary has every documented key", "[summary]") {
  json sm = BuildSummary(ScenarioFromYaml(kScenario), SampleRun());
  for (const char* key : {"status", "error", "scenario", "qos", "devices", "window", "messages",
                          "throughput", "latency_us", "latency_from_actual_send_us",
                          "generator_lag_us", "connections", "processes", "notes"}) {
    INFO(key);
    CHECK(sm.contains(key));
  }
  for (const char* key : {"warmup_s", "duration_s", "drain_s", "measured_s"}) {
    INFO(key);
    CHECK(sm["window"].contains(key));
  }
  for (const char* key : {"scheduled", "sent", "acked", "received", "lost", "duplicated",
                          "reordered", "unsent", "publish_errors", "unacked", "foreign"}) {
    INFO(key);
    CHECK(sm["messages"].contains(key));
  }
  CHECK(sm["throughput"].contains("sent_per_s"));
  CHECK(sm["throughput"].contains("received_per_s"));
  for (const char* dist : {"latency_us", "latency_from_actual_send_us", "generator_lag_us"}) {
    for (const char* key : {"count", "min", "mean", "p50", "p90", "p99", "p999", "max"}) {
      INFO(dist << "." << key);
      CHECK(sm[dist].contains(key));
    }
  }
  for (const char* key : {"devices", "worker_disconnects", "collector_disconnects"}) {
    INFO(key);
    CHECK(sm["connections"].contains(key));
  }
  for (const char* key : {"worker", "broker", "orchestrator"}) {
    INFO(key);
    CHECK(sm["processes"].contains(key));
  }
  for (const char* key : {"pid", "samples", "cpu_s", "cpu_pct_mean", "rss_peak_kb"}) {
    INFO(key);
    CHECK(sm["processes"]["worker"].contains(key));
  }
}

TEST_CASE("BuildSummary values", "[summary]") {
  json sm = BuildSummary(ScenarioFromYaml(kScenario), SampleRun());
  CHECK(sm["status"] == "ok");
  CHECK(sm["error"].is_null());
  CHECK(sm["scenario"] == "sum-test");
  CHECK(sm["qos"] == 1);
  CHECK(sm["devices"] == 4);
  CHECK(sm["window"] ==
        json{{"warmup_s", 1.0}, {"duration_s", 2.0}, {"drain_s", 1.0}, {"measured_s", 2.0}});
  const json& m = sm["messages"];
  CHECK(m["scheduled"] == 100);
  CHECK(m["sent"] == 98);
  CHECK(m["acked"] == 97);
  CHECK(m["received"] == 95);
  CHECK(m["lost"] == 3);    // sent - received
  CHECK(m["unsent"] == 2);  // scheduled - sent
  CHECK(m["duplicated"] == 1);
  CHECK(m["reordered"] == 2);
  CHECK(m["publish_errors"] == 2);
  CHECK(m["unacked"] == 1);
  CHECK(m["foreign"] == 3);
  // Every scheduled message is accounted for (docs/results.md).
  CHECK(m["scheduled"].get<uint64_t>() == m["sent"].get<uint64_t>() + m["unsent"].get<uint64_t>());
  CHECK(m["sent"].get<uint64_t>() == m["received"].get<uint64_t>() + m["lost"].get<uint64_t>());
  // Window counts over window seconds.
  CHECK(sm["throughput"]["sent_per_s"] == 25.0);
  CHECK(sm["throughput"]["received_per_s"] == 20.0);
  CHECK(sm["latency_us"]["count"] == 4);
  CHECK(sm["latency_us"]["p50"] == 1000);
  CHECK(sm["latency_from_actual_send_us"]["max"] == 900);
  CHECK(sm["generator_lag_us"]["count"] == 2);
  CHECK(sm["connections"] == json{{"devices", 4},
                                  {"gateways", 0},
                                  {"worker_disconnects", 1},
                                  {"worker_reconnects", 0},
                                  {"collector_disconnects", 4}});
  CHECK(sm["processes"]["worker"]["pid"] == 42);
  CHECK(sm["processes"]["worker"]["samples"] == 2);
  CHECK(sm["processes"]["worker"]["cpu_s"] == 0.5);
  CHECK(sm["processes"]["worker"]["rss_peak_kb"] == 2048);
  CHECK(sm["processes"]["worker"]["cpu_pct_mean"] == 50.0);
  CHECK(sm["processes"]["broker"].is_null());
  CHECK(sm["notes"] == json{"a note"});
}

TEST_CASE("BuildSummary edge cases", "[summary]") {
  Scenario s = ScenarioFromYaml(kScenario);
  SECTION("more received than sent is no negative loss") {
    RunData run = SampleRun();
    run.collector.counters[Counter::kReceived] = 120;
    run.worker.counters[Counter::kScheduled] =
        90;  // and more sent than scheduled: no negative unsent
    json m = BuildSummary(s, run)["messages"];
    CHECK(m["lost"] == 0);
    CHECK(m["unsent"] == 0);
  }
  SECTION("a failed run with no window") {
    RunData run;
    run.status = RunStatus::kFailed;
    run.error = "worker killed by signal 9 (Killed)";
    json sm = BuildSummary(s, run);
    CHECK(sm["status"] == "failed");
    CHECK(sm["error"] == "worker killed by signal 9 (Killed)");
    CHECK(sm["throughput"]["sent_per_s"] == 0.0);
    CHECK(sm["throughput"]["received_per_s"] == 0.0);
    CHECK(sm["latency_us"]["count"] == 0);
  }
  SECTION("latency off") {
    s.latency = false;
    json sm = BuildSummary(s, SampleRun());
    CHECK(sm["messages"]["duplicated"].is_null());
    CHECK(sm["messages"]["reordered"].is_null());
    CHECK(sm["messages"]["received"] == 95);
    CHECK(sm["latency_us"].is_null());
    CHECK(sm["latency_from_actual_send_us"].is_null());
    CHECK(sm["generator_lag_us"]["count"] == 2);  // measured by the worker either way
    // Counted by receive second: seconds 1 and 2 are the window (20 + 6 over 2 s).
    CHECK(sm["throughput"]["received_per_s"] == 13.0);
  }
}

TEST_CASE("BuildTimelineCsv", "[summary]") {
  const std::string header =
      "second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker,wall_time\n";
  Scenario s = ScenarioFromYaml(kScenario);
  s.duration_s = 1;           // warm-up, measure, drain: one second each
  RunData run = SampleRun();  // no packet capture: the byte columns stay empty
  CHECK(TimelineCsv(BuildRunResult(s, run)) == header +
                                                   "0,warmup,10,9,100,200,,,\n"
                                                   "1,measure,20,20,150,300,,,\n"
                                                   "2,drain,5,6,120,250,,,\n");
  run.collector.per_second.pop_back();  // a second with sends but nothing received
  run.worker.sent_per_second.push_back(1);
  CHECK(TimelineCsv(BuildRunResult(s, run)) == header +
                                                   "0,warmup,10,9,100,200,,,\n"
                                                   "1,measure,20,20,150,300,,,\n"
                                                   "2,drain,5,0,0,0,,,\n"
                                                   "3,drain,1,0,0,0,,,\n");
  const RunData empty;
  CHECK(TimelineCsv(BuildRunResult(s, empty)) == header);
}

TEST_CASE("BuildSamplesCsv", "[summary]") {
  ProcSample p;
  p.t_ms = 100;
  p.role = "broker";
  p.pid = 4321;
  p.cpu_s = 1.23456;
  p.cpu_pct = 12.34;
  p.rss_kb = 1000;
  p.rss_peak_kb = 2000;
  p.threads = 3;
  p.voluntary_ctxt_switches = 7;
  p.nonvoluntary_ctxt_switches = 8;
  RunData run;
  run.samples = {p};
  Scenario s = ScenarioFromYaml(kScenario);
  CHECK(SamplesCsv(BuildRunResult(s, run)) ==
        "t_ms,role,pid,cpu_s,cpu_pct,rss_kb,rss_peak_kb,threads,voluntary_ctxt_switches,"
        "nonvoluntary_ctxt_switches,t_run_ms,wall_time\n"
        "100,broker,4321,1.235,12.3,1000,2000,3,7,8,,\n");
  // On the run's clock: t0 came 300 ms after the sampler started, at a known wall time.
  run.t0_unix_ms = 1'764'587'560'000;  // 2025-12-01T11:12:40.000Z
  run.sampler_offset_ms = 300;
  CHECK(
      SamplesCsv(BuildRunResult(s, run))
          .ends_with("100,broker,4321,1.235,12.3,1000,2000,3,7,8,-200,2025-12-01T11:12:39.800Z\n"));
}

TEST_CASE("FormatSummaryTable", "[summary]") {
  Scenario s = ScenarioFromYaml(kScenario);
  std::string table = SummaryTable(BuildRunResult(s, SampleRun()));
  auto has = [&table](const std::string& line) {
    INFO("line: " << line << "\ntable:\n" << table);
    CHECK(table.find(line) != std::string::npos);
  };
  has("\nsum-test — status ok, QoS 1, 4 devices, window 2 s\n");
  has("\n  messages    whole run: scheduled 100  sent 98  acked 97  received 95  lost 3  "
      "in flight 0  duplicated 1  reordered 2\n");
  has("\n  throughput  window: sent 25.0 msg/s  received 20.0 msg/s\n");
  // 4 samples: p90, p99 and p99.9 would only repeat the maximum.
  has("\n  latency ms  window, from the intended send time: p50 1.000  max 1.000  "
      "(n=4; too few for p90, p99, p99.9)\n");
  has("\n  gen lag ms  p50 0.250  max 0.250  (n=2; too few for p99)\n");
  has("\n  note        a note\n");
  has("\n  worker        50.0% CPU, 0.50 CPU s, peak RSS 2.0 MB\n");
  has("\n  broker        not sampled\n");
  has("\n  orchestrator  not sampled\n");

  s.latency = false;
  table = SummaryTable(BuildRunResult(s, SampleRun()));
  has("  duplicated -  reordered -\n");
  has("\n  latency     not measured (latency: false)\n");
}

TEST_CASE("FormatSummaryTable shows the link and its measured RTT", "[summary]") {
  Scenario s = ScenarioFromYaml(kScenario);
  RunData run = SampleRun();
  run.link.emulated = true;
  run.link.profile = "cloud-near";
  run.link.backend = "proxy";
  run.link.rtt_ms = 15.0;
  run.link.jitter_ms = 1.5;
  run.link.uplink_mbit = 100.0;
  run.link.downlink_mbit = 0.0;
  run.link.measured_rtt = RttMeasurement{10, 14.547, 15.316, 16.0, {}};
  std::string table = SummaryTable(BuildRunResult(s, run));
  CHECK(table.find("\n  link        cloud-near (rtt 15 ms, jitter 1.5 ms, up 100 Mbit/s / down "
                   "unlimited) over proxy; measured RTT median 15.316 ms (min 14.547, 10 probes); "
                   "collector at the broker\n") != std::string::npos);

  run.link = LinkResult{};
  run.link.subscribe_at = "devices";
  run.link.measured_rtt_error =
      "no answer from the broker at broker.example.invalid:8883 within 5000 ms";
  table = SummaryTable(BuildRunResult(s, run));
  CHECK(table.find(
            "\n  link        none (the devices reach the broker directly); RTT not "
            "measured: no answer from the broker at broker.example.invalid:8883 within 5000 ms; "
            "collector at the devices\n") != std::string::npos);
}

}  // namespace edgebench

namespace edgebench {

TEST_CASE("a generator that fell behind its schedule is noted, never shown as fine", "[summary]") {
  Scenario s = ScenarioFromYaml(kScenario);
  const std::string behind_note_start = "the generator fell behind its schedule";
  auto notes_of = [&](const RunData& run) { return BuildRunResult(s, run).notes; };
  auto has_behind = [&](const std::vector<std::string>& notes) {
    for (const std::string& n : notes) {
      if (n.rfind(behind_note_start, 0) == 0) return true;
    }
    return false;
  };

  RunData kept_up = SampleRun();  // 100 scheduled, 98 sent, the 2 others failed publishes
  CHECK(!has_behind(notes_of(kept_up)));

  RunData unsent = SampleRun();
  unsent.worker.counters[Counter::kScheduled] = 1000;
  unsent.worker.counters[Counter::kSent] = 900;
  unsent.worker.counters[Counter::kPublishErrors] = 0;
  std::vector<std::string> notes = notes_of(unsent);
  REQUIRE(!notes.empty());
  CHECK(notes.back() ==
        "the generator fell behind its schedule (generator lag p99 0.25 ms; 100 of 1000 "
        "scheduled messages not sent): this machine could not carry the load, and the latency "
        "includes that lag; use more workers, fewer devices or a bigger machine");

  RunData lagging = SampleRun();
  lagging.worker.lag_us.RecordN(40'000, 100);  // most sends 40 ms late
  notes = notes_of(lagging);
  REQUIRE(!notes.empty());
  CHECK(notes.back().rfind("the generator fell behind its schedule (generator lag p99 40 ms; 0 "
                           "of 100 scheduled messages not sent)",
                           0) == 0);

  // An interrupted run leaves the rest of its plan unsent: the stop's doing, not a lag.
  RunData interrupted = unsent;
  interrupted.status = RunStatus::kInterrupted;
  CHECK(!has_behind(notes_of(interrupted)));

  // Messages skipped while a connection was down are not the generator's lag.
  RunData skipped = SampleRun();
  skipped.worker.counters[Counter::kScheduled] = 1000;
  skipped.worker.counters[Counter::kSent] = 900;
  skipped.worker.counters[Counter::kPublishErrors] = 0;
  skipped.worker.counters[Counter::kSkippedDisconnected] = 100;
  CHECK(!has_behind(notes_of(skipped)));
}

TEST_CASE("a worker that died leaves partial counts that still add up", "[summary]") {
  Scenario s = ScenarioFromYaml(kScenario);
  RunData run = SampleRun();
  run.status = RunStatus::kFailed;
  run.error = "the worker ended 2.9 s into the run, before its final report: worker killed";
  // Its last progress report came before the collector's last 55 arrivals.
  run.worker_partial = true;
  run.worker.counters = Counters{};
  run.worker.counters[Counter::kScheduled] = 30;
  run.worker.counters[Counter::kSent] = 30;
  RunResult r = BuildRunResult(s, run);
  CHECK(r.partial);
  CHECK(r.counters[Counter::kSent] == 94);  // received 95, of which 1 a duplicate
  CHECK(r.counters[Counter::kScheduled] == 94);
  CHECK(r.lost() == 0);
  CHECK(r.unsent() == 0);
  REQUIRE(r.notes.size() == 2);
  CHECK(r.notes[1] ==
        "partial counts: a worker ended without its final report, so sent and scheduled are what "
        "the orchestrator saw (its last progress report, and at least what was received)");
  json j = SummaryToJson(r);
  CHECK(j["messages"]["partial"] == true);
  Result<RunResult> back = SummaryFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->partial);

  // A worker whose progress is ahead of the collector keeps its own counts.
  run.worker.counters[Counter::kScheduled] = 200;
  run.worker.counters[Counter::kSent] = 150;
  r = BuildRunResult(s, run);
  CHECK(r.counters[Counter::kSent] == 150);
  CHECK(r.counters[Counter::kScheduled] == 200);
  CHECK(r.lost() == 55);
  CHECK(r.unsent() == 50);
  CHECK_FALSE(BuildRunResult(s, SampleRun()).partial);
}

}  // namespace edgebench

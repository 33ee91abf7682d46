// Tests for the RunResult round trip (reporters and ReadRunDirectory), its format versions,
// and the mergeable Counters.
#include "edgebench/results/run_result.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "edgebench/base/fd.h"
#include "edgebench/results/counters.h"
#include "edgebench/results/reporters.h"

#include "test_support.h"

namespace edgebench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A results directory written by edgebench before summary.json had "format" (format 1):
// scenarios/edge.yaml with 20 devices, 1 s warm-up, 3 s window, over the edge-lan proxy.
const std::string kFormat1Dir =
    std::string(EDGEBENCH_SOURCE_DIR) + "/tests/data/results/format1-edge";

// Writes every reporter's file of `r` into `dir` and reads the directory back.
RunResult WriteAndRead(const RunResult& r, const fs::path& dir) {
  fs::create_directories(dir);
  for (const ReportFile& f : RenderRunFiles(r)) REQUIRE(WriteFile(dir / f.name, f.content).ok());
  Result<RunResult> back = ReadRunDirectory(dir);
  INFO((back.ok() ? std::string() : back.error().ToString()));
  REQUIRE(back.ok());
  return back.value();
}

// A result with every part filled in, histograms included.
RunResult Full() {
  RunResult r;
  r.status = RunStatus::kInterrupted;
  r.error = "interrupted";
  r.info = RunInfo{"full", 1, 4, 2, 1.0, 2.5, 1.0, true, false, 1'764'587'560'000};
  r.measured_s = 2.5;
  r.sent_per_s = 40.0;
  r.received_per_s = 39.5;
  for (const CounterInfo& c : kCounterTable)
    r.counters.Set(c.id, 1000 + static_cast<uint64_t>(c.id));
  LatencyHistogram lat;
  lat.RecordN(700, 90);
  lat.RecordN(2500, 10);
  r.latency_us = Distribution::Of(lat);
  r.latency_actual_us = Distribution::Of(lat);
  LatencyHistogram lag;
  lag.RecordN(40, 100);
  r.lag_us = Distribution::Of(lag);
  r.timeline = {{40, 39, 700, 2500, 1000, 900}, {41, 40, 710, 2400, 1100, 950}};
  r.samples = {{0, -300, "worker", 42, 0.125, 0.0, 1000, 1200, 1, 3, 4},
               {100, -200, "worker", 42, 0.25, 12.5, 1100, 1200, 1, 5, 6}};
  r.processes.worker = ProcessResult{std::nullopt, 20, 0.5, 12.5, 2400, 0.75, 2};
  r.processes.workers = {ProcessResult{42, 10, 0.25, 6.25, 1200, {}, {}},
                         ProcessResult{43, 10, 0.25, 6.25, 1200, {}, {}}};
  r.processes.broker = ProcessResult{7, 10, 0.1, 4.0, 8000, {}, {}};
  r.capture.status = "ok";
  r.capture.interface = "lo";
  r.capture.filter = "tcp and host 127.0.0.1 and port 1883";
  r.capture.broker_port = 1883;
  r.capture.to_broker = {10, 1000, 500, {{"PUBLISH", 5}}};
  r.capture.from_broker = {8, 800, 400, {{"PUBACK", 5}}};
  r.capture.pcap_file = "capture.pcap";
  r.capture.buffer_bytes = 64 << 20;
  r.capture.snaplen = 96;
  r.link.emulated = true;
  r.link.profile = "cloud-near";
  r.link.backend_requested = "auto";
  r.link.backend = "proxy";
  r.link.backend_reason = "netem is not available here";
  r.link.rtt_ms = 15;
  r.link.measured_rtt = RttMeasurement{2, 15.1, 15.2, 15.3, {15.1, 15.3}};
  r.link.proxy = ProxyResult{5, 0, -10, {100, 4, 7.5, 8, 9, 0.1, 0.2, 0.3, 0.4, 64, 0}, {}};
  r.notes = {"a note", "another"};
  r.protocol_mismatches = {{"collector", "the broker granted QoS 1", 1}, {"devices", "no acks", 7}};
  CostResult cost;
  cost.per_month = 518.7490560000001;
  cost.per_million_messages = 2.001346666666667;
  cost.basis = CostBasis{2592000, 100, 259200000, 101, 123.456, 98.7654321, true};
  cost.sheets = {CostSheetRef{"aws-iot-core-eu", "AWS IoT Core, Europe (Ireland)", "USD",
                              "https://aws.amazon.com/iot-core/pricing/", "2026-09-20", 1},
                 CostSheetRef{"edge-node", "Edge node", "USD", "a; b", "2025-03", 1}};
  cost.parts = {CostPart{"aws-iot-core-eu", "messages", 259.2, "million messages", 1, "USD", 259.2,
                         259.2, "259,200,000 published a month"},
                CostPart{"edge-node", "electricity", 4.536, "kWh", 0.1875, "EUR", 0.8505,
                         0.94686165, "1 node(s) x 6.3 W x 720 h"}};
  cost.notes = {"connections: 100 device connection(s) + 1 for edgebench's subscriber"};
  r.cost = cost;
  return r;
}

}  // namespace

TEST_CASE("a RunResult written and read back is the same", "[run_result]") {
  testing::TempDir tmp;
  RunResult in = Full();
  RunResult out = WriteAndRead(in, fs::path(tmp.path()) / "full");
  CHECK(out.counters == in.counters);
  CHECK(out.latency_us == in.latency_us);
  CHECK(out.timeline == in.timeline);
  CHECK(out.samples == in.samples);
  CHECK(out.processes == in.processes);
  CHECK(out.capture == in.capture);
  CHECK(out.link == in.link);
  CHECK(out.cost == in.cost);
  CHECK(out == in);
  SECTION("without a cost: summary.json says null, and a summary without the key reads as none") {
    in.cost.reset();
    CHECK(SummaryToJson(in)["cost"].is_null());
    CHECK(WriteAndRead(in, fs::path(tmp.path()) / "nocost") == in);
    json j = SummaryToJson(Full());
    REQUIRE(j["cost"]["parts"].size() == 2);
    j.erase("cost");
    Result<RunResult> back = SummaryFromJson(j);
    REQUIRE(back.ok());
    CHECK_FALSE(back->cost.has_value());
  }
  SECTION("latency off: duplicates and percentiles are null, and come back as written") {
    in.info.latency = false;
    in.latency_us = Distribution{};
    in.latency_actual_us = Distribution{};
    RunResult back = WriteAndRead(in, fs::path(tmp.path()) / "nolatency");
    CHECK(back == in);
    CHECK(SummaryToJson(in)["messages"]["duplicated"].is_null());
  }
}

TEST_CASE("the shipped format 1 directory reads, and round-trips unchanged", "[run_result]") {
  Result<RunResult> r = ReadRunDirectory(kFormat1Dir);
  INFO((r.ok() ? std::string() : r.error().ToString()));
  REQUIRE(r.ok());
  CHECK(r->format == 1);
  CHECK(r->status == RunStatus::kOk);
  CHECK(r->info.scenario == "edge");
  CHECK(r->info.devices == 20);
  CHECK(r->info.qos == 1);
  CHECK(r->counters[Counter::kScheduled] == 80);
  CHECK(r->counters[Counter::kSent] == 80);
  CHECK(r->counters[Counter::kReceived] == 80);
  CHECK(r->latency_us.summary.count == 60);
  CHECK(r->latency_us.summary.p99 == 949);
  CHECK_FALSE(r->latency_us.histogram);  // format 1 kept no exact histogram
  CHECK(r->timeline.size() == 5);
  CHECK(r->timeline[1].sent == 20);
  CHECK(r->timeline[1].bytes_to_broker == 4740);
  CHECK_FALSE(r->samples.empty());
  CHECK(r->capture.broker_port == 50407);  // from the filter, which format 1 wrote
  CHECK(r->link.profile == "edge-lan");
  CHECK(r->link.proxy->nice == -10);
  CHECK(r->processes.worker->cpu_s_total == 0.016349);

  testing::TempDir tmp;
  RunResult again = WriteAndRead(r.value(), fs::path(tmp.path()) / "again");
  again.format = 1;  // written as format 2, the rest is the same
  CHECK(again == r.value());
  // The format 1 keys a reader relied on are all still written.
  json old = json::parse(std::ifstream(kFormat1Dir + "/summary.json"));
  json now = SummaryToJson(r.value());
  for (const auto& [key, value] : old.items()) {
    INFO(key);
    CHECK(now.contains(key));
    if (value.is_object()) {
      for (const auto& [inner, v] : value.items()) {
        INFO(key << "." << inner);
        CHECK(now[key].contains(inner));
      }
    }
  }
  CHECK(now["format"] == kSummaryFormat);
}

TEST_CASE("summary readers check the format version and name what is wrong", "[run_result]") {
  json j = SummaryToJson(Full());
  j["format"] = 3;
  Result<RunResult> r = SummaryFromJson(j);
  REQUIRE(!r.ok());
  CHECK(r.error().ToString() == "summary format 3 is newer than this edgebench reads (1 to 2)");
  j["format"] = 0;
  CHECK(SummaryFromJson(j).error().ToString() ==
        "summary format 0 is not one this edgebench reads (1 to 2)");
  j["format"] = "2";
  CHECK(SummaryFromJson(j).error().ToString() == "format must be an integer");
  j["format"] = 2;
  j["status"] = "great";
  CHECK(SummaryFromJson(j).error().ToString() ==
        "status must be ok, failed or interrupted, got 'great'");
  j["status"] = "ok";
  j.erase("messages");
  j["counters"]["sentt"] = 1;
  CHECK(SummaryFromJson(j).error().ToString() == "counters: unknown counter 'sentt'");

  testing::TempDir tmp;
  Result<RunResult> missing = ReadRunDirectory(tmp.path() + "/nothing");
  REQUIRE(!missing.ok());
  CHECK(missing.error().ToString() ==
        "cannot read " + tmp.path() + "/nothing/summary.json: No such file or directory");
  fs::create_directories(tmp.path() + "/bad");
  REQUIRE(WriteFile(tmp.path() + "/bad/summary.json", SummaryToJson(Full()).dump()).ok());
  REQUIRE(WriteFile(tmp.path() + "/bad/timeline.csv",
                    "second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker,"
                    "wall_time\n0,warmup,1,2\n")
              .ok());
  CHECK(ReadRunDirectory(tmp.path() + "/bad").error().ToString() ==
        tmp.path() + "/bad/timeline.csv:2: expected 9 fields, got 4");
}

TEST_CASE("Counters merge by their rules and keep every field in JSON", "[run_result]") {
  Counters a, b;
  a.Add(Counter::kSent, 10);
  a.Set(Counter::kLastSendNs, 500);
  b.Add(Counter::kSent, 5);
  b.Add(Counter::kReceived, 4);
  b.Set(Counter::kLastSendNs, 300);
  a.Merge(b);
  CHECK(a[Counter::kSent] == 15);
  CHECK(a[Counter::kReceived] == 4);
  CHECK(a[Counter::kLastSendNs] == 500);  // a timestamp: the later one, not the sum
  json j = a.ToJson();
  CHECK(j.size() == kCounterCount);
  CHECK(j["sent"] == 15);
  Result<Counters> back = Counters::FromJson(j);
  REQUIRE(back.ok());
  CHECK(back.value() == a);
  CHECK(Counters::FromJson(json{{"sent", -1}}).error().ToString() ==
        "counters.sent must be a non-negative integer");
  CHECK(Counters::FromJson(json::array()).error().ToString() == "counters must be a JSON object");
  // An older writer's missing counters read as 0.
  CHECK(Counters::FromJson(json{{"sent", 3}}).value()[Counter::kReceived] == 0);
}

TEST_CASE("the table says what each figure counts", "[run_result]") {
  RunResult r = Full();
  r.info.qos = 0;
  std::string t = SummaryTable(r);
  INFO(t);
  CHECK(t.find("  messages    whole run: scheduled 1000  sent 1001  written 1002  received 1010  "
               "lost 0  in flight 1024  duplicated 1011  reordered 1012\n") != std::string::npos);
  CHECK(t.find("  latency ms  window, from the intended send time: p50 0.700  p90 0.700  "
               "p99 2.500  max 2.500  (n=100; too few for p99.9)\n") != std::string::npos);
  CHECK(t.find("  capture     capture.pcap (up to 96 bytes of each packet): open with tshark -r "
               "capture.pcap -d tcp.port==1883,mqtt\n") != std::string::npos);
  CHECK(t.find("  note        another\n") != std::string::npos);
  r.processes.orchestrator = ProcessResult{9, 10, 0.2, 2.0, 70000, {}, {}};
  t = SummaryTable(r);
  CHECK(t.find("  orchestrator  2.0% CPU, 0.20 CPU s, peak RSS 68.4 MB (up to 64.0 MB of it the "
               "capture buffer)\n") != std::string::npos);
}

}  // namespace edgebench

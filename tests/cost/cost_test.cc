// Tests for the cost of a run (src/cost/cost.cc): the worked example of docs/cost.md from
// the shipped sheets (and the figures the doc prints), metering steps, free allowances,
// traffic, instances, the edge node's write-off and power, and currency conversion.
#include "edgebench/cost/cost.h"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "edgebench/results/counters.h"
#include "edgebench/scenario/price_sheet.h"

#include "test_support.h"

#ifndef EDGEBENCH_SOURCE_DIR
#error "EDGEBENCH_SOURCE_DIR must name the project source directory"
#endif

namespace edgebench {
namespace {

const std::string kCostDir = std::string(EDGEBENCH_SOURCE_DIR) + "/config/costs";

// The worked example's run: 100 devices at 1 msg/s, 64-byte payloads, QoS 0, no capture.
RunResult ExampleRun() {
  RunResult run;
  run.info.devices = 100;
  run.info.rate_per_device = 1;
  run.info.payload_bytes = 64;
  run.info.topics_per_device = 1;
  run.info.qos = 0;
  run.sent_per_s = 99.5;  // measured, and not used: the scenario's rate is
  run.capture.status = "disabled";
  return run;
}

PriceSheet Shipped(const std::string& name) {
  Result<std::vector<PriceSheet>> sheets = LoadPriceSheets(kCostDir, {name});
  if (!sheets) FAIL(sheets.error().ToStringWithContext());
  return sheets->front();
}

PriceSheet Sheet(std::string_view body) {
  Result<PriceSheet> s =
      ParsePriceSheet("name: t\ntitle: T\ncurrency: USD\n" + std::string(body), "t.yaml");
  if (!s) FAIL(s.error().ToStringWithContext());
  return s.value();
}

// A copy, so that it may be taken from a temporary CostResult.
CostPart PartOf(const CostResult& cost, std::string_view item) {
  for (const CostPart& p : cost.parts) {
    if (p.item == item) return p;
  }
  FAIL("no part " << item);
  return {};
}

// A load of `messages_per_s` with the given wire bytes (measured), 64-byte payloads, QoS 0.
CostLoad Load(double messages_per_s, double bytes_each_way = 100) {
  CostLoad load;
  load.basis.messages_per_s = messages_per_s;
  load.basis.messages_per_month = messages_per_s * kSecondsPerMonth;
  load.basis.connections = 2;
  load.basis.bytes_to_broker_per_message = bytes_each_way;
  load.basis.bytes_from_broker_per_message = bytes_each_way;
  load.basis.wire_bytes_measured = true;
  load.payload_bytes = 64;
  return load;
}

// How docs/cost.md prints a figure: up to 4 decimals, no trailing zeros.
std::string Short(double v) {
  std::string s = fmt::format("{:.4f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string Money(double v) { return fmt::format("{:.2f}", v); }

// The table row docs/cost.md must have for `p`.
std::string DocRow(const CostPart& p) {
  return fmt::format("| {} | {} | {} | {} | {} | {} {} | {} |", p.sheet, p.item, Short(p.quantity),
                     p.unit, Short(p.unit_price), Money(p.amount), p.currency, Money(p.amount_usd));
}

int CountRowsOf(const std::string& doc, const std::string& sheet) {
  int rows = 0;
  std::string prefix = "| " + sheet + " | ";
  for (size_t at = doc.find(prefix); at != std::string::npos; at = doc.find(prefix, at + 1)) {
    if (at == 0 || doc[at - 1] == '\n') ++rows;
  }
  return rows;
}

}  // namespace

TEST_CASE("the worked example: 100 devices at 1 msg/s on AWS IoT Core", "[cost]") {
  CostResult cost = ComputeCost({Shipped("aws-iot-core-eu")}, ExampleRun());
  CHECK(cost.basis.messages_per_s == 100);
  CHECK(cost.basis.messages_per_month == 259'200'000);
  CHECK(cost.basis.connections == 101);
  CostPart messages = PartOf(cost, "messages");
  CHECK(messages.quantity == Approx(259.2));
  CHECK(messages.amount_usd == Approx(259.2));  // "about USD 259 a month of messaging"
  CHECK(PartOf(cost, "deliveries").amount_usd == Approx(259.2));
  CostPart minutes = PartOf(cost, "connection_minutes");
  CHECK(minutes.quantity == Approx(4.3632));  // 101 x 43,200 minutes
  CHECK(minutes.amount_usd == Approx(0.349056));
  CHECK(cost.parts.size() == 3);  // QoS 0: no PUBACKs
  CHECK(cost.per_month == Approx(518.749056));
  CHECK(cost.per_million_messages == Approx(518.749056 / 259.2));
  REQUIRE(cost.sheets.size() == 1);
  CHECK(cost.sheets[0].price_date == "2026-09-20");
  CHECK(cost.sheets[0].usd_per_unit == 1);
  CHECK(cost.notes[0] == "messages: 100 devices x 1 msg/s = 100 msg/s, the scenario's rate");
  CHECK(cost.notes[1] == "connections: 100 device connection(s) + 1 for edgebench's subscriber");
}

TEST_CASE("the same fleet on the cloud VM and on the edge node", "[cost]") {
  CostResult vm = ComputeCost({Shipped("cloud-vm-mosquitto")}, ExampleRun());
  CHECK(vm.basis.bytes_to_broker_per_message == 120);  // 52 + 2 + 2 + 64, estimated
  CHECK_FALSE(vm.basis.wire_bytes_measured);
  CostPart instance = PartOf(vm, "instance");
  CHECK(instance.currency == "EUR");
  CHECK(instance.amount == Approx(4.11));
  CHECK(instance.amount_usd == Approx(4.11 * 1.1133));
  CostPart out = PartOf(vm, "traffic_out");
  CHECK(out.quantity == Approx(31.104));  // 120 B x 259.2M messages
  CHECK(out.amount == 0);                 // within the 20 TiB included
  CHECK(vm.per_month == Approx(4.575663));

  CostResult edge = ComputeCost({Shipped("edge-node")}, ExampleRun());
  CHECK(PartOf(edge, "edge_node").amount_usd == Approx(500.0 / 36));
  CostPart power = PartOf(edge, "electricity");
  CHECK(power.quantity == Approx(4.536));  // 6.3 W x 720 h
  CHECK(power.amount == Approx(0.8505));
  CHECK(edge.per_month == Approx(500.0 / 36 + 0.8505 * 1.1133));
}

TEST_CASE("docs/cost.md prints the worked example as computed", "[cost]") {
  std::string doc = testing::ReadText(std::string(EDGEBENCH_SOURCE_DIR) + "/docs/cost.md");
  REQUIRE_FALSE(doc.empty());
  for (const char* name : {"aws-iot-core-eu", "cloud-vm-mosquitto", "edge-node"}) {
    INFO(name);
    CostResult cost = ComputeCost({Shipped(name)}, ExampleRun());
    for (const CostPart& p : cost.parts) {
      INFO(DocRow(p));
      CHECK(doc.find("\n" + DocRow(p) + "\n") != std::string::npos);
    }
    CHECK(CountRowsOf(doc, name) == static_cast<int>(cost.parts.size()));
    std::string total =
        fmt::format("Total for {}: **USD {} a month**, USD {} per million messages.", name,
                    Money(cost.per_month), Money(cost.per_million_messages));
    INFO(total);
    CHECK(doc.find(total) != std::string::npos);
  }
  CHECK(doc.find("about USD 259 a month of messaging") != std::string::npos);
}

TEST_CASE("messages are metered in the sheet's steps", "[cost]") {
  PriceSheet s = Sheet("messages: {per_million: 1, step_bytes: 5120, source: a, date: 2026-01}\n");
  auto steps = [&s](int payload_bytes) {
    CostLoad load = Load(1);
    load.payload_bytes = payload_bytes;
    return PartOf(CostOf({s}, load), "messages").quantity / 2.592;
  };
  CHECK(steps(64) == Approx(1));
  CHECK(steps(5120) == Approx(1));
  CHECK(steps(5121) == Approx(2));
  CHECK(steps(6144) == Approx(2));  // a 6 KB message counts as 2
  CHECK(steps(0) == Approx(1));     // unknown size: one step
  CostLoad load = Load(1);
  load.payload_bytes = 6144;
  CHECK(PartOf(CostOf({s}, load), "messages").note ==
        "2,592,000 published a month (1 msg/s x 2,592,000 s); 5,120 B metering steps: 2 per "
        "message of 6,144 B payload (the provider meters the topic's bytes too; the result does "
        "not know them)");
  PriceSheet unstepped = Sheet("messages: {per_million: 1, source: a, date: 2026-01}\n");
  CHECK(PartOf(CostOf({unstepped}, load), "messages").quantity == Approx(2.592));
}

TEST_CASE("deliveries and their PUBACKs are metered when the sheet says so", "[cost]") {
  PriceSheet s =
      Sheet("messages: {per_million: 1, deliveries: true, acks: true, source: a, date: 2026-01}\n");
  CostLoad load = Load(10);
  CHECK(CostOf({s}, load).parts.size() == 2);  // QoS 0: no PUBACKs
  load.qos = 1;
  CostResult cost = CostOf({s}, load);
  REQUIRE(cost.parts.size() == 3);
  CHECK(PartOf(cost, "acks").quantity == Approx(25.92));
  CHECK(cost.per_month == Approx(3 * 25.92));
}

TEST_CASE("free allowances come off before the price", "[cost]") {
  PriceSheet s = Sheet(
      "messages: {per_million: 2, deliveries: true, free_per_month: 3000000, source: a, "
      "date: 2026-01}\n");
  CostResult cost = CostOf({s}, Load(1));  // 2,592,000 published and as many delivered
  CostPart published = PartOf(cost, "messages");
  CHECK(published.amount == 0);
  CHECK(published.note.ends_with("; 2,592,000 messages of the 3,000,000 free a month"));
  CostPart delivered = PartOf(cost, "deliveries");
  CHECK(delivered.amount == Approx((2.592 - 0.408) * 2));  // the 408,000 left are free
  CHECK(cost.per_month == Approx(delivered.amount));

  PriceSheet minutes = Sheet(
      "connection_minutes: {per_million: 0.08, free_per_month: 50000, source: a, date: "
      "2026-01}\n");
  CostResult c = CostOf({minutes}, Load(1));  // 2 connections x 43,200 minutes
  CHECK(PartOf(c, "connection_minutes").quantity == Approx(0.0864));
  CHECK(PartOf(c, "connection_minutes").amount == Approx(0.0364 * 0.08));
}

TEST_CASE("traffic in and out from the measured wire bytes", "[cost]") {
  PriceSheet s = Sheet(
      "traffic_in: {per_gb: 0, source: a, date: 2026-01}\n"
      "traffic_out: {per_gb: 0.09, free_per_month: 10, source: b, date: 2026-01}\n");
  RunResult run = ExampleRun();
  run.counters.Set(Counter::kSent, 1000);
  run.capture.status = "ok";
  run.capture.to_broker.ip_bytes = 150'000;
  run.capture.from_broker.ip_bytes = 100'000;
  CostResult cost = ComputeCost({s}, run);
  CHECK(cost.basis.wire_bytes_measured);
  CHECK(cost.basis.bytes_to_broker_per_message == 150);
  CHECK(PartOf(cost, "traffic_in").quantity == Approx(38.88));  // 150 B x 259.2M
  CHECK(PartOf(cost, "traffic_in").amount == 0);
  CostPart out = PartOf(cost, "traffic_out");
  CHECK(out.quantity == Approx(25.92));
  CHECK(out.amount == Approx((25.92 - 10) * 0.09));
  CHECK(cost.notes[2] ==
        "wire bytes: measured by the capture: 150 B to and 100 B from the broker per message "
        "sent (the whole run's IP bytes, connection set-up and edgebench's subscriber "
        "included)");

  run.capture.status = "unavailable";
  run.info.qos = 1;
  CostResult estimated = ComputeCost({s}, run);
  CHECK_FALSE(estimated.basis.wire_bytes_measured);
  CHECK(estimated.basis.bytes_from_broker_per_message == 122);  // 52 + 2 + 2 + 2 + 64
  CHECK(estimated.notes[2] ==
        "wire bytes: not measured (capture unavailable): estimated as one MQTT PUBLISH of 64 B "
        "payload each way in its own packet, 122 B with IPv4/TCP headers; the topic's bytes, "
        "acknowledgements and keep-alives are not counted");
}

TEST_CASE("an instance billed by the hour up to a monthly cap", "[cost]") {
  PriceSheet capped =
      Sheet("instance: {per_hour: 0.01, per_month: 5, count: 2, source: a, date: 2026-01}\n");
  CostPart p = PartOf(CostOf({capped}, Load(1)), "instance");
  CHECK(p.unit == "instance-month");  // 720 h x 0.01 = 7.2 is more than the cap
  CHECK(p.quantity == 2);
  CHECK(p.amount == Approx(10));
  PriceSheet hourly =
      Sheet("instance: {per_hour: 0.005, per_month: 5, source: a, date: 2026-01}\n");
  CostPart h = PartOf(CostOf({hourly}, Load(1)), "instance");
  CHECK(h.unit == "instance-hour");
  CHECK(h.quantity == 720);
  CHECK(h.amount == Approx(3.6));
  PriceSheet monthly = Sheet("instance: {per_month: 4, source: a, date: 2026-01}\n");
  CHECK(PartOf(CostOf({monthly}, Load(1)), "instance").amount == Approx(4));
}

TEST_CASE("an edge node is written off over its lifetime and draws power", "[cost]") {
  PriceSheet s = Sheet(
      "edge_node: {purchase_price: 1200, lifetime_months: 24, power_w: 10, count: 2, source: a, "
      "date: 2026-01}\n"
      "electricity: {per_kwh: 0.3, source: b, date: 2025-03}\n");
  CostResult cost = CostOf({s}, Load(1));
  CostPart hardware = PartOf(cost, "edge_node");
  CHECK(hardware.quantity == 2);
  CHECK(hardware.unit_price == Approx(50));
  CHECK(hardware.amount == Approx(100));
  CHECK(hardware.note == "2 node(s), each bought for 1,200 USD and written off over 24 months");
  CostPart power = PartOf(cost, "electricity");
  CHECK(power.quantity == Approx(14.4));  // 2 x 10 W x 720 h
  CHECK(power.amount == Approx(4.32));
  CHECK(cost.per_month == Approx(104.32));
  CHECK(cost.sheets[0].price_date == "2025-03");
  CHECK(cost.sheets[0].source == "a; b");
}

TEST_CASE("amounts in other currencies are converted at the sheet's rate", "[cost]") {
  Result<PriceSheet> eur = ParsePriceSheet(
      "name: t\ntitle: T\ncurrency: EUR\n"
      "exchange_rates: {EUR: {usd_per_unit: 1.1, source: ecb, date: 2026-10-28}}\n"
      "instance: {per_month: 10, source: a, date: 2026-01}\n"
      "edge_node: {purchase_price: 120, lifetime_months: 12, currency: USD, source: b, "
      "date: 2026-01}\n",
      "t.yaml");
  REQUIRE(eur.ok());
  CostResult cost = CostOf({*eur}, Load(1));
  CostPart instance = PartOf(cost, "instance");
  CHECK(instance.currency == "EUR");
  CHECK(instance.amount == 10);
  CHECK(instance.amount_usd == Approx(11));
  CostPart node = PartOf(cost, "edge_node");
  CHECK(node.currency == "USD");
  CHECK(node.amount_usd == Approx(10));
  CHECK(cost.currency == "USD");
  CHECK(cost.per_month == Approx(21));
  CHECK(cost.sheets[0].usd_per_unit == 1.1);
  CHECK(cost.notes.back() == "EUR -> USD at 1.1 (2026-10-28: ecb)");
}

TEST_CASE("the basis under rate: max, with gateways, and over several sheets", "[cost]") {
  RunResult run = ExampleRun();
  run.info.rate_per_device = 0;  // rate: max
  run.info.gateways = 4;
  run.sent_per_s = 12'345.6;
  PriceSheet s = Sheet(
      "messages: {per_million: 1, up_to_million: 1000, source: a, date: 2026-01}\n"
      "connection_minutes: {per_million: 1, source: a, date: 2026-01}\n");
  CostResult cost = ComputeCost({s, s}, run);
  CHECK(cost.basis.messages_per_s == 12'345.6);
  CHECK(cost.basis.connections == 5);
  CHECK(cost.notes[0] ==
        "messages: the scenario has no fixed rate (rate: max, or a result without its planned "
        "load): the measured 12345.6 msg/s sent is used");
  CHECK(cost.notes[1] == "connections: 4 gateway connection(s) + 1 for edgebench's subscriber");
  CHECK(cost.parts.size() == 4);
  CHECK(cost.sheets.size() == 2);
  double messages = 12'345.6 * kSecondsPerMonth / 1e6;
  CHECK(cost.per_month == Approx(2 * (messages + 5 * 0.0432)));
  CHECK(cost.per_million_messages == Approx(cost.per_month / messages));
  CHECK(cost.notes[3] ==
        "t: 31999.8 million metered messages a month exceed the 1,000 million the sheet's price "
        "is stated for; all are priced at it (the provider's volume tiers above that are not in "
        "the sheet)");
}

}  // namespace edgebench

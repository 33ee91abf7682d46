// Tests for price sheets (src/scenario/price_sheet.cc): the shipped sheets, and bad sheets
// reported with their whole message.
#include "edgebench/scenario/price_sheet.h"

#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "test_support.h"

#ifndef EDGEBENCH_SOURCE_DIR
#error "EDGEBENCH_SOURCE_DIR must name the project source directory"
#endif

namespace edgebench {
namespace {

const std::string kCostDir = std::string(EDGEBENCH_SOURCE_DIR) + "/config/costs";

// A sheet that is good, for the tests to break one key at a time.
constexpr std::string_view kHead = "name: t\ntitle: T\ncurrency: USD\n";

// The whole error text of `yaml` read as "t.yaml" (location, message, caret), or "ok".
std::string ErrorOf(std::string_view yaml) {
  Result<PriceSheet> s = ParsePriceSheet(yaml, "t.yaml");
  return s ? "ok" : s.error().ToStringWithContext();
}

PriceSheet Parse(std::string_view yaml) {
  Result<PriceSheet> s = ParsePriceSheet(yaml, "t.yaml");
  if (!s) FAIL(s.error().ToStringWithContext());
  return s.value();
}

std::string With(std::string_view rest) { return std::string(kHead) + std::string(rest); }

}  // namespace

TEST_CASE("the shipped price sheets load with their sources and dates", "[price_sheet]") {
  Result<std::vector<std::string>> names = ListPriceSheets(kCostDir);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"aws-iot-core-eu", "cloud-vm-mosquitto", "edge-node"});
  Result<std::vector<PriceSheet>> sheets = LoadPriceSheets(kCostDir, *names);
  INFO((sheets.ok() ? std::string() : sheets.error().ToStringWithContext()));
  REQUIRE(sheets.ok());
  const PriceSheet& aws = (*sheets)[0];
  CHECK(aws.currency == "USD");
  REQUIRE(aws.messages);
  CHECK(aws.messages->per_million == 1.0);
  CHECK(aws.messages->step_bytes == 5120);
  CHECK(aws.messages->deliveries);
  CHECK(aws.messages->origin.date == "2026-09-20");
  CHECK(aws.messages->origin.sources.size() == 2);
  REQUIRE(aws.connection_minutes);
  CHECK(aws.connection_minutes->per_million == 0.08);
  const PriceSheet& vm = (*sheets)[1];
  CHECK(vm.currency == "EUR");
  REQUIRE(vm.instance);
  CHECK(vm.instance->per_month == 4.11);
  CHECK_FALSE(vm.instance->per_hour);
  REQUIRE(vm.traffic_out);
  CHECK(vm.traffic_out->per_gb == 0.001);
  const PriceSheet& edge = (*sheets)[2];
  REQUIRE(edge.edge_node);
  CHECK(edge.edge_node->lifetime_months == 36);
  REQUIRE(edge.electricity);
  CHECK(edge.electricity->origin.currency == "EUR");
  CHECK(edge.electricity->origin.date == "2025-03");
  // One rate for the euro in every sheet, so that totals add up in the same dollars.
  CHECK(vm.exchange_rates.at("EUR") == edge.exchange_rates.at("EUR"));
  CHECK(edge.UsdPerUnit("EUR") == 1.1133);
  CHECK(edge.UsdPerUnit("USD") == 1);
}

TEST_CASE("a sheet's values and defaults", "[price_sheet]") {
  PriceSheet s =
      Parse(With("messages: {per_million: 2, step_bytes: 1024, free_per_month: 1000,\n"
                 "           source: [a, b], date: 2026-01}\n"
                 "instance: {per_hour: 0.5, source: c, date: 2026-02-03}\n"));
  CHECK(s.file == "t.yaml");
  CHECK(s.name == "t");
  REQUIRE(s.messages);
  CHECK(s.messages->per_million == 2);
  CHECK(s.messages->step_bytes == 1024);
  CHECK_FALSE(s.messages->deliveries);
  CHECK(s.messages->free_per_month == 1000);
  CHECK(s.messages->origin == PriceOrigin{"USD", {"a", "b"}, "2026-01"});
  REQUIRE(s.instance);
  CHECK(s.instance->per_hour == 0.5);
  CHECK(s.instance->count == 1);
  CHECK_FALSE(s.connection_minutes);
}

TEST_CASE("bad price sheets name the place and the problem", "[price_sheet]") {
  CHECK(ErrorOf(With("mesages: {per_million: 1, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:1: unknown key 'mesages' (did you mean 'messages'?)\nmesages: {per_million: "
        "1, source: a, date: 2026-01}\n^");
  CHECK(ErrorOf(With("messages: {per_milion: 1, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:12: unknown key 'per_milion' in messages (did you mean 'per_million'?)\n"
        "messages: {per_milion: 1, source: a, date: 2026-01}\n           ^");
  CHECK(ErrorOf(With("messages:\n  per_million: 1\n  date: 2026-01\n")) ==
        "t.yaml:5:3: missing required key 'source' in messages\n  per_million: 1\n  ^");
  CHECK(ErrorOf(With("messages: {per_million: -1, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:25: messages.per_million must be at least 0, got -1\n"
        "messages: {per_million: -1, source: a, date: 2026-01}\n                        ^");
  CHECK(ErrorOf(With("messages: {per_million: 1, source: a, date: 2026-13-01}\n")) ==
        "t.yaml:4:45: messages.date must be a date YYYY-MM-DD or YYYY-MM, got '2026-13-01'\n"
        "messages: {per_million: 1, source: a, date: 2026-13-01}\n"
        "                                            ^");
  CHECK(ErrorOf(With("messages: {per_million: 1, source: [a, {b: c}], date: 2026-01}\n")) ==
        "t.yaml:4:40: messages.source entries must be URLs or citations, got a map\n"
        "messages: {per_million: 1, source: [a, {b: c}], date: 2026-01}\n"
        "                                       ^");
  CHECK(ErrorOf(With("messages: {per_million: 1, step_bytes: 0, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:40: messages.step_bytes must be at least 1, got 0\n"
        "messages: {per_million: 1, step_bytes: 0, source: a, date: 2026-01}\n"
        "                                       ^");
  CHECK(ErrorOf(With("messages: {per_million: 1, acks: true, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:34: messages.acks needs messages.deliveries: true (the acks metered are "
        "those of the deliveries)\n"
        "messages: {per_million: 1, acks: true, source: a, date: 2026-01}\n"
        "                                 ^");
}

TEST_CASE("a sheet's name, title, currency and sections are checked", "[price_sheet]") {
  constexpr std::string_view kPriced =
      "edge_node: {purchase_price: 1, lifetime_months: 1, "
      "source: a, date: 2026-01}\n";
  CHECK(ErrorOf(std::string("name: other\ntitle: T\ncurrency: USD\n") + std::string(kPriced)) ==
        "t.yaml:1:7: name 'other' must be the file's name without .yaml ('t')\nname: other\n"
        "      ^");
  CHECK(ErrorOf(std::string("name: t\ncurrency: USD\n") + std::string(kPriced)) ==
        "t.yaml:1:1: missing required key 'title'\nname: t\n^");
  CHECK(ErrorOf(std::string("name: t\ntitle: T\ncurrency: euro\n") + std::string(kPriced)) ==
        "t.yaml:3:11: currency must be a currency code of three capital letters (USD, EUR), got "
        "'euro'\ncurrency: euro\n          ^");
  CHECK(ErrorOf(kHead) ==
        "t.yaml:1:1: a price sheet must price something: messages, connection_minutes, "
        "traffic_in, traffic_out, instance or edge_node\nname: t\n^");
  CHECK(ErrorOf(With("instance: {count: 2, source: a, date: 2026-01}\n")) ==
        "t.yaml:4:11: instance needs per_hour, per_month or both (per_month is then the cap)\n"
        "instance: {count: 2, source: a, date: 2026-01}\n          ^");
  CHECK(ErrorOf(With("edge_node: {purchase_price: 1, lifetime_months: 1, power_w: 5, source: a, "
                     "date: 2026-01}\n")) ==
        "t.yaml:4:12: edge_node.power_w needs electricity (the price of a kWh)\n"
        "edge_node: {purchase_price: 1, lifetime_months: 1, power_w: 5, source: a, date: "
        "2026-01}\n           ^");
  CHECK(ErrorOf("[1, 2]\n") == "t.yaml:1:1: a price sheet must be a YAML map of keys\n[1, 2]\n^");
}

TEST_CASE("every currency a sheet uses needs a dated, sourced rate", "[price_sheet]") {
  constexpr std::string_view kElectricity =
      "edge_node: {purchase_price: 1, lifetime_months: 1, power_w: 5, source: a, date: 2026-01}\n"
      "electricity: {per_kwh: 0.2, currency: EUR, source: b, date: 2026-01}\n";
  CHECK(ErrorOf(With(kElectricity)) ==
        "t.yaml:5:39: currency EUR needs a rate in exchange_rates (USD per EUR, with its source "
        "and date)\nelectricity: {per_kwh: 0.2, currency: EUR, source: b, date: 2026-01}\n"
        "                                      ^");
  PriceSheet s = Parse(With(std::string(kElectricity) +
                            "exchange_rates: {EUR: {usd_per_unit: 1.25, source: ecb, date: "
                            "2026-10-28}}\n"));
  CHECK(s.exchange_rates.at("EUR") == ExchangeRate{1.25, {"ecb"}, "2026-10-28"});
  CHECK(s.UsdPerUnit("EUR") == 1.25);
  CHECK(
      ErrorOf(With(std::string(kElectricity) +
                   "exchange_rates: {EUR: {usd_per_unit: 0, source: ecb, date: 2026-10-28}}\n")) ==
      "t.yaml:6:38: exchange_rates.EUR.usd_per_unit must be greater than 0, got 0\n"
      "exchange_rates: {EUR: {usd_per_unit: 0, source: ecb, date: 2026-10-28}}\n"
      "                                     ^");
  CHECK(
      ErrorOf(With(std::string(kElectricity) +
                   "exchange_rates: {USD: {usd_per_unit: 1, source: ecb, date: 2026-10-28}}\n")) ==
      "t.yaml:6:18: exchange_rates needs no rate for USD\n"
      "exchange_rates: {USD: {usd_per_unit: 1, source: ecb, date: 2026-10-28}}\n"
      "                 ^");
  CHECK(ErrorOf(With(std::string(kElectricity) +
                     "exchange_rates: {EUR: {usd_per_unit: 1.1, date: 2026-10-28}}\n")) ==
        "t.yaml:6:23: missing required key 'source' in exchange_rates.EUR\n"
        "exchange_rates: {EUR: {usd_per_unit: 1.1, date: 2026-10-28}}\n"
        "                      ^");
}

TEST_CASE("LoadPriceSheets names a missing sheet and the ones there are", "[price_sheet]") {
  Result<std::vector<PriceSheet>> r = LoadPriceSheets(kCostDir, {"edge-node", "aws-iot-core"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == kCostDir +
                                    ": no price sheet 'aws-iot-core' (did you mean "
                                    "'aws-iot-core-eu'?); have: aws-iot-core-eu, "
                                    "cloud-vm-mosquitto, edge-node");
  CHECK(r.error().kind == ErrorKind::kScenario);
  testing::TempDir tmp;
  Result<std::vector<std::string>> none = ListPriceSheets(tmp.File("missing"));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().ToString() ==
        tmp.File("missing") + ": cannot list directory: No such file or directory");
  Result<PriceSheet> file = LoadPriceSheet(tmp.File("x.yaml"));
  REQUIRE_FALSE(file.ok());
  CHECK(file.error().ToString() ==
        tmp.File("x.yaml") + ": cannot read file: No such file or directory");
  testing::WriteText(tmp.File("a.yaml"), "name: b\ntitle: T\ncurrency: USD\n");
  testing::WriteText(tmp.File("notes.txt"), "not a sheet");
  CHECK(*ListPriceSheets(tmp.path()) == std::vector<std::string>{"a"});
  Result<std::vector<PriceSheet>> bad = LoadPriceSheets(tmp.path(), {"a"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().ToString() ==
        tmp.File("a.yaml") + ":1:7: name 'b' must be the file's name without .yaml ('a')");
}

}  // namespace edgebench

// PriceSheet: one dated, sourced price sheet of config/costs/<name>.yaml, read and checked.
//
// Contract: LoadPriceSheet()/ParsePriceSheet() return either a fully checked sheet (every
// price in range, every priced section with its source and date, a dated exchange rate
// for every currency other than USD that the sheet uses) or an Error with
// file:line:column and the source line with a caret as context, like a scenario
// (ErrorKind::kScenario). The format is described in docs/cost.md. No price is written in
// code: every figure comes from a sheet. Plain values; nothing here touches the network.
#ifndef EDGEBENCH_SCENARIO_PRICE_SHEET_H_
#define EDGEBENCH_SCENARIO_PRICE_SHEET_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/error.h"

namespace edgebench {

// Where the prices of one section come from: in which currency, which sources (URLs or
// citations) and the date they were published or read ("2026-09-20" or "2025-03").
struct PriceOrigin {
  std::string currency;  // the section's `currency`, else the sheet's
  std::vector<std::string> sources;
  std::string date;
  friend bool operator==(const PriceOrigin&, const PriceOrigin&) = default;
};

// `exchange_rates: {EUR: {usd_per_unit: ..., source: ..., date: ...}}`.
struct ExchangeRate {
  double usd_per_unit = 0;  // US dollars for one unit of the currency
  std::vector<std::string> sources;
  std::string date;
  friend bool operator==(const ExchangeRate&, const ExchangeRate&) = default;
};

// `messages:`: a price per million metered messages.
struct MessagePrice {
  double per_million = 0;
  std::optional<double> up_to_million;  // the volume a month the price is stated for
  int64_t step_bytes = 0;     // metering step (AWS: 5120, a 6 KB message counts 2); 0: none
  bool deliveries = false;    // a PUBLISH the service sends to a subscriber is metered too
  bool acks = false;          // a PUBACK a subscriber sends back (QoS 1) is metered too
  double free_per_month = 0;  // messages
  PriceOrigin origin;
  friend bool operator==(const MessagePrice&, const MessagePrice&) = default;
};

// `connection_minutes:`: a price per million minutes of connection.
struct ConnectionPrice {
  double per_million = 0;
  double free_per_month = 0;  // minutes
  PriceOrigin origin;
  friend bool operator==(const ConnectionPrice&, const ConnectionPrice&) = default;
};

// `traffic_in:` / `traffic_out:`: a price per GB (10^9 bytes) to or from the broker.
struct TrafficPrice {
  double per_gb = 0;
  double free_per_month = 0;  // GB
  PriceOrigin origin;
  friend bool operator==(const TrafficPrice&, const TrafficPrice&) = default;
};

// `instance:`: a server billed per hour, per month, or per hour up to a monthly cap.
struct InstancePrice {
  std::optional<double> per_hour;
  std::optional<double> per_month;  // with per_hour: the cap of a month's bill
  int count = 1;
  PriceOrigin origin;
  friend bool operator==(const InstancePrice&, const InstancePrice&) = default;
};

// `edge_node:`: hardware bought once, written off over its lifetime.
struct EdgeNodePrice {
  double purchase_price = 0;
  int lifetime_months = 0;
  double power_w = 0;  // average draw; priced with `electricity`
  int count = 1;
  PriceOrigin origin;
  friend bool operator==(const EdgeNodePrice&, const EdgeNodePrice&) = default;
};

// `electricity:`: the price of a kWh for the edge node's draw.
struct ElectricityPrice {
  double per_kwh = 0;
  PriceOrigin origin;
  friend bool operator==(const ElectricityPrice&, const ElectricityPrice&) = default;
};

struct PriceSheet {
  std::string file;  // where it was read from
  std::string name;  // the file name without .yaml
  std::string title;
  std::string currency;  // ISO 4217, three capital letters
  std::string note;      // optional: what the sheet leaves out; copied into a cost's notes
  std::map<std::string, ExchangeRate> exchange_rates;  // every non-USD currency used
  std::optional<MessagePrice> messages;
  std::optional<ConnectionPrice> connection_minutes;
  std::optional<TrafficPrice> traffic_in;
  std::optional<TrafficPrice> traffic_out;
  std::optional<InstancePrice> instance;
  std::optional<EdgeNodePrice> edge_node;
  std::optional<ElectricityPrice> electricity;

  // US dollars for one unit of `currency_code`: 1 for USD, else the sheet's rate.
  // Requires: currency_code is USD or one of exchange_rates (a loaded sheet guarantees it
  // for every currency it uses).
  double UsdPerUnit(std::string_view currency_code) const;
  friend bool operator==(const PriceSheet&, const PriceSheet&) = default;
};

// Reads and checks one sheet. `name` must equal the file name without ".yaml".
// Errors: "config/costs/x.yaml: cannot read file: No such file or directory", YAML syntax,
// unknown keys (with "did you mean"), missing or out-of-range prices, a price without its
// source or date, a currency without an exchange rate.
Result<PriceSheet> LoadPriceSheet(const std::string& path);
// The same from text; `file_name` is used in error locations and for the name check.
Result<PriceSheet> ParsePriceSheet(std::string_view yaml_text, const std::string& file_name);

// The sheet names in `cost_dir` (every *.yaml, without .yaml), sorted.
// Error: "config/costs: cannot list directory: No such file or directory".
Result<std::vector<std::string>> ListPriceSheets(const std::string& cost_dir);

// The named sheets of `cost_dir`, in the order named, for a scenario's `cost:`. Error for a
// name that is not there: "config/costs: no price sheet 'aws-iot-core' (did you mean
// 'aws-iot-core-eu'?); have: aws-iot-core-eu, cloud-vm-mosquitto, edge-node".
Result<std::vector<PriceSheet>> LoadPriceSheets(const std::string& cost_dir,
                                                const std::vector<std::string>& names);

}  // namespace edgebench

#endif  // EDGEBENCH_SCENARIO_PRICE_SHEET_H_

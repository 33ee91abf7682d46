// summary.json's "cost" object (docs/cost.md), both ways.
#include <string>
#include <utility>

#include "results/internal.h"

namespace edgebench::results_internal {

using nlohmann::json;

namespace {

json BasisJson(const CostBasis& b) {
  return {{"seconds_per_month", b.seconds_per_month},
          {"messages_per_s", b.messages_per_s},
          {"messages_per_month", b.messages_per_month},
          {"connections", b.connections},
          {"bytes_to_broker_per_message", b.bytes_to_broker_per_message},
          {"bytes_from_broker_per_message", b.bytes_from_broker_per_message},
          {"wire_bytes_measured", b.wire_bytes_measured}};
}

CostBasis BasisOf(const json& j) {
  CostBasis b;
  b.seconds_per_month = j.at("seconds_per_month").get<double>();
  b.messages_per_s = j.at("messages_per_s").get<double>();
  b.messages_per_month = j.at("messages_per_month").get<double>();
  b.connections = j.at("connections").get<double>();
  b.bytes_to_broker_per_message = j.at("bytes_to_broker_per_message").get<double>();
  b.bytes_from_broker_per_message = j.at("bytes_from_broker_per_message").get<double>();
  b.wire_bytes_measured = j.at("wire_bytes_measured").get<bool>();
  return b;
}

json SheetJson(const CostSheetRef& s) {
  return {{"name", s.name},     {"title", s.title},           {"currency", s.currency},
          {"source", s.source}, {"price_date", s.price_date}, {"usd_per_unit", s.usd_per_unit}};
}

CostSheetRef SheetOf(const json& j) {
  CostSheetRef s;
  s.name = j.at("name").get<std::string>();
  s.title = j.at("title").get<std::string>();
  s.currency = j.at("currency").get<std::string>();
  s.source = j.at("source").get<std::string>();
  s.price_date = j.at("price_date").get<std::string>();
  s.usd_per_unit = j.at("usd_per_unit").get<double>();
  return s;
}

json PartJson(const CostPart& p) {
  return {{"sheet", p.sheet},
          {"item", p.item},
          {"quantity", p.quantity},
          {"unit", p.unit},
          {"unit_price", p.unit_price},
          {"currency", p.currency},
          {"amount", p.amount},
          {"amount_usd", p.amount_usd},
          {"note", p.note}};
}

CostPart PartOf(const json& j) {
  CostPart p;
  p.sheet = j.at("sheet").get<std::string>();
  p.item = j.at("item").get<std::string>();
  p.quantity = j.at("quantity").get<double>();
  p.unit = j.at("unit").get<std::string>();
  p.unit_price = j.at("unit_price").get<double>();
  p.currency = j.at("currency").get<std::string>();
  p.amount = j.at("amount").get<double>();
  p.amount_usd = j.at("amount_usd").get<double>();
  p.note = j.at("note").get<std::string>();
  return p;
}

}  // namespace

json CostToJson(const CostResult& c) {
  json sheets = json::array();
  for (const CostSheetRef& s : c.sheets) sheets.push_back(SheetJson(s));
  json parts = json::array();
  for (const CostPart& p : c.parts) parts.push_back(PartJson(p));
  return {{"currency", c.currency},
          {"per_month", c.per_month},
          {"per_million_messages", c.per_million_messages},
          {"basis", BasisJson(c.basis)},
          {"sheets", std::move(sheets)},
          {"parts", std::move(parts)},
          {"notes", c.notes}};
}

CostResult CostFromJson(const json& j) {
  CostResult c;
  c.currency = j.at("currency").get<std::string>();
  c.per_month = j.at("per_month").get<double>();
  c.per_million_messages = j.at("per_million_messages").get<double>();
  c.basis = BasisOf(j.at("basis"));
  for (const json& s : j.at("sheets")) c.sheets.push_back(SheetOf(s));
  for (const json& p : j.at("parts")) c.parts.push_back(PartOf(p));
  c.notes = j.at("notes").get<std::vector<std::string>>();
  return c;
}

}  // namespace edgebench::results_internal

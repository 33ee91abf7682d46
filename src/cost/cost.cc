// Cost per month and per million messages: a run's load scaled to a month and priced by
// price sheets (contract in cost.h, method in docs/cost.md).
#include "edgebench/cost/cost.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "edgebench/results/counters.h"

namespace edgebench {
namespace {

constexpr double kHoursPerMonth = kSecondsPerMonth / 3600;  // 720
constexpr double kMinutesPerMonth = kSecondsPerMonth / 60;  // 43,200
constexpr double kBytesPerGb = 1e9;
constexpr double kMillion = 1e6;
// IPv4 (20 B) and TCP with the timestamp option (32 B): what a packet adds to its MQTT bytes.
constexpr double kIpTcpHeaderBytes = 52;

// "259,200,000" for whole numbers, else up to `decimals` decimals without trailing zeros.
std::string Num(double value, int decimals = 4) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::string digits = fmt::format("{:.0f}", std::fabs(value));
    for (size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
    return (value < 0 ? "-" : "") + digits;
  }
  std::string text = fmt::format("{:.{}f}", value, decimals);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// The size of one MQTT 3.1.1 PUBLISH without its topic: fixed header (1 byte and a
// remaining length of 1 to 4 bytes), the topic's length field, the packet id for QoS > 0.
double PublishBytesWithoutTopic(int payload_bytes, int qos) {
  int remaining = 2 + (qos > 0 ? 2 : 0) + payload_bytes;
  int length_bytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4;
  return 1 + length_bytes + remaining;
}

void WireBytesOf(const RunResult& run, CostLoad* load) {
  CostBasis& b = load->basis;
  uint64_t sent = run.counters[Counter::kSent];
  const CaptureResult& c = run.capture;
  if (c.status == "ok" && sent > 0) {
    b.bytes_to_broker_per_message =
        static_cast<double>(c.to_broker.ip_bytes) / static_cast<double>(sent);
    b.bytes_from_broker_per_message =
        static_cast<double>(c.from_broker.ip_bytes) / static_cast<double>(sent);
    b.wire_bytes_measured = true;
    load->notes.push_back(
        "wire bytes: measured by the capture: " + Num(b.bytes_to_broker_per_message, 1) +
        " B to and " + Num(b.bytes_from_broker_per_message, 1) +
        " B from the broker per message sent (the whole run's IP bytes, connection set-up and "
        "edgebench's subscriber included)");
    return;
  }
  double estimate =
      kIpTcpHeaderBytes + PublishBytesWithoutTopic(run.info.payload_bytes, run.info.qos);
  b.bytes_to_broker_per_message = estimate;
  b.bytes_from_broker_per_message = estimate;
  b.wire_bytes_measured = false;
  std::string why = c.status == "ok" ? "no message was sent" : "capture " + c.status;
  load->notes.push_back("wire bytes: not measured (" + why +
                        "): estimated as one MQTT PUBLISH of " + Num(run.info.payload_bytes) +
                        " B payload each way in its own packet, " + Num(estimate) +
                        " B with IPv4/TCP headers; the topic's bytes, acknowledgements and "
                        "keep-alives are not counted");
}

// Takes what is left of a free allowance off `quantity`; returns what is billed.
double Billable(double quantity, double* free_left) {
  double used = std::min(quantity, *free_left);
  *free_left -= used;
  return quantity - used;
}

// One part in the price's currency and in US dollars.
CostPart Part(const PriceSheet& sheet, const PriceOrigin& origin, std::string item, double quantity,
              std::string unit, double unit_price) {
  CostPart p;
  p.sheet = sheet.name;
  p.item = std::move(item);
  p.quantity = quantity;
  p.unit = std::move(unit);
  p.unit_price = unit_price;
  p.currency = origin.currency;
  p.amount = quantity * unit_price;
  return p;
}

void SetAmount(const PriceSheet& sheet, double amount, CostPart* p) {
  p->amount = amount;
  p->amount_usd = amount * sheet.UsdPerUnit(p->currency);
}

std::string FreeNote(double billable, double quantity, double free_per_month,
                     const std::string& what) {
  if (billable == quantity) return "";
  return "; " + Num(quantity - billable) + " " + what + " of the " + Num(free_per_month) +
         " free a month";
}

// messages (published), deliveries (to the subscribers) and acks (their PUBACKs).
void MessageParts(const PriceSheet& sheet, const CostLoad& load, std::vector<CostPart>* parts,
                  std::vector<std::string>* notes) {
  const MessagePrice& m = *sheet.messages;
  const CostBasis& b = load.basis;
  double steps = 1;
  std::string metering = "metered per message";
  if (m.step_bytes > 0) {
    steps = std::max(1.0, std::ceil(static_cast<double>(load.payload_bytes) /
                                    static_cast<double>(m.step_bytes)));
    metering = Num(static_cast<double>(m.step_bytes)) + " B metering steps: " + Num(steps) +
               " per message of " + Num(load.payload_bytes) +
               " B payload (the provider meters the topic's bytes too; the result does not "
               "know them)";
  }
  double published = b.messages_per_month;
  double deliveries = m.deliveries ? published * load.subscribers : 0;
  double acks = m.acks && load.qos >= 1 ? deliveries : 0;
  struct Line {
    const char* item;
    double count;
    std::string note;
  };
  const Line lines[] = {
      {"messages", published * steps,
       Num(published) + " published a month (" + Num(b.messages_per_s, 2) + " msg/s x " +
           Num(b.seconds_per_month) + " s); " + metering},
      {"deliveries", deliveries * steps,
       "each message delivered to " + Num(load.subscribers) +
           " subscriber(s) (edgebench's collector, the stream processor) is metered again"},
      {"acks", acks,
       "QoS " + Num(load.qos) +
           ": each delivery's PUBACK from the subscriber is metered as "
           "one message (MQTT 3.1.1)"}};
  double free_left = m.free_per_month;
  double total = 0;
  for (const Line& line : lines) {
    if (line.count <= 0 && std::string_view(line.item) != "messages") continue;
    double billable = Billable(line.count, &free_left);
    CostPart p =
        Part(sheet, m.origin, line.item, line.count / kMillion, "million messages", m.per_million);
    SetAmount(sheet, billable / kMillion * m.per_million, &p);
    p.note = line.note + FreeNote(billable, line.count, m.free_per_month, "messages");
    parts->push_back(std::move(p));
    total += line.count;
  }
  if (m.up_to_million && total / kMillion > *m.up_to_million) {
    notes->push_back(sheet.name + ": " + Num(total / kMillion, 1) +
                     " million metered messages a month exceed the " + Num(*m.up_to_million) +
                     " million the sheet's price is stated for; all are priced at it (the "
                     "provider's volume tiers above that are not in the sheet)");
  }
}

CostPart ConnectionPart(const PriceSheet& sheet, const CostLoad& load) {
  const ConnectionPrice& c = *sheet.connection_minutes;
  double minutes = load.basis.connections * kMinutesPerMonth;
  double free_left = c.free_per_month;
  double billable = Billable(minutes, &free_left);
  CostPart p = Part(sheet, c.origin, "connection_minutes", minutes / kMillion,
                    "million connection-minutes", c.per_million);
  SetAmount(sheet, billable / kMillion * c.per_million, &p);
  p.note = Num(load.basis.connections) + " connections x " + Num(kMinutesPerMonth) + " minutes" +
           FreeNote(billable, minutes, c.free_per_month, "minutes");
  return p;
}

CostPart TrafficPart(const PriceSheet& sheet, const TrafficPrice& t, const CostLoad& load,
                     bool out) {
  const CostBasis& b = load.basis;
  double per_message = out ? b.bytes_from_broker_per_message : b.bytes_to_broker_per_message;
  double gb = per_message * b.messages_per_month / kBytesPerGb;
  double free_left = t.free_per_month;
  double billable = Billable(gb, &free_left);
  CostPart p = Part(sheet, t.origin, out ? "traffic_out" : "traffic_in", gb, "GB", t.per_gb);
  SetAmount(sheet, billable * t.per_gb, &p);
  p.note = Num(per_message, 1) + " B per message (" +
           (b.wire_bytes_measured ? "measured" : "estimated") + ") x " + Num(b.messages_per_month) +
           " messages" +
           (out ? ", every byte the broker sent (its subscriber's too, as if the stream "
                  "processor were outside the provider's network)"
                : "") +
           FreeNote(billable, gb, t.free_per_month, "GB");
  return p;
}

CostPart InstancePart(const PriceSheet& sheet) {
  const InstancePrice& i = *sheet.instance;
  double count = i.count;
  if (i.per_hour && (!i.per_month || *i.per_hour * kHoursPerMonth <= *i.per_month)) {
    CostPart p =
        Part(sheet, i.origin, "instance", count * kHoursPerMonth, "instance-hour", *i.per_hour);
    SetAmount(sheet, p.amount, &p);
    p.note = Num(count) + " instance(s) x " + Num(kHoursPerMonth) + " h" +
             (i.per_month ? " (below the monthly cap of " + Num(*i.per_month) + ")" : "");
    return p;
  }
  CostPart p = Part(sheet, i.origin, "instance", count, "instance-month", *i.per_month);
  SetAmount(sheet, p.amount, &p);
  p.note = Num(count) + " instance(s) for the month";
  if (i.per_hour) {
    p.note += ", billed hourly up to the monthly cap (" + Num(*i.per_hour) + " x " +
              Num(kHoursPerMonth) + " h = " + Num(*i.per_hour * kHoursPerMonth) + " is more)";
  }
  return p;
}

void EdgeNodeParts(const PriceSheet& sheet, std::vector<CostPart>* parts) {
  const EdgeNodePrice& n = *sheet.edge_node;
  double count = n.count;
  CostPart hardware =
      Part(sheet, n.origin, "edge_node", count, "node-month", n.purchase_price / n.lifetime_months);
  SetAmount(sheet, hardware.amount, &hardware);
  hardware.note = Num(count) + " node(s), each bought for " + Num(n.purchase_price) + " " +
                  n.origin.currency + " and written off over " + Num(n.lifetime_months) + " months";
  parts->push_back(std::move(hardware));
  if (!sheet.electricity || n.power_w <= 0) return;
  const ElectricityPrice& e = *sheet.electricity;
  double kwh = count * n.power_w * kHoursPerMonth / 1000;
  CostPart energy = Part(sheet, e.origin, "electricity", kwh, "kWh", e.per_kwh);
  SetAmount(sheet, energy.amount, &energy);
  energy.note = Num(count) + " node(s) x " + Num(n.power_w) + " W x " + Num(kHoursPerMonth) + " h";
  parts->push_back(std::move(energy));
}

std::vector<const PriceOrigin*> OriginsOf(const PriceSheet& s) {
  std::vector<const PriceOrigin*> out;
  if (s.messages) out.push_back(&s.messages->origin);
  if (s.connection_minutes) out.push_back(&s.connection_minutes->origin);
  if (s.traffic_in) out.push_back(&s.traffic_in->origin);
  if (s.traffic_out) out.push_back(&s.traffic_out->origin);
  if (s.instance) out.push_back(&s.instance->origin);
  if (s.edge_node) out.push_back(&s.edge_node->origin);
  if (s.electricity) out.push_back(&s.electricity->origin);
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += "; ";
    out += item;
  }
  return out;
}

// "EUR -> USD at 1.1133 (2026-10-28: ECB euro reference rate)" once per currency used.
void RateNotes(const PriceSheet& sheet, const std::vector<CostPart>& parts,
               std::vector<std::string>* notes) {
  for (const auto& entry : sheet.exchange_rates) {
    const std::string& code = entry.first;
    const ExchangeRate& rate = entry.second;
    bool used = std::any_of(parts.begin(), parts.end(),
                            [&code](const CostPart& p) { return p.currency == code; });
    if (!used) continue;
    std::string note = code + " -> USD at " + Num(rate.usd_per_unit) + " (" + rate.date + ": " +
                       Join(rate.sources) + ")";
    if (std::find(notes->begin(), notes->end(), note) == notes->end()) notes->push_back(note);
  }
}

}  // namespace

CostLoad CostLoadOf(const RunResult& run) {
  CostLoad load;
  const RunInfo& i = run.info;
  CostBasis& b = load.basis;
  b.seconds_per_month = kSecondsPerMonth;
  if (i.rate_per_device > 0) {
    b.messages_per_s = i.devices * i.rate_per_device;
    load.notes.push_back("messages: " + Num(i.devices) + " devices x " + Num(i.rate_per_device) +
                         " msg/s = " + Num(b.messages_per_s, 2) + " msg/s, the scenario's rate");
  } else {
    b.messages_per_s = run.sent_per_s;
    load.notes.push_back(
        "messages: the scenario has no fixed rate (rate: max, or a result "
        "without its planned load): the measured " +
        Num(run.sent_per_s, 2) + " msg/s sent is used");
  }
  b.messages_per_month = b.messages_per_s * b.seconds_per_month;
  int device_connections = i.gateways > 0 ? i.gateways : i.devices;
  b.connections = device_connections + 1;
  load.notes.push_back("connections: " + Num(device_connections) +
                       (i.gateways > 0 ? " gateway" : " device") +
                       " connection(s) + 1 for edgebench's subscriber");
  WireBytesOf(run, &load);
  load.payload_bytes = i.payload_bytes;
  load.qos = i.qos;
  load.subscribers = 1;
  return load;
}

std::vector<CostPart> SheetCost(const PriceSheet& sheet, const CostLoad& load,
                                std::vector<std::string>* notes) {
  std::vector<CostPart> parts;
  if (sheet.messages) MessageParts(sheet, load, &parts, notes);
  if (sheet.connection_minutes) parts.push_back(ConnectionPart(sheet, load));
  if (sheet.traffic_in) parts.push_back(TrafficPart(sheet, *sheet.traffic_in, load, false));
  if (sheet.traffic_out) parts.push_back(TrafficPart(sheet, *sheet.traffic_out, load, true));
  if (sheet.instance) parts.push_back(InstancePart(sheet));
  if (sheet.edge_node) EdgeNodeParts(sheet, &parts);
  RateNotes(sheet, parts, notes);
  return parts;
}

CostSheetRef SheetRefOf(const PriceSheet& sheet) {
  CostSheetRef ref;
  ref.name = sheet.name;
  ref.title = sheet.title;
  ref.currency = sheet.currency;
  ref.usd_per_unit = sheet.UsdPerUnit(sheet.currency);
  std::vector<std::string> sources;
  for (const PriceOrigin* o : OriginsOf(sheet)) {
    for (const std::string& s : o->sources) {
      if (std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
    }
    if (ref.price_date.empty() || o->date < ref.price_date) ref.price_date = o->date;
  }
  ref.source = Join(sources);
  return ref;
}

CostResult CostOf(const std::vector<PriceSheet>& sheets, const CostLoad& load) {
  CostResult cost;
  cost.currency = "USD";
  cost.basis = load.basis;
  cost.notes = load.notes;
  for (const PriceSheet& sheet : sheets) {
    cost.sheets.push_back(SheetRefOf(sheet));
    std::vector<CostPart> parts = SheetCost(sheet, load, &cost.notes);
    if (!sheet.note.empty()) cost.notes.push_back(sheet.name + ": " + sheet.note);
    for (CostPart& p : parts) cost.parts.push_back(std::move(p));
  }
  for (const CostPart& p : cost.parts) cost.per_month += p.amount_usd;
  double million_messages = load.basis.messages_per_month / kMillion;
  if (million_messages > 0) {
    cost.per_million_messages = cost.per_month / million_messages;
  } else {
    cost.notes.push_back("no messages a month: no cost per million messages");
  }
  return cost;
}

CostResult ComputeCost(const std::vector<PriceSheet>& sheets, const RunResult& run) {
  return CostOf(sheets, CostLoadOf(run));
}

}  // namespace edgebench

// Price sheets (config/costs/*.yaml): read and checked with the scenario reader's
// machinery, so a bad sheet is reported like a bad scenario (file:line:column, caret, "did
// you mean"). The format is in docs/cost.md.
#include "edgebench/scenario/price_sheet.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "scenario/internal.h"

namespace edgebench {
namespace {

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------------------
// Schema: the keys of each map of a sheet.

constexpr std::string_view kSheetKnown[] = {
    "name",           "title",    "currency",           "note",
    "exchange_rates", "messages", "connection_minutes", "traffic_in",
    "traffic_out",    "instance", "edge_node",          "electricity"};
constexpr std::string_view kRateKnown[] = {"usd_per_unit", "source", "date"};
constexpr std::string_view kMessagesKnown[] = {"per_million", "up_to_million", "step_bytes",
                                               "deliveries",  "acks",          "free_per_month",
                                               "currency",    "source",        "date"};
constexpr std::string_view kConnectionKnown[] = {"per_million", "free_per_month", "currency",
                                                 "source", "date"};
constexpr std::string_view kTrafficKnown[] = {"per_gb", "free_per_month", "currency", "source",
                                              "date"};
constexpr std::string_view kInstanceKnown[] = {"per_hour", "per_month", "count",
                                               "currency", "source",    "date"};
constexpr std::string_view kEdgeNodeKnown[] = {
    "purchase_price", "lifetime_months", "power_w", "count", "currency", "source", "date"};
constexpr std::string_view kElectricityKnown[] = {"per_kwh", "currency", "source", "date"};

constexpr SectionSchema kSheet{"", kSheetKnown, {}};
constexpr SectionSchema kRate{"<rate>", kRateKnown, {}};
constexpr SectionSchema kMessages{"messages", kMessagesKnown, {}};
constexpr SectionSchema kConnection{"connection_minutes", kConnectionKnown, {}};
constexpr SectionSchema kTraffic{"<traffic>", kTrafficKnown, {}};
constexpr SectionSchema kInstance{"instance", kInstanceKnown, {}};
constexpr SectionSchema kEdgeNode{"edge_node", kEdgeNodeKnown, {}};
constexpr SectionSchema kElectricity{"electricity", kElectricityKnown, {}};

// Prices and allowances: not negative, and no larger than any real price list.
constexpr NumberRange kPrice{0, false, 1e9};
constexpr NumberRange kAllowance{0, false, 1e15};

// The sheet being read: the Reader, the sheet's currency and every currency a section
// uses (with where, for the error when it has no exchange rate).
struct Context {
  Reader& r;
  std::string currency;
  std::vector<Entry> currency_uses;
};

// ---------------------------------------------------------------------------
// Values every section shares.

const Entry* Required(Reader& r, const Section& s, const Entry* owner, std::string_view key) {
  const Entry* e = s.Find(key);
  if (e == nullptr && !r.failed()) {
    std::string message = "missing required key '" + std::string(key) + "'" + InSection(s.path);
    if (owner == nullptr) {
      r.Fail(JoinPath(s.path, key), YAML::Mark(), message);
    } else {
      r.Fail(*owner, message);
    }
  }
  return e;
}

bool IsCurrencyCode(const std::string& text) {
  return text.size() == 3 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void ReadCurrencyCode(Reader& r, const Entry& e, std::string* out) {
  if (r.failed()) return;
  std::string text = ScalarText(e);
  if (!e.value.IsScalar() || !IsCurrencyCode(text)) {
    r.Fail(e, e.path + " must be a currency code of three capital letters (USD, EUR), got " +
                  Describe(e.value));
    return;
  }
  *out = text;
}

// `source: URL or citation` or `source: [one, another]`.
std::vector<std::string> ReadSources(Reader& r, const Section& s, const Entry* owner) {
  std::vector<std::string> sources;
  const Entry* e = Required(r, s, owner, "source");
  if (e == nullptr || r.failed()) return sources;
  auto usable = [](const YAML::Node& n) { return n.IsScalar() && !n.Scalar().empty(); };
  if (usable(e->value)) {
    sources.push_back(e->value.Scalar());
  } else if (e->value.IsSequence() && e->value.size() > 0) {
    for (const YAML::Node& item : e->value) {
      if (!usable(item)) {
        r.Fail(e->path, item.Mark(),
               e->path + " entries must be URLs or citations, got " + Describe(item));
        return {};
      }
      sources.push_back(item.Scalar());
    }
  } else {
    r.Fail(*e,
           e->path + " must be a URL or citation, or a list of them, got " + Describe(e->value));
  }
  return sources;
}

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "2026-09-20" or "2025-03": when the price was published or read.
bool IsDate(const std::string& text) {
  if (text.size() != 7 && text.size() != 10) return false;
  if (text[4] != '-' || !IsDigits(std::string_view(text).substr(0, 4))) return false;
  std::string_view month = std::string_view(text).substr(5, 2);
  if (!IsDigits(month) || month < "01" || month > "12") return false;
  if (text.size() == 7) return true;
  std::string_view day = std::string_view(text).substr(8, 2);
  return text[7] == '-' && IsDigits(day) && day >= "01" && day <= "31";
}

std::string ReadDate(Reader& r, const Section& s, const Entry* owner) {
  const Entry* e = Required(r, s, owner, "date");
  if (e == nullptr || r.failed()) return "";
  std::string text = ScalarText(*e);
  if (!e->value.IsScalar() || !IsDate(text)) {
    r.Fail(*e, e->path + " must be a date YYYY-MM-DD or YYYY-MM, got " + Describe(e->value));
    return "";
  }
  return text;
}

// The currency (the sheet's unless the section names its own), sources and date.
PriceOrigin ReadOrigin(Context& c, const Section& s, const Entry& owner) {
  PriceOrigin origin;
  origin.currency = c.currency;
  if (const Entry* e = s.Find("currency")) {
    ReadCurrencyCode(c.r, *e, &origin.currency);
    c.currency_uses.push_back(*e);
  }
  origin.sources = ReadSources(c.r, s, &owner);
  origin.date = ReadDate(c.r, s, &owner);
  return origin;
}

// A required number of a section.
void ReadRequiredNumber(Reader& r, const Section& s, const Entry& owner, std::string_view key,
                        NumberRange range, double* out) {
  if (Required(r, s, &owner, key) != nullptr) ReadNumber(r, s, key, range, out);
}

std::optional<double> ReadOptionalNumber(Reader& r, const Section& s, std::string_view key,
                                         NumberRange range) {
  if (s.Find(key) == nullptr) return std::nullopt;
  double value = 0;
  ReadNumber(r, s, key, range, &value);
  return value;
}

// ---------------------------------------------------------------------------
// The sections.

MessagePrice ReadMessages(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kMessages, e.path);
  MessagePrice m;
  ReadRequiredNumber(c.r, s, e, "per_million", kPrice, &m.per_million);
  m.up_to_million = ReadOptionalNumber(c.r, s, "up_to_million", {0, true, 1e9});
  if (const Entry* step = s.Find("step_bytes"); step != nullptr && !c.r.failed()) {
    m.step_bytes = IntegerValue(c.r, *step, 1, 1'000'000'000).value_or(0);
  }
  ReadBool(c.r, s, "deliveries", &m.deliveries);
  ReadBool(c.r, s, "acks", &m.acks);
  ReadNumber(c.r, s, "free_per_month", kAllowance, &m.free_per_month);
  m.origin = ReadOrigin(c, s, e);
  if (!c.r.failed() && m.acks && !m.deliveries) {
    c.r.Fail(*s.Find("acks"),
             "messages.acks needs messages.deliveries: true (the acks "
             "metered are those of the deliveries)");
  }
  return m;
}

ConnectionPrice ReadConnections(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kConnection, e.path);
  ConnectionPrice p;
  ReadRequiredNumber(c.r, s, e, "per_million", kPrice, &p.per_million);
  ReadNumber(c.r, s, "free_per_month", kAllowance, &p.free_per_month);
  p.origin = ReadOrigin(c, s, e);
  return p;
}

TrafficPrice ReadTraffic(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kTraffic, e.path);
  TrafficPrice p;
  ReadRequiredNumber(c.r, s, e, "per_gb", kPrice, &p.per_gb);
  ReadNumber(c.r, s, "free_per_month", kAllowance, &p.free_per_month);
  p.origin = ReadOrigin(c, s, e);
  return p;
}

InstancePrice ReadInstance(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kInstance, e.path);
  InstancePrice p;
  p.per_hour = ReadOptionalNumber(c.r, s, "per_hour", kPrice);
  p.per_month = ReadOptionalNumber(c.r, s, "per_month", kPrice);
  ReadInt(c.r, s, "count", 1, 1'000'000, &p.count);
  p.origin = ReadOrigin(c, s, e);
  if (!c.r.failed() && !p.per_hour && !p.per_month) {
    c.r.Fail(e, "instance needs per_hour, per_month or both (per_month is then the cap)");
  }
  return p;
}

EdgeNodePrice ReadEdgeNode(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kEdgeNode, e.path);
  EdgeNodePrice p;
  ReadRequiredNumber(c.r, s, e, "purchase_price", kPrice, &p.purchase_price);
  if (Required(c.r, s, &e, "lifetime_months") != nullptr) {
    ReadInt(c.r, s, "lifetime_months", 1, 1200, &p.lifetime_months);
  }
  ReadNumber(c.r, s, "power_w", {0, false, 1e6}, &p.power_w);
  ReadInt(c.r, s, "count", 1, 1'000'000, &p.count);
  p.origin = ReadOrigin(c, s, e);
  return p;
}

ElectricityPrice ReadElectricity(Context& c, const Entry& e) {
  Section s = OpenSectionWith(c.r, e.value, e.mark(), kElectricity, e.path);
  ElectricityPrice p;
  ReadRequiredNumber(c.r, s, e, "per_kwh", kPrice, &p.per_kwh);
  p.origin = ReadOrigin(c, s, e);
  return p;
}

// exchange_rates: {EUR: {usd_per_unit, source, date}, ...}
void ReadExchangeRates(Context& c, const Entry& e, std::map<std::string, ExchangeRate>* out) {
  if (!e.value.IsMap()) {
    c.r.Fail(e, "exchange_rates must be a map of currency codes");
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end() && !c.r.failed(); ++it) {
    Entry rate{JoinPath(e.path, it->first.Scalar()), it->first, it->second};
    std::string code;
    ReadCurrencyCode(c.r, Entry{rate.path, it->first, it->first}, &code);
    if (c.r.failed()) return;
    if (code == "USD") {
      c.r.Fail(rate.path, it->first.Mark(), "exchange_rates needs no rate for USD");
      return;
    }
    if (out->count(code)) {
      c.r.Fail(rate.path, it->first.Mark(), "duplicate exchange rate for " + code);
      return;
    }
    Section s = OpenSectionWith(c.r, rate.value, rate.mark(), kRate, rate.path);
    ExchangeRate x;
    ReadRequiredNumber(c.r, s, rate, "usd_per_unit", {0, true, 1e6}, &x.usd_per_unit);
    x.sources = ReadSources(c.r, s, &rate);
    x.date = ReadDate(c.r, s, &rate);
    (*out)[code] = x;
  }
}

// name: the file name without .yaml, so that `cost: {sheet: NAME}` finds it.
void ReadSheetName(Reader& r, const Section& top, const std::string& file, std::string* out) {
  if (Required(r, top, nullptr, "name") == nullptr) return;
  ReadString(r, top, "name", out);
  if (r.failed()) return;
  const Entry& e = *top.Find("name");
  bool allowed = !out->empty() && out->find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyz0123456789"
                                      "._-") == std::string::npos;
  std::string stem = std::filesystem::path(file).stem().string();
  if (!allowed) {
    r.Fail(e, "name must be lower-case letters, digits, '.', '_' and '-', got '" + *out + "'");
  } else if (*out != stem) {
    r.Fail(e, "name '" + *out + "' must be the file's name without .yaml ('" + stem + "')");
  }
}

// Every currency the sheet uses needs a rate to be added up in USD.
void CheckCurrencies(Context& c, const PriceSheet& sheet) {
  for (const Entry& use : c.currency_uses) {
    std::string code = ScalarText(use);
    if (c.r.failed()) return;
    if (code != "USD" && !sheet.exchange_rates.count(code)) {
      c.r.Fail(use, "currency " + code + " needs a rate in exchange_rates (USD per " + code +
                        ", with its source and date)");
    }
  }
}

void ReadSections(Context& c, const Section& top, PriceSheet* sheet) {
  if (const Entry* e = top.Find("exchange_rates")) ReadExchangeRates(c, *e, &sheet->exchange_rates);
  if (const Entry* e = top.Find("messages")) sheet->messages = ReadMessages(c, *e);
  if (const Entry* e = top.Find("connection_minutes")) {
    sheet->connection_minutes = ReadConnections(c, *e);
  }
  if (const Entry* e = top.Find("traffic_in")) sheet->traffic_in = ReadTraffic(c, *e);
  if (const Entry* e = top.Find("traffic_out")) sheet->traffic_out = ReadTraffic(c, *e);
  if (const Entry* e = top.Find("instance")) sheet->instance = ReadInstance(c, *e);
  if (const Entry* e = top.Find("edge_node")) sheet->edge_node = ReadEdgeNode(c, *e);
  if (const Entry* e = top.Find("electricity")) sheet->electricity = ReadElectricity(c, *e);
  if (c.r.failed()) return;
  bool priced = sheet->messages || sheet->connection_minutes || sheet->traffic_in ||
                sheet->traffic_out || sheet->instance || sheet->edge_node;
  if (!priced) {
    c.r.Fail("", YAML::Mark(),
             "a price sheet must price something: messages, connection_minutes, traffic_in, "
             "traffic_out, instance or edge_node");
  } else if (sheet->electricity && !sheet->edge_node) {
    c.r.Fail(*top.Find("electricity"),
             "electricity prices the draw of edge_node, which is "
             "missing");
  } else if (sheet->edge_node && sheet->edge_node->power_w > 0 && !sheet->electricity) {
    c.r.Fail(*top.Find("edge_node"), "edge_node.power_w needs electricity (the price of a kWh)");
  }
}

Result<PriceSheet> Validate(Reader& r, const YAML::Node& root, const std::string& file) {
  Section top = OpenSectionWith(r, root, root.Mark(), kSheet, "");
  PriceSheet sheet;
  sheet.file = file;
  ReadSheetName(r, top, file, &sheet.name);
  if (Required(r, top, nullptr, "title") != nullptr) ReadString(r, top, "title", &sheet.title);
  if (const Entry* e = Required(r, top, nullptr, "currency")) {
    ReadCurrencyCode(r, *e, &sheet.currency);
  }
  ReadString(r, top, "note", &sheet.note);
  if (r.failed()) return r.error();
  Context c{r, sheet.currency, {*top.Find("currency")}};
  ReadSections(c, top, &sheet);
  CheckCurrencies(c, sheet);
  if (r.failed()) return r.error();
  return sheet;
}

}  // namespace

double PriceSheet::UsdPerUnit(std::string_view currency_code) const {
  if (currency_code == "USD") return 1;
  auto it = exchange_rates.find(std::string(currency_code));
  return it == exchange_rates.end() ? 0 : it->second.usd_per_unit;
}

Result<PriceSheet> ParsePriceSheet(std::string_view yaml_text, const std::string& file_name) {
  static const std::vector<Override> kNoOverrides;
  Reader r(file_name, yaml_text, kNoOverrides);
  YAML::Node root = LoadMap(r, yaml_text, "a price sheet must be a YAML map of keys");
  if (r.failed()) return r.error();
  return Validate(r, root, file_name);
}

Result<PriceSheet> LoadPriceSheet(const std::string& path) {
  Result<std::string> text = ReadScenarioFile(path, kConfigFileLimit);
  if (!text) return text.error();
  return ParsePriceSheet(*text, path);
}

Result<std::vector<std::string>> ListPriceSheets(const std::string& cost_dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (std::filesystem::directory_iterator it(cost_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::filesystem::path& p = it->path();
    if (p.extension() == ".yaml" && it->is_regular_file(ec)) names.push_back(p.stem().string());
  }
  if (ec) {
    return ScenarioError("cannot list directory: " + ec.message(), SourceLocation{cost_dir});
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<PriceSheet>> LoadPriceSheets(const std::string& cost_dir,
                                                const std::vector<std::string>& names) {
  Result<std::vector<std::string>> have = ListPriceSheets(cost_dir);
  if (!have) return have.error();
  std::vector<PriceSheet> sheets;
  for (const std::string& name : names) {
    if (std::find(have->begin(), have->end(), name) == have->end()) {
      std::vector<std::string_view> known(have->begin(), have->end());
      std::string message = "no price sheet '" + name + "'";
      std::string suggestion = SuggestKey(name, known);
      if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
      std::string list;
      for (const std::string& n : *have) list += (list.empty() ? "" : ", ") + n;
      message += list.empty() ? "; the directory has none" : "; have: " + list;
      return ScenarioError(message, SourceLocation{cost_dir});
    }
    Result<PriceSheet> sheet =
        LoadPriceSheet((std::filesystem::path(cost_dir) / (name + ".yaml")).string());
    if (!sheet) return sheet.error();
    sheets.push_back(std::move(sheet.value()));
  }
  return sheets;
}

}  // namespace edgebench

// The keys of sets and experiments: expect:, cost:, repeat:, cooldown_s:, and matrix:
// expanded into validated cells (contract in scenario.h).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "edgebench/scenario/scenario.h"

#include "scenario/internal.h"

namespace edgebench {

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

namespace {

// What a metric needs from the rest of the scenario, or "" (the names of results/metrics.h).
std::string MetricNeeds(const std::string& metric, const Scenario& s) {
  bool latency_metric =
      metric.starts_with("latency_") || metric == "loss_ratio" || metric == "lost";
  if (latency_metric && !s.latency) return "latency: true";
  if (metric.starts_with("cost_") && s.cost.sheets.empty()) return "a cost: sheet";
  if (metric == "wire_bytes_per_message" && !s.capture.enabled) return "capture enabled";
  if (metric.starts_with("broker_") && !s.broker.embedded) {
    return "the embedded broker (an external broker's process is not sampled)";
  }
  return "";
}

void ReadBounds(Reader& r, const Entry& e, ExpectSpec* out) {
  Section bounds = OpenSectionWith(r, e.value, e.mark(), *FindSection("<bounds>"), e.path);
  constexpr NumberRange kAny{-1e300, false, 1e300};
  double value = 0;
  if (bounds.Find("min")) {
    ReadNumber(r, bounds, "min", kAny, &value);
    out->min = value;
  }
  if (bounds.Find("max")) {
    ReadNumber(r, bounds, "max", kAny, &value);
    out->max = value;
  }
  if (r.failed()) return;
  if (!out->min && !out->max) {
    r.Fail(e, e.path + " needs min:, max: or both, e.g. " + e.path + ": {max: 50}");
  } else if (out->min && out->max && *out->min > *out->max) {
    r.Fail(e, e.path + ": min is greater than max");
  }
}

void ReadExpectEntry(Reader& r, const Entry& e, const ExternalChecks& checks, const Scenario& s,
                     std::vector<ExpectSpec>* out) {
  std::string metric = e.key.Scalar();
  const std::vector<std::string>& known = checks.expect_metrics;
  if (!known.empty() && std::find(known.begin(), known.end(), metric) == known.end()) {
    std::vector<std::string_view> names(known.begin(), known.end());
    std::string message = "unknown metric '" + metric + "' in expect";
    std::string suggestion = SuggestKey(metric, names);
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    r.Fail(e.path, e.key.Mark(), message);
    return;
  }
  if (std::string needs = MetricNeeds(metric, s); !needs.empty()) {
    r.Fail(e.path, e.key.Mark(), e.path + " needs " + needs);
    return;
  }
  ExpectSpec spec{metric, std::nullopt, std::nullopt};
  ReadBounds(r, e, &spec);
  out->push_back(spec);
}

void ReadExpect(Reader& r, const Entry* entry, const ExternalChecks& checks, const Scenario& s,
                std::vector<ExpectSpec>* out) {
  if (entry == nullptr || r.failed() || entry->value.IsNull()) return;
  if (!entry->value.IsMap()) {
    r.Fail(*entry, "expect must be a map of metric: {min: ..., max: ...}");
    return;
  }
  if (entry->value.size() > kMaxExpect) {
    r.Fail(*entry, "expect must have at most " + std::to_string(kMaxExpect) + " entries, got " +
                       std::to_string(entry->value.size()));
    return;
  }
  for (auto it = entry->value.begin(); it != entry->value.end() && !r.failed(); ++it) {
    if (!it->first.IsScalar()) {
      r.Fail("expect", it->first.Mark(), "keys in expect must be metric names");
      return;
    }
    Entry e{JoinPath("expect", it->first.Scalar()), it->first, it->second};
    auto same = [&](const ExpectSpec& x) { return x.metric == it->first.Scalar(); };
    if (std::any_of(out->begin(), out->end(), same)) {
      r.Fail(e.path, e.key.Mark(), "duplicate metric '" + it->first.Scalar() + "' in expect");
      return;
    }
    ReadExpectEntry(r, e, checks, s, out);
  }
}

void CheckSheetName(Reader& r, const Entry& e, const std::string& name,
                    const ExternalChecks& checks) {
  const std::vector<std::string>& known = checks.cost_sheets;
  if (known.empty() || std::find(known.begin(), known.end(), name) != known.end()) return;
  std::string have;
  for (const std::string& k : known) have += (have.empty() ? "" : ", ") + k;
  r.Fail(e, "no price sheet '" + name + "' in " + checks.cost_dir + " (have: " + have + ")");
}

void ReadCost(Reader& r, const Entry* entry, const ExternalChecks& checks, CostSpec* out) {
  Section cost = OpenSection(r, entry, "cost");
  const Entry* sheet = cost.Find("sheet");
  const Entry* sheets = cost.Find("sheets");
  if (r.failed() || (sheet == nullptr && sheets == nullptr)) return;
  if (sheet != nullptr && sheets != nullptr) {
    r.Fail(*sheets, "cost takes sheet: or sheets:, not both");
    return;
  }
  if (sheet != nullptr) {
    std::string name;
    ReadString(r, cost, "sheet", &name);
    if (!r.failed()) CheckSheetName(r, *sheet, name, checks);
    out->sheets = {name};
    return;
  }
  if (!sheets->value.IsSequence() || sheets->value.size() == 0) {
    r.Fail(*sheets, "cost.sheets must be a list of price sheet names");
    return;
  }
  if (sheets->value.size() > kMaxCostSheets) {
    r.Fail(*sheets, "cost.sheets must name at most " + std::to_string(kMaxCostSheets) +
                        " sheets, got " + std::to_string(sheets->value.size()));
    return;
  }
  for (const YAML::Node& n : sheets->value) {
    Entry e{sheets->path, sheets->key, n};
    if (!n.IsScalar()) r.Fail(e, "cost.sheets must be a list of price sheet names");
    if (r.failed()) return;
    CheckSheetName(r, e, n.Scalar(), checks);
    if (std::find(out->sheets.begin(), out->sheets.end(), n.Scalar()) != out->sheets.end()) {
      r.Fail(e, "cost.sheets names '" + n.Scalar() + "' twice");
    }
    out->sheets.push_back(n.Scalar());
  }
}

}  // namespace

namespace scenario_internal {

void ReadSetKeys(Reader& r, const Section& top, const ExternalChecks& checks, Scenario* s) {
  ReadCost(r, top.Find("cost"), checks, &s->cost);
  ReadExpect(r, top.Find("expect"), checks, *s, &s->expect);
  ReadInt(r, top, "repeat", 1, 1000, &s->repeat);
  ReadNumber(r, top, "cooldown_s", {0, false, 3600}, &s->cooldown_s);
  ReadSearch(r, top.Find("search"), s);
}

void EmitSetKeys(YAML::Emitter& out, const Scenario& s) {
  if (!s.expect.empty()) {
    out << YAML::Key << "expect" << YAML::Value << YAML::BeginMap;
    for (const ExpectSpec& e : s.expect) {
      out << YAML::Key << e.metric << YAML::Value << YAML::Flow << YAML::BeginMap;
      if (e.min) out << YAML::Key << "min" << YAML::Value << FormatNumber(*e.min);
      if (e.max) out << YAML::Key << "max" << YAML::Value << FormatNumber(*e.max);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  if (!s.cost.sheets.empty()) {
    out << YAML::Key << "cost" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "sheets" << YAML::Value << YAML::Flow << s.cost.sheets << YAML::EndMap;
  }
  if (s.search) EmitSearch(out, *s.search);
  out << YAML::Key << "repeat" << YAML::Value << s.repeat;
  out << YAML::Key << "cooldown_s" << YAML::Value << FormatNumber(s.cooldown_s);
}

}  // namespace scenario_internal

}  // namespace edgebench

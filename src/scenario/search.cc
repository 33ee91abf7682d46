// search: the key, range, resolution and budget of a breaking-point search, and the check
// that both ends of the range give a valid scenario.
#include <cmath>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "edgebench/scenario/scenario.h"

#include "scenario/internal.h"

namespace edgebench::scenario_internal {
namespace {

constexpr std::string_view kSearchKeys[] = {"publish.rate", "devices.count",
                                            "publish.payload.size"};

void ReadSearchKey(Reader& r, const Section& s, const Entry* entry, SearchSpec* out) {
  const Entry* key = s.Find("key");
  if (key == nullptr) {
    r.Fail(*entry,
           "missing required key 'key' in search (publish.rate, devices.count or "
           "publish.payload.size)");
    return;
  }
  std::string text = ScalarText(*key);
  for (std::string_view k : kSearchKeys) {
    if (text == k) {
      out->key = text;
      return;
    }
  }
  r.Fail(*key, "search.key must be publish.rate, devices.count or publish.payload.size, got " +
                   Describe(key->value));
}

// resolution: 10% (of the bracket's lower end) or a number in the key's unit.
void ReadResolution(Reader& r, const Section& s, SearchSpec* out) {
  const Entry* e = s.Find("resolution");
  if (e == nullptr || r.failed()) return;
  std::string text = ScalarText(*e);
  out->resolution_pct = !text.empty() && text.back() == '%';
  if (out->resolution_pct) text.pop_back();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  bool number = e->value.IsScalar() && !text.empty() && end == text.c_str() + text.size() &&
                std::isfinite(value);
  if (!number || value <= 0 || (out->resolution_pct && value >= 100)) {
    r.Fail(*e,
           "search.resolution must be a percentage above 0 and below 100 (\"5%\") or a "
           "number above 0 in the key's unit, got " +
               Describe(e->value));
    return;
  }
  out->resolution = value;
}

void ReadRange(Reader& r, const Section& s, const Entry* entry, SearchSpec* out) {
  for (std::string_view k : {"from", "to"}) {
    if (s.Find(k) == nullptr && !r.failed()) {
      r.Fail(*entry, "missing required key '" + std::string(k) + "' in search");
    }
  }
  ReadNumber(r, s, "from", {0, true, 1e9}, &out->from);
  ReadNumber(r, s, "to", {0, true, 1e9}, &out->to);
  if (r.failed()) return;
  for (std::string_view k : {"from", "to"}) {
    const Entry* e = s.Find(k);
    double v = k == "from" ? out->from : out->to;
    if (out->integer() && v != std::floor(v)) {
      r.Fail(*e, e->path + " must be a whole number for " + out->key + ", got " + ScalarText(*e));
      return;
    }
  }
  if (out->to <= out->from) {
    r.Fail(*s.Find("to"), "search.to must be greater than search.from (" + FormatNumber(out->from) +
                              "), got " + FormatNumber(out->to));
  }
}

}  // namespace

void ReadSearch(Reader& r, const Entry* entry, Scenario* s) {
  if (entry == nullptr || r.failed() || entry->value.IsNull()) return;
  Section section = OpenSection(r, entry, "search");
  if (r.failed()) return;
  SearchSpec spec;
  ReadSearchKey(r, section, entry, &spec);
  if (r.failed()) return;
  ReadRange(r, section, entry, &spec);
  ReadResolution(r, section, &spec);
  ReadInt(r, section, "max_runs", 1, 10000, &spec.max_runs);
  ReadInt(r, section, "max_mixed", 1, 1000, &spec.max_mixed);
  if (!r.failed() && spec.max_runs < s->repeat) {
    const Entry* max_runs = section.Find("max_runs");
    r.Fail(max_runs ? *max_runs : *entry, "search.max_runs must be at least repeat (" +
                                              std::to_string(s->repeat) + "): one step runs " +
                                              "every repeat");
  }
  if (!r.failed() && s->expect.empty()) {
    r.Fail(*entry,
           "search needs expect: thresholds: they define the load that holds, e.g. "
           "expect: {latency_p99_ms: {max: 50}, loss_ratio: {max: 0}}");
  }
  if (!r.failed()) s->search = spec;
}

void EmitSearch(YAML::Emitter& out, const SearchSpec& search) {
  out << YAML::Key << "search" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "key" << YAML::Value << search.key;
  out << YAML::Key << "from" << YAML::Value << FormatNumber(search.from);
  out << YAML::Key << "to" << YAML::Value << FormatNumber(search.to);
  out << YAML::Key << "resolution" << YAML::Value
      << (FormatNumber(search.resolution) + (search.resolution_pct ? "%" : ""));
  out << YAML::Key << "max_runs" << YAML::Value << search.max_runs;
  out << YAML::Key << "max_mixed" << YAML::Value << search.max_mixed;
  out << YAML::EndMap;
}

void CheckSearchRange(Reader& r, const YAML::Node& root, const std::string& file,
                      const ExternalChecks& checks, const SearchSpec& search) {
  for (std::string_view end : {"from", "to"}) {
    if (r.failed()) return;
    YAML::Node copy = YAML::Clone(root);
    double v = end == "from" ? search.from : search.to;
    PutValue(copy, SplitPath(search.key), YAML::Node(FormatNumber(v)));
    copy.remove("search");
    // What only a run reads (a password variable, a CA file) was judged with the cell
    // itself, as an error or, under validate, a warning: not again here.
    std::vector<Override> none;
    std::vector<Error> ignored;
    Reader at_end(file, "", none, &ignored);
    ExternalChecks quiet = checks;
    quiet.run_time_warnings = &ignored;
    Result<Scenario> s = Validate(at_end, copy, file, quiet);
    if (s.ok()) continue;
    YAML::Node node = root["search"][std::string(end)];
    const std::string& message = s.error().message;
    r.Fail("search." + std::string(end), node.Mark(),
           "search." + std::string(end) + " " + FormatNumber(v) +
               " gives a scenario that is "
               "not valid: " +
               message);
  }
}

}  // namespace edgebench::scenario_internal

namespace edgebench {

Scenario WithSearchValue(const Scenario& scenario, double value) {
  Scenario s = scenario;
  const std::string key = s.search->key;
  s.search.reset();
  if (key == "publish.rate") {
    s.publish.rate = value;
    s.publish.rate_max = false;
  } else if (key == "devices.count") {
    s.devices.count = static_cast<int>(std::llround(value));
  } else if (key == "publish.payload.size") {
    s.publish.payload.size = static_cast<int>(std::llround(value));
  }
  return s;
}

}  // namespace edgebench

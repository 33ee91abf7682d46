// The scenario reader's machinery: schema lookup, key suggestions, the Reader's error
// locations, sections and checked scalar values (contract in internal.h).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <system_error>

#include "edgebench/base/edit_distance.h"

#include "scenario/internal.h"

namespace edgebench::scenario_internal {

// ---------------------------------------------------------------------------
// Schema: which keys each map accepts, and which are reserved for later work.

constexpr std::string_view kTopKnown[] = {
    "name",       "description", "broker",  "devices",   "topics", "publish",
    "duration_s", "warmup_s",    "drain_s", "latency",   "sample", "seed",
    "capture",    "workers",     "network", "subscribe", "expect", "cost",
    "repeat",     "cooldown_s",  "matrix",  "search"};
constexpr std::string_view kTopReserved[] = {"agent", "shard"};
constexpr std::string_view kCostKnown[] = {"sheet", "sheets"};
constexpr std::string_view kBoundsKnown[] = {"min", "max"};
constexpr std::string_view kBrokerKnown[] = {"embedded",
                                             "host",
                                             "port",
                                             "protocol",
                                             "keepalive_s",
                                             "clean_session",
                                             "connect_timeout_s",
                                             "tls",
                                             "username",
                                             "password",
                                             "password_env",
                                             "password_file",
                                             "session_expiry_s",
                                             "user_properties",
                                             "resources"};
constexpr std::string_view kResourcesKnown[] = {"node", "cpus", "memory_mb", "required"};
// A node profile in config/nodes.yaml.
constexpr std::string_view kNodeKnown[] = {"description", "cpus", "memory_mb"};
constexpr std::string_view kSearchKnown[] = {"key",        "from",     "to",
                                             "resolution", "max_runs", "max_mixed"};
constexpr std::string_view kTlsKnown[] = {"ca_file", "cert_file", "key_file", "insecure"};
constexpr std::string_view kDevicesKnown[] = {"count", "gateways", "connect_rate"};
constexpr std::string_view kTopicsKnown[] = {"pattern", "count"};
constexpr std::string_view kPublishKnown[] = {"rate",    "qos",          "retain", "payload",
                                              "arrival", "max_inflight", "count"};
constexpr std::string_view kPayloadKnown[] = {"size", "kind"};
constexpr std::string_view kSampleKnown[] = {"interval_ms"};
constexpr std::string_view kNetworkKnown[] = {
    "profile", "backend", "rtt_ms", "jitter_ms", "loss_pct", "uplink_mbit", "downlink_mbit"};
// A profile in config/profiles.yaml: the link values and a description.
constexpr std::string_view kProfileKnown[] = {"description", "rtt_ms",      "jitter_ms",
                                              "loss_pct",    "uplink_mbit", "downlink_mbit"};
constexpr std::string_view kSubscribeKnown[] = {"at"};
constexpr std::string_view kCaptureKnown[] = {"enabled", "required", "interface",
                                              "filter",  "snaplen",  "buffer_mb"};

constexpr SectionSchema kSections[] = {
    {"", kTopKnown, kTopReserved},
    {"broker", kBrokerKnown, {}},
    {"broker.tls", kTlsKnown, {}},
    {"devices", kDevicesKnown, {}},
    {"topics", kTopicsKnown, {}},  // the map form of topics
    {"publish", kPublishKnown, {}},
    {"publish.payload", kPayloadKnown, {}},
    {"sample", kSampleKnown, {}},
    {"capture", kCaptureKnown, {}},
    {"network", kNetworkKnown, {}},
    {"subscribe", kSubscribeKnown, {}},
    {"<profile>", kProfileKnown, {}},  // one entry of a profiles file
    {"broker.resources", kResourcesKnown, {}},
    {"<node>", kNodeKnown, {}},
    {"search", kSearchKnown, {}},
    {"cost", kCostKnown, {}},
    {"<bounds>", kBoundsKnown, {}},  // one expect: entry
};

const SectionSchema* FindSection(std::string_view path) {
  for (const SectionSchema& s : kSections) {
    if (s.path == path) return &s;
  }
  return nullptr;
}

std::string JoinPath(std::string_view section, std::string_view key) {
  if (section.empty()) return std::string(key);
  return std::string(section) + "." + std::string(key);
}

// "In publish" for messages; nothing at the top level.
std::string InSection(std::string_view section) {
  return section.empty() ? std::string() : " in " + std::string(section);
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// The known key a typo most likely meant, or "". Short keys get only one edit, since two
// edits turn any three-letter word into another ("foo" -> "qos"). A key that starts a
// known one ("interval" for "interval_ms") also counts, after every closer match.
std::string SuggestKey(std::string_view key, std::span<const std::string_view> known) {
  std::string lower = Lower(key);
  size_t max_distance = lower.size() <= 4 ? 1 : 2;
  std::string best;
  size_t best_distance = max_distance + 2;
  for (std::string_view candidate : known) {
    size_t distance = EditDistance(lower, candidate);
    if (distance > max_distance) {
      bool prefix = lower.size() >= 3 && candidate.starts_with(lower);
      distance = prefix ? max_distance + 1 : best_distance;
    }
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

// Why `key` is not acceptable in `section`, or nullopt when it is a known key.
std::optional<std::string> CheckKey(const SectionSchema& section, std::string_view key,
                                    std::string_view shown) {
  auto contains = [key](std::span<const std::string_view> keys) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (contains(section.known)) return std::nullopt;
  if (contains(section.reserved)) {
    return "key '" + JoinPath(shown, key) + "' is not supported yet";
  }
  std::string message = "unknown key '" + std::string(key) + "'" + InSection(shown);
  std::string suggestion = SuggestKey(key, section.known);
  if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
  return message;
}

// ---------------------------------------------------------------------------
// Reader: the first error, where it is, and which --set put the offending value there.

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool Covers(std::string_view prefix, std::string_view path) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '.');
}

Error ScenarioError(std::string message, std::optional<SourceLocation> where, std::string context) {
  Error e{std::move(message), std::move(where), std::move(context)};
  e.kind = ErrorKind::kScenario;
  return e;
}

Error OverrideError(const Override& o, std::string message) {
  return ScenarioError(std::move(message), SourceLocation{"--set " + o.path + "=" + o.value});
}

// "'high'", "a list", "a map" or "nothing": how a wrong value is shown after "got".
std::string Describe(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

// ---------------------------------------------------------------------------
// Sections: the checked entries of one map.

namespace {

void AddEntry(Reader& r, const SectionSchema& schema, const YAML::Node& key,
              const YAML::Node& value, Section* section) {
  if (!key.IsScalar()) {
    r.Fail(section->path, key.Mark(),
           "keys" + InSection(section->path) + " must be names, got " + Describe(key));
    return;
  }
  const std::string& name = key.Scalar();
  Entry entry{JoinPath(section->path, name), key, value};
  if (std::optional<std::string> problem = CheckKey(schema, name, section->path)) {
    r.Fail(entry.path, key.Mark(), *problem);
    return;
  }
  if (const Entry* first = section->Find(name)) {
    std::string message = "duplicate key '" + name + "'" + InSection(section->path);
    if (!first->key.Mark().is_null()) {
      message += " (first at line " + std::to_string(first->key.Mark().line + 1) + ")";
    }
    r.Fail(entry.path, key.Mark(), message);
    return;
  }
  section->entries.push_back(std::move(entry));
}

}  // namespace

// Checks every key of `node` against the schema of `path`. A missing or empty
// section ("broker:" with nothing below) means all defaults.
// `path` names the schema; `shown` (default: the same) is the path used in messages.
Section OpenSection(Reader& r, const YAML::Node& node, YAML::Mark mark, std::string_view path,
                    std::string_view shown) {
  return OpenSectionWith(r, node, mark, *FindSection(path), shown.empty() ? path : shown);
}

Section OpenSectionWith(Reader& r, const YAML::Node& node, YAML::Mark mark,
                        const SectionSchema& schema, std::string_view shown) {
  Section section{std::string(shown), {}};
  if (!node.IsDefined() || node.IsNull()) return section;
  if (!node.IsMap()) {
    r.Fail(shown, mark, std::string(shown) + " must be a map");
    return section;
  }
  for (auto it = node.begin(); it != node.end() && !r.failed(); ++it) {
    AddEntry(r, schema, it->first, it->second, &section);
  }
  return section;
}

Section OpenSection(Reader& r, const Entry* entry, std::string_view path) {
  if (entry == nullptr) return Section{std::string(path), {}};
  return OpenSection(r, entry->value, entry->mark(), path);
}

// ---------------------------------------------------------------------------
// Scalar values. A value is judged by its text, not by YAML's guess at its type, so
// `qos: "1"` is as good as `qos: 1`, while `qos: 1.0` is not an integer.

namespace {

bool LooksLikeInteger(std::string_view text) {
  if (text.starts_with('+') || text.starts_with('-')) text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool LooksLikeNumber(std::string_view text) {
  bool has_digit =
      std::any_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  return has_digit && text.find_first_not_of("0123456789.eE+-") == std::string_view::npos;
}

// std::from_chars over the whole text, which also takes a leading '+'.
template <class T>
std::errc ParseDecimal(std::string_view text, T* out) {
  if (text.starts_with('+')) {
    text.remove_prefix(1);
    if (text.starts_with('-')) return std::errc::invalid_argument;  // "+-5"
  }
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, *out);
  if (ec == std::errc() && stop != end) return std::errc::invalid_argument;
  return ec;
}

}  // namespace

// Shortest text that reads back as the same double, without an exponent.
std::string FormatNumber(double value) {
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buf, end);
}

std::string ScalarText(const Entry& e) { return e.value.IsScalar() ? e.value.Scalar() : ""; }

// The integer at `e`, or nullopt after reporting a type or range error.
std::optional<int64_t> IntegerValue(Reader& r, const Entry& e, int64_t min, int64_t max) {
  std::string text = ScalarText(e);
  if (!e.value.IsScalar() || !LooksLikeInteger(text)) {
    r.Fail(e, e.path + " must be an integer, got " + Describe(e.value));
    return std::nullopt;
  }
  int64_t value = 0;
  if (ParseDecimal(text, &value) == std::errc::result_out_of_range) {
    value = text.starts_with('-') ? std::numeric_limits<int64_t>::min()
                                  : std::numeric_limits<int64_t>::max();
  }
  if (value < min) {
    r.Fail(e, e.path + " must be at least " + std::to_string(min) + ", got " + text);
    return std::nullopt;
  }
  if (value > max) {
    r.Fail(e, e.path + " must be at most " + std::to_string(max) + ", got " + text);
    return std::nullopt;
  }
  return value;
}

void ReadInt(Reader& r, const Section& s, std::string_view key, int min, int max, int* out) {
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed()) return;
  if (std::optional<int64_t> value = IntegerValue(r, *e, min, max)) {
    *out = static_cast<int>(*value);
  }
}

void ReadNumber(Reader& r, const Section& s, std::string_view key, NumberRange range, double* out) {
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed()) return;
  std::string text = ScalarText(*e);
  double value = 0;
  if (!e->value.IsScalar() || !LooksLikeNumber(text) || ParseDecimal(text, &value) != std::errc()) {
    r.Fail(*e, e->path + " must be a number, got " + Describe(e->value));
  } else if (range.min_exclusive && value <= range.min) {
    r.Fail(*e, e->path + " must be greater than " + FormatNumber(range.min) + ", got " + text);
  } else if (!range.min_exclusive && value < range.min) {
    r.Fail(*e, e->path + " must be at least " + FormatNumber(range.min) + ", got " + text);
  } else if (value > range.max) {
    r.Fail(*e, e->path + " must be at most " + FormatNumber(range.max) + ", got " + text);
  } else {
    *out = value;
  }
}

// Only the YAML 1.2 spellings: "yes", "no", "on" and "off" are too easy to misread.
void ReadBool(Reader& r, const Section& s, std::string_view key, bool* out) {
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed()) return;
  std::string text = ScalarText(*e);
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    *out = false;
  } else {
    r.Fail(*e, e->path + " must be true or false, got " + Describe(e->value));
  }
}

void ReadString(Reader& r, const Section& s, std::string_view key, std::string* out) {
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed()) return;
  if (!e->value.IsScalar()) {
    r.Fail(*e, e->path + " must be a string");
    return;
  }
  *out = e->value.Scalar();
}

void ReadSeed(Reader& r, const Section& s, uint64_t* out) {
  const Entry* e = s.Find("seed");
  if (e == nullptr || r.failed()) return;
  std::string text = ScalarText(*e);
  if (!e->value.IsScalar() || !LooksLikeInteger(text)) {
    r.Fail(*e, "seed must be an integer, got " + Describe(e->value));
    return;
  }
  bool negative = text.starts_with('-');
  uint64_t value = 0;
  std::errc ec = ParseDecimal(std::string_view(text).substr(negative ? 1 : 0), &value);
  if (ec == std::errc::result_out_of_range && !negative) {
    r.Fail(*e, "seed must be at most " + std::to_string(std::numeric_limits<uint64_t>::max()) +
                   ", got " + text);
  } else if (negative && (value != 0 || ec != std::errc())) {
    r.Fail(*e, "seed must be at least 0, got " + text);
  } else {
    *out = value;
  }
}

Result<std::string> ReadScenarioFile(const std::string& path, FileLimit limit) {
  Result<std::string> text = ReadInputFile(path, limit);
  if (!text) return text.error().WithKind(ErrorKind::kScenario);
  return text;
}

}  // namespace edgebench::scenario_internal

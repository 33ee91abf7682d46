// Scenario files: the sections of a scenario, defaults, validation, --set overrides and the
// resolved dump. The reader machinery is in reader.cc, the network sections and the
// profiles file in network.cc.
#include "edgebench/scenario/scenario.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"

#include "scenario/internal.h"

namespace edgebench {
namespace {

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------------------
// The sections of a scenario.

void ReadName(Reader& r, const Section& top, std::string* out) {
  if (top.Find("name") == nullptr) {
    r.Fail("name", YAML::Mark(), "missing required key 'name'");
    return;
  }
  ReadString(r, top, "name", out);
  if (r.failed()) return;
  const Entry& e = *top.Find("name");
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (out->empty()) {
    r.Fail(e, "name must not be empty");
  } else if (out->size() > kMaxNameBytes) {
    r.Fail(e, "name must be at most " + std::to_string(kMaxNameBytes) +
                  " characters (it names the results directory), got " +
                  std::to_string(out->size()));
  } else if (!std::all_of(out->begin(), out->end(), allowed)) {
    r.Fail(e, "name must contain only letters, digits, '.', '_' and '-', got '" + *out + "'");
  } else if (*out == "." || *out == "..") {
    // The name becomes a directory under the results root.
    r.Fail(e, "name must not be '.' or '..'");
  }
}

void ReadProtocol(Reader& r, const Section& s, int* out) {
  const Entry* e = s.Find("protocol");
  if (e == nullptr || r.failed()) return;
  std::string text = ScalarText(*e);
  if (text == "3.1.1") {
    *out = 4;
  } else if (text == "5" || text == "5.0") {
    *out = 5;
  } else {
    r.Fail(*e, "broker.protocol must be 3.1.1 or 5, got " + Describe(e->value));
  }
}

// A path that must be readable now: a missing certificate is a scenario error, not a
// failed run (under `validate`, a warning: the user may not have the file yet). A file that
// is there but is no file to read (a FIFO, /dev/zero, a directory, one above `limit`) is an
// error under validate too: the scenario itself is wrong. Returns true when it is readable.
bool ReadFilePath(Reader& r, const Section& s, std::string_view key, FileLimit limit,
                  std::string* out) {
  ReadString(r, s, key, out);
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed()) return false;
  std::optional<FileProblem> problem = CheckFile(*out, limit);
  if (!problem) return true;
  if (problem->error_number == 0) {
    r.Fail(*e, e->path + ": '" + *out + "' " + problem->text);
  } else {
    r.FailForRun(*e, e->path + ": cannot read '" + *out + "': " + problem->text, "this file");
  }
  return false;
}

// As ssh does for a private key: a password file others can read is worth a warning.
void CheckPasswordFileMode(Reader& r, const Section& s, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  r.Warn(*s.Find("password_file"), "broker.password_file: '" + path +
                                       "' is accessible by group or others (mode " + mode +
                                       "); make it private with: chmod 600 '" + path + "'");
}

void ReadTls(Reader& r, const Entry* entry, TlsSpec* out) {
  if (entry == nullptr) return;
  Section s = OpenSection(r, entry, "broker.tls");
  out->enabled = true;
  if (!r.failed() && s.Find("ca_file") == nullptr) {
    r.Fail(*entry, "missing required key 'ca_file' in broker.tls");
  }
  ReadFilePath(r, s, "ca_file", kTlsFileLimit, &out->ca_file);
  ReadFilePath(r, s, "cert_file", kTlsFileLimit, &out->cert_file);
  ReadFilePath(r, s, "key_file", kTlsFileLimit, &out->key_file);
  ReadBool(r, s, "insecure", &out->insecure);
  if (!r.failed() && out->cert_file.empty() != out->key_file.empty()) {
    const Entry* e = s.Find(out->cert_file.empty() ? "key_file" : "cert_file");
    r.Fail(*e, "broker.tls.cert_file and broker.tls.key_file go together (mutual TLS)");
  }
}

void ReadCredentials(Reader& r, const Section& s, BrokerSpec* out) {
  if (const Entry* e = s.Find("password"); e != nullptr && !r.failed()) {
    r.Fail(*e,
           "broker.password is not accepted: put the password in an environment variable "
           "(broker.password_env) or a file (broker.password_file), so that it never "
           "stands in a scenario or its results");
  }
  ReadString(r, s, "username", &out->username);
  ReadString(r, s, "password_env", &out->password_env);
  bool password_readable =
      ReadFilePath(r, s, "password_file", kPasswordFileLimit, &out->password_file);
  if (r.failed()) return;
  if (password_readable) CheckPasswordFileMode(r, s, out->password_file);
  const Entry* env = s.Find("password_env");
  const Entry* file = s.Find("password_file");
  if (env && file) {
    r.Fail(*file, "set broker.password_env or broker.password_file, not both");
  } else if ((env || file) && out->username.empty()) {
    r.Fail(env ? *env : *file, "a password needs broker.username");
    // NOLINTNEXTLINE(concurrency-mt-unsafe): scenarios are read before any thread starts
  } else if (env && std::getenv(out->password_env.c_str()) == nullptr) {
    r.FailForRun(*env,
                 "broker.password_env: environment variable '" + out->password_env + "' is not set",
                 "it set");
  }
}

void ReadMqtt5Options(Reader& r, const Section& s, BrokerSpec* out) {
  if (const Entry* e = s.Find("session_expiry_s"); e != nullptr && !r.failed()) {
    if (std::optional<int64_t> v = IntegerValue(r, *e, 0, 4294967295LL)) {
      out->session_expiry_s = *v;
    }
  }
  if (const Entry* e = s.Find("user_properties"); e != nullptr && !r.failed()) {
    if (!e->value.IsMap()) {
      r.Fail(*e, "broker.user_properties must be a map of names to values");
      return;
    }
    if (e->value.size() > kMaxUserProperties) {
      r.Fail(*e, "broker.user_properties must have at most " + std::to_string(kMaxUserProperties) +
                     " entries, got " + std::to_string(e->value.size()));
      return;
    }
    for (auto it = e->value.begin(); it != e->value.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) {
        r.Fail(*e, "broker.user_properties must be a map of names to values");
        return;
      }
      if (std::max(it->first.Scalar().size(), it->second.Scalar().size()) > kMaxUserPropertyBytes) {
        r.Fail("broker.user_properties", it->first.Mark(),
               "broker.user_properties: names and values must be at most " +
                   std::to_string(kMaxUserPropertyBytes) + " bytes long");
        return;
      }
      out->user_properties.push_back({it->first.Scalar(), it->second.Scalar()});
    }
  }
  for (const char* key : {"session_expiry_s", "user_properties"}) {
    const Entry* e = s.Find(key);
    if (e != nullptr && !r.failed() && out->protocol != 5) {
      r.Fail(*e, "broker." + std::string(key) + " needs broker.protocol: 5");
    }
  }
}

// What is wrong with broker.host, if anything: it is one host name or address, and the
// port is broker.port ("broker:1883" would be looked up as a host of that name).
std::optional<std::string> HostProblem(const std::string& host) {
  std::string got = ", got '" + host + "'";
  if (host.find_first_not_of(" \t") == std::string::npos)
    return "broker.host must not be empty" + (host.empty() ? "" : got);
  if (host.size() > kMaxHostBytes) {
    return "broker.host must be at most " + std::to_string(kMaxHostBytes) + " characters, got " +
           std::to_string(host.size());
  }
  if (host.find_first_of(" \t\r\n") != std::string::npos)
    return "broker.host must not contain spaces" + got;
  if (host.find("://") != std::string::npos) {
    return "broker.host must be a host name or address, not a URL" + got;
  }
  size_t colons = static_cast<size_t>(std::count(host.begin(), host.end(), ':'));
  in6_addr v6{};
  if (host.front() == '[' || colons == 1 ||
      (colons > 1 && ::inet_pton(AF_INET6, host.c_str(), &v6) != 1)) {
    return "broker.host must be a host name or address without a port (the port goes in "
           "broker.port)" +
           got;
  }
  if (host.find_first_of("/?#@") != std::string::npos) {
    return "broker.host must be a host name or address" + got;
  }
  return std::nullopt;
}

// broker.host or broker.port names an external broker, so either one turns the default
// `embedded: true` off; written next to an explicit `embedded: true`, one of them would be
// ignored, and a user would measure a local mosquitto instead of the broker named.
void ReadBrokerAddress(Reader& r, const Section& s, BrokerSpec* out) {
  ReadBool(r, s, "embedded", &out->embedded);
  ReadString(r, s, "host", &out->host);
  if (!r.failed() && s.Find("host") != nullptr) {
    if (std::optional<std::string> problem = HostProblem(out->host))
      r.Fail(*s.Find("host"), *problem);
  }
  ReadInt(r, s, "port", 1, 65535, &out->port);
  if (r.failed()) return;
  const Entry* address = s.Find("host") ? s.Find("host") : s.Find("port");
  if (address == nullptr) return;
  if (s.Find("embedded") == nullptr) {
    out->embedded = false;
  } else if (out->embedded) {
    r.Fail(*address, address->path + " is set, so the broker is external; remove " + address->path +
                         " or broker.embedded: true");
  }
}

void ReadBroker(Reader& r, const Entry* entry, const ExternalChecks& checks, BrokerSpec* out) {
  Section s = OpenSection(r, entry, "broker");
  ReadBrokerAddress(r, s, out);
  ReadProtocol(r, s, &out->protocol);
  ReadInt(r, s, "keepalive_s", 5, 65535, &out->keepalive_s);
  ReadBool(r, s, "clean_session", &out->clean_session);
  ReadNumber(r, s, "connect_timeout_s", {0, true, 300}, &out->connect_timeout_s);
  ReadTls(r, s.Find("tls"), &out->tls);
  ReadCredentials(r, s, out);
  ReadMqtt5Options(r, s, out);
  ReadResources(r, s.Find("resources"), checks, out->embedded, &out->resources);
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// What is wrong with a topic template, if anything. Placeholders expand to digits, so a
// template that passes gives valid MQTT topic names for every device.
std::optional<std::string> TopicProblem(const std::string& label, const std::string& topic) {
  std::string got = ", got '" + topic + "'";
  if (topic.empty()) return label + " must not be empty";
  if (topic.size() > kMaxTopicBytes) {
    return label + " must be at most " + std::to_string(kMaxTopicBytes) + " bytes long, got " +
           std::to_string(topic.size());
  }
  if (topic.find('\0') != std::string::npos) return label + " must not contain a NUL character";
  if (!IsUtf8(topic)) return label + " must be valid UTF-8 (MQTT topics are UTF-8 strings)";
  if (std::optional<uint32_t> cp = ForbiddenTopicCodePoint(topic)) {
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(*cp));
    return label + " must not contain control characters or non-characters, got " + code;
  }
  if (topic.find_first_of("+#") != std::string::npos) {
    return label + " must not contain '+' or '#'" + got;
  }
  // Brokers keep '$' topics for themselves; mosquitto refuses client publishes to them.
  if (topic[0] == '$') return label + " must not start with '$'" + got;
  for (size_t open = topic.find('{'); open != std::string::npos; open = topic.find('{', open + 1)) {
    size_t close = topic.find('}', open);
    if (close == std::string::npos) return label + " must close every '{' with '}'" + got;
    std::string placeholder = topic.substr(open, close - open + 1);
    if (placeholder != "{device}" && placeholder != "{index}") {
      return label + " must use only the placeholders {device} and {index}, got '" + placeholder +
             "'";
    }
    open = close;
  }
  return std::nullopt;
}

void ReadTopicList(Reader& r, const Entry& entry, std::vector<std::string>* out) {
  if (entry.value.size() > kMaxTopics) {
    r.Fail(entry, "topics must list at most " + std::to_string(kMaxTopics) + " topics, got " +
                      std::to_string(entry.value.size()));
    return;
  }
  std::vector<std::string> list;
  int index = 1;
  for (const YAML::Node& item : entry.value) {
    std::string label = "topics entry " + std::to_string(index);
    if (!item.IsScalar()) {
      r.Fail("topics", item.Mark(), label + " must be a string, got " + Describe(item));
      return;
    }
    if (std::optional<std::string> problem = TopicProblem(label, item.Scalar())) {
      r.Fail("topics", item.Mark(), *problem);
      return;
    }
    list.push_back(ReplaceAll(item.Scalar(), "{index}", std::to_string(index)));
    ++index;
  }
  *out = std::move(list);
}

void ReadTopicPattern(Reader& r, const Entry& entry, std::vector<std::string>* out) {
  Section s = OpenSection(r, &entry, "topics");
  const Entry* pattern = s.Find("pattern");
  if (pattern == nullptr)
    r.Fail("topics", entry.mark(), "missing required key 'pattern' in topics");
  int count = 1;
  ReadInt(r, s, "count", 1, static_cast<int>(kMaxTopics), &count);
  std::string text;
  ReadString(r, s, "pattern", &text);
  if (r.failed()) return;
  if (std::optional<std::string> problem = TopicProblem("topics.pattern", text)) {
    r.Fail(*pattern, *problem);
    return;
  }
  out->clear();
  for (int index = 1; index <= count; ++index) {
    out->push_back(ReplaceAll(text, "{index}", std::to_string(index)));
  }
}

void ReadTopics(Reader& r, const Entry* entry, TopicsSpec* out) {
  if (entry == nullptr || r.failed()) return;
  if (entry->value.IsSequence() && entry->value.size() == 0) {
    r.Fail(*entry, "topics must list at least one topic");
  } else if (entry->value.IsSequence()) {
    ReadTopicList(r, *entry, &out->list);
  } else if (entry->value.IsMap()) {
    ReadTopicPattern(r, *entry, &out->list);
  } else {
    r.Fail(*entry, "topics must be a list of topic names or a map with 'pattern' and 'count'");
  }
}

void ReadPayloadKind(Reader& r, const Section& s, PayloadKind* out) {
  const Entry* e = s.Find("kind");
  if (e == nullptr || r.failed()) return;
  for (PayloadKind kind : {PayloadKind::kDigits, PayloadKind::kRandom, PayloadKind::kJson}) {
    if (ScalarText(*e) == PayloadKindName(kind)) {
      *out = kind;
      return;
    }
  }
  r.Fail(*e, "publish.payload.kind must be digits, random or json, got " + Describe(e->value));
}

void ReadPayload(Reader& r, const Entry* entry, bool latency, PayloadSpec* out) {
  Section s = OpenSection(r, entry, "publish.payload");
  ReadInt(r, s, "size", 0, 16777216, &out->size);
  ReadPayloadKind(r, s, &out->kind);
  const Entry* size = s.Find("size");
  if (r.failed() || !latency || out->size >= kPayloadHeaderBytes || size == nullptr) return;
  // Shown at the size; blamed on --set latency=true if only that came from the command line.
  bool blame_latency = !r.Overridden(size->path) && r.Overridden("latency");
  r.Fail(blame_latency ? "latency" : size->path, size->mark(),
         "publish.payload.size must be at least " + std::to_string(kPayloadHeaderBytes) +
             " bytes (the latency header) when latency is on, got " + ScalarText(*size) +
             "; set latency: false to send smaller payloads");
}

void ReadPublish(Reader& r, const Entry* entry, bool latency, PublishSpec* out) {
  Section s = OpenSection(r, entry, "publish");
  const Entry* rate = s.Find("rate");
  if (rate != nullptr && ScalarText(*rate) == "max") {
    out->rate_max = true;
  } else {
    ReadNumber(r, s, "rate", {0, true, 1000000}, &out->rate);
  }
  if (const Entry* a = s.Find("arrival"); a != nullptr && !r.failed()) {
    std::string text = ScalarText(*a);
    if (text == "constant") {
      out->arrival = Arrival::kConstant;
    } else if (text == "poisson") {
      out->arrival = Arrival::kPoisson;
    } else {
      r.Fail(*a, "publish.arrival must be constant or poisson, got " + Describe(a->value));
    }
  }
  ReadInt(r, s, "max_inflight", 1, 65535, &out->max_inflight);
  if (const Entry* c = s.Find("count"); c != nullptr && !r.failed()) {
    if (std::optional<int64_t> v = IntegerValue(r, *c, 0, 1'000'000'000'000LL)) {
      out->count = static_cast<uint64_t>(*v);
    }
  }
  const Entry* qos = s.Find("qos");
  if (qos != nullptr && !r.failed()) {
    std::optional<int64_t> value = IntegerValue(r, *qos, std::numeric_limits<int64_t>::min(),
                                                std::numeric_limits<int64_t>::max());
    if (value && (*value < 0 || *value > 2)) {
      r.Fail(*qos, "publish.qos must be 0, 1 or 2, got " + ScalarText(*qos));
    } else if (value) {
      out->qos = static_cast<int>(*value);
    }
  }
  ReadBool(r, s, "retain", &out->retain);
  ReadPayload(r, s.Find("payload"), latency, &out->payload);
}

// snaplen: "auto" (-1), 0 for whole packets, or a byte count.
void ReadSnaplen(Reader& r, const Section& s, int* out) {
  const Entry* e = s.Find("snaplen");
  if (e == nullptr || r.failed()) return;
  if (ScalarText(*e) == "auto") {
    *out = -1;
    return;
  }
  std::optional<int64_t> v = IntegerValue(r, *e, 0, 262144);
  if (!v) return;
  if (*v > 0 && *v < 64) {
    r.Fail(*e,
           "capture.snaplen must be auto, 0 (whole packets) or at least 64, got " + ScalarText(*e));
    return;
  }
  *out = static_cast<int>(*v);
}

// capture.buffer_mb: "auto" (0) or 1 .. 1024.
void ReadBufferMb(Reader& r, const Section& s, int* out) {
  const Entry* e = s.Find("buffer_mb");
  if (e == nullptr || r.failed()) return;
  if (ScalarText(*e) == "auto") {
    *out = 0;
    return;
  }
  std::optional<int64_t> v = IntegerValue(r, *e, 1, 1024);
  if (v) *out = static_cast<int>(*v);
}

// A string checked by another module (libpcap): its message gets this key's location.
void ReadChecked(Reader& r, const Section& s, std::string_view key,
                 const std::function<std::string(const std::string&)>& check, std::string* out) {
  ReadString(r, s, key, out);
  const Entry* e = s.Find(key);
  if (e == nullptr || r.failed() || !check) return;
  std::string problem = check(*out);
  if (!problem.empty()) r.Fail(*e, problem);
}

void ReadCapture(Reader& r, const Entry* entry, const ExternalChecks& checks, CaptureSpec* out) {
  Section s = OpenSection(r, entry, "capture");
  ReadBool(r, s, "enabled", &out->enabled);
  ReadBool(r, s, "required", &out->required);
  ReadChecked(r, s, "interface", checks.capture_interface, &out->interface);
  ReadChecked(r, s, "filter", checks.capture_filter, &out->filter);
  ReadSnaplen(r, s, &out->snaplen);
  ReadBufferMb(r, s, &out->buffer_mb);
}

// workers: "auto" (0) or 1 .. min(256, devices.count).
void ReadWorkers(Reader& r, const Section& top, int devices, int* out) {
  const Entry* e = top.Find("workers");
  if (e == nullptr || r.failed()) return;
  if (ScalarText(*e) == "auto") {
    *out = 0;
    return;
  }
  if (std::optional<int64_t> v = IntegerValue(r, *e, 1, 256)) {
    if (*v > devices) {
      r.Fail(*e, "workers must be at most devices.count (" + std::to_string(devices) + "), got " +
                     ScalarText(*e));
      return;
    }
    *out = static_cast<int>(*v);
  }
}

}  // namespace

namespace scenario_internal {

Result<Scenario> Validate(Reader& r, const YAML::Node& root, const std::string& file_name,
                          const ExternalChecks& checks) {
  Scenario s;
  s.source_file = file_name;
  Section top = OpenSection(r, root, root.Mark(), "");
  ReadName(r, top, &s.name);
  ReadString(r, top, "description", &s.description);
  if (const Entry* d = top.Find("description"); d != nullptr && !r.failed()) {
    if (s.description.size() > kMaxDescriptionBytes) {
      r.Fail(*d, "description must be at most " + std::to_string(kMaxDescriptionBytes) +
                     " bytes long, got " + std::to_string(s.description.size()));
    } else if (!IsUtf8(s.description)) {
      r.Fail(*d, "description must be valid UTF-8");  // from a --set: the file is checked whole
    }
  }
  ReadBroker(r, top.Find("broker"), checks, &s.broker);
  Section devices = OpenSection(r, top.Find("devices"), "devices");
  ReadInt(r, devices, "count", 1, 100000, &s.devices.count);
  ReadInt(r, devices, "gateways", 0, s.devices.count, &s.devices.gateways);
  ReadNumber(r, devices, "connect_rate", {0, false, 1000000}, &s.devices.connect_rate);
  ReadWorkers(r, top, s.devices.count, &s.workers);
  ReadTopics(r, top.Find("topics"), &s.topics);
  ReadBool(r, top, "latency", &s.latency);
  ReadPublish(r, top.Find("publish"), s.latency, &s.publish);
  ReadNumber(r, top, "duration_s", {0, true, 604800}, &s.duration_s);
  ReadNumber(r, top, "warmup_s", {0, false, 3600}, &s.warmup_s);
  ReadNumber(r, top, "drain_s", {0, false, 3600}, &s.drain_s);
  Section sample = OpenSection(r, top.Find("sample"), "sample");
  ReadInt(r, sample, "interval_ms", 10, 10000, &s.sample.interval_ms);
  ReadCapture(r, top.Find("capture"), checks, &s.capture);
  ReadNetwork(r, top.Find("network"), checks, s.broker.embedded, &s.network);
  ReadSubscribe(r, top.Find("subscribe"), &s.subscribe);
  ReadSeed(r, top, &s.seed);
  ReadSetKeys(r, top, checks, &s);
  if (r.failed()) return r.error();
  return s;
}

// ---------------------------------------------------------------------------
// Overrides, file reading and output.

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> keys;
  size_t start = 0;
  for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', start)) {
    keys.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
  keys.emplace_back(path.substr(start));
  return keys;
}

// Writes `value` at keys[i..] below `node`, turning anything in the way into a map:
// the command line wins over the file.
void SetPath(YAML::Node node, const std::vector<std::string>& keys, size_t i,
             const YAML::Node& value) {
  if (i + 1 == keys.size()) {
    node[keys[i]] = value;
    return;
  }
  if (!node[keys[i]].IsMap()) node[keys[i]] = YAML::Node(YAML::NodeType::Map);
  SetPath(node[keys[i]], keys, i + 1, value);
}

std::optional<std::string> KeyPathProblem(const std::vector<std::string>& keys) {
  std::string section;
  for (const std::string& key : keys) {
    const SectionSchema* schema = FindSection(section);
    if (schema == nullptr) return section + " is not a map, so it has no key '" + key + "'";
    if (std::optional<std::string> problem = CheckKey(*schema, key, section)) return problem;
    section = JoinPath(section, key);
  }
  return std::nullopt;
}

void PutValue(const YAML::Node& root, const std::vector<std::string>& keys,
              const YAML::Node& value) {
  // "network: cloud-near" with --set network.backend=proxy: keep the profile.
  YAML::Node tree = root;  // a handle to the same tree (YAML::Node has reference semantics)
  if (keys.size() > 1 && keys[0] == "network" && tree["network"].IsScalar() &&
      tree["network"].Scalar() != "none") {
    YAML::Node map(YAML::NodeType::Map);
    map["profile"] = tree["network"].Scalar();
    tree["network"] = map;
  }
  SetPath(root, keys, 0, value);
}

Status ApplyOverride(const YAML::Node& root, const Override& o) {
  if (!IsUtf8(o.value)) return OverrideError(o, "the value is not valid UTF-8");
  YAML::Node value;
  try {
    value = YAML::Load(o.value);
  } catch (const YAML::Exception& e) {
    return OverrideError(o, "YAML syntax error: " + e.msg);
  }
  // Check the whole path before touching the tree.
  std::vector<std::string> keys = SplitPath(o.path);
  if (std::optional<std::string> problem = KeyPathProblem(keys)) {
    return OverrideError(o, *problem);
  }
  PutValue(root, keys, value);
  return Ok{};
}

}  // namespace scenario_internal

namespace {

// The one place a scenario passes through before it is shown or written anywhere.
// There are no secrets yet; password keys will be replaced by "<redacted>" here.
Scenario RedactSecrets(const Scenario& scenario) { return scenario; }

void EmitBroker(YAML::Emitter& out, const BrokerSpec& b) {
  out << YAML::Key << "broker" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "embedded" << YAML::Value << b.embedded;
  if (!b.embedded) {  // with embedded: true, a host or port would be refused on reading
    out << YAML::Key << "host" << YAML::Value << YAML::DoubleQuoted << b.host;
    out << YAML::Key << "port" << YAML::Value << b.port;
  }
  out << YAML::Key << "protocol" << YAML::Value << YAML::DoubleQuoted << ProtocolName(b.protocol);
  out << YAML::Key << "keepalive_s" << YAML::Value << b.keepalive_s;
  out << YAML::Key << "clean_session" << YAML::Value << b.clean_session;
  out << YAML::Key << "connect_timeout_s" << YAML::Value << FormatNumber(b.connect_timeout_s);
  if (b.tls.enabled) {
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << b.tls.ca_file;
    if (!b.tls.cert_file.empty()) {
      out << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted << b.tls.cert_file;
      out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << b.tls.key_file;
    }
    out << YAML::Key << "insecure" << YAML::Value << b.tls.insecure << YAML::EndMap;
  }
  if (!b.username.empty()) {
    out << YAML::Key << "username" << YAML::Value << YAML::DoubleQuoted << b.username;
  }
  if (!b.password_env.empty()) {
    out << YAML::Key << "password_env" << YAML::Value << YAML::DoubleQuoted << b.password_env;
  }
  if (!b.password_file.empty()) {
    out << YAML::Key << "password_file" << YAML::Value << YAML::DoubleQuoted << b.password_file;
  }
  if (b.protocol == 5) {
    out << YAML::Key << "session_expiry_s" << YAML::Value << b.session_expiry_s;
    if (!b.user_properties.empty()) {
      out << YAML::Key << "user_properties" << YAML::Value << YAML::BeginMap;
      for (const UserProperty& p : b.user_properties) {
        out << YAML::Key << YAML::DoubleQuoted << p.name << YAML::Value << YAML::DoubleQuoted
            << p.value;
      }
      out << YAML::EndMap;
    }
  }
  EmitResources(out, b.resources);
  out << YAML::EndMap;
}

void EmitPublish(YAML::Emitter& out, const PublishSpec& p) {
  out << YAML::Key << "publish" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "rate" << YAML::Value;
  if (p.rate_max) {
    out << "max";
  } else {
    out << FormatNumber(p.rate);
  }
  out << YAML::Key << "arrival" << YAML::Value
      << (p.arrival == Arrival::kPoisson ? "poisson" : "constant");
  out << YAML::Key << "max_inflight" << YAML::Value << p.max_inflight;
  out << YAML::Key << "count" << YAML::Value << p.count;
  out << YAML::Key << "qos" << YAML::Value << p.qos;
  out << YAML::Key << "retain" << YAML::Value << p.retain;
  out << YAML::Key << "payload" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "size" << YAML::Value << p.payload.size;
  out << YAML::Key << "kind" << YAML::Value << PayloadKindName(p.payload.kind);
  out << YAML::EndMap << YAML::EndMap;
}

void EmitCapture(YAML::Emitter& out, const CaptureSpec& c) {
  out << YAML::Key << "capture" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.enabled;
  out << YAML::Key << "required" << YAML::Value << c.required;
  out << YAML::Key << "interface" << YAML::Value << YAML::DoubleQuoted << c.interface;
  out << YAML::Key << "filter" << YAML::Value << YAML::DoubleQuoted << c.filter;
  out << YAML::Key << "snaplen" << YAML::Value;
  if (c.snaplen < 0) {
    out << "auto";
  } else {
    out << c.snaplen;
  }
  out << YAML::Key << "buffer_mb" << YAML::Value;
  if (c.buffer_mb == 0) {
    out << "auto";
  } else {
    out << c.buffer_mb;
  }
  out << YAML::EndMap;
}

}  // namespace

int CaptureBufferMb(const Scenario& s) {
  if (s.capture.buffer_mb > 0) return s.capture.buffer_mb;
  if (s.publish.rate_max) return 64;  // as fast as it goes: the most auto gives
  // Per message about 4 packets at QoS 0 (6 at QoS 1 and 2) of some 150 bytes with their ring
  // headers, plus the payload and its topic on the way in and out.
  const double packets = s.publish.qos == 0 ? 4 : 6;
  const double per_message = packets * 150.0 + 2.0 * (s.publish.payload.size + 64.0);
  const double per_second = s.publish.rate * s.devices.count * per_message;
  const double mb = std::ceil(per_second / (1024.0 * 1024.0));
  return static_cast<int>(std::clamp(mb, 4.0, 64.0));
}

Result<Override> ParseOverride(std::string_view text) {
  size_t eq = text.find('=');
  if (eq != std::string_view::npos) {
    Override o{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
    std::vector<std::string> keys = SplitPath(o.path);
    if (std::none_of(keys.begin(), keys.end(), [](const auto& k) { return k.empty(); })) {
      return o;
    }
  }
  return ScenarioError("--set expects key.path=value, got '" + std::string(text) + "'");
}

Result<Scenario> LoadScenario(const std::string& path, const std::vector<Override>& overrides,
                              const ExternalChecks& checks) {
  Result<std::string> text = ReadScenarioFile(path);
  if (!text) return text.error();
  return ParseScenario(*text, path, overrides, checks);
}

Result<Scenario> ParseScenario(std::string_view yaml_text, const std::string& file_name,
                               const std::vector<Override>& overrides,
                               const ExternalChecks& checks) {
  Reader r(file_name, yaml_text, overrides, checks.run_time_warnings, checks.warnings);
  YAML::Node root = LoadMap(r, yaml_text, "a scenario must be a YAML map of keys");
  if (!r.failed() && root["matrix"].IsDefined()) {
    r.Fail("matrix", root["matrix"].Mark(), "this file has a matrix: read it as a set of cells");
  }
  if (r.failed()) return r.error();
  for (const Override& o : overrides) {
    Status applied = ApplyOverride(root, o);
    if (!applied) return applied.error();
  }
  size_t warnings_before = checks.run_time_warnings ? checks.run_time_warnings->size() : 0;
  size_t notes_before = checks.warnings ? checks.warnings->size() : 0;
  Result<Scenario> s = Validate(r, root, file_name, checks);
  // Warnings are for a scenario that is otherwise good; an error says enough.
  if (!s.ok() && checks.run_time_warnings) checks.run_time_warnings->resize(warnings_before);
  if (!s.ok() && checks.warnings) checks.warnings->resize(notes_before);
  return s;
}

std::string ScenarioToYaml(const Scenario& scenario) {
  const Scenario s = RedactSecrets(scenario);
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << s.name;
  out << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << s.description;
  EmitBroker(out, s.broker);
  out << YAML::Key << "devices" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "count" << YAML::Value << s.devices.count;
  out << YAML::Key << "gateways" << YAML::Value << s.devices.gateways;
  out << YAML::Key << "connect_rate" << YAML::Value << FormatNumber(s.devices.connect_rate);
  out << YAML::EndMap;
  out << YAML::Key << "topics" << YAML::Value << YAML::BeginSeq;
  for (const std::string& topic : s.topics.list) out << YAML::DoubleQuoted << topic;
  out << YAML::EndSeq;
  EmitPublish(out, s.publish);
  out << YAML::Key << "duration_s" << YAML::Value << FormatNumber(s.duration_s);
  out << YAML::Key << "warmup_s" << YAML::Value << FormatNumber(s.warmup_s);
  out << YAML::Key << "drain_s" << YAML::Value << FormatNumber(s.drain_s);
  out << YAML::Key << "latency" << YAML::Value << s.latency;
  out << YAML::Key << "sample" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "interval_ms" << YAML::Value << s.sample.interval_ms << YAML::EndMap;
  EmitCapture(out, s.capture);
  EmitNetwork(out, s.network);
  out << YAML::Key << "subscribe" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "at" << YAML::Value << (s.subscribe.at_devices ? "devices" : "broker");
  out << YAML::EndMap;
  out << YAML::Key << "workers" << YAML::Value;
  if (s.workers == 0) {
    out << "auto";
  } else {
    out << s.workers;
  }
  out << YAML::Key << "seed" << YAML::Value << s.seed;
  EmitSetKeys(out, s);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ProtocolName(int protocol) { return protocol == 5 ? "5" : "3.1.1"; }

std::string PayloadKindName(PayloadKind kind) {
  switch (kind) {
    case PayloadKind::kDigits:
      return "digits";
    case PayloadKind::kRandom:
      return "random";
    case PayloadKind::kJson:
      return "json";
  }
  return "digits";
}

std::vector<std::string> DeviceTopics(const Scenario& scenario, int device) {
  std::vector<std::string> topics;
  topics.reserve(scenario.topics.list.size());
  for (const std::string& topic : scenario.topics.list) {
    topics.push_back(ReplaceAll(topic, "{device}", std::to_string(device)));
  }
  return topics;
}

std::vector<std::string> SubscriptionFilters(const Scenario& scenario) {
  std::vector<std::string> filters;
  for (const std::string& topic : scenario.topics.list) {
    std::string filter;
    size_t start = 0;
    while (true) {
      size_t slash = topic.find('/', start);
      std::string level = topic.substr(start, slash - start);
      filter += level.find("{device}") != std::string::npos ? "+" : level;
      if (slash == std::string::npos) break;
      filter += '/';
      start = slash + 1;
    }
    if (std::find(filters.begin(), filters.end(), filter) == filters.end()) {
      filters.push_back(filter);
    }
  }
  return filters;
}

}  // namespace edgebench

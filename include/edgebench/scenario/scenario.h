// Scenario: the YAML description of one benchmark run, parsed, defaulted and validated.
//
// Contract: LoadScenario()/ParseScenario() either return a fully valid Scenario (every
// value in range, every default applied, every override applied) or an Error that names
// file:line:column and carries the offending source line with a caret as context.
// Nothing in this module starts processes or touches the network.
#ifndef EDGEBENCH_SCENARIO_SCENARIO_H_
#define EDGEBENCH_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"

namespace edgebench {

enum class PayloadKind { kDigits, kRandom, kJson };
enum class Arrival { kConstant, kPoisson };

struct TlsSpec {
  bool enabled = false;   // true when broker.tls is present
  std::string ca_file;    // PEM CA certificate(s) that sign the broker's certificate (required)
  std::string cert_file;  // client certificate for mutual TLS (with key_file)
  std::string key_file;
  bool insecure = false;  // skip the broker host name check (never the chain check)
  friend bool operator==(const TlsSpec&, const TlsSpec&) = default;
};

struct UserProperty {
  std::string name;
  std::string value;
  friend bool operator==(const UserProperty&, const UserProperty&) = default;
};

// `broker.resources`: the embedded broker's CPU and memory budget, applied with a cgroup
// (cgroup v2 cpu.max/memory.max, or v1 cpu.cfs_quota_us/memory.limit_in_bytes). Either given
// inline or taken from a named node profile (config/nodes.yaml) with inline values on top.
struct ResourcesSpec {
  bool limited = false;   // true when broker.resources is present
  std::string node;       // the node profile the values came from ("" = all inline)
  double cpus = 0;        // CPU quota in CPUs (0.25 = a quarter of one CPU); 0 = no CPU limit
  int64_t memory_mb = 0;  // memory limit in MiB (no swap beyond it); 0 = no memory limit
  bool required = true;   // false: a machine without writable cgroups runs unlimited, noted
  friend bool operator==(const ResourcesSpec&, const ResourcesSpec&) = default;
};

// The smallest budget broker.resources accepts: the kernel's smallest CPU quota (1 ms per
// 100 ms period), and enough memory for mosquitto to start (about 8 MiB of RSS) with room.
inline constexpr double kMinBrokerCpus = 0.01;
inline constexpr int64_t kMinBrokerMemoryMb = 16;

// A named node profile of config/nodes.yaml: what `broker.resources: {node: NAME}` applies.
struct NodeProfile {
  std::string description;
  double cpus = 0;
  int64_t memory_mb = 0;
  friend bool operator==(const NodeProfile&, const NodeProfile&) = default;
};

struct BrokerSpec {
  // edgebench starts its own mosquitto on loopback. Setting broker.host or broker.port
  // makes it false (an external broker); with `embedded: true` written too, the scenario
  // is refused. So an embedded scenario always has the default host and port.
  bool embedded = true;
  std::string host = "127.0.0.1";  // the external broker (unused when embedded)
  int port = 1883;                 // the external broker's port (embedded: a free port is chosen)
  int protocol = 4;                // MQTT protocol level: 4 = 3.1.1, 5 = 5.0 (YAML: "3.1.1" or 5)
  int keepalive_s = 60;
  bool clean_session = true;
  double connect_timeout_s = 5.0;  // all device connections must be up within this
  TlsSpec tls;
  std::string username;       // "" = no authentication
  std::string password_env;   // the password is read from this environment variable
  std::string password_file;  // ... or from the first line of this file
  int64_t session_expiry_s =
      0;  // MQTT 5 only: CONNECT session expiry interval (4294967295 = never)
  std::vector<UserProperty> user_properties;  // MQTT 5 only: sent with CONNECT and PUBLISH
  ResourcesSpec resources;                    // embedded broker only

  friend bool operator==(const BrokerSpec&, const BrokerSpec&) = default;
};

struct DevicesSpec {
  int count = 1;            // >= 1
  int gateways = 0;         // 0: one connection per device; G: the devices share G connections
  double connect_rate = 0;  // connections opened per second during the ramp-up; 0 = all at once

  friend bool operator==(const DevicesSpec&, const DevicesSpec&) = default;
};

struct TopicsSpec {
  // Either an explicit list (each entry may contain {device} and {index}) or a pattern
  // expanded `count` times per device with {index} = 1..count. After parsing, `list`
  // always holds the per-device topic templates (pattern expanded into `count` entries
  // with {index} already substituted; {device} stays for the per-device expansion).
  std::vector<std::string> list = {"edgebench/{device}"};

  friend bool operator==(const TopicsSpec&, const TopicsSpec&) = default;
};

struct PayloadSpec {
  int size = 64;  // bytes, whole MQTT payload including the 32-byte latency header
  PayloadKind kind = PayloadKind::kDigits;

  friend bool operator==(const PayloadSpec&, const PayloadSpec&) = default;
};

struct PublishSpec {
  double rate = 1.0;  // messages per second per device (> 0); a device cycles its topics
  bool rate_max =
      false;  // rate: max: each connection publishes as fast as its in-flight window allows
  Arrival arrival = Arrival::kConstant;
  int max_inflight = 20;  // QoS 1/2 messages in flight per connection
  uint64_t count = 0;     // messages per device; 0 = as many as the duration allows
  int qos = 0;            // 0, 1 or 2
  bool retain = false;
  PayloadSpec payload;

  friend bool operator==(const PublishSpec&, const PublishSpec&) = default;
};

struct CaptureSpec {
  bool enabled = true;
  bool required = false;           // true: a run that cannot capture stops before the load (exit 3)
  std::string interface = "auto";  // "auto": the interface of the route to the broker
  std::string filter;              // "" = "tcp and host <broker> and port <broker port>"
  int snaplen =
      -1;  // bytes stored per packet in capture.pcap: -1 = headers + 16, 0 = whole packets
  int buffer_mb = 0;  // kernel capture buffer in MiB; 0 = auto (CaptureBufferMb)
  friend bool operator==(const CaptureSpec&, const CaptureSpec&) = default;
};

// One network path between the devices and the broker, as an emulator applies it.
struct LinkProfile {
  double rtt_ms = 0;         // round trip; each direction adds rtt_ms / 2
  double jitter_ms = 0;      // each one-way delay varies uniformly within +-jitter_ms / 2
  double loss_pct = 0;       // per packet and direction (netem only: a TCP proxy cannot lose)
  double uplink_mbit = 0;    // devices -> broker; 0 = unlimited
  double downlink_mbit = 0;  // broker -> devices; 0 = unlimited
  friend bool operator==(const LinkProfile&, const LinkProfile&) = default;
};

enum class LinkBackend { kAuto, kNetem, kProxy };

struct NetworkSpec {
  bool emulated = false;  // false: the devices connect straight to the broker
  std::string profile;    // the profile the values came from ("" = all given inline)
  LinkProfile link;
  LinkBackend backend = LinkBackend::kAuto;
  friend bool operator==(const NetworkSpec&, const NetworkSpec&) = default;
};

struct SubscribeSpec {
  // Where the collector (the stream processor) connects from: false = next to the broker
  // (it does not cross the emulated link), true = behind the link with the devices.
  bool at_devices = false;
  friend bool operator==(const SubscribeSpec&, const SubscribeSpec&) = default;
};

struct SampleSpec {
  int interval_ms = 100;  // 10 .. 10000

  friend bool operator==(const SampleSpec&, const SampleSpec&) = default;
};

// One `expect:` threshold: `latency_p99_ms: {max: 50}`. The metric names are those of
// results/metrics.h (checked against ExternalChecks::expect_metrics).
struct ExpectSpec {
  std::string metric;
  std::optional<double> min;
  std::optional<double> max;
  friend bool operator==(const ExpectSpec&, const ExpectSpec&) = default;
};

// `search:`: find the highest value of one key at which every `expect:` threshold holds,
// by doubling from `from` and then bisecting, `repeat` runs per step.
struct SearchSpec {
  std::string key;             // "publish.rate", "devices.count" or "publish.payload.size"
  double from = 0;             // the low end, tried first (> 0)
  double to = 0;               // the high end (> from)
  double resolution = 10;      // stop when the bracket is this narrow ...
  bool resolution_pct = true;  // ... in percent of its lower end (true) or in the key's unit
  int max_runs = 50;           // budget: runs per searched cell (1 .. 10000)
  int max_mixed = 2;           // stop after this many steps that held in only some repeats
  // devices.count and publish.payload.size take whole numbers; publish.rate any number.
  bool integer() const { return key != "publish.rate"; }
  friend bool operator==(const SearchSpec&, const SearchSpec&) = default;
};

// `cost: {sheet: aws-iot-core-eu}` or `cost: {sheets: [edge-node, ...]}`: the price sheets
// (config/costs/<name>.yaml) whose costs add up to this placement's cost.
struct CostSpec {
  std::vector<std::string> sheets;
  friend bool operator==(const CostSpec&, const CostSpec&) = default;
};

struct Scenario {
  std::string source_file;  // path it was loaded from ("<string>" for ParseScenario)
  std::string name;         // [A-Za-z0-9._-]+, used as a directory name
  std::string description;
  BrokerSpec broker;
  DevicesSpec devices;
  TopicsSpec topics;
  PublishSpec publish;
  double duration_s = 10.0;  // measurement window (> 0)
  double warmup_s = 0.0;     // before the window, excluded from latency/throughput (>= 0)
  double drain_s = 2.0;      // after the last publish, wait for in-flight messages (>= 0)
  bool latency = true;       // false: no payload header, so no latency/loss per device
  SampleSpec sample;
  CaptureSpec capture;
  NetworkSpec network;
  SubscribeSpec subscribe;
  int workers = 1;  // forked publisher processes; 0 = auto (one per CPU, less one for the broker)
  uint64_t seed = 1;
  std::vector<ExpectSpec> expect;  // checked after the run, in this order
  CostSpec cost;
  std::optional<SearchSpec> search;  // set: `run` searches instead of running once
  // For a set (matrix, several files): how often each cell runs and the pause between
  // runs. They do not change what one run does.
  int repeat = 1;           // 1 .. 1000
  double cooldown_s = 2.0;  // 0 .. 3600

  // Field by field, source_file included (the nested specs compare the same way).
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Limits (docs/scenario.md, "Limits"): far above what a real scenario needs, they keep a
// wrong or hostile file from taking the machine's memory or time. The file itself is at most
// kScenarioFileLimit (1 MiB, base/fd.h); profiles, node profiles and price sheets
// kConfigFileLimit.
inline constexpr int kMaxYamlDepth = 32;          // nested maps and lists
inline constexpr int64_t kMaxYamlNodes = 100000;  // values, with aliases expanded
inline constexpr size_t kMaxScalarBytes = 65535;  // any one value or key
inline constexpr size_t kMaxNameBytes = 128;      // name: one directory of the results path
inline constexpr size_t kMaxDescriptionBytes = 4096;
inline constexpr size_t kMaxHostBytes = 253;           // a DNS name
inline constexpr size_t kMaxTopics = 1000;             // topics: list entries, or pattern count
inline constexpr size_t kMaxTopicBytes = 1024;         // one topic template
inline constexpr size_t kMaxUserProperties = 100;      // broker.user_properties
inline constexpr size_t kMaxUserPropertyBytes = 1024;  // each name and value
inline constexpr size_t kMaxExpect = 100;              // expect: entries
inline constexpr size_t kMaxCostSheets = 32;           // cost.sheets
inline constexpr size_t kMaxMatrixAxes = 16;           // matrix: axes
inline constexpr size_t kMaxMatrixValues = 1000;       // values of one axis
inline constexpr size_t kMaxMatrixCells = 1000;        // the product of the axes
// Every cell of a matrix re-reads the file, so cells x file size is bounded too.
inline constexpr int64_t kMaxMatrixBytesRead = 16 << 20;
inline constexpr size_t kMaxProfiles = 1000;  // entries of profiles.yaml, nodes.yaml

// The size of the binary header each payload starts with when latency is on.
inline constexpr int kPayloadHeaderBytes = 32;

// "key.path=value" as given to --set. The value is parsed as YAML (so "5", "true",
// "[a, b]" work). An override of a key that does not exist is an error like an unknown key.
struct Override {
  std::string path;
  std::string value;
};

// Parses "a.b=c" into an Override. Error: "--set expects key.path=value, got 'x'".
Result<Override> ParseOverride(std::string_view text);

// Checks that need other modules (the scenario module links no libpcap). Each returns an
// error message for a bad value ("" when good); the parser adds the location.
// Every Error of this module has ErrorKind::kScenario.
struct ExternalChecks {
  std::function<std::string(const std::string&)> capture_filter;
  std::function<std::string(const std::string&)> capture_interface;
  // The named network profiles `network:` may refer to (config/profiles.yaml), and the
  // file they came from, for error messages. Empty: only inline values are accepted.
  std::map<std::string, LinkProfile> profiles;
  std::string profiles_file;
  // For `validate`: when set, what only a run reads (broker.tls.ca_file, cert_file,
  // key_file, broker.password_file, the variable of broker.password_env) is still checked,
  // but a problem is appended here as a warning instead of failing the scenario. nullptr
  // (for `run`): such a problem is an error like any other. Appended to only when the
  // scenario is otherwise valid.
  std::vector<Error>* run_time_warnings = nullptr;
  // Warnings for `validate` and `run` alike, about a scenario that is otherwise valid and
  // runs as written: a broker.password_file that group or others can access (as ssh warns
  // of a private key). nullptr: not kept. A set of cells may give the same warning per cell.
  std::vector<Error>* warnings = nullptr;
  // The metric names `expect:` accepts (results/metrics.h). Empty: any name.
  std::vector<std::string> expect_metrics;
  // The price sheets `cost:` may name (config/costs/*.yaml without .yaml), and where they
  // are, for messages. Empty: any name.
  std::vector<std::string> cost_sheets;
  std::string cost_dir;
  // The node profiles `broker.resources.node` may name (config/nodes.yaml), and that file.
  std::map<std::string, NodeProfile> nodes;
  std::string nodes_file;
  // CPUs of this machine, for refusing broker.resources.cpus above it; 0 = not checked.
  int machine_cpus = 0;
};

// Reads the named network profiles (config/profiles.yaml): a map of name -> {rtt_ms,
// jitter_ms, loss_pct, uplink_mbit, downlink_mbit, description}, checked like a scenario
// (file:line:column errors, unknown keys, ranges).
Result<std::map<std::string, LinkProfile>> LoadProfiles(const std::string& path);

// Reads the node profiles (config/nodes.yaml): a map of name -> {description, cpus,
// memory_mb}, both budgets required, checked like a scenario (file:line:column errors).
Result<std::map<std::string, NodeProfile>> LoadNodeProfiles(const std::string& path);

// Reads and validates a scenario file without a matrix (a file with one is refused: read
// it with LoadExperiment). Errors: missing file
// ("scenarios/x.yaml: cannot read file: No such file or directory"), YAML syntax,
// unknown keys (with "did you mean"), wrong types, out-of-range values.
Result<Scenario> LoadScenario(const std::string& path, const std::vector<Override>& overrides = {},
                              const ExternalChecks& checks = {});

// The same from text; `file_name` is used in error locations.
Result<Scenario> ParseScenario(std::string_view yaml_text, const std::string& file_name,
                               const std::vector<Override>& overrides = {},
                               const ExternalChecks& checks = {});

// A matrix axis: `devices.count: [100, 1000]`. Values are kept as YAML text, applied to
// the scenario like --set.
struct MatrixAxis {
  std::string path;
  std::vector<std::string> values;
  friend bool operator==(const MatrixAxis&, const MatrixAxis&) = default;
};

// One cell of a matrix: its values, in the order of the axes, and the scenario they give.
struct ExperimentCell {
  std::vector<std::pair<std::string, std::string>> values;
  Scenario scenario;
};

// A scenario file with its matrix expanded: every cell a validated Scenario. A file
// without `matrix:` has one cell with no values.
struct Experiment {
  std::string source_file;
  std::vector<MatrixAxis> matrix;
  std::vector<std::string> keys;      // every scenario key path the matrix sets
  std::vector<ExperimentCell> cells;  // the cartesian product, first axis slowest
};

// Reads a scenario file, expands `matrix:` (at most 1000 cells) and validates every cell;
// an error in one cell names the file:line:column of the matrix value that made it
// ("scenarios/x.yaml:4:22: in matrix cell network=cloud-far: ..."). --set overrides apply
// to every cell and may not set a matrix key.
Result<Experiment> LoadExperiment(const std::string& path,
                                  const std::vector<Override>& overrides = {},
                                  const ExternalChecks& checks = {});
Result<Experiment> ParseExperiment(std::string_view yaml_text, const std::string& file_name,
                                   const std::vector<Override>& overrides = {},
                                   const ExternalChecks& checks = {});

// The resolved scenario flattened to key paths -> YAML scalar text ("publish.qos" -> "1"),
// every key of ScenarioToYaml (lists as "[a, b]"). For telling what two cells differ in.
std::map<std::string, std::string> ScenarioValues(const Scenario& scenario);
// The keys whose values differ between two ScenarioValues() (or that only one has), sorted.
std::vector<std::string> DifferingKeys(const std::map<std::string, std::string>& a,
                                       const std::map<std::string, std::string>& b);

// One step of a search: `scenario` with search.key set to `value` (rounded to a whole number
// for an integer key) and without its search. Requires: scenario.search. A value between
// the range's ends gives a valid scenario, since both ends were validated.
Scenario WithSearchValue(const Scenario& scenario, double value);

// The resolved scenario as YAML (every key, defaults applied; secrets redacted).
// Feeding this back to ParseScenario yields an equal Scenario.
std::string ScenarioToYaml(const Scenario& scenario);

// The capture buffer a run asks for, in MiB: capture.buffer_mb, or for auto about one second
// of the capture the scenario's rate makes (4 .. 64; 64 for rate: max). libpcap maps it into
// the orchestrator, so it is RSS: a fixed 64 MiB would be most of a small run's footprint.
int CaptureBufferMb(const Scenario& scenario);

// The MQTT protocol level as users write it: "3.1.1" or "5".
std::string ProtocolName(int protocol);
std::string PayloadKindName(PayloadKind kind);
std::string LinkBackendName(LinkBackend backend);  // "auto", "netem", "proxy"

// Per-device topic names for device `device` (0-based): {device} replaced.
std::vector<std::string> DeviceTopics(const Scenario& scenario, int device);
// Subscription filters that cover every device topic: each level containing a
// placeholder becomes '+'; duplicates removed, order kept.
std::vector<std::string> SubscriptionFilters(const Scenario& scenario);

}  // namespace edgebench

#endif  // EDGEBENCH_SCENARIO_SCENARIO_H_

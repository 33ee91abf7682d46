// The worker's load engine: many libmosquitto connections driven by one EventLoop.
#include "edgebench/load/load_generator.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/base/event_loop.h"
#include "edgebench/base/logging.h"
#include "edgebench/base/netns.h"
#include "edgebench/base/process.h"
#include "edgebench/load/schedule.h"
#include "edgebench/mqtt/credentials.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/mqtt/payload.h"
#include "edgebench/mqtt/protocol_check.h"

namespace edgebench {
namespace {

// Event tags: a connection's is its index; the control fd's is kControlTag.
constexpr uint64_t kControlTag = std::numeric_limits<uint64_t>::max();
// Messages sent before the loop looks at the sockets again: large enough to catch up fast,
// small enough that acks and keep-alives are not starved.
constexpr int kMaxBurst = 512;
// rate: max: messages one connection sends in a row before the next connection's turn.
constexpr int kConnectionBurst = 64;
constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr uint64_t kMaintenanceNs = 50'000'000;    // reconnect checks
constexpr uint64_t kFirstBackoffNs = 100'000'000;  // first reconnect after 100 ms
constexpr uint64_t kMaxBackoffNs = 5'000'000'000;  // doubling up to 5 s
constexpr uint64_t kConnectRetryNs = 100'000'000;  // Connect(): refused ones again
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// splitmix64: a tiny per-device generator for Poisson gaps (8 bytes per device, not 2.5 KB
// like std::mt19937_64, which matters for 10,000 devices).
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// An exponentially distributed gap with mean 1/rate seconds, in ns.
uint64_t ExponentialGapNs(uint64_t* state, double rate) {
  double u = (static_cast<double>(NextRandom(state) >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
  return static_cast<uint64_t>(-std::log(u) / rate * 1e9);
}

// One line for the connections libmosquitto closed on a protocol error; `packet` is the
// last one received before such a close ("PUBACK (Mid: 3, RC:0)"), "" when not known yet.
std::string DescribeProtocolErrors(const std::string& address, int qos, const std::string& packet) {
  const std::string type = packet.substr(0, packet.find(' '));
  const std::string closed = "libmosquitto closes the connection on it (protocol error)";
  if (qos == 2 && type == "PUBACK") {
    return fmt::format(
        "the broker at {} answered the devices' QoS 2 PUBLISHes with PUBACK, the ack of QoS 1 "
        "(QoS 2 is PUBREC, PUBREL, PUBCOMP); {}",
        address, closed);
  }
  if (qos == 1 && (type == "PUBREC" || type == "PUBCOMP")) {
    return fmt::format(
        "the broker at {} answered the devices' QoS 1 PUBLISHes with {}, an ack of QoS 2 (QoS 1 "
        "is PUBACK); {}",
        address, type, closed);
  }
  std::string line = "the broker at " + address +
                     " broke the MQTT protocol on the devices' connections: libmosquitto closed "
                     "them (protocol error)";
  if (!type.empty()) line += " after receiving a " + type;
  return line;
}

}  // namespace

// What the devices ask of the broker, and what it answered that was not that.
struct LoadGenerator::ProtocolState {
  ProtocolAsk ask;
  bool any_connack = false;                  // some connection got a CONNACK (any code)
  uint64_t protocol_errors = 0;              // connections libmosquitto closed on one
  std::string packet;                        // the packet that caused one, once recorded
  std::vector<ProtocolMismatch> mismatches;  // CONNACK grants met on a reconnect
  std::vector<std::string> notes;            // each once

  void AddNote(std::string note) {
    if (std::find(notes.begin(), notes.end(), note) == notes.end())
      notes.push_back(std::move(note));
  }
};

uint64_t FilesNeededForConnections(uint64_t connections) { return connections * 3 + 64; }

Status EnsureOpenFilesLimit(uint64_t connections) {
  uint64_t needed = FilesNeededForConnections(connections);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return Ok{};
  if (lim.rlim_cur >= needed) return Ok{};
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < needed) {
    return Error{fmt::format(
        "{} connections need about {} open files (3 per connection), but the hard limit is "
        "{}; use devices.gateways, more workers, or raise the hard limit (ulimit -Hn)",
        connections, needed, lim.rlim_max)};
  }
  lim.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return Error{fmt::format("cannot raise the open-files limit to {}: {}", needed,
                             std::generic_category().message(errno))};
  }
  return Ok{};
}

// One MQTT connection: a device's own, or a gateway shared by several devices.
struct LoadGenerator::Connection : MqttHandler {
  int index = 0;
  Counters* totals = nullptr;  // the worker's running totals of acks and reconnects
  ProtocolState* protocol = nullptr;
  bool recording = false;  // client->RecordReceivedPackets() is on
  std::unique_ptr<MqttClient> client;
  std::vector<int> devices;  // indices into devices_ (local), served in turn under rate: max
  size_t next_device = 0;
  int fd = -1;            // the socket registered with the event loop, or -1
  bool touched = false;   // published to since the last SyncTouched()
  bool epollout = false;  // EPOLLOUT currently requested
  bool connected = false;
  bool ever_connected = false;
  bool failed = false;  // refused while connecting: fatal before the run
  std::string last_error;
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t disconnects = 0;
  uint64_t reconnects = 0;
  uint64_t retry_at_ns = 0;  // next reconnect attempt while down
  uint64_t backoff_ns = kFirstBackoffNs;

  uint64_t inflight() const { return sent - acked; }

  // A grant the scenario's publishes cannot live with: fatal on the first connect (nothing
  // has been measured yet), a mismatch of the report on a reconnect.
  void OnConnackProperties(const ConnackProperties& granted) override {
    ConnackCheck check = CheckConnack(granted, protocol->ask);
    for (std::string& note : check.notes) protocol->AddNote(std::move(note));
    if (check.mismatches.empty()) return;
    if (!ever_connected) {
      failed = true;
      last_error = check.mismatches.front();
      return;
    }
    for (const std::string& m : check.mismatches) {
      AddProtocolMismatch(&protocol->mismatches, ProtocolMismatch{"devices", m, 1});
    }
  }
  void OnConnect(int rc) override {
    protocol->any_connack = true;
    if (rc == 0) {
      if (ever_connected) {
        ++reconnects;
        totals->Add(Counter::kWorkerReconnects);
      }
      connected = ever_connected = true;
      backoff_ns = kFirstBackoffNs;
      return;
    }
    last_error = "broker refused the connection: " + ConnackRefusal(client->options().protocol, rc);
    if (!ever_connected) failed = true;
  }
  // The first time, the packet is unknown: from then on libmosquitto's line about each
  // received packet is kept, so the next one names it.
  void OnProtocolError() {
    ++protocol->protocol_errors;
    if (recording && protocol->packet.empty()) protocol->packet = client->last_received();
    if (!recording) client->RecordReceivedPackets();
    recording = true;
  }
  void OnDisconnect(int rc) override {
    if (rc == MqttClient::kProtocolError) OnProtocolError();
    if (connected && rc != 0) {
      ++disconnects;
      totals->Add(Counter::kWorkerDisconnects);
    }
    connected = false;
  }
  void OnPublish(int) override {
    ++acked;
    totals->Add(Counter::kAcked);
  }
};

struct LoadGenerator::Device {
  std::vector<std::string> topics;
  int connection = 0;
  uint32_t id = 0;  // global device number (in the payload header)
  uint64_t k = 0;   // next message's sequence number
  uint64_t sent = 0;
  uint64_t rng = 0;  // Poisson arrivals
};

// The payload being built and the filler it takes its bytes from.
struct LoadGenerator::PublishBuffers {
  PublishBuffers(const Scenario& s)
      : header(s.latency),
        size(static_cast<size_t>(s.publish.payload.size)),
        filler(s.publish.payload.kind, size - (header ? kHeaderSize : 0), s.seed),
        buffer(std::max<size_t>(size, 1)) {}
  bool header;
  size_t size;
  FillerPool filler;
  std::vector<unsigned char> buffer;
};

// Connect()'s ramp: when each connection starts, and when the ramp gives up.
struct LoadGenerator::ConnectRamp {
  uint64_t start_ns = 0;
  double spacing_ns = 0;  // between two connections' starts (0: all at once)
  uint64_t deadline_ns = 0;
  uint64_t next_retry_ns = 0;
  size_t started = 0;                  // connections_[0, started) have been started
  std::string last_error;              // the reason the last failed attempt gave
  bool closed_before_connack = false;  // the broker closed a connection it had not answered

  uint64_t StartNs(size_t i) const {
    return start_ns + static_cast<uint64_t>(spacing_ns * static_cast<double>(i));
  }
};

// What the steps of one Run() share.
struct LoadGenerator::RunState {
  RunState(const Scenario& s, const RunClock& c)
      : clock(c),
        schedule(std::max(1, s.devices.count), s.publish.rate, c.t0_ns, kNever),
        drain_end_ns(c.drain_end_ns),
        // A generator behind its schedule sends on past the window for at most 1 s (or half
        // the drain), so that the drain still has time for what it sent.
        send_end_ns(c.window_end_ns +
                    std::min<uint64_t>(kNsPerS, (c.drain_end_ns - c.window_end_ns) / 2)) {}
  RunClock clock;
  Schedule schedule;                 // constant-rate arrivals
  DueQueue queue;                    // (intended time, device) of each device's next message
  std::vector<Connection*> touched;  // published to since the last SyncTouched()
  bool stop = false;                 // the control fd said stop (or hung up)
  uint64_t drain_end_ns;             // brought forward once every count is sent
  uint64_t send_end_ns;              // no scheduled message is sent after this
};

LoadGenerator::LoadGenerator(const WorkerConfig& config)
    : config_(config), protocol_(std::make_unique<ProtocolState>()) {}

LoadGenerator::~LoadGenerator() = default;

Status LoadGenerator::Connect() {
  Result<EventLoop> loop = EventLoop::Create();
  if (!loop.ok()) return loop.error();
  loop_.emplace(std::move(loop.value()));
  const Scenario& s = config_.scenario;
  first_device_ = config_.first_device;
  int n_devices = config_.device_count > 0 ? config_.device_count : s.devices.count;
  int n_conn = config_.gateways > 0 ? std::min(config_.gateways, n_devices) : n_devices;
  if (Status st = EnsureOpenFilesLimit(static_cast<uint64_t>(n_conn)); !st) return st;
  if (Status st = CreateClients(n_conn); !st) return st;
  AssignDevices(n_devices);
  protocol_->ask = DevicesAsk();
  return OpenConnections();
}

// The publish limits the scenario needs from the broker; the packet size is that of the
// largest PUBLISH (the longest topic, the MQTT 5 user properties).
ProtocolAsk LoadGenerator::DevicesAsk() const {
  const Scenario& s = config_.scenario;
  ProtocolAsk ask;
  ask.who = "devices";
  ask.address = fmt::format("{}:{}", config_.host, config_.port);
  ask.keepalive_s = s.broker.keepalive_s;
  ask.publish_qos = s.publish.qos;
  ask.retain = s.publish.retain;
  ask.max_inflight = s.publish.max_inflight;
  size_t property_bytes = 0;
  for (const UserProperty& p : s.broker.user_properties) {
    property_bytes += 1 + 2 + p.name.size() + 2 + p.value.size();
  }
  size_t longest_topic = 0;
  for (const Device& d : devices_) {
    for (const std::string& t : d.topics) longest_topic = std::max(longest_topic, t.size());
  }
  ask.publish_packet_bytes =
      PublishPacketSize(longest_topic, static_cast<size_t>(s.publish.payload.size), s.publish.qos,
                        s.broker.protocol, property_bytes);
  return ask;
}

Status LoadGenerator::CreateClients(int n_conn) {
  const Scenario& s = config_.scenario;
  for (int i = 0; i < n_conn; ++i) {
    auto c = std::make_unique<Connection>();
    c->index = i;
    c->totals = &report_.counters;
    c->protocol = protocol_.get();
    std::string id = fmt::format("eb-{}-{}", config_.run_id,
                                 s.devices.gateways > 0 ? fmt::format("w{}g{}", config_.index, i)
                                                        : std::to_string(first_device_ + i));
    MqttClientOptions o = ClientOptionsFor(s, id, config_.host, config_.port, config_.password);
    Result<std::unique_ptr<MqttClient>> client = MqttClient::Create(o, c.get());
    if (!client.ok()) return client.error();
    c->client = std::move(client.value());
    connections_.push_back(std::move(c));
  }
  return Ok{};
}

// Device i uses connection i modulo the number of connections.
void LoadGenerator::AssignDevices(int n_devices) {
  const Scenario& s = config_.scenario;
  const int n_conn = static_cast<int>(connections_.size());
  devices_.resize(static_cast<size_t>(n_devices));
  for (int i = 0; i < n_devices; ++i) {
    Device& d = devices_[static_cast<size_t>(i)];
    d.id = static_cast<uint32_t>(first_device_ + i);
    d.topics = DeviceTopics(s, first_device_ + i);
    d.connection = i % n_conn;
    d.rng = s.seed ^ (0x5DEECE66Dull * (d.id + 1));
    connections_[static_cast<size_t>(d.connection)]->devices.push_back(i);
  }
}

// Connections open at connect_rate per second (all at once when 0); each must be up
// within connect_timeout_s of its own start. A refused or reset connection is tried again
// every 100 ms: a broker still starting or a full accept queue is not a reason to give up.
Status LoadGenerator::OpenConnections() {
  const Scenario& s = config_.scenario;
  ConnectRamp ramp;
  ramp.start_ns = MonotonicNowNs();
  ramp.spacing_ns = s.devices.connect_rate > 0 ? 1e9 / s.devices.connect_rate : 0;
  ramp.deadline_ns =
      ramp.StartNs(connections_.size()) + static_cast<uint64_t>(s.broker.connect_timeout_s * 1e9);
  ramp.next_retry_ns = ramp.start_ns + kConnectRetryNs;
  size_t connected = 0;
  for (;;) {
    uint64_t now = MonotonicNowNs();
    while (ramp.started < connections_.size() && now >= ramp.StartNs(ramp.started)) {
      StartConnection(*connections_[ramp.started++], true, &ramp);
    }
    connected = 0;
    for (auto& c : connections_) {
      if (c->connected) ++connected;
      if (c->failed) return Error{c->last_error};
    }
    if (connected == connections_.size() || now >= ramp.deadline_ns) break;
    if (now >= ramp.next_retry_ns) RetryLostConnections(now, &ramp);
    uint64_t wake = std::min(ramp.deadline_ns, ramp.next_retry_ns);
    if (ramp.started < connections_.size()) wake = std::min(wake, ramp.StartNs(ramp.started));
    ServeConnecting(Wait(now, wake), &ramp);
  }
  if (connected == connections_.size()) return Ok{};
  std::string why = ramp.last_error.empty() ? "no answer (connect timeout)" : ramp.last_error;
  if (ramp.closed_before_connack && !protocol_->any_connack) {
    why += ClosedBeforeConnackHint(s.broker.protocol);
  }
  return Error{
      fmt::format("cannot connect to the broker at {}:{}: {} of {} {} connected within {:g} s ({})",
                  config_.host, config_.port, connected, connections_.size(),
                  s.devices.gateways > 0 ? "gateways" : "devices",
                  static_cast<double>(ramp.deadline_ns - ramp.start_ns) / 1e9, why)};
}

void LoadGenerator::StartConnection(Connection& c, bool first, ConnectRamp* ramp) {
  Status st = first ? c.client->ConnectAsync() : c.client->ReconnectAsync();
  if (!st) {
    // Keep only the reason: the address is in the final message already.
    const std::string& m = st.error().message;
    const std::string prefix = "to the broker at " + c.client->Address() + ": ";
    size_t at = m.find(prefix);
    ramp->last_error = at == std::string::npos ? m : m.substr(at + prefix.size());
  }
  SyncSocket(c);
}

// Started connections that are down without a socket (refused, reset) start again.
void LoadGenerator::RetryLostConnections(uint64_t now, ConnectRamp* ramp) {
  ramp->next_retry_ns = now + kConnectRetryNs;
  for (size_t i = 0; i < ramp->started; ++i) {
    Connection& c = *connections_[i];
    if (!c.connected && c.client->socket() < 0) StartConnection(c, false, ramp);
  }
}

void LoadGenerator::ServeConnecting(int n, ConnectRamp* ramp) {
  for (int i = 0; i < n; ++i) {
    EventLoop::Event ev = loop_->event(i);
    Connection& c = *connections_[static_cast<size_t>(ev.tag)];
    int rc = ServeSocket(c, ev.events);
    if (rc != 0) ramp->last_error = c.client->DescribeError(rc);
    if (rc == MqttClient::kConnectionLost && !c.ever_connected) ramp->closed_before_connack = true;
    SyncSocket(c);
  }
}

// Lets libmosquitto read and write as the socket's events allow; returns its error code.
int LoadGenerator::ServeSocket(Connection& c, uint32_t events) {
  int rc = 0;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = c.client->LoopRead();
  if (rc == 0 && (events & EPOLLOUT)) rc = c.client->LoopWrite();
  return rc;
}

// Watches the connection's current socket (a reconnect makes a new one), with EPOLLOUT
// while libmosquitto has bytes queued. epoll_ctl errors are left alone: the old socket
// may be closed already (the kernel then forgot it), and the new one is open.
void LoadGenerator::SyncSocket(Connection& c) {
  const int s = c.client->socket();
  const auto tag = static_cast<uint64_t>(c.index);
  if (s != c.fd) {
    if (c.fd >= 0) (void)loop_->Unwatch(c.fd);
    c.fd = s;
    c.epollout = false;
    if (s < 0) return;
    (void)loop_->Watch(s, tag, EPOLLIN);
  }
  if (s < 0) return;
  bool want = c.client->want_write();
  if (want == c.epollout) return;
  (void)loop_->Modify(s, tag, EPOLLIN | (want ? EPOLLOUT : 0u));
  c.epollout = want;
}

// A failed wait (not EINTR, which is 0 events) cannot happen on a valid epoll fd; it
// counts as a wait without events, and the loop carries on.
int LoadGenerator::Wait(uint64_t now_ns, uint64_t deadline_ns) {
  Result<int> n = loop_->Wait(now_ns, deadline_ns);
  return n.ok() ? *n : 0;
}

void LoadGenerator::Publish(Device& d, Connection& c, uint64_t intended_ns, const RunClock& clock) {
  PublishBuffers& b = *buffers_;
  Counters& counters = report_.counters;
  uint32_t seq = static_cast<uint32_t>(d.k);
  const std::string& topic = d.topics[d.k % d.topics.size()];
  ++d.k;
  counters.Add(Counter::kScheduled);
  if (d.k == config_.scenario.publish.count) ++devices_done_;
  if (!c.connected) {
    counters.Add(Counter::kSkippedDisconnected);  // never published late: the schedule is the point
    return;
  }
  const size_t offset = b.header ? kHeaderSize : 0;
  b.filler.Fill(d.id, seq, b.buffer.data() + offset, b.size - offset);
  uint64_t sent_ns = MonotonicNowNs();
  if (intended_ns == 0) intended_ns = sent_ns;  // rate: max
  if (b.header) {
    EncodeHeader(PayloadHeader{config_.run_id, d.id, seq, intended_ns, sent_ns}, b.buffer.data());
  }
  int rc =
      c.client->Publish(topic.c_str(), b.buffer.data(), static_cast<int>(b.size),
                        config_.scenario.publish.qos, config_.scenario.publish.retain, nullptr);
  if (rc != 0) {
    counters.Add(Counter::kPublishErrors);
    return;
  }
  ++d.sent;
  ++c.sent;
  counters.Add(Counter::kSent);
  counters.Set(Counter::kLastSendNs, sent_ns);
  size_t second =
      sent_ns > clock.t0_ns ? static_cast<size_t>((sent_ns - clock.t0_ns) / kNsPerS) : 0;
  if (second >= report_.sent_per_second.size()) report_.sent_per_second.resize(second + 1);
  ++report_.sent_per_second[second];
  if (intended_ns >= clock.window_start_ns && intended_ns < clock.window_end_ns) {
    counters.Add(Counter::kWindowSent);
    report_.lag_us.Record(static_cast<int64_t>((sent_ns - intended_ns) / 1000));
  }
}

// Every 50 ms: a slice of the keep-alives, and reconnects with back-off. Once a second:
// the progress report.
void LoadGenerator::Maintain(uint64_t now,
                             const std::function<void(const Counters&)>& on_progress) {
  if (now >= next_maintenance_ns_) {
    next_maintenance_ns_ = now + kMaintenanceNs;
    // Keep-alives for one slice of the connections per pass, so that every connection is
    // served once a second without a once-a-second stall of the schedule (6,000 connections
    // at once took milliseconds).
    const size_t passes = kNsPerS / kMaintenanceNs;
    const size_t slice = (connections_.size() + passes - 1) / passes;
    for (size_t i = 0; i < slice && !connections_.empty(); ++i) {
      Connection& c = *connections_[next_misc_ % connections_.size()];
      next_misc_ = (next_misc_ + 1) % connections_.size();
      if (!c.connected) continue;
      c.client->LoopMisc();
      c.retry_at_ns = 0;
      SyncSocket(c);
    }
    for (auto& c : connections_) {
      if (c->connected || c->client->socket() >= 0 || now < c->retry_at_ns) continue;
      if (c->retry_at_ns == 0) {  // just lost: wait the first back-off
        c->retry_at_ns = now + c->backoff_ns;
        continue;
      }
      c->backoff_ns = std::min(c->backoff_ns * 2, kMaxBackoffNs);
      c->retry_at_ns = now + c->backoff_ns;
      Status st = c->client->ReconnectAsync();
      if (!st) spdlog::debug("connection {} reconnect: {}", c->index, st.error().message);
      SyncSocket(*c);
    }
  }
  if (now < next_tick_ns_) return;
  next_tick_ns_ += kNsPerS;
  on_progress(report_.counters);
}

// Handles socket and control events; returns false when the control fd says stop.
bool LoadGenerator::HandleEvents(int n) {
  bool go_on = true;
  for (int i = 0; i < n; ++i) {
    EventLoop::Event ev = loop_->event(i);
    if (ev.tag == kControlTag) {
      go_on = false;  // "stop", or EOF because the orchestrator is gone
      continue;
    }
    Connection& c = *connections_[static_cast<size_t>(ev.tag)];
    if (int rc = ServeSocket(c, ev.events); rc != 0) {
      spdlog::debug("connection {} error: {}", c.index, c.client->DescribeError(rc));
      c.retry_at_ns = 0;
    }
    SyncSocket(c);
  }
  return go_on;
}

void LoadGenerator::Run(const RunClock& clock, int control_fd,
                        const std::function<void(const Counters&)>& on_progress) {
  RunState r(config_.scenario, clock);
  StartRun(r, control_fd);
  for (;;) {
    uint64_t now = MonotonicNowNs();
    const bool busy = !r.stop && SendDue(r, now);
    const bool sending_over = SendingOver(r, now);
    if (sending_over) CountBacklog(r);  // behind at send_end_ns: what is left stays unsent
    if (sending_over && DoneDraining(r, now)) break;
    // Still busy: only peek at the sockets, then send on.
    uint64_t deadline = busy ? now : WakeNs(r, now, sending_over);
    if (!HandleEvents(Wait(now, deadline))) r.stop = true;
    Maintain(MonotonicNowNs(), on_progress);
  }
  Finish(r);
}

void LoadGenerator::StartRun(RunState& r, int control_fd) {
  const Scenario& s = config_.scenario;
  report_ = WorkerReport();
  buffers_ = std::make_unique<PublishBuffers>(s);
  (void)loop_->Watch(control_fd, kControlTag, EPOLLIN);  // a pipe: cannot fail
  next_tick_ns_ = r.clock.t0_ns + kNsPerS;
  r.touched.reserve(connections_.size());
  if (!s.publish.rate_max) {
    r.queue.reserve(devices_.size());
    for (size_t i = 0; i < devices_.size(); ++i) {
      uint64_t due = NextDueNs(r, devices_[i], 0);
      if (due != kNever) r.queue.Push(due, static_cast<int>(i));
    }
  }
  spdlog::info("worker publishing devices={} connections={} rate={}", devices_.size(),
               connections_.size(),
               s.publish.rate_max ? "max" : fmt::format("{:g}", s.publish.rate));
}

// When device d's next message is due, given the previous one's time; kNever when the
// device has sent its count or the message would fall after the window.
uint64_t LoadGenerator::NextDueNs(RunState& r, Device& d, uint64_t previous_ns) {
  const PublishSpec& p = config_.scenario.publish;
  if (p.count > 0 && d.k >= p.count) return kNever;
  uint64_t due = p.arrival == Arrival::kPoisson
                     ? (d.k == 0 ? r.clock.t0_ns : previous_ns) + ExponentialGapNs(&d.rng, p.rate)
                     : r.schedule.IntendedNs(static_cast<int>(d.id), d.k);
  return due < r.clock.window_end_ns ? due : kNever;
}

// Sends what is due at `now`; true when more could go at once (the burst limit was hit, or
// under rate: max a connection could take another message).
bool LoadGenerator::SendDue(RunState& r, uint64_t now) {
  int burst = 0;
  bool more_now = false;
  if (config_.scenario.publish.rate_max) {
    if (now >= r.clock.t0_ns && now < r.clock.window_end_ns) more_now = SendAtMaxRate(r, &burst);
  } else {
    SendScheduled(r, now, &burst);
  }
  SyncTouched(r);
  return more_now || burst == kMaxBurst;
}

// The overdue messages in due order, up to kMaxBurst in all.
void LoadGenerator::SendScheduled(RunState& r, uint64_t now, int* burst) {
  while (!r.queue.empty() && r.queue.Top().due_ns <= now && *burst < kMaxBurst) {
    DueQueue::Entry e = r.queue.Top();
    r.queue.Pop();
    Device& d = devices_[static_cast<size_t>(e.device)];
    Connection& c = *connections_[static_cast<size_t>(d.connection)];
    Publish(d, c, e.due_ns, r.clock);
    uint64_t due = NextDueNs(r, d, e.due_ns);
    if (due != kNever) r.queue.Push(due, e.device);
    Touch(r, c);
    ++*burst;
  }
}

// rate: max. Round-robin over the connections, passes until none can take more or the
// burst limit is reached; returns whether the last pass sent anything.
bool LoadGenerator::SendAtMaxRate(RunState& r, int* burst) {
  bool progressed = true;
  while (progressed && *burst < kMaxBurst) {
    progressed = false;
    for (auto& c : connections_) {
      int sent = SendConnectionBurst(r, *c);
      if (sent > 0) progressed = true;
      *burst += sent;
    }
  }
  return progressed;
}

// Up to kConnectionBurst of c's devices' messages in a row, while its socket takes them and
// its in-flight window has room. Consecutive writes to one socket let the kernel coalesce
// them into fewer segments (one message per connection per pass cost about 3x the CPU per
// message). Returns how many it sent.
int LoadGenerator::SendConnectionBurst(RunState& r, Connection& c) {
  const PublishSpec& p = config_.scenario.publish;
  const auto max_inflight = static_cast<uint64_t>(p.max_inflight);
  int sent = 0;
  for (; sent < kConnectionBurst; ++sent) {
    if (!c.connected || c.client->want_write() || (p.qos > 0 && c.inflight() >= max_inflight)) {
      break;
    }
    Device* next = NextUnfinishedDevice(c);
    if (next == nullptr) break;
    Publish(*next, c, 0, r.clock);
    Touch(r, c);
  }
  return sent;
}

// The next of c's devices, in turn, that has not sent its count; nullptr when all have.
LoadGenerator::Device* LoadGenerator::NextUnfinishedDevice(Connection& c) {
  const uint64_t count = config_.scenario.publish.count;
  for (size_t tries = 0; tries < c.devices.size(); ++tries) {
    Device& d = devices_[static_cast<size_t>(c.devices[c.next_device])];
    c.next_device = (c.next_device + 1) % c.devices.size();
    if (count == 0 || d.k < count) return &d;
  }
  return nullptr;
}

void LoadGenerator::Touch(RunState& r, Connection& c) {
  if (c.touched) return;
  c.touched = true;
  r.touched.push_back(&c);
}

// Once per burst, not per message: EPOLLOUT for the sockets libmosquitto could not empty.
void LoadGenerator::SyncTouched(RunState& r) {
  for (Connection* c : r.touched) {
    c->touched = false;
    SyncSocket(*c);
  }
  r.touched.clear();
}

bool LoadGenerator::AllCounted() const {
  const uint64_t count = config_.scenario.publish.count;
  return count > 0 && devices_done_ == devices_.size();
}

// Done sending: stopped, every device has sent its count, or the window is over.
bool LoadGenerator::SendingOver(const RunState& r, uint64_t now) const {
  if (r.stop || AllCounted()) return true;
  if (config_.scenario.publish.rate_max) return now >= r.clock.window_end_ns;
  // A generator still behind at send_end_ns stops there: sending on would outlast the
  // drain, and then the orchestrator's patience, and lose the report of what it did send.
  return r.queue.empty() || now >= r.send_end_ns;
}

// The messages still due when sending stopped (the queue is not empty only when the
// generator fell behind): each counts as scheduled and is never sent, so `unsent` shows it.
void LoadGenerator::CountBacklog(RunState& r) {
  Counters& counters = report_.counters;
  while (!r.queue.empty()) {
    DueQueue::Entry e = r.queue.Top();
    r.queue.Pop();
    Device& d = devices_[static_cast<size_t>(e.device)];
    for (uint64_t due = e.due_ns; due != kNever; due = NextDueNs(r, d, due)) {
      counters.Add(Counter::kScheduled);
      ++d.k;
    }
  }
}

// After sending: every message acknowledged, or the drain is over. A run bounded by
// publish.count drains for drain_s after its last message.
bool LoadGenerator::DoneDraining(RunState& r, uint64_t now) {
  const Counters& totals = report_.counters;
  if (AllCounted() && totals[Counter::kLastSendNs]) {
    r.drain_end_ns =
        std::min(r.drain_end_ns, totals[Counter::kLastSendNs] +
                                     static_cast<uint64_t>(config_.scenario.drain_s * 1e9));
  }
  return r.stop || totals[Counter::kAcked] >= totals[Counter::kSent] || now >= r.drain_end_ns;
}

// The next thing to wake up for: the progress tick, maintenance, the next due message (or
// the window's end, or the drain's), and under rate: max the start.
uint64_t LoadGenerator::WakeNs(const RunState& r, uint64_t now, bool sending_over) const {
  uint64_t deadline = std::min(next_tick_ns_, next_maintenance_ns_);
  uint64_t next_send = r.queue.empty() ? r.clock.window_end_ns : r.queue.Top().due_ns;
  deadline = std::min(deadline, sending_over ? r.drain_end_ns : next_send);
  if (config_.scenario.publish.rate_max && now < r.clock.t0_ns) {
    deadline = std::min(deadline, r.clock.t0_ns);
  }
  return deadline;
}

void LoadGenerator::Finish(const RunState& r) {
  Counters& c = report_.counters;
  for (const Device& d : devices_) report_.sent_per_device.push_back(d.sent);
  const uint64_t sent = c[Counter::kSent];
  const uint64_t acked = c[Counter::kAcked];
  c.Set(Counter::kUnacked, sent > acked ? sent - acked : 0);
  ReportProtocol(r);
  const OwnUsage usage = OwnResourceUsage();
  report_.cpu_s = usage.cpu_s;
  report_.rss_peak_kb = usage.rss_peak_kb;
  spdlog::info("worker done sent={} acked={} errors={} skipped={} disconnects={} reconnects={}",
               sent, acked, c[Counter::kPublishErrors], c[Counter::kSkippedDisconnected],
               c[Counter::kWorkerDisconnects], c[Counter::kWorkerReconnects]);
}

// The protocol mismatches and notes of the run into the report. A run that was stopped
// early (a signal, the broker died) has failed already: its missing acks say nothing.
void LoadGenerator::ReportProtocol(const RunState& r) {
  const ProtocolState& p = *protocol_;
  const int qos = config_.scenario.publish.qos;
  report_.protocol_mismatches = p.mismatches;
  report_.protocol_notes = p.notes;
  if (p.protocol_errors > 0) {
    AddProtocolMismatch(
        &report_.protocol_mismatches,
        {"devices", DescribeProtocolErrors(p.ask.address, qos, p.packet), p.protocol_errors});
  }
  const Counters& c = report_.counters;
  const uint64_t sent = c[Counter::kSent];
  if (qos == 0 || r.stop || sent == 0) return;
  if (c[Counter::kAcked] == 0) {
    AddProtocolMismatch(
        &report_.protocol_mismatches,
        {"devices",
         fmt::format("the broker at {} acknowledged none of the QoS {} messages the devices sent "
                     "(by the end of the drain)",
                     p.ask.address, qos),
         sent});
  } else if (c[Counter::kUnacked] > 0) {
    report_.protocol_notes.push_back(fmt::format(
        "{} of the {} QoS {} messages the devices sent were never acknowledged by the end of "
        "the drain (messages.unacked)",
        c[Counter::kUnacked], sent, qos));
  }
}

WorkerReport LoadGenerator::TakeReport() { return std::move(report_); }

void LoadGenerator::DisconnectAll() {
  for (auto& conn : connections_) conn->client->Disconnect();
}

namespace {

Status Send(int fd, const FromWorkerMessage& message) {
  return WriteAll(fd, Encode(message), "worker pipe");
}

// Blocks until one message arrives on `fd`; nullopt on EOF or a line that is not one.
std::optional<ToWorkerMessage> Receive(int fd) {
  std::string line;
  char ch;
  for (;;) {
    ssize_t n = ::read(fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || ch == '\n') break;
    line.push_back(ch);
  }
  Result<ToWorkerMessage> m = DecodeToWorker(line);
  if (!m.ok()) return std::nullopt;
  return m.value();
}

}  // namespace

int WorkerMain(const WorkerConfig& config, int control_fd, int report_fd) {
  ::signal(SIGPIPE, SIG_IGN);
  // The kernel may delay a timed wake-up by the timer slack (50 us by default); the
  // schedule wants the wake-up on time, so ask for 1 ns.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  SetupWorkerLogging(config.log_path, config.log_level);
  MosquittoLibrary library;
  LoadGenerator generator(config);
  // Connect only when told: the orchestrator first starts its capture and collector.
  std::optional<ToWorkerMessage> connect = Receive(control_fd);
  if (!connect || !std::holds_alternative<ConnectMessage>(*connect)) return 0;
  uint64_t started = MonotonicNowNs();
  // network.backend netem: every device socket is made inside the devices' namespace.
  Status st = config.netns.empty() ? Status(Ok{}) : JoinNetworkNamespace(config.netns);
  if (st) st = generator.Connect();
  if (!st) {
    spdlog::debug("worker connect failed: {}", st.error().message);
    (void)Send(report_fd, ErrorMessage{st.error().message});
    return 3;
  }
  spdlog::info("worker {} connected in_ms={}", config.index,
               (MonotonicNowNs() - started) / 1'000'000);
  if (!Send(report_fd, ReadyMessage{config.scenario.devices.count})) return 3;

  std::optional<ToWorkerMessage> go = Receive(control_fd);
  if (!go || !std::holds_alternative<GoMessage>(*go)) return 0;  // told to leave
  generator.Run(std::get<GoMessage>(*go).clock, control_fd, [&](const Counters& progress) {
    (void)Send(report_fd, ProgressMessage{progress});
  });
  Status sent = Send(report_fd, FinalMessage{generator.TakeReport()});
  FlushLogs();
  // The connections stay open until the orchestrator lets go (EOF on the control pipe, after
  // its drain): thousands of disconnects at once keep the broker busy for a quarter of a
  // second, and the last messages of the window, still on their way to the collector, would
  // wait behind them (seen: a latency p99 of 275 ms from the last second, 10,000 devices).
  (void)Receive(control_fd);
  generator.DisconnectAll();
  return sent ? 0 : 3;
}

}  // namespace edgebench

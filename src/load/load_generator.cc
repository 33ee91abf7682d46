// The worker's load engine: many libmosquitto connections driven by one epoll loop.
#include "edgebench/load/load_generator.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/mqtt/credentials.h"
#include "edgebench/base/logging.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/base/netns.h"
#include "edgebench/mqtt/payload.h"
#include "edgebench/load/schedule.h"

namespace edgebench {
namespace {

constexpr uint32_t kControlTag = std::numeric_limits<uint32_t>::max();
constexpr int kMaxEvents = 256;
// Messages sent before the loop looks at the sockets again: large enough to catch up fast,
// small enough that acks and keep-alives are not starved.
constexpr int kMaxBurst = 512;
// rate: max: messages one connection sends in a row before the next connection's turn.
constexpr int kConnectionBurst = 64;
constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr uint64_t kMaintenanceNs = 50'000'000;       // reconnect checks
constexpr uint64_t kFirstBackoffNs = 100'000'000;     // first reconnect after 100 ms
constexpr uint64_t kMaxBackoffNs = 5'000'000'000;     // doubling up to 5 s
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

}  // namespace

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
                             strerror(errno))};
  }
  return Ok{};
}

// One MQTT connection: a device's own, or a gateway shared by several devices.
struct LoadGenerator::Connection : MqttHandler {
  int index = 0;
  Counters* totals = nullptr;  // the worker's running totals of acks and reconnects
  std::unique_ptr<MqttClient> client;
  std::vector<int> devices;  // indices into devices_ (local), served in turn under rate: max
  size_t next_device = 0;
  int fd = -1;            // the socket registered with epoll, or -1
  bool touched = false;   // published to since the last Sync()
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

  void OnConnect(int rc) override {
    if (rc == 0) {
      if (ever_connected) {
        ++reconnects;
        totals->Add(Counter::kWorkerReconnects);
      }
      connected = ever_connected = true;
      backoff_ns = kFirstBackoffNs;
      return;
    }
    last_error = "broker refused the connection: " +
                 MqttClient::ConnackString(client->options().protocol, rc);
    if (!ever_connected) failed = true;
  }
  void OnDisconnect(int rc) override {
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
  uint32_t id = 0;      // global device number (in the payload header)
  uint64_t k = 0;       // next message's sequence number
  uint64_t sent = 0;
  uint64_t rng = 0;     // Poisson arrivals
};

// The epoll set and the bookkeeping of which sockets want EPOLLOUT.
class LoadGenerator::Loop {
 public:
  Loop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

  void Watch(int fd, uint32_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = tag;
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  // Registers the connection's current socket, and EPOLLOUT while libmosquitto has bytes
  // queued.
  void Sync(Connection& c) {
    int s = c.client->socket();
    if (s != c.fd) {
      if (c.fd >= 0) ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, c.fd, nullptr);
      c.fd = s;
      c.epollout = false;
      if (s < 0) return;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(c.index);
      ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, s, &ev);
    }
    if (s < 0) return;
    bool want = c.client->want_write();
    if (want == c.epollout) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<uint32_t>(c.index);
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, s, &ev);
    c.epollout = want;
  }

  // Waits until `deadline_ns` (CLOCK_MONOTONIC) at most; returns the number of events.
  int Wait(uint64_t now_ns, uint64_t deadline_ns) {
    uint64_t wait_ns = deadline_ns > now_ns ? deadline_ns - now_ns : 0;
    timespec ts{static_cast<time_t>(wait_ns / kNsPerS), static_cast<long>(wait_ns % kNsPerS)};
    int n = ::epoll_pwait2(epfd_.get(), events_, kMaxEvents, &ts, nullptr);
    if (n < 0 && errno == ENOSYS) {
      // Kernels before 5.11: millisecond resolution, rounded up so we never wake early.
      n = ::epoll_wait(epfd_.get(), events_, kMaxEvents,
                       static_cast<int>((wait_ns + 999'999) / 1'000'000));
    }
    return n < 0 ? 0 : n;
  }
  const epoll_event& event(int i) const { return events_[i]; }

 private:
  Fd epfd_;
  epoll_event events_[kMaxEvents];
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

LoadGenerator::LoadGenerator(const WorkerConfig& config)
    : config_(config), loop_(std::make_unique<Loop>()) {}

LoadGenerator::~LoadGenerator() = default;

Status LoadGenerator::Connect() {
  const Scenario& s = config_.scenario;
  first_device_ = config_.first_device;
  int n_devices = config_.device_count > 0 ? config_.device_count : s.devices.count;
  int n_conn = config_.gateways > 0 ? std::min(config_.gateways, n_devices) : n_devices;
  if (Status st = EnsureOpenFilesLimit(static_cast<uint64_t>(n_conn)); !st) return st;
  for (int i = 0; i < n_conn; ++i) {
    auto c = std::make_unique<Connection>();
    c->index = i;
    c->totals = &report_.counters;
    std::string id = fmt::format("eb-{}-{}", config_.run_id,
                                 s.devices.gateways > 0 ? fmt::format("w{}g{}", config_.index, i)
                                                        : std::to_string(first_device_ + i));
    MqttClientOptions o = ClientOptionsFor(s, id, config_.host, config_.port, config_.password);
    Result<std::unique_ptr<MqttClient>> client = MqttClient::Create(o, c.get());
    if (!client.ok()) return client.error();
    c->client = std::move(client.value());
    connections_.push_back(std::move(c));
  }
  devices_.resize(static_cast<size_t>(n_devices));
  for (int i = 0; i < n_devices; ++i) {
    Device& d = devices_[static_cast<size_t>(i)];
    d.id = static_cast<uint32_t>(first_device_ + i);
    d.topics = DeviceTopics(s, first_device_ + i);
    d.connection = i % n_conn;
    d.rng = s.seed ^ (0x5DEECE66Dull * (d.id + 1));
    connections_[static_cast<size_t>(d.connection)]->devices.push_back(i);
  }

  // Connections open at connect_rate per second (all at once when 0); each must be up
  // within connect_timeout_s of its own start. A refused or reset connection is tried again
  // every 100 ms: a broker still starting or a full accept queue is not a reason to give up.
  const uint64_t start = MonotonicNowNs();
  const double spacing_ns = s.devices.connect_rate > 0 ? 1e9 / s.devices.connect_rate : 0;
  const uint64_t deadline = start + static_cast<uint64_t>(spacing_ns * n_conn) +
                            static_cast<uint64_t>(s.broker.connect_timeout_s * 1e9);
  std::string last_error;
  size_t started = 0;
  auto attempt = [&](Connection& c, bool first) {
    Status st = first ? c.client->ConnectAsync() : c.client->ReconnectAsync();
    if (!st) {
      // Keep only the reason: the address is in the final message already.
      const std::string& m = st.error().message;
      const std::string prefix = "to the broker at " + c.client->Address() + ": ";
      size_t at = m.find(prefix);
      last_error = at == std::string::npos ? m : m.substr(at + prefix.size());
    }
    loop_->Sync(c);
  };
  size_t connected = 0;
  uint64_t next_retry = start + 100'000'000;
  for (;;) {
    uint64_t now = MonotonicNowNs();
    while (started < connections_.size() &&
           now >= start + static_cast<uint64_t>(spacing_ns * static_cast<double>(started))) {
      attempt(*connections_[started++], true);
    }
    connected = 0;
    for (auto& c : connections_) {
      if (c->connected) ++connected;
      if (c->failed) return Error{c->last_error};
    }
    if (connected == connections_.size() || now >= deadline) break;
    if (now >= next_retry) {
      next_retry = now + 100'000'000;
      for (size_t i = 0; i < started; ++i) {
        Connection& c = *connections_[i];
        if (!c.connected && c.client->socket() < 0) attempt(c, false);
      }
    }
    uint64_t wake = std::min(deadline, next_retry);
    if (started < connections_.size()) {
      wake = std::min(wake, start + static_cast<uint64_t>(spacing_ns * static_cast<double>(started)));
    }
    int n = loop_->Wait(now, wake);
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = loop_->event(i);
      Connection& c = *connections_[ev.data.u32];
      int rc = 0;
      if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = c.client->LoopRead();
      if (rc == 0 && (ev.events & EPOLLOUT)) rc = c.client->LoopWrite();
      if (rc != 0) last_error = c.client->DescribeError(rc);
      loop_->Sync(c);
    }
  }
  if (connected < connections_.size()) {
    std::string why = last_error.empty() ? "no answer (connect timeout)" : last_error;
    return Error{fmt::format(
        "cannot connect to the broker at {}:{}: {} of {} {} connected within {:g} s ({})",
        config_.host, config_.port, connected, connections_.size(),
        s.devices.gateways > 0 ? "gateways" : "devices",
        static_cast<double>(deadline - start) / 1e9, why)};
  }
  return Ok{};
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
  int rc = c.client->Publish(topic.c_str(), b.buffer.data(), static_cast<int>(b.size),
                             config_.scenario.publish.qos, config_.scenario.publish.retain,
                             nullptr);
  if (rc != 0) {
    counters.Add(Counter::kPublishErrors);
    return;
  }
  ++d.sent;
  ++c.sent;
  counters.Add(Counter::kSent);
  counters.Set(Counter::kLastSendNs, sent_ns);
  size_t second = sent_ns > clock.t0_ns ? static_cast<size_t>((sent_ns - clock.t0_ns) / kNsPerS) : 0;
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
      loop_->Sync(c);
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
      loop_->Sync(*c);
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
    const epoll_event& ev = loop_->event(i);
    if (ev.data.u32 == kControlTag) {
      go_on = false;  // "stop", or EOF because the orchestrator is gone
      continue;
    }
    Connection& c = *connections_[ev.data.u32];
    int rc = 0;
    if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = c.client->LoopRead();
    if (rc == 0 && (ev.events & EPOLLOUT)) rc = c.client->LoopWrite();
    if (rc != 0) {
      spdlog::debug("connection {} error: {}", c.index, c.client->DescribeError(rc));
      c.retry_at_ns = 0;
    }
    loop_->Sync(c);
  }
  return go_on;
}

void LoadGenerator::Run(const RunClock& clock, int control_fd,
                        const std::function<void(const Counters&)>& on_progress) {
  const Scenario& s = config_.scenario;
  report_ = WorkerReport();
  buffers_ = std::make_unique<PublishBuffers>(s);
  loop_->Watch(control_fd, kControlTag);
  next_tick_ns_ = clock.t0_ns + kNsPerS;
  const uint64_t count = s.publish.count;
  const int qos = s.publish.qos;
  const uint64_t max_inflight = static_cast<uint64_t>(s.publish.max_inflight);
  const int n = static_cast<int>(devices_.size());

  // The schedule: a heap of (intended time, device) for constant and Poisson arrivals.
  Schedule schedule(std::max(1, s.devices.count), s.publish.rate, clock.t0_ns, kNever);
  DueQueue queue;
  auto next_due = [&](Device& d, uint64_t previous) -> uint64_t {
    if (count > 0 && d.k >= count) return kNever;
    uint64_t due = s.publish.arrival == Arrival::kPoisson
                       ? (d.k == 0 ? clock.t0_ns : previous) + ExponentialGapNs(&d.rng, s.publish.rate)
                       : schedule.IntendedNs(static_cast<int>(d.id), d.k);
    return due < clock.window_end_ns ? due : kNever;
  };
  if (!s.publish.rate_max) {
    queue.reserve(devices_.size());
    for (int i = 0; i < n; ++i) {
      uint64_t due = next_due(devices_[static_cast<size_t>(i)], 0);
      if (due != kNever) queue.Push(due, i);
    }
  }
  spdlog::info("worker publishing devices={} connections={} rate={}", n, connections_.size(),
               s.publish.rate_max ? "max" : fmt::format("{:g}", s.publish.rate));

  std::vector<Connection*> touched;
  bool stop = false;
  uint64_t drain_end = clock.drain_end_ns;
  for (;;) {
    uint64_t now = MonotonicNowNs();
    int burst = 0;
    bool more_now = false;  // rate: max: some connection could take another message now
    if (!stop && s.publish.rate_max && now >= clock.t0_ns && now < clock.window_end_ns) {
      // Round-robin over the connections; each sends up to kConnectionBurst of its devices'
      // messages in a row while its socket takes them and its in-flight window has room.
      // Consecutive writes to one socket let the kernel coalesce them into fewer segments
      // (one message per connection per pass cost about 3x the CPU per message).
      bool progressed = true;
      while (progressed && burst < kMaxBurst) {
        progressed = false;
        for (auto& cp : connections_) {
          Connection& c = *cp;
          for (int sent_here = 0; sent_here < kConnectionBurst; ++sent_here) {
            if (!c.connected || c.client->want_write() ||
                (qos > 0 && c.inflight() >= max_inflight)) {
              break;
            }
            Device* next = nullptr;
            for (size_t tries = 0; tries < c.devices.size() && next == nullptr; ++tries) {
              Device& d = devices_[static_cast<size_t>(c.devices[c.next_device])];
              c.next_device = (c.next_device + 1) % c.devices.size();
              if (count == 0 || d.k < count) next = &d;
            }
            if (next == nullptr) break;
            Publish(*next, c, 0, clock);
            if (!c.touched) {
              c.touched = true;
              touched.push_back(&c);
            }
            progressed = true;
            ++burst;
          }
        }
      }
      more_now = progressed;
    }
    while (!stop && !queue.empty() && queue.Top().due_ns <= now && burst < kMaxBurst) {
      DueQueue::Entry e = queue.Top();
      queue.Pop();
      Device& d = devices_[static_cast<size_t>(e.device)];
      Connection& c = *connections_[static_cast<size_t>(d.connection)];
      Publish(d, c, e.due_ns, clock);
      uint64_t due = next_due(d, e.due_ns);
      if (due != kNever) queue.Push(due, e.device);
      if (!c.touched) {
        c.touched = true;
        touched.push_back(&c);
      }
      ++burst;
    }
    for (Connection* c : touched) {
      c->touched = false;
      loop_->Sync(*c);
    }
    touched.clear();

    // Done sending: every device has sent its count, or the window is over.
    bool all_counted = count > 0 && devices_done_ == devices_.size();
    bool sending_over = stop || all_counted ||
                        (s.publish.rate_max ? now >= clock.window_end_ns : queue.empty());
    if (sending_over) {
      // A run bounded by publish.count drains for drain_s after its last message.
      const Counters& totals = report_.counters;
      if (all_counted && totals[Counter::kLastSendNs]) {
        drain_end = std::min(drain_end, totals[Counter::kLastSendNs] +
                                            static_cast<uint64_t>(s.drain_s * 1e9));
      }
      if (stop || totals[Counter::kAcked] >= totals[Counter::kSent] || now >= drain_end) break;
    }

    uint64_t deadline = std::min(next_tick_ns_, next_maintenance_ns_);
    deadline = std::min(deadline, sending_over ? drain_end
                                               : (queue.empty() ? clock.window_end_ns
                                                                : queue.Top().due_ns));
    if (s.publish.rate_max && now < clock.t0_ns) deadline = std::min(deadline, clock.t0_ns);
    if (burst == kMaxBurst || more_now) deadline = now;  // still busy: only peek at sockets
    int events = loop_->Wait(now, deadline);
    if (!HandleEvents(events)) stop = true;
    Maintain(MonotonicNowNs(), on_progress);
  }
  Finish();
}

void LoadGenerator::Finish() {
  Counters& c = report_.counters;
  for (const Device& d : devices_) report_.sent_per_device.push_back(d.sent);
  const uint64_t sent = c[Counter::kSent];
  const uint64_t acked = c[Counter::kAcked];
  c.Set(Counter::kUnacked, sent > acked ? sent - acked : 0);
  for (auto& conn : connections_) conn->client->Disconnect();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  report_.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  report_.rss_peak_kb = ru.ru_maxrss;
  spdlog::info("worker done sent={} acked={} errors={} skipped={} disconnects={} reconnects={}",
               sent, acked, c[Counter::kPublishErrors], c[Counter::kSkippedDisconnected],
               c[Counter::kWorkerDisconnects], c[Counter::kWorkerReconnects]);
}

WorkerReport LoadGenerator::TakeReport() { return std::move(report_); }

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
  return sent ? 0 : 3;
}

}  // namespace edgebench

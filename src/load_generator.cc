// The worker's load engine: many libmosquitto connections driven by one epoll loop.
#include "edgebench/load_generator.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgebench/clock.h"
#include "edgebench/logging.h"
#include "edgebench/mqtt_client.h"
#include "edgebench/payload.h"
#include "edgebench/schedule.h"

namespace edgebench {
namespace {

constexpr uint32_t kControlTag = std::numeric_limits<uint32_t>::max();
constexpr int kMaxEvents = 256;
// Overdue messages sent before the loop looks at the sockets again: large enough to catch
// up fast, small enough that acks and keepalives are not starved.
constexpr int kMaxBurst = 512;
constexpr uint64_t kNsPerS = 1'000'000'000;

}  // namespace

uint64_t FilesNeededForDevices(uint64_t devices) { return devices * 3 + 64; }

Status EnsureOpenFilesLimit(uint64_t devices) {
  uint64_t needed = FilesNeededForDevices(devices);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return Ok{};
  if (lim.rlim_cur >= needed) return Ok{};
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < needed) {
    return Error{std::to_string(devices) + " devices need about " + std::to_string(needed) +
                 " open files (3 per connection), but the hard limit is " +
                 std::to_string(lim.rlim_max) +
                 "; use fewer devices per run, or raise the hard limit (ulimit -Hn)"};
  }
  lim.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return Error{std::string("cannot raise the open-files limit to ") + std::to_string(needed) +
                 ": " + strerror(errno)};
  }
  return Ok{};
}

// One simulated device: its connection, topics and counters.
struct LoadGenerator::Device : MqttHandler {
  int index = 0;
  std::unique_ptr<MqttClient> client;
  std::vector<std::string> topics;
  int fd = -1;              // the socket registered with epoll, or -1
  bool epollout = false;    // EPOLLOUT currently requested
  bool connected = false;
  bool failed = false;
  std::string last_error;
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t disconnects = 0;

  void OnConnect(int rc) override {
    if (rc == 0) {
      connected = true;
      return;
    }
    failed = true;
    last_error = "broker refused the connection: " +
                 MqttClient::ConnackString(client->options().protocol, rc);
  }
  void OnDisconnect(int rc) override {
    if (connected && rc != 0) ++disconnects;
    connected = false;
  }
  void OnPublish(int) override { ++acked; }
};

// The epoll set and the bookkeeping of which sockets want EPOLLOUT.
class LoadGenerator::Loop {
 public:
  Loop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}
  int fd() const { return epfd_.get(); }

  void Watch(int fd, uint32_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = tag;
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  // Registers the device's current socket, and EPOLLOUT while libmosquitto has bytes queued.
  void Sync(Device& d) {
    int s = d.client->socket();
    if (s != d.fd) {
      if (d.fd >= 0) ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, d.fd, nullptr);
      d.fd = s;
      d.epollout = false;
      if (s < 0) return;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(d.index);
      ::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, s, &ev);
    }
    if (s < 0) return;
    bool want = d.client->want_write();
    if (want == d.epollout) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<uint32_t>(d.index);
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, s, &ev);
    d.epollout = want;
  }

  // Waits until `deadline_ns` (CLOCK_MONOTONIC) at most; fills `events`.
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

LoadGenerator::LoadGenerator(const WorkerConfig& config)
    : config_(config), loop_(std::make_unique<Loop>()) {}

LoadGenerator::~LoadGenerator() = default;

Status LoadGenerator::Connect() {
  const Scenario& s = config_.scenario;
  Status limit = EnsureOpenFilesLimit(static_cast<uint64_t>(s.devices.count));
  if (!limit) return limit;
  for (int i = 0; i < s.devices.count; ++i) {
    auto d = std::make_unique<Device>();
    d->index = i;
    d->topics = DeviceTopics(s, i);
    MqttClientOptions o;
    o.client_id = "eb-" + std::to_string(config_.run_id) + "-" + std::to_string(i);
    o.host = config_.host;
    o.port = config_.port;
    o.protocol = s.broker.protocol;
    o.keepalive_s = s.broker.keepalive_s;
    o.clean_session = s.broker.clean_session;
    Result<std::unique_ptr<MqttClient>> c = MqttClient::Create(o, d.get());
    if (!c.ok()) return c.error();
    d->client = std::move(c.value());
    devices_.push_back(std::move(d));
  }
  uint64_t deadline = MonotonicNowNs() +
                      static_cast<uint64_t>(s.broker.connect_timeout_s * 1e9);
  std::string last_error;
  // A refused or reset connection is tried again every 100 ms until the deadline: a broker
  // that is still starting, or a full accept queue, is not a reason to give up.
  auto attempt = [&](Device& d, bool first) {
    Status st = first ? d.client->ConnectAsync() : d.client->ReconnectAsync();
    if (!st) {
      const std::string& m = st.error().message;
      last_error = m.substr(m.rfind(": ") + 2);
    }
    loop_->Sync(d);
  };
  for (auto& d : devices_) attempt(*d, true);
  size_t connected = 0;
  uint64_t next_retry = MonotonicNowNs() + 100'000'000;
  for (;;) {
    connected = 0;
    for (auto& d : devices_) {
      if (d->connected) ++connected;
      if (d->failed) return Error{d->last_error};
    }
    if (connected == devices_.size()) break;
    uint64_t now = MonotonicNowNs();
    if (now >= deadline) break;
    if (now >= next_retry) {
      next_retry = now + 100'000'000;
      for (auto& d : devices_) {
        if (!d->connected && d->client->socket() < 0) attempt(*d, false);
      }
    }
    int n = loop_->Wait(now, std::min(deadline, next_retry));
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = loop_->event(i);
      Device& d = *devices_[ev.data.u32];
      int rc = 0;
      if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = d.client->LoopRead();
      if (rc == 0 && (ev.events & EPOLLOUT)) rc = d.client->LoopWrite();
      if (rc != 0) last_error = MqttClient::ErrorString(rc);
      loop_->Sync(d);
    }
  }
  if (connected < devices_.size()) {
    std::string why = last_error.empty() ? "no answer (connect timeout)" : last_error;
    return Error{"cannot connect to the broker at " + config_.host + ":" +
                 std::to_string(config_.port) + ": " + std::to_string(connected) + " of " +
                 std::to_string(devices_.size()) + " devices connected within " +
                 fmt::format("{:g}", s.broker.connect_timeout_s) + " s (" + why + ")"};
  }
  return Ok{};
}


void LoadGenerator::Run(const RunClock& clock, int control_fd,
                        const std::function<void(const WorkerCounters&)>& on_progress) {
  const Scenario& s = config_.scenario;
  const int n_devices = static_cast<int>(devices_.size());
  Schedule schedule(n_devices, s.publish.rate, clock.t0_ns, clock.window_end_ns);
  DueQueue queue;
  queue.reserve(devices_.size());
  std::vector<uint64_t> next_k(devices_.size(), 0);
  for (int d = 0; d < n_devices; ++d) {
    if (schedule.ScheduledCount(d) > 0) queue.Push(schedule.IntendedNs(d, 0), d);
  }
  report_ = WorkerReport();
  report_.counters.scheduled = schedule.TotalScheduled();

  const bool header = s.latency;
  const size_t size = static_cast<size_t>(s.publish.payload.size);
  const size_t filler_offset = header ? kHeaderSize : 0;
  FillerPool filler(s.publish.payload.kind, size - filler_offset, s.seed);
  std::vector<unsigned char> buffer(std::max<size_t>(size, 1));
  const int qos = s.publish.qos;
  const bool retain = s.publish.retain;
  WorkerCounters& c = report_.counters;

  loop_->Watch(control_fd, kControlTag);
  std::vector<Device*> touched;
  touched.reserve(kMaxBurst);
  uint64_t next_tick = clock.t0_ns + kNsPerS;
  bool stop = false;
  spdlog::info("worker publishing devices={} scheduled={}", n_devices, c.scheduled);

  for (;;) {
    uint64_t now = MonotonicNowNs();
    int burst = 0;
    while (!stop && !queue.empty() && queue.Top().due_ns <= now && burst < kMaxBurst) {
      DueQueue::Entry e = queue.Top();
      queue.Pop();
      Device& d = *devices_[static_cast<size_t>(e.device)];
      uint64_t k = next_k[static_cast<size_t>(e.device)]++;
      uint32_t seq = static_cast<uint32_t>(k);
      if (header) {
        filler.Fill(static_cast<uint32_t>(d.index), seq, buffer.data() + kHeaderSize,
                    size - kHeaderSize);
      } else {
        filler.Fill(static_cast<uint32_t>(d.index), seq, buffer.data(), size);
      }
      uint64_t sent_ns = MonotonicNowNs();
      if (header) {
        PayloadHeader h{config_.run_id, static_cast<uint32_t>(d.index), seq, e.due_ns, sent_ns};
        EncodeHeader(h, buffer.data());
      }
      const std::string& topic = d.topics[k % d.topics.size()];
      int rc = d.client->Publish(topic.c_str(), buffer.data(), static_cast<int>(size), qos,
                                 retain, nullptr);
      if (rc == 0) {
        ++d.sent;
        ++c.sent;
        size_t second = static_cast<size_t>((sent_ns - clock.t0_ns) / kNsPerS);
        if (second >= report_.sent_per_second.size()) report_.sent_per_second.resize(second + 1);
        ++report_.sent_per_second[second];
        if (e.due_ns >= clock.window_start_ns) {
          ++c.window_sent;
          report_.lag_us.Record(static_cast<int64_t>((sent_ns - e.due_ns) / 1000));
        }
      } else {
        ++c.publish_errors;
      }
      if (next_k[static_cast<size_t>(e.device)] < schedule.ScheduledCount(e.device)) {
        queue.Push(schedule.IntendedNs(e.device, next_k[static_cast<size_t>(e.device)]),
                   e.device);
      }
      touched.push_back(&d);
      ++burst;
      now = sent_ns;
    }
    for (Device* d : touched) loop_->Sync(*d);
    touched.clear();

    uint64_t acked = 0;
    if (queue.empty() || stop) {
      for (auto& d : devices_) acked += d->acked;
      if (acked >= c.sent || now >= clock.drain_end_ns || stop) break;
    }

    uint64_t deadline = std::min(next_tick, queue.empty() ? clock.drain_end_ns : queue.Top().due_ns);
    if (burst == kMaxBurst) deadline = now;  // still behind: only peek at the sockets
    int n = loop_->Wait(now, deadline);
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = loop_->event(i);
      if (ev.data.u32 == kControlTag) {
        stop = true;  // "stop", or EOF because the orchestrator is gone
        continue;
      }
      Device& d = *devices_[ev.data.u32];
      int rc = 0;
      if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = d.client->LoopRead();
      if (rc == 0 && (ev.events & EPOLLOUT)) rc = d.client->LoopWrite();
      if (rc != 0) spdlog::debug("device {} connection error: {}", d.index, MqttClient::ErrorString(rc));
      loop_->Sync(d);
    }

    now = MonotonicNowNs();
    if (now >= next_tick) {
      next_tick += kNsPerS;
      WorkerCounters progress = c;
      progress.acked = 0;
      progress.disconnects = 0;
      for (auto& d : devices_) {
        d->client->LoopMisc();  // keepalive pings
        if (!d->connected && d->fd < 0) {
          // Lost connections are retried once a second; messages due meanwhile fail.
          if (d->client->ReconnectAsync()) spdlog::debug("device {} reconnecting", d->index);
        }
        loop_->Sync(*d);
        progress.acked += d->acked;
        progress.disconnects += d->disconnects;
      }
      on_progress(progress);
    }
  }

  for (auto& d : devices_) {
    c.acked += d->acked;
    c.disconnects += d->disconnects;
    report_.sent_per_device.push_back(d->sent);
  }
  report_.inflight_at_end = c.sent > c.acked ? c.sent - c.acked : 0;
  for (auto& d : devices_) d->client->Disconnect();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  report_.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  report_.rss_peak_kb = ru.ru_maxrss;
  spdlog::info("worker done sent={} acked={} errors={} disconnects={}", c.sent, c.acked,
               c.publish_errors, c.disconnects);
}

WorkerReport LoadGenerator::TakeReport() { return std::move(report_); }

namespace {

Status SendJson(int fd, const nlohmann::json& j) { return WriteAll(fd, j.dump() + "\n", "worker pipe"); }

// Blocks until one line arrives on `fd`; "" on EOF.
std::string ReadLine(int fd) {
  std::string line;
  char ch;
  for (;;) {
    ssize_t n = ::read(fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || ch == '\n') return line;
    line.push_back(ch);
  }
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
  nlohmann::json connect = nlohmann::json::parse(ReadLine(control_fd), nullptr, false);
  if (connect.is_discarded() || connect.value("type", "") != "connect") return 0;
  uint64_t started = MonotonicNowNs();
  Status st = generator.Connect();
  if (!st) {
    spdlog::debug("worker connect failed: {}", st.error().message);
    (void)SendJson(report_fd, {{"type", "error"}, {"message", st.error().message}});
    return 3;
  }
  spdlog::info("worker connected devices={} in_ms={}", config.scenario.devices.count,
               (MonotonicNowNs() - started) / 1'000'000);
  if (!SendJson(report_fd, {{"type", "ready"}, {"connected", config.scenario.devices.count}})) return 3;

  nlohmann::json go = nlohmann::json::parse(ReadLine(control_fd), nullptr, false);
  if (go.is_discarded() || go.value("type", "") != "go") return 0;  // told to leave
  RunClock clock;
  clock.t0_ns = go.value("t0_ns", uint64_t{0});
  clock.window_start_ns = go.value("window_start_ns", uint64_t{0});
  clock.window_end_ns = go.value("window_end_ns", uint64_t{0});
  clock.drain_end_ns = go.value("drain_end_ns", uint64_t{0});

  generator.Run(clock, control_fd, [&](const WorkerCounters& p) {
    nlohmann::json j{{"type", "progress"},     {"scheduled", p.scheduled},
                     {"sent", p.sent},         {"acked", p.acked},
                     {"publish_errors", p.publish_errors},
                     {"disconnects", p.disconnects}, {"window_sent", p.window_sent}};
    (void)SendJson(report_fd, j);
  });
  Status sent = SendJson(report_fd, ToJson(generator.TakeReport()));
  FlushLogs();
  return sent ? 0 : 3;
}

}  // namespace edgebench

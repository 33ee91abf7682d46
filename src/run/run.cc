// One run, end to end: broker, worker, collector, sampler, results directory.
#include "edgebench/run/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"
#include "edgebench/base/logging.h"
#include "edgebench/base/process.h"
#include "edgebench/broker/broker.h"
#include "edgebench/cgroup/cgroup.h"
#include "edgebench/cost/cost.h"
#include "edgebench/link/link.h"
#include "edgebench/load/worker.h"
#include "edgebench/measure/collector.h"
#include "edgebench/measure/packet_capture.h"
#include "edgebench/measure/proc_sampler.h"
#include "edgebench/mqtt/credentials.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/results/metrics.h"
#include "edgebench/results/reporters.h"
#include "edgebench/results/run_directory.h"
#include "edgebench/run/result_builder.h"
#include "edgebench/run/sample_stream.h"

namespace edgebench {

std::atomic<bool>& StopRequested() {
  static std::atomic<bool> flag{false};
  return flag;
}

bool CaptureHoldsCredentials(const Scenario& s) {
  return s.capture.enabled && s.capture.snaplen >= 0 && !s.broker.tls.enabled &&
         !s.broker.username.empty();
}

namespace {

constexpr uint64_t kNsPerS = 1'000'000'000;
// Lead time between `go` and t0, so the worker is waiting when the schedule starts.
constexpr uint64_t kStartLeadNs = 200'000'000;
// MQTT round trips measured through the link before the load starts.
constexpr int kRttProbes = 10;

uint64_t Ns(double seconds) { return static_cast<uint64_t>(seconds * 1e9); }

std::string ProxyLossNote(double loss_pct) {
  return fmt::format(
      "network.loss_pct {:g}% is not emulated: the proxy carries a TCP stream, "
      "which has no packets to lose (the netem backend can)",
      loss_pct);
}

// Running totals of all workers' progress.
Counters SumCounters(const std::vector<Counters>& all) {
  Counters t;
  for (const Counters& c : all) t.Merge(c);
  return t;
}

// What the workers said while the run measured.
struct WorkerPoll {
  explicit WorkerPoll(size_t n) : progress(n), finals(n), gone(n, false) {}
  std::vector<Counters> progress;                   // each one's last progress report
  std::vector<std::optional<WorkerReport>> finals;  // each one's final report
  std::vector<bool> gone;                           // its pipe closed before its final report
  bool done() const {
    for (size_t i = 0; i < finals.size(); ++i) {
      if (!finals[i] && !gone[i]) return false;
    }
    return true;
  }
  // One report for all workers (their devices are consecutive ranges in worker order). A
  // worker that is gone counts what its last progress report said.
  WorkerReport Merge() const {
    WorkerReport out;
    for (size_t i = 0; i < finals.size(); ++i) {
      if (finals[i]) {
        out.Merge(*finals[i]);
      } else {
        WorkerReport seen;
        seen.counters = progress[i];
        out.Merge(seen);
      }
    }
    return out;
  }
};

// The broker's cgroup under the hierarchy found here, after removing those of an edgebench
// that is gone (killed before it could remove its own).
Result<Cgroup> MakeBrokerCgroup(const ResourcesSpec& res) {
  Result<CgroupLayout> layout = DetectCgroupLayout();
  if (!layout.ok()) return layout.error();
  for (const std::string& dir : RemoveStaleCgroups(*layout)) {
    spdlog::info("removed the cgroup of an edgebench that is gone: {}", dir);
  }
  static int sequence = 0;  // one cgroup per run of this process
  CgroupLimits limits{res.cpus, static_cast<uint64_t>(res.memory_mb) * 1024 * 1024};
  return Cgroup::Create(*layout, CgroupName(::getpid(), ++sequence), limits);
}

// The state of one run; each step is one method so the sequence in Execute() reads
// like the design's data flow.
class Run {
 public:
  Run(const Scenario& s, const RunOptions& o) : s_(s), o_(o) {}

  RunOutcome Execute();

 private:
  Status Prepare();
  Status PlanLink();
  Status StartBroker();
  Status LimitBroker();
  void ReadBrokerCgroup();
  Status AttachLink();
  Status OpenCapture();
  Status StartWorkerAndCollector();
  Status ForkWorkers();
  Status StartCollector();
  Status ConnectWorkers();
  void StartSamplerAndClock();
  void Measure();
  bool PollWorkers(WorkerPoll* poll);
  void StopWorkers(uint64_t* give_up_ns);
  void WaitForDrain();
  void Shutdown();
  void CollectReports();
  void MeasureWindow();
  void AddNotes();
  void CheckProtocol();
  Status WriteResults(RunResult* result);
  Result<std::string> RenameDirectory(RunResult* result);
  RunOutcome Finish();
  std::string BrokerDeath();
  std::optional<std::string> OwnProcessDeath();
  void ShowStatus(uint64_t now, const Counters& progress);
  void ShowLine(const std::string& line);
  void Fail(ErrorKind kind, std::string error);

  const Scenario& s_;
  const RunOptions& o_;
  std::optional<RunDirectory> dir_;
  nlohmann::json manifest_;
  uint32_t run_id_ = 0;
  std::string host_;  // the broker, as seen from this host
  int port_ = 0;
  std::string device_host_;  // where the devices connect: the broker, or the link in front of it
  int device_port_ = 0;
  std::string device_netns_;  // the devices' network namespace ("" = this one)
  std::optional<Link> link_;
  std::optional<Result<RttProbe>> probe_;
  std::optional<LinkProxyReport> proxy_report_;
  std::optional<Cgroup> cgroup_;  // broker.resources: the broker's cgroup
  std::optional<EmbeddedBroker> broker_;
  std::vector<Worker> workers_;
  std::string password_;  // never logged or written
  std::optional<Collector> collector_;
  std::optional<ProcSampler> sampler_;
  std::unique_ptr<SampleStream> sample_stream_;  // samples.csv, written while sampling
  std::unique_ptr<PacketCapture> capture_;
  RunClock clock_;
  RunData data_;
  bool have_final_ = false;             // every worker has sent its final report
  uint64_t stopped_ns_ = 0;             // when the run failed or was stopped (a signal, a death)
  bool arriving_at_drain_end_ = false;  // messages were still arriving when the drain ended
  bool summary_written_ = false;        // summary.json is in the directory
  bool drain_cut_ = false;              // a signal ended the drain before every message came
  std::optional<Error> failure_;        // the first failure: it is the cause
  std::vector<PriceSheet> sheets_;      // the scenario's cost: sheets
  // Live status bookkeeping.
  uint64_t last_status_ns_ = 0;
  uint64_t last_sent_ = 0;
  uint64_t last_received_ = 0;
};

void Run::Fail(ErrorKind kind, std::string error) {
  if (failure_) return;  // keep the first failure: it is the cause
  failure_ = Error{kind, error};
  data_.status = kind == ErrorKind::kInterrupted ? RunStatus::kInterrupted : RunStatus::kFailed;
  data_.error = std::move(error);
  // The window ends where the run did.
  if (clock_.t0_ns && !stopped_ns_) stopped_ns_ = MonotonicNowNs();
  if (kind != ErrorKind::kInterrupted) spdlog::error("{}", data_.error);
}

Status Run::Prepare() {
  if (!s_.cost.sheets.empty()) {
    Result<std::vector<PriceSheet>> sheets =
        LoadPriceSheets(o_.config_dir + "/costs", s_.cost.sheets);
    if (!sheets.ok()) return sheets.error().WithKind(ErrorKind::kScenario);
    sheets_ = std::move(sheets.value());
  }
  Result<RunDirectory> dir = RunDirectory::Create(
      o_.out_root, o_.group.empty() ? s_.name : o_.group, CaptureHoldsCredentials(s_));
  if (!dir.ok()) return dir.error();
  dir_ = std::move(dir.value());
  Status st = AddLogFile(dir_->File("edgebench.log"));
  if (!st) return st;
  st = dir_->Write("scenario.yaml", ScenarioToYaml(s_));
  if (!st) return st;
  run_id_ = std::random_device{}();
  manifest_ = {{"edgebench_version", EdgebenchVersion()},
               {"git_revision", EdgebenchGitRevision()},
               {"run", dir_->run_name()},
               {"run_id", run_id_},
               {"scenario", s_.name},
               {"scenario_file", s_.source_file},
               {"seed", s_.seed},
               {"command_line", o_.command_line},
               {"host", HostFacts()},
               {"libmosquitto_version", MosquittoLibrary::Version()},
               {"start_time", UtcIso8601()}};
  spdlog::info("run started scenario={} dir={}", s_.name, dir_->path());
  return Ok{};
}

Status Run::StartBroker() {
  if (!s_.broker.embedded) {
    host_ = s_.broker.host;
    port_ = s_.broker.port;
    manifest_["broker"] = {
        {"embedded", false}, {"host", host_}, {"port", port_}, {"mosquitto_version", nullptr}};
    return Ok{};
  }
  if (Status st = LimitBroker(); !st) return st;
  EmbeddedBrokerOptions bo;
  if (cgroup_) bo.join_fds = cgroup_->procs_fds();
  bo.config_template = o_.config_dir + "/mosquitto.conf.in";
  bo.run_dir = dir_->path();
  if (link_ && !link_->broker_listen_address().empty()) {
    bo.extra_listen_addresses.push_back(link_->broker_listen_address());
  }
  Result<EmbeddedBroker> b = EmbeddedBroker::Start(bo);
  if (!b.ok()) return b.error();
  broker_ = std::move(b.value());
  host_ = "127.0.0.1";
  port_ = broker_->port();
  manifest_["broker"] = {{"embedded", true},
                         {"host", host_},
                         {"port", port_},
                         {"pid", broker_->pid()},
                         {"mosquitto_version", broker_->version()}};
  spdlog::info("broker started pid={} port={} version={}", broker_->pid(), port_,
               broker_->version());
  return Ok{};
}

// broker.resources: a cgroup with the CPU quota and memory limit, which the broker joins
// before it execs. Where cgroups cannot be used: an error, or with `required: false` a
// warning, the run unlimited, and a note.
Status Run::LimitBroker() {
  const ResourcesSpec& res = s_.broker.resources;
  if (!res.limited) return Ok{};
  BrokerResourcesResult& out = data_.broker_resources.emplace();
  if (!res.node.empty()) out.node = res.node;
  out.cpus = res.cpus;
  out.memory_mb = res.memory_mb;
  Result<Cgroup> cgroup = MakeBrokerCgroup(res);
  if (cgroup.ok()) {
    cgroup_.emplace(std::move(cgroup.value()));
    out.applied = true;
    out.cgroup = cgroup_->version() == CgroupVersion::kV1 ? "v1" : "v2";
    return Ok{};
  }
  std::string why = cgroup.error().message;
  if (res.required) {
    return Error{ErrorKind::kUnavailable,
                 "broker.resources: cannot limit the embedded broker: " + why +
                     " (with broker.resources.required: false the broker runs unlimited, noted "
                     "in summary.json)"};
  }
  spdlog::warn("broker.resources not applied (required: false): {}", why);
  out.reason = why;
  data_.notes.push_back(fmt::format(
      "broker.resources not applied: the broker ran without a CPU or memory limit ({})", why));
  return Ok{};
}

// The cgroup's counters once the broker is gone, then the cgroup itself.
void Run::ReadBrokerCgroup() {
  if (!cgroup_) return;
  Result<CgroupStats> stats = cgroup_->ReadStats();
  if (stats.ok()) {
    BrokerResourcesResult& out = *data_.broker_resources;
    out.nr_periods = stats->nr_periods;
    out.nr_throttled = stats->nr_throttled;
    out.throttled_s = static_cast<double>(stats->throttled_ns) / 1e9;
    if (stats->memory_peak_bytes) {
      out.memory_peak_kb = static_cast<int64_t>(*stats->memory_peak_bytes / 1024);
    }
    out.oom_kills = stats->oom_kills;
  } else {
    spdlog::warn("cannot read the broker's cgroup: {}", stats.error().message);
  }
  if (Status st = cgroup_->Remove(); !st) spdlog::warn("{}", st.error().message);
  cgroup_.reset();
}

// The network between the devices and the broker. netem builds its namespace now, since
// the broker must listen on the veth's host end; the proxy waits for the broker's port.
Status Run::PlanLink() {
  if (!s_.network.emulated) return Ok{};
  std::string id = NetemLinkId(::getpid(), run_id_);
  Result<Link> link = Link::Plan(s_.network, id);
  if (!link.ok()) return link.error();
  link_.emplace(std::move(link.value()));
  if (!link_->fallback_reason().empty()) spdlog::warn("{}", link_->fallback_reason());
  if (link_->backend() == LinkBackend::kProxy && s_.network.link.loss_pct > 0) {
    spdlog::warn("{}", ProxyLossNote(s_.network.link.loss_pct));
  }
  spdlog::info("link planned backend={} profile={}", LinkBackendName(link_->backend()),
               s_.network.profile.empty() ? "inline" : s_.network.profile);
  return Ok{};
}

// Starts the proxy (if that is the backend), then measures the round trip the devices
// will see, before any load: the figure that shows the emulation did what it said.
Status Run::AttachLink() {
  Result<std::string> password = ReadPassword(s_.broker);
  if (!password.ok()) return password.error();
  password_ = *password;
  device_host_ = host_;
  device_port_ = port_;
  if (link_) {
    if (Status st = link_->Attach(host_, port_, s_.seed); !st) return st;
    device_host_ = link_->device_host();
    device_port_ = link_->device_port();
    device_netns_ = link_->device_namespace();
    spdlog::info("link up backend={} devices connect to {}:{}{}{}",
                 LinkBackendName(link_->backend()), device_host_, device_port_,
                 device_netns_.empty() ? "" : " from namespace " + device_netns_,
                 link_->proxy_pid() > 0 ? fmt::format(" proxy pid={}", link_->proxy_pid()) : "");
  }
  MqttClientOptions po = ClientOptionsFor(s_, "eb-" + std::to_string(run_id_) + "-probe",
                                          device_host_, device_port_, password_);
  po.clean_session = true;
  po.session_expiry_s = 0;
  int timeout_ms = static_cast<int>(s_.broker.connect_timeout_s * 1000 +
                                    kRttProbes * 4 * (s_.network.link.rtt_ms + 10));
  probe_.emplace(ProbeRtt(po, "edgebench-probe/" + std::to_string(run_id_), kRttProbes, timeout_ms,
                          device_netns_));
  if (probe_->ok()) {
    spdlog::info("link rtt probes={} min_ms={:.3f} median_ms={:.3f} max_ms={:.3f}", kRttProbes,
                 probe_->value().min_ms, probe_->value().median_ms, probe_->value().max_ms);
  } else {
    // Not fatal here: the devices' own connections report an unreachable broker clearly.
    spdlog::warn("could not measure the link's round trip: {}", probe_->error().message);
  }
  return Ok{};
}

// Opens the capture after the worker is forked (so the worker does not inherit the
// capture buffer) but before anything connects, so every connection is seen from its SYN.
Status Run::OpenCapture() {
  if (!s_.capture.enabled) {
    data_.capture_status = "disabled";
    data_.capture_reason = "capture.enabled is false";
    return Ok{};
  }
  CaptureOptions co{s_.capture, host_, port_, dir_->File("capture.pcap")};
  co.spec.buffer_mb = CaptureBufferMb(s_);
  if (link_ && !link_->capture_interface().empty() && s_.capture.interface == "auto") {
    // netem: the devices' traffic crosses the veth's host end, addressed to its address.
    co.spec.interface = link_->capture_interface();
    co.broker_host = device_host_;
  }
  CaptureFailure failure = CaptureFailure::kNone;
  Result<std::unique_ptr<PacketCapture>> c = PacketCapture::Open(co, &failure);
  if (c.ok()) {
    capture_ = std::move(c.value());
    data_.capture_status = "ok";
    return Ok{};
  }
  if (failure == CaptureFailure::kPermission && !s_.capture.required) {
    spdlog::warn("running without packet capture: {}", c.error().message);
    data_.capture_status = "unavailable";
    data_.capture_reason = c.error().message;
    return Ok{};
  }
  return c.error();
}

// How many workers: `workers: auto` is one per CPU less one for the broker.
int WorkerCount(const Scenario& s) {
  int n = s.workers;
  if (n == 0) n = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  return std::min(n, s.devices.count);
}

// Forks the publisher workers, each with a consecutive share of the devices and gateways.
// Requires: no thread has started yet.
Status Run::ForkWorkers() {
  const int n = WorkerCount(s_);
  const int devices = s_.devices.count;
  const int gateways = s_.devices.gateways;
  FlushLogs();  // fork copies unflushed buffers
  int first = 0;
  for (int i = 0; i < n; ++i) {
    WorkerConfig wc;
    wc.scenario = s_;
    wc.host = device_host_;
    wc.port = device_port_;
    wc.netns = device_netns_;
    wc.run_id = run_id_;
    wc.log_path = dir_->File("edgebench.log");
    wc.log_level = o_.log_level;
    wc.password = password_;
    wc.index = i;
    wc.first_device = first;
    wc.device_count = devices / n + (i < devices % n ? 1 : 0);
    if (gateways > 0) wc.gateways = std::max(1, gateways / n + (i < gateways % n ? 1 : 0));
    first += wc.device_count;
    Result<Worker> w = Worker::Fork(wc);
    if (!w.ok()) return w.error();
    workers_.push_back(std::move(w.value()));
    spdlog::info("worker {} forked pid={} devices={}", i, workers_.back().pid(), wc.device_count);
  }
  return Ok{};
}

// Connects and subscribes the collector; subscribe.at: devices puts it behind the link.
Status Run::StartCollector() {
  const bool behind = s_.subscribe.at_devices;
  const std::string& chost = behind ? device_host_ : host_;
  const int cport = behind ? device_port_ : port_;
  CollectorConfig cc;
  cc.host = chost;
  cc.port = cport;
  cc.protocol = s_.broker.protocol;
  cc.keepalive_s = s_.broker.keepalive_s;
  cc.qos = s_.publish.qos;
  cc.filters = SubscriptionFilters(s_);
  cc.devices = s_.devices.count;
  cc.run_id = run_id_;
  cc.latency = s_.latency;
  cc.connect_timeout_s = s_.broker.connect_timeout_s;
  cc.client =
      ClientOptionsFor(s_, "eb-" + std::to_string(run_id_) + "-collector", chost, cport, password_);
  collector_.emplace(std::move(cc));
  // The collector's socket is made in Start(): inside the devices' namespace if it is theirs.
  std::optional<ScopedNetworkNamespace> inside;
  if (behind && !device_netns_.empty()) {
    Result<ScopedNetworkNamespace> entered = ScopedNetworkNamespace::Enter(device_netns_);
    if (!entered.ok()) return entered.error();
    inside.emplace(std::move(entered.value()));
  }
  return collector_->Start();
}

// Tells the workers to connect and waits until every one is ready.
Status Run::ConnectWorkers() {
  const int devices = s_.devices.count;
  const int gateways = s_.devices.gateways;
  for (Worker& w : workers_) {
    if (Status st = w.Connect(); !st) return st;
  }
  double ramp_s =
      s_.devices.connect_rate > 0
          ? static_cast<double>(gateways > 0 ? gateways : devices) / s_.devices.connect_rate
          : 0;
  int timeout_ms = static_cast<int>((s_.broker.connect_timeout_s + ramp_s) * 1000) + 5000;
  ShowLine(fmt::format("[connecting] {} {} ...", gateways > 0 ? gateways : devices,
                       gateways > 0 ? "gateways" : "devices"));
  for (Worker& w : workers_) {
    Result<int> ready = w.WaitReady(timeout_ms, &StopRequested());
    if (!ready.ok()) return ready.error();
  }
  spdlog::info("workers ready workers={} devices={}", workers_.size(), devices);
  return Ok{};
}

Status Run::StartWorkerAndCollector() {
  if (Status st = ForkWorkers(); !st) return st;
  // Threads may start from here on: the forks are done.
  if (Status st = OpenCapture(); !st) return st;
  if (capture_) capture_->Start();
  if (Status st = StartCollector(); !st) return st;
  return ConnectWorkers();
}

// One status line: on a terminal redrawn in place (a log line clears it first, see
// base/logging.cc), otherwise logged.
void Run::ShowLine(const std::string& line) {
  if (o_.live_status) {
    std::printf("\r\033[K%s", line.c_str());
    std::fflush(stdout);
  } else {
    spdlog::info("progress {}", line);
  }
}

// Called when the worker's once-a-second progress arrives, so the sent rate covers the
// worker's own second rather than a second that straddles two reports.
void Run::ShowStatus(uint64_t now, const Counters& progress) {
  double dt = last_status_ns_ ? static_cast<double>(now - last_status_ns_) / 1e9 : 1.0;
  CollectorSnapshot snap = collector_->Snapshot();
  const double total = s_.warmup_s + s_.duration_s;
  double elapsed = now > clock_.t0_ns ? static_cast<double>(now - clock_.t0_ns) / 1e9 : 0;
  const char* phase = elapsed < s_.warmup_s ? "warm-up" : elapsed < total ? "measuring" : "drain";
  double left = std::max(0.0, total - elapsed);
  uint64_t sent = progress[Counter::kSent];
  ShowLine(fmt::format(
      "[{} {:3.0f}% {:.0f} s left] sent {:.0f}/s  received {:.0f}/s  p99 {}  missing {}  "
      "disconnects {}",
      phase, std::min(100.0, 100.0 * elapsed / total), left,
      static_cast<double>(sent - last_sent_) / dt,
      static_cast<double>(snap.received - last_received_) / dt,
      snap.p99_us ? fmt::format("{:.3f} ms", static_cast<double>(snap.p99_us) / 1000) : "-",
      sent > snap.received ? sent - snap.received : 0,
      progress[Counter::kWorkerDisconnects] + snap.disconnects));
  last_status_ns_ = now;
  last_sent_ = sent;
  last_received_ = snap.received;
}

void Run::StartSamplerAndClock() {
  sampler_.emplace("/proc", s_.sample.interval_ms);
  for (size_t i = 0; i < workers_.size(); ++i) {
    sampler_->AddTarget(workers_.size() == 1 ? "worker" : "worker." + std::to_string(i),
                        workers_[i].pid());
  }
  if (broker_) sampler_->AddTarget("broker", broker_->pid());
  if (link_ && link_->proxy_pid() > 0) sampler_->AddTarget("link", link_->proxy_pid());
  sampler_->AddTarget("orchestrator", static_cast<int>(::getpid()));

  const uint64_t now_ns = MonotonicNowNs();
  int64_t now_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  clock_.t0_ns = now_ns + kStartLeadNs;
  clock_.window_start_ns = clock_.t0_ns + Ns(s_.warmup_s);
  clock_.window_end_ns = clock_.window_start_ns + Ns(s_.duration_s);
  clock_.drain_end_ns = clock_.window_end_ns + Ns(s_.drain_s);
  data_.t0_unix_ms = now_unix_ms + static_cast<int64_t>(kStartLeadNs / 1'000'000);
  data_.sampler_offset_ms = static_cast<int64_t>(kStartLeadNs / 1'000'000);
  // The samples go to samples.csv as they come: a run of hours holds none of them.
  Result<std::unique_ptr<SampleStream>> stream =
      SampleStream::Open(dir_->File("samples.csv"), data_.t0_unix_ms, data_.sampler_offset_ms);
  if (stream.ok()) {
    sample_stream_ = std::move(stream.value());
    sampler_->SetSink([this](const ProcSample& p) { sample_stream_->Write(p); });
  } else {
    Fail(ErrorKind::kRunFailed, stream.error().message);  // the samples stay in memory
  }
  sampler_->Start();
  collector_->SetClock(clock_);
  if (capture_) capture_->SetOrigin(clock_.t0_ns);
}

// Why the embedded broker is gone, and when, for a run that was still measuring.
// Why the run cannot go on when the embedded broker or the link proxy, both edgebench's own,
// ended while it needed them; nullopt while both run.
std::optional<std::string> Run::OwnProcessDeath() {
  if (broker_ && !broker_->Running()) return BrokerDeath();
  if (!link_) return std::nullopt;
  std::optional<std::string> how = link_->ProxyEnded();
  if (!how) return std::nullopt;
  const uint64_t now = MonotonicNowNs();
  const double at_s = now > clock_.t0_ns ? static_cast<double>(now - clock_.t0_ns) / 1e9 : 0;
  return fmt::format("the link proxy died {:.1f} s into the run: {} (see edgebench.log)", at_s,
                     *how);
}

std::string Run::BrokerDeath() {
  uint64_t now = MonotonicNowNs();
  double at_s = now > clock_.t0_ns ? static_cast<double>(now - clock_.t0_ns) / 1e9 : 0;
  std::string how = broker_->Stop();
  if (cgroup_) {
    Result<CgroupStats> stats = cgroup_->ReadStats();
    if (stats.ok() && stats->oom_kills > 0) {
      return fmt::format(
          "the embedded broker was killed by its memory limit ({} MiB, broker.resources; the "
          "cgroup counted {} OOM kill{}) {:.1f} s into the run",
          s_.broker.resources.memory_mb, stats->oom_kills, stats->oom_kills == 1 ? "" : "s", at_s);
    }
  }
  return fmt::format("the embedded broker died {:.1f} s into the run: {} (see broker.log)", at_s,
                     how);
}

// One pass over the workers' pipes; false when a worker is gone (Fail() was called with
// why and when: the others are to be stopped).
bool Run::PollWorkers(WorkerPoll* poll) {
  const int slice_ms = std::max(1, 200 / static_cast<int>(workers_.size()));
  bool all_there = true;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (poll->finals[i] || poll->gone[i]) continue;
    Result<std::optional<FromWorkerMessage>> ev = workers_[i].Next(slice_ms);
    if (!ev.ok()) {
      poll->gone[i] = true;
      all_there = false;
      const uint64_t now = MonotonicNowNs();
      const double at_s = now > clock_.t0_ns ? static_cast<double>(now - clock_.t0_ns) / 1e9 : 0;
      Fail(ev.error().kind,
           fmt::format("{} ended {:.1f} s into the run, before its final report: {}",
                       workers_.size() == 1 ? "the worker" : fmt::format("worker {}", i), at_s,
                       ev.error().message));
      continue;
    }
    if (!ev.value()) continue;
    if (auto* p = std::get_if<ProgressMessage>(&*ev.value())) {
      poll->progress[i] = p->counters;
      if (i == 0) ShowStatus(MonotonicNowNs(), SumCounters(poll->progress));
    } else if (auto* f = std::get_if<FinalMessage>(&*ev.value())) {
      poll->finals[i] = std::move(f->report);
    }
  }
  return all_there;
}

// Asks every worker to stop now (each still sends its final report) and waits at most 5 s more.
void Run::StopWorkers(uint64_t* give_up_ns) {
  for (Worker& w : workers_) (void)w.Stop();
  *give_up_ns = std::min(*give_up_ns, MonotonicNowNs() + 5 * kNsPerS);
}

void Run::Measure() {
  StartSamplerAndClock();
  for (Worker& w : workers_) {
    if (Status st = w.Go(clock_); !st) return Fail(st.error().kind, st.error().message);
  }
  spdlog::info("measuring warmup_s={:g} duration_s={:g} drain_s={:g}", s_.warmup_s, s_.duration_s,
               s_.drain_s);
  last_status_ns_ = clock_.t0_ns;
  WorkerPoll poll(workers_.size());
  bool stop_sent = false;
  // The workers end by themselves at drain_end at the latest; past that plus a margin one hangs.
  uint64_t give_up_ns = clock_.drain_end_ns + 10 * kNsPerS;
  while (!poll.done()) {
    if (!stop_sent) {
      if (std::optional<std::string> death = OwnProcessDeath()) {
        Fail(ErrorKind::kRunFailed, *death);
      } else if (StopRequested()) {
        Fail(ErrorKind::kInterrupted, "interrupted");
        spdlog::warn("interrupted: stopping the workers and keeping partial results");
      }
      if (failure_) {
        stop_sent = true;
        StopWorkers(&give_up_ns);
      }
    }
    if (!PollWorkers(&poll) && !stop_sent) {
      stop_sent = true;
      StopWorkers(&give_up_ns);
    }
    if (MonotonicNowNs() > give_up_ns) {
      Fail(ErrorKind::kRunFailed, "a worker did not finish within 10 s after the drain");
      for (size_t i = 0; i < workers_.size(); ++i) poll.gone[i] = poll.gone[i] || !poll.finals[i];
    }
  }
  data_.worker = poll.Merge();
  data_.worker_partial = std::find(poll.gone.begin(), poll.gone.end(), true) != poll.gone.end();
  have_final_ = !data_.worker_partial;
  if (o_.live_status) std::printf("\n");
}

// The workers have sent everything they will send. Waits while messages are still due,
// until the end of the drain; then notes whether they were still arriving (so what is
// missing is in flight, not lost). A signal cuts the drain short; after a signal in the
// window the drain lasts at most a second. Either way what has not arrived is in flight.
void Run::WaitForDrain() {
  const Counters& w = data_.worker.counters;
  uint64_t sent = w[Counter::kSent];
  uint64_t deadline = clock_.drain_end_ns;
  if (w[Counter::kLastSendNs]) {
    // A run bounded by publish.count may end long before the window does.
    deadline = std::min(deadline, w[Counter::kLastSendNs] + Ns(s_.drain_s));
  }
  spdlog::info("draining sent={} received={}", sent, collector_->received());
  const bool stopped_before = StopRequested();
  if (stopped_before) deadline = std::min(deadline, MonotonicNowNs() + kNsPerS);
  while (collector_->received() < sent && MonotonicNowNs() < deadline) {
    if (std::optional<std::string> death = OwnProcessDeath()) {
      return Fail(ErrorKind::kRunFailed, *death);
    }
    if (!stopped_before && StopRequested()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (StopRequested()) {
    Fail(ErrorKind::kInterrupted, "interrupted");
    drain_cut_ = collector_->received() < sent;
    return;
  }
  if (collector_->received() >= sent) return;
  // "Still arriving": something arrived within the last 200 ms plus two link round trips.
  uint64_t quiet_ns = 200'000'000 + static_cast<uint64_t>(2 * s_.network.link.rtt_ms * 1e6);
  uint64_t last = collector_->Snapshot().last_receive_ns;
  arriving_at_drain_end_ = last > 0 && MonotonicNowNs() - last < quiet_ns;
}

void Run::Shutdown() {
  if (collector_) collector_->Stop();
  if (capture_) capture_->Stop();  // after the drain: the last acks are on the wire too
  if (sampler_) sampler_->Stop();
  for (size_t i = 0; i < workers_.size(); ++i) {
    int status = workers_[i].Finish(2000);
    spdlog::info("worker {} {}", i, DescribeWaitStatus(status));
  }
  if (link_) {
    Result<std::optional<LinkProxyReport>> report = link_->StopProxy();
    if (report.ok()) {
      proxy_report_ = std::move(report.value());
    } else {
      spdlog::warn("{}", report.error().message);
    }
  }
  if (broker_) spdlog::info("broker {}", broker_->Stop());
  ReadBrokerCgroup();
  data_.link =
      DescribeLink(s_, link_ ? &*link_ : nullptr, probe_ ? &*probe_ : nullptr, &proxy_report_);
  link_.reset();  // netem: the namespace and veth pair go here, after every process using them
}

void Run::CollectReports() {
  if (collector_) data_.collector = collector_->TakeReport();
  // Its whole life, every thread (the collector's included): the figure to compare with the
  // worker's own cpu_s_total.
  data_.orchestrator_cpu_s = OwnResourceUsage().cpu_s;
  if (sampler_) {
    data_.samples = sampler_->samples();  // empty when they went to sample_stream_
    data_.sample_digest = sampler_->digest();
  }
  if (sample_stream_) {
    Status st = sample_stream_->Finish();
    if (!st) Fail(ErrorKind::kRunFailed, "the samples are incomplete: " + st.error().message);
  }
  data_.capture_port = port_;
  if (!capture_) return;
  data_.capture = capture_->TakeReport();
  if (!data_.capture.pcap_error.empty()) {
    Fail(ErrorKind::kRunFailed, "the capture is incomplete: " + data_.capture.pcap_error);
  }
  if (s_.broker.tls.enabled) {
    data_.notes.push_back(
        "TLS: the capture counts packets and bytes only; the MQTT packets "
        "inside are encrypted");
  }
  if (data_.capture.kernel_dropped + data_.capture.interface_dropped > 0) {
    data_.notes.push_back("the capture dropped packets: network counts are low");
  }
}

// The window actually measured, and what was still in flight when the drain ended.
void Run::MeasureWindow() {
  uint64_t sent = data_.worker.counters[Counter::kSent];
  uint64_t received = data_.collector.counters[Counter::kReceived];
  if ((arriving_at_drain_end_ || drain_cut_) && sent > received) {
    data_.in_flight_at_end = sent - received;
    data_.notes.push_back(
        drain_cut_ ? fmt::format("{} messages had not arrived when the run was interrupted: "
                                 "counted as in flight, not lost",
                                 data_.in_flight_at_end)
                   : fmt::format("{} messages were still arriving when the drain ended: "
                                 "counted as in flight, not lost; a longer drain_s would tell",
                                 data_.in_flight_at_end));
  }
  if (!clock_.t0_ns) return;
  // Shorter than the window when the run was interrupted.
  uint64_t end = stopped_ns_ ? std::min(stopped_ns_, clock_.window_end_ns) : clock_.window_end_ns;
  // publish.count: the window closes with the last message, not with duration_s.
  uint64_t last = data_.worker.counters[Counter::kLastSendNs];
  if (s_.publish.count > 0 && last && last < end) end = last;
  uint64_t last_rx = data_.collector.counters[Counter::kLastWindowReceiveNs];
  auto since_start = [this](uint64_t t) {
    return t > clock_.window_start_ns ? static_cast<double>(t - clock_.window_start_ns) / 1e9 : 0.0;
  };
  data_.receive_span_s = since_start(last_rx);
  data_.window_s = since_start(end);
}

void Run::AddNotes() {
  const Counters& w = data_.worker.counters;
  if (!s_.latency) {
    data_.notes.push_back(
        "latency: false: no payload header, so no latency, duplicate or "
        "reorder figures");
  }
  if (s_.publish.rate_max) {
    data_.notes.push_back(
        "publish.rate: max: there is no schedule, so latency is measured "
        "from the actual send time and the generator lag is 0");
  }
  if (w[Counter::kSkippedDisconnected] > 0) {
    data_.notes.push_back(
        "connections were down during the run: see "
        "messages.skipped_disconnected");
  }
  if (w[Counter::kPublishErrors] > 0) {
    data_.notes.push_back("some publishes failed: see messages.publish_errors");
  }
  if (s_.network.emulated && s_.network.link.loss_pct > 0 && data_.link.backend == "proxy") {
    data_.notes.push_back(ProxyLossNote(s_.network.link.loss_pct));
  }
}

// What the broker granted or answered against what the scenario asked (the workers' and
// the collector's protocol mismatches): any mismatch fails the run, since its counts would
// not mean what they say. The first one is the run's error, in one line.
void Run::CheckProtocol() {
  std::vector<ProtocolMismatch>& all = data_.protocol_mismatches;
  all = data_.worker.protocol_mismatches;
  for (const ProtocolMismatch& m : data_.collector.protocol_mismatches)
    AddProtocolMismatch(&all, m);
  for (const auto* notes : {&data_.worker.protocol_notes, &data_.collector.protocol_notes}) {
    data_.notes.insert(data_.notes.end(), notes->begin(), notes->end());
  }
  if (all.empty()) return;
  for (const ProtocolMismatch& m : all) {
    spdlog::warn("protocol mismatch side={} count={}: {}", m.side, m.count, m.message);
  }
  std::string line = all.front().message;
  if (all.size() > 1) {
    line +=
        fmt::format(" (and {} more protocol mismatch{}: see protocol_mismatches in summary.json)",
                    all.size() - 1, all.size() == 2 ? "" : "es");
  }
  Fail(ErrorKind::kRunFailed, line);
}

// manifest.json and every reporter's file, summary.json last: a summary.json means the
// directory is complete. A file that cannot be written (a full disk) fails the run: then
// summary.json, if it can still be written, says so.
Status Run::WriteResults(RunResult* result) {
  manifest_["link"] = SummaryToJson(*result)["link"];
  manifest_["link"].erase("proxy");
  manifest_["end_time"] = UtcIso8601();
  Status st = dir_->Write("manifest.json", manifest_.dump(2) + "\n");
  for (const ReportFile& f : RenderRunFiles(*result)) {
    if (f.name == "summary.json" || (f.name == "samples.csv" && sample_stream_)) continue;
    if (st) st = dir_->Write(f.name, f.content);
  }
  if (!st) {
    Fail(ErrorKind::kRunFailed, st.error().message);
    result->status = data_.status;
    result->error = data_.error;
  }
  Status summary = dir_->Write("summary.json", SummaryToJson(*result).dump(2) + "\n");
  summary_written_ = static_cast<bool>(summary);
  if (!summary) {
    Fail(ErrorKind::kRunFailed, summary.error().message);
    result->status = data_.status;
  }
  return st ? summary : st;
}

// The directory's final name, whose suffix is the status summary.json has. Without a
// summary.json, or when it cannot be renamed, it stays .partial, with a summary.json that
// says failed and why, or none.
Result<std::string> Run::RenameDirectory(RunResult* result) {
  if (!summary_written_) return Error{"the results are incomplete in " + dir_->path()};
  Result<std::string> final_path = dir_->Finish(failure_ ? RunStatusName(data_.status) : "");
  if (final_path.ok()) return final_path;
  Fail(ErrorKind::kRunFailed, final_path.error().message);
  result->status = RunStatus::kFailed;
  result->error = final_path.error().message;
  if (!dir_->Write("summary.json", SummaryToJson(*result).dump(2) + "\n")) {
    ::unlink(dir_->File("summary.json").c_str());
  }
  return final_path.error();
}

std::vector<Threshold> ThresholdsOf(const Scenario& s) {
  std::vector<Threshold> out;
  for (const ExpectSpec& e : s.expect) out.push_back({e.metric, e.min, e.max});
  return out;
}

// "expect failed: latency_p99_ms 61.2 > max 50; loss_ratio 0.01 > max 0".
Error ThresholdError(const std::vector<ExpectResult>& expectations) {
  std::string failed;
  for (const ExpectResult& e : expectations) {
    if (!e.pass) failed += (failed.empty() ? "" : "; ") + DescribeExpectation(e);
  }
  return Error{ErrorKind::kThreshold, "expect failed: " + failed};
}

RunOutcome Run::Finish() {
  RunOutcome out;
  out.error = failure_;
  if (!dir_) return out;
  CollectReports();
  MeasureWindow();
  AddNotes();
  CheckProtocol();
  RunResult result = BuildRunResult(s_, data_);
  if (!sheets_.empty() && result.status == RunStatus::kOk)
    result.cost = ComputeCost(sheets_, result);
  result.expectations = CheckThresholds(ThresholdsOf(s_), result);
  Status written = WriteResults(&result);
  spdlog::info("run finished status={}", RunStatusName(result.status));
  FlushLogs();
  Result<std::string> final_path = RenameDirectory(&result);
  out.status = result.status;
  out.expectations = result.expectations;
  out.error = failure_;
  // A full disk, or a directory left .partial: say so, whatever else went wrong before.
  if (!final_path.ok()) out.error = final_path.error();
  if (!written) out.error = written.error();
  out.results_dir = final_path.ok() ? *final_path : dir_->path();
  if (clock_.t0_ns) out.table = SummaryTable(result);
  if (!out.error && !result.expectations_pass()) out.error = ThresholdError(result.expectations);
  return out;
}

RunOutcome Run::Execute() {
  Status st = Prepare();
  if (!st) {
    RunOutcome out;
    out.error = st.error();
    out.results_dir = dir_ ? dir_->path() : "";
    return out;
  }
  st = PlanLink();
  if (st) st = StartBroker();
  if (st) st = AttachLink();
  if (st) st = StartWorkerAndCollector();
  if (!st) {
    Fail(st.error().kind, st.error().message);
  } else if (StopRequested()) {
    Fail(ErrorKind::kInterrupted, "interrupted");
  } else {
    Measure();
    if (have_final_ && (!failure_ || failure_->kind == ErrorKind::kInterrupted)) WaitForDrain();
  }
  Shutdown();
  return Finish();
}

}  // namespace

RunOutcome RunScenario(const Scenario& scenario, const RunOptions& options) {
  return Run(scenario, options).Execute();
}

}  // namespace edgebench

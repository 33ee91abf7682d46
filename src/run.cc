// One run, end to end: broker, worker, collector, sampler, results directory.
#include "edgebench/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgebench/broker.h"
#include "edgebench/clock.h"
#include "edgebench/collector.h"
#include "edgebench/logging.h"
#include "edgebench/mqtt_client.h"
#include "edgebench/packet_capture.h"
#include "edgebench/proc_sampler.h"
#include "edgebench/results_writer.h"
#include "edgebench/summary.h"
#include "edgebench/worker.h"

namespace edgebench {

std::atomic<bool>& StopRequested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {

constexpr uint64_t kNsPerS = 1'000'000'000;
// Lead time between `go` and t0, so the worker is waiting when the schedule starts.
constexpr uint64_t kStartLeadNs = 200'000'000;

uint64_t Ns(double seconds) { return static_cast<uint64_t>(seconds * 1e9); }

// The state of one run; each step is one method so the sequence in Execute() reads
// like the design's data flow.
class Run {
 public:
  Run(const Scenario& s, const RunOptions& o) : s_(s), o_(o) {}

  RunOutcome Execute();

 private:
  Status Prepare();
  Status StartBroker();
  Status OpenCapture();
  Status StartWorkerAndCollector();
  void Measure();
  void WaitForDrain();
  void Shutdown();
  RunOutcome Finish();
  void ShowStatus(uint64_t now, const WorkerCounters& progress);
  void Fail(int exit_code, std::string error);

  const Scenario& s_;
  const RunOptions& o_;
  std::optional<RunDirectory> dir_;
  nlohmann::json manifest_;
  uint32_t run_id_ = 0;
  std::string host_;
  int port_ = 0;
  std::optional<EmbeddedBroker> broker_;
  std::optional<Worker> worker_;
  std::optional<Collector> collector_;
  std::optional<ProcSampler> sampler_;
  std::unique_ptr<PacketCapture> capture_;
  RunClock clock_;
  RunData data_;
  bool have_final_ = false;
  uint64_t interrupted_ns_ = 0;  // when a stop was requested, or 0
  int exit_code_ = kExitOk;
  // Live status bookkeeping.
  uint64_t last_status_ns_ = 0;
  uint64_t last_sent_ = 0;
  uint64_t last_received_ = 0;
};

void Run::Fail(int exit_code, std::string error) {
  if (exit_code_ != kExitOk) return;  // keep the first failure: it is the cause
  exit_code_ = exit_code;
  data_.status = exit_code == kExitInterrupted ? "interrupted" : "failed";
  data_.error = std::move(error);
  if (exit_code != kExitInterrupted) spdlog::error("{}", data_.error);
}

Status Run::Prepare() {
  Result<RunDirectory> dir = RunDirectory::Create(o_.out_root, s_.name);
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
    manifest_["broker"] = {{"embedded", false}, {"host", host_}, {"port", port_},
                           {"mosquitto_version", nullptr}};
    return Ok{};
  }
  EmbeddedBrokerOptions bo;
  bo.config_template = o_.config_dir + "/mosquitto.conf.in";
  bo.run_dir = dir_->path();
  Result<EmbeddedBroker> b = EmbeddedBroker::Start(bo);
  if (!b.ok()) return b.error();
  broker_ = std::move(b.value());
  host_ = "127.0.0.1";
  port_ = broker_->port();
  manifest_["broker"] = {{"embedded", true}, {"host", host_}, {"port", port_},
                         {"pid", broker_->pid()}, {"mosquitto_version", broker_->version()}};
  spdlog::info("broker started pid={} port={} version={}", broker_->pid(), port_,
               broker_->version());
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

Status Run::StartWorkerAndCollector() {
  WorkerConfig wc{s_, host_, port_, run_id_, dir_->File("edgebench.log"), o_.log_level};
  FlushLogs();  // fork copies unflushed buffers
  Result<Worker> w = Worker::Fork(wc);
  if (!w.ok()) return w.error();
  worker_ = std::move(w.value());
  spdlog::info("worker forked pid={} devices={}", worker_->pid(), s_.devices.count);

  // Threads may start from here on: the forks are done.
  if (Status cap = OpenCapture(); !cap) return cap;
  CollectorConfig cc{host_, port_, s_.broker.protocol, s_.broker.keepalive_s, s_.publish.qos,
                     SubscriptionFilters(s_), s_.devices.count, run_id_, s_.latency,
                     s_.broker.connect_timeout_s};
  collector_.emplace(std::move(cc));
  if (capture_) capture_->Start();
  Status st = collector_->Start();
  if (!st) return st;
  st = worker_->Connect();
  if (!st) return st;
  int timeout_ms = static_cast<int>(s_.broker.connect_timeout_s * 1000) + 5000;
  Result<int> ready = worker_->WaitReady(timeout_ms);
  if (!ready.ok()) return ready.error();
  spdlog::info("worker ready connections={}", *ready);
  return Ok{};
}

// Called when the worker's once-a-second progress arrives, so the sent rate covers the
// worker's own second rather than a second that straddles two reports.
void Run::ShowStatus(uint64_t now, const WorkerCounters& progress) {
  double dt = last_status_ns_ ? static_cast<double>(now - last_status_ns_) / 1e9 : 1.0;
  CollectorSnapshot snap = collector_->Snapshot();
  double total = s_.warmup_s + s_.duration_s;
  double elapsed = now > clock_.t0_ns ? static_cast<double>(now - clock_.t0_ns) / 1e9 : 0;
  std::string line = fmt::format(
      "[{:5.1f}/{:g} s] sent {:.0f}/s  received {:.0f}/s  p99 {}", std::min(elapsed, total),
      total, static_cast<double>(progress.sent - last_sent_) / dt,
      static_cast<double>(snap.received - last_received_) / dt,
      snap.p99_us ? fmt::format("{:.3f} ms", static_cast<double>(snap.p99_us) / 1000) : "-");
  if (o_.live_status) {
    std::printf("\r\033[K%s", line.c_str());
    std::fflush(stdout);
  } else {
    spdlog::info("progress {}", line);
  }
  last_status_ns_ = now;
  last_sent_ = progress.sent;
  last_received_ = snap.received;
}

void Run::Measure() {
  sampler_.emplace("/proc", s_.sample.interval_ms);
  sampler_->AddTarget("worker", worker_->pid());
  if (broker_) sampler_->AddTarget("broker", broker_->pid());
  sampler_->AddTarget("orchestrator", static_cast<int>(::getpid()));
  sampler_->Start();

  clock_.t0_ns = MonotonicNowNs() + kStartLeadNs;
  clock_.window_start_ns = clock_.t0_ns + Ns(s_.warmup_s);
  clock_.window_end_ns = clock_.window_start_ns + Ns(s_.duration_s);
  clock_.drain_end_ns = clock_.window_end_ns + Ns(s_.drain_s);
  collector_->SetClock(clock_);
  if (capture_) capture_->SetOrigin(clock_.t0_ns);
  if (Status st = worker_->Go(clock_); !st) {
    Fail(kExitRunFailed, st.error().message);
    return;
  }
  spdlog::info("measuring warmup_s={:g} duration_s={:g} drain_s={:g}", s_.warmup_s,
               s_.duration_s, s_.drain_s);
  last_status_ns_ = clock_.t0_ns;
  WorkerCounters progress;
  bool stop_sent = false;
  // The worker ends by itself at drain_end at the latest; past that plus a margin it hangs.
  uint64_t give_up_ns = clock_.drain_end_ns + 10 * kNsPerS;
  while (!have_final_) {
    if (StopRequested() && !stop_sent) {
      Fail(kExitInterrupted, "interrupted");
      interrupted_ns_ = MonotonicNowNs();
      spdlog::warn("interrupted: stopping the worker and keeping partial results");
      stop_sent = true;
      (void)worker_->Stop();
      give_up_ns = std::min(give_up_ns, MonotonicNowNs() + 5 * kNsPerS);
    }
    Result<std::optional<WorkerEvent>> ev = worker_->Next(200);
    if (!ev.ok()) {
      Fail(kExitRunFailed, ev.error().message);
      return;
    }
    if (ev.value()) {
      if (ev.value()->type == WorkerEvent::Type::kProgress) {
        progress = ev.value()->progress;
        ShowStatus(MonotonicNowNs(), progress);
      }
      if (ev.value()->type == WorkerEvent::Type::kFinal) {
        data_.worker = std::move(*ev.value()->report);
        have_final_ = true;
      }
    }
    uint64_t now = MonotonicNowNs();
    if (now > give_up_ns) {
      Fail(kExitRunFailed, "worker did not finish within 10 s after the drain");
      return;
    }
  }
  if (o_.live_status) std::printf("\n");
}

void Run::WaitForDrain() {
  // The worker has sent everything it will send; give the last messages until the end of
  // the drain period to arrive.
  uint64_t sent = data_.worker.counters.sent;
  while (collector_->received() < sent && MonotonicNowNs() < clock_.drain_end_ns &&
         !StopRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Run::Shutdown() {
  if (collector_) collector_->Stop();
  if (capture_) capture_->Stop();  // after the drain: the last acks are on the wire too
  if (sampler_) sampler_->Stop();
  if (worker_) {
    int status = worker_->Finish(2000);
    spdlog::info("worker {}", DescribeWaitStatus(status));
  }
  if (broker_) spdlog::info("broker {}", broker_->Stop());
}

RunOutcome Run::Finish() {
  RunOutcome out;
  out.exit_code = exit_code_;
  out.error = data_.error;
  if (!dir_) return out;
  if (collector_) data_.collector = collector_->TakeReport();
  if (sampler_) data_.samples = sampler_->samples();
  if (capture_) {
    data_.capture = capture_->TakeReport();
    if (data_.capture.kernel_dropped + data_.capture.interface_dropped > 0) {
      data_.notes.push_back("the capture dropped packets: network counts are low");
    }
  }
  if (clock_.t0_ns) {
    // The window actually measured: shorter when the run was interrupted.
    uint64_t end = interrupted_ns_ ? std::min(interrupted_ns_, clock_.window_end_ns)
                                   : clock_.window_end_ns;
    data_.window_s = end > clock_.window_start_ns
                         ? static_cast<double>(end - clock_.window_start_ns) / 1e9
                         : 0.0;
  }
  if (!s_.latency) data_.notes.push_back("latency: false: no payload header, so no latency, "
                                         "duplicate or reorder figures");
  if (data_.worker.counters.publish_errors > 0) {
    data_.notes.push_back("some publishes failed: see messages.publish_errors");
  }
  manifest_["end_time"] = UtcIso8601();
  nlohmann::json summary = BuildSummary(s_, data_);
  std::string suffix = exit_code_ == kExitOk ? "" : data_.status;
  Status st = dir_->Write("manifest.json", manifest_.dump(2) + "\n");
  if (st) st = dir_->Write("summary.json", summary.dump(2) + "\n");
  if (st) st = dir_->Write("timeline.csv", BuildTimelineCsv(s_, data_));
  if (st) st = dir_->Write("samples.csv", BuildSamplesCsv(data_.samples));
  if (st && s_.latency) st = dir_->Write("latency.hgrm", data_.collector.latency_us.ToHgrm(1.0));
  if (!st) {
    // A full disk: say so and keep the .partial directory as it is.
    out.exit_code = kExitRunFailed;
    out.error = st.error().message;
    out.results_dir = dir_->path();
    return out;
  }
  spdlog::info("run finished status={}", data_.status);
  FlushLogs();
  Result<std::string> final_path = dir_->Finish(suffix);
  out.results_dir = final_path.ok() ? *final_path : dir_->path();
  if (!final_path.ok() && out.exit_code == kExitOk) {
    out.exit_code = kExitRunFailed;
    out.error = final_path.error().message;
  }
  if (clock_.t0_ns) out.table = FormatSummaryTable(summary);
  return out;
}

RunOutcome Run::Execute() {
  Status st = Prepare();
  if (!st) {
    RunOutcome out;
    out.exit_code = kExitRunFailed;
    out.error = st.error().message;
    out.results_dir = dir_ ? dir_->path() : "";
    return out;
  }
  st = StartBroker();
  if (st) st = StartWorkerAndCollector();
  if (!st) {
    Fail(kExitRunFailed, st.error().message);
  } else if (StopRequested()) {
    Fail(kExitInterrupted, "interrupted");
  } else {
    Measure();
    if (have_final_) WaitForDrain();
  }
  Shutdown();
  return Finish();
}

}  // namespace

RunOutcome RunScenario(const Scenario& scenario, const RunOptions& options) {
  return Run(scenario, options).Execute();
}

}  // namespace edgebench

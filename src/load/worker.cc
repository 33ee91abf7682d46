// The orchestrator's side of the worker process and the JSON pipe protocol.
#include "edgebench/load/worker.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

namespace edgebench {

using nlohmann::json;

json ToJson(const WorkerReport& r) {
  const WorkerCounters& c = r.counters;
  return json{{"type", "final"},
              {"scheduled", c.scheduled},
              {"sent", c.sent},
              {"acked", c.acked},
              {"publish_errors", c.publish_errors},
              {"disconnects", c.disconnects},
              {"reconnects", c.reconnects},
              {"skipped_disconnected", c.skipped_disconnected},
              {"window_sent", c.window_sent},
              {"last_send_ns", c.last_send_ns},
              {"sent_per_device", r.sent_per_device},
              {"sent_per_second", r.sent_per_second},
              {"lag_us", r.lag_us.ToJson()},
              {"inflight_at_end", r.inflight_at_end},
              {"cpu_s", r.cpu_s},
              {"rss_peak_kb", r.rss_peak_kb}};
}

namespace {

WorkerCounters CountersFromJson(const json& j) {
  WorkerCounters c;
  c.scheduled = j.value("scheduled", uint64_t{0});
  c.sent = j.value("sent", uint64_t{0});
  c.acked = j.value("acked", uint64_t{0});
  c.publish_errors = j.value("publish_errors", uint64_t{0});
  c.disconnects = j.value("disconnects", uint64_t{0});
  c.window_sent = j.value("window_sent", uint64_t{0});
  c.reconnects = j.value("reconnects", uint64_t{0});
  c.skipped_disconnected = j.value("skipped_disconnected", uint64_t{0});
  c.last_send_ns = j.value("last_send_ns", uint64_t{0});
  return c;
}

}  // namespace

Result<WorkerReport> WorkerReportFromJson(const json& j) {
  try {
    WorkerReport r;
    r.counters = CountersFromJson(j);
    r.sent_per_device = j.at("sent_per_device").get<std::vector<uint64_t>>();
    r.sent_per_second = j.at("sent_per_second").get<std::vector<uint64_t>>();
    Result<LatencyHistogram> lag = LatencyHistogram::FromJson(j.at("lag_us"));
    if (!lag.ok()) return lag.error();
    r.lag_us = std::move(lag.value());
    r.inflight_at_end = j.value("inflight_at_end", uint64_t{0});
    r.cpu_s = j.value("cpu_s", 0.0);
    r.rss_peak_kb = j.value("rss_peak_kb", int64_t{0});
    return r;
  } catch (const json::exception& e) {
    return Error{std::string("worker report: ") + e.what()};
  }
}

Result<Worker> Worker::Fork(const WorkerConfig& config) {
  Result<PipeEnds> control = MakePipe();
  if (!control.ok()) return control.error();
  Result<PipeEnds> report = MakePipe();
  if (!report.ok()) return report.error();
  int control_fd = control->read.get();
  int report_fd = report->write.get();
  Result<ChildProcess> child = ForkFunction([&]() {
    // The child keeps only its own ends (they are CLOEXEC, which fork ignores).
    ::close(control->write.get());
    ::close(report->read.get());
    return WorkerMain(config, control_fd, report_fd);
  });
  if (!child.ok()) return child.error();
  Worker w;
  w.process_ = std::move(child.value());
  w.to_worker_ = std::move(control->write);
  w.from_worker_ = std::move(report->read);
  return w;
}

std::string Worker::DescribeExit() {
  std::optional<int> status = process_.Wait(1000);
  std::string what = status ? "worker " + DescribeWaitStatus(*status) : "worker stopped talking";
  if (!last_error_.empty()) what += ": " + last_error_;
  return what;
}

Result<std::optional<WorkerEvent>> Worker::ParseLine(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{"worker sent a malformed message: " + line.substr(0, 80)};
  }
  WorkerEvent ev;
  ev.type = WorkerEvent::Type::kProgress;
  std::string type = j.value("type", "");
  if (type == "ready") {
    ev.type = WorkerEvent::Type::kReady;
    ev.connected = j.value("connected", 0);
  } else if (type == "error") {
    ev.type = WorkerEvent::Type::kError;
    ev.message = j.value("message", "");
    last_error_ = ev.message;
  } else if (type == "progress") {
    ev.progress = CountersFromJson(j);
  } else if (type == "final") {
    ev.type = WorkerEvent::Type::kFinal;
    Result<WorkerReport> r = WorkerReportFromJson(j);
    if (!r.ok()) return r.error();
    ev.report = std::move(r.value());
  } else {
    return Error{"worker sent an unknown message type '" + type + "'"};
  }
  return std::optional<WorkerEvent>(std::move(ev));
}

Result<std::optional<WorkerEvent>> Worker::Next(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return ParseLine(line);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::optional<WorkerEvent>();
    pollfd p{from_worker_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) return std::optional<WorkerEvent>();  // a signal: let the caller look
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(from_worker_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{DescribeExit()};
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

Result<int> Worker::WaitReady(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<WorkerEvent>> ev = Next(100);
    if (!ev.ok()) return ev.error();
    if (!ev.value()) continue;
    if (ev.value()->type == WorkerEvent::Type::kReady) return ev.value()->connected;
    if (ev.value()->type == WorkerEvent::Type::kError) return Error{ev.value()->message};
  }
  return Error{"worker was not ready within " + std::to_string(timeout_ms / 1000) + " s"};
}

Status Worker::Go(const RunClock& c) {
  json j{{"type", "go"},
         {"t0_ns", c.t0_ns},
         {"window_start_ns", c.window_start_ns},
         {"window_end_ns", c.window_end_ns},
         {"drain_end_ns", c.drain_end_ns}};
  return WriteAll(to_worker_.get(), j.dump() + "\n", "worker pipe");
}

Status Worker::Connect() {
  return WriteAll(to_worker_.get(), "{\"type\":\"connect\"}\n", "worker pipe");
}

Status Worker::Stop() { return WriteAll(to_worker_.get(), "{\"type\":\"stop\"}\n", "worker pipe"); }

int Worker::Finish(int grace_ms) {
  to_worker_.Reset();  // EOF tells a worker that still waits to leave
  if (process_.Wait(grace_ms)) return *process_.status();
  process_.Kill();
  return process_.status().value_or(0);
}

}  // namespace edgebench

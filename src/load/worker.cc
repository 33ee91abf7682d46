// The orchestrator's side of the worker process.
#include "edgebench/load/worker.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

namespace edgebench {

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

Result<std::optional<FromWorkerMessage>> Worker::ParseLine(const std::string& line) {
  Result<FromWorkerMessage> m = DecodeFromWorker(line);
  if (!m.ok()) return m.error();
  if (const auto* e = std::get_if<ErrorMessage>(&m.value())) last_error_ = e->message;
  return std::optional<FromWorkerMessage>(std::move(m.value()));
}

Status Worker::Send(const ToWorkerMessage& message) {
  return WriteAll(to_worker_.get(), Encode(message), "worker pipe");
}

Result<std::optional<FromWorkerMessage>> Worker::Next(int timeout_ms) {
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
    if (left.count() < 0) return std::optional<FromWorkerMessage>();
    pollfd p{from_worker_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR)
      return std::optional<FromWorkerMessage>();  // a signal: let the caller look
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(from_worker_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{DescribeExit()};
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

Result<int> Worker::WaitReady(int timeout_ms, const std::atomic<bool>* stop) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (stop && *stop) return Error{ErrorKind::kInterrupted, "interrupted"};
    Result<std::optional<FromWorkerMessage>> ev = Next(100);
    if (!ev.ok()) return ev.error();
    if (!ev.value()) continue;
    if (const auto* r = std::get_if<ReadyMessage>(&*ev.value())) return r->connected;
    if (const auto* e = std::get_if<ErrorMessage>(&*ev.value())) return Error{e->message};
  }
  return Error{"worker was not ready within " + std::to_string(timeout_ms / 1000) + " s"};
}

Status Worker::Go(const RunClock& clock) { return Send(GoMessage{clock}); }

Status Worker::Connect() { return Send(ConnectMessage{}); }

Status Worker::Stop() { return Send(StopMessage{}); }

int Worker::Finish(int grace_ms) {
  to_worker_.Reset();  // EOF tells a worker that still waits to leave
  if (process_.Wait(grace_ms)) return *process_.status();
  process_.Kill();
  return process_.status().value_or(0);
}

}  // namespace edgebench

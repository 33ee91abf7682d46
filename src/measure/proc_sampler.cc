// Parsing of /proc/<pid>/stat, status and schedstat, and the thread that samples them.
#include "edgebench/measure/proc_sampler.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>

#include "edgebench/base/clock.h"

namespace edgebench {

namespace {

using std::chrono::steady_clock;

// Big enough for a status file on a machine with thousands of CPUs (Cpus_allowed grows
// with them); stat is far smaller. Lives on the stack: sampling must not allocate.
constexpr size_t kReadBufferSize = 16384;

// Error{message} would leave `where` and `context` to -Wmissing-field-initializers.
Error MakeError(std::string message) {
  Error error;
  error.message = std::move(message);
  return error;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The whole of `s` must be the number: "12x" and "" are rejected.
template <class T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

Error StatFieldError(int field, const char* name, std::string_view text) {
  return MakeError("/proc stat: field " + std::to_string(field) + " (" + name +
                   ") is not a number: '" + std::string(text) + "'");
}

// Parses the first word of a status value ("10240 kB" -> 10240) into `out`.
template <class T>
std::optional<Error> ParseStatusValue(std::string_view key, std::string_view value, T* out) {
  std::string_view number = value;
  size_t space = 0;
  while (space < number.size() && !IsSpace(number[space])) ++space;
  number = number.substr(0, space);
  if (ParseNumber(number, out)) return std::nullopt;
  return MakeError("/proc status: '" + std::string(key) + "' is not a number: '" +
                   std::string(value) + "'");
}

double TicksPerSecond() {
  static const double ticks_per_s = [] {
    const long ticks = sysconf(_SC_CLK_TCK);
    return ticks > 0 ? static_cast<double>(ticks) : 100.0;
  }();
  return ticks_per_s;
}

uint64_t TicksToNs(uint64_t ticks) {
  return static_cast<uint64_t>(static_cast<double>(ticks) * 1e9 / TicksPerSecond());
}

// Reads a whole /proc file into `buf`. These files report size 0 and are generated as
// they are read, so read until EOF. Returns the byte count, or -1 with errno set. A file
// larger than `size` is cut short; the fields edgebench uses come well before that.
ssize_t ReadSmallFile(const char* path, char* buf, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t used = 0;
  while (used < size) {
    const ssize_t n = read(fd, buf + used, size - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved_errno = errno;
      close(fd);
      errno = saved_errno;
      return -1;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  return static_cast<ssize_t>(used);
}

// Reads <proc_root>/<pid>/<name> into `buf` and returns a view of the contents.
Result<std::string_view> ReadProcFile(const std::string& proc_root, int pid, const char* name,
                                      char* buf, size_t size) {
  char path[PATH_MAX];
  const int length = std::snprintf(path, sizeof path, "%s/%d/%s", proc_root.c_str(), pid, name);
  if (length < 0 || static_cast<size_t>(length) >= sizeof path) {
    return MakeError("cannot read " + proc_root + "/" + std::to_string(pid) + "/" + name +
                     ": path too long");
  }
  const ssize_t n = ReadSmallFile(path, buf, size);
  if (n < 0) {
    const int read_errno = errno;  // before building strings, which may touch errno
    return MakeError("cannot read " + std::string(path) + ": " +
                     std::generic_category().message(read_errno));
  }
  return std::string_view(buf, static_cast<size_t>(n));
}

// The first field of a schedstat file: nanoseconds the task has run on a CPU.
std::optional<uint64_t> ParseSchedstatRuntime(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && !IsSpace(text[end])) ++end;
  uint64_t ns = 0;
  if (!ParseNumber(text.substr(0, end), &ns)) return std::nullopt;
  return ns;
}

std::optional<uint64_t> ReadSchedstat(const char* path) {
  std::array<char, 256> buf;
  const ssize_t n = ReadSmallFile(path, buf.data(), buf.size());
  if (n <= 0) return std::nullopt;
  return ParseSchedstatRuntime(std::string_view(buf.data(), static_cast<size_t>(n)));
}

// The runtime of every live thread of `pid`, summed over <pid>/task/*/schedstat, which
// getdents64 lists into a stack buffer (opendir would allocate). nullopt when there is no
// task directory or no thread has a schedstat file.
std::optional<uint64_t> ReadThreadsSchedstat(const std::string& proc_root, int pid) {
  char path[PATH_MAX];
  int length = std::snprintf(path, sizeof path, "%s/%d/task", proc_root.c_str(), pid);
  if (length < 0 || static_cast<size_t>(length) >= sizeof path) return std::nullopt;
  const int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return std::nullopt;
  std::array<char, 8192> entries;
  uint64_t sum_ns = 0;
  bool found = false;
  ssize_t n = 0;
  while ((n = getdents64(dir, entries.data(), entries.size())) > 0) {
    for (ssize_t off = 0; off < n;) {
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      unsigned short reclen = 0;
      std::memcpy(&reclen, entries.data() + off + 16, sizeof reclen);
      const char* name = entries.data() + off + 19;
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;  // ".", ".."
      char file[PATH_MAX];
      length = std::snprintf(file, sizeof file, "%s/%s/schedstat", path, name);
      if (length < 0 || static_cast<size_t>(length) >= sizeof file) continue;
      // A thread that ended since the listing has no file any more: its time is in stat.
      if (std::optional<uint64_t> ns = ReadSchedstat(file)) {
        sum_ns += *ns;
        found = true;
      }
    }
  }
  close(dir);
  if (!found) return std::nullopt;
  return sum_ns;
}

struct ProcFiles {
  ProcStat stat;
  ProcStatus status;
  std::optional<uint64_t> live_threads_cpu_ns;  // from schedstat, when the files exist
};

// <pid>/schedstat covers the thread-group leader only, so it is the process's only for a
// single-threaded one; otherwise every thread's file is read.
std::optional<uint64_t> ReadProcessSchedstat(const std::string& proc_root, int pid,
                                             int64_t num_threads) {
  if (num_threads > 1) return ReadThreadsSchedstat(proc_root, pid);
  char path[PATH_MAX];
  const int length = std::snprintf(path, sizeof path, "%s/%d/schedstat", proc_root.c_str(), pid);
  if (length < 0 || static_cast<size_t>(length) >= sizeof path) return std::nullopt;
  return ReadSchedstat(path);
}

Result<ProcFiles> ReadProcFiles(const std::string& proc_root, int pid) {
  std::array<char, kReadBufferSize> buf;
  ProcFiles files;
  Result<std::string_view> text = ReadProcFile(proc_root, pid, "stat", buf.data(), buf.size());
  if (!text.ok()) return text.error();
  Result<ProcStat> stat = ParseProcStat(text.value());
  if (!stat.ok()) return stat.error();
  files.stat = std::move(stat.value());

  text = ReadProcFile(proc_root, pid, "status", buf.data(), buf.size());
  if (!text.ok()) return text.error();
  Result<ProcStatus> status = ParseProcStatus(text.value());
  if (!status.ok()) return status.error();
  files.status = status.value();
  // Read after stat, so the live threads' runtime is at least what stat counted for them.
  files.live_threads_cpu_ns = ReadProcessSchedstat(proc_root, pid, files.stat.num_threads);
  return files;
}

// `exited_threads_cpu_ns` is the target's running estimate of the CPU of threads that
// have ended (stat counts it, no schedstat does any more); raised here when stat shows more.
ProcSample ToSample(const ProcFiles& files, int pid, uint64_t* exited_threads_cpu_ns) {
  ProcSample sample;
  sample.pid = pid;
  const uint64_t tick_ns = TicksToNs(files.stat.utime_ticks + files.stat.stime_ticks);
  // A kernel without schedstats writes "0 0 0": then the ticks are all there is.
  const uint64_t live_ns = files.live_threads_cpu_ns.value_or(0);
  if (live_ns == 0) {
    sample.cpu_s = static_cast<double>(tick_ns) / 1e9;
  } else {
    // stat's ticks are the whole process's runtime rounded down, so what they show beyond
    // the live threads' runtime is a lower bound of the exited threads' CPU.
    if (tick_ns > live_ns)
      *exited_threads_cpu_ns = std::max(*exited_threads_cpu_ns, tick_ns - live_ns);
    sample.cpu_s = static_cast<double>(live_ns + *exited_threads_cpu_ns) / 1e9;
    sample.cpu_from_schedstat = true;
  }
  sample.rss_kb = files.status.vm_rss_kb;
  sample.rss_peak_kb = files.status.vm_hwm_kb;
  sample.threads = files.status.threads;
  sample.voluntary_ctxt_switches = files.status.voluntary_ctxt_switches;
  sample.nonvoluntary_ctxt_switches = files.status.nonvoluntary_ctxt_switches;
  return sample;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  // comm is whatever the process named itself, so it may hold spaces and ')' too: it ends
  // at the last ')' of the line, since no later field can contain one.
  const size_t open_paren = text.find('(');
  if (open_paren == std::string_view::npos) return MakeError("/proc stat: no '(' before comm");
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos || close_paren < open_paren) {
    return MakeError("/proc stat: no ')' after comm");
  }

  ProcStat stat;
  const std::string_view pid_text = Trim(text.substr(0, open_paren));
  if (!ParseNumber(pid_text, &stat.pid)) return StatFieldError(1, "pid", pid_text);
  stat.comm = std::string(text.substr(open_paren + 1, close_paren - open_paren - 1));

  // fields[i] is field i (1-based, as in proc(5)); only 3..24 are kept.
  std::array<std::string_view, 25> fields;
  int field_count = 2;
  size_t pos = close_paren + 1;
  for (;;) {
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
    if (pos == text.size()) break;
    size_t end = pos;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    ++field_count;
    if (field_count <= 24) fields[static_cast<size_t>(field_count)] = text.substr(pos, end - pos);
    pos = end;
  }
  if (field_count < 24) {
    return MakeError("/proc stat: expected at least 24 fields, got " + std::to_string(field_count));
  }

  if (fields[3].size() != 1) {
    return MakeError("/proc stat: field 3 (state) is not a single character: '" +
                     std::string(fields[3]) + "'");
  }
  stat.state = fields[3][0];
  if (!ParseNumber(fields[14], &stat.utime_ticks)) return StatFieldError(14, "utime", fields[14]);
  if (!ParseNumber(fields[15], &stat.stime_ticks)) return StatFieldError(15, "stime", fields[15]);
  if (!ParseNumber(fields[20], &stat.num_threads)) {
    return StatFieldError(20, "num_threads", fields[20]);
  }
  if (!ParseNumber(fields[24], &stat.rss_pages)) return StatFieldError(24, "rss", fields[24]);
  return stat;
}

Result<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus status;
  bool have_threads = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;

    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    std::optional<Error> error;
    if (key == "VmRSS") {
      error = ParseStatusValue(key, value, &status.vm_rss_kb);
    } else if (key == "VmHWM") {
      error = ParseStatusValue(key, value, &status.vm_hwm_kb);
    } else if (key == "Threads") {
      error = ParseStatusValue(key, value, &status.threads);
      have_threads = true;
    } else if (key == "voluntary_ctxt_switches") {
      error = ParseStatusValue(key, value, &status.voluntary_ctxt_switches);
    } else if (key == "nonvoluntary_ctxt_switches") {
      error = ParseStatusValue(key, value, &status.nonvoluntary_ctxt_switches);
    }
    if (error) return *error;
  }
  // Kernel threads have no VmRSS or VmHWM: those stay 0. Every task has Threads.
  if (!have_threads) return MakeError("/proc status: missing 'Threads'");
  return status;
}

Result<ProcSample> SampleOnce(const std::string& proc_root, int pid) {
  const uint64_t mono_ns = MonotonicNowNs();
  Result<ProcFiles> files = ReadProcFiles(proc_root, pid);
  if (!files.ok()) return files.error();
  uint64_t exited_threads_cpu_ns = 0;
  ProcSample sample = ToSample(files.value(), pid, &exited_threads_cpu_ns);
  sample.mono_ns = mono_ns;
  return sample;
}

std::vector<ProcessSummary> SummarizeSamples(const std::vector<ProcSample>& samples) {
  return SampleDigest::Of(samples).Summaries();
}

ProcSampler::ProcSampler(std::string proc_root, int interval_ms)
    : proc_root_(std::move(proc_root)), interval_ms_(std::max(1, interval_ms)) {}

// Without Stop()'s last sample, which could throw (the sink, an allocation): a destructor
// only ends the thread.
ProcSampler::~ProcSampler() {
  if (running_) JoinThread();
}

void ProcSampler::JoinThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ProcSampler::AddTarget(std::string role, int pid) {
  Target target;
  target.role = std::move(role);
  target.pid = pid;
  targets_.push_back(std::move(target));
}

void ProcSampler::Start() {
  if (running_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = false;
  }
  start_ = steady_clock::now();
  SampleAll();
  running_ = true;
  thread_ = std::thread(&ProcSampler::Run, this);
}

void ProcSampler::Stop() {
  if (!running_) return;
  JoinThread();
  SampleAll();
  running_ = false;
}

void ProcSampler::Run() {
  // Deadlines are start_ + n * interval rather than "now + interval", so the time spent
  // sampling does not make the series drift.
  const std::chrono::milliseconds interval(interval_ms_);
  int64_t n = 1;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (wake_.wait_until(lock, start_ + n * interval, [this] { return stop_requested_; })) {
      return;
    }
    lock.unlock();
    SampleAll();
    lock.lock();
    // After a stall, skip the missed deadlines instead of sampling in a burst.
    const steady_clock::time_point now = steady_clock::now();
    do {
      ++n;
    } while (start_ + n * interval <= now);
  }
}

void ProcSampler::SampleAll() {
  for (Target& target : targets_) {
    if (!target.alive) continue;
    const uint64_t mono_ns = MonotonicNowNs();
    const int64_t t_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady_clock::now() - start_).count();
    Result<ProcFiles> files = ReadProcFiles(proc_root_, target.pid);
    // Missing files mean the process is gone. A zombie still has them but has exited and
    // lost its memory. A file that does not parse will not parse next time either.
    if (!files.ok() || files->stat.state == 'Z' || files->stat.state == 'X') {
      target.alive = false;
      continue;
    }
    ProcSample sample = ToSample(files.value(), target.pid, &target.exited_threads_cpu_ns);
    sample.mono_ns = mono_ns;  // the run's clock, so samples line up with the timeline
    sample.t_ms = t_ns / 1'000'000;
    sample.role = target.role;
    // The live threads' runtime drops when a thread ends, until stat's ticks catch up.
    if (target.has_previous) sample.cpu_s = std::max(sample.cpu_s, target.previous_cpu_s);
    if (target.has_previous && t_ns > target.previous_t_ns) {
      const double wall_s = static_cast<double>(t_ns - target.previous_t_ns) / 1e9;
      sample.cpu_pct = (sample.cpu_s - target.previous_cpu_s) / wall_s * 100.0;
    }
    target.has_previous = true;
    target.previous_cpu_s = sample.cpu_s;
    target.previous_t_ns = t_ns;
    digest_.Add(sample);
    if (sink_) {
      sink_(sample);
    } else {
      samples_.push_back(std::move(sample));
    }
  }
}

}  // namespace edgebench

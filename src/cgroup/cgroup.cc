// Cgroup: making one cgroup with limits, moving processes into it, reading its counters.
#include "edgebench/cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cgroup/internal.h"

namespace edgebench {
namespace {

constexpr int64_t kCfsPeriodUs = 100000;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Writes `value` to `path` in one write(): cgroupfs parses each write as a whole value.
// With `create` (a regular-files tree) the file is made or truncated. Returns 0 or the errno.
int WriteValue(const std::string& path, std::string_view value, bool create) {
  int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
  Fd fd(::open(path.c_str(), flags, 0644));
  if (!fd.valid()) return errno;
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) != value.size()) return EIO;
  if (::close(fd.Release()) != 0) return errno;
  return 0;
}

Error WriteError(const std::string& path, int err) {
  return Error{ErrorKind::kUnavailable, "cannot write " + path + ": " + ErrnoMessage(err)};
}

// True when the whitespace-separated `text` has `word`, with or without a leading '+'.
bool HasWord(std::string_view text, std::string_view word) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view w = text.substr(start, end - start);
    if (w.starts_with('+')) w.remove_prefix(1);
    if (w == word) return true;
    start = end + 1;
  }
  return false;
}

// Makes sure `parent`'s children can have cpu and memory limits (cgroup v2).
Status EnableControllers(const std::string& parent, bool regular_files) {
  std::string path = parent + "/cgroup.subtree_control";
  Result<std::string> enabled = ReadFile(path);
  if (!enabled) return enabled.error().WithKind(ErrorKind::kUnavailable);
  std::string wanted;
  for (const char* controller : {"cpu", "memory"}) {
    if (!HasWord(*enabled, controller))
      wanted += (wanted.empty() ? "+" : " +") + std::string(controller);
  }
  if (wanted.empty()) return Ok{};
  int err = WriteValue(path, wanted, regular_files);
  if (err == EBUSY) {
    // The "no internal processes" rule: a non-root cgroup that holds processes (edgebench
    // itself, here) cannot hand controllers to its children.
    return Error{ErrorKind::kUnavailable,
                 WriteError(path, err).message + " (" + parent +
                     " holds processes, edgebench among them, and cgroup v2 gives cpu and "
                     "memory to the children of a cgroup only when it holds none)"};
  }
  if (err != 0) return WriteError(path, err);
  return Ok{};
}

// The value of the line "KEY N" in `text` (cpu.stat, memory.events, memory.oom_control).
Result<uint64_t> Counter(std::string_view text, const std::string& path, std::string_view key) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ' ') {
      std::string_view digits = line.substr(key.size() + 1);
      uint64_t value = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc() && ptr == digits.data() + digits.size()) return value;
      return Error{path + ": bad " + std::string(key) + " line '" + std::string(line) + "'"};
    }
    start = end + 1;
  }
  return Error{path + " has no " + std::string(key) + " line"};
}

// A file holding one number (memory.max_usage_in_bytes, memory.peak).
Result<uint64_t> ReadNumber(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text) return text.error();
  std::string_view digits = *text;
  while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' '))
    digits.remove_suffix(1);
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
    return Error{path + ": not a number: '" + std::string(digits) + "'"};
  }
  return value;
}

Status CheckArguments(const std::string& name, const CgroupLimits& limits) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return Error{ErrorKind::kInternal, "cgroup name '" + name + "' must be one path component"};
  }
  bool cpus_ok = std::isfinite(limits.cpus) && (limits.cpus == 0 || limits.cpus >= 0.01);
  if (!cpus_ok) {
    return Error{
        ErrorKind::kUsage,
        fmt::format("cgroup cpus must be 0 (no limit) or at least 0.01, not {}", limits.cpus)};
  }
  return Ok{};
}

}  // namespace

Cgroup::Cgroup(CgroupLayout layout, const std::string& name, CgroupLimits limits)
    : layout_(std::move(layout)),
      limits_(limits),
      cpu_dir_(layout_.cpu_parent + "/" + name),
      memory_dir_(
          (layout_.version == CgroupVersion::kV2 ? layout_.cpu_parent : layout_.memory_parent) +
          "/" + name) {}

Result<Cgroup> Cgroup::Create(const CgroupLayout& layout, const std::string& name,
                              const CgroupLimits& limits) {
  Status valid = CheckArguments(name, limits);
  if (!valid) return valid.error();
  if (layout.version == CgroupVersion::kV2) {
    Status enabled = EnableControllers(layout.cpu_parent, layout.regular_files);
    if (!enabled) return enabled.error();
  }
  // From here on an early return destroys `cgroup`, which removes what it made.
  Cgroup cgroup(layout, name, limits);
  Status st = cgroup.MakeDirs(name);
  if (st)
    st = layout.version == CgroupVersion::kV1 ? cgroup.WriteV1Limits() : cgroup.WriteV2Limits();
  if (st) st = cgroup.OpenProcs();
  if (!st) return st.error();
  std::string dirs;
  for (const std::string& dir : cgroup.dirs_) dirs += (dirs.empty() ? "" : ",") + dir;
  spdlog::info("cgroup created dirs={} cpus={} memory_bytes={}", dirs, limits.cpus,
               limits.memory_bytes);
  return cgroup;
}

Status Cgroup::MakeDirs(const std::string& name) {
  std::vector<std::string> parents{layout_.cpu_parent};
  if (layout_.version == CgroupVersion::kV1 && layout_.memory_parent != layout_.cpu_parent) {
    parents.push_back(layout_.memory_parent);
  }
  for (const std::string& parent : parents) {
    std::string dir = parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      int err = errno;
      return Error{ErrorKind::kUnavailable,
                   "cannot create cgroup " + dir + ": " + ErrnoMessage(err)};
    }
    dirs_.push_back(dir);
  }
  return Ok{};
}

Status Cgroup::WriteControl(const std::string& dir, const std::string& file,
                            const std::string& value) const {
  std::string path = dir + "/" + file;
  int err = WriteValue(path, value, layout_.regular_files);
  if (err != 0) return WriteError(path, err);
  return Ok{};
}

bool Cgroup::HasControl(const std::string& dir, const std::string& parent,
                        const std::string& file) const {
  return Exists((layout_.regular_files ? parent : dir) + "/" + file);
}

Status Cgroup::WriteV1Limits() const {
  Status st = Ok{};
  if (limits_.cpus > 0) {
    // The period first: the quota is checked against it.
    st = WriteControl(cpu_dir_, "cpu.cfs_period_us", std::to_string(kCfsPeriodUs));
    if (st) {
      st = WriteControl(cpu_dir_, "cpu.cfs_quota_us",
                        std::to_string(std::llround(limits_.cpus * kCfsPeriodUs)));
    }
  }
  if (st && limits_.memory_bytes > 0) {
    // memsw (memory + swap) must stay >= the memory limit, so the memory limit goes first.
    std::string bytes = std::to_string(limits_.memory_bytes);
    st = WriteControl(memory_dir_, "memory.limit_in_bytes", bytes);
    if (st && HasControl(memory_dir_, layout_.memory_parent, "memory.memsw.limit_in_bytes")) {
      st = WriteControl(memory_dir_, "memory.memsw.limit_in_bytes", bytes);
    }
  }
  return st;
}

Status Cgroup::WriteV2Limits() const {
  Status st = Ok{};
  if (limits_.cpus > 0) {
    st =
        WriteControl(cpu_dir_, "cpu.max",
                     fmt::format("{} {}", std::llround(limits_.cpus * kCfsPeriodUs), kCfsPeriodUs));
  }
  if (st && limits_.memory_bytes > 0) {
    st = WriteControl(memory_dir_, "memory.max", std::to_string(limits_.memory_bytes));
    if (st && HasControl(memory_dir_, layout_.memory_parent, "memory.swap.max")) {
      st = WriteControl(memory_dir_, "memory.swap.max", "0");
    }
  }
  return st;
}

Status Cgroup::OpenProcs() {
  int flags = O_WRONLY | O_CLOEXEC | (layout_.regular_files ? O_CREAT | O_APPEND : 0);
  for (const std::string& dir : dirs_) {
    std::string path = dir + "/cgroup.procs";
    Fd fd(::open(path.c_str(), flags, 0644));
    if (!fd.valid()) return WriteError(path, errno);
    procs_.push_back(std::move(fd));
  }
  return Ok{};
}

Cgroup::~Cgroup() {
  if (dirs_.empty()) return;
  Status st = Remove();
  if (!st) spdlog::warn("cgroup left behind: {}", st.error().message);
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : layout_(std::move(other.layout_)),
      limits_(other.limits_),
      cpu_dir_(std::move(other.cpu_dir_)),
      memory_dir_(std::move(other.memory_dir_)),
      dirs_(std::exchange(other.dirs_, {})),
      procs_(std::exchange(other.procs_, {})) {}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    if (!dirs_.empty()) {
      Status st = Remove();
      if (!st) spdlog::warn("cgroup left behind: {}", st.error().message);
    }
    layout_ = std::move(other.layout_);
    limits_ = other.limits_;
    cpu_dir_ = std::move(other.cpu_dir_);
    memory_dir_ = std::move(other.memory_dir_);
    dirs_ = std::exchange(other.dirs_, {});
    procs_ = std::exchange(other.procs_, {});
  }
  return *this;
}

std::vector<int> Cgroup::procs_fds() const {
  std::vector<int> fds;
  for (const Fd& fd : procs_) fds.push_back(fd.get());
  return fds;
}

Status Cgroup::AddProcess(pid_t pid) {
  std::string text = std::to_string(pid) + "\n";
  if (procs_.empty()) {
    return Error{ErrorKind::kInternal,
                 "cannot add pid " + std::to_string(pid) + " to a cgroup that was removed"};
  }
  for (size_t i = 0; i < procs_.size(); ++i) {
    ssize_t n;
    do {
      n = ::write(procs_[i].get(), text.data(), text.size());
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : (static_cast<size_t>(n) == text.size() ? 0 : EIO);
    if (err != 0) {
      return Error{"cannot add pid " + std::to_string(pid) + " to " + dirs_[i] +
                   "/cgroup.procs: " + ErrnoMessage(err)};
    }
  }
  return Ok{};
}

Result<CgroupStats> Cgroup::ReadStats() const {
  bool v1 = layout_.version == CgroupVersion::kV1;
  std::string cpu_path = cpu_dir_ + "/cpu.stat";
  Result<std::string> cpu = ReadFile(cpu_path);
  if (!cpu) return cpu.error();
  CgroupStats stats;
  Result<uint64_t> periods = Counter(*cpu, cpu_path, "nr_periods");
  if (!periods) return periods.error();
  Result<uint64_t> throttled = Counter(*cpu, cpu_path, "nr_throttled");
  if (!throttled) return throttled.error();
  Result<uint64_t> stopped = Counter(*cpu, cpu_path, v1 ? "throttled_time" : "throttled_usec");
  if (!stopped) return stopped.error();
  stats.nr_periods = *periods;
  stats.nr_throttled = *throttled;
  stats.throttled_ns = v1 ? *stopped : *stopped * 1000;

  std::string peak_path = memory_dir_ + (v1 ? "/memory.max_usage_in_bytes" : "/memory.peak");
  if (v1 || Exists(peak_path)) {
    Result<uint64_t> peak = ReadNumber(peak_path);
    if (!peak) return peak.error();
    stats.memory_peak_bytes = *peak;
  }
  std::string events_path = memory_dir_ + (v1 ? "/memory.oom_control" : "/memory.events");
  Result<std::string> events = ReadFile(events_path);
  if (!events) return events.error();
  Result<uint64_t> kills = Counter(*events, events_path, "oom_kill");
  if (!kills) return kills.error();
  stats.oom_kills = *kills;
  return stats;
}

Status Cgroup::Remove() {
  procs_.clear();
  std::optional<Error> first;
  std::vector<std::string> left;
  for (const std::string& dir : dirs_) {
    Status st = cgroup_internal::RemoveCgroupDir(dir, layout_.regular_files);
    if (st) continue;
    left.push_back(dir);
    if (!first) first = st.error();
  }
  dirs_ = std::move(left);
  if (first) return *first;
  return Ok{};
}

std::string CgroupName(pid_t creator, int seq) {
  return "edgebench-" + std::to_string(creator) + "-" + std::to_string(seq);
}

}  // namespace edgebench

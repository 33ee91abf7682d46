// Removing cgroup directories: one of ours, the stale ones of an edgebench that was killed,
// and the probe of CgroupUnavailableReason().
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgebench/base/fd.h"
#include "edgebench/cgroup/cgroup.h"

#include "cgroup/internal.h"

namespace edgebench {
namespace cgroup_internal {

Result<std::vector<std::string>> ProcsIn(const std::string& dir, bool regular_files) {
  std::string path = dir + "/cgroup.procs";
  struct stat st {};
  if (regular_files && ::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return std::vector<std::string>{};
  }
  Result<std::string> text = ReadFile(path);
  if (!text) return text.error();
  std::vector<std::string> pids;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find_first_of(" \t\n", start);
    if (end == std::string::npos) end = text->size();
    if (end > start) pids.push_back(text->substr(start, end - start));
    start = end + 1;
  }
  return pids;
}

namespace {

std::string JoinPids(const std::vector<std::string>& pids) {
  constexpr size_t kShown = 10;
  std::string out;
  for (size_t i = 0; i < pids.size() && i < kShown; ++i) out += (i ? ", " : "") + pids[i];
  if (pids.size() > kShown) out += ", ...";
  return out;
}

// The ordinary files a test tree has where cgroupfs would have control files.
void RemoveRegularFiles(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  std::vector<std::filesystem::path> files;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) files.push_back(it->path());
  }
  for (const std::filesystem::path& file : files) std::filesystem::remove(file, ec);
}

}  // namespace

Status RemoveCgroupDir(const std::string& dir, bool regular_files) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return Ok{};
  std::string what = "cannot remove cgroup " + dir + ": ";
  Result<std::vector<std::string>> procs = ProcsIn(dir, regular_files);
  if (!procs) return Error{what + procs.error().message};
  if (!procs->empty()) return Error{what + "it still holds processes " + JoinPids(*procs)};
  if (regular_files) RemoveRegularFiles(dir);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok{};
    int err = errno;
    // The kernel may count a process that has just been reaped a moment longer.
    if (err != EBUSY || attempt == 20) return Error{what + ErrnoMessage(err)};
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace cgroup_internal

namespace {

// The <pid> of "edgebench-<pid>-<something>".
std::optional<pid_t> CreatorPid(std::string_view name) {
  std::string_view prefix = "edgebench-";
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash + 1 == name.size()) return std::nullopt;
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + dash, pid);
  if (ec != std::errc() || end != name.data() + dash || pid <= 0) return std::nullopt;
  return pid;
}

bool ProcessRuns(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// The names of the subdirectories of `parent`, read before any is removed.
std::vector<std::string> Subdirectories(const std::string& parent) {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(parent, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  return names;
}

}  // namespace

std::vector<std::string> RemoveStaleCgroups(const CgroupLayout& layout) {
  std::vector<std::string> parents{layout.cpu_parent};
  if (layout.memory_parent != layout.cpu_parent) parents.push_back(layout.memory_parent);
  std::vector<std::string> removed;
  for (const std::string& parent : parents) {
    for (const std::string& name : Subdirectories(parent)) {
      std::optional<pid_t> pid = CreatorPid(name);
      if (!pid || ProcessRuns(*pid)) continue;
      std::string dir = parent + "/" + name;
      Status st = cgroup_internal::RemoveCgroupDir(dir, layout.regular_files);
      if (!st) {
        spdlog::warn("stale cgroup left in place: {}", st.error().message);
        continue;
      }
      spdlog::info("removed stale cgroup dir={} pid={}", dir, *pid);
      removed.push_back(dir);
    }
  }
  return removed;
}

std::string CgroupUnavailableReason() {
  Result<CgroupLayout> layout = DetectCgroupLayout();
  if (!layout) return layout.error().message;
  std::string name = "edgebench-" + std::to_string(::getpid()) + "-probe";
  Result<Cgroup> probe = Cgroup::Create(*layout, name, CgroupLimits{});
  if (!probe) {
    if (::geteuid() == 0) return probe.error().message;
    return fmt::format("it needs root; edgebench runs as uid {} ({})", ::geteuid(),
                       probe.error().message);
  }
  Status removed = probe->Remove();
  if (!removed) spdlog::warn("cannot remove the probe cgroup: {}", removed.error().message);
  return "";
}

}  // namespace edgebench

// The run directory and the host facts recorded in every manifest.
#include "edgebench/results/run_directory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "edgebench/base/fd.h"
#include "edgebench/version.h"

namespace edgebench {
namespace {

Status MakeDirs(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error{"cannot create results directory " + partial + ": " + ErrnoMessage(errno)};
    }
  }
  return Ok{};
}

}  // namespace

std::string ShortId() {
  std::random_device rd;
  return fmt::format("{:06x}", rd() & 0xffffff);
}

std::string UtcStamp() {
  time_t t = ::time(nullptr);
  tm utc{};
  ::gmtime_r(&t, &utc);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
  return buf;
}

std::string UtcIso8601() {
  auto now = std::chrono::system_clock::now();
  time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  tm utc{};
  ::gmtime_r(&t, &utc);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", buf, ms);
}

Result<RunDirectory> RunDirectory::Create(const std::string& out_root, const std::string& scenario,
                                          bool owner_only) {
  RunDirectory d;
  d.parent_ = out_root + "/" + scenario;
  Status st = MakeDirs(d.parent_);
  if (!st) return st.error();
  for (int attempt = 0; attempt < 5; ++attempt) {
    d.name_ = UtcStamp() + "-" + ShortId();
    d.path_ = d.parent_ + "/" + d.name_ + ".partial";
    struct stat sb {};
    if (::stat((d.parent_ + "/" + d.name_).c_str(), &sb) == 0) continue;  // final name taken
    // mkdir() applies the umask; chmod() makes 0700 exact whatever it is.
    if (::mkdir(d.path_.c_str(), owner_only ? 0700 : 0755) == 0) {
      if (owner_only && ::chmod(d.path_.c_str(), 0700) != 0) {
        return Error{"cannot make " + d.path_ + " owner-only: " + ErrnoMessage(errno)};
      }
      return d;
    }
    if (errno != EEXIST) {
      return Error{"cannot create results directory " + d.path_ + ": " + ErrnoMessage(errno)};
    }
  }
  return Error{"cannot create a new results directory under " + d.parent_};
}

Status RunDirectory::Write(const std::string& name, std::string_view content) {
  return WriteFile(File(name), content);
}

Result<std::string> RunDirectory::Finish(const std::string& suffix) {
  std::string final_path = parent_ + "/" + name_ + (suffix.empty() ? "" : "." + suffix);
  struct stat sb {};
  if (::stat(final_path.c_str(), &sb) == 0) {
    return Error{"cannot rename " + path_ + ": " + final_path + " already exists"};
  }
  if (::rename(path_.c_str(), final_path.c_str()) != 0) {
    return Error{"cannot rename " + path_ + " to " + final_path + ": " + ErrnoMessage(errno)};
  }
  path_ = final_path;
  return final_path;
}

nlohmann::json HostFacts() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  utsname u{};
  ::uname(&u);
  std::string cpu_model;
  if (Result<std::string> info = ReadFile("/proc/cpuinfo"); info.ok()) {
    size_t pos = info->find("model name");
    if (pos != std::string::npos) {
      size_t colon = info->find(':', pos);
      size_t end = info->find('\n', pos);
      if (colon != std::string::npos && colon < end)
        cpu_model = info->substr(colon + 2, end - colon - 2);
    }
  }
  return {{"hostname", host},
          {"kernel", std::string(u.sysname) + " " + u.release},
          {"machine", u.machine},
          {"cpu_model", cpu_model},
          {"cpu_count", std::thread::hardware_concurrency()}};
}

std::string EdgebenchVersion() { return kEdgebenchVersion; }
std::string EdgebenchGitRevision() { return kEdgebenchGitRevision; }

}  // namespace edgebench

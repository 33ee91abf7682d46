// RunDirectory: one run's results directory, created as .partial and renamed when done.
//
// Contract: Create() makes OUT/<scenario>/<UTC stamp>-<short id>.partial/ (and missing
// parents) and fails rather than reuse an existing directory. Write() writes whole files
// and reports a full disk. Finish() renames the directory to its final name (with a
// ".failed" or ".interrupted" suffix for runs that did not complete) and never overwrites
// an existing one. Not thread-safe.
#ifndef EDGEBENCH_RESULTS_RUN_DIRECTORY_H_
#define EDGEBENCH_RESULTS_RUN_DIRECTORY_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"

namespace edgebench {

class RunDirectory {
 public:
  // Error: "cannot create results directory results/edge/...: Permission denied".
  // `owner_only`: mode 0700 instead of 0755 (its files hold secrets).
  static Result<RunDirectory> Create(const std::string& out_root, const std::string& scenario,
                                     bool owner_only = false);

  const std::string& path() const { return path_; }      // where files go now
  const std::string& run_name() const { return name_; }  // "20261129T130102Z-a1b2c3"
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  Status Write(const std::string& name, std::string_view content);
  // `suffix` is "" for a complete run, else "failed" or "interrupted". Returns the final path.
  Result<std::string> Finish(const std::string& suffix);

 private:
  std::string parent_;
  std::string name_;
  std::string path_;
};

// "20261129T130102Z" for the current UTC time; ISO 8601 "2026-11-29T13:01:02.123Z" below.
std::string UtcStamp();
// Six random hex digits ("a1b2c3"), for names that must not collide.
std::string ShortId();
std::string UtcIso8601();

// The manifest's host facts: host name, kernel, CPU model and count.
nlohmann::json HostFacts();

// edgebench's version ("0.1.0") and the git revision it was built from ("a1b2c3d[-dirty]").
std::string EdgebenchVersion();
std::string EdgebenchGitRevision();

}  // namespace edgebench

#endif  // EDGEBENCH_RESULTS_RUN_DIRECTORY_H_

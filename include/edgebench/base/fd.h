// Fd: an owned file descriptor, and the few POSIX I/O helpers built on it.
//
// Contract: an Fd closes its descriptor exactly once (on destruction or Reset()). It is
// move-only. The helpers retry on EINTR and return errors as values with strerror text.
#ifndef EDGEBENCH_BASE_FD_H_
#define EDGEBENCH_BASE_FD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "edgebench/base/error.h"

namespace edgebench {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct PipeEnds {
  Fd read;
  Fd write;
};

// pipe2(O_CLOEXEC).
Result<PipeEnds> MakePipe();

// Writes all of `data`, blocking as needed. Error names `what` ("worker pipe: ...").
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Writes `data` to `path` (mode 0644) through PATH.tmp, renamed over `path` once complete,
// checking every step: `path` is never left half written, and a full disk is reported
// ("cannot write PATH: No space left on device"; PATH.tmp is then removed).
Status WriteFile(const std::string& path, std::string_view data);

// How much of one kind of file edgebench reads, and what the kind is called in messages
// ("PATH: is larger than the 1 MiB limit for a scenario file"). docs/scenario.md lists them.
struct FileLimit {
  int64_t max_bytes;
  const char* kind;
};
// /proc and cgroup files, logs, anything without a limit of its own.
inline constexpr FileLimit kAnyFileLimit{16 << 20, "a file"};
// Scenarios and the YAML files they refer to (profiles, node profiles, price sheets).
inline constexpr FileLimit kScenarioFileLimit{1 << 20, "a scenario file"};
inline constexpr FileLimit kConfigFileLimit{1 << 20, "a configuration file"};
inline constexpr FileLimit kPasswordFileLimit{64 << 10, "a password file"};
// CA bundles, certificates and keys (Debian's whole CA bundle is about 200 KiB).
inline constexpr FileLimit kTlsFileLimit{4 << 20, "a TLS file"};
// summary.json, index.json, search.json, timeline CSVs of a results directory.
inline constexpr FileLimit kResultsFileLimit{256 << 20, "a results file"};

// Why a file cannot be read within its limit.
struct FileProblem {
  int error_number = 0;  // the errno of open() or read(); 0 when the file itself is wrong
  // "No such file or directory", "is not a regular file (a FIFO)",
  // "is larger than the 1 MiB limit for a scenario file".
  std::string text;
};

// "1 MiB", "64 KiB", "100 bytes": a limit as messages show it.
std::string FormatByteLimit(int64_t bytes);

// Whether `path` is a regular file of at most limit.max_bytes that can be opened for
// reading: nullopt when it is. It is stat()ed first and opened with O_NONBLOCK, so a FIFO,
// a device or a directory is refused without blocking or being read. /proc files are
// regular with size 0 and pass; their size shows only when they are read.
std::optional<FileProblem> CheckFile(const std::string& path, FileLimit limit);

// Reads a whole regular file of at most limit.max_bytes (the check of CheckFile, then at
// most max_bytes + 1 bytes are read, so a file that grows or lies about its size is refused
// too). Errors: "cannot read PATH: <strerror>", "PATH: is not a regular file (a FIFO)",
// "PATH: is larger than the 16 MiB limit for a file".
Result<std::string> ReadFile(const std::string& path, FileLimit limit = kAnyFileLimit);

// The same for a file the user gave (a scenario, results being read back): the error is
// located at the file, so it prints as "PATH: cannot read file: No such file or directory",
// "PATH: is not a regular file (a FIFO)" or "PATH: is larger than the 1 MiB limit for a
// scenario file".
Result<std::string> ReadInputFile(const std::string& path, FileLimit limit);

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_FD_H_

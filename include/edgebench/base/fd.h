// Fd: an owned file descriptor, and the few POSIX I/O helpers built on it.
//
// Contract: an Fd closes its descriptor exactly once (on destruction or Reset()). It is
// move-only. The helpers retry on EINTR and return errors as values with strerror text.
#ifndef EDGEBENCH_BASE_FD_H_
#define EDGEBENCH_BASE_FD_H_

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

// Reads a whole (small) file. Error: "cannot read PATH: <strerror>".
Result<std::string> ReadFile(const std::string& path);

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_FD_H_

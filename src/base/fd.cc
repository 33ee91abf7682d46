// Owned file descriptors and blocking I/O helpers.
#include "edgebench/base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace edgebench {

void Fd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<PipeEnds> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error{std::string("cannot create pipe: ") + ErrnoMessage(errno)};
  }
  return PipeEnds{Fd(fds[0]), Fd(fds[1])};
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{what + ": " + ErrnoMessage(errno)};
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok{};
}

Status WriteFile(const std::string& path, std::string_view data) {
  const std::string temporary = path + ".tmp";
  Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Error{"cannot write " + path + ": " + ErrnoMessage(errno)};
  Status st = WriteAll(fd.get(), data, "cannot write " + path);
  // close() can report a deferred write error (for example on NFS or a full disk).
  if (::close(fd.Release()) != 0 && st) {
    st = Error{"cannot write " + path + ": " + ErrnoMessage(errno)};
  }
  if (st && ::rename(temporary.c_str(), path.c_str()) != 0) {
    st = Error{"cannot rename " + temporary + " to " + path + ": " + ErrnoMessage(errno)};
  }
  if (!st) ::unlink(temporary.c_str());
  return st;
}

Result<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error{"cannot read " + path + ": " + ErrnoMessage(errno)};
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{"cannot read " + path + ": " + ErrnoMessage(errno)};
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace edgebench

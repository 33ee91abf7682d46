// Owned file descriptors and blocking I/O helpers.
#include "edgebench/base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
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

std::string FormatByteLimit(int64_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1 << 10) && bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

namespace {

// What a file that is not a regular one is, for "is not a regular file (a FIFO)".
const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

std::optional<FileProblem> CheckStat(const struct stat& st, FileLimit limit) {
  if (!S_ISREG(st.st_mode)) {
    return FileProblem{0, std::string("is not a regular file (") + FileTypeName(st.st_mode) + ")"};
  }
  if (st.st_size > limit.max_bytes)
    return FileProblem{
        0, "is larger than the " + FormatByteLimit(limit.max_bytes) + " limit for " + limit.kind};
  return std::nullopt;
}

// Opens `path` for reading after the checks of CheckFile; `fd` is set when it returns nullopt.
std::optional<FileProblem> OpenChecked(const std::string& path, FileLimit limit, Fd* fd) {
  // stat() first, so that a device is never opened (opening one can have effects).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileProblem{errno, ErrnoMessage(errno)};
  if (std::optional<FileProblem> p = CheckStat(st, limit)) return p;
  // O_NONBLOCK: if the path became a FIFO since the stat(), open() still returns at once.
  fd->Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd->valid()) return FileProblem{errno, ErrnoMessage(errno)};
  if (::fstat(fd->get(), &st) != 0) return FileProblem{errno, ErrnoMessage(errno)};
  return CheckStat(st, limit);
}

std::optional<FileProblem> ReadChecked(const std::string& path, FileLimit limit, std::string* out) {
  Fd fd;
  if (std::optional<FileProblem> p = OpenChecked(path, limit, &fd)) return p;
  out->clear();
  char buf[65536];
  const auto cap = static_cast<size_t>(limit.max_bytes);
  for (;;) {
    size_t want = std::min(sizeof buf, cap + 1 - out->size());
    ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileProblem{errno, ErrnoMessage(errno)};
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > cap) {
      return FileProblem{
          0, "is larger than the " + FormatByteLimit(limit.max_bytes) + " limit for " + limit.kind};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<FileProblem> CheckFile(const std::string& path, FileLimit limit) {
  Fd fd;
  return OpenChecked(path, limit, &fd);
}

Result<std::string> ReadFile(const std::string& path, FileLimit limit) {
  std::string out;
  std::optional<FileProblem> p = ReadChecked(path, limit, &out);
  if (!p) return out;
  if (p->error_number != 0) return Error{"cannot read " + path + ": " + p->text};
  return Error{path + ": " + p->text};
}

Result<std::string> ReadInputFile(const std::string& path, FileLimit limit) {
  std::string out;
  std::optional<FileProblem> p = ReadChecked(path, limit, &out);
  if (!p) return out;
  std::string text = p->error_number != 0 ? "cannot read file: " + p->text : p->text;
  return Error{text, SourceLocation{path}};
}

}  // namespace edgebench

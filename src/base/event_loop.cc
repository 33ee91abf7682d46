// EventLoop: epoll_ctl with errors as values, and the nanosecond wait with its fallback.
#include "edgebench/base/event_loop.h"

#include <errno.h>
#include <time.h>

#include <limits>
#include <string>
#include <system_error>
#include <utility>

namespace edgebench {

namespace {

constexpr uint64_t kNsPerS = 1'000'000'000;
constexpr uint64_t kNsPerMs = 1'000'000;

// strerror() is not thread-safe; the generic category's text is the same.
std::string Errno() { return std::generic_category().message(errno); }

const char* OpName(int op) {
  switch (op) {
    case EPOLL_CTL_ADD:
      return "add";
    case EPOLL_CTL_MOD:
      return "mod";
    default:
      return "del";
  }
}

// epoll_wait's timeout for `wait_ns`: rounded up, so the wait never ends before the
// deadline; -1 (block) when there is none; at most INT_MAX ms (24 days).
int MillisecondsUp(uint64_t wait_ns, bool forever) {
  if (forever) return -1;
  uint64_t ms = wait_ns / kNsPerMs + (wait_ns % kNsPerMs != 0 ? 1 : 0);
  return ms > static_cast<uint64_t>(std::numeric_limits<int>::max())
             ? std::numeric_limits<int>::max()
             : static_cast<int>(ms);
}

}  // namespace

Result<EventLoop> EventLoop::Create() {
  Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error{"epoll_create1: " + Errno()};
  return EventLoop(std::move(epoll));
}

Status EventLoop::Control(int op, int fd, uint64_t tag, uint32_t interest) {
  epoll_event ev{};
  ev.events = interest;
  ev.data.u64 = tag;
  if (::epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
    return Error{std::string("epoll_ctl ") + OpName(op) + " fd " + std::to_string(fd) + ": " +
                 Errno()};
  }
  return Ok{};
}

Status EventLoop::Watch(int fd, uint64_t tag, uint32_t interest) {
  return Control(EPOLL_CTL_ADD, fd, tag, interest);
}

Status EventLoop::Modify(int fd, uint64_t tag, uint32_t interest) {
  return Control(EPOLL_CTL_MOD, fd, tag, interest);
}

Status EventLoop::Unwatch(int fd) { return Control(EPOLL_CTL_DEL, fd, 0, 0); }

Result<int> EventLoop::Wait(uint64_t now_ns, uint64_t deadline_ns) {
  const bool forever = deadline_ns == kNoDeadline;
  const uint64_t wait_ns = deadline_ns > now_ns ? deadline_ns - now_ns : 0;
  if (use_pwait2_) {
    timespec ts{static_cast<time_t>(wait_ns / kNsPerS), static_cast<long>(wait_ns % kNsPerS)};
    int n = ::epoll_pwait2(epoll_.get(), events_, kMaxEvents, forever ? nullptr : &ts, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) return 0;
    if (errno != ENOSYS) return Error{"epoll_pwait2: " + Errno()};
    use_pwait2_ = false;  // before Linux 5.11: it will not appear later
  }
  int n = ::epoll_wait(epoll_.get(), events_, kMaxEvents, MillisecondsUp(wait_ns, forever));
  if (n >= 0) return n;
  if (errno == EINTR) return 0;
  return Error{"epoll_wait: " + Errno()};
}

}  // namespace edgebench

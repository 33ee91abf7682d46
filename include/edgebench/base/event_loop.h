// EventLoop: one epoll set, and a wait that ends at a CLOCK_MONOTONIC deadline to the nanosecond.
//
// Contract: an EventLoop owns its epoll descriptor (close-on-exec), not the descriptors it
// watches: the caller keeps each fd open while it is watched and should Unwatch() it before
// closing it (closing the last copy of an fd also drops it from the set, as in epoll).
// Each watched fd carries an opaque 64-bit tag, handed back with its events. `interest`
// and the reported `events` are epoll's bits: ask for EPOLLIN and/or EPOLLOUT (0 keeps the
// fd registered but quiet); EPOLLERR and EPOLLHUP are always reported. Level-triggered.
//
// Wait(now_ns, deadline_ns) returns once an fd is ready or at deadline_ns, never before it
// (both CLOCK_MONOTONIC nanoseconds, as MonotonicNowNs(); a deadline <= now only polls;
// kNoDeadline blocks until an event). It uses epoll_pwait2 (nanosecond timeouts, Linux 5.11)
// and on ENOSYS falls back for good to epoll_wait with the timeout rounded up to the next
// millisecond, so an older kernel wakes up to 1 ms late but never early. For wake-ups on time
// the caller also sets its timer slack (prctl PR_SET_TIMERSLACK). A signal (EINTR) ends the
// wait with 0 events. The events stay readable through event(i) until the next Wait().
//
// Cost: no allocation, no virtual call and one syscall per Watch/Modify/Unwatch/Wait; the
// event buffer lives inside the object. Thread-safety: none; one thread owns the loop.
#ifndef EDGEBENCH_BASE_EVENT_LOOP_H_
#define EDGEBENCH_BASE_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"

namespace edgebench {

class EventLoop {
 public:
  static constexpr int kMaxEvents = 256;  // the most events one Wait() returns
  static constexpr uint64_t kNoDeadline = std::numeric_limits<uint64_t>::max();

  // One ready fd: its tag and what happened (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...).
  struct Event {
    uint64_t tag;
    uint32_t events;
  };

  // Error: "epoll_create1: <strerror>".
  static Result<EventLoop> Create();

  // Errors: "epoll_ctl add fd 7: <strerror>" (and "mod", "del").
  Status Watch(int fd, uint64_t tag, uint32_t interest);   // Requires: fd not watched.
  Status Modify(int fd, uint64_t tag, uint32_t interest);  // Requires: fd watched.
  Status Unwatch(int fd);                                  // Requires: fd watched.

  // The number of ready fds (0 on timeout or EINTR, at most kMaxEvents). Error (a bad
  // epoll fd, say): "epoll_pwait2: <strerror>" or "epoll_wait: <strerror>".
  Result<int> Wait(uint64_t now_ns, uint64_t deadline_ns);

  // Requires: 0 <= i < what the last Wait() returned.
  Event event(int i) const { return Event{events_[i].data.u64, events_[i].events}; }

  // Waits as on a kernel without epoll_pwait2 (millisecond timeouts, rounded up). For tests.
  void ForceMillisecondWait() { use_pwait2_ = false; }

 private:
  explicit EventLoop(Fd epoll) : epoll_(std::move(epoll)) {}
  Status Control(int op, int fd, uint64_t tag, uint32_t interest);

  Fd epoll_;
  bool use_pwait2_ = true;  // cleared on the first ENOSYS
  epoll_event events_[kMaxEvents] = {};
};

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_EVENT_LOOP_H_

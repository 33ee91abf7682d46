// Tests for src/base/event_loop.cc on real pipes and socket pairs: tags, interest changes,
// Unwatch, deadlines (lower bounds only) with both wait calls, EINTR and errors.
#include "edgebench/base/event_loop.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include "edgebench/base/clock.h"
#include "edgebench/base/fd.h"

namespace edgebench {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint32_t kIn = EPOLLIN;
constexpr uint32_t kOut = EPOLLOUT;
constexpr uint32_t kHup = EPOLLHUP;

EventLoop NewLoop() {
  Result<EventLoop> loop = EventLoop::Create();
  REQUIRE(loop.ok());
  return std::move(loop.value());
}

PipeEnds NewPipe() {
  Result<PipeEnds> p = MakePipe();
  REQUIRE(p.ok());
  return std::move(p.value());
}

std::pair<Fd, Fd> NewSocketPair() {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  return {Fd(fds[0]), Fd(fds[1])};
}

void WriteByte(int fd) { REQUIRE(::write(fd, "x", 1) == 1); }

// Polls without blocking: a deadline already passed.
int PollNow(EventLoop& loop) {
  uint64_t now = MonotonicNowNs();
  Result<int> n = loop.Wait(now, now);
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("A readable fd is reported with its tag", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds a = NewPipe();
  PipeEnds b = NewPipe();
  const uint64_t tag_a = 0xFEDC'BA98'7654'3210ull;  // all 64 bits come back
  const uint64_t tag_b = 7;
  REQUIRE(loop.Watch(a.read.get(), tag_a, kIn).ok());
  REQUIRE(loop.Watch(b.read.get(), tag_b, kIn).ok());
  CHECK(PollNow(loop) == 0);

  WriteByte(b.write.get());
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).tag == tag_b);
  CHECK(loop.event(0).events == kIn);

  WriteByte(a.write.get());
  REQUIRE(PollNow(loop) == 2);  // level-triggered: b is still unread
  uint64_t tags = loop.event(0).tag ^ loop.event(1).tag;
  CHECK(tags == (tag_a ^ tag_b));
}

TEST_CASE("A ready fd ends a wait without deadline", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds p = NewPipe();
  REQUIRE(loop.Watch(p.read.get(), 3, kIn).ok());
  WriteByte(p.write.get());
  Result<int> n = loop.Wait(MonotonicNowNs(), EventLoop::kNoDeadline);
  REQUIRE(n.ok());
  REQUIRE(*n == 1);
  CHECK(loop.event(0).tag == 3);
}

TEST_CASE("kOut is reported only while asked for", "[event_loop]") {
  EventLoop loop = NewLoop();
  auto [left, right] = NewSocketPair();
  REQUIRE(loop.Watch(left.get(), 1, kIn).ok());
  CHECK(PollNow(loop) == 0);  // writable, but nobody asked

  REQUIRE(loop.Modify(left.get(), 1, kIn | kOut).ok());
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).tag == 1);
  CHECK(loop.event(0).events == kOut);

  WriteByte(right.get());
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).events == (kIn | kOut));

  REQUIRE(loop.Modify(left.get(), 2, kIn).ok());  // the tag can change too
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).tag == 2);
  CHECK(loop.event(0).events == kIn);

  REQUIRE(loop.Modify(left.get(), 2, 0).ok());  // registered, quiet
  CHECK(PollNow(loop) == 0);
}

TEST_CASE("A hang-up is reported without being asked for", "[event_loop]") {
  EventLoop loop = NewLoop();
  auto [left, right] = NewSocketPair();
  REQUIRE(loop.Watch(left.get(), 9, 0).ok());
  right.Reset();
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).tag == 9);
  CHECK((loop.event(0).events & kHup) != 0);
}

TEST_CASE("An unwatched fd is no longer reported and can be watched again", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds p = NewPipe();
  REQUIRE(loop.Watch(p.read.get(), 5, kIn).ok());
  WriteByte(p.write.get());
  REQUIRE(PollNow(loop) == 1);

  REQUIRE(loop.Unwatch(p.read.get()).ok());
  CHECK(PollNow(loop) == 0);

  REQUIRE(loop.Watch(p.read.get(), 6, kIn).ok());
  REQUIRE(PollNow(loop) == 1);
  CHECK(loop.event(0).tag == 6);
}

TEST_CASE("epoll_ctl failures come back as errors", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds p = NewPipe();
  const int fd = p.read.get();
  const std::string n = std::to_string(fd);
  Status unwatched = loop.Modify(fd, 1, kIn);
  REQUIRE(!unwatched.ok());
  CHECK(unwatched.error().message == "epoll_ctl mod fd " + n + ": No such file or directory");
  REQUIRE(loop.Watch(fd, 1, kIn).ok());
  Status twice = loop.Watch(fd, 1, kIn);
  REQUIRE(!twice.ok());
  CHECK(twice.error().message == "epoll_ctl add fd " + n + ": File exists");
  REQUIRE(loop.Unwatch(fd).ok());
  Status gone = loop.Unwatch(fd);
  REQUIRE(!gone.ok());
  CHECK(gone.error().message == "epoll_ctl del fd " + n + ": No such file or directory");
  Status bad = loop.Watch(-1, 1, kIn);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message == "epoll_ctl add fd -1: Bad file descriptor");
}

// A thread writes to `alarm` unless told to stop within 30 s: a wait that blocks instead of
// returning at once then reports the alarm fd, and the test fails instead of hanging.
class Watchdog {
 public:
  explicit Watchdog(int alarm_fd)
      : stop_(NewPipe()), thread_([this, alarm_fd] {
          pollfd p{stop_.read.get(), POLLIN, 0};
          if (::poll(&p, 1, 30'000) == 0) (void)!::write(alarm_fd, "!", 1);
        }) {}
  ~Watchdog() {
    (void)!::write(stop_.write.get(), "x", 1);
    thread_.join();
  }

 private:
  PipeEnds stop_;
  std::thread thread_;
};

TEST_CASE("A deadline already passed returns at once", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds alarm = NewPipe();
  REQUIRE(loop.Watch(alarm.read.get(), 1, kIn).ok());
  bool millisecond = GENERATE(false, true);
  if (millisecond) loop.ForceMillisecondWait();
  Watchdog watchdog(alarm.write.get());
  uint64_t now = MonotonicNowNs();
  for (uint64_t deadline : {now, now - 1, uint64_t{0}}) {
    Result<int> n = loop.Wait(now, deadline);
    REQUIRE(n.ok());
    CHECK(*n == 0);
  }
}

TEST_CASE("A wait does not end before its deadline", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds idle = NewPipe();
  REQUIRE(loop.Watch(idle.read.get(), 1, kIn).ok());
  bool millisecond = GENERATE(false, true);
  if (millisecond) loop.ForceMillisecondWait();  // 2.5 ms must become 3, not 2
  for (uint64_t wait_ns : {uint64_t{2'500'000}, 20 * kNsPerMs, uint64_t{100'000}, uint64_t{1}}) {
    const uint64_t start = MonotonicNowNs();
    const uint64_t deadline = start + wait_ns;
    Result<int> n = loop.Wait(start, deadline);
    const uint64_t end = MonotonicNowNs();
    REQUIRE(n.ok());
    CHECK(*n == 0);
    CHECK(end >= deadline);
  }
}

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

TEST_CASE("A signal ends the wait with no events", "[event_loop]") {
  EventLoop loop = NewLoop();
  PipeEnds idle = NewPipe();
  REQUIRE(loop.Watch(idle.read.get(), 1, kIn).ok());
  bool millisecond = GENERATE(false, true);
  if (millisecond) loop.ForceMillisecondWait();
  struct sigaction action {};
  action.sa_handler = CountSignal;
  struct sigaction previous {};
  REQUIRE(::sigaction(SIGUSR1, &action, &previous) == 0);
  // Signals until the wait has returned: one of them lands while it blocks.
  std::atomic<bool> done{false};
  pthread_t waiter = ::pthread_self();
  std::thread sender([&] {
    while (!done.load()) {
      ::pthread_kill(waiter, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Result<int> n = loop.Wait(MonotonicNowNs(), EventLoop::kNoDeadline);
  done.store(true);
  sender.join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  REQUIRE(n.ok());
  CHECK(*n == 0);
  CHECK(g_signals.load() > 0);
}

TEST_CASE("A moved loop keeps its set", "[event_loop]") {
  EventLoop first = NewLoop();
  PipeEnds p = NewPipe();
  REQUIRE(first.Watch(p.read.get(), 4, kIn).ok());
  EventLoop second = std::move(first);
  WriteByte(p.write.get());
  REQUIRE(PollNow(second) == 1);
  CHECK(second.event(0).tag == 4);
}

}  // namespace
}  // namespace edgebench

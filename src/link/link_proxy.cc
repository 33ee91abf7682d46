// The userspace link emulator: one epoll loop, a timer heap, per-direction token buckets.
#include "edgebench/link/link_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgebench/base/clock.h"
#include "edgebench/base/event_loop.h"

namespace edgebench {

using nlohmann::json;

namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr size_t kMaxRead = size_t{64} * 1024;
constexpr uint64_t kListenTag = 0;
constexpr uint64_t kStopTag = 1;
constexpr int kProxyNice = -10;

std::string Errno() { return std::generic_category().message(errno); }

uint64_t MsToNs(double ms) { return ms <= 0 ? 0 : static_cast<uint64_t>(std::llround(ms * 1e6)); }

// A direction's shared link: chunks leave in arrival order at the token bucket's pace.
class TokenBucket {
 public:
  explicit TokenBucket(double mbit)
      : bytes_per_ns_(mbit * 1e6 / 8 / 1e9),
        burst_(std::max(16.0 * 1024, bytes_per_ns_ * 1e6)),
        tokens_(burst_) {}

  bool limited() const { return bytes_per_ns_ > 0; }
  // The largest chunk worth reading at once: more would leave as one burst.
  size_t read_size() const {
    return limited() ? std::min(kMaxRead, static_cast<size_t>(burst_)) : kMaxRead;
  }

  // When `bytes` arriving at `now` leave the link.
  uint64_t Depart(uint64_t now, size_t bytes) {
    if (!limited()) return now;
    uint64_t t = std::max(now, free_ns_);
    if (t > last_ns_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(t - last_ns_) * bytes_per_ns_);
      last_ns_ = t;
    }
    const auto need = static_cast<double>(bytes);
    if (tokens_ >= need) {
      tokens_ -= need;
      free_ns_ = t;
      return t;
    }
    uint64_t wait = static_cast<uint64_t>(std::llround((need - tokens_) / bytes_per_ns_));
    tokens_ = 0;
    last_ns_ = t + wait;
    free_ns_ = t + wait;
    return t + wait;
  }

 private:
  double bytes_per_ns_;
  double burst_;
  double tokens_;
  uint64_t last_ns_ = 0;
  uint64_t free_ns_ = 0;
};

// One chunk as read: where it ends in the direction's byte count, and its times.
struct Mark {
  uint64_t end = 0;  // absolute byte offset one past the chunk
  uint64_t arrival_ns = 0;
  uint64_t target_ns = 0;
};

// One direction of one connection.
struct Flow {
  std::string buf;         // bytes [written, received) from `head`
  size_t head = 0;         // offset of the first unwritten byte in buf
  uint64_t received = 0;   // bytes read from the source so far
  uint64_t written = 0;    // bytes written to the destination so far
  std::deque<Mark> marks;  // chunks not yet fully written, in order
  uint64_t last_target_ns = 0;
  bool eof_read = false;  // the source sent its FIN
  uint64_t eof_target_ns = 0;
  bool eof_sent = false;  // shutdown(SHUT_WR) done on the destination
  bool paused = false;    // queue limit reached: not reading
  bool blocked = false;   // due bytes wait for the destination to be writable
  bool armed = false;     // a timer entry exists for the head mark
  uint64_t queued() const { return received - written; }
};

struct Conn {
  uint64_t id = 0;
  Fd client;
  Fd upstream;
  bool connected = false;  // upstream connect completed
  uint64_t accept_ns = 0;
  Flow up;    // client -> upstream
  Flow down;  // upstream -> client
  uint32_t client_mask = 0;
  uint32_t upstream_mask = 0;
  bool client_registered = false;
  bool upstream_registered = false;
};

struct Timer {
  uint64_t at_ns;
  uint64_t conn;
  bool up;
  bool operator>(const Timer& o) const { return at_ns > o.at_ns; }
};

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

json DirectionToJson(const LinkDirectionReport& d) {
  return json{{"bytes", d.bytes},
              {"chunks", d.chunks},
              {"held_us", d.held_us.ToJson()},
              {"late_us", d.late_us.ToJson()},
              {"max_queued_bytes", d.max_queued_bytes},
              {"paused", d.paused}};
}

Result<LinkDirectionReport> DirectionFromJson(const json& j) {
  LinkDirectionReport d;
  d.bytes = j.at("bytes").get<uint64_t>();
  d.chunks = j.at("chunks").get<uint64_t>();
  Result<LatencyHistogram> held = LatencyHistogram::FromJson(j.at("held_us"));
  if (!held.ok()) return held.error();
  Result<LatencyHistogram> late = LatencyHistogram::FromJson(j.at("late_us"));
  if (!late.ok()) return late.error();
  d.held_us = std::move(held.value());
  d.late_us = std::move(late.value());
  d.max_queued_bytes = j.at("max_queued_bytes").get<uint64_t>();
  d.paused = j.at("paused").get<uint64_t>();
  return d;
}

}  // namespace

json ToJson(const LinkProxyReport& r) {
  return json{{"connections", r.connections},
              {"upstream_failures", r.upstream_failures},
              {"nice", r.nice},
              {"up", DirectionToJson(r.up)},
              {"down", DirectionToJson(r.down)}};
}

Result<LinkProxyReport> LinkProxyReportFromJson(const json& j) {
  try {
    LinkProxyReport r;
    r.connections = j.at("connections").get<uint64_t>();
    r.upstream_failures = j.at("upstream_failures").get<uint64_t>();
    r.nice = j.at("nice").get<int>();
    Result<LinkDirectionReport> up = DirectionFromJson(j.at("up"));
    if (!up.ok()) return up.error();
    Result<LinkDirectionReport> down = DirectionFromJson(j.at("down"));
    if (!down.ok()) return down.error();
    r.up = std::move(up.value());
    r.down = std::move(down.value());
    return r;
  } catch (const json::exception& e) {
    return Error{std::string("link proxy report: ") + e.what()};
  }
}

struct LinkProxy::Impl {
  LinkProxyConfig config;
  Fd listener;
  int port = 0;
  sockaddr_storage upstream{};
  socklen_t upstream_len = 0;
  LinkProxyReport report;

  // Loop state.
  std::optional<EventLoop> loop;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, Conn> conns;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  TokenBucket up_bucket{0};
  TokenBucket down_bucket{0};
  uint64_t delay_ns = 0;
  uint64_t rtt_ns = 0;
  int64_t jitter_half_ns = 0;
  std::mt19937_64 rng;
  std::vector<char> scratch = std::vector<char>(kMaxRead);

  Status Loop(int stop_fd);
  void Configure();
  Status WatchListenerAndStop(int stop_fd);
  uint64_t FlushDueTimers();
  void Accept();
  void OnEvent(uint64_t tag, uint32_t events);
  void Read(Conn& c, bool up);
  void Flush(Conn& c, bool up);
  void Sync(Conn& c);
  void SyncFd(int fd, uint64_t tag, uint32_t want, uint32_t* mask, bool* registered);
  void Close(uint64_t id);
  void Arm(Conn& c, bool up);
  uint64_t Target(Flow& f, TokenBucket& bucket, uint64_t now, size_t bytes, uint64_t floor_ns);
  void FinishIfDone(Conn& c);
};

Result<LinkProxy> LinkProxy::Create(const LinkProxyConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(config.upstream_port);
  int rc = ::getaddrinfo(config.upstream_host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Error{"link proxy: cannot resolve broker host '" + config.upstream_host +
                 "': " + gai_strerror(rc)};
  }
  // Prefer IPv4: "localhost" may list ::1 first while the broker listens on 127.0.0.1.
  const addrinfo* pick = found;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  std::memcpy(&impl->upstream, pick->ai_addr, pick->ai_addrlen);
  impl->upstream_len = pick->ai_addrlen;
  ::freeaddrinfo(found);

  impl->listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!impl->listener.valid()) return Error{"link proxy: cannot listen on 127.0.0.1: " + Errno()};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(impl->listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(impl->listener.get(), SOMAXCONN) != 0 ||
      ::getsockname(impl->listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Error{"link proxy: cannot listen on 127.0.0.1: " + Errno()};
  }
  impl->port = ntohs(addr.sin_port);
  return LinkProxy(std::move(impl));
}

LinkProxy::LinkProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkProxy::LinkProxy(LinkProxy&&) noexcept = default;
LinkProxy& LinkProxy::operator=(LinkProxy&&) noexcept = default;
LinkProxy::~LinkProxy() = default;

int LinkProxy::port() const { return impl_->port; }
const LinkProxyReport& LinkProxy::report() const { return impl_->report; }
void LinkProxy::set_nice(int nice) { impl_->report.nice = nice; }
Status LinkProxy::Run(int stop_fd) { return impl_->Loop(stop_fd); }

Status LinkProxy::Impl::Loop(int stop_fd) {
  // Wake-ups on time: the kernel may otherwise defer a timed wake-up by 50 us.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  Configure();
  if (Status st = WatchListenerAndStop(stop_fd); !st) return st;
  for (;;) {
    uint64_t now = FlushDueTimers();
    uint64_t deadline = timers.empty() ? EventLoop::kNoDeadline : timers.top().at_ns;
    Result<int> n = loop->Wait(now, deadline);
    if (!n.ok()) return Error{"link proxy: " + n.error().message};
    for (int i = 0; i < *n; ++i) {
      EventLoop::Event ev = loop->event(i);
      if (ev.tag == kStopTag) {
        conns.clear();
        return Ok{};
      }
      OnEvent(ev.tag, ev.events);
    }
  }
}

void LinkProxy::Impl::Configure() {
  const LinkProfile& p = config.profile;
  up_bucket = TokenBucket(p.uplink_mbit);
  down_bucket = TokenBucket(p.downlink_mbit);
  delay_ns = MsToNs(p.rtt_ms / 2);
  rtt_ns = MsToNs(p.rtt_ms);
  jitter_half_ns = static_cast<int64_t>(MsToNs(p.jitter_ms / 2));
  rng.seed(config.seed);
}

Status LinkProxy::Impl::WatchListenerAndStop(int stop_fd) {
  Result<EventLoop> created = EventLoop::Create();
  if (!created.ok()) return Error{"link proxy: " + created.error().message};
  loop.emplace(std::move(created.value()));
  Status st = loop->Watch(listener.get(), kListenTag, EPOLLIN);
  if (st) st = loop->Watch(stop_fd, kStopTag, EPOLLIN);
  if (!st) return Error{"link proxy: " + st.error().message};
  return Ok{};
}

// Writes every direction whose head chunk is due; returns the time after the last write.
uint64_t LinkProxy::Impl::FlushDueTimers() {
  uint64_t now = MonotonicNowNs();
  while (!timers.empty() && timers.top().at_ns <= now) {
    Timer t = timers.top();
    timers.pop();
    auto it = conns.find(t.conn);
    if (it == conns.end()) continue;
    Flow& f = t.up ? it->second.up : it->second.down;
    f.armed = false;
    Flush(it->second, t.up);
    now = MonotonicNowNs();
  }
  return now;
}

void LinkProxy::Impl::Accept() {
  for (;;) {
    int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE): try again on the next event
    ++report.connections;
    Conn c;
    c.id = ++next_id;
    c.client = Fd(fd);
    c.accept_ns = MonotonicNowNs();
    SetNoDelay(fd);
    c.upstream = Fd(::socket(upstream.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!c.upstream.valid()) {
      ++report.upstream_failures;
      continue;
    }
    SetNoDelay(c.upstream.get());
    int rc = ::connect(c.upstream.get(), reinterpret_cast<sockaddr*>(&upstream), upstream_len);
    if (rc != 0 && errno != EINPROGRESS) {
      ++report.upstream_failures;
      continue;  // the client's socket closes here
    }
    c.connected = rc == 0;
    uint64_t id = c.id;
    Conn& stored = conns.emplace(id, std::move(c)).first->second;
    Sync(stored);
  }
}

void LinkProxy::Impl::OnEvent(uint64_t tag, uint32_t events) {
  if (tag == kListenTag) {
    Accept();
    return;
  }
  uint64_t id = tag >> 1;
  bool is_upstream = (tag & 1) != 0;
  auto it = conns.find(id);
  if (it == conns.end()) return;
  Conn& c = it->second;
  if (is_upstream && !c.connected) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      ++report.upstream_failures;
      Close(id);
      return;
    }
    c.connected = true;
    Flush(c, true);  // bytes that waited for the connection
    if (conns.count(id)) Sync(c);
    return;
  }
  if (events & EPOLLERR) {
    Close(id);
    return;
  }
  // Writable: the direction that writes to this side. Readable: the one that reads from it.
  Flow& out = is_upstream ? c.up : c.down;
  if ((events & EPOLLOUT) && out.blocked) {
    Flush(c, is_upstream);
    if (!conns.count(id)) return;
  }
  if (events & (EPOLLIN | EPOLLHUP)) {
    Read(c, !is_upstream);
    if (!conns.count(id)) return;
  }
  Sync(c);
}

uint64_t LinkProxy::Impl::Target(Flow& f, TokenBucket& bucket, uint64_t now, size_t bytes,
                                 uint64_t floor_ns) {
  // The handshake floor is this connection's own: the shared bucket sees only the arrival,
  // so a new connection never holds up the bytes of the others.
  uint64_t depart = std::max(bucket.Depart(now, bytes), floor_ns);
  int64_t jitter = 0;
  if (jitter_half_ns > 0) {
    jitter = std::uniform_int_distribution<int64_t>(-jitter_half_ns, jitter_half_ns)(rng);
  }
  int64_t delay = std::max<int64_t>(0, static_cast<int64_t>(delay_ns) + jitter);
  uint64_t target = std::max(depart + static_cast<uint64_t>(delay), f.last_target_ns);
  f.last_target_ns = target;
  return target;
}

void LinkProxy::Impl::Read(Conn& c, bool up) {
  Flow& f = up ? c.up : c.down;
  if (f.eof_read || f.paused) return;
  int fd = up ? c.client.get() : c.upstream.get();
  TokenBucket& bucket = up ? up_bucket : down_bucket;
  size_t room = config.queue_limit_bytes > f.queued() ? config.queue_limit_bytes - f.queued() : 0;
  size_t want = std::max<size_t>(1, std::min(bucket.read_size(), room));
  if (f.head > 0 && f.head >= f.buf.size() / 2) {
    f.buf.erase(0, f.head);
    f.head = 0;
  }
  // Into a scratch buffer, then append what came: growing buf by `want` would zero-fill
  // 64 KiB for every small message.
  ssize_t n = ::recv(fd, scratch.data(), want, 0);
  uint64_t now = MonotonicNowNs();
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Close(c.id);  // a reset travels at once: there is nothing left to deliver
    return;
  }
  f.buf.append(scratch.data(), static_cast<size_t>(n));
  // The emulated handshake: a new connection's first bytes leave one RTT after connect().
  uint64_t floor = up ? c.accept_ns + rtt_ns : 0;
  if (n == 0) {
    f.eof_read = true;
    f.eof_target_ns = Target(f, bucket, now, 0, floor);
  } else {
    f.received += static_cast<uint64_t>(n);
    f.marks.push_back(Mark{f.received, now, Target(f, bucket, now, static_cast<size_t>(n), floor)});
    LinkDirectionReport& r = up ? report.up : report.down;
    r.max_queued_bytes = std::max(r.max_queued_bytes, f.queued());
    if (f.queued() >= config.queue_limit_bytes) {
      f.paused = true;
      ++r.paused;
    }
  }
  if (!f.armed && !f.blocked) Arm(c, up);
}

void LinkProxy::Impl::Arm(Conn& c, bool up) {
  Flow& f = up ? c.up : c.down;
  uint64_t at = 0;
  if (!f.marks.empty()) {
    at = f.marks.front().target_ns;
  } else if (f.eof_read && !f.eof_sent) {
    at = f.eof_target_ns;
  } else {
    return;
  }
  timers.push(Timer{at, c.id, up});
  f.armed = true;
}

void LinkProxy::Impl::Flush(Conn& c, bool up) {
  Flow& f = up ? c.up : c.down;
  LinkDirectionReport& r = up ? report.up : report.down;
  int fd = up ? c.upstream.get() : c.client.get();
  if (up && !c.connected) {
    f.blocked = !f.marks.empty() || f.eof_read;
    return;
  }
  uint64_t now = MonotonicNowNs();
  // Everything whose target has come goes out in one write.
  uint64_t due_end = f.written;
  for (const Mark& m : f.marks) {
    if (m.target_ns > now) break;
    due_end = m.end;
  }
  while (f.written < due_end) {
    ssize_t n = ::send(fd, f.buf.data() + f.head, due_end - f.written, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      Close(c.id);
      return;
    }
    f.head += static_cast<size_t>(n);
    f.written += static_cast<uint64_t>(n);
    r.bytes += static_cast<uint64_t>(n);
    ++r.chunks;
  }
  now = MonotonicNowNs();
  while (!f.marks.empty() && f.marks.front().end <= f.written) {
    const Mark& m = f.marks.front();
    r.held_us.Record(static_cast<int64_t>((now - m.arrival_ns) / 1000));
    r.late_us.Record(now > m.target_ns ? static_cast<int64_t>((now - m.target_ns) / 1000) : 0);
    f.marks.pop_front();
  }
  if (f.head == f.buf.size()) {  // all written: reuse the buffer from its start
    f.buf.clear();
    f.head = 0;
  }
  f.blocked = f.written < due_end;
  if (f.paused && f.queued() < config.queue_limit_bytes / 2) f.paused = false;
  if (!f.blocked && f.marks.empty() && f.eof_read && !f.eof_sent && f.eof_target_ns <= now) {
    ::shutdown(fd, SHUT_WR);
    f.eof_sent = true;
    FinishIfDone(c);
    return;
  }
  if (!f.blocked && !f.armed) Arm(c, up);
  Sync(c);
}

void LinkProxy::Impl::FinishIfDone(Conn& c) {
  if (c.up.eof_sent && c.down.eof_sent) {
    Close(c.id);
  } else {
    Sync(c);
  }
}

void LinkProxy::Impl::SyncFd(int fd, uint64_t tag, uint32_t want, uint32_t* mask,
                             bool* registered) {
  if (*registered && want == *mask) return;
  // epoll_ctl cannot fail here: the fd is open and `registered` says whether the set holds it.
  if (want == 0) {
    if (*registered) (void)loop->Unwatch(fd);
    *registered = false;
  } else if (*registered) {
    (void)loop->Modify(fd, tag, want);
  } else {
    (void)loop->Watch(fd, tag, want);
    *registered = true;
  }
  *mask = want;
}

void LinkProxy::Impl::Sync(Conn& c) {
  uint32_t client = 0;
  if (!c.up.eof_read && !c.up.paused) client |= EPOLLIN;
  if (c.down.blocked) client |= EPOLLOUT;
  uint32_t upstream_want = 0;
  if (!c.connected) {
    upstream_want = EPOLLOUT;
  } else {
    if (!c.down.eof_read && !c.down.paused) upstream_want |= EPOLLIN;
    if (c.up.blocked) upstream_want |= EPOLLOUT;
  }
  SyncFd(c.client.get(), c.id << 1, client, &c.client_mask, &c.client_registered);
  SyncFd(c.upstream.get(), (c.id << 1) | 1, upstream_want, &c.upstream_mask,
         &c.upstream_registered);
}

void LinkProxy::Impl::Close(uint64_t id) { conns.erase(id); }  // Fd closes; epoll forgets

Result<LinkProxyProcess> LinkProxyProcess::Start(const LinkProxyConfig& config) {
  Result<LinkProxy> proxy = LinkProxy::Create(config);
  if (!proxy.ok()) return proxy.error();
  // The stop channel is a socket pair, so the parent can send on it with MSG_NOSIGNAL even
  // when the child has died.
  int stop_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stop_pair) != 0) {
    return Error{"link proxy: socketpair: " + Errno()};
  }
  Fd stop_parent(stop_pair[0]);
  Fd stop_child(stop_pair[1]);
  Result<PipeEnds> report = MakePipe();
  if (!report.ok()) return report.error();
  LinkProxy& p = proxy.value();
  int stop_read = stop_child.get();
  int report_write = report.value().write.get();
  int stop_write = stop_parent.get();
  int report_read = report.value().read.get();
  Result<ChildProcess> child = ForkFunction([&]() {
    ::close(stop_write);
    ::close(report_read);
    // In the kernel, netem runs in softirq context, ahead of every process; the userspace
    // link should not queue behind the load it shapes either. Needs root or CAP_SYS_NICE;
    // without, it runs at the normal priority and the report says which it got.
    ::setpriority(PRIO_PROCESS, 0, kProxyNice);
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, 0);
    p.set_nice(errno == 0 ? nice : 0);
    Status st = p.Run(stop_read);
    std::string out =
        st ? ToJson(p.report()).dump() + "\n" : json{{"error", st.error().message}}.dump() + "\n";
    return WriteAll(report_write, out, "link proxy pipe") ? 0 : 1;
  });
  if (!child.ok()) return child.error();
  LinkProxyProcess lp;
  lp.process_ = std::move(child.value());
  lp.port_ = p.port();
  lp.stop_write_ = std::move(stop_parent);
  lp.report_read_ = std::move(report.value().read);
  return lp;
}

Result<LinkProxyReport> LinkProxyProcess::Stop(int timeout_ms) {
  if (!process_.started()) return Error{"link proxy is not running"};
  // A byte, not only the hang-up: a worker forked after the proxy holds a copy of this end.
  (void)::send(stop_write_.get(), "x", 1, MSG_NOSIGNAL);
  stop_write_.Reset();
  std::string text;
  uint64_t deadline = MonotonicNowNs() + static_cast<uint64_t>(timeout_ms) * kNsPerMs;
  char buf[65536];
  while (report_read_.valid()) {
    uint64_t now = MonotonicNowNs();
    if (now >= deadline) break;
    pollfd pfd{report_read_.get(), POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>((deadline - now) / kNsPerMs) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    ssize_t n = ::read(report_read_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  report_read_.Reset();
  int status = process_.Terminate(timeout_ms);
  if (text.empty() || text.back() != '\n') {
    return Error{"link proxy " + DescribeWaitStatus(status) + " before its report"};
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{"link proxy sent a broken report"};
  if (j.contains("error")) return Error{j["error"].get<std::string>()};
  return LinkProxyReportFromJson(j);
}

}  // namespace edgebench

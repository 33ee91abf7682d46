// LinkProxy: a userspace TCP link emulator between the devices and the broker.
//
// Contract: the proxy listens on 127.0.0.1 (an ephemeral port) and, for each accepted
// connection, opens one connection to the upstream broker. Bytes read from either side are
// held back and written to the other side at
//
//   target = departure + one-way delay (rtt_ms / 2) + jitter (uniform in +-jitter_ms / 2)
//
// where `departure` is when the direction's token bucket (rate uplink_mbit or
// downlink_mbit, shared by every connection, as a site's uplink is; burst 16 KiB or 1 ms
// of the rate, whichever is larger) lets the bytes leave. Within a connection bytes stay
// in order: a chunk is never written before the chunk ahead of it, so jitter stretches
// gaps but never reorders. Before a connection's first uplink byte the emulated TCP
// handshake costs one more RTT, as it does on a real link. End of stream travels like data
// (the peer sees the shutdown one delay later); a reset or an upstream connect failure
// closes both sides at once. Loss is not emulated: a TCP stream has no packets to lose.
// Reading from a side pauses while its connection holds more than queue_limit_bytes in
// that direction, so a slow link pushes back on the sender through TCP as a real
// bottleneck does, and memory stays bounded.
//
// Threads: Run() is one single-threaded EventLoop (timer slack 1 ns, nanosecond
// timeouts), meant to have a thread or a process of its own. LinkProxyProcess forks that
// process, so its CPU can be sampled on its own (the role "link"), and raises its priority
// to nice -10 where allowed (root): netem, in the kernel, runs ahead of every process, and
// a link that queues behind the load it shapes adds delay the profile never asked for.
#ifndef EDGEBENCH_LINK_LINK_PROXY_H_
#define EDGEBENCH_LINK_LINK_PROXY_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/base/process.h"
#include "edgebench/results/histogram.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct LinkProxyConfig {
  std::string upstream_host = "127.0.0.1";  // the broker: a name or a numeric address
  int upstream_port = 0;
  LinkProfile profile;                 // loss_pct is ignored (see the contract)
  uint64_t seed = 1;                   // for the jitter
  size_t queue_limit_bytes = 1 << 20;  // per connection and direction
};

struct LinkDirectionReport {
  uint64_t bytes = 0;   // delivered to the far side
  uint64_t chunks = 0;  // writes that delivered bytes whose target time had come
  // Per chunk read: how long it was held (delivery - arrival), and how late the delivery
  // was against its target (delivery - target): the emulator's own error. Microseconds.
  LatencyHistogram held_us;
  LatencyHistogram late_us;
  uint64_t max_queued_bytes = 0;  // the most any one connection held in this direction
  uint64_t paused = 0;            // times reading paused because the queue limit was hit
};

struct LinkProxyReport {
  uint64_t connections = 0;        // accepted
  uint64_t upstream_failures = 0;  // connections whose broker connection failed
  int nice = 0;                    // the process's niceness (LinkProxyProcess asks for -10)
  LinkDirectionReport up;          // devices -> broker
  LinkDirectionReport down;        // broker -> devices
};

nlohmann::json ToJson(const LinkProxyReport& report);
Result<LinkProxyReport> LinkProxyReportFromJson(const nlohmann::json& j);

class LinkProxy {
 public:
  // Resolves the upstream address and listens on 127.0.0.1:0. Errors: "link proxy: cannot
  // resolve broker host 'x': ...", "link proxy: cannot listen on 127.0.0.1: ...".
  static Result<LinkProxy> Create(const LinkProxyConfig& config);

  LinkProxy(LinkProxy&&) noexcept;
  LinkProxy& operator=(LinkProxy&&) noexcept;
  ~LinkProxy();

  int port() const;  // where the devices connect (on 127.0.0.1)

  // Forwards until `stop_fd` becomes readable (or hangs up), then closes every connection.
  // Returns an Error only when the loop itself fails (epoll); per-connection errors close
  // that connection and are counted.
  Status Run(int stop_fd);

  const LinkProxyReport& report() const;
  // Recorded in the report: the niceness the proxy runs at.
  void set_nice(int nice);

 private:
  struct Impl;
  explicit LinkProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The proxy in a process of its own.
class LinkProxyProcess {
 public:
  // Creates the proxy (so the port is known and errors surface here), then forks the
  // process that runs it. Requires: no thread other than the caller's is running.
  static Result<LinkProxyProcess> Start(const LinkProxyConfig& config);

  pid_t pid() const { return process_.pid(); }
  int port() const { return port_; }
  // The wait status once the process has ended by itself (it is then reaped); nullopt while
  // it runs.
  std::optional<int> Ended() { return process_.Poll(); }

  // Tells the process to stop and waits up to timeout_ms for its report; the process is
  // reaped either way. Error: "link proxy exited with status 1 before its report".
  Result<LinkProxyReport> Stop(int timeout_ms);

 private:
  ChildProcess process_;
  int port_ = 0;
  Fd stop_write_;
  Fd report_read_;
};

}  // namespace edgebench

#endif  // EDGEBENCH_LINK_LINK_PROXY_H_

// EmbeddedBroker: a mosquitto that edgebench starts on a free loopback port for one run.
//
// Contract: Start() returns only once the broker accepts TCP connections, or an Error
// (binary missing, config template unreadable, broker exited, not listening in time).
// The broker's stdout/stderr go to <run_dir>/broker.log; its config is written to
// <run_dir>/mosquitto.conf. The broker dies with edgebench (PR_SET_PDEATHSIG) and is
// stopped by Stop() or the destructor. Start() forks: call it before any thread starts.
#ifndef EDGEBENCH_BROKER_BROKER_H_
#define EDGEBENCH_BROKER_BROKER_H_

#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/base/process.h"

namespace edgebench {

struct EmbeddedBrokerOptions {
  std::string program = "mosquitto";  // looked up in PATH, then /usr/sbin
  std::string config_template;        // path of config/mosquitto.conf.in
  std::string run_dir;                // where mosquitto.conf and broker.log go
  int start_timeout_ms = 5000;
  // More addresses to listen on with the same port (network.backend netem: the veth's
  // host end, where the devices' namespace reaches the broker).
  std::vector<std::string> extra_listen_addresses;
  // Files the broker writes its pid to between fork and exec: the cgroup.procs files of its
  // cgroup (broker.resources), so it runs within its limits from its first instruction.
  std::vector<int> join_fds;
};

class EmbeddedBroker {
 public:
  static Result<EmbeddedBroker> Start(const EmbeddedBrokerOptions& options);

  int port() const { return port_; }
  int pid() const { return process_.pid(); }
  const std::string& version() const { return version_; }  // "2.0.11"
  // True while the broker process runs.
  bool Running();
  // SIGTERM, then SIGKILL after 3 s. Returns a description of how it ended.
  std::string Stop();

 private:
  ChildProcess process_;
  int port_ = 0;
  std::string version_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
Result<int> FindFreeLoopbackPort();

// True when a TCP connection to host:port succeeds within timeout_ms.
bool CanConnect(const std::string& host, int port, int timeout_ms);

// The version a mosquitto binary reports ("2.0.11"), or "" when it cannot be run.
std::string MosquittoVersion(const std::string& program);

}  // namespace edgebench

#endif  // EDGEBENCH_BROKER_BROKER_H_

// Link: the emulated network between the devices and the broker for one run, whichever
// backend carries it, and the measured round trip through it.
//
// Contract: Link::Plan() picks the backend. `netem` needs root and a kernel with the netem
// qdisc (checked for real, in a throwaway namespace); without them asking for netem is an
// Error and `auto` takes the proxy and says why (fallback_reason()). A netem plan builds
// the namespace and veth pair at once, because the embedded broker must then also listen
// on the veth's host end (broker_listen_address()): call Plan() before the broker starts,
// and Attach() after, when the broker's address is known (it starts the proxy process).
// Both fork or spawn, so call them before any thread starts. StopProxy() ends the proxy
// and collects its report; the destructor removes the netem namespace on every path.
#ifndef EDGEBENCH_LINK_LINK_H_
#define EDGEBENCH_LINK_LINK_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/link/link_proxy.h"
#include "edgebench/link/netem_link.h"
#include "edgebench/mqtt/mqtt_client.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

class Link {
 public:
  // `id`: unique per run, lower-case letters and digits (names the netem namespace).
  static Result<Link> Plan(const NetworkSpec& spec, const std::string& id);

  Link(Link&&) noexcept = default;
  Link& operator=(Link&&) noexcept = default;
  ~Link() = default;

  LinkBackend backend() const { return backend_; }  // kNetem or kProxy, never kAuto
  const std::string& fallback_reason() const { return fallback_reason_; }

  // netem: the address the broker must listen on as well; "" for the proxy.
  std::string broker_listen_address() const;

  // Starts the proxy towards the broker (netem: records the broker's port). Errors from
  // LinkProxy::Create().
  Status Attach(const std::string& broker_host, int broker_port, uint64_t seed);

  // Where the devices (and a collector at the devices) connect, and the network namespace
  // their sockets must be made in ("" = this one).
  const std::string& device_host() const { return device_host_; }
  int device_port() const { return device_port_; }
  const std::string& device_namespace() const { return device_namespace_; }
  // netem: the veth's host end, where the devices' traffic crosses; "" for the proxy.
  std::string capture_interface() const;
  // The proxy process (0 when there is none), for the /proc sampler.
  int proxy_pid() const { return proxy_ ? proxy_->pid() : 0; }

  // How the proxy ended when it ended by itself ("killed by signal 9 (Killed)"); nullopt while
  // it runs, and for netem.
  std::optional<std::string> ProxyEnded();

  // Stops the proxy and returns its report (nullopt for netem or when it never started).
  Result<std::optional<LinkProxyReport>> StopProxy();

 private:
  Link() = default;

  NetworkSpec spec_;
  LinkBackend backend_ = LinkBackend::kProxy;
  std::string fallback_reason_;
  std::optional<NetemLink> netem_;
  std::optional<LinkProxyProcess> proxy_;
  std::string device_host_;
  int device_port_ = 0;
  std::string device_namespace_;
};

// Round trips through the link, as a device sees them: one MQTT client connects with
// `options` (its socket made in `netns` when not ""), then publishes `count` QoS 1
// messages with an empty payload to `topic`, one at a time, timing PUBLISH -> PUBACK.
struct RttProbe {
  std::vector<double> rtt_ms;  // in the order measured
  double min_ms = 0;
  double median_ms = 0;
  double max_ms = 0;
};
// Errors: the client's ("cannot connect to the broker at ...", "... refused ...") or
// "no PUBACK within N ms".
Result<RttProbe> ProbeRtt(const MqttClientOptions& options, const std::string& topic, int count,
                          int timeout_ms, const std::string& netns);

}  // namespace edgebench

#endif  // EDGEBENCH_LINK_LINK_H_

// NetemLink: the "netem" network backend, a veth pair into a network namespace shaped by tc.
//
// Contract: the publisher worker runs in a network namespace of its own, joined to the host
// by a veth pair; the broker stays on the host and listens on the host end's address.
// netem and tbf shape egress only, so each end shapes the direction that leaves it:
//
//   host end   "ebh<suffix>" in the host namespace       egress = downlink (broker -> devices)
//   device end "ebd<suffix>" in namespace edgebench-<id>  egress = uplink (devices -> broker)
//
// Per direction: a netem qdisc (`delay <rtt/2>ms [<jitter/2>ms] [loss <loss_pct>%]`,
// netem's default uniform jitter) when rtt, jitter or loss is non-zero, and a tbf rate
// limit when that direction's mbit is > 0. With both, netem is the root (handle 1:) and tbf
// its child (parent 1:1 handle 10:); with one, it is the root; with neither, no qdisc.
//
// Link ids: 1 to 64 of [a-z0-9], "<pid>x<hex run id>" (NetemLinkId), where <pid> is the
// edgebench process that created the link. RemoveStaleNetemLinks() relies on that prefix to find
// links whose creator no longer runs. Interface names carry a 12-hex-digit hash of the id,
// so they fit IFNAMSIZ (15 characters) and stay the same from version to version.
//
// Requires root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the `ip` and `tc` programs
// (iproute2), which are run directly (no shell) from /usr/sbin or /sbin. Everything here
// runs them in the calling thread's network namespace, which must be the host's. Nothing
// touches an interface or namespace it did not create, except RemoveStaleNetemLinks(),
// which removes those edgebench left behind.
//
// Threads: the free functions may be called from any thread; a NetemLink is used from one
// thread at a time; a ScopedNetworkNamespace must be destroyed on the thread that made it.
#ifndef EDGEBENCH_LINK_NETEM_LINK_H_
#define EDGEBENCH_LINK_NETEM_LINK_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"
#include "edgebench/base/netns.h"
#include "edgebench/scenario/scenario.h"

namespace edgebench {

struct NetemLinkConfig {
  std::string id;  // unique per run, 1 to 64 of [a-z0-9]; see NetemLinkId()
  LinkProfile profile;
  std::string host_address = "169.254.213.1";    // the host end (the broker listens here)
  std::string device_address = "169.254.213.2";  // the namespace end (devices connect from it)
  int prefix_len = 30;
};

// "<pid>x<run_id in lower-case hex>", e.g. NetemLinkId(4242, 0x1f) == "4242x1f".
std::string NetemLinkId(pid_t pid, uint64_t run_id);

// "edgebench-<id>", "ebh<12 hex>", "ebd<12 hex>" (the hex: a hash of the id).
std::string NetemNamespaceName(const NetemLinkConfig& config);
std::string NetemHostInterface(const NetemLinkConfig& config);
std::string NetemDeviceInterface(const NetemLinkConfig& config);

using CommandLine = std::vector<std::string>;  // argv; argv[0] is "ip" or "tc"

// The commands that build the link, in order: namespace, veth pair, addresses, links up
// (and lo in the namespace), then the host end's qdiscs (downlink) and the device end's
// (uplink, `tc -n <namespace> ...`). Pure.
std::vector<CommandLine> NetemSetupCommands(const NetemLinkConfig& config);
// `ip link del <host end>` (which removes both ends), then `ip netns del <namespace>`. Pure.
std::vector<CommandLine> NetemTeardownCommands(const NetemLinkConfig& config);

// Runs `argv` (argv[0] looked up with FindProgram) with stdin from /dev/null and waits up
// to 10 s for it. Returns its standard output. Error, when it cannot start, times out or
// exits non-zero: "`tc qdisc add dev ebh0123456789ab root netem delay 10ms` failed: Error:
// Specified qdisc kind is unknown." (the tool's stderr, trimmed, on one line).
Result<std::string> RunNetworkTool(const CommandLine& argv);

// Owns one link: its namespace and veth pair (the qdiscs go with them). Move-only.
class NetemLink {
 public:
  // Runs NetemSetupCommands(). On the first failure it removes whatever it had created
  // (ignoring errors; never a namespace or interface that existed before) and returns
  // "network.backend netem: " + the RunNetworkTool() error. A bad id:
  // "network.backend netem: link id 'X' must be 1 to 64 lower-case letters and digits".
  static Result<NetemLink> Create(const NetemLinkConfig& config);

  ~NetemLink();  // Teardown(), logging a failure
  NetemLink(NetemLink&& other) noexcept;
  NetemLink& operator=(NetemLink&& other) noexcept;
  NetemLink(const NetemLink&) = delete;
  NetemLink& operator=(const NetemLink&) = delete;

  // Removes the veth pair and the namespace. Idempotent: a second call (or one after a
  // failure was fixed) does what is left. Error: "network.backend netem: `ip netns del
  // edgebench-1x2` failed: ..."; on an error it still tries the other step.
  Status Teardown();

  const NetemLinkConfig& config() const { return config_; }
  std::string namespace_name() const { return NetemNamespaceName(config_); }
  std::string host_interface() const { return NetemHostInterface(config_); }
  std::string device_interface() const { return NetemDeviceInterface(config_); }

 private:
  explicit NetemLink(NetemLinkConfig config) : config_(std::move(config)) {}

  NetemLinkConfig config_;
  bool namespace_created_ = false;  // this object made the namespace and still owns it
  bool veth_created_ = false;       // this object made the veth pair and still owns it
};

// "" when this host can run the netem backend; otherwise why not, in one line:
// "it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); edgebench runs as uid 1000",
// "the tc program (iproute2) is not installed",
// "the kernel has no netem qdisc (tc: Error: Specified qdisc kind is unknown.)".
// Probes for real in a throwaway namespace "edgebench-probe-<pid>": a veth pair, netem on
// lo with a tbf child, then deletes the namespace. Takes a few tens of milliseconds. Not
// reentrant: call it from one thread at a time.
std::string NetemUnavailableReason();

// Removes the namespaces "edgebench-<pid>x<...>" (with their host-side veth) and
// "edgebench-probe-<pid>" whose <pid> no longer runs: leftovers of a run that was killed
// with SIGKILL. Returns the namespace names it removed; failures are logged and skipped.
// Never touches another namespace. Assumes edgebench's runs share one pid namespace.
std::vector<std::string> RemoveStaleNetemLinks();

}  // namespace edgebench

#endif  // EDGEBENCH_LINK_NETEM_LINK_H_

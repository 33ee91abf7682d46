// Network namespaces by name (/run/netns/<name>): joining one for good, or for a scope.
#ifndef EDGEBENCH_BASE_NETNS_H_
#define EDGEBENCH_BASE_NETNS_H_

#include <string>

#include "edgebench/base/error.h"
#include "edgebench/base/fd.h"

namespace edgebench {

// Moves the calling *thread* into network namespace `name` (/run/netns/<name>), for good.
// Error: "cannot enter network namespace edgebench-x: No such file or directory".
Status JoinNetworkNamespace(const std::string& name);

// The calling thread is in namespace `name` while this object lives, then returns to the
// namespace it came from. Sockets made meanwhile stay in `name`. Move-only; must be
// destroyed on the thread that called Enter().
class ScopedNetworkNamespace {
 public:
  // Error: as JoinNetworkNamespace(), or "cannot open /proc/thread-self/ns/net: ...".
  static Result<ScopedNetworkNamespace> Enter(const std::string& name);

  ~ScopedNetworkNamespace();  // a failure to return is logged as an error
  ScopedNetworkNamespace(ScopedNetworkNamespace&&) noexcept = default;
  ScopedNetworkNamespace& operator=(ScopedNetworkNamespace&&) = delete;
  ScopedNetworkNamespace(const ScopedNetworkNamespace&) = delete;
  ScopedNetworkNamespace& operator=(const ScopedNetworkNamespace&) = delete;

 private:
  explicit ScopedNetworkNamespace(Fd saved) : saved_(std::move(saved)) {}
  Fd saved_;  // the namespace to return to
};

}  // namespace edgebench

#endif  // EDGEBENCH_BASE_NETNS_H_

// Entering network namespaces by name with setns(2).
#include "edgebench/base/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace edgebench {
namespace {

constexpr const char* kNetnsDir = "/run/netns/";

std::string ErrnoText(int err) { return std::generic_category().message(err); }

}  // namespace

Status JoinNetworkNamespace(const std::string& name) {
  Fd fd(::open((std::string(kNetnsDir) + name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::setns(fd.get(), CLONE_NEWNET) != 0) {
    return Error{"cannot enter network namespace " + name + ": " + ErrnoText(errno)};
  }
  return Ok{};
}

Result<ScopedNetworkNamespace> ScopedNetworkNamespace::Enter(const std::string& name) {
  Fd saved(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!saved.valid()) {
    return Error{std::string("cannot open /proc/thread-self/ns/net: ") + ErrnoText(errno)};
  }
  Status joined = JoinNetworkNamespace(name);
  if (!joined) return joined.error();
  return ScopedNetworkNamespace(std::move(saved));
}

ScopedNetworkNamespace::~ScopedNetworkNamespace() {
  if (saved_.valid() && ::setns(saved_.get(), CLONE_NEWNET) != 0) {
    spdlog::error("cannot return to the previous network namespace: {}", ErrnoText(errno));
  }
}

}  // namespace edgebench

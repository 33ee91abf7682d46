// Backend choice, the proxy's lifetime, and the MQTT round-trip probe.
#include "edgebench/link/link.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include <spdlog/spdlog.h>

#include "edgebench/base/clock.h"

namespace edgebench {

namespace {

constexpr int kProxyStopTimeoutMs = 3000;

bool IsLoopbackName(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == "::1" || host.starts_with("127.");
}

}  // namespace

Result<Link> Link::Plan(const NetworkSpec& spec, const std::string& id) {
  Link link;
  link.spec_ = spec;
  if (spec.backend == LinkBackend::kProxy) {
    link.backend_ = LinkBackend::kProxy;
    return link;
  }
  // Delay, jitter and loss need the netem qdisc; a rate alone needs only tbf, which every
  // kernel with traffic control has, and root for the namespace.
  const LinkProfile& p = spec.link;
  bool needs_qdisc = p.rtt_ms > 0 || p.jitter_ms > 0 || p.loss_pct > 0;
  std::string unavailable = needs_qdisc || ::geteuid() != 0 ? NetemUnavailableReason() : "";
  if (!unavailable.empty()) {
    if (spec.backend == LinkBackend::kNetem) {
      return Error{ErrorKind::kUnavailable,
                   "network.backend netem is not available here: " + unavailable +
                       "; use network.backend: proxy (or auto)"};
    }
    link.backend_ = LinkBackend::kProxy;
    link.fallback_reason_ =
        "the proxy carries the link: netem is not available here: " + unavailable;
    return link;
  }
  std::vector<std::string> stale = RemoveStaleNetemLinks();
  for (const std::string& name : stale) {
    spdlog::info("removed network namespace {} left by an edgebench that no longer runs", name);
  }
  NetemLinkConfig config;
  config.id = id;
  config.profile = spec.link;
  // A link-local /30 of its own per run, so two runs on one host do not collide: third octet
  // 1..254 (not 169, the cloud metadata address's), fourth a multiple of 4.
  uint64_t h = std::hash<std::string>{}(id);
  uint64_t third = 1 + h % 254;
  if (third == 169) third = 170;
  uint64_t fourth = 4 * ((h >> 16) % 64);
  std::string prefix = "169.254." + std::to_string(third) + ".";
  config.host_address = prefix + std::to_string(fourth + 1);
  config.device_address = prefix + std::to_string(fourth + 2);
  Result<NetemLink> netem = NetemLink::Create(config);
  if (!netem.ok()) return netem.error();
  link.netem_.emplace(std::move(netem.value()));
  link.backend_ = LinkBackend::kNetem;
  link.device_namespace_ = link.netem_->namespace_name();
  return link;
}

std::string Link::broker_listen_address() const {
  return netem_ ? netem_->config().host_address : "";
}

std::string Link::capture_interface() const { return netem_ ? netem_->host_interface() : ""; }

Status Link::Attach(const std::string& broker_host, int broker_port, uint64_t seed) {
  if (netem_) {
    device_host_ = netem_->config().host_address;
    device_port_ = broker_port;
    return Ok{};
  }
  LinkProxyConfig config;
  config.upstream_host = broker_host;
  config.upstream_port = broker_port;
  config.profile = spec_.link;
  config.seed = seed;
  Result<LinkProxyProcess> proxy = LinkProxyProcess::Start(config);
  if (!proxy.ok()) return proxy.error();
  proxy_.emplace(std::move(proxy.value()));
  // Keep a loopback broker's name, so a TLS host-name check still matches it.
  device_host_ = IsLoopbackName(broker_host) ? broker_host : "127.0.0.1";
  device_port_ = proxy_->port();
  return Ok{};
}

std::optional<std::string> Link::ProxyEnded() {
  if (!proxy_) return std::nullopt;
  std::optional<int> status = proxy_->Ended();
  if (!status) return std::nullopt;
  return DescribeWaitStatus(*status);
}

Result<std::optional<LinkProxyReport>> Link::StopProxy() {
  if (!proxy_) return std::optional<LinkProxyReport>();
  Result<LinkProxyReport> report = proxy_->Stop(kProxyStopTimeoutMs);
  proxy_.reset();
  if (!report.ok()) return report.error();
  return std::optional<LinkProxyReport>(std::move(report.value()));
}

namespace {

class ProbeHandler : public MqttHandler {
 public:
  void OnConnect(int rc) override {
    connected = true;
    connack = rc;
  }
  void OnDisconnect(int rc) override { lost = rc != 0; }
  void OnPublish(int mid) override {
    if (mid == waiting_for) acked = true;
  }
  bool connected = false;
  int connack = 0;
  bool lost = false;
  int waiting_for = -1;
  bool acked = false;
};

}  // namespace

Result<RttProbe> ProbeRtt(const MqttClientOptions& options, const std::string& topic, int count,
                          int timeout_ms, const std::string& netns) {
  ProbeHandler h;
  Result<std::unique_ptr<MqttClient>> client = MqttClient::Create(options, &h);
  if (!client.ok()) return client.error();
  MqttClient& c = *client.value();
  {
    std::optional<ScopedNetworkNamespace> inside;
    if (!netns.empty()) {
      Result<ScopedNetworkNamespace> entered = ScopedNetworkNamespace::Enter(netns);
      if (!entered.ok()) return entered.error();
      inside.emplace(std::move(entered.value()));
    }
    if (Status st = c.ConnectAsync(); !st) return st.error();
  }
  const uint64_t deadline = MonotonicNowNs() + static_cast<uint64_t>(timeout_ms) * 1'000'000;
  auto pump = [&](const bool& done) -> Status {
    while (!done) {
      if (MonotonicNowNs() > deadline) {
        return Error{"no answer from the broker at " + c.Address() + " within " +
                     std::to_string(timeout_ms) + " ms"};
      }
      int rc = c.Loop(10);
      if (rc != 0 || h.lost) {
        return Error{"lost the connection to the broker at " + c.Address() + ": " +
                     c.DescribeError(rc)};
      }
    }
    return Ok{};
  };
  if (Status st = pump(h.connected); !st) return st.error();
  if (h.connack != 0) {
    return Error{"the broker at " + c.Address() + " refused the probe's connection: " +
                 MqttClient::ConnackString(options.protocol, h.connack)};
  }
  RttProbe probe;
  for (int i = 0; i < count; ++i) {
    h.acked = false;
    int mid = 0;
    uint64_t start = MonotonicNowNs();
    int rc = c.Publish(topic.c_str(), nullptr, 0, 1, false, &mid);
    if (rc != 0) return Error{"probe publish failed: " + c.DescribeError(rc)};
    h.waiting_for = mid;
    if (Status st = pump(h.acked); !st) return st.error();
    probe.rtt_ms.push_back(static_cast<double>(MonotonicNowNs() - start) / 1e6);
  }
  c.Disconnect();
  (void)c.Loop(10);
  std::vector<double> sorted = probe.rtt_ms;
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty()) {
    probe.min_ms = sorted.front();
    probe.max_ms = sorted.back();
    size_t n = sorted.size();
    probe.median_ms = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
  return probe;
}

}  // namespace edgebench

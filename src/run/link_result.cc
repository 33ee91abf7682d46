// The run's LinkResult, from the scenario, the link, the RTT probe and the proxy's report.
#include <algorithm>
#include <cmath>

#include "edgebench/run/result_builder.h"

namespace edgebench {
namespace {

double Round3(double v) { return std::round(v * 1000) / 1000; }
double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

LinkDirectionResult DirectionOf(const LinkDirectionReport& d) {
  LatencySummary held = d.held_us.Summarize();
  LatencySummary late = d.late_us.Summarize();
  LinkDirectionResult r;
  r.bytes = d.bytes;
  r.writes = d.chunks;
  r.held_p50_ms = UsToMs(held.p50);
  r.held_p99_ms = UsToMs(held.p99);
  r.held_max_ms = UsToMs(held.max);
  r.late_p50_ms = UsToMs(late.p50);
  r.late_p99_ms = UsToMs(late.p99);
  r.late_p999_ms = UsToMs(late.p999);
  r.late_max_ms = UsToMs(late.max);
  r.max_queued_bytes = d.max_queued_bytes;
  r.paused = d.paused;
  return r;
}

void AddProfile(const NetworkSpec& n, const Link* link, LinkResult* r) {
  if (!n.profile.empty()) r->profile = n.profile;
  r->backend_requested = LinkBackendName(n.backend);
  if (link) r->backend = LinkBackendName(link->backend());
  if (link && !link->fallback_reason().empty()) r->backend_reason = link->fallback_reason();
  r->rtt_ms = n.link.rtt_ms;
  r->jitter_ms = n.link.jitter_ms;
  r->loss_pct = n.link.loss_pct;
  r->uplink_mbit = n.link.uplink_mbit;
  r->downlink_mbit = n.link.downlink_mbit;
  bool proxy_backend = link && link->backend() == LinkBackend::kProxy;
  r->loss_emulated = n.link.loss_pct > 0 && link && !proxy_backend;
}

}  // namespace

LinkResult DescribeLink(const Scenario& s, const Link* link, const Result<RttProbe>* probe,
                        const std::optional<LinkProxyReport>* proxy) {
  LinkResult r;
  r.emulated = s.network.emulated;
  r.subscribe_at = s.subscribe.at_devices ? "devices" : "broker";
  if (r.emulated) AddProfile(s.network, link, &r);
  if (probe != nullptr && probe->ok()) {
    const RttProbe& p = probe->value();
    RttMeasurement m;
    m.count = p.rtt_ms.size();
    m.min_ms = Round3(p.min_ms);
    m.median_ms = Round3(p.median_ms);
    m.max_ms = Round3(p.max_ms);
    for (double v : p.rtt_ms) m.samples_ms.push_back(Round3(v));
    r.measured_rtt = m;
  } else if (probe != nullptr) {
    r.measured_rtt_error = probe->error().message;
  }
  if (proxy != nullptr && proxy->has_value()) {
    const LinkProxyReport& p = **proxy;
    r.proxy = ProxyResult{p.connections, p.upstream_failures, p.nice, DirectionOf(p.up),
                          DirectionOf(p.down)};
  }
  return r;
}

}  // namespace edgebench

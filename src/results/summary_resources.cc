// summary.json's "broker_resources" object and its lines in the table (docs/results.md).
#include <string>

#include <fmt/format.h>

#include "edgebench/results/run_result.h"

#include "results/internal.h"

namespace edgebench {

double BrokerResourcesResult::throttled_ratio() const {
  return nr_periods == 0 ? 0.0
                         : static_cast<double>(nr_throttled) / static_cast<double>(nr_periods);
}

namespace results_internal {

using nlohmann::json;

json BrokerResourcesToJson(const BrokerResourcesResult& r) {
  json limit = {{"cpus", r.cpus > 0 ? json(r.cpus) : json(nullptr)},
                {"memory_mb", r.memory_mb > 0 ? json(r.memory_mb) : json(nullptr)}};
  json j = {{"applied", r.applied},
            {"reason", Opt(r.reason)},
            {"node", Opt(r.node)},
            {"limit", limit},
            {"cgroup", r.applied ? json(r.cgroup) : json(nullptr)}};
  if (!r.applied) return j;
  j["cpu_pct_mean"] = r.cpu_pct_mean;
  j["cpu_pct_peak_1s"] = r.cpu_pct_peak_1s;
  j["throttling"] = {{"nr_periods", r.nr_periods},
                     {"nr_throttled", r.nr_throttled},
                     {"throttled_s", r.throttled_s},
                     {"throttled_ratio", r.throttled_ratio()}};
  j["memory_peak_kb"] = Opt(r.memory_peak_kb);
  j["oom_kills"] = r.oom_kills;
  return j;
}

BrokerResourcesResult BrokerResourcesFromJson(const json& j) {
  BrokerResourcesResult r;
  r.applied = j.at("applied").get<bool>();
  r.reason = OptOf<std::string>(j, "reason");
  r.node = OptOf<std::string>(j, "node");
  const json& limit = j.at("limit");
  if (!limit.at("cpus").is_null()) r.cpus = limit.at("cpus").get<double>();
  if (!limit.at("memory_mb").is_null()) r.memory_mb = limit.at("memory_mb").get<int64_t>();
  if (!r.applied) return r;
  r.cgroup = j.at("cgroup").get<std::string>();
  r.cpu_pct_mean = j.at("cpu_pct_mean").get<double>();
  r.cpu_pct_peak_1s = j.at("cpu_pct_peak_1s").get<double>();
  const json& t = j.at("throttling");
  r.nr_periods = t.at("nr_periods").get<uint64_t>();
  r.nr_throttled = t.at("nr_throttled").get<uint64_t>();
  r.throttled_s = t.at("throttled_s").get<double>();
  r.memory_peak_kb = OptOf<int64_t>(j, "memory_peak_kb");
  r.oom_kills = j.at("oom_kills").get<uint64_t>();
  return r;
}

std::string BrokerResourcesLines(const BrokerResourcesResult& r) {
  std::string budget;
  if (r.cpus > 0) budget += fmt::format("{:g} CPU", r.cpus);
  if (r.memory_mb > 0) budget += fmt::format("{}{} MiB", budget.empty() ? "" : ", ", r.memory_mb);
  std::string node = r.node ? *r.node + ": " : "";
  if (!r.applied) {
    return fmt::format("  node        {}{} NOT applied: {}\n", node, budget,
                       r.reason.value_or("no usable cgroup"));
  }
  std::string cpu = r.cpus > 0 ? fmt::format("CPU {:.1f}% mean, {:.1f}% busiest second of {:g}%",
                                             r.cpu_pct_mean, r.cpu_pct_peak_1s, r.cpus * 100)
                               : fmt::format("CPU {:.1f}% mean", r.cpu_pct_mean);
  std::string out =
      fmt::format("  node        {}{} (cgroup {}); {}\n", node, budget, r.cgroup, cpu);
  std::string memory =
      r.memory_peak_kb ? fmt::format("{:.1f} MiB", static_cast<double>(*r.memory_peak_kb) / 1024.0)
                       : "not reported by this kernel";
  std::string throttled =
      r.cpus > 0
          ? fmt::format("throttled in {} of {} periods ({:.0f}%, {:.2f} s); ", r.nr_throttled,
                        r.nr_periods, 100 * r.throttled_ratio(), r.throttled_s)
          : "";
  out +=
      fmt::format("              {}memory peak {}; OOM kills {}\n", throttled, memory, r.oom_kills);
  return out;
}

}  // namespace results_internal
}  // namespace edgebench

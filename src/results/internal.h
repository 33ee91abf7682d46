// Pieces shared by the files of the results module; not part of its contract.
#ifndef EDGEBENCH_SRC_RESULTS_INTERNAL_H_
#define EDGEBENCH_SRC_RESULTS_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "edgebench/results/run_result.h"

namespace edgebench::results_internal {

// summary.json's "network" (the capture; `sent` for wire bytes per message) and "link".
// The readers throw nlohmann::json exceptions on a missing key or a wrong type.
nlohmann::json NetworkToJson(const CaptureResult& capture, uint64_t sent);
CaptureResult NetworkFromJson(const nlohmann::json& j);
nlohmann::json LinkToJson(const LinkResult& link);
LinkResult LinkFromJson(const nlohmann::json& j);
// summary.json's "cost" (summary_cost.cc; docs/cost.md).
// PATH as JSON. Errors: "PATH: cannot read file: ...", "PATH: not valid JSON".
Result<nlohmann::json> ReadJsonFile(const std::string& path);
// Writes PATH through PATH.tmp and a rename: a reader never sees half a file, and an
// interrupted write leaves the previous one.
Status WriteJsonAtomically(const std::string& path, const nlohmann::json& j);

nlohmann::json BrokerResourcesToJson(const BrokerResourcesResult& r);
BrokerResourcesResult BrokerResourcesFromJson(const nlohmann::json& j);
// "  node        edge-gateway: 0.25 CPU, 256 MiB (cgroup v1); used 24.6% mean, ..." lines.
std::string BrokerResourcesLines(const BrokerResourcesResult& r);
nlohmann::json CostToJson(const CostResult& cost);
CostResult CostFromJson(const nlohmann::json& j);

template <class T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
std::optional<T> OptOf(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return j.at(key).get<T>();
}

}  // namespace edgebench::results_internal

#endif  // EDGEBENCH_SRC_RESULTS_INTERNAL_H_

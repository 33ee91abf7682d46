// Merging and the JSON form of Counters.
#include "edgebench/results/counters.h"

#include <string>

namespace edgebench {
namespace {

constexpr bool TableInEnumOrder() {
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (static_cast<size_t>(kCounterTable[i].id) != i) return false;
  }
  return true;
}
static_assert(TableInEnumOrder(), "kCounterTable must list the counters in enum order");

}  // namespace

void Counters::Merge(const Counters& other) {
  for (size_t i = 0; i < kCounterCount; ++i) {
    const uint64_t theirs = other.v_[i];
    switch (kCounterTable[i].merge) {
      case MergeRule::kSum:
        v_[i] += theirs;
        break;
      case MergeRule::kMax:
        if (theirs > v_[i]) v_[i] = theirs;
        break;
      case MergeRule::kMinNonZero:
        if (theirs != 0 && (v_[i] == 0 || theirs < v_[i])) v_[i] = theirs;
        break;
    }
  }
}

nlohmann::json Counters::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < kCounterCount; ++i) j[kCounterTable[i].name] = v_[i];
  return j;
}

Result<Counters> Counters::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Error{"counters must be a JSON object"};
  Counters c;
  for (const auto& [key, value] : j.items()) {
    const CounterInfo* info = FindCounter(key);
    if (info == nullptr) return Error{"counters: unknown counter '" + key + "'"};
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
      return Error{"counters." + key + " must be a non-negative integer"};
    }
    c.Set(info->id, value.get<uint64_t>());
  }
  return c;
}

const CounterInfo* FindCounter(std::string_view name) {
  for (const CounterInfo& info : kCounterTable) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

}  // namespace edgebench

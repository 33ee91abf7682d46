// broker.resources (the embedded broker's CPU and memory budget) and the node profiles
// file config/nodes.yaml it may name.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "edgebench/scenario/scenario.h"

#include "scenario/internal.h"

namespace edgebench {
namespace scenario_internal {
namespace {

constexpr NumberRange kCpus{0, true, 1024};
constexpr int64_t kMaxMemoryMb = 1 << 20;  // 1 TiB

// A node profile from ExternalChecks::nodes; fails at `e` when there is none.
void ReadNodeName(Reader& r, const Entry& e, const ExternalChecks& checks, ResourcesSpec* out) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    r.Fail(e, e.path + " must be a node profile name, got " + Describe(e.value));
    return;
  }
  const std::string& name = e.value.Scalar();
  auto it = checks.nodes.find(name);
  if (it != checks.nodes.end()) {
    out->node = name;
    out->cpus = it->second.cpus;
    out->memory_mb = it->second.memory_mb;
    return;
  }
  std::vector<std::string_view> names;
  std::string list;
  for (const auto& [known, node] : checks.nodes) {
    names.push_back(known);
    list += (list.empty() ? "" : ", ") + known;
  }
  std::string message = "unknown node profile '" + name + "'";
  std::string suggestion = SuggestKey(name, names);
  if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
  if (checks.nodes_file.empty()) {
    message += "; no node profiles were loaded";
  } else {
    message += "; " + checks.nodes_file + (names.empty() ? " has no profiles" : " has " + list);
  }
  r.Fail(e, message);
}

void ReadMemoryMb(Reader& r, const Section& s, int64_t* out) {
  const Entry* e = s.Find("memory_mb");
  if (e == nullptr || r.failed()) return;
  std::optional<int64_t> mb = IntegerValue(r, *e, 1, kMaxMemoryMb);
  if (!mb) return;
  if (*mb < kMinBrokerMemoryMb) {
    r.Fail(*e, e->path + " must be at least " + std::to_string(kMinBrokerMemoryMb) +
                   " (mosquitto needs about 8 MiB to start and hold its first clients), got " +
                   std::to_string(*mb));
    return;
  }
  *out = *mb;
}

// cpus and memory_mb of a resources map or of a node profile, with the machine check.
void ReadBudget(Reader& r, const Section& s, const ExternalChecks& checks, double* cpus,
                int64_t* memory_mb) {
  ReadNumber(r, s, "cpus", kCpus, cpus);
  const Entry* e = s.Find("cpus");
  if (e != nullptr && !r.failed() && *cpus < kMinBrokerCpus) {
    r.Fail(*e, e->path + " must be at least 0.01 (the kernel's smallest quota is 1 ms per " +
                   "100 ms), got " + ScalarText(*e));
  }
  if (e != nullptr && !r.failed() && checks.machine_cpus > 0 && *cpus > checks.machine_cpus) {
    r.Fail(*e, e->path + " must be at most " + std::to_string(checks.machine_cpus) +
                   ", the CPUs of this machine, got " + ScalarText(*e));
  }
  ReadMemoryMb(r, s, memory_mb);
}

}  // namespace

void ReadResources(Reader& r, const Entry* entry, const ExternalChecks& checks, bool embedded,
                   ResourcesSpec* out) {
  if (entry == nullptr || entry->value.IsNull() || r.failed()) return;
  if (!embedded) {
    r.Fail(*entry,
           "broker.resources needs the embedded broker: an external broker's host is not "
           "edgebench's to limit");
    return;
  }
  out->limited = true;
  // Where the node profile was named, for the machine check: it may point into `s`, so `s`
  // lives as long as `node` does.
  const Entry* node = entry;
  Section s;
  if (entry->value.IsScalar()) {
    ReadNodeName(r, *entry, checks, out);
  } else {
    s = OpenSection(r, entry, "broker.resources");
    node = s.Find("node");
    if (node != nullptr) ReadNodeName(r, *node, checks, out);
    ReadBudget(r, s, checks, &out->cpus, &out->memory_mb);
    ReadBool(r, s, "required", &out->required);
  }
  if (!r.failed() && out->cpus == 0 && out->memory_mb == 0) {
    r.Fail(*entry, "broker.resources needs cpus:, memory_mb: or a node: that sets them");
  }
  if (!r.failed() && !out->node.empty() && checks.machine_cpus > 0 &&
      out->cpus > checks.machine_cpus) {
    r.Fail(node ? *node : *entry,
           "node profile '" + out->node + "' has cpus " + FormatNumber(out->cpus) +
               ", more than the " + std::to_string(checks.machine_cpus) + " CPUs of this machine");
  }
}

void EmitResources(YAML::Emitter& out, const ResourcesSpec& res) {
  if (!res.limited) return;
  out << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  if (!res.node.empty()) out << YAML::Key << "node" << YAML::Value << res.node;
  if (res.cpus > 0) out << YAML::Key << "cpus" << YAML::Value << FormatNumber(res.cpus);
  if (res.memory_mb > 0) out << YAML::Key << "memory_mb" << YAML::Value << res.memory_mb;
  out << YAML::Key << "required" << YAML::Value << res.required;
  out << YAML::EndMap;
}

}  // namespace scenario_internal

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

Result<std::map<std::string, NodeProfile>> LoadNodeProfiles(const std::string& path) {
  Result<std::string> text = ReadScenarioFile(path, kConfigFileLimit);
  if (!text) return text.error();
  std::vector<Override> none;
  Reader r(path, *text, none);
  YAML::Node root = LoadMap(r, *text, "a node profiles file must be a YAML map of node names");
  if (r.failed()) return r.error();
  std::map<std::string, NodeProfile> nodes;
  if (root.size() > kMaxProfiles) {
    r.Fail("", root.Mark(),
           "a node profiles file must have at most " + std::to_string(kMaxProfiles) +
               " profiles, got " + std::to_string(root.size()));
  }
  ExternalChecks unchecked;  // a profile may describe a machine larger than this one
  for (auto it = root.begin(); it != root.end() && !r.failed(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
      r.Fail("", it->first.Mark(),
             "node names must be lower-case letters, digits, '-', '_' and '.', got " +
                 Describe(it->first));
      break;
    }
    if (nodes.count(name)) {
      r.Fail("", it->first.Mark(), "duplicate node profile '" + name + "'");
      break;
    }
    Section s = OpenSection(r, it->second, it->second.Mark(), "<node>", name);
    NodeProfile p;
    ReadString(r, s, "description", &p.description);
    ReadBudget(r, s, unchecked, &p.cpus, &p.memory_mb);
    if (!r.failed() && (p.cpus == 0 || p.memory_mb == 0)) {
      r.Fail("", it->first.Mark(), "node profile '" + name + "' needs cpus and memory_mb");
    }
    nodes[name] = p;
  }
  if (r.failed()) return r.error();
  return nodes;
}

}  // namespace edgebench

// The network sections of a scenario (network:, subscribe:) and the profiles file.
#include <map>
#include <string>
#include <vector>

#include "edgebench/scenario/scenario.h"

#include "scenario/internal.h"

namespace edgebench {
namespace scenario_internal {
namespace {

// The five link values, in a scenario's network map or in a profile.
void ReadLinkValues(Reader& r, const Section& s, LinkProfile* out) {
  ReadNumber(r, s, "rtt_ms", {0, false, 10000}, &out->rtt_ms);
  ReadNumber(r, s, "jitter_ms", {0, false, 10000}, &out->jitter_ms);
  ReadNumber(r, s, "loss_pct", {0, false, 99}, &out->loss_pct);
  ReadNumber(r, s, "uplink_mbit", {0, false, 100000}, &out->uplink_mbit);
  ReadNumber(r, s, "downlink_mbit", {0, false, 100000}, &out->downlink_mbit);
}

// A named profile from ExternalChecks::profiles; fails at `e` when there is none.
void ReadProfileName(Reader& r, const Entry& e, const ExternalChecks& checks, NetworkSpec* out) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    r.Fail(e, e.path + " must be a profile name, got " + Describe(e.value));
    return;
  }
  const std::string& name = e.value.Scalar();
  auto it = checks.profiles.find(name);
  if (it != checks.profiles.end()) {
    out->profile = name;
    out->link = it->second;
    return;
  }
  std::string where = checks.profiles_file.empty() ? "no profiles were loaded"
                      : checks.profiles.empty()    ? checks.profiles_file + " has no profiles"
                                                   : checks.profiles_file + " has ";
  std::vector<std::string_view> names;
  for (const auto& [known, profile] : checks.profiles) names.push_back(known);
  std::string message = "unknown network profile '" + name + "'";
  std::string suggestion = SuggestKey(name, names);
  if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
  if (!names.empty() && !checks.profiles_file.empty()) {
    std::string list;
    for (std::string_view n : names) list += (list.empty() ? "" : ", ") + std::string(n);
    message += "; " + where + list;
  } else if (names.empty()) {
    message += "; " + where;
  }
  r.Fail(e, message);
}

}  // namespace

// network: absent or "none" (no emulation), a profile name, or a map of a profile and/or
// values, and the backend.
void ReadNetwork(Reader& r, const Entry* entry, const ExternalChecks& checks, bool embedded,
                 NetworkSpec* out) {
  if (entry == nullptr || entry->value.IsNull() || r.failed()) return;
  if (entry->value.IsScalar()) {
    if (entry->value.Scalar() == "none") return;
    out->emulated = true;
    ReadProfileName(r, *entry, checks, out);
    return;
  }
  Section s = OpenSection(r, entry, "network");
  if (r.failed()) return;
  out->emulated = true;
  if (const Entry* profile = s.Find("profile")) ReadProfileName(r, *profile, checks, out);
  ReadLinkValues(r, s, &out->link);
  if (!r.failed() && out->link.jitter_ms > out->link.rtt_ms) {
    const Entry* e = s.Find("jitter_ms") ? s.Find("jitter_ms") : s.Find("rtt_ms");
    if (e == nullptr) e = entry;
    r.Fail(*e, "network.jitter_ms must be at most network.rtt_ms (" +
                   FormatNumber(out->link.rtt_ms) + "), got " + FormatNumber(out->link.jitter_ms));
  }
  const Entry* backend = s.Find("backend");
  if (backend == nullptr || r.failed()) return;
  std::string text = ScalarText(*backend);
  if (text == "auto") {
    out->backend = LinkBackend::kAuto;
  } else if (text == "netem") {
    out->backend = LinkBackend::kNetem;
  } else if (text == "proxy") {
    out->backend = LinkBackend::kProxy;
  } else {
    r.Fail(*backend,
           "network.backend must be auto, netem or proxy, got " + Describe(backend->value));
    return;
  }
  if (out->backend == LinkBackend::kNetem && !embedded) {
    r.Fail(*backend,
           "network.backend netem needs the embedded broker (the devices' namespace "
           "reaches only this host); use proxy for a remote broker");
  }
}

void ReadSubscribe(Reader& r, const Entry* entry, SubscribeSpec* out) {
  Section s = OpenSection(r, entry, "subscribe");
  const Entry* at = s.Find("at");
  if (at == nullptr || r.failed()) return;
  std::string text = ScalarText(*at);
  if (text == "broker") {
    out->at_devices = false;
  } else if (text == "devices") {
    out->at_devices = true;
  } else {
    r.Fail(*at, "subscribe.at must be broker or devices, got " + Describe(at->value));
  }
}

void EmitNetwork(YAML::Emitter& out, const NetworkSpec& n) {
  out << YAML::Key << "network" << YAML::Value;
  if (!n.emulated) {
    out << "none";
    return;
  }
  out << YAML::BeginMap;
  if (!n.profile.empty()) out << YAML::Key << "profile" << YAML::Value << n.profile;
  out << YAML::Key << "backend" << YAML::Value << LinkBackendName(n.backend);
  out << YAML::Key << "rtt_ms" << YAML::Value << FormatNumber(n.link.rtt_ms);
  out << YAML::Key << "jitter_ms" << YAML::Value << FormatNumber(n.link.jitter_ms);
  out << YAML::Key << "loss_pct" << YAML::Value << FormatNumber(n.link.loss_pct);
  out << YAML::Key << "uplink_mbit" << YAML::Value << FormatNumber(n.link.uplink_mbit);
  out << YAML::Key << "downlink_mbit" << YAML::Value << FormatNumber(n.link.downlink_mbit);
  out << YAML::EndMap;
}

}  // namespace scenario_internal

using namespace scenario_internal;  // NOLINT(google-build-using-namespace)

std::string LinkBackendName(LinkBackend backend) {
  switch (backend) {
    case LinkBackend::kNetem:
      return "netem";
    case LinkBackend::kProxy:
      return "proxy";
    case LinkBackend::kAuto:
      break;
  }
  return "auto";
}

Result<std::map<std::string, LinkProfile>> LoadProfiles(const std::string& path) {
  Result<std::string> text = ReadScenarioFile(path, kConfigFileLimit);
  if (!text) return text.error();
  std::vector<Override> none;
  Reader r(path, *text, none);
  YAML::Node root = LoadMap(r, *text, "a profiles file must be a YAML map of profile names");
  if (r.failed()) return r.error();
  std::map<std::string, LinkProfile> profiles;
  if (root.size() > kMaxProfiles) {
    r.Fail("", root.Mark(),
           "a profiles file must have at most " + std::to_string(kMaxProfiles) + " profiles, got " +
               std::to_string(root.size()));
  }
  for (auto it = root.begin(); it != root.end() && !r.failed(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    if (name.empty() || name == "none" ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
      r.Fail("", it->first.Mark(),
             "profile names must be lower-case letters, digits, '-', '_' and '.' (and not "
             "'none'), got " +
                 Describe(it->first));
      break;
    }
    if (profiles.count(name)) {
      r.Fail("", it->first.Mark(), "duplicate profile '" + name + "'");
      break;
    }
    Section s = OpenSection(r, it->second, it->second.Mark(), "<profile>", name);
    LinkProfile p;
    std::string description;
    ReadString(r, s, "description", &description);
    ReadLinkValues(r, s, &p);
    if (!r.failed() && p.jitter_ms > p.rtt_ms) {
      r.Fail("", it->first.Mark(), name + ".jitter_ms must be at most its rtt_ms");
    }
    profiles[name] = p;
  }
  if (r.failed()) return r.error();
  return profiles;
}

}  // namespace edgebench

// FindCgroupLayout(): where our cgroups go, from /proc/self/mountinfo and /proc/self/cgroup.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/base/fd.h"
#include "edgebench/cgroup/cgroup.h"

namespace edgebench {
namespace {

// One cgroup or cgroup2 line of /proc/self/mountinfo.
struct CgroupMount {
  bool v2 = false;
  std::string root;        // the directory of the hierarchy that is mounted ("/" mostly)
  std::string mountpoint;  // unescaped
  std::vector<std::string> controllers;  // v1: from the super options ("cpu", "cpuacct")
};

// One line of /proc/self/cgroup: "4:memory:/process_api/0b4b" or "0::/user.slice".
struct SelfCgroup {
  std::vector<std::string> controllers;  // empty for the v2 line
  std::string path;
};

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool Has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
std::string Unescape(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "36 25 0:31 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu,cpuacct": fields, then
// optional fields up to "-", then the type, the source and the super options.
std::optional<CgroupMount> ParseMountLine(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::string_view f : Split(line, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  auto dash = std::find(fields.begin(), fields.end(), "-");
  if (fields.size() < 6 || dash == fields.end() || fields.end() - dash < 4) return std::nullopt;
  std::string_view type = dash[1];
  if (type != "cgroup" && type != "cgroup2") return std::nullopt;
  CgroupMount mount;
  mount.v2 = type == "cgroup2";
  mount.root = Unescape(fields[3]);
  mount.mountpoint = Unescape(fields[4]);
  if (!mount.v2) {
    for (std::string_view option : Split(dash[3], ',')) mount.controllers.emplace_back(option);
  }
  return mount;
}

std::vector<CgroupMount> ParseMounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  for (std::string_view line : Split(mountinfo, '\n')) {
    if (std::optional<CgroupMount> m = ParseMountLine(line)) mounts.push_back(*m);
  }
  return mounts;
}

std::vector<SelfCgroup> ParseSelfCgroup(std::string_view text) {
  std::vector<SelfCgroup> lines;
  for (std::string_view line : Split(text, '\n')) {
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    SelfCgroup entry;
    std::string_view list = line.substr(first + 1, second - first - 1);
    if (!list.empty()) {
      for (std::string_view c : Split(list, ',')) entry.controllers.emplace_back(c);
    }
    entry.path = std::string(line.substr(second + 1));
    lines.push_back(std::move(entry));
  }
  return lines;
}

// Our cgroup's directory in `mount`: the mount point plus our path below the mount's root.
std::optional<std::string> OwnDir(const CgroupMount& mount, const std::string& path,
                                  const std::string& root_prefix) {
  std::string rel = path;
  if (mount.root != "/") {
    if (path != mount.root && !path.starts_with(mount.root + "/")) return std::nullopt;
    rel = path.substr(mount.root.size());
  }
  if (rel == "/") rel.clear();
  return root_prefix + mount.mountpoint + rel;
}

// The v2 directory when it offers cpu and memory; otherwise why not, in `why`.
std::optional<std::string> FindV2(const std::vector<CgroupMount>& mounts,
                                  const std::vector<SelfCgroup>& self,
                                  const std::string& root_prefix, std::string* why) {
  auto line = std::find_if(self.begin(), self.end(),
                           [](const SelfCgroup& s) { return s.controllers.empty(); });
  std::optional<std::string> dir;
  std::string top;
  for (const CgroupMount& m : mounts) {
    if (!m.v2) continue;
    std::string at = "cgroup v2 at " + root_prefix + m.mountpoint;
    if (line == self.end()) {
      *why = at + " is not in /proc/self/cgroup";
      continue;
    }
    dir = OwnDir(m, line->path, root_prefix);
    top = m.mountpoint;
    if (dir) break;
    *why = at + ": our cgroup " + line->path + " is outside the mounted root " + m.root;
  }
  if (!dir) {
    if (why->empty()) *why = "cgroup v2 is not mounted";
    return std::nullopt;
  }
  Result<std::string> text = ReadFile(*dir + "/cgroup.controllers");
  if (!text) {
    *why = "cgroup v2 at " + *dir + ": " + text.error().message;
    return std::nullopt;
  }
  std::vector<std::string> controllers;
  for (std::string_view c : Split(*text, ' ')) {
    while (!c.empty() && (c.back() == '\n' || c.back() == '\t')) c.remove_suffix(1);
    if (!c.empty()) controllers.emplace_back(c);
  }
  // The parent is the hierarchy's top, not our own cgroup: v2 hands controllers only to the
  // children of a cgroup that holds no process, and ours holds edgebench (on a systemd host,
  // a session scope with the shell in it too). The root cgroup is exempt from that rule.
  if (Has(controllers, "cpu") && Has(controllers, "memory")) return root_prefix + top;
  std::string listed;
  for (const std::string& c : controllers) listed += (listed.empty() ? "" : " ") + c;
  *why = "cgroup v2 at " + *dir +
         (controllers.empty() ? " has no controllers" : " has '" + listed + "'");
  return std::nullopt;
}

// Our directory in the v1 hierarchy of `controller`; otherwise why not, in `why`.
std::optional<std::string> FindV1(const std::vector<CgroupMount>& mounts,
                                  const std::vector<SelfCgroup>& self,
                                  const std::string& controller, const std::string& root_prefix,
                                  std::string* why) {
  auto line = std::find_if(self.begin(), self.end(),
                           [&](const SelfCgroup& s) { return Has(s.controllers, controller); });
  why->clear();
  for (const CgroupMount& m : mounts) {
    if (m.v2 || !Has(m.controllers, controller)) continue;
    if (line == self.end()) {
      *why = "cgroup v1 " + controller + " controller at " + root_prefix + m.mountpoint +
             " is not in /proc/self/cgroup";
      continue;
    }
    if (std::optional<std::string> dir = OwnDir(m, line->path, root_prefix)) return dir;
    *why = "cgroup v1 " + controller + ": our cgroup " + line->path + " is outside the root " +
           m.root + " mounted at " + root_prefix + m.mountpoint;
  }
  return std::nullopt;
}

}  // namespace

Result<CgroupLayout> FindCgroupLayout(std::string_view mountinfo, std::string_view self_cgroup,
                                      const std::string& root_prefix) {
  std::vector<CgroupMount> mounts = ParseMounts(mountinfo);
  std::vector<SelfCgroup> self = ParseSelfCgroup(self_cgroup);
  CgroupLayout layout;
  std::string v2_why;
  if (std::optional<std::string> dir = FindV2(mounts, self, root_prefix, &v2_why)) {
    layout.version = CgroupVersion::kV2;
    layout.cpu_parent = *dir;
    layout.memory_parent = *dir;
    return layout;
  }
  std::string cpu_why;
  std::string memory_why;
  std::optional<std::string> cpu = FindV1(mounts, self, "cpu", root_prefix, &cpu_why);
  std::optional<std::string> memory = FindV1(mounts, self, "memory", root_prefix, &memory_why);
  if (cpu && memory) {
    layout.version = CgroupVersion::kV1;
    layout.cpu_parent = *cpu;
    layout.memory_parent = *memory;
    return layout;
  }
  // Each missing controller says why; with neither mounted, one phrase says so.
  std::string v1_why;
  auto missing = [&v1_why](const std::string& why, const std::string& controller) {
    std::string part = why.empty() ? "cgroup v1 has no " + controller + " controller mounted" : why;
    v1_why += (v1_why.empty() ? "" : "; ") + part;
  };
  if (!cpu && !memory && cpu_why.empty() && memory_why.empty()) {
    v1_why = "cgroup v1 has no cpu or memory controller mounted";
  } else {
    if (!cpu) missing(cpu_why, "cpu");
    if (!memory) missing(memory_why, "memory");
  }
  return Error{
      ErrorKind::kUnavailable,
      "no cgroup hierarchy with the cpu and memory controllers: " + v2_why + "; " + v1_why};
}

Result<CgroupLayout> DetectCgroupLayout() {
  Result<std::string> mountinfo = ReadFile("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error().WithKind(ErrorKind::kUnavailable);
  Result<std::string> self = ReadFile("/proc/self/cgroup");
  if (!self) return self.error().WithKind(ErrorKind::kUnavailable);
  return FindCgroupLayout(*mountinfo, *self);
}

}  // namespace edgebench

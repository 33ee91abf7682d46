// The plan of a set: its cells, their ids, the interleaved order and the time it takes.
#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "edgebench/set/set.h"

namespace edgebench {
namespace {

// "c3-cloud-near-100": the cell's number and values, as a short directory name.
std::string CellId(size_t index, const std::vector<std::pair<std::string, std::string>>& values,
                   const std::string& fallback) {
  std::string slug;
  auto add = [&slug](const std::string& text) {
    for (char c : text) {
      bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_';
      if (keep) {
        slug += c;
      } else if (!slug.empty() && slug.back() != '-') {
        slug += '-';
      }
    }
    if (!slug.empty() && slug.back() != '-') slug += '-';
  };
  if (values.empty()) add(fallback);
  for (const auto& value : values) add(value.second);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 48) slug.resize(48);
  return "c" + std::to_string(index + 1) + (slug.empty() ? "" : "-" + slug);
}

// The key paths whose values differ between the first cell and any other (name and
// description aside).
std::vector<std::string> KeysCellsDifferIn(const std::vector<PlannedCell>& cells) {
  std::set<std::string> keys;
  if (cells.size() < 2) return {};
  std::map<std::string, std::string> first = ScenarioValues(cells[0].scenario);
  for (size_t i = 1; i < cells.size(); ++i) {
    for (const std::string& key : DifferingKeys(first, ScenarioValues(cells[i].scenario))) {
      if (key != "name" && key != "description") keys.insert(key);
    }
  }
  return {keys.begin(), keys.end()};
}

}  // namespace

std::string FormatDuration(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::vector<std::pair<int, int>> InterleavedOrder(const std::vector<int>& repeats, uint64_t seed) {
  std::vector<std::pair<int, int>> order;
  int rounds = repeats.empty() ? 0 : *std::max_element(repeats.begin(), repeats.end());
  for (int r = 0; r < rounds; ++r) {
    std::vector<int> round;
    for (size_t c = 0; c < repeats.size(); ++c) {
      if (repeats[c] > r) round.push_back(static_cast<int>(c));
    }
    // Fisher-Yates with mt19937_64, whose output the standard fixes: the same order on
    // every platform (std::shuffle's is the library's choice).
    std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(r));
    for (size_t i = round.size(); i > 1; --i) {
      std::swap(round[i - 1], round[rng() % i]);
    }
    for (int c : round) order.emplace_back(c, r);
  }
  return order;
}

bool IsSingleRun(const std::vector<Experiment>& experiments) {
  return experiments.size() == 1 && experiments[0].cells.size() == 1 &&
         experiments[0].cells[0].scenario.repeat == 1;
}

SetPlan PlanSet(const std::vector<Experiment>& experiments) {
  SetPlan plan;
  std::vector<int> repeats;
  std::vector<std::string> names;
  for (const Experiment& ex : experiments) {
    for (const ExperimentCell& cell : ex.cells) {
      const Scenario& s = cell.scenario;
      std::string id = CellId(plan.cells.size(), cell.values, experiments.size() > 1 ? s.name : "");
      plan.cells.push_back({id, ex.source_file, cell.values, s});
      repeats.push_back(s.repeat);
      plan.cooldown_s = std::max(plan.cooldown_s, s.cooldown_s);
    }
    if (!ex.cells.empty() &&
        std::find(names.begin(), names.end(), ex.cells[0].scenario.name) == names.end()) {
      names.push_back(ex.cells[0].scenario.name);
    }
    for (const std::string& key : ex.keys) {
      if (std::find(plan.keys.begin(), plan.keys.end(), key) == plan.keys.end()) {
        plan.keys.push_back(key);
      }
    }
  }
  for (const std::string& n : names) plan.name += (plan.name.empty() ? "" : "+") + n;
  if (experiments.size() > 1) plan.keys = KeysCellsDifferIn(plan.cells);
  if (!plan.cells.empty()) plan.seed = plan.cells[0].scenario.seed;
  plan.order = InterleavedOrder(repeats, plan.seed);
  return plan;
}

double EstimatedSeconds(const SetPlan& plan, size_t runs_left) {
  if (plan.order.empty()) return 0;
  size_t first = plan.order.size() - std::min(runs_left, plan.order.size());
  double total = 0;
  for (size_t i = first; i < plan.order.size(); ++i) {
    const Scenario& s = plan.cells[static_cast<size_t>(plan.order[i].first)].scenario;
    total += s.warmup_s + s.duration_s + s.drain_s + 2.0;
    if (i + 1 < plan.order.size()) total += plan.cooldown_s;
  }
  return total;
}

std::string DescribePlan(const SetPlan& plan) {
  std::string out =
      fmt::format("set {}: {} cells, {} runs, order seed {}, cool-down {:g} s\n", plan.name,
                  plan.cells.size(), plan.order.size(), plan.seed, plan.cooldown_s);
  for (const PlannedCell& c : plan.cells) {
    std::string values;
    for (const auto& [key, value] : c.values) values += " " + key + "=" + value;
    out += fmt::format("  {:<24} {} x{}{}\n", c.id, c.source, c.scenario.repeat, values);
  }
  out += "order:";
  for (const auto& [cell, repeat] : plan.order) {
    out += fmt::format(" {}#{}", plan.cells[static_cast<size_t>(cell)].id, repeat + 1);
  }
  out += fmt::format("\nestimated time: {}\n",
                     FormatDuration(EstimatedSeconds(plan, plan.order.size())));
  return out;
}

}  // namespace edgebench

// The per-cell bar charts: wire bytes per message (compare's median, interval and each
// run) and cost per month by part (RunResult::cost of each cell's median run).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "report/internal.h"

namespace edgebench::report_internal {

const MetricSummary* FindMetric(const CellSummary& summary, Metric metric) {
  for (const MetricSummary& m : summary.metrics) {
    if (m.metric == metric) return &m;
  }
  return nullptr;
}

namespace {

// Bar positions are 0..n-1; labels that do not fit turn.
void CategoryAxis(size_t bars, ScriptBuilder& out) {
  out.Line("set xrange [-0.6:" + Num(static_cast<double>(bars) - 0.4) +
           "]\nset yrange [0:*]\nset boxwidth 0.6\nset style fill solid 0.5 border -1"
           "\nset grid noxtics ytics" +
           std::string(bars > 4 ? "\nset xtics rotate by -25" : ""));
}

}  // namespace

void AddWireChart(const Comparison& comparison, ScriptBuilder& out) {
  std::string bars;
  std::string points;
  size_t n = 0;
  bool any_interval = false;
  for (size_t i = 0; i < comparison.summaries.size() && i < comparison.cells.size(); ++i) {
    const MetricSummary* m = FindMetric(comparison.summaries[i], Metric::kWireBytesPerMessage);
    if (m == nullptr || !m->median) continue;
    std::string x = Num(static_cast<double>(n));
    bars += x + " " + Column(comparison.cells[i].label) + " " + Num(*m->median) + " " +
            (m->interval ? Num(m->interval->lo) + " " + Num(m->interval->hi) : "? ?") + "\n";
    any_interval = any_interval || m->interval.has_value();
    for (double v : m->values) points += x + " " + Num(v) + "\n";
    ++n;
  }
  if (n == 0) {
    out.Note(
        "no run captured packets, so there is no wire bytes chart (capture: {enabled: "
        "true} in the scenario measures them)");
    return;
  }
  out.BeginChart("wire", "Wire bytes per message",
                 "IP bytes on the wire in both directions (to and from the broker, with TCP/IP "
                 "and MQTT headers, acknowledgements and keep-alives) per message sent, from the "
                 "packet capture. Bar: the median over the cell's runs; whiskers: its 95% "
                 "bootstrap interval (two runs or more); dots: each run.",
                 900, 420);
  CategoryAxis(n, out);
  out.Line("set ylabel 'bytes per message'\nset key top right");
  std::string bar_block = out.AddBlock(bars);
  std::string point_block = out.AddBlock(points);
  std::string plot = "plot " + bar_block + " using 1:3:xtic(2) with boxes title 'median'";
  if (any_interval)
    plot +=
        ", " + bar_block + " using 1:3:4:5 with yerrorbars lc 'black' pt -1 title '95% interval'";
  plot += ", " + point_block + " using 1:2 with points pt 7 ps 0.6 lc 'black' title 'each run'";
  out.Line(plot);
}

namespace {

double TotalUsd(const CostResult& cost) {
  double total = 0;
  for (const CostPart& p : cost.parts) total += p.amount_usd;
  return total;
}

// The run whose monthly cost is the median of the cell's (the lower middle one for an even
// count): its parts make the cell's bar, so the bar adds up to a cost one run really had.
const CostResult* MedianCost(const CompareCell& cell) {
  std::vector<const CostResult*> costs;
  for (const CompareRun& run : cell.runs) {
    if (run.result.cost && !run.result.cost->parts.empty()) costs.push_back(&*run.result.cost);
  }
  if (costs.empty()) return nullptr;
  std::sort(costs.begin(), costs.end(),
            [](const CostResult* a, const CostResult* b) { return TotalUsd(*a) < TotalUsd(*b); });
  return costs[(costs.size() - 1) / 2];
}

}  // namespace

void AddCostChart(const Comparison& comparison, ScriptBuilder& out) {
  std::vector<std::string> columns;  // "sheet: item", in the order first seen
  std::vector<std::pair<std::string, const CostResult*>> rows;
  for (const CompareCell& cell : comparison.cells) {
    const CostResult* cost = MedianCost(cell);
    if (cost == nullptr) continue;
    rows.emplace_back(cell.label, cost);
    for (const CostPart& p : cost->parts) {
      std::string name = p.sheet + ": " + p.item;
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  if (rows.empty()) {
    out.Note(
        "no run has a cost, so there is no cost chart (cost: {sheet: NAME} in the scenario "
        "prices it with config/costs/NAME.yaml)");
    return;
  }
  std::string data = Column("cell");
  for (const std::string& c : columns) data += " " + Column(c);
  data += " " + Column("total") + "\n";
  for (const auto& [label, cost] : rows) {
    data += Column(label);
    for (const std::string& c : columns) {
      double amount = 0;
      for (const CostPart& p : cost->parts)
        amount += (p.sheet + ": " + p.item == c) ? p.amount_usd : 0;
      data += " " + Num(amount);
    }
    data += " " + Num(TotalUsd(*cost)) + "\n";
  }
  out.BeginChart("cost", "Cost per month by placement (USD)",
                 "What each cell's load would cost for a month (30 days) at the scenario's "
                 "rate, stacked by what the price sheets charge for. Each bar is the parts of "
                 "the cell's median-cost run, converted to USD at the sheet's stated rate; the "
                 "figure on top is its total.",
                 900, 460);
  CategoryAxis(rows.size(), out);
  out.Line(
      "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 "
      "border -1\nset key outside right top autotitle columnheader\nset ylabel 'USD per "
      "month'\nset offsets 0, 0, graph 0.08, 0");
  std::string block = out.AddBlock(data);
  size_t total_column = columns.size() + 2;
  out.Line("plot for [i=2:" + std::to_string(total_column - 1) + "] " + block +
           " using i:xtic(1), " + block + " using 0:" + std::to_string(total_column) +
           ":(sprintf('%.2f', $" + std::to_string(total_column) +
           ")) with labels offset 0,0.8 notitle");
}

}  // namespace edgebench::report_internal

// The chart plan: the gnuplot script builder, the order of the charts, and the latency
// percentile chart (the HdrHistogram plot).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgebench/report/report.h"

#include "report/internal.h"

namespace edgebench {
namespace report_internal {

void ScriptBuilder::BeginChart(const std::string& id, const std::string& title,
                               const std::string& caption, int width, int height) {
  ChartSpec spec{id, title, caption, out_dir_ + "/" + id + ".svg", false};
  // noenhanced: cell labels are text, not gnuplot's markup (an '_' would subscript).
  plan_.script +=
      "reset\nset terminal svg size " + std::to_string(width) + "," + std::to_string(height) +
      " dynamic noenhanced font 'DejaVu Sans,11' background '#ffffff'\n"
      "set output " +
      Quote(spec.file) + "\nset datafile missing '?'\nset grid\nset key top left\nset title " +
      Quote(title) + "\n";
  plan_.charts.push_back(std::move(spec));
}

std::string ScriptBuilder::AddBlock(std::string_view rows) {
  std::string name = "$d" + std::to_string(++blocks_);
  plan_.script += name + " << EOD\n";
  plan_.script += rows;
  if (!rows.empty() && rows.back() != '\n') plan_.script += '\n';
  plan_.script += "EOD\n";
  return name;
}

void ScriptBuilder::Line(std::string_view text) {
  plan_.script += text;
  plan_.script += '\n';
}

ChartPlan ScriptBuilder::Finish() && {
  if (!plan_.charts.empty()) plan_.script += "unset output\n";
  return std::move(plan_);
}

std::string Num(double value) {
  if (!std::isfinite(value)) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string Column(std::string_view text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"') ? '\'' : (c == '\n' || c == '\r') ? ' ' : c;
  return out + "\"";
}

std::string RunName(const CompareRun& run, size_t index_in_cell) {
  if (run.repeat) return "run " + std::to_string(*run.repeat + 1);
  std::string name = std::filesystem::path(run.dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(run.dir).parent_path().filename().string();
  return name.empty() ? "run " + std::to_string(index_in_cell + 1) : name;
}

namespace {

// A curve from the summary's percentiles, for a single run without an exact histogram
// (format 1): the points it has, nothing in between.
std::vector<PercentilePoint> SummaryCurve(const LatencySummary& s) {
  std::vector<PercentilePoint> points;
  auto count = static_cast<double>(s.count);
  const std::pair<double, int64_t> known[] = {
      {0, s.min}, {50, s.p50}, {90, s.p90}, {99, s.p99}, {99.9, s.p999}};
  for (const auto& [p, value] : known) {
    double x = 1 / (1 - p / 100);
    if (x < count) points.push_back({p, x, static_cast<double>(value) / 1000});
  }
  if (s.count > 1)
    points.push_back({100 * (1 - 1 / count), count, static_cast<double>(s.max) / 1000});
  return points;
}

// "0%", "90%", "99%", "99.9%", "99.99%", ... for 1/(1-p) = 10^decade, as gnuplot tic labels
// (which are formats: % doubled).
std::string DecadeLabel(int decade) {
  if (decade == 0) return "0%%";
  if (decade == 1) return "90%%";
  if (decade == 2) return "99%%";
  return "99." + std::string(static_cast<size_t>(decade - 2), '9') + "%%";
}

struct Curve {
  std::string label;
  std::vector<PercentilePoint> points;
};

// Each cell's curve; cells without one get a note.
std::vector<Curve> CellCurves(const Comparison& comparison, ScriptBuilder& out) {
  std::vector<Curve> curves;
  for (const CompareCell& cell : comparison.cells) {
    size_t exact = 0;
    for (const CompareRun& run : cell.runs) exact += run.result.latency_us.histogram ? 1 : 0;
    if (std::optional<LatencyHistogram> merged = MergedLatency(cell)) {
      if (merged->count() == 0) continue;
      curves.push_back({cell.label, PercentileCurve(*merged)});
      if (exact < cell.runs.size()) {
        out.Note(cell.label + ": " + std::to_string(cell.runs.size() - exact) + " of " +
                 std::to_string(cell.runs.size()) +
                 " runs have no exact latency histogram and are not in the latency chart");
      }
    } else if (cell.runs.size() == 1 && cell.runs[0].result.latency_us.summary.count > 0) {
      curves.push_back({cell.label, SummaryCurve(cell.runs[0].result.latency_us.summary)});
      out.Note(cell.label +
               ": the latency chart shows only the summary's percentiles (the run "
               "has no exact histogram)");
    } else {
      out.Note(cell.label +
               ": no latency distribution (latency off, or runs without exact "
               "histograms), so it is not in the latency chart");
    }
  }
  return curves;
}

// Log y when the cells' latencies span more than a factor of 20, so that a fast cell's
// shape is not a flat line under a slow one's.
bool WantLogY(const std::vector<Curve>& curves) {
  double lowest_median = INFINITY;
  double highest = 0;
  for (const Curve& c : curves) {
    for (const PercentilePoint& p : c.points) {
      highest = std::max(highest, p.value_ms);
      if (p.percentile >= 50 && p.value_ms > 0) lowest_median = std::min(lowest_median, p.value_ms);
    }
  }
  return std::isfinite(lowest_median) && highest / lowest_median > 20;
}

}  // namespace

void AddLatencyChart(const Comparison& comparison, ScriptBuilder& out) {
  std::vector<Curve> curves = CellCurves(comparison, out);
  if (curves.empty()) return;
  double x_max = 10;
  for (const Curve& c : curves) x_max = std::max(x_max, c.points.back().inverse_tail);
  int decades = static_cast<int>(std::ceil(std::log10(x_max) - 1e-9));
  bool log_y = WantLogY(curves);
  out.BeginChart("latency", "Latency by percentile (each cell's runs merged)",
                 "One line per cell: the latency that the given share of messages stayed "
                 "under, from every run of the cell merged into one exact histogram. The x axis "
                 "is 1/(1-percentile) on a log scale, so each step right is ten times rarer: "
                 "90%, 99%, 99.9%. The last point of a line is the slowest message.",
                 900, 460);
  std::string tics;
  for (int d = 0; d <= decades; ++d) {
    tics += (d ? ", '" : "'") + DecadeLabel(d) + "' " + Num(std::pow(10.0, d));
  }
  out.Line("set logscale x 10\nset xrange [1:" + Num(std::pow(10.0, decades)) + "]\nset xtics (" +
           tics + ")\nset xlabel 'percentile'\nset ylabel 'latency (ms)" +
           (log_y ? ", log scale'\nset logscale y" : "'\nset yrange [0:*]"));
  std::string plot = "plot ";
  for (size_t i = 0; i < curves.size(); ++i) {
    std::string rows;
    for (const PercentilePoint& p : curves[i].points) {
      bool drawable = !log_y || p.value_ms > 0;
      rows += Num(p.inverse_tail) + " " + (drawable ? Num(p.value_ms) : "?") + "\n";
    }
    std::string block = out.AddBlock(rows);
    plot += (i ? ", " : "") + block + " using 1:2 with lines lw 2 title " + Quote(curves[i].label);
  }
  out.Line(plot);
}

}  // namespace report_internal

std::vector<PercentilePoint> PercentileCurve(const LatencyHistogram& histogram,
                                             int points_per_decade) {
  std::vector<PercentilePoint> points;
  if (histogram.count() == 0) return points;
  points_per_decade = std::max(points_per_decade, 1);
  auto count = static_cast<double>(histogram.count());
  points.push_back({0, 1, static_cast<double>(histogram.min()) / 1000});
  for (int k = 1;; ++k) {
    double x = std::pow(10.0, static_cast<double>(k) / points_per_decade);
    if (x >= count) break;
    double p = 100 * (1 - 1 / x);
    points.push_back({p, x, static_cast<double>(histogram.ValueAtPercentile(p)) / 1000});
  }
  if (histogram.count() > 1) {
    points.push_back({100 * (1 - 1 / count), count, static_cast<double>(histogram.max()) / 1000});
  }
  return points;
}

std::optional<LatencyHistogram> MergedLatency(const CompareCell& cell) {
  std::optional<LatencyHistogram> merged;
  for (const CompareRun& run : cell.runs) {
    const std::optional<LatencyHistogram>& h = run.result.latency_us.histogram;
    if (!h) continue;
    if (merged) {
      merged->Merge(*h);
    } else {
      merged = *h;
    }
  }
  return merged;
}

ChartPlan PlanCharts(const Comparison& comparison, const std::string& out_dir) {
  report_internal::ScriptBuilder out(out_dir);
  if (comparison.search) {
    report_internal::AddSearchCharts(*comparison.search, out);
    out.Note(
        "a search's steps have no latency-by-percentile chart (a line per step would not "
        "read): the search's latency chart shows each step's p50 and p99");
  } else {
    report_internal::AddLatencyChart(comparison, out);
  }
  report_internal::AddWireChart(comparison, out);
  report_internal::AddCostChart(comparison, out);
  for (size_t i = 0; i < comparison.cells.size(); ++i) {
    report_internal::AddTimelineChart(comparison.cells[i], i, out);
    report_internal::AddResourceChart(comparison.cells[i], i, out);
  }
  return std::move(out).Finish();
}

}  // namespace edgebench

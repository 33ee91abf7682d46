// The per-cell charts over time: delivered msg/s and p99 per second (RunResult::timeline),
// and CPU and RSS per process (RunResult::samples), one line per run or per process.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "report/internal.h"

namespace edgebench::report_internal {
namespace {

// Beyond this many runs in a cell, only the first ones are named in the key.
constexpr size_t kMaxNamedRuns = 10;
// A process's samples are thinned to about this many points (CPU recomputed over each gap).
constexpr size_t kMaxSamplePoints = 300;

std::string ChartId(const char* kind, size_t cell_index) {
  return std::string(kind) + "-" + std::to_string(cell_index + 1);
}

// The measured window as a shaded band behind the plot, in seconds since t0.
void ShadeWindow(const RunInfo& info, ScriptBuilder& out) {
  out.Line("set object 1 rect from first " + Num(info.warmup_s) + ", graph 0 to first " +
           Num(info.warmup_s + info.duration_s) +
           ", graph 1 behind fillcolor rgb '#eef3fb' fillstyle solid noborder");
}

std::string TitleOf(const std::string& name, size_t index) {
  return index < kMaxNamedRuns ? "title " + Quote(name) : "notitle";
}

// Two panels, one `plot` each, over the same series: columns 1:top and 1:bottom of each.
struct Panels {
  std::string top;
  std::string bottom;
  void Add(const std::string& block, const char* top_using, const char* bottom_using,
           const std::string& style) {
    for (auto [plot, columns] : {std::pair{&top, top_using}, std::pair{&bottom, bottom_using}}) {
      *plot += plot->empty() ? "plot " : ", ";
      *plot += block;
      *plot += columns;
      *plot += style;
    }
  }
};

}  // namespace

void AddTimelineChart(const CompareCell& cell, size_t cell_index, ScriptBuilder& out) {
  std::vector<std::pair<std::string, std::string>> series;  // run name, rows
  for (size_t i = 0; i < cell.runs.size(); ++i) {
    const RunResult& r = cell.runs[i].result;
    if (r.timeline.empty()) continue;
    std::string rows;
    for (size_t s = 0; s < r.timeline.size(); ++s) {
      const TimelineSecond& t = r.timeline[s];
      // The middle of second s; a p99 of 0 means the second had no latency to show.
      rows += Num(static_cast<double>(s) + 0.5) + " " + Num(static_cast<double>(t.received)) + " " +
              (t.p99_us > 0 ? Num(static_cast<double>(t.p99_us) / 1000) : "?") + "\n";
    }
    series.emplace_back(RunName(cell.runs[i], i), std::move(rows));
  }
  if (series.empty()) {
    out.Note(cell.label + ": no run has a per-second timeline");
    return;
  }
  std::string title = cell.label + ": delivered msg/s and p99 latency per second";
  out.BeginChart(ChartId("timeline", cell_index), title,
                 "Each line is one run. Top: messages the subscriber received in each second; "
                 "bottom: the 99th percentile latency of that second's arrivals. The shaded band "
                 "is the measured window (after warm-up, before drain).",
                 900, 620);
  ShadeWindow(cell.runs.front().result.info, out);
  Panels panels;
  for (size_t i = 0; i < series.size(); ++i) {
    std::string block = out.AddBlock(series[i].second);
    panels.Add(block, " using 1:2", " using 1:3", " with lines " + TitleOf(series[i].first, i));
  }
  out.Line("unset title\nset multiplot layout 2,1 title " + Quote(title) +
           "\nset xlabel 'seconds since the start of the run'\nset yrange [0:*]"
           "\nset key outside right top\nset lmargin 10\nset offsets 0, 0, graph 0.08, 0\nset "
           "ylabel 'delivered msg/s'");
  out.Line(panels.top);
  out.Line("set ylabel 'p99 latency (ms)'");
  out.Line(panels.bottom);
  out.Line("unset multiplot");
}

namespace {

// A process's samples as "t_s cpu_pct rss_mb" rows, thinned to about kMaxSamplePoints:
// CPU between two kept samples is their cumulative CPU difference over the time between
// them, so thinning averages and loses no CPU time.
std::string SampleRows(const std::vector<const ProcessSample*>& samples, bool run_clock) {
  size_t step = std::max<size_t>(1, (samples.size() + kMaxSamplePoints - 1) / kMaxSamplePoints);
  std::string rows;
  const ProcessSample* previous = nullptr;
  for (size_t i = 0; i < samples.size(); i += step) {
    if (i + step >= samples.size()) i = samples.size() - 1;  // always end on the last one
    const ProcessSample& s = *samples[i];
    double cpu_pct = s.cpu_pct;
    if (previous != nullptr && step > 1 && s.t_ms > previous->t_ms) {
      cpu_pct = (s.cpu_s - previous->cpu_s) * 1e5 / static_cast<double>(s.t_ms - previous->t_ms);
    }
    double t_ms = static_cast<double>(run_clock ? *s.t_run_ms : s.t_ms);
    rows += Num(t_ms / 1000) + " " + Num(cpu_pct) + " " +
            Num(static_cast<double>(s.rss_kb) / 1024) + "\n";
    previous = &s;
  }
  return rows;
}

const char* RoleColor(const std::string& role) {
  if (role == "worker") return "#0072b2";
  if (role == "broker") return "#d55e00";
  if (role == "orchestrator") return "#009e73";
  if (role == "link") return "#cc79a7";
  return "#777777";
}

}  // namespace

void AddResourceChart(const CompareCell& cell, size_t cell_index, ScriptBuilder& out) {
  // One series per process of each run: (run, role, pid) -> its samples in time order.
  std::map<std::pair<std::string, int>, std::vector<const ProcessSample*>> by_process;
  std::vector<std::pair<std::string, std::vector<const ProcessSample*>>> series;
  bool run_clock = true;
  for (const CompareRun& run : cell.runs) {
    by_process.clear();
    for (const ProcessSample& s : run.result.samples) {
      by_process[{s.role, s.pid}].push_back(&s);
      run_clock = run_clock && s.t_run_ms.has_value();
    }
    for (auto& [key, samples] : by_process) series.emplace_back(key.first, std::move(samples));
  }
  if (series.empty()) {
    out.Note(cell.label + ": no run has process samples");
    return;
  }
  std::string title = cell.label + ": CPU and memory per process";
  out.BeginChart(ChartId("resources", cell_index), title,
                 "One line per process of each run, coloured by its role. Top: CPU in percent "
                 "of one core (100% is one full core), averaged between samples; bottom: "
                 "resident memory (RSS). The shaded band is the measured window.",
                 900, 620);
  if (run_clock) ShadeWindow(cell.runs.front().result.info, out);
  Panels panels;
  std::vector<std::string> named;
  for (const auto& [role, samples] : series) {
    std::string block = out.AddBlock(SampleRows(samples, run_clock));
    bool first = std::find(named.begin(), named.end(), role) == named.end();
    if (first) named.push_back(role);
    std::string style = " with lines lc rgb '";
    style += RoleColor(role);
    style += first ? "' title " + Quote(role) : std::string("' notitle");
    panels.Add(block, " using 1:2", " using 1:3", style);
  }
  out.Line(std::string("unset title\nset multiplot layout 2,1 title ") + Quote(title) +
           "\nset xlabel '" + (run_clock ? "seconds since the start of the run" : "seconds") +
           "'\nset yrange [0:*]\nset key outside right top\nset lmargin 10\nset offsets 0, 0, "
           "graph 0.08, 0"
           "\nset ylabel 'CPU (% of one core)'");
  out.Line(panels.top);
  out.Line("set ylabel 'RSS (MB)'");
  out.Line(panels.bottom);
  out.Line("unset multiplot");
}

}  // namespace edgebench::report_internal

// timeline.csv and samples.csv from a RunResult, and back.
#include <charconv>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "edgebench/results/reporters.h"

namespace edgebench {
namespace {

constexpr std::string_view kTimelineHeader =
    "second,phase,sent,received,p50_us,p99_us,bytes_to_broker,bytes_from_broker";
constexpr std::string_view kSamplesHeader =
    "t_ms,role,pid,cpu_s,cpu_pct,rss_kb,rss_peak_kb,threads,voluntary_ctxt_switches,"
    "nonvoluntary_ctxt_switches";

std::string WallTime(int64_t t0_unix_ms, int64_t offset_ms) {
  return t0_unix_ms > 0 ? UtcIso8601FromUnixMs(t0_unix_ms + offset_ms) : std::string();
}

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

template <class T>
bool ParseNumber(std::string_view s, T* out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// The data lines of a CSV whose first line starts with `header`; `fields` per line.
Result<std::vector<std::vector<std::string_view>>> Rows(std::string_view text,
                                                        std::string_view header, size_t fields) {
  std::vector<std::vector<std::string_view>> rows;
  size_t line_no = 0;
  size_t fields_here = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line_no == 1) {
      if (!line.starts_with(header)) return Error{"1: not the expected header"};
      fields_here = Split(line).size();
      if (fields_here < fields) return Error{"1: not the expected header"};
      continue;
    }
    rows.push_back(Split(line));
    if (rows.back().size() != fields_here) {
      return Error{
          fmt::format("{}: expected {} fields, got {}", line_no, fields_here, rows.back().size())};
    }
  }
  if (line_no == 0) return Error{"1: empty file"};
  return rows;
}

}  // namespace

std::string UtcIso8601FromUnixMs(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(unix_ms % 1000));
}

std::string TimelineCsv(const RunResult& r) {
  std::string out = std::string(kTimelineHeader) + ",wall_time\n";
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const TimelineSecond& t = r.timeline[i];
    auto bytes = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : ""; };
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", i, PhaseOf(r.info, i), t.sent, t.received,
                       t.p50_us, t.p99_us, bytes(t.bytes_to_broker), bytes(t.bytes_from_broker),
                       WallTime(r.info.t0_unix_ms, static_cast<int64_t>(i) * 1000));
  }
  return out;
}

Result<std::vector<TimelineSecond>> ParseTimelineCsv(std::string_view text) {
  auto rows = Rows(text, kTimelineHeader, 8);
  if (!rows.ok()) return rows.error();
  std::vector<TimelineSecond> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    const std::vector<std::string_view>& f = (*rows)[i];
    TimelineSecond t;
    bool ok = ParseNumber(f[2], &t.sent) && ParseNumber(f[3], &t.received) &&
              ParseNumber(f[4], &t.p50_us) && ParseNumber(f[5], &t.p99_us);
    for (int col : {6, 7}) {
      if (f[col].empty()) continue;
      uint64_t v = 0;
      ok = ok && ParseNumber(f[col], &v);
      (col == 6 ? t.bytes_to_broker : t.bytes_from_broker) = v;
    }
    if (!ok) return Error{fmt::format("{}: a field is not a number", i + 2)};
    out.push_back(t);
  }
  return out;
}

std::string SamplesCsvHeader() { return std::string(kSamplesHeader) + ",t_run_ms,wall_time\n"; }

std::string SamplesCsvRow(const ProcessSample& p, int64_t t0_unix_ms) {
  return fmt::format("{},{},{},{:.3f},{:.1f},{},{},{},{},{},{},{}\n", p.t_ms, p.role, p.pid,
                     p.cpu_s, p.cpu_pct, p.rss_kb, p.rss_peak_kb, p.threads,
                     p.voluntary_ctxt_switches, p.nonvoluntary_ctxt_switches,
                     p.t_run_ms ? std::to_string(*p.t_run_ms) : "",
                     p.t_run_ms ? WallTime(t0_unix_ms, *p.t_run_ms) : "");
}

std::string SamplesCsv(const RunResult& r) {
  std::string out = SamplesCsvHeader();
  for (const ProcessSample& p : r.samples) out += SamplesCsvRow(p, r.info.t0_unix_ms);
  return out;
}

Result<std::vector<ProcessSample>> ParseSamplesCsv(std::string_view text) {
  auto rows = Rows(text, kSamplesHeader, 10);
  if (!rows.ok()) return rows.error();
  std::vector<ProcessSample> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    const std::vector<std::string_view>& f = (*rows)[i];
    ProcessSample p;
    p.role = std::string(f[1]);
    bool ok = ParseNumber(f[0], &p.t_ms) && ParseNumber(f[2], &p.pid) &&
              ParseNumber(f[3], &p.cpu_s) && ParseNumber(f[4], &p.cpu_pct) &&
              ParseNumber(f[5], &p.rss_kb) && ParseNumber(f[6], &p.rss_peak_kb) &&
              ParseNumber(f[7], &p.threads) && ParseNumber(f[8], &p.voluntary_ctxt_switches) &&
              ParseNumber(f[9], &p.nonvoluntary_ctxt_switches);
    if (f.size() > 10 && !f[10].empty()) {
      int64_t t = 0;
      ok = ok && ParseNumber(f[10], &t);
      p.t_run_ms = t;
    }
    if (!ok) return Error{fmt::format("{}: a field is not a number", i + 2)};
    out.push_back(p);
  }
  return out;
}

}  // namespace edgebench

// The files of a results directory, rendered from a RunResult and read back into one.
#include "edgebench/results/reporters.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "edgebench/base/fd.h"

namespace edgebench {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Reads DIR/NAME as JSON; errors name the file.
Result<nlohmann::json> ReadJson(const std::string& path) {
  Result<std::string> text = ReadFile(path, kResultsFileLimit);
  if (!text.ok()) return text.error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{path + ": not valid JSON"};
  return j;
}

template <class T, class Parse>
Status ReadCsv(const std::string& path, Parse parse, T* out) {
  if (!Exists(path)) return Ok{};  // a run that failed early writes no timeline
  Result<std::string> text = ReadFile(path, kResultsFileLimit);
  if (!text.ok()) return text.error();
  auto rows = parse(*text);
  if (!rows.ok()) return Error{path + ":" + rows.error().message};
  *out = std::move(rows.value());
  return Ok{};
}

}  // namespace

std::vector<ReportFile> RenderRunFiles(const RunResult& r) {
  std::vector<ReportFile> files = {
      {"summary.json", SummaryToJson(r).dump(2) + "\n"},
      {"histograms.json", HistogramsToJson(r).dump() + "\n"},
      {"timeline.csv", TimelineCsv(r)},
      {"samples.csv", SamplesCsv(r)},
  };
  if (r.info.latency && r.latency_us.histogram) {
    files.push_back({"latency.hgrm", r.latency_us.histogram->ToHgrm(1.0)});
  }
  return files;
}

Result<RunResult> ReadRunDirectory(const std::string& dir) {
  const std::string summary_path = dir + "/summary.json";
  Result<nlohmann::json> summary = ReadJson(summary_path);
  if (!summary.ok()) return summary.error();
  Result<RunResult> r = SummaryFromJson(*summary);
  if (!r.ok()) return Error{summary_path + ": " + r.error().message};
  const std::string histograms_path = dir + "/histograms.json";
  if (Exists(histograms_path)) {
    Result<nlohmann::json> h = ReadJson(histograms_path);
    if (!h.ok()) return h.error();
    Status st = HistogramsFromJson(*h, &r.value());
    if (!st) return Error{histograms_path + ": " + st.error().message};
  }
  Status st = ReadCsv(dir + "/timeline.csv", ParseTimelineCsv, &r->timeline);
  if (st) st = ReadCsv(dir + "/samples.csv", ParseSamplesCsv, &r->samples);
  if (!st) return st.error();
  return r;
}

}  // namespace edgebench

// SampleStream: samples.csv written row by row as the /proc sampler takes its samples, so
// that a run of hours keeps none of them in memory (the summary needs only their digest).
//
// Contract: Open() creates PATH.partial with SamplesCsv's header; Write() appends one row
// (ProcessSampleOf, SamplesCsvRow: the same text SamplesCsv renders) and is called from one
// thread at a time; Finish() flushes and closes the file and renames it to PATH. The first
// failed write is kept with its errno and returned by Finish(); the rows after it are
// dropped, so a full disk costs no time. Without Finish() (the run died), PATH.partial stays.
#ifndef EDGEBENCH_RUN_SAMPLE_STREAM_H_
#define EDGEBENCH_RUN_SAMPLE_STREAM_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "edgebench/base/error.h"
#include "edgebench/measure/proc_sampler.h"

namespace edgebench {

class SampleStream {
 public:
  // `t0_unix_ms` and `sampler_offset_ms` as in RunData. Error: "cannot write PATH: <errno>".
  static Result<std::unique_ptr<SampleStream>> Open(const std::string& path, int64_t t0_unix_ms,
                                                    int64_t sampler_offset_ms);
  ~SampleStream();
  SampleStream(const SampleStream&) = delete;
  SampleStream& operator=(const SampleStream&) = delete;

  void Write(const ProcSample& sample);
  // Error: the first failed write, "cannot write PATH: No space left on device", or the
  // failed close or rename; then PATH.partial is left for what it holds.
  Status Finish();
  uint64_t rows() const { return rows_; }

 private:
  SampleStream(std::string path, std::FILE* file, int64_t t0_unix_ms, int64_t offset_ms);
  void Put(const std::string& text);

  std::string path_;
  std::FILE* file_;
  int64_t t0_unix_ms_;
  int64_t sampler_offset_ms_;
  uint64_t rows_ = 0;
  std::string error_;  // the first failed write
};

}  // namespace edgebench

#endif  // EDGEBENCH_RUN_SAMPLE_STREAM_H_

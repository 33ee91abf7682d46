// SampleStream: samples.csv written as the samples come (contract in sample_stream.h).
#include "edgebench/run/sample_stream.h"

#include <cerrno>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "edgebench/base/error.h"
#include "edgebench/results/reporters.h"
#include "edgebench/run/result_builder.h"

namespace edgebench {

Result<std::unique_ptr<SampleStream>> SampleStream::Open(const std::string& path,
                                                         int64_t t0_unix_ms,
                                                         int64_t sampler_offset_ms) {
  std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "we");
  if (file == nullptr) return Error{"cannot write " + partial + ": " + ErrnoMessage(errno)};
  std::unique_ptr<SampleStream> stream(new SampleStream(path, file, t0_unix_ms, sampler_offset_ms));
  stream->Put(SamplesCsvHeader());
  return stream;
}

SampleStream::SampleStream(std::string path, std::FILE* file, int64_t t0_unix_ms, int64_t offset_ms)
    : path_(std::move(path)), file_(file), t0_unix_ms_(t0_unix_ms), sampler_offset_ms_(offset_ms) {}

SampleStream::~SampleStream() {
  if (file_ != nullptr) std::fclose(file_);
}

void SampleStream::Put(const std::string& text) {
  if (!error_.empty() || file_ == nullptr) return;
  // stdio reports a failed write(2) of its buffer here, with errno set by it.
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::ferror(file_)) {
    error_ = "cannot write " + path_ + ".partial: " + ErrnoMessage(errno);
    // Said at once, not only at the end: the run goes on, but it will be failed.
    spdlog::warn("{}: the samples from here on are lost, and the run will be failed", error_);
  }
}

void SampleStream::Write(const ProcSample& sample) {
  Put(SamplesCsvRow(ProcessSampleOf(sample, t0_unix_ms_, sampler_offset_ms_), t0_unix_ms_));
  if (error_.empty()) ++rows_;
}

Status SampleStream::Finish() {
  if (file_ == nullptr) return Error{"cannot write " + path_ + ": already finished"};
  if (error_.empty() && std::fflush(file_) != 0) {
    error_ = "cannot write " + path_ + ".partial: " + ErrnoMessage(errno);
  }
  // close() can report a deferred write error (NFS, a full disk).
  if (std::fclose(file_) != 0 && error_.empty()) {
    error_ = "cannot write " + path_ + ".partial: " + ErrnoMessage(errno);
  }
  file_ = nullptr;
  if (!error_.empty()) return Error{error_};
  std::string partial = path_ + ".partial";
  if (std::rename(partial.c_str(), path_.c_str()) != 0) {
    return Error{"cannot rename " + partial + " to " + path_ + ": " + ErrnoMessage(errno)};
  }
  return Ok{};
}

}  // namespace edgebench

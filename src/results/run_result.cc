// The small pieces of RunResult: status names, phases, derived counts, equality.
#include "edgebench/results/run_result.h"

namespace edgebench {

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "failed";
}

Distribution Distribution::Of(const LatencyHistogram& h) { return {h.Summarize(), h}; }

bool Distribution::operator==(const Distribution& other) const {
  if (!(summary == other.summary) || histogram.has_value() != other.histogram.has_value()) {
    return false;
  }
  return !histogram || histogram->ToJson() == other.histogram->ToJson();
}

uint64_t RunResult::lost() const {
  uint64_t sent = counters[Counter::kSent];
  uint64_t arrived = counters[Counter::kReceived] + counters[Counter::kInFlightAtEnd];
  return sent > arrived ? sent - arrived : 0;
}

uint64_t RunResult::unsent() const {
  uint64_t scheduled = counters[Counter::kScheduled];
  uint64_t sent = counters[Counter::kSent];
  return scheduled > sent ? scheduled - sent : 0;
}

bool RunResult::expectations_pass() const {
  for (const ExpectResult& e : expectations) {
    if (!e.pass) return false;
  }
  return true;
}

void AddProtocolMismatch(std::vector<ProtocolMismatch>* list, const ProtocolMismatch& m) {
  for (ProtocolMismatch& have : *list) {
    if (have.side == m.side && have.message == m.message) {
      have.count += m.count;
      return;
    }
  }
  list->push_back(m);
}

const char* PhaseOf(const RunInfo& info, size_t second) {
  double t = static_cast<double>(second);
  if (t < info.warmup_s) return "warmup";
  if (t < info.warmup_s + info.duration_s) return "measure";
  return "drain";
}

}  // namespace edgebench

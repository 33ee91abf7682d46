// LatencyHistogram: HdrHistogram's bucket layout, percentile queries and .hgrm text output.
#include "edgebench/results/histogram.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace edgebench {
namespace {

Error JsonError(const std::string& what) {
  Error e;
  e.message = "histogram json: " + what;
  return e;
}

// A JSON integer that fits in int64_t.
bool GetInt64(const nlohmann::json& v, int64_t* out) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  *out = v.get<int64_t>();
  return true;
}

// A non-negative JSON integer.
bool GetUint64(const nlohmann::json& v, uint64_t* out) {
  if (!v.is_number_integer()) return false;
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  const int64_t i = v.get<int64_t>();
  if (i < 0) return false;
  *out = static_cast<uint64_t>(i);
  return true;
}

// Java's Formatter "%<width>.<precision>f", which HdrHistogram's reference output uses: it
// rounds the shortest round-trip decimal half-up, where printf rounds the exact binary
// value (1.2345 prints as "1.235" in Java but "1.234" with glibc).
std::string JavaFixed(double v, int precision, int width) {
  std::string s;
  if (std::isnan(v)) {
    s = "NaN";
  } else if (std::isinf(v)) {
    s = v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[400];  // enough for any double in shortest fixed notation
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::fixed);
    std::string text = ec == std::errc() ? std::string(buf, end) : std::string("0");
    const size_t dot = text.find('.');
    std::string int_part = text.substr(0, dot);
    std::string frac = dot == std::string::npos ? std::string() : text.substr(dot + 1);
    const auto prec = static_cast<size_t>(precision);
    const bool round_up = frac.size() > prec && frac[prec] >= '5';
    frac.resize(prec, '0');
    std::string digits = int_part + frac;
    if (round_up) {
      size_t i = digits.size();
      while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
      if (i == 0) {
        digits.insert(digits.begin(), '1');
      } else {
        ++digits[i - 1];
      }
    }
    s = std::signbit(v) ? "-" : "";
    s += digits.substr(0, digits.size() - prec);
    if (prec > 0) s += "." + digits.substr(digits.size() - prec);
  }
  if (static_cast<int>(s.size()) < width) {
    s.insert(0, static_cast<size_t>(width) - s.size(), ' ');
  }
  return s;
}

std::string PaddedInt(uint64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) {
    s.insert(0, static_cast<size_t>(width) - s.size(), ' ');
  }
  return s;
}

}  // namespace

LatencyHistogram::LatencyHistogram(int64_t highest_trackable, int significant_digits)
    : highest_trackable_(std::max<int64_t>(highest_trackable, 2)),
      significant_digits_(std::clamp(significant_digits, 1, 5)) {
  // sub_bucket_count = 2^ceil(log2(2 * 10^digits)); integer math so that log() rounding
  // cannot pick a different power of two than HdrHistogram.
  int64_t largest_single_unit = 2;
  for (int i = 0; i < significant_digits_; ++i) largest_single_unit *= 10;
  int magnitude = 0;
  while ((int64_t{1} << magnitude) < largest_single_unit) ++magnitude;
  sub_bucket_half_count_magnitude_ = std::max(magnitude, 1) - 1;
  unit_magnitude_ = 0;  // lowest discernible value 1
  sub_bucket_count_ = int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = (sub_bucket_count_ - 1) << unit_magnitude_;

  int64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
  int buckets = 1;
  while (smallest_untrackable <= highest_trackable_) {
    if (smallest_untrackable > INT64_MAX / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_.assign(
      static_cast<size_t>(bucket_count_ + 1) * static_cast<size_t>(sub_bucket_half_count_), 0);
}

size_t LatencyHistogram::IndexOf(int64_t value) const {
  // OR-ing the mask makes values below sub_bucket_count land in bucket 0 and keeps the
  // argument of countl_zero non-zero.
  const auto bits = static_cast<uint64_t>(value | sub_bucket_mask_);
  const int pow2_ceiling = 64 - std::countl_zero(bits);
  const int bucket = pow2_ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  const int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  const int64_t base = static_cast<int64_t>(bucket + 1) << sub_bucket_half_count_magnitude_;
  return static_cast<size_t>(base + sub_bucket - sub_bucket_half_count_);
}

int64_t LatencyHistogram::ValueFromIndex(size_t index) const {
  const auto i = static_cast<int64_t>(index);
  int64_t bucket = (i >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub_bucket = (i & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub_bucket << (bucket + unit_magnitude_);
}

int64_t LatencyHistogram::SizeOfEquivalentRange(int64_t value) const {
  const auto bits = static_cast<uint64_t>(value | sub_bucket_mask_);
  const int bucket =
      64 - std::countl_zero(bits) - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  const int64_t sub_bucket = value >> (bucket + unit_magnitude_);
  const int adjusted = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  return int64_t{1} << (unit_magnitude_ + adjusted);
}

int64_t LatencyHistogram::LowestEquivalent(int64_t value) const {
  return ValueFromIndex(IndexOf(value));
}

int64_t LatencyHistogram::HighestEquivalent(int64_t value) const {
  // lowest + (size - 1): lowest + size can overflow for the top bucket of INT64_MAX.
  return LowestEquivalent(value) + (SizeOfEquivalentRange(value) - 1);
}

bool LatencyHistogram::SameLayout(const LatencyHistogram& other) const {
  return highest_trackable_ == other.highest_trackable_ &&
         significant_digits_ == other.significant_digits_;
}

void LatencyHistogram::RecordN(int64_t value, uint64_t n) {
  if (n == 0) return;
  if (value < 0) value = 0;
  if (value > highest_trackable_) {
    value = highest_trackable_;
    saturated_count_ += n;
  }
  counts_[IndexOf(value)] += n;
  total_count_ += n;
  if (value < min_) min_ = value;
  if (value > max_) max_ = value;
  sum_ += static_cast<double>(value) * static_cast<double>(n);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.total_count_ == 0) return;
  if (SameLayout(other)) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_count_ += other.total_count_;
    saturated_count_ += other.saturated_count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
    return;
  }
  // Different layouts: re-record each bucket, then restore the exact extremes and sum
  // (as far as they fit this histogram's range).
  const double sum_before = sum_;
  for (size_t i = 0; i < other.counts_.size(); ++i) {
    if (other.counts_[i] != 0) RecordN(other.ValueFromIndex(i), other.counts_[i]);
  }
  min_ = std::min(min_, std::min(other.min_, highest_trackable_));
  max_ = std::max(max_, std::min(other.max_, highest_trackable_));
  if (other.max_ <= highest_trackable_) sum_ = sum_before + other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  saturated_count_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  sum_ = 0;
}

int64_t LatencyHistogram::min() const { return total_count_ == 0 ? 0 : min_; }

int64_t LatencyHistogram::max() const { return max_; }

double LatencyHistogram::mean() const {
  return total_count_ == 0 ? 0 : sum_ / static_cast<double>(total_count_);
}

int64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (total_count_ == 0) return 0;
  // As HdrHistogram (Java): step one ulp down first so that, for example, 99.9% of 1000
  // (99.9 is stored as 99.900000000000006) asks for rank 999 and not 1000.
  const double requested = std::clamp(std::nextafter(percentile, -HUGE_VAL), 0.0, 100.0);
  const double fp_rank = requested * static_cast<double>(total_count_) / 100.0;
  const uint64_t rank = std::max<uint64_t>(static_cast<uint64_t>(std::ceil(fp_rank)), 1);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    if (cumulative >= rank) {
      const int64_t v = ValueFromIndex(i);
      const int64_t reported = percentile <= 0.0 ? v : HighestEquivalent(v);
      return std::clamp(reported, min_, max_);
    }
  }
  return max_;
}

LatencySummary LatencyHistogram::Summarize() const {
  LatencySummary s;
  s.count = total_count_;
  s.min = min();
  s.mean = mean();
  s.p50 = ValueAtPercentile(50);
  s.p90 = ValueAtPercentile(90);
  s.p99 = ValueAtPercentile(99);
  s.p999 = ValueAtPercentile(99.9);
  s.max = max();
  return s;
}

double LatencyHistogram::HdrMean() const {
  if (total_count_ == 0) return 0;
  double total = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int64_t v = ValueFromIndex(i);
    const int64_t median = LowestEquivalent(v) + (SizeOfEquivalentRange(v) >> 1);
    total += static_cast<double>(median) * static_cast<double>(counts_[i]);
  }
  return total / static_cast<double>(total_count_);
}

double LatencyHistogram::HdrStdDeviation() const {
  if (total_count_ == 0) return 0;
  const double mean = HdrMean();
  double total = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int64_t v = ValueFromIndex(i);
    const int64_t median = LowestEquivalent(v) + (SizeOfEquivalentRange(v) >> 1);
    const double deviation = static_cast<double>(median) - mean;
    total += deviation * deviation * static_cast<double>(counts_[i]);
  }
  return std::sqrt(total / static_cast<double>(total_count_));
}

// Mirrors HdrHistogram's PercentileIterator driven by outputPercentileDistribution: a row
// each time the cumulative percentile reaches the next reporting level (one bucket can
// produce several rows), levels getting finer by half towards 100%, and a final row at
// 100% for the last non-empty bucket.
std::string LatencyHistogram::ToHgrm(double value_scale, int ticks_per_half_distance) const {
  const int ticks_per_half = std::max(ticks_per_half_distance, 1);
  const int digits = significant_digits_;
  std::string out = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n";

  double level_to = 0.0;
  bool reached_last = false;
  uint64_t cumulative = 0;
  size_t index = 0;
  bool fresh = true;
  const auto total = static_cast<double>(total_count_);
  while (true) {
    if (cumulative >= total_count_) {
      if (reached_last || total_count_ == 0) break;
      level_to = 100.0;
      reached_last = true;
    }
    bool emitted = false;
    while (index < counts_.size()) {
      const uint64_t count = counts_[index];
      if (fresh) {
        cumulative += count;
        fresh = false;
      }
      if (count != 0 && 100.0 * static_cast<double>(cumulative) / total >= level_to) {
        const double value =
            static_cast<double>(HighestEquivalent(ValueFromIndex(index))) / value_scale;
        const double percentile = level_to / 100.0;
        out += JavaFixed(value, digits, 12) + " " + JavaFixed(percentile, 12, 2) + " " +
               PaddedInt(cumulative, 10);
        if (level_to != 100.0) out += " " + JavaFixed(1.0 / (1.0 - percentile), 2, 14);
        out += "\n";
        emitted = true;
        break;
      }
      ++index;
      fresh = true;
    }
    if (!emitted || reached_last) break;
    // Ticks double every time the remaining distance to 100% halves. fmin keeps the
    // exponent finite should rounding ever put the level at 100%.
    const double log2_ratio = std::log(100.0 / (100.0 - level_to)) / std::log(2.0);
    const double exponent = std::trunc(std::fmin(log2_ratio, 1000.0)) + 1;
    level_to += 100.0 / (ticks_per_half * std::pow(2.0, exponent));
  }

  const double max_value = max_ == 0 ? 0.0 : static_cast<double>(HighestEquivalent(max_));
  out += "#[Mean    = " + JavaFixed(HdrMean() / value_scale, digits, 12) +
         ", StdDeviation   = " + JavaFixed(HdrStdDeviation() / value_scale, digits, 12) + "]\n";
  out += "#[Max     = " + JavaFixed(max_value / value_scale, digits, 12) +
         ", Total count    = " + PaddedInt(total_count_, 12) + "]\n";
  out += "#[Buckets = " + PaddedInt(static_cast<uint64_t>(bucket_count_), 12) +
         ", SubBuckets     = " + PaddedInt(static_cast<uint64_t>(sub_bucket_count_), 12) + "]\n";
  return out;
}

nlohmann::json LatencyHistogram::ToJson() const {
  nlohmann::json counts = nlohmann::json::array();
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) {
      counts.push_back(nlohmann::json::array({static_cast<uint64_t>(i), counts_[i]}));
    }
  }
  nlohmann::json j;
  j["highest_trackable"] = highest_trackable_;
  j["significant_digits"] = significant_digits_;
  j["min"] = min();
  j["max"] = max();
  j["sum"] = sum_;
  j["saturated"] = saturated_count_;
  j["counts"] = std::move(counts);
  return j;
}

namespace {

// The scalar fields of a histogram's JSON, checked.
struct JsonHeader {
  int64_t highest = 0;
  int64_t digits = 0;
  int64_t min = 0;
  int64_t max = 0;
  uint64_t saturated = 0;
};

Result<JsonHeader> ReadJsonHeader(const nlohmann::json& j) {
  if (!j.is_object()) return JsonError("expected an object");
  for (const char* key :
       {"highest_trackable", "significant_digits", "min", "max", "sum", "saturated", "counts"}) {
    if (!j.contains(key)) return JsonError(std::string("missing '") + key + "'");
  }
  JsonHeader h;
  if (!GetInt64(j["highest_trackable"], &h.highest) || h.highest < 2) {
    return JsonError("'highest_trackable' must be an integer >= 2");
  }
  if (!GetInt64(j["significant_digits"], &h.digits) || h.digits < 1 || h.digits > 5) {
    return JsonError("'significant_digits' must be an integer from 1 to 5");
  }
  if (!GetInt64(j["min"], &h.min) || h.min < 0 || h.min > h.highest) {
    return JsonError("'min' must be an integer from 0 to highest_trackable");
  }
  if (!GetInt64(j["max"], &h.max) || h.max < 0 || h.max > h.highest) {
    return JsonError("'max' must be an integer from 0 to highest_trackable");
  }
  if (!j["sum"].is_number() || !(j["sum"].get<double>() >= 0)) {
    return JsonError("'sum' must be a non-negative number");
  }
  if (!GetUint64(j["saturated"], &h.saturated)) {
    return JsonError("'saturated' must be a non-negative integer");
  }
  if (!j["counts"].is_array()) return JsonError("'counts' must be an array of [index, count]");
  return h;
}

}  // namespace

// Reads the sparse [index, count] pairs into counts_; `first` and `last` are the lowest and
// highest non-empty indices. Requires: a fresh histogram.
Status LatencyHistogram::LoadJsonCounts(const nlohmann::json& counts, size_t* first, size_t* last) {
  uint64_t total = 0;
  for (size_t n = 0; n < counts.size(); ++n) {
    const nlohmann::json& entry = counts[n];
    uint64_t index = 0;
    uint64_t count = 0;
    if (!entry.is_array() || entry.size() != 2 || !GetUint64(entry[0], &index) ||
        !GetUint64(entry[1], &count)) {
      return JsonError("counts[" + std::to_string(n) +
                       "] must be [index, count] with non-negative integers");
    }
    if (index >= counts_.size()) {
      return JsonError("counts[" + std::to_string(n) + "] index " + std::to_string(index) +
                       " is out of range (0.." + std::to_string(counts_.size() - 1) + ")");
    }
    if (total != 0 && index <= *last) {
      return JsonError("counts[" + std::to_string(n) + "] index " + std::to_string(index) +
                       " is not above the previous index");
    }
    if (count == 0) continue;
    if (total + count < total) return JsonError("total count overflows");
    if (total == 0) *first = static_cast<size_t>(index);
    *last = static_cast<size_t>(index);
    counts_[*last] = count;
    total += count;
  }
  total_count_ = total;
  return Ok{};
}

Result<LatencyHistogram> LatencyHistogram::FromJson(const nlohmann::json& j) {
  Result<JsonHeader> header = ReadJsonHeader(j);
  if (!header.ok()) return header.error();
  const JsonHeader& hd = header.value();
  LatencyHistogram h(hd.highest, static_cast<int>(hd.digits));
  size_t first = 0;
  size_t last = 0;
  if (Status st = h.LoadJsonCounts(j["counts"], &first, &last); !st) return st.error();
  if (hd.saturated > h.total_count_) return JsonError("'saturated' exceeds the total count");
  if (h.total_count_ == 0) {
    if (hd.min != 0 || hd.max != 0) {
      return JsonError("'min' and 'max' must be 0 when counts is empty");
    }
    return h;
  }
  const int64_t first_value = h.ValueFromIndex(first);
  if (hd.min < first_value || hd.min > h.HighestEquivalent(first_value)) {
    return JsonError("'min' " + std::to_string(hd.min) + " is not in the lowest bucket");
  }
  const int64_t last_value = h.ValueFromIndex(last);
  if (hd.max < last_value || hd.max > h.HighestEquivalent(last_value)) {
    return JsonError("'max' " + std::to_string(hd.max) + " is not in the highest bucket");
  }
  h.saturated_count_ = hd.saturated;
  h.min_ = hd.min;
  h.max_ = hd.max;
  h.sum_ = j["sum"].get<double>();
  return h;
}

}  // namespace edgebench

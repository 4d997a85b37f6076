// Latency instruments, as Redis 7.0 keeps them (latency.c, and the
// per-command histograms of server.c):
//
// - LatencyHistogram: a log-linear histogram of nanosecond durations with
//   two significant digits, laid out as the hdr_histogram Redis records
//   command latencies in (lowest value 1 ns, highest 1 s, 2 significant
//   figures: 256 sub-buckets, 128 per half), so that the percentiles of INFO
//   latencystats and the buckets of LATENCY HISTOGRAM come out as Redis's.
//   Recording is one index computation and one increment; the counts are
//   allocated once, on the first record (CommandHistogram).
// - LatencyMonitor: the latency-monitor-threshold events ("command",
//   "fast-command", "expire-cycle", "aof-write", ...), 160 per-second
//   samples each (LATENCY LATEST / HISTORY / GRAPH / DOCTOR / RESET).
//
// Dependency rule (module server): standard library only here.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace setd::server {

class LatencyHistogram {
 public:
  // Redis's LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE (ns), 2 significant
  // figures.
  static constexpr int64_t kLowest = 1;
  static constexpr int64_t kHighest = 1000000000;
  static constexpr int kSubBucketHalfCountMagnitude = 7;
  static constexpr int kSubBucketHalfCount = 1 << kSubBucketHalfCountMagnitude;  // 128
  static constexpr int kSubBucketCount = 2 * kSubBucketHalfCount;                // 256
  static constexpr int kBucketCount = 23;                                        // 256 << 22 > 1e9
  static constexpr int kCountsLen = (kBucketCount + 1) * kSubBucketHalfCount;

  // Records one duration in nanoseconds, clamped to [kLowest, kHighest].
  void record(int64_t ns) {
    if (ns < kLowest) ns = kLowest;
    if (ns > kHighest) ns = kHighest;
    ++counts_[static_cast<size_t>(index_for(ns))];
    ++total_;
    sum_ += static_cast<uint64_t>(ns);
  }
  uint64_t total() const { return total_; }
  // The recorded durations added up (ns, after clamping): a Prometheus
  // histogram's _sum.
  uint64_t sum() const { return sum_; }

  // For each of `limits` (ns, ascending), how many recorded values are at
  // most that limit, at the histogram's resolution: the counts of every
  // cell up to and including the one `limit` falls in (a Prometheus
  // histogram's cumulative buckets). `out` gets limits.size() counts.
  void cumulative_counts(const int64_t* limits, size_t n, uint64_t* out) const;

  // The value at `percentile` (0..100), as hdr_value_at_percentile: the
  // highest value equivalent to the one where the cumulative count reaches
  // the percentile's share (the lowest equivalent for 0).
  int64_t value_at_percentile(double percentile) const;

  // LATENCY HISTOGRAM's buckets: (µs, cumulative count) at each power of two
  // from 1024 ns, as Redis reads them with hdr's logarithmic iterator; only
  // the buckets where the cumulative count grows.
  std::vector<std::pair<int64_t, uint64_t>> log2_buckets() const;

  // The layout's arithmetic (exposed for tests).
  static int index_for(int64_t value);
  static int64_t value_at_index(int index);
  static int64_t lowest_equivalent(int64_t value);
  static int64_t highest_equivalent(int64_t value);

 private:
  std::array<uint64_t, kCountsLen> counts_{};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
};

// A command's histogram, allocated on its first record. Copies start empty
// (command specs are copied while the table is built, never after).
class CommandHistogram {
 public:
  CommandHistogram() = default;
  CommandHistogram(const CommandHistogram&) {}
  CommandHistogram& operator=(const CommandHistogram&) {
    h_.reset();
    return *this;
  }
  CommandHistogram(CommandHistogram&&) noexcept = default;
  CommandHistogram& operator=(CommandHistogram&&) noexcept = default;

  void record(int64_t ns) {
    if (!h_) h_ = std::make_unique<LatencyHistogram>();
    h_->record(ns);
  }
  const LatencyHistogram* get() const { return h_.get(); }
  void reset() { h_.reset(); }

 private:
  std::unique_ptr<LatencyHistogram> h_;
};

// Redis's latency monitor: per event, the latest 160 samples (one per
// second, the highest of that second) and the all-time maximum.
class LatencyMonitor {
 public:
  static constexpr int kSamples = 160;  // LATENCY_TS_LEN
  struct Sample {
    int32_t time = 0;      // unix seconds; 0 = empty slot
    uint32_t latency = 0;  // ms
  };
  struct Series {
    int idx = 0;  // next slot to write
    uint32_t max = 0;
    std::array<Sample, kSamples> samples{};
  };

  // Adds a sample when the monitor is on (threshold > 0) and `ms` reaches
  // it (Redis's latencyAddSampleIfNeeded).
  void add_if_needed(std::string_view event, int64_t ms, long long threshold) {
    if (threshold > 0 && ms >= threshold) add(event, ms, now_seconds());
  }
  void add(std::string_view event, int64_t ms, int64_t now_s);
  // Drops one event (case-insensitively) or all (`event` empty with
  // `all`): how many were dropped.
  int reset(std::string_view event);
  int reset_all();

  const std::map<std::string, Series, std::less<>>& events() const { return events_; }
  const Series* find(std::string_view event) const;

  // LATENCY GRAPH's text for one event; LATENCY DOCTOR's report.
  std::string graph(const std::string& event, const Series& s, int64_t now_s) const;
  struct DoctorSettings {
    long long threshold = 0;            // latency-monitor-threshold (ms)
    long long slowlog_slower_than = 0;  // slowlog-log-slower-than (µs)
    bool fsync_always = false;          // appendfsync always
    long long hz = 10;
  };
  std::string doctor(int64_t now_s, const DoctorSettings& s) const;

  static int64_t now_seconds();

 private:
  std::map<std::string, Series, std::less<>> events_;
};

}  // namespace setd::server

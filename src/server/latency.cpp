#include "setd/server/latency.hpp"

#include <strings.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace setd::server {

// --- LatencyHistogram ---------------------------------------------------------
//
// The layout of an hdr_histogram with lowest discernible value 1 and two
// significant figures: bucket b holds 128 sub-buckets (256 for bucket 0) of
// width 2^b; value v lies in bucket floor(log2(v | 255)) - 7, sub-bucket
// v >> b, and counts index (b + 1) * 128 + sub - 128.

namespace {

int bucket_of(int64_t value) {
  const auto v = static_cast<uint64_t>(value) | 255u;
  return (64 - __builtin_clzll(v)) - (LatencyHistogram::kSubBucketHalfCountMagnitude + 1);
}

}  // namespace

int LatencyHistogram::index_for(int64_t value) {
  const int b = bucket_of(value);
  const auto sub = static_cast<int>(value >> b);
  return ((b + 1) << kSubBucketHalfCountMagnitude) + sub - kSubBucketHalfCount;
}

int64_t LatencyHistogram::value_at_index(int index) {
  int b = (index >> kSubBucketHalfCountMagnitude) - 1;
  int sub = (index & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
  if (b < 0) {
    sub -= kSubBucketHalfCount;
    b = 0;
  }
  return static_cast<int64_t>(sub) << b;
}

int64_t LatencyHistogram::lowest_equivalent(int64_t value) {
  const int b = bucket_of(value);
  return (value >> b) << b;
}

int64_t LatencyHistogram::highest_equivalent(int64_t value) {
  const int b = bucket_of(value);
  const int64_t sub = value >> b;
  const int width_bucket = sub >= kSubBucketCount ? b + 1 : b;
  return (sub << b) + (int64_t{1} << width_bucket) - 1;
}

int64_t LatencyHistogram::value_at_percentile(double percentile) const {
  const double requested = percentile < 100.0 ? percentile : 100.0;
  auto wanted = static_cast<int64_t>((requested / 100) * static_cast<double>(total_) + 0.5);
  if (wanted < 1) wanted = 1;
  int64_t value = 0;
  uint64_t seen = 0;
  for (int i = 0; i < kCountsLen; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= static_cast<uint64_t>(wanted)) {
      value = value_at_index(i);
      break;
    }
  }
  return percentile == 0.0 ? lowest_equivalent(value) : highest_equivalent(value);
}

void LatencyHistogram::cumulative_counts(const int64_t* limits, size_t n, uint64_t* out) const {
  // One walk over the counts: each limit's count is the running sum up to
  // the cell it falls in (a cell's values are within 1% of each other).
  uint64_t cumulative = 0;
  int next = 0;  // the first cell not yet added
  for (size_t j = 0; j < n; ++j) {
    int64_t limit = limits[j];
    if (limit < kLowest) {
      out[j] = 0;
      continue;
    }
    if (limit > kHighest) limit = kHighest;
    const int last = index_for(limit);
    for (; next <= last && next < kCountsLen; ++next)
      cumulative += counts_[static_cast<size_t>(next)];
    out[j] = cumulative;
  }
}

std::vector<std::pair<int64_t, uint64_t>> LatencyHistogram::log2_buckets() const {
  // hdr's logarithmic iteration from 1024 ns, base 2: each step walks the
  // counts until it reaches the first slot at or past the reporting level,
  // and reports the highest value equivalent to that slot and the count so
  // far; a walk off the end of the counts reports where it stopped.
  std::vector<std::pair<int64_t, uint64_t>> out;
  int index = -1;
  uint64_t cumulative = 0;
  int64_t value = 0;
  int64_t highest = 0;
  int64_t level = 1024;
  int64_t level_lowest = lowest_equivalent(level);
  uint64_t previous = 0;
  auto report = [&] {
    if (cumulative > previous) out.emplace_back(highest / 1000, cumulative);
    previous = cumulative;
  };
  for (;;) {
    const bool more =
        cumulative < total_ || (index < kCountsLen && value_at_index(index + 1) > level_lowest);
    if (!more) break;
    for (;;) {
      if (value >= level_lowest) {
        level *= 2;
        level_lowest = lowest_equivalent(level);
        break;
      }
      ++index;
      if (index >= kCountsLen) break;
      cumulative += counts_[static_cast<size_t>(index)];
      value = value_at_index(index);
      highest = highest_equivalent(value);
    }
    report();
  }
  return out;
}

// --- LatencyMonitor -----------------------------------------------------------

int64_t LatencyMonitor::now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

void LatencyMonitor::add(std::string_view event, int64_t ms, int64_t now_s) {
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.emplace(std::string(event), Series{}).first;
  Series& s = it->second;
  const auto latency = static_cast<uint32_t>(ms);
  if (latency > s.max) s.max = latency;
  // One sample per second: the highest of that second.
  Sample& prev = s.samples[static_cast<size_t>((s.idx + kSamples - 1) % kSamples)];
  if (prev.time == static_cast<int32_t>(now_s)) {
    if (latency > prev.latency) prev.latency = latency;
    return;
  }
  s.samples[static_cast<size_t>(s.idx)] = {static_cast<int32_t>(now_s), latency};
  s.idx = (s.idx + 1) % kSamples;
}

int LatencyMonitor::reset(std::string_view event) {
  int n = 0;
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->first.size() == event.size() &&
        strncasecmp(it->first.data(), event.data(), event.size()) == 0) {
      it = events_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

int LatencyMonitor::reset_all() {
  const int n = static_cast<int>(events_.size());
  events_.clear();
  return n;
}

const LatencyMonitor::Series* LatencyMonitor::find(std::string_view event) const {
  auto it = events_.find(event);
  return it == events_.end() ? nullptr : &it->second;
}

namespace {

// Redis's sparkline (sparkline.c), filled, with a label under each column.
struct Spark {
  double value;
  std::string label;
};

void render_range(std::string& out, const std::vector<Spark>& seq, double min, double max, int rows,
                  size_t offset, size_t len) {
  static constexpr char kFill[] = "_o#";
  constexpr int kCharsetLen = 3;
  constexpr int kLabelMarginTop = 1;
  double relmax = max - min;
  if (relmax == 0) relmax = 1;
  const int steps = kCharsetLen * rows;
  int row = 0;
  std::string chars(len, ' ');
  bool loop = true;
  while (loop) {
    loop = false;
    chars.assign(len, ' ');
    for (size_t j = 0; j < len; ++j) {
      const Spark& s = seq[j + offset];
      const double relval = s.value - min;
      int step = static_cast<int>(static_cast<double>(static_cast<int>(relval * steps)) / relmax);
      if (step < 0) step = 0;
      if (step >= steps) step = steps - 1;
      if (row < rows) {
        const int charidx = step - ((rows - row - 1) * kCharsetLen);
        loop = true;
        if (charidx >= 0 && charidx < kCharsetLen)
          chars[j] = kFill[charidx];
        else if (charidx >= kCharsetLen)
          chars[j] = '|';
      } else {
        // Every sample has a label: one blank line first.
        if (row - rows < kLabelMarginTop) {
          loop = true;
          break;
        }
        const int label_char = row - rows - kLabelMarginTop;
        if (static_cast<int>(s.label.size()) > label_char) {
          loop = true;
          chars[j] = s.label[static_cast<size_t>(label_char)];
        }
      }
    }
    if (loop) {
      ++row;
      out += chars;
      out += '\n';
    }
  }
}

}  // namespace

std::string LatencyMonitor::graph(const std::string& event, const Series& s, int64_t now_s) const {
  std::vector<Spark> seq;
  uint32_t min = 0, max = 0;
  double smin = 0, smax = 0;
  for (int j = 0; j < kSamples; ++j) {
    const Sample& sm = s.samples[static_cast<size_t>((s.idx + j) % kSamples)];
    if (sm.time == 0) continue;
    if (seq.empty()) {
      min = max = sm.latency;
    } else {
      if (sm.latency > max) max = sm.latency;
      if (sm.latency < min) min = sm.latency;
    }
    const auto elapsed = static_cast<int>(now_s - sm.time);
    char buf[64];
    if (elapsed < 60)
      std::snprintf(buf, sizeof(buf), "%ds", elapsed);
    else if (elapsed < 3600)
      std::snprintf(buf, sizeof(buf), "%dm", elapsed / 60);
    else if (elapsed < 3600 * 24)
      std::snprintf(buf, sizeof(buf), "%dh", elapsed / 3600);
    else
      std::snprintf(buf, sizeof(buf), "%dd", elapsed / (3600 * 24));
    const auto v = static_cast<double>(sm.latency);
    if (seq.empty()) {
      smin = smax = v;
    } else if (v < smin) {
      smin = v;
    } else if (v > smax) {
      smax = v;
    }
    seq.push_back({v, buf});
  }
  char head[256];
  std::snprintf(head, sizeof(head), "%s - high %lu ms, low %lu ms (all time high %lu ms)\n",
                event.c_str(), static_cast<unsigned long>(max), static_cast<unsigned long>(min),
                static_cast<unsigned long>(s.max));
  std::string out = head;
  out.append(80, '-');
  out += '\n';
  constexpr size_t kColumns = 80;
  for (size_t j = 0; j < seq.size(); j += kColumns) {
    const size_t sublen = std::min(kColumns, seq.size() - j);
    if (j != 0) out += '\n';
    render_range(out, seq, smin, smax, 4, j, sublen);
  }
  return out;
}

namespace {

// Anonymous huge pages of the process (Redis's THPGetAnonHugePagesSize).
long long anon_huge_pages() {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  long long total = 0;
  while (std::getline(in, line)) {
    if (line.rfind("AnonHugePages:", 0) == 0) total += std::atoll(line.c_str() + 14);
  }
  return total;
}

}  // namespace

std::string LatencyMonitor::doctor(int64_t now_s, const DoctorSettings& cfg) const {
  std::string report;
  if (events_.empty() && cfg.threshold == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
           "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
           "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
           "at https://redis.io/topics/latency-monitor.\n";
  }
  bool slowlog_enabled = false, slowlog_tuning = false, slowlog_inspect = false;
  bool disk_contention = false, scheduler = false, data_writeback = false, local_disk = false;
  bool ssd = false, hz = false, large_objects = false, relax_fsync = false, disable_thp = false;
  bool write_load_info = false;
  int advices = 0;
  int eventnum = 0;
  for (const auto& [event, ts] : events_) {
    ++eventnum;
    if (eventnum == 1)
      report +=
          "Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
          "about it, do you Dave?\n\n";
    // Redis's analyzeLatencyForEvent.
    uint32_t samples = 0, avg = 0, mad = 0;
    int64_t period = 0;
    uint64_t sum = 0;
    for (const Sample& sm : ts.samples) {
      if (sm.time == 0) continue;
      ++samples;
      sum += sm.latency;
      if (period == 0 || sm.time < period) period = sm.time;
    }
    if (samples) {
      avg = static_cast<uint32_t>(sum / samples);
      period = now_s - period;
      if (period == 0) period = 1;
    }
    sum = 0;
    for (const Sample& sm : ts.samples) {
      if (sm.time == 0) continue;
      int64_t delta = static_cast<int64_t>(avg) - sm.latency;
      if (delta < 0) delta = -delta;
      sum += static_cast<uint64_t>(delta);
    }
    if (samples) mad = static_cast<uint32_t>(sum / samples);
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f "
                  "sec). Worst all time event %lums.",
                  eventnum, event.c_str(), static_cast<int>(samples),
                  static_cast<unsigned long>(avg), static_cast<unsigned long>(mad),
                  static_cast<double>(period) / samples, static_cast<unsigned long>(ts.max));
    report += buf;
    const std::string& name_of_event = event;  // clang 14 can't capture a binding
    auto is = [&](const char* name) { return strcasecmp(name_of_event.c_str(), name) == 0; };
    if (is("command")) {
      if (cfg.slowlog_slower_than < 0) {
        slowlog_enabled = true;
        ++advices;
      } else if (cfg.slowlog_slower_than / 1000 > cfg.threshold) {
        slowlog_tuning = true;
        ++advices;
      }
      slowlog_inspect = large_objects = true;
      advices += 2;
    }
    if (is("fast-command")) {
      scheduler = true;
      ++advices;
    }
    if (is("aof-write-pending-fsync")) {
      local_disk = disk_contention = ssd = data_writeback = true;
      advices += 4;
    }
    if (is("aof-write-alone")) {
      local_disk = data_writeback = ssd = true;
      advices += 3;
    }
    if (is("aof-fsync-always")) {
      relax_fsync = true;
      ++advices;
    }
    if (is("aof-rename")) {
      write_load_info = data_writeback = ssd = local_disk = true;
      advices += 4;
    }
    if (is("expire-cycle")) {
      hz = large_objects = true;
      advices += 2;
    }
    report += '\n';
  }
  if (anon_huge_pages() > 0) {
    disable_thp = true;
    ++advices;
  }
  if (eventnum == 0 && advices == 0) {
    report +=
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
        "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, "
        "and think things over.\n";
    return report;
  }
  if (eventnum > 0 && advices == 0) {
    report +=
        "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please "
        "use the Redis community to get some help, providing this report in your help "
        "request.\n";
    return report;
  }
  report += "\nI have a few advices for you:\n\n";
  const std::string suggested =
      std::to_string(static_cast<unsigned long long>(cfg.threshold) * 1000);
  if (slowlog_enabled)
    report +=
        "- There are latency issues with potentially slow commands you are using. Try to enable "
        "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " +
        suggested +
        "'. If the Slow log is disabled Redis is not able to log slow commands execution for "
        "you.\n";
  if (slowlog_tuning)
    report +=
        "- Your current Slow Log configuration only logs events that are slower than your "
        "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " +
        suggested + "'.\n";
  if (slowlog_inspect)
    report +=
        "- Check your Slow Log to understand what are the commands you are running which are too "
        "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
  if (scheduler)
    report +=
        "- The system is slow to execute Redis code paths not containing system calls. This "
        "usually means the system does not provide Redis CPU time to run for long periods. You "
        "should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the same "
        "system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
        "your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if "
        "you are using Jemalloc. However this may create fragmentation problems.\n";
  if (local_disk)
    report +=
        "- It is strongly advised to use local disks for persistence, especially if you are "
        "using AOF. Remote disks provided by platform-as-a-service providers are known to be "
        "slow.\n";
  if (ssd)
    report +=
        "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and "
        "AOF log rewriting (resulting in smaller memory usage). With extremely high write load "
        "SSD disks can be a good option. However Redis should perform reasonably with high load "
        "using normal disks. Use this advice as a last resort.\n";
  if (data_writeback)
    report +=
        "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost "
        "compared to data=ordered, however this mode of operation provides less guarantees, and "
        "sometimes it can happen that after a hard crash the AOF file will have a half-written "
        "command at the end and will require to be repaired before Redis restarts.\n";
  if (disk_contention)
    report +=
        "- Try to lower the disk contention. This is often caused by other disk intensive "
        "processes running in the same computer (including other Redis instances).\n";
  if (relax_fsync && cfg.fsync_always)
    report +=
        "- Your fsync policy is set to 'always'. It is very hard to get good performances with "
        "such a setup, if possible try to relax the fsync policy to 'onesec'.\n";
  if (write_load_info)
    report +=
        "- Latency during the AOF atomic rename operation or when the final difference is "
        "flushed to the AOF file at the end of the rewrite, sometimes is caused by very high "
        "write load, causing the AOF buffer to get very large. If possible try to send less "
        "commands to accomplish the same work, or use Lua scripts to group multiple operations "
        "into a single EVALSHA call.\n";
  if (hz && cfg.hz < 100)
    report +=
        "- In order to make the Redis keys expiring process more incremental, try to set the "
        "'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
  if (large_objects)
    report +=
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, expired, or "
        "evicted, try to fragment those objects into multiple smaller objects.\n";
  if (disable_thp)
    report +=
        "- I detected a non zero amount of anonymous huge pages used by your process. This "
        "creates very serious latency events in different conditions, especially when Redis is "
        "persisting on disk. To disable THP support use the command 'echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into "
        "/etc/rc.local so that the command will be executed again after a reboot. Note that even "
        "if you have already disabled THP, you still need to restart the Redis process to get rid "
        "of the huge pages already created.\n";
  return report;
}

}  // namespace setd::server

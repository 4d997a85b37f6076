// The Prometheus exposition (cmd/metrics.hpp) rendered in-process: its
// shape (every family declared once with HELP and TYPE before its samples,
// counters suffixed _total, histograms cumulative up to +Inf = _count) and
// its figures (the same as INFO's), and the histogram's cumulative counts.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/cmd/metrics.hpp"

namespace setd::testing {
namespace {

struct Exposition {
  std::map<std::string, std::string> types;    // family -> type
  std::map<std::string, std::string> samples;  // "name{labels}" -> value
  std::vector<std::string> problems;
};

// The family a sample belongs to (histogram samples: their base name).
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

Exposition parse(const std::string& text) {
  Exposition e;
  std::set<std::string> helped;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      e.problems.push_back("no final newline");
      break;
    }
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("# HELP ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      if (!helped.insert(name).second) e.problems.push_back("HELP twice: " + name);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const size_t sp = line.find(' ', 7);
      const std::string name = line.substr(7, sp - 7);
      if (!helped.count(name)) e.problems.push_back("TYPE before HELP: " + name);
      if (!e.types.emplace(name, line.substr(sp + 1)).second)
        e.problems.push_back("TYPE twice: " + name);
      continue;
    }
    const size_t sp = line.rfind(' ');
    const std::string series = line.substr(0, sp);
    const std::string name = series.substr(0, series.find('{'));
    if (!name.starts_with("setd_")) e.problems.push_back("no setd_ prefix: " + line);
    const std::string fam = family_of(name, e.types);
    auto it = e.types.find(fam);
    if (it == e.types.end())
      e.problems.push_back("sample before its TYPE: " + line);
    else if (it->second == "counter" && !fam.ends_with("_total"))
      e.problems.push_back("counter without _total: " + fam);
    if (!e.samples.emplace(series, line.substr(sp + 1)).second)
      e.problems.push_back("sample twice: " + series);
  }
  return e;
}

TEST(Metrics, ShapeAndFiguresMatchTheServer) {
  Runner r;
  for (int i = 0; i < 5; ++i) r.run({"sadd", "s", std::to_string(i)});
  r.run({"set", "k", "v", "EX", "100"});
  r.run({"sismember", "s", "1"});
  r.run({"incr", "s"});  // WRONGTYPE
  r.run({"select", "3"});
  r.run({"sadd", "t", "a"});
  const std::string text =
      cmd::render_metrics(r.state(), r.dispatcher().registry(), r.dispatcher().replication());
  const Exposition e = parse(text);
  EXPECT_TRUE(e.problems.empty()) << ::testing::PrintToString(e.problems) << "\n" << text;

  auto at = [&](const std::string& series) {
    auto it = e.samples.find(series);
    return it == e.samples.end() ? "<missing " + series + ">" : it->second;
  };
  EXPECT_EQ(at("setd_db_keys{db=\"0\"}"), "2");
  EXPECT_EQ(at("setd_db_keys{db=\"3\"}"), "1");
  EXPECT_EQ(at("setd_db_keys{db=\"1\"}"), "0");
  EXPECT_EQ(at("setd_db_keys_expiring{db=\"0\"}"), "1");
  EXPECT_EQ(at("setd_command_calls_total{cmd=\"sadd\"}"), "6");
  EXPECT_EQ(at("setd_command_calls_total{cmd=\"incr\"}"), "1");
  EXPECT_EQ(at("setd_command_failed_calls_total{cmd=\"incr\"}"), "1");
  EXPECT_EQ(at("setd_errors_total{code=\"WRONGTYPE\"}"), "1");
  EXPECT_EQ(at("setd_error_replies_total"), "1");
  EXPECT_EQ(at("setd_replication_role{role=\"master\"}"), "1");
  EXPECT_EQ(at("setd_replication_role{role=\"replica\"}"), "0");
  EXPECT_EQ(e.types.at("setd_command_latency_seconds"), "histogram");
  EXPECT_EQ(e.types.at("setd_memory_used_bytes"), "gauge");
  EXPECT_GT(std::stoll(at("setd_memory_used_bytes")), 0);

  // sadd's histogram: cumulative, +Inf = _count = the calls.
  uint64_t previous = 0;
  for (const auto& b : cmd::kLatencyBuckets) {
    const std::string v =
        at(std::string("setd_command_latency_seconds_bucket{cmd=\"sadd\",le=\"") + b.le + "\"}");
    ASSERT_FALSE(v.starts_with("<missing")) << v;
    EXPECT_GE(std::stoull(v), previous) << b.le;
    previous = std::stoull(v);
  }
  EXPECT_EQ(at("setd_command_latency_seconds_bucket{cmd=\"sadd\",le=\"+Inf\"}"), "6");
  EXPECT_EQ(at("setd_command_latency_seconds_count{cmd=\"sadd\"}"), "6");
  EXPECT_GE(previous, 0u);

  // latency-tracking no: no histograms (as INFO latencystats).
  r.run({"config", "set", "latency-tracking", "no"});
  const std::string off =
      cmd::render_metrics(r.state(), r.dispatcher().registry(), r.dispatcher().replication());
  EXPECT_EQ(off.find("setd_command_latency_seconds_bucket"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(cmd::escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(cmd::escape_label_value("client|list"), "client|list");
}

TEST(LatencyHistogram, CumulativeCountsAtBucketLimits) {
  server::LatencyHistogram h;
  // 3 µs twice, 40 µs, 2 ms, and one past the highest value (clamped to 1 s).
  for (int64_t ns : std::initializer_list<int64_t>{3000, 3000, 40000, 2000000, 5000000000})
    h.record(ns);
  const int64_t limits[] = {1000, 2999, 3000, 50000, 1000000, 2000000, 990000000, 1000000000};
  uint64_t out[std::size(limits)] = {};
  h.cumulative_counts(limits, std::size(limits), out);
  // 2999 ns shares 3000's cell (width 16 at that magnitude: 2 digits).
  const uint64_t want[] = {0, 2, 2, 3, 3, 4, 4, 5};
  for (size_t i = 0; i < std::size(limits); ++i) EXPECT_EQ(out[i], want[i]) << limits[i];
  EXPECT_EQ(h.total(), 5u);
  EXPECT_EQ(h.sum(), 3000u + 3000u + 40000u + 2000000u + 1000000000u);
}

}  // namespace
}  // namespace setd::testing

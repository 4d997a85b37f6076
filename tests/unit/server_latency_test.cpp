// The latency histogram (hdr_histogram's layout with 2 significant figures,
// as Redis records command latencies in), the slow log's trimming, and the
// latency monitor's per-second samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string_view>
#include <vector>

#include "setd/server/config.hpp"
#include "setd/server/latency.hpp"
#include "setd/server/slowlog.hpp"

namespace setd::server {
namespace {

TEST(LatencyHistogram, LayoutMatchesHdrWithTwoSignificantFigures) {
  // Single-unit resolution below 256, then buckets of 128 sub-buckets whose
  // width doubles.
  EXPECT_EQ(LatencyHistogram::index_for(0), 0);
  EXPECT_EQ(LatencyHistogram::index_for(255), 255);
  EXPECT_EQ(LatencyHistogram::index_for(256), 256);
  EXPECT_EQ(LatencyHistogram::index_for(257), 256);
  EXPECT_EQ(LatencyHistogram::index_for(512), 384);
  EXPECT_EQ(LatencyHistogram::value_at_index(256), 256);
  EXPECT_EQ(LatencyHistogram::value_at_index(384), 512);
  // 1 µs (1000 ns): the bucket [1000, 1003], as Redis prints p50=1.003.
  EXPECT_EQ(LatencyHistogram::lowest_equivalent(1000), 1000);
  EXPECT_EQ(LatencyHistogram::highest_equivalent(1000), 1003);
  EXPECT_EQ(LatencyHistogram::highest_equivalent(1024), 1031);
  // The highest trackable value (1 s) still has a slot.
  EXPECT_LT(LatencyHistogram::index_for(LatencyHistogram::kHighest), LatencyHistogram::kCountsLen);
  // Every index maps back to a value that maps to it.
  for (int i = 0; i < LatencyHistogram::kCountsLen; ++i)
    ASSERT_EQ(LatencyHistogram::index_for(LatencyHistogram::value_at_index(i)), i) << i;
}

TEST(LatencyHistogram, PercentilesWithinTwoSignificantDigits) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(3.0, 1.5);  // µs, long tail
  LatencyHistogram h;
  std::vector<int64_t> ns;
  for (int i = 0; i < 200000; ++i) {
    const auto us = static_cast<int64_t>(dist(rng));
    ns.push_back(std::clamp<int64_t>(us * 1000, 1, LatencyHistogram::kHighest));
    h.record(us * 1000);
  }
  std::sort(ns.begin(), ns.end());
  EXPECT_EQ(h.total(), ns.size());
  for (const double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    // hdr's rule: the value where the cumulative count first reaches
    // round(p% of the total) (at least 1).
    auto rank = static_cast<int64_t>((p / 100) * static_cast<double>(ns.size()) + 0.5);
    rank = std::max<int64_t>(rank, 1);
    const int64_t exact = ns[static_cast<size_t>(rank - 1)];
    const int64_t got = h.value_at_percentile(p);
    // The same bucket: its lowest (p0) or highest equivalent value.
    if (p == 0.0)
      EXPECT_EQ(got, LatencyHistogram::lowest_equivalent(exact)) << p;
    else
      EXPECT_EQ(got, LatencyHistogram::highest_equivalent(exact)) << p;
    // Two significant digits: within 1/128 of the true value.
    EXPECT_LE(std::abs(static_cast<double>(got - exact)), static_cast<double>(exact) / 128.0 + 1)
        << p;
  }
}

TEST(LatencyHistogram, Log2BucketsAreCumulativeAtRedisLabels) {
  LatencyHistogram h;
  for (int i = 0; i < 10; ++i) h.record(1000);  // 1 µs
  for (int i = 0; i < 5; ++i) h.record(3000);   // 3 µs
  h.record(100000);                             // 100 µs
  const auto b = h.log2_buckets();
  // Labels are hdr's highest equivalents of 1024 * 2^k ns, in µs.
  const std::vector<std::pair<int64_t, uint64_t>> want = {{1, 10}, {4, 15}, {132, 16}};
  EXPECT_EQ(b, want);

  LatencyHistogram top;
  top.record(LatencyHistogram::kHighest);  // past the last reporting level
  const auto t = top.log2_buckets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].second, 1u);
  EXPECT_EQ(t[0].first, 1073741);

  LatencyHistogram empty;
  EXPECT_TRUE(empty.log2_buckets().empty());
}

TEST(CommandHistogram, AllocatedOnFirstRecordAndCopiedEmpty) {
  CommandHistogram c;
  EXPECT_EQ(c.get(), nullptr);
  c.record(5000);
  ASSERT_NE(c.get(), nullptr);
  EXPECT_EQ(c.get()->total(), 1u);
  CommandHistogram copy(c);
  EXPECT_EQ(copy.get(), nullptr);
  c.reset();
  EXPECT_EQ(c.get(), nullptr);
}

TEST(SlowLog, TrimsArgumentsAndLength) {
  SlowLog log;
  std::vector<std::string> owned;
  for (int i = 0; i < 40; ++i) owned.push_back(std::to_string(i));
  owned[1] = std::string(200, 'x');
  std::vector<std::string_view> args(owned.begin(), owned.end());
  log.push(args, 5, "127.0.0.1:1", "n", 2);
  ASSERT_EQ(log.entries().size(), 1u);
  const auto& e = log.entries().front();
  ASSERT_EQ(e.args.size(), 32u);
  EXPECT_EQ(e.args[1], std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_EQ(e.args[31], "... (9 more arguments)");
  log.push(args, 6, "a", "", 2);
  log.push(args, 7, "b", "", 2);
  ASSERT_EQ(log.entries().size(), 2u);
  EXPECT_EQ(log.entries().front().id, 2);
  EXPECT_EQ(log.entries().back().id, 1);
}

TEST(LatencyMonitor, OneSamplePerSecondKeepingTheHighest) {
  LatencyMonitor m;
  m.add("command", 10, 1000);
  m.add("command", 30, 1000);
  m.add("command", 20, 1000);
  m.add("command", 5, 1001);
  const auto* s = m.find("command");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->max, 30u);
  EXPECT_EQ(s->samples[0].latency, 30u);
  EXPECT_EQ(s->samples[1].latency, 5u);
  m.add_if_needed("fast-command", 1, 0);  // threshold 0: off
  EXPECT_EQ(m.find("fast-command"), nullptr);
  EXPECT_EQ(m.reset("COMMAND"), 1);
  EXPECT_EQ(m.reset_all(), 0);
}

TEST(Config, LatencyTrackingPercentilesAsRedis) {
  Config c;
  EXPECT_EQ(c.set("latency-tracking-info-percentiles", "0 50.5 99.999 100 1e1", true), "");
  auto got = c.get(std::vector<std::string_view>{"latency-tracking-info-percentiles"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, "0 50.5 99.999 100 10");
  EXPECT_EQ(c.set("latency-tracking-info-percentiles", "101", true),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
  EXPECT_EQ(c.set("latency-tracking-info-percentiles", "50  99", true),
            "Invalid latency-tracking-info-percentiles parameters");
  EXPECT_EQ(c.set("latency-tracking-info-percentiles", "", true), "");
  EXPECT_TRUE(c.settings().latency_tracking_info_percentiles.empty());
}

}  // namespace
}  // namespace setd::server

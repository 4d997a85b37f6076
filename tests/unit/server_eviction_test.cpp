// maxmemory in process: which keys each policy evicts, the OOM refusals,
// what an eviction propagates and notifies, and LFU counters.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"

namespace setd::testing {
namespace {

using V = std::vector<std::string>;

class Eviction : public ::testing::Test {
 protected:
  Eviction() { r.state().add_propagation_sink(server::kToAll, &sink); }
  ~Eviction() override {
    r.state().remove_propagation_sink(&sink);
    base::pin_now(-1);
    // The access mode is process-wide: leave it as a new server finds it.
    r.run({"CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction"});
  }
  std::string cfg(std::string_view name, std::string_view value) {
    return r.run({"CONFIG", "SET", name, value}).str;
  }
  long long evicted() { return static_cast<long long>(r.state().stats().evicted_keys); }
  // A limit `bytes` under what is allocated now: the next command evicts.
  void squeeze(size_t bytes) {
    const size_t now = base::alloc::allocated();
    ASSERT_GT(now, bytes);
    cfg("maxmemory", std::to_string(now - bytes));
  }
  size_t count_prefix(std::string_view prefix) {
    size_t n = 0;
    r.state().db(0).for_each([&](std::string_view key, const db::Value&) {
      if (key.starts_with(prefix)) ++n;
    });
    return n;
  }
  Runner r;
  PropagationCapture sink;
};

TEST_F(Eviction, AllkeysLruEvictsTheIdlestKeys) {
  const int64_t t0 = base::system_ms();
  base::pin_now(t0);
  for (int i = 0; i < 2000; ++i) r.run({"SET", "cold:" + std::to_string(i), "v"});
  base::pin_now(t0 + 600 * 1000);  // ten minutes later
  for (int i = 0; i < 2000; ++i) r.run({"SET", "hot:" + std::to_string(i), "v"});
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-lru"), "OK");
  ASSERT_EQ(cfg("maxmemory-samples", "10"), "OK");
  squeeze(40 * 1000);
  r.run({"PING"});
  const size_t cold = count_prefix("cold:"), hot = count_prefix("hot:");
  const size_t gone = 4000 - cold - hot;
  // 40 KB is some 250 keys here, fewer under ASan (bigger allocations).
  EXPECT_GT(gone, 100u);
  EXPECT_EQ(static_cast<long long>(gone), evicted());
  // Sampling is approximate, but with 10 samples and a pool nearly every
  // victim is one of the idle half.
  EXPECT_GE(2000 - cold, gone * 95 / 100) << "cold " << cold << " hot " << hot;
}

TEST_F(Eviction, AllkeysLfuKeepsTheFrequentlyUsedKeys) {
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-lfu"), "OK");
  ASSERT_EQ(cfg("lfu-log-factor", "0"), "OK");  // every access counts
  for (int i = 0; i < 2000; ++i) r.run({"SET", "rare:" + std::to_string(i), "v"});
  for (int i = 0; i < 2000; ++i) {
    const std::string k = "often:" + std::to_string(i);
    r.run({"SET", k, "v"});
    for (int j = 0; j < 5; ++j) r.run({"GET", k});
  }
  EXPECT_EQ(r.run({"OBJECT", "FREQ", "often:1"}).integer, 10);
  EXPECT_EQ(r.run({"OBJECT", "FREQ", "rare:1"}).integer, 5);
  EXPECT_EQ(r.run({"OBJECT", "IDLETIME", "rare:1"}).str,
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some time to "
            "adjust.");
  ASSERT_EQ(cfg("maxmemory-samples", "10"), "OK");
  squeeze(40 * 1000);
  r.run({"PING"});
  const size_t rare = count_prefix("rare:"), often = count_prefix("often:");
  const size_t gone = 4000 - rare - often;
  // 40 KB is some 250 keys here, fewer under ASan (bigger allocations).
  EXPECT_GT(gone, 100u);
  EXPECT_GE(2000 - rare, gone * 95 / 100) << "rare " << rare << " often " << often;
}

TEST_F(Eviction, LfuCounterDecaysWithTime) {
  const int64_t t0 = base::system_ms();
  base::pin_now(t0);
  ASSERT_EQ(cfg("maxmemory-policy", "volatile-lfu"), "OK");
  ASSERT_EQ(cfg("lfu-log-factor", "0"), "OK");
  r.run({"SET", "k", "v"});
  for (int j = 0; j < 20; ++j) r.run({"GET", "k"});
  EXPECT_EQ(r.run({"OBJECT", "FREQ", "k"}).integer, 25);
  base::pin_now(t0 + 10 * 60 * 1000);  // 10 periods of lfu-decay-time 1
  EXPECT_EQ(r.run({"OBJECT", "FREQ", "k"}).integer, 15);
  ASSERT_EQ(cfg("lfu-decay-time", "0"), "OK");  // no decay
  EXPECT_EQ(r.run({"OBJECT", "FREQ", "k"}).integer, 25);
  // Not LFU: Redis's error.
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-lru"), "OK");
  EXPECT_TRUE(r.run({"OBJECT", "FREQ", "k"}).str.starts_with("ERR An LFU maxmemory policy is not"));
}

TEST_F(Eviction, VolatileTtlEvictsTheSoonestToExpire) {
  for (int i = 0; i < 1000; ++i) r.run({"SET", "keep:" + std::to_string(i), "v"});
  for (int i = 0; i < 1000; ++i) r.run({"SET", "soon:" + std::to_string(i), "v", "EX", "1000"});
  for (int i = 0; i < 1000; ++i) r.run({"SET", "late:" + std::to_string(i), "v", "EX", "100000"});
  ASSERT_EQ(cfg("maxmemory-policy", "volatile-ttl"), "OK");
  ASSERT_EQ(cfg("maxmemory-samples", "10"), "OK");
  squeeze(5 * 1000);
  r.run({"PING"});
  EXPECT_EQ(count_prefix("keep:"), 1000u);  // no TTL: never a candidate
  const size_t gone = 2000 - count_prefix("soon:") - count_prefix("late:");
  EXPECT_GT(gone, 50u);
  EXPECT_GE(1000 - count_prefix("soon:"), gone * 95 / 100) << gone;
}

TEST_F(Eviction, VolatilePoliciesRefuseWhenNoKeyHasATtl) {
  for (const char* policy : {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    SCOPED_TRACE(policy);
    r.run({"FLUSHALL"});
    for (int i = 0; i < 500; ++i) r.run({"SET", "plain:" + std::to_string(i), "v"});
    r.run({"SET", "ttl:1", "v", "EX", "100"});
    ASSERT_EQ(cfg("maxmemory-policy", policy), "OK");
    squeeze(20 * 1000);
    EXPECT_EQ(r.run({"SET", "x", "y"}).str,
              "OOM command not allowed when used memory > 'maxmemory'.");
    EXPECT_EQ(count_prefix("plain:"), 500u);
    EXPECT_EQ(count_prefix("ttl:"), 0u);  // the one candidate went first
    cfg("maxmemory", "0");
  }
}

TEST_F(Eviction, RandomPoliciesEvict) {
  for (int i = 0; i < 1000; ++i) r.run({"SET", "plain:" + std::to_string(i), "v"});
  for (int i = 0; i < 1000; ++i) r.run({"SET", "ttl:" + std::to_string(i), "v", "EX", "100"});
  ASSERT_EQ(cfg("maxmemory-policy", "volatile-random"), "OK");
  squeeze(10 * 1000);
  r.run({"PING"});
  EXPECT_EQ(count_prefix("plain:"), 1000u);
  EXPECT_LT(count_prefix("ttl:"), 1000u);
  cfg("maxmemory", "0");
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-random"), "OK");
  squeeze(10 * 1000);
  r.run({"PING"});
  EXPECT_LT(count_prefix("plain:"), 1000u);
}

TEST_F(Eviction, NoevictionRefusesDenyOomCommandsOnly) {
  r.run({"SET", "a", "1"});
  r.run({"SADD", "s", "m"});
  squeeze(1);
  const std::string oom = "OOM command not allowed when used memory > 'maxmemory'.";
  EXPECT_EQ(r.run({"SET", "b", "2"}).str, oom);
  EXPECT_EQ(r.run({"SADD", "s", "n"}).str, oom);
  EXPECT_EQ(r.run({"GET", "a"}).str, "1");
  EXPECT_EQ(r.run({"SREM", "s", "m"}).integer, 1);  // not deny-oom
  EXPECT_EQ(r.run({"DEL", "a"}).integer, 1);
  // Queuing is refused (and fails the transaction); EXEC then aborts.
  EXPECT_EQ(r.run({"MULTI"}).str, "OK");
  EXPECT_EQ(r.run({"GET", "a"}).str, oom);
  EXPECT_EQ(r.run({"EXEC"}).str, "EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(r.state().stats().evicted_keys, 0u);
  // A script's first deny-oom command is refused; reads run.
  EXPECT_EQ(r.run({"EVAL", "return redis.call('set','x','y')", "0"}).str,
            oom + " script: 71e6319f97b0fe8bdfa1c5df3ce4489946dda479, on @user_script:1.");
  EXPECT_EQ(r.run({"EVAL", "return redis.call('get','nope')", "0"}).kind,
            proto::RespValue::Kind::kNull);
  EXPECT_EQ(r.run({"EVAL", "#!lua\nreturn 1", "0"}).str, oom);
  EXPECT_EQ(r.run({"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"}).str,
            "OK");
  EXPECT_EQ(r.run({"EVAL", "#!lua flags=no-writes\nreturn 1", "0"}).integer, 1);
}

TEST_F(Eviction, EvictionsPropagateDelsAndNotify) {
  cfg("notify-keyspace-events", "Ee");
  auto& sub = r.new_client();
  r.run_as(sub, {"SUBSCRIBE", "__keyevent@0__:evicted"});
  r.drain(sub);
  for (int i = 0; i < 500; ++i) r.run({"SET", "k:" + std::to_string(i), "v"});
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-random"), "OK");
  sink.take();
  squeeze(5000);
  r.run({"PING"});
  const auto effects = sink.take();
  ASSERT_FALSE(effects.empty());
  EXPECT_EQ(static_cast<long long>(effects.size()), evicted());
  for (const auto& e : effects) EXPECT_TRUE(e.starts_with("0: DEL k:")) << e;  // no MULTI
  const auto messages = r.drain(sub);
  EXPECT_EQ(static_cast<long long>(messages.size()), evicted());
  const std::string info = r.run({"INFO", "stats"}).str;
  EXPECT_NE(info.find("evicted_keys:" + std::to_string(evicted()) + "\r\n"), std::string::npos);
}

TEST_F(Eviction, LazyEvictionPropagatesUnlinkAndFreesBigSetsInTheBackground) {
  ASSERT_EQ(cfg("lazyfree-lazy-eviction", "yes"), "OK");
  std::vector<std::string> sadd = {"SADD", "big"};
  for (int i = 0; i < 1000; ++i) sadd.push_back("m" + std::to_string(i));
  r.run(sadd);
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-lru"), "OK");
  sink.take();
  squeeze(1000);
  r.run({"PING"});
  EXPECT_EQ(sink.take(), (V{"0: UNLINK big"}));
  EXPECT_EQ(evicted(), 1);
  r.state().lazyfree().drain();
  EXPECT_EQ(r.state().lazyfree().freed(), 1u);
  cfg("lazyfree-lazy-eviction", "no");
}

TEST_F(Eviction, LoweringMaxmemoryEvictsAtOnce) {
  for (int i = 0; i < 500; ++i) r.run({"SET", "k:" + std::to_string(i), "v"});
  ASSERT_EQ(cfg("maxmemory-policy", "allkeys-lru"), "OK");
  const size_t now = base::alloc::allocated();
  ASSERT_EQ(cfg("maxmemory", std::to_string(now - 5000)), "OK");
  EXPECT_GT(evicted(), 0);
}

}  // namespace
}  // namespace setd::testing

// maxmemory beside redis-server 7.0: the directives and their validation,
// the OOM refusals (commands, transactions, scripts), LFU counters, which
// keys LRU eviction picks, what replicas and dumps see of evictions.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

class EvictionVsRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
    setd_ = std::make_unique<ServerProcess>(setd_binary());
    redis_ = std::make_unique<ServerProcess>("redis-server");
  }
  // Sends each command to both servers; every reply must be the same.
  void same(Client& s, Client& r, const std::vector<std::vector<std::string>>& cmds) {
    for (const auto& cmd : cmds) {
      std::string line;
      for (const auto& a : cmd) line += a + " ";
      const RespValue mine = s.call(cmd), theirs = r.call(cmd);
      EXPECT_EQ(mine.to_string(), theirs.to_string()) << line;
    }
  }
  std::unique_ptr<ServerProcess> setd_, redis_;
};

TEST_F(EvictionVsRedis, DirectivesAndValidation) {
  Client s(setd_->port()), r(redis_->port());
  std::vector<std::vector<std::string>> cmds;
  for (const char* name :
       {"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity",
        "lfu-log-factor", "lfu-decay-time", "replica-ignore-maxmemory", "slave-ignore-maxmemory"})
    cmds.push_back({"CONFIG", "GET", name});
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"maxmemory", "-1"},
                                                        {"maxmemory", "1x"},
                                                        {"maxmemory", "10mb"},
                                                        {"maxmemory", "1G"},
                                                        {"maxmemory-policy", "foo"},
                                                        {"maxmemory-policy", "ALLKEYS-LFU"},
                                                        {"maxmemory-samples", "0"},
                                                        {"maxmemory-samples", "64"},
                                                        {"maxmemory-eviction-tenacity", "101"},
                                                        {"maxmemory-eviction-tenacity", "100"},
                                                        {"lfu-log-factor", "-1"},
                                                        {"lfu-decay-time", "x"},
                                                        {"replica-ignore-maxmemory", "maybe"},
                                                        {"slave-ignore-maxmemory", "no"}}) {
    cmds.push_back({"CONFIG", "SET", name, value});
    cmds.push_back({"CONFIG", "GET", name});
  }
  cmds.push_back({"CONFIG", "SET", "maxmemory", "0"});
  same(s, r, cmds);
  // INFO memory shows the limit and the policy.
  for (Client* c : {&s, &r}) {
    const auto m = info_map(*c, "memory");
    EXPECT_EQ(field(m, "maxmemory"), "0");
    EXPECT_EQ(field(m, "maxmemory_human"), "0B");
    EXPECT_EQ(field(m, "maxmemory_policy"), "allkeys-lfu");
  }
}

TEST_F(EvictionVsRedis, OomRefusalsAsRedis) {
  for (int resp : {2, 3}) {
    SCOPED_TRACE("RESP" + std::to_string(resp));
    Client s(setd_->port()), r(redis_->port());
    Client s2(setd_->port()), r2(redis_->port());
    for (Client* c : {&s, &r}) c->call({"HELLO", std::to_string(resp)});
    same(s, r,
         {{"FLUSHALL"},
          {"SET", "a", "1"},
          {"SADD", "s", "m1", "m2"},
          {"MULTI"},
          {"SET", "queued", "before"},
          {"CONFIG", "SET", "maxmemory-policy", "noeviction"}});
    // Over the limit from elsewhere: the queued deny-oom command fails EXEC.
    for (Client* c : {&s2, &r2}) ASSERT_EQ(c->call({"CONFIG", "SET", "maxmemory", "1"}).str, "OK");
    same(s, r,
         {{"EXEC"},
          {"SET", "b", "2"},
          {"SADD", "s", "m3"},
          {"SETNX", "c", "1"},
          {"INCR", "a"},
          {"APPEND", "a", "x"},
          {"SMOVE", "s", "t", "m1"},
          {"SUNIONSTORE", "u", "s"},
          {"GET", "a"},
          {"SMEMBERS", "s"},
          {"SREM", "s", "m2"},
          {"EXPIRE", "a", "100"},
          {"DEL", "a"},
          {"MULTI"},
          {"GET", "a"},
          {"EXEC"},
          {"MULTI"},
          {"DISCARD"},
          {"EVAL", "return redis.call('set','x','y')", "0"},
          {"EVAL", "return redis.pcall('sadd','x','y')", "0"},
          {"EVAL", "return redis.call('get','x')", "0"},
          {"EVAL", "redis.call('del','nope'); return redis.call('set','x','y')", "0"},
          {"EVAL", "#!lua\nreturn 1", "0"},
          {"EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"},
          {"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"},
          {"EVAL", "#!lua flags=allow-oom\nreturn redis.call('sadd','x2','y')", "0"},
          {"EVAL_RO", "return redis.call('get','x')", "0"},
          {"PING"},
          {"CONFIG", "SET", "maxmemory", "0"},
          {"SET", "b", "2"}});
  }
}

TEST_F(EvictionVsRedis, ObjectFreqAndIdletimeAsRedis) {
  Client s(setd_->port()), r(redis_->port());
  same(s, r,
       {{"SET", "k", "v"},
        {"OBJECT", "FREQ", "k"},
        {"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"},
        {"CONFIG", "SET", "lfu-log-factor", "0"},
        {"SET", "k2", "v"},
        {"OBJECT", "FREQ", "k2"},
        {"GET", "k2"},
        {"GET", "k2"},
        {"SADD", "s", "a"},
        {"SISMEMBER", "s", "a"},
        {"OBJECT", "FREQ", "k2"},
        {"OBJECT", "FREQ", "s"},
        {"OBJECT", "FREQ", "missing"},
        {"OBJECT", "IDLETIME", "k2"},
        {"EXISTS", "k2"},
        {"TYPE", "k2"},
        {"OBJECT", "FREQ", "k2"},
        {"SET", "k2", "w"},
        {"OBJECT", "FREQ", "k2"},
        {"CONFIG", "SET", "maxmemory-policy", "volatile-lfu"},
        {"OBJECT", "FREQ", "k2"},
        {"CONFIG", "SET", "maxmemory-policy", "volatile-lru"},
        {"OBJECT", "FREQ", "k2"},
        // Shared integers are not used with maxmemory under LRU/LFU.
        {"SET", "n1", "100"},
        {"OBJECT", "REFCOUNT", "n1"},
        {"CONFIG", "SET", "maxmemory", "1gb"},
        {"SET", "n2", "100"},
        {"OBJECT", "REFCOUNT", "n2"},
        {"OBJECT", "ENCODING", "n2"},
        {"CONFIG", "SET", "maxmemory-policy", "volatile-random"},
        {"SET", "n3", "100"},
        {"OBJECT", "REFCOUNT", "n3"},
        {"CONFIG", "SET", "maxmemory", "0"}});
  // The LFU field read as an LRU clock: the same (time-dependent) figure.
  EXPECT_NEAR(static_cast<double>(s.call({"OBJECT", "IDLETIME", "k2"}).integer),
              static_cast<double>(r.call({"OBJECT", "IDLETIME", "k2"}).integer), 2);
  // RESTORE FREQ applies under LFU, IDLETIME under the others.
  const std::string payload = s.call({"DUMP", "k"}).str;
  ASSERT_EQ(payload, r.call({"DUMP", "k"}).str);
  same(s, r,
       {{"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"},
        {"RESTORE", "f", "0", payload, "FREQ", "77"},
        {"OBJECT", "FREQ", "f"},
        {"RESTORE", "f2", "0", payload, "IDLETIME", "1000"},
        {"OBJECT", "FREQ", "f2"},
        {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"},
        {"RESTORE", "i", "0", payload, "IDLETIME", "1000"},
        {"OBJECT", "IDLETIME", "i"},
        {"RESTORE", "i2", "0", payload, "FREQ", "3"},
        {"OBJECT", "IDLETIME", "i2"}});
}

// Both servers get idle keys and recent keys, then a limit under what they
// use: each evicts (nearly) only idle keys, in the same proportions.
TEST_F(EvictionVsRedis, AllkeysLruEvictsIdleKeysLikeRedis) {
  Client s(setd_->port()), r(redis_->port());
  const std::string value(100, 'v');
  auto fill = [&](const std::string& prefix) {
    for (Client* c : {&s, &r}) {
      std::vector<std::vector<std::string>> cmds;
      for (int i = 0; i < 3000; ++i) cmds.push_back({"SET", prefix + std::to_string(i), value});
      pipeline(*c, cmds);
    }
  };
  fill("cold:");
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  fill("hot:");
  double cold_share[2] = {0, 0};
  Client* clients[2] = {&s, &r};
  for (int i = 0; i < 2; ++i) {
    Client& c = *clients[i];
    ASSERT_EQ(c.call({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}).str, "OK");
    const long long used = std::stoll(field(info_map(c, "memory"), "used_memory"));
    ASSERT_EQ(c.call({"CONFIG", "SET", "maxmemory", std::to_string(used - 150 * 1000)}).str, "OK");
    c.call({"PING"});
    long long cold = 0, hot = 0;
    for (int k = 0; k < 3000; ++k) {
      cold += c.call({"EXISTS", "cold:" + std::to_string(k)}).integer;
      hot += c.call({"EXISTS", "hot:" + std::to_string(k)}).integer;
    }
    const long long gone = 6000 - cold - hot;
    EXPECT_GT(gone, 300) << i;
    // Later commands may evict a few more (memory moves with buffers).
    const long long evicted = std::stoll(field(info_map(c, "stats"), "evicted_keys"));
    EXPECT_NEAR(static_cast<double>(evicted), static_cast<double>(gone), 30) << i;
    cold_share[i] = static_cast<double>(3000 - cold) / static_cast<double>(gone);
  }
  EXPECT_GT(cold_share[0], 0.9) << "setd";
  EXPECT_GT(cold_share[1], 0.9) << "redis";
  EXPECT_NEAR(cold_share[0], cold_share[1], 0.1);
}

TEST_F(EvictionVsRedis, EvictedEventsAsRedis) {
  Client s(setd_->port()), r(redis_->port());
  Client ss(setd_->port()), rs(redis_->port());
  for (Client* c : {&s, &r}) {
    ASSERT_EQ(c->call({"CONFIG", "SET", "notify-keyspace-events", "KEe"}).str, "OK");
    ASSERT_EQ(c->call({"SET", "only", "v"}).str, "OK");
  }
  for (Client* c : {&ss, &rs}) c->call({"PSUBSCRIBE", "__key*__:*"});
  for (Client* c : {&s, &r}) {
    ASSERT_EQ(c->call({"CONFIG", "SET", "maxmemory-policy", "allkeys-random"}).str, "OK");
    ASSERT_EQ(c->call({"CONFIG", "SET", "maxmemory", "1"}).str, "OK");
    c->call({"PING"});
  }
  for (int i = 0; i < 2; ++i) {
    const RespValue mine = *ss.read(), theirs = *rs.read();
    EXPECT_EQ(mine.to_string(), theirs.to_string());
  }
  EXPECT_EQ(s.call({"DBSIZE"}).integer, 0);
}

// A master's evictions reach its replica as DELs; the replica (which
// ignores maxmemory) ends with the master's data.
TEST(EvictionReplication, EvictionsReachReplicasAsDels) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (NodeKind replica_kind : {NodeKind::kSetd, NodeKind::kRedis}) {
    SCOPED_TRACE(kind_name(replica_kind));
    Node m(NodeKind::kSetd, {{"repl-diskless-sync-delay", "0"}});
    Node rep(replica_kind);
    ASSERT_TRUE(replicaof(rep, m));
    ASSERT_TRUE(wait_synced(m, rep));
    std::vector<std::vector<std::string>> cmds;
    for (int i = 0; i < 3000; ++i)
      cmds.push_back({"SADD", "set:" + std::to_string(i), "a", "b", std::to_string(i)});
    pipeline(m.client(), cmds);
    ASSERT_EQ(m.call({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}).str, "OK");
    const long long used = info_int(m.client(), "used_memory", "memory");
    ASSERT_EQ(m.call({"CONFIG", "SET", "maxmemory", std::to_string(used - 100 * 1000)}).str, "OK");
    // Writes past the limit keep evicting.
    for (int i = 0; i < 500; ++i) m.call({"SADD", "new:" + std::to_string(i), "x"});
    const long long evicted = info_int(m.client(), "evicted_keys", "stats");
    EXPECT_GT(evicted, 0);
    // No more evictions while the two are compared.
    ASSERT_EQ(m.call({"CONFIG", "SET", "maxmemory", "0"}).str, "OK");
    ASSERT_TRUE(wait_acked(m, 1));
    ASSERT_TRUE(wait_until(
        [&] { return rep.call({"DBSIZE"}).integer == m.call({"DBSIZE"}).integer; }, 5000))
        << rep.call({"DBSIZE"}).integer << " vs " << m.call({"DBSIZE"}).integer;
    EXPECT_TRUE(same_digest(m, rep));
    EXPECT_EQ(info_int(rep.client(), "evicted_keys", "stats"), 0);
  }
}

// Dumps record idle times under LRU policies and LFU counters under LFU
// ones, as Redis's; each server reads the other's.
TEST(EvictionDumps, IdleAndFreqCrossBothWays) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (const char* policy : {"allkeys-lru", "allkeys-lfu"}) {
    SCOPED_TRACE(policy);
    const bool lfu = std::string(policy) == "allkeys-lfu";
    for (bool setd_writes : {true, false}) {
      SCOPED_TRACE(setd_writes ? "setd writes" : "redis writes");
      TempDir dir;
      const std::vector<std::string> opts = {"--maxmemory-policy", policy, "--dir", dir.path()};
      std::string dump;
      {
        ServerProcess w(setd_writes ? setd_binary() : "redis-server", opts);
        Client c(w.port());
        ASSERT_EQ(c.call({"SET", "k", "v"}).str, "OK");
        ASSERT_EQ(c.call({"SADD", "s", "1", "2"}).integer, 2);
        const std::string payload = c.call({"DUMP", "k"}).str;
        ASSERT_EQ(
            c.call({"RESTORE", "old", "0", payload, lfu ? "FREQ" : "IDLETIME", lfu ? "42" : "5000"})
                .str,
            "OK");
        ASSERT_EQ(c.call({"SAVE"}).str, "OK");
      }
      if (setd_writes) {
        const std::string check = shell("redis-check-rdb " + dir.path() + "/dump.rdb 2>&1");
        EXPECT_NE(check.find("RDB looks OK"), std::string::npos) << check;
      }
      ServerProcess rd(setd_writes ? "redis-server" : setd_binary(), opts);
      Client c(rd.port());
      EXPECT_EQ(c.call({"DBSIZE"}).integer, 3);
      if (lfu) {
        EXPECT_EQ(c.call({"OBJECT", "FREQ", "old"}).integer, 42);
        EXPECT_EQ(c.call({"OBJECT", "FREQ", "k"}).integer, 6);  // DUMP counted
      } else {
        EXPECT_GE(c.call({"OBJECT", "IDLETIME", "old"}).integer, 5000);
        EXPECT_LT(c.call({"OBJECT", "IDLETIME", "k"}).integer, 100);
      }
    }
  }
}

}  // namespace
}  // namespace setd::testing

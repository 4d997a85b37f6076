// Lazy freeing beside redis-server 7.0: UNLINK, FLUSHDB / FLUSHALL ASYNC and
// the lazyfree-lazy-user-* directives free big values and whole databases
// in the background, and INFO counts them as Redis does.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

long long lazyfreed(Client& c) { return info_int(c, "lazyfreed_objects", "memory"); }

// Waits until the background thread is done, then reads the counter.
long long settled(Client& c) {
  wait_until([&] { return info_int(c, "lazyfree_pending_objects", "memory") == 0; }, 3000);
  return lazyfreed(c);
}

void big_set(Client& c, const std::string& key, int members) {
  std::vector<std::string> cmd = {"SADD", key};
  for (int i = 0; i < members; ++i) cmd.push_back("m" + std::to_string(i));
  c.call(cmd);
}

TEST(LazyFreeVsRedis, CountsAsRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  for (Client* c : {&s, &r}) {
    big_set(*c, "big", 1000);
    big_set(*c, "small", 10);  // freed at once: not counted
    c->call({"SET", "str", "v"});
  }
  std::vector<std::vector<std::string>> steps = {
      {"UNLINK", "big", "small", "str", "missing"},
      {"CONFIG", "SET", "lazyfree-lazy-user-del", "yes"},
      {"SADD", "x", "1"},
      {"DEL", "x"},
      {"FLUSHALL", "ASYNC"},
      {"CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"},
      {"FLUSHDB"},
      {"FLUSHALL", "SYNC"},
      {"CONFIG", "GET", "lazyfree-lazy-user-del"},
      {"CONFIG", "GET", "lazyfree-lazy-user-flush"},
      {"CONFIG", "SET", "lazyfree-lazy-user-flush", "maybe"},
      {"CONFIG", "RESETSTAT"}};
  for (const auto& step : steps) {
    SCOPED_TRACE(step[0] + " " + step.back());
    // Something for DEL and the flushes to free.
    for (Client* c : {&s, &r}) {
      if (step[0] == "DEL") big_set(*c, "x", 200);
      if (step[0].starts_with("FLUSH")) {
        std::vector<std::vector<std::string>> cmds;
        for (int i = 0; i < 100; ++i) cmds.push_back({"SET", "k" + std::to_string(i), "v"});
        pipeline(*c, cmds);
      }
    }
    EXPECT_EQ(s.call(step).to_string(), r.call(step).to_string());
    EXPECT_EQ(settled(s), settled(r));
  }
  EXPECT_EQ(s.call({"DBSIZE"}).integer, 0);
}

// lazyfree-lazy-server-del and lazyfree-lazy-expire: implicit deletes
// (overwrites, RENAME's destination, *STORE destinations) and expiries free
// big values in the background exactly where Redis 7.0 does; DEL stays
// synchronous. Both servers count the same lazyfreed_objects after each step.
TEST(LazyFreeVsRedis, ServerDelAndExpireCountAsRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), as_redis70({}));
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  using Step = std::vector<std::string>;
  // Each step: the big sets it needs first, then the command.
  const std::vector<std::pair<std::vector<std::string>, Step>> steps = {
      {{"a"}, {"SET", "a", "v"}},  // lazy-server-del off: freed at once
      {{}, {"CONFIG", "SET", "lazyfree-lazy-server-del", "yes"}},
      {{"a"}, {"SET", "a", "v"}},
      {{"a", "b"}, {"RENAME", "a", "b"}},
      {{"a", "b", "d"}, {"SINTERSTORE", "d", "a", "b"}},
      {{"a", "d"}, {"SDIFFSTORE", "d", "a", "a"}},  // empty result: dbDelete
      {{"a", "b"}, {"COPY", "a", "b", "REPLACE"}},
      {{"a"}, {"DEL", "a"}},  // DEL is never a server delete
      {{}, {"CONFIG", "SET", "lazyfree-lazy-server-del", "no"}},
      {{"a"}, {"SET", "a", "v"}},
      {{"e"}, {"PEXPIRE", "e", "1"}},
      {{}, {"EXISTS", "e"}},  // lazy-expire off: freed at once
      {{}, {"CONFIG", "SET", "lazyfree-lazy-expire", "yes"}},
      {{"e"}, {"PEXPIRE", "e", "1"}},
      {{}, {"EXISTS", "e"}},           // expired on access: in the background
      {{"e"}, {"EXPIRE", "e", "-1"}},  // a time already past
      {{"e"}, {"PEXPIRE", "e", "1"}},
      {{}, {"PING"}},  // after 300 ms: active expiry
      {{}, {"CONFIG", "GET", "lazyfree-lazy-*"}},
  };
  for (const auto& [needs, step] : steps) {
    SCOPED_TRACE(step[0] + (step.size() > 1 ? " " + step[1] : std::string()));
    for (Client* c : {&s, &r})
      for (const auto& k : needs) {
        c->call({"DEL", k});
        big_set(*c, k, 300);
      }
    if (step[0] == "EXISTS") std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (step[0] == "PING") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const RespValue x = s.call(step), y = r.call(step);
    if (step[0] == "CONFIG" && step[1] == "GET")
      EXPECT_EQ(canonical(x, true), canonical(y, true));
    else
      EXPECT_EQ(x.to_string(), y.to_string());
    EXPECT_EQ(settled(s), settled(r));
  }
  EXPECT_EQ(settled(s), 8);  // 5 server deletes, 3 expiries
}

// With lazyfree-lazy-expire, replicas and the AOF hear of an expiry as
// UNLINK (Redis's propagateDeletion), and as DEL without it.
TEST(LazyFreeVsRedis, ExpiryPropagatesUnlink) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  const std::vector<std::string> opts = {"--appendonly", "yes", "--appendfsync", "always"};
  ServerProcess setd(setd_binary(), as_redis70(opts));
  ServerProcess redis("redis-server", opts);
  for (ServerProcess* p : {&setd, &redis}) {
    Client c(p->port());
    // Expired by a lookup or by the cron, whichever comes first: the
    // same propagation either way.
    c.call({"SET", "k1", "v", "PX", "1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(c.call({"EXISTS", "k1"}).integer, 0);
    c.call({"CONFIG", "SET", "lazyfree-lazy-expire", "yes"});
    c.call({"SET", "k2", "v", "PX", "1"});
    c.call({"SET", "k3", "v"});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(c.call({"EXISTS", "k2"}).integer, 0);
    EXPECT_EQ(c.call({"EXPIRE", "k3", "-1"}).integer, 1);
    const std::string aof = file_bytes(p->dir() + "/appendonlydir/appendonly.aof.1.incr.aof");
    const auto at = [&](const std::string& what) { return aof.find(what); };
    EXPECT_NE(at("$6\r\nUNLINK\r\n$2\r\nk2\r\n"), std::string::npos) << aof;
    EXPECT_NE(at("$3\r\nDEL\r\n$2\r\nk1\r\n"), std::string::npos) << aof;
    EXPECT_NE(at("$6\r\nUNLINK\r\n$2\r\nk3\r\n"), std::string::npos) << aof;
    EXPECT_EQ(at("UNLINK\r\n$2\r\nk1"), std::string::npos) << aof;
  }
}

// replica-lazy-flush: a replica's old data goes to the lazyfree thread when
// it loads its master's image (one object per key, as FLUSHALL ASYNC).
TEST(LazyFree, ReplicaLazyFlushFreesOldDataInTheBackground) {
  for (const bool lazy : {false, true}) {
    SCOPED_TRACE(lazy ? "replica-lazy-flush yes" : "replica-lazy-flush no");
    ServerProcess master(setd_binary(), {"--repl-diskless-sync-delay", "0"});
    ServerProcess replica(setd_binary(), {"--slave-lazy-flush", lazy ? "yes" : "no"});
    Client m(master.port()), r(replica.port());
    m.call({"SET", "from-master", "1"});
    std::vector<std::vector<std::string>> cmds;
    for (int i = 0; i < 100; ++i) cmds.push_back({"SET", "old" + std::to_string(i), "v"});
    pipeline(r, cmds);
    ASSERT_EQ(r.call({"REPLICAOF", "127.0.0.1", std::to_string(master.port())}).str, "OK");
    ASSERT_TRUE(wait_until([&] { return r.call({"EXISTS", "from-master"}).integer == 1; }, 10000));
    EXPECT_EQ(r.call({"DBSIZE"}).integer, 1);
    EXPECT_EQ(settled(r), lazy ? 100 : 0);
  }
}

// A big set leaves the keyspace at once (readers never see it) and its
// memory goes back once the thread has freed it.
TEST(LazyFree, BigValuesLeaveAtOnceAndMemoryFollows) {
  ServerProcess setd(setd_binary());
  Client c(setd.port());
  // Once first, so that buffers that grow for big commands (and stay) are
  // in the baseline.
  for (int k = 0; k < 4; ++k) big_set(c, "big" + std::to_string(k), 50000);
  ASSERT_EQ(c.call({"FLUSHALL", "SYNC"}).str, "OK");
  const long long before = info_int(c, "used_memory", "memory");
  for (int k = 0; k < 4; ++k) big_set(c, "big" + std::to_string(k), 50000);
  const long long full = info_int(c, "used_memory", "memory");
  ASSERT_GT(full - before, 4 * 50000 * 8);
  EXPECT_EQ(c.call({"UNLINK", "big0", "big1"}).integer, 2);
  EXPECT_EQ(c.call({"EXISTS", "big0", "big1"}).integer, 0);
  EXPECT_EQ(c.call({"FLUSHALL", "ASYNC"}).str, "OK");
  EXPECT_EQ(c.call({"DBSIZE"}).integer, 0);
  EXPECT_EQ(settled(c), 4);
  EXPECT_LT(info_int(c, "used_memory", "memory") - before, (full - before) / 10);
}

}  // namespace
}  // namespace setd::testing

// Lazy freeing beside redis-server 7.0: UNLINK, FLUSHDB / FLUSHALL ASYNC and
// the lazyfree-lazy-user-* directives free big values and whole databases
// in the background, and INFO counts them as Redis does.
#include <gtest/gtest.h>

#include <memory>
#include <string>
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

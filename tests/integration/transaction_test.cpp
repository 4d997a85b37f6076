// Strings and transactions over real sockets: a client-library style
// pipelined MULTI/EXEC, optimistic locking with WATCH from two connections,
// and (when redis-server is installed) the same command script run against
// setd and redis-server with identical replies.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server_process.hpp"

namespace setd::testing {
namespace {

class Transactions : public SetdSuite {};

TEST_F(Transactions, PipelinedMultiExec) {
  Client c(port());
  const auto r = pipeline(c, {{"MULTI"},
                              {"SET", "pipe:k", "1"},
                              {"INCR", "pipe:k"},
                              {"INCRBY", "pipe:k", "5"},
                              {"APPEND", "pipe:s", "ab"},
                              {"GET", "pipe:k"},
                              {"EXEC"}});
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].to_string(), "OK");
  for (size_t i = 1; i <= 5; ++i) EXPECT_EQ(r[i].to_string(), "QUEUED");
  EXPECT_EQ(r[6].to_string(), "[OK, (integer) 2, (integer) 7, (integer) 2, \"7\"]");
  // A pipeline with a command that cannot be queued is discarded whole.
  const auto bad = pipeline(c, {{"MULTI"}, {"SET", "pipe:k", "x"}, {"SET", "pipe:k"}, {"EXEC"}});
  EXPECT_EQ(bad[3].to_string(),
            "(error) EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(c.call({"GET", "pipe:k"}).str, "7");
}

TEST_F(Transactions, WatchedKeyExpiringFailsExec) {
  Client c(port());
  EXPECT_EQ(c.call({"SET", "ttl:k", "v", "PX", "100"}).str, "OK");
  EXPECT_EQ(c.call({"WATCH", "ttl:k"}).str, "OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto r = pipeline(c, {{"MULTI"}, {"PING"}, {"EXEC"}});
  EXPECT_EQ(r[2].kind, RespValue::Kind::kNull) << r[2].to_string();
}

// Two connections increment one counter with WATCH / GET / MULTI / SET /
// EXEC, retrying when EXEC returns null: no increment may be lost.
TEST_F(Transactions, CompareAndSetLoopFromTwoClients) {
  Client setup(port());
  EXPECT_EQ(setup.call({"SET", "cas:n", "0"}).str, "OK");
  constexpr int kPerClient = 300;
  std::atomic<int> retries{0};
  auto worker = [&] {
    Client c(port());
    for (int done = 0; done < kPerClient;) {
      EXPECT_EQ(c.call({"WATCH", "cas:n"}).str, "OK");
      const long long n = std::stoll(c.call({"GET", "cas:n"}).str);
      const auto r = pipeline(c, {{"MULTI"}, {"SET", "cas:n", std::to_string(n + 1)}, {"EXEC"}});
      if (r[2].kind == RespValue::Kind::kNull) {
        ++retries;
        continue;
      }
      ASSERT_EQ(r[2].to_string(), "[OK]");
      ++done;
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(setup.call({"GET", "cas:n"}).str, std::to_string(2 * kPerClient));
  // And a forced conflict, deterministically.
  Client x(port()), y(port());
  EXPECT_EQ(x.call({"WATCH", "cas:n"}).str, "OK");
  EXPECT_EQ(y.call({"INCR", "cas:n"}).integer, 2 * kPerClient + 1);
  const auto r = pipeline(x, {{"MULTI"}, {"SET", "cas:n", "0"}, {"EXEC"}});
  EXPECT_EQ(r[2].kind, RespValue::Kind::kNull);
  EXPECT_EQ(x.call({"GET", "cas:n"}).str, std::to_string(2 * kPerClient + 1));
  RecordProperty("cas_retries", retries.load());
}

// The same script against redis-server and setd: every reply must match.
TEST(TransactionsVsRedis, SameRepliesAsRedisServer) {
  if (shell("command -v redis-server").empty()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess redis("redis-server");
  ServerProcess setd(setd_binary());
  const std::vector<std::vector<std::string>> script = {
      {"SET", "k", "v", "NX", "GET"},
      {"SET", "k", "v2", "XX", "GET"},
      {"SET", "k", "v", "EX", "10", "PX", "5"},
      {"SET", "k", "v", "EX", "0"},
      {"SET", "k", "v", "KEEPTTL", "GET"},
      {"SETEX", "k", "-1", "v"},
      {"MSET", "a", "1", "b", "2", "c"},
      {"MSET", "a", "1", "b", "2"},
      {"MSETNX", "a", "9", "z", "9"},
      {"MGET", "a", "b", "z", "k"},
      {"INCR", "a"},
      {"INCRBY", "a", "9223372036854775807"},
      {"DECRBY", "a", "-9223372036854775808"},
      {"INCRBYFLOAT", "b", "0.1"},
      {"INCRBYFLOAT", "b", "1e400"},
      {"INCRBYFLOAT", "k", "1"},
      {"APPEND", "k", "++"},
      {"STRLEN", "k"},
      {"GETRANGE", "k", "-3", "-1"},
      {"SETRANGE", "k", "10", "!"},
      {"GET", "k"},
      {"SETRANGE", "k", "-1", "x"},
      {"GETEX", "k", "PERSIST", "EX", "5"},
      {"GETEX", "nokey", "EX", "0"},
      {"GETEX", "k", "EX", "100"},
      {"GETDEL", "k"},
      {"GETSET", "k", "new"},
      {"MULTI"},
      {"MULTI"},
      {"INCR", "counter"},
      {"INCRBY", "counter", "x"},
      {"GET", "counter"},
      {"EXEC"},
      {"MULTI"},
      {"WATCH", "x"},
      {"NOSUCHCMD"},
      {"EXEC"},
      {"EXEC", "extra"},
      {"DISCARD"},
      {"WATCH", "counter"},
      {"UNWATCH"},
      {"MULTI"},
      {"SET", "counter", "5"},
      {"DISCARD"},
      {"GET", "counter"},
  };
  Client rc(redis.port()), sc(setd.port());
  for (const auto& cmd : script) {
    const auto want = rc.call(cmd).to_string();
    const auto got = sc.call(cmd).to_string();
    std::string line;
    for (const auto& a : cmd) line += a + " ";
    EXPECT_EQ(got, want) << line;
  }
}

}  // namespace
}  // namespace setd::testing

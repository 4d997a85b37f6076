// Client eviction beside redis-server 7.0: maxmemory-clients (bytes or a
// percentage of maxmemory, its validation), CLIENT NO-EVICT and its flag,
// and which clients go once their memory together passes the limit.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

// The `flags=` field of CLIENT INFO.
std::string client_flags(Client& c) {
  const std::string info = c.call({"CLIENT", "INFO"}).str;
  const size_t at = info.find(" flags=");
  if (at == std::string::npos) return "<no flags in " + info + ">";
  return info.substr(at + 7, info.find(' ', at + 7) - at - 7);
}

struct Servers {
  ServerProcess setd{setd_binary(), {}};
  ServerProcess redis{"redis-server", {}};
};

TEST(ClientEvictionVsRedis, ConfigAndNoEvict) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Servers sv;
  Client s(sv.setd.port()), r(sv.redis.port());
  for (const std::string v :
       {"10%", "100%", "101%", "0%", "-1", "1mb", "abc", "5%x", "%", "-5%", "131071", "2GB", "0"}) {
    SCOPED_TRACE(v);
    const RespValue a = s.call({"CONFIG", "SET", "maxmemory-clients", v});
    const RespValue b = r.call({"CONFIG", "SET", "maxmemory-clients", v});
    EXPECT_EQ(a.to_string(), b.to_string());
    EXPECT_EQ(config_get(s, "maxmemory-clients"), config_get(r, "maxmemory-clients"));
  }
  for (Client* c : {&s, &r}) {
    EXPECT_EQ(client_flags(*c), "N");
    EXPECT_EQ(c->call({"CLIENT", "NO-EVICT", "on"}).str, "OK");
    EXPECT_EQ(client_flags(*c), "e");
    EXPECT_EQ(c->call({"CLIENT", "NO-EVICT", "maybe"}).str, "ERR syntax error");
    EXPECT_EQ(c->call({"CLIENT", "NO-EVICT", "OFF"}).str, "OK");
    EXPECT_EQ(client_flags(*c), "N");
  }
}

// Sends `bytes` to a client the server is about to evict: the server may
// close it before everything is sent (the send then fails), which is the
// outcome the caller checks with closed_by_peer().
void send_to_evicted(Client& c, const std::string& bytes) {
  try {
    c.send_raw(bytes);
  } catch (const std::runtime_error&) {
  }
}

// A partial big argument grows the query buffer: over the limit, its
// client goes and small ones stay. A NO-EVICT client's buffer counts too
// (as in Redis), but it is never the one to go: the others are.

void big_query_buffer(int port, const std::vector<std::string>& limit, const char* who) {
  SCOPED_TRACE(who);
  Client admin(port);
  for (size_t i = 0; i + 1 < limit.size(); i += 2)
    ASSERT_EQ(admin.call({"CONFIG", "SET", limit[i], limit[i + 1]}).str, "OK");
  Client small(port), big(port), kept(port);
  ASSERT_EQ(kept.call({"CLIENT", "NO-EVICT", "ON"}).str, "OK");
  const std::string head = "*2\r\n$4\r\nECHO\r\n$3000000\r\n";
  const std::string part(1500000, 'x');
  send_to_evicted(big, head + part);
  EXPECT_TRUE(big.closed_by_peer(2000));
  EXPECT_EQ(info_value(admin, "evicted_clients", "stats"), "1");
  EXPECT_EQ(small.call({"PING"}).str, "PONG");
  EXPECT_EQ(kept.call({"PING"}).str, "PONG");
  // The kept client over the limit: every other client goes.
  kept.send_raw(head + part);
  EXPECT_TRUE(small.closed_by_peer(3000));
  EXPECT_TRUE(admin.closed_by_peer(3000));
  // It finishes its argument and gets its reply.
  kept.send_raw(std::string(1500000, 'y') + "\r\n");
  const auto echo = kept.read();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->str.size(), 3000000u);
  EXPECT_EQ(info_value(kept, "evicted_clients", "stats"), "3");
}

TEST(ClientEvictionVsRedis, BigQueryBufferGoes) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Servers sv;
  big_query_buffer(sv.setd.port(), {"maxmemory-clients", "1mb"}, "setd");
  big_query_buffer(sv.redis.port(), {"maxmemory-clients", "1mb"}, "redis");
}

TEST(ClientEvictionVsRedis, PercentOfMaxmemory) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Servers sv;
  const std::vector<std::string> limit{"maxmemory", "100mb", "maxmemory-clients", "1%"};
  big_query_buffer(sv.setd.port(), limit, "setd");
  big_query_buffer(sv.redis.port(), limit, "redis");
}

// Replies a client does not read pile up in its output buffer: it goes,
// and the server keeps serving the others.
void unread_replies(int port, const char* who) {
  SCOPED_TRACE(who);
  Client admin(port);
  std::vector<std::string> sadd{"SADD", "big"};
  for (int i = 0; i < 20000; ++i) sadd.push_back("member:" + std::to_string(i));
  ASSERT_EQ(admin.call(sadd).integer, 20000);
  ASSERT_EQ(admin.call({"CONFIG", "SET", "maxmemory-clients", "2mb"}).str, "OK");
  Client greedy(port);
  std::string batch;
  for (int i = 0; i < 200; ++i) batch += Client::encode({"SMEMBERS", "big"});
  greedy.send_raw(batch);
  EXPECT_TRUE(
      wait_until([&] { return info_value(admin, "evicted_clients", "stats") == "1"; }, 3000));
  EXPECT_EQ(admin.call({"PING"}).str, "PONG");
  EXPECT_EQ(info_value(admin, "connected_clients", "clients"), "1");
}

TEST(ClientEvictionVsRedis, UnreadRepliesGo) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Servers sv;
  unread_replies(sv.setd.port(), "setd");
  unread_replies(sv.redis.port(), "redis");
}

// Off (0), nothing is evicted however big the clients are.
TEST(ClientEviction, OffByDefault) {
  ServerProcess setd(setd_binary(), {});
  Client admin(setd.port()), big(setd.port());
  big.send_raw("*2\r\n$4\r\nECHO\r\n$3000000\r\n" + std::string(2000000, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(info_value(admin, "evicted_clients", "stats"), "0");
  big.send_raw(std::string(1000000, 'x') + "\r\n");
  const auto echo = big.read();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->str.size(), 3000000u);
}

}  // namespace
}  // namespace setd::testing

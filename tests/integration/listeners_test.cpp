// CONFIG SET port and bind at run time beside redis-server 7.0: the
// listeners move, open connections stay, and what cannot listen is refused
// with Redis's texts while the old listener goes on.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

// True if a new connection to `port` answers PING.
bool answers(int port) {
  try {
    Client c(port);
    return c.call({"PING"}).str == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

// Moves a server from its port to a free one and back; refusals as Redis.
void move_port(ServerProcess& server, int busy_port, const char* who) {
  SCOPED_TRACE(who);
  const int first = server.port();
  Client admin(first);
  const int next = free_port();
  EXPECT_EQ(admin.call({"CONFIG", "SET", "port", std::to_string(next)}).str, "OK");
  EXPECT_EQ(config_get(admin, "port"), std::to_string(next));
  EXPECT_TRUE(answers(next));
  EXPECT_FALSE(answers(first));
  EXPECT_EQ(admin.call({"PING"}).str, "PONG");  // open connections stay
  EXPECT_EQ(info_value(admin, "tcp_port", "server"), std::to_string(next));
  // A port another process listens on: refused, the listener stays.
  EXPECT_EQ(admin.call({"CONFIG", "SET", "port", std::to_string(busy_port)}).str,
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on "
            "this port. Check server logs.");
  EXPECT_EQ(config_get(admin, "port"), std::to_string(next));
  EXPECT_TRUE(answers(next));
  EXPECT_EQ(admin.call({"CONFIG", "SET", "port", "65536"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be "
            "between 0 and 65535 inclusive");
  EXPECT_EQ(admin.call({"CONFIG", "SET", "port", std::to_string(next)}).str, "OK");
  EXPECT_EQ(admin.call({"CONFIG", "SET", "port", std::to_string(first)}).str, "OK");
  EXPECT_TRUE(answers(first));
  EXPECT_FALSE(answers(next));
}

TEST(ListenersVsRedis, PortMovesAtRunTime) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), {});
  ServerProcess redis("redis-server", {});
  move_port(setd, redis.port(), "setd");
  move_port(redis, setd.port(), "redis");
}

void move_bind(ServerProcess& server, const char* who) {
  SCOPED_TRACE(who);
  Client admin(server.port());
  const std::string before = config_get(admin, "bind");
  EXPECT_EQ(admin.call({"CONFIG", "SET", "bind", "127.0.0.1 -::1"}).str, "OK");
  EXPECT_EQ(config_get(admin, "bind"), "127.0.0.1 -::1");
  EXPECT_TRUE(answers(server.port()));
  // An address this host does not have: refused, still listening.
  EXPECT_EQ(admin.call({"CONFIG", "SET", "bind", "192.0.2.1"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to "
            "specified addresses.");
  EXPECT_EQ(config_get(admin, "bind"), "127.0.0.1 -::1");
  EXPECT_TRUE(answers(server.port()));
  EXPECT_EQ(admin.call({"CONFIG", "SET", "bind", "a b c d e f g h i j k l m n o p q"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'bind') - Too many bind "
            "addresses specified.");
  EXPECT_EQ(admin.call({"CONFIG", "SET", "bind", before}).str, "OK");
  EXPECT_TRUE(answers(server.port()));
  EXPECT_EQ(admin.call({"PING"}).str, "PONG");
}

TEST(ListenersVsRedis, BindMovesAtRunTime) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), {});
  ServerProcess redis("redis-server", {});
  move_bind(setd, "setd");
  move_bind(redis, "redis");
}

// tcp-keepalive sets the probe timer of accepted sockets to its value (as
// Redis's anetKeepAlive), seen from outside with ss(8).
TEST(Listeners, TcpKeepaliveArmsTheProbeTimer) {
  if (std::system("command -v ss >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ss(8)";
  ServerProcess setd(setd_binary(), {"--tcp-keepalive", "100"});
  Client c(setd.port());
  ASSERT_EQ(c.call({"PING"}).str, "PONG");
  const std::string cmd =
      "ss -tnoH state established '( sport = :" + std::to_string(setd.port()) + " )' 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    ::pclose(p);
  }
  // 100 s: "keepalive,1min39sec" or "keepalive,1min40sec" (not the
  // kernel's default two hours).
  EXPECT_NE(out.find("timer:(keepalive,1min"), std::string::npos) << out;
}

}  // namespace
}  // namespace setd::testing

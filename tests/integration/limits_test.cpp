// Connection limits beside redis-server 7.0: maxclients and the open-file
// limit it needs (raised at start and by CONFIG SET, as Redis's
// adjustOpenFilesLimit), and the refusal past it.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

// The hard NOFILE limit servers started from here inherit.
long long hard_nofile() {
  rlimit l{};
  getrlimit(RLIMIT_NOFILE, &l);
  return l.rlim_max == RLIM_INFINITY ? -1 : static_cast<long long>(l.rlim_max);
}

TEST(LimitsVsRedis, MaxclientsBeyondTheFileLimit) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  const long long hard = hard_nofile();
  if (hard < 0 || hard > 200000) GTEST_SKIP() << "no low hard NOFILE limit here";
  const std::string wanted = std::to_string(hard + 5000);
  // At start: maxclients is cut to what the limit allows.
  ServerProcess setd(setd_binary(), {"--maxclients", wanted});
  ServerProcess redis("redis-server", {"--maxclients", wanted});
  Client s(setd.port()), r(redis.port());
  const std::string fit = std::to_string(hard - 32);
  EXPECT_EQ(s.call({"CONFIG", "GET", "maxclients"}).elements.at(1).str, fit);
  EXPECT_EQ(r.call({"CONFIG", "GET", "maxclients"}).elements.at(1).str, fit);
  // At run time: refused, with what would fit.
  for (Client* c : {&s, &r}) {
    ASSERT_EQ(c->call({"CONFIG", "SET", "maxclients", "100"}).str, "OK");
    EXPECT_EQ(c->call({"CONFIG", "SET", "maxclients", wanted}).str,
              "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating "
              "system is not able to handle the specified number of clients, try with " +
                  fit);
    EXPECT_EQ(c->call({"CONFIG", "GET", "maxclients"}).elements.at(1).str, "100");
    EXPECT_EQ(c->call({"CONFIG", "SET", "maxclients", "1000"}).str, "OK");
  }
}

}  // namespace
}  // namespace setd::testing

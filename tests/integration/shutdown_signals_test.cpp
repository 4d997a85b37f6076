// shutdown-on-sigterm / shutdown-on-sigint beside redis-server 7.0: their
// values and validation, and what each signal then saves.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

TEST(ShutdownSignalsVsRedis, ValuesAndErrors) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), {});
  ServerProcess redis("redis-server", {});
  Client s(setd.port()), r(redis.port());
  for (const std::string name : {"shutdown-on-sigterm", "shutdown-on-sigint"}) {
    EXPECT_EQ(config_get(s, name), config_get(r, name));
    for (const std::string v : {"save", "nosave now", "save nosave", "bogus", "default",
                                "force now", "", "NOW", "default save", "now now"}) {
      SCOPED_TRACE(name + " " + v);
      EXPECT_EQ(s.call({"CONFIG", "SET", name, v}).to_string(),
                r.call({"CONFIG", "SET", name, v}).to_string());
      EXPECT_EQ(config_get(s, name), config_get(r, name));
    }
  }
}

// Starts `binary` in a fresh directory with `args`, writes a key, sends
// `sig`: whether a dump was left.
bool dump_after_signal(const std::string& binary, std::vector<std::string> args, int sig) {
  TempDir dir;
  args.insert(args.end(), {"--dir", dir.path()});
  ServerProcess server(binary, args);
  Client c(server.port());
  EXPECT_EQ(c.call({"SET", "k", "v"}).str, "OK");
  server.stop(sig);
  return std::filesystem::exists(dir.file("dump.rdb"));
}

TEST(ShutdownSignalsVsRedis, WhatEachSignalSaves) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  struct Case {
    std::vector<std::string> args;
    int sig;
    bool dump;
  };
  const std::vector<Case> cases = {
      {{"--save", "3600 1"}, SIGTERM, true},  // default: the save points say
      {{"--save", "3600 1", "--shutdown-on-sigterm", "nosave"}, SIGTERM, false},
      {{"--save", "3600 1", "--shutdown-on-sigterm", "nosave"}, SIGINT, true},
      {{"--shutdown-on-sigint", "save"}, SIGINT, true},  // no save points
      {{"--shutdown-on-sigint", "save"}, SIGTERM, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.back() + (c.sig == SIGINT ? " SIGINT" : " SIGTERM"));
    EXPECT_EQ(dump_after_signal(setd_binary(), c.args, c.sig), c.dump) << "setd";
    EXPECT_EQ(dump_after_signal("redis-server", c.args, c.sig), c.dump) << "redis";
  }
}

}  // namespace
}  // namespace setd::testing

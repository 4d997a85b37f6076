// MEMORY and INFO memory beside redis-server 7.0: the same field names in
// the same order, the same reply shapes and errors; and, for setd's own
// figures, that they move with the data as they should.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

// INFO memory's field names in order, and their values.
struct Info {
  std::vector<std::string> names;
  std::map<std::string, std::string> values;
  long long num(const std::string& name) const { return std::stoll(values.at(name)); }
};

Info info_memory(Client& c) {
  Info f;
  const std::string text = c.call({"INFO", "memory"}).str;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    f.names.push_back(line.substr(0, colon));
    f.values[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return f;
}

// MEMORY STATS' keys in order (a map in RESP3, a flat array in RESP2) with
// the kind of each value; db.N sub-maps are described by their keys.
std::string stats_shape(const RespValue& v) {
  std::string out = v.kind == K::kMap ? "map{" : "array[";
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    out += v.elements[i].str + "=";
    const RespValue& x = v.elements[i + 1];
    if (x.is_aggregate()) {
      out += stats_shape(x);
    } else {
      out += std::to_string(static_cast<int>(x.kind));
    }
    out += " ";
  }
  return out + "}";
}

void fill_both(Client& s, Client& r) {
  for (Client* c : {&s, &r}) {
    c->call({"SADD", "set", "a", "b", "c"});
    c->call({"SET", "str", "hello"});
    c->call({"SELECT", "5"});
    c->call({"SET", "ttl", "v", "EX", "1000"});
    c->call({"SELECT", "0"});
  }
}

TEST(MemoryVsRedis, InfoMemoryFieldsInRedisOrder) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  fill_both(s, r);
  const Info mine = info_memory(s), theirs = info_memory(r);
  EXPECT_EQ(mine.names, theirs.names);
  // Fields whose values setd shares with a scriptless Redis.
  for (const char* name :
       {"used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
        "number_of_libraries", "maxmemory", "maxmemory_human", "maxmemory_policy",
        "mem_cluster_links", "mem_aof_buffer", "mem_replication_backlog", "active_defrag_running",
        "lazyfree_pending_objects", "lazyfreed_objects", "total_system_memory"})
    EXPECT_EQ(mine.values.at(name), theirs.values.at(name)) << name;
}

TEST(MemoryVsRedis, StatsHaveRedisKeysAndShape) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  fill_both(s, r);
  for (int proto = 2; proto <= 3; ++proto) {
    s.call({"HELLO", std::to_string(proto)});
    r.call({"HELLO", std::to_string(proto)});
    EXPECT_EQ(stats_shape(s.call({"MEMORY", "STATS"})), stats_shape(r.call({"MEMORY", "STATS"})))
        << "RESP" << proto;
  }
}

TEST(MemoryVsRedis, SameRepliesAndErrors) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  const std::vector<std::vector<std::string>> same = {
      {"MEMORY", "HELP"},
      {"memory", "help", "x"},
      {"MEMORY"},
      {"MEMORY", "foo"},
      {"MEMORY", "USAGE"},
      {"MEMORY", "USAGE", "missing"},
      {"MEMORY", "USAGE", "missing", "SAMPLES", "3"},
      {"MEMORY", "USAGE", "set", "SAMPLES"},
      {"MEMORY", "USAGE", "set", "SAMPLES", "-1"},
      {"MEMORY", "USAGE", "set", "SAMPLES", "x"},
      {"MEMORY", "USAGE", "set", "SAMPLES", "99999999999999999999"},
      {"MEMORY", "USAGE", "set", "foo"},
      {"MEMORY", "USAGE", "set", "SAMPLES", "1", "bar"},
      {"MEMORY", "STATS", "x"},
      {"MEMORY", "DOCTOR", "x"},
      {"MEMORY", "PURGE"},
      {"MEMORY", "PURGE", "x"},
      {"MEMORY", "MALLOC-STATS", "x"},
      // An empty instance (under 5 MB): the doctor's "empty" report.
      {"MEMORY", "DOCTOR"},
  };
  for (int proto = 2; proto <= 3; ++proto) {
    s.call({"HELLO", std::to_string(proto)});
    r.call({"HELLO", std::to_string(proto)});
    for (const auto& cmd : same) {
      std::string where = "RESP" + std::to_string(proto);
      for (const auto& a : cmd) where += " " + a;
      EXPECT_EQ(s.call_raw(cmd).first, r.call_raw(cmd).first) << where;
    }
    // Both answer MEMORY USAGE of an existing key with an integer, and
    // MALLOC-STATS with text (verbatim in RESP3).
    s.call({"SADD", "set", "a"});
    r.call({"SADD", "set", "a"});
    EXPECT_EQ(s.call({"MEMORY", "USAGE", "set"}).kind, K::kInteger);
    EXPECT_EQ(s.call({"MEMORY", "MALLOC-STATS"}).kind, r.call({"MEMORY", "MALLOC-STATS"}).kind);
    EXPECT_EQ(s.call({"MEMORY", "DOCTOR"}).kind, r.call({"MEMORY", "DOCTOR"}).kind);
    s.call({"DEL", "set"});
    r.call({"DEL", "set"});
  }
}

// setd's own figures: used memory grows with the data and goes back down,
// the peak stays, the dataset is what the keys take, MEMORY USAGE grows
// with a key's size.
TEST(MemoryFigures, MoveWithTheData) {
  ServerProcess setd(setd_binary());
  Client c(setd.port());
  const Info empty = info_memory(c);
  EXPECT_GT(empty.num("used_memory_startup"), 0);
  EXPECT_GE(empty.num("used_memory_peak"), empty.num("used_memory"));
  EXPECT_LE(empty.num("used_memory_dataset"), empty.num("used_memory"));
  // 200k members of 8-13 bytes in 200 sets.
  for (int k = 0; k < 200; ++k) {
    std::vector<std::string> sadd = {"SADD", "s:" + std::to_string(k)};
    for (int i = 0; i < 1000; ++i) sadd.push_back("m:" + std::to_string(k * 1000 + i));
    c.call(sadd);
  }
  const Info full = info_memory(c);
  const long long grew = full.num("used_memory") - empty.num("used_memory");
  EXPECT_GT(grew, 200000 * 8);
  EXPECT_LT(grew, 200000 * 60);
  EXPECT_GE(full.num("used_memory_peak"), full.num("used_memory"));
  EXPECT_LE(full.num("used_memory_dataset"), full.num("used_memory"));
  EXPECT_GT(full.num("used_memory_dataset"), grew / 2);
  long long keys_usage = 0;
  for (int k = 0; k < 200; ++k)
    keys_usage += c.call({"MEMORY", "USAGE", "s:" + std::to_string(k)}).integer;
  EXPECT_GT(keys_usage, grew / 2);
  EXPECT_LT(keys_usage, grew * 2);
  // A 1000-member set takes more than a 10-member one, a long string more
  // than a short one.
  std::vector<std::string> small = {"SADD", "small"};
  for (int i = 0; i < 10; ++i) small.push_back("m:" + std::to_string(i));
  c.call(small);
  EXPECT_GT(c.call({"MEMORY", "USAGE", "s:0"}).integer,
            c.call({"MEMORY", "USAGE", "small"}).integer * 10);
  c.call({"SET", "short", "x"});
  c.call({"SET", "long", std::string(5000, 'x')});
  EXPECT_GT(c.call({"MEMORY", "USAGE", "long"}).integer,
            c.call({"MEMORY", "USAGE", "short"}).integer + 5000);
  // MEMORY STATS agrees with INFO.
  const auto stats = c.call({"MEMORY", "STATS"});
  std::map<std::string, long long> st;
  for (size_t i = 0; i + 1 < stats.elements.size(); i += 2)
    if (stats.elements[i + 1].kind == K::kInteger)
      st[stats.elements[i].str] = stats.elements[i + 1].integer;
  EXPECT_EQ(st["keys.count"], 203);
  EXPECT_GE(st["peak.allocated"], st["total.allocated"]);
  EXPECT_EQ(st["startup.allocated"], full.num("used_memory_startup"));
  // Memory goes back when the keys go; the peak stays.
  c.call({"FLUSHALL"});
  const Info flushed = info_memory(c);
  EXPECT_LT(flushed.num("used_memory"), full.num("used_memory") - grew / 2);
  EXPECT_GE(flushed.num("used_memory_peak"), full.num("used_memory"));
  // The cron samples the RSS; the ratios follow from it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Info later = info_memory(c);
  EXPECT_GT(later.num("used_memory_rss"), 0);
  EXPECT_GT(later.num("allocator_resident"), 0);
  EXPECT_GE(later.num("allocator_active"), later.num("allocator_allocated") / 2);
  EXPECT_EQ(c.call({"MEMORY", "PURGE"}).str, "OK");
}

}  // namespace
}  // namespace setd::testing

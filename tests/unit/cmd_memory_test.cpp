// MEMORY and INFO memory through the in-process runner: replies' shapes,
// Redis's errors, and figures that move with the data.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/base/allocator.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

// INFO memory as name -> value, and the names in order.
struct InfoFields {
  std::vector<std::string> names;
  std::map<std::string, std::string> values;
  long long num(const std::string& name) const { return std::stoll(values.at(name)); }
};

InfoFields info_memory(Runner& r) {
  InfoFields f;
  const std::string text = r.run({"INFO", "memory"}).str;
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

long long usage(Runner& r, std::string_view key) {
  const auto v = r.run({"MEMORY", "USAGE", key});
  EXPECT_EQ(v.kind, K::kInteger) << S(v);
  return v.integer;
}

TEST(MemoryCommands, InfoMemoryHasRedisFieldsInOrder) {
  Runner r;
  // redis-server 7.0.15's INFO memory, in its order.
  const std::vector<std::string> redis = {"used_memory",
                                          "used_memory_human",
                                          "used_memory_rss",
                                          "used_memory_rss_human",
                                          "used_memory_peak",
                                          "used_memory_peak_human",
                                          "used_memory_peak_perc",
                                          "used_memory_overhead",
                                          "used_memory_startup",
                                          "used_memory_dataset",
                                          "used_memory_dataset_perc",
                                          "allocator_allocated",
                                          "allocator_active",
                                          "allocator_resident",
                                          "total_system_memory",
                                          "total_system_memory_human",
                                          "used_memory_lua",
                                          "used_memory_vm_eval",
                                          "used_memory_lua_human",
                                          "used_memory_scripts_eval",
                                          "number_of_cached_scripts",
                                          "number_of_functions",
                                          "number_of_libraries",
                                          "used_memory_vm_functions",
                                          "used_memory_vm_total",
                                          "used_memory_vm_total_human",
                                          "used_memory_functions",
                                          "used_memory_scripts",
                                          "used_memory_scripts_human",
                                          "maxmemory",
                                          "maxmemory_human",
                                          "maxmemory_policy",
                                          "allocator_frag_ratio",
                                          "allocator_frag_bytes",
                                          "allocator_rss_ratio",
                                          "allocator_rss_bytes",
                                          "rss_overhead_ratio",
                                          "rss_overhead_bytes",
                                          "mem_fragmentation_ratio",
                                          "mem_fragmentation_bytes",
                                          "mem_not_counted_for_evict",
                                          "mem_replication_backlog",
                                          "mem_total_replication_buffers",
                                          "mem_clients_slaves",
                                          "mem_clients_normal",
                                          "mem_cluster_links",
                                          "mem_aof_buffer",
                                          "mem_allocator",
                                          "active_defrag_running",
                                          "lazyfree_pending_objects",
                                          "lazyfreed_objects"};
  const InfoFields f = info_memory(r);
  EXPECT_EQ(f.names, redis);
  EXPECT_EQ(f.values.at("mem_allocator"), base::alloc::name());
  // The EVAL Lua state exists from the start (a fresh one holds ~30 KB, as
  // Redis's), and its figure follows what the scripts keep.
  EXPECT_GT(f.num("used_memory_lua"), 10000);
  EXPECT_EQ(f.num("used_memory_vm_eval"), f.num("used_memory_lua"));
  EXPECT_EQ(f.num("number_of_cached_scripts"), 0);
  r.run({"SCRIPT", "LOAD", "return 1"});
  r.run({"FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('f', function() end)"});
  const InfoFields g = info_memory(r);
  EXPECT_EQ(g.num("number_of_cached_scripts"), 1);
  EXPECT_EQ(g.num("number_of_functions"), 1);
  EXPECT_EQ(g.num("number_of_libraries"), 1);
  EXPECT_GT(g.num("used_memory_scripts_eval"), 0);
  EXPECT_GT(g.num("used_memory_functions"), 0);
  EXPECT_EQ(g.num("used_memory_vm_total"),
            g.num("used_memory_vm_eval") + g.num("used_memory_vm_functions"));
  EXPECT_EQ(f.values.at("maxmemory_policy"), "noeviction");
  EXPECT_TRUE(f.values.at("used_memory_peak_perc").ends_with("%"));
  EXPECT_GE(f.num("used_memory_peak"), f.num("used_memory"));
  EXPECT_LE(f.num("used_memory_dataset"), f.num("used_memory"));
  EXPECT_GT(f.num("used_memory_rss"), 0);
  EXPECT_GT(f.num("total_system_memory"), 0);
}

TEST(MemoryCommands, UsedMemoryFollowsTheData) {
  Runner r;
  const InfoFields before = info_memory(r);
  std::vector<std::string> sadd = {"SADD", "big"};
  for (int i = 0; i < 100000; ++i) sadd.push_back("member:" + std::to_string(i));
  r.run(sadd);
  const InfoFields during = info_memory(r);
  const long long grew = during.num("used_memory") - before.num("used_memory");
  // 100k members of ~12 bytes: at least their bytes, at most a few times.
  EXPECT_GT(grew, 1'000'000);
  EXPECT_LT(grew, 20'000'000);
  EXPECT_GE(during.num("used_memory_peak"), during.num("used_memory"));
  EXPECT_GT(during.num("used_memory_dataset"), before.num("used_memory_dataset") + 1'000'000);
  // The key's own figure accounts for most of that growth.
  const long long key = usage(r, "big");
  EXPECT_GT(key, 1'000'000);
  EXPECT_LT(key, grew + 100'000);
  r.run({"DEL", "big"});
  const InfoFields after = info_memory(r);
  EXPECT_LT(after.num("used_memory"), during.num("used_memory") - 1'000'000);
  EXPECT_GE(after.num("used_memory_peak"), during.num("used_memory"));
}

TEST(MemoryCommands, UsageOfKeys) {
  Runner r;
  EXPECT_EQ(r.run({"MEMORY", "USAGE", "missing"}).kind, K::kNull);
  // An embstr entry: link, header, key and string in one allocation.
  r.run({"SET", "k", "v"});
  EXPECT_EQ(usage(r, "k"), static_cast<long long>(base::alloc::usable_size(8 + 8 + 1 + 1)));
  // Strings grow with their length.
  r.run({"SET", "s1", std::string(100, 'x')});
  r.run({"SET", "s2", std::string(10000, 'x')});
  EXPECT_GT(usage(r, "s1"), 100);
  EXPECT_GT(usage(r, "s2"), 10000);
  EXPECT_LT(usage(r, "s2"), 11000);
  // Sets grow with their members, intset and hashtable alike.
  std::vector<std::string> small = {"SADD", "small"}, large = {"SADD", "large"};
  std::vector<std::string> ints = {"SADD", "ints"};
  for (int i = 0; i < 10; ++i) small.push_back("member:" + std::to_string(i));
  for (int i = 0; i < 1000; ++i) large.push_back("member:" + std::to_string(i));
  for (int i = 0; i < 100; ++i) ints.push_back(std::to_string(i));
  r.run(small);
  r.run(large);
  r.run(ints);
  EXPECT_GT(usage(r, "large"), usage(r, "small") * 20);
  EXPECT_GT(usage(r, "large"), 1000 * 8);
  EXPECT_GT(usage(r, "ints"), 200);  // 100 x 2 bytes
  // SAMPLES is checked as Redis does; the figure is exact anyway.
  EXPECT_EQ(r.run({"MEMORY", "USAGE", "large", "SAMPLES", "0"}).integer, usage(r, "large"));
  EXPECT_EQ(r.run({"MEMORY", "usage", "large", "samples", "3", "SAMPLES", "7"}).integer,
            usage(r, "large"));
  EXPECT_EQ(S(r.run({"MEMORY", "USAGE", "large", "SAMPLES"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"MEMORY", "USAGE", "large", "SAMPLES", "-1"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"MEMORY", "USAGE", "large", "SAMPLES", "x"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"MEMORY", "USAGE", "large", "foo"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"MEMORY", "USAGE", "missing", "SAMPLES", "x"})),
            "(error) ERR value is not an integer or out of range");
  // A TTL costs its 8 bytes in the entry.
  r.run({"SET", "t", "v"});
  const long long plain = usage(r, "t");
  r.run({"EXPIRE", "t", "100"});
  EXPECT_EQ(usage(r, "t"), static_cast<long long>(base::alloc::usable_size(8 + 8 + 8 + 1 + 1)));
  EXPECT_GE(usage(r, "t"), plain);
}

TEST(MemoryCommands, UsageDoesNotTouchTheKey) {
  Runner r;
  r.run({"SET", "k", "v"});
  const auto hits = r.state().stats().keyspace_hits;
  usage(r, "k");
  r.run({"MEMORY", "USAGE", "nokey"});
  EXPECT_EQ(r.state().stats().keyspace_hits, hits);
  EXPECT_EQ(r.state().stats().keyspace_misses, 0u);
}

TEST(MemoryCommands, StatsKeysInRedisOrder) {
  Runner r;
  r.run({"SADD", "a", "x", "y"});
  r.run({"SELECT", "3"});
  r.run({"SET", "b", "1"});
  r.run({"EXPIRE", "b", "100"});
  for (int proto : {2, 3}) {
    r.run({"HELLO", std::to_string(proto)});
    const auto v = r.run({"MEMORY", "STATS"});
    ASSERT_EQ(v.kind, proto == 3 ? K::kMap : K::kArray);
    std::vector<std::string> keys;
    std::map<std::string, RespValue> values;
    for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
      keys.push_back(v.elements[i].str);
      values[v.elements[i].str] = v.elements[i + 1];
    }
    const std::vector<std::string> expected = {"peak.allocated",
                                               "total.allocated",
                                               "startup.allocated",
                                               "replication.backlog",
                                               "clients.slaves",
                                               "clients.normal",
                                               "cluster.links",
                                               "aof.buffer",
                                               "lua.caches",
                                               "functions.caches",
                                               "db.0",
                                               "db.3",
                                               "overhead.total",
                                               "keys.count",
                                               "keys.bytes-per-key",
                                               "dataset.bytes",
                                               "dataset.percentage",
                                               "peak.percentage",
                                               "allocator.allocated",
                                               "allocator.active",
                                               "allocator.resident",
                                               "allocator-fragmentation.ratio",
                                               "allocator-fragmentation.bytes",
                                               "allocator-rss.ratio",
                                               "allocator-rss.bytes",
                                               "rss-overhead.ratio",
                                               "rss-overhead.bytes",
                                               "fragmentation",
                                               "fragmentation.bytes"};
    EXPECT_EQ(keys, expected);
    EXPECT_EQ(values["keys.count"].integer, 2);
    EXPECT_GE(values["peak.allocated"].integer, values["total.allocated"].integer);
    EXPECT_LE(values["dataset.bytes"].integer, values["total.allocated"].integer);
    EXPECT_EQ(values["dataset.percentage"].kind, proto == 3 ? K::kDouble : K::kBulk);
    const auto& db3 = values["db.3"];
    ASSERT_EQ(db3.elements.size(), 6u);
    EXPECT_EQ(db3.elements[0].str, "overhead.hashtable.main");
    EXPECT_GT(db3.elements[1].integer, 16);  // buckets, link, header, TTL slot
    EXPECT_EQ(db3.elements[2].str, "overhead.hashtable.expires");
    EXPECT_EQ(db3.elements[3].integer, 0);  // TTLs live in the entries
    EXPECT_EQ(db3.elements[4].str, "overhead.hashtable.slot-to-keys");
    EXPECT_EQ(db3.elements[5].integer, 0);
  }
}

TEST(MemoryCommands, DoctorPurgeMallocStatsHelp) {
  Runner r;
  const auto doctor = r.run({"MEMORY", "DOCTOR"});
  EXPECT_TRUE(doctor.str.starts_with("Hi Sam") || doctor.str.starts_with("Sam, I detected"))
      << doctor.str;
  EXPECT_EQ(S(r.run({"MEMORY", "PURGE"})), "OK");
  EXPECT_TRUE(r.run({"MEMORY", "MALLOC-STATS"}).str.starts_with("setd: "));
  const auto help = r.run({"MEMORY", "HELP"});
  ASSERT_EQ(help.elements.size(), 14u);
  EXPECT_EQ(help.elements[0].str,
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(help.elements[9].str, "USAGE <key> [SAMPLES <count>]");
  EXPECT_EQ(S(r.run({"MEMORY", "STATS", "x"})),
            "(error) ERR wrong number of arguments for 'memory|stats' command");
  EXPECT_EQ(S(r.run({"MEMORY", "foo"})), "(error) ERR unknown subcommand 'foo'. Try MEMORY HELP.");
}

}  // namespace
}  // namespace setd::testing

// DEBUG against redis-server 7.0: OBJECT, DIGEST / DIGEST-VALUE (the same
// dataset digests to the same hex on both), SET-ACTIVE-EXPIRE,
// QUICKLIST-PACKED-THRESHOLD, CHANGE-REPL-ID, HELP and the errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

const std::vector<std::string> kDebugOn = {"--enable-debug-command", "yes"};

// DEBUG OBJECT's "name:value" fields ("Value at" is "at").
std::map<std::string, std::string> object_fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    const size_t colon = word.find(':');
    if (colon == std::string::npos) continue;
    out[word.substr(0, colon)] = word.substr(colon + 1);
  }
  return out;
}

// The Redis 7.0 help lines of the subcommands setd has, in Redis's order.
std::vector<std::string> help_lines(Client& c) {
  std::vector<std::string> out;
  for (const auto& e : c.call({"DEBUG", "HELP"}).elements) out.push_back(e.str);
  return out;
}

// Both servers answer DEBUG DIGEST and DEBUG DIGEST-VALUE for every key
// (and a missing one) in every database the same.
void compare_digests(Differential& d, const std::map<int, std::vector<std::string>>& keys) {
  d.run({"DEBUG", "DIGEST"});
  for (const auto& [db, names] : keys) {
    d.run({"SELECT", std::to_string(db)});
    std::vector<std::string> cmd = {"DEBUG", "DIGEST-VALUE"};
    cmd.insert(cmd.end(), names.begin(), names.end());
    cmd.emplace_back("no-such-key");
    d.run(cmd);
  }
  d.run({"SELECT", "0"});
}

TEST(DebugVsRedis, HelpListsRedisLinesAndErrorsMatch) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(11, kDebugOn, kDebugOn);
  const auto mine = help_lines(d.setd());
  const auto theirs = help_lines(d.redis());
  ASSERT_GE(mine.size(), 4u);
  EXPECT_EQ(mine.front(), theirs.front());
  EXPECT_EQ(mine.back(), theirs.back());
  // Every line of setd's help is Redis's, in Redis's order.
  size_t at = 1;
  for (size_t i = 1; i + 2 < mine.size(); ++i) {
    while (at < theirs.size() && theirs[at] != mine[i]) ++at;
    EXPECT_LT(at, theirs.size()) << "not in Redis's DEBUG HELP (or out of order): " << mine[i];
    ++at;
  }
  for (const std::string sub :
       {"CHANGE-REPL-ID", "DIGEST", "DIGEST-VALUE <key> [<key> ...]", "LOADAOF", "OBJECT <key>",
        "RELOAD [option ...]", "SET-ACTIVE-EXPIRE <0|1>", "QUICKLIST-PACKED-THRESHOLD <size>",
        "SLEEP <seconds>"})
    EXPECT_NE(std::find(mine.begin(), mine.end(), sub), mine.end()) << sub;

  d.run({"SET", "k", "v"});
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"DEBUG", "NOSUCHSUBCOMMAND"},
           {"DEBUG", "nosuch", "a", "b"},
           {"DEBUG", "OBJECT"},
           {"DEBUG", "object", "k", "extra"},
           {"DEBUG", "OBJECT", "missing"},
           {"DEBUG", "DIGEST", "k"},
           {"DEBUG", "DIGEST-VALUE"},
           {"DEBUG", "SET-ACTIVE-EXPIRE"},
           {"DEBUG", "SET-ACTIVE-EXPIRE", "1", "2"},
           {"DEBUG", "QUICKLIST-PACKED-THRESHOLD"},
           {"DEBUG", "CHANGE-REPL-ID", "x"},
           {"DEBUG", "HELP", "x"},
       })
    d.run(cmd);
  // QUICKLIST-PACKED-THRESHOLD: a memory size up to 4gb - 1mb (0 restores
  // the default).
  for (const std::string sz : {"0",
                               "1",
                               "100",
                               "1k",
                               "10kb",
                               "1mb",
                               "1g",
                               "1gb",
                               "3gb",
                               "4095mb",
                               "4096mb",
                               "4gb",
                               "4293918720",
                               "4293918721",
                               "4294967296",
                               "5g",
                               "-1",
                               "abc",
                               "1.5",
                               "+5",
                               "",
                               "k",
                               "b",
                               "1 ",
                               "12x",
                               "99999999999999999999999",
                               "18446744073709551615",
                               "1KB",
                               "2GB",
                               "1T"})
    d.run({"DEBUG", "QUICKLIST-PACKED-THRESHOLD", sz});
  for (const std::string v : {"0", "1", "abc", "2", "-1", "0x1", "1"})
    d.run({"DEBUG", "SET-ACTIVE-EXPIRE", v});
  d.run({"DEBUG", "CHANGE-REPL-ID"});
  EXPECT_EQ(d.mismatches(), 0u);
}

TEST(DebugVsRedis, DigestOfTheSameDatasetIsRedisDigest) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(12, kDebugOn, kDebugOn);
  // An empty dataset: 40 zeros.
  const auto [empty, unused] = d.run({"DEBUG", "DIGEST"});
  EXPECT_EQ(empty.str, std::string(40, '0'));

  std::map<int, std::vector<std::string>> keys;
  auto cmd = [&](int db, std::vector<std::string> args) {
    d.run({"SELECT", std::to_string(db)});
    keys[db].push_back(args[1]);
    d.run(args);
  };
  // Strings of every encoding: shared and other int-encoded integers,
  // embstr, raw, and raw made by APPEND / SETRANGE.
  cmd(0, {"SET", "str", "hello"});
  cmd(0, {"SET", "int-shared", "123"});
  cmd(0, {"SET", "int-big", "12345678901"});
  cmd(0, {"SET", "int-neg", "-42"});
  cmd(0, {"SET", "int-min", "-9223372036854775808"});
  cmd(0, {"SET", "not-int", "0123"});
  cmd(0, {"SET", "embstr", std::string(40, 'e')});
  cmd(0, {"SET", "raw", std::string(300, 'r')});
  cmd(0, {"SET", "empty", ""});
  cmd(0, {"SET", "binary", std::string("a\0b\r\n", 5)});
  cmd(0, {"APPEND", "appended", "12"});
  cmd(0, {"SETRANGE", "ranged", "3", "xy"});
  cmd(0, {"INCRBY", "counter", "7"});
  // Sets: intset (16, 32 and 64-bit members), hashtable, an intset grown
  // past set-max-intset-entries.
  cmd(0, {"SADD", "intset16", "1", "2", "3", "-7"});
  cmd(0, {"SADD", "intset32", "1", "100000", "-100000"});
  cmd(0, {"SADD", "intset64", "5", "10000000000", "-9223372036854775808"});
  cmd(0, {"SADD", "hashtable", "a", "b", "c", "1", "007"});
  {
    std::vector<std::string> big = {"SADD", "big-ints"};
    for (int i = 0; i < 600; ++i) big.push_back(std::to_string(i * 3));
    cmd(0, big);
    std::vector<std::string> strs = {"SADD", "big-strs"};
    for (int i = 0; i < 300; ++i) strs.push_back("member:" + std::to_string(i));
    cmd(0, strs);
  }
  // TTLs, on strings and sets.
  cmd(0, {"SET", "ttl-str", "v", "EX", "1000"});
  cmd(0, {"SADD", "ttl-set", "x", "y"});
  d.run({"EXPIRE", "ttl-set", "5000"});
  cmd(0, {"SET", "ttl-int", "77", "PX", "900000"});
  compare_digests(d, keys);

  // The same keys in other databases: a different digest, Redis's.
  cmd(1, {"SET", "str", "hello"});
  cmd(1, {"SADD", "intset16", "1", "2", "3", "-7"});
  cmd(3, {"SADD", "s", "m1", "m2"});
  cmd(3, {"SET", "n", "5", "EX", "100"});
  cmd(15, {"SET", "last", "db"});
  compare_digests(d, keys);

  // Changes move the digest the same way: a member out, a TTL dropped, an
  // integer grown, a key gone, a whole database flushed.
  d.run({"SREM", "hashtable", "007"});
  d.run({"PERSIST", "ttl-str"});
  d.run({"INCR", "int-shared"});
  d.run({"DEL", "raw"});
  d.run({"SELECT", "3"});
  d.run({"FLUSHDB"});
  keys.erase(3);
  d.run({"SELECT", "0"});
  compare_digests(d, keys);

  // A random dataset of strings and sets.
  for (int i = 0; i < 400; ++i) {
    const int db = static_cast<int>(d.pick(4));
    const std::string key = "rk:" + std::to_string(d.pick(150));
    switch (d.pick(5)) {
      case 0:
        cmd(db, {"SET", key, std::to_string(d.between(-100000, 100000))});
        break;
      case 1:
        cmd(db, {"SET", key, std::string(d.pick(60), static_cast<char>('a' + d.pick(26)))});
        break;
      case 2:
        cmd(db, {"SADD", key, std::to_string(d.between(-1000, 1000)),
                 std::to_string(d.between(-100, 100))});
        break;
      case 3:
        cmd(db, {"SADD", key, "m" + std::to_string(d.pick(50)), std::to_string(d.pick(50))});
        break;
      default:
        d.run({"SELECT", std::to_string(db)});
        d.run({"PEXPIRE", key, std::to_string(d.between(100000, 900000))});
        break;
    }
  }
  compare_digests(d, keys);
  // Order of insertion does not matter: the digest is the same after the
  // set is rebuilt in another order.
  d.run({"DEL", "order"});
  d.run({"SADD", "order", "c", "b", "a"});
  const auto [before, r1] = d.run({"DEBUG", "DIGEST-VALUE", "order"});
  d.run({"DEL", "order"});
  d.run({"SADD", "order", "a", "b", "c"});
  const auto [after, r2] = d.run({"DEBUG", "DIGEST-VALUE", "order"});
  EXPECT_EQ(before.to_string(), after.to_string());
  EXPECT_EQ(d.mismatches(), 0u);
}

TEST(DebugVsRedis, ObjectReportsRedisFields) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(13, kDebugOn, kDebugOn);
  std::vector<std::string> keys;
  auto add = [&](std::vector<std::string> args) {
    keys.push_back(args[1]);
    d.run(args);
  };
  add({"SET", "str", "hello"});
  add({"SET", "int-shared", "123"});
  add({"SET", "int-big", "12345678901"});
  add({"SET", "int32", "-2000000000"});
  add({"SET", "embstr", std::string(40, 'e')});
  add({"SET", "compressible", std::string(300, 'r')});
  add({"SET", "incompressible", "0123456789abcdefghijklmnopqrstuvwxyz!@#$%^&*()"});
  add({"APPEND", "appended", "12"});
  add({"SADD", "intset16", "1", "2", "3", "-7"});
  add({"SADD", "intset64", "5", "10000000000"});
  add({"SADD", "hashtable", "a", "b", "c", "1", "007"});
  {
    std::vector<std::string> big = {"SADD", "big-ints"};
    for (int i = 0; i < 600; ++i) big.push_back(std::to_string(i * 3));
    add(big);
    std::vector<std::string> intset = {"SADD", "intset-compressible"};
    for (int i = 0; i < 100; ++i) intset.push_back(std::to_string(i));
    add(intset);
  }
  add({"SET", "ttl", "v", "EX", "1000"});
  for (const auto& key : keys) {
    const RespValue mine = d.setd().call({"DEBUG", "OBJECT", key});
    const RespValue theirs = d.redis().call({"DEBUG", "OBJECT", key});
    ASSERT_EQ(mine.kind, RespValue::Kind::kSimple) << key << ": " << mine.to_string();
    auto m = object_fields(mine.str), t = object_fields(theirs.str);
    EXPECT_TRUE(mine.str.starts_with("Value at:0x")) << mine.str;
    for (const char* f : {"refcount", "encoding", "serializedlength"})
      EXPECT_EQ(m[f], t[f]) << key << " " << f << "\n  setd:  " << mine.str
                            << "\n  redis: " << theirs.str;
    EXPECT_NEAR(std::atoll(m["lru"].c_str()), std::atoll(t["lru"].c_str()), 2) << key;
    EXPECT_LE(std::atoll(m["lru_seconds_idle"].c_str()), 2) << key;
    EXPECT_EQ(m.size(), 6u) << mine.str;
    // The address is stable while the entry stays.
    EXPECT_EQ(d.setd().call({"DEBUG", "OBJECT", key}).str.substr(0, 30), mine.str.substr(0, 30));
  }
  // An idle time restored with the value.
  const std::string payload = d.setd().call({"DUMP", "str"}).str;
  for (Client* c : {&d.setd(), &d.redis()})
    ASSERT_EQ(c->call({"RESTORE", "idle", "0", payload, "IDLETIME", "1000"}).str, "OK");
  const auto mi = object_fields(d.setd().call({"DEBUG", "OBJECT", "idle"}).str);
  const auto ti = object_fields(d.redis().call({"DEBUG", "OBJECT", "idle"}).str);
  EXPECT_NEAR(std::atoll(mi.at("lru_seconds_idle").c_str()),
              std::atoll(ti.at("lru_seconds_idle").c_str()), 2);
  EXPECT_GE(std::atoll(mi.at("lru_seconds_idle").c_str()), 1000);
  EXPECT_EQ(d.mismatches(), 0u);
}

TEST(DebugVsRedis, SetActiveExpireStopsAndRestartsTheCron) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(14, kDebugOn, kDebugOn);
  d.run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
  for (int i = 0; i < 50; ++i) d.run({"SET", "k" + std::to_string(i), "v", "PX", "1"});
  d.run({"SADD", "s", "a"});
  d.run({"PEXPIRE", "s", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // Not reclaimed: counted by DBSIZE, seen by DEBUG OBJECT / DIGEST-VALUE
  // (which never expire), and in the dataset digest.
  d.run({"DBSIZE"});
  d.run({"DEBUG", "DIGEST"});
  d.run({"DEBUG", "DIGEST-VALUE", "k1", "s"});
  EXPECT_EQ(d.setd().call({"DEBUG", "OBJECT", "k1"}).kind, RespValue::Kind::kSimple);
  // Accessed, a key still expires.
  d.run({"GET", "k1"});
  d.run({"DBSIZE"});
  d.run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         (d.setd().call({"DBSIZE"}).integer != 0 || d.redis().call({"DBSIZE"}).integer != 0))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  d.run({"DBSIZE"});
  d.run({"DEBUG", "DIGEST"});
  EXPECT_EQ(d.setd().call({"DBSIZE"}).integer, 0);
  EXPECT_EQ(d.mismatches(), 0u);
}

TEST(DebugVsRedis, ChangeReplIdMakesANewIdAndClearsTheSecond) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), as_redis70(kDebugOn));
  Client c(setd.port());
  auto field = [&](const std::string& name) {
    const std::string info = c.call({"INFO", "replication"}).str;
    const std::regex re(name + ":([^\r\n]*)");
    std::smatch m;
    return std::regex_search(info, m, re) ? m[1].str() : std::string("<missing>");
  };
  const std::string before = field("master_replid");
  EXPECT_EQ(c.call({"DEBUG", "CHANGE-REPL-ID"}).to_string(), "OK");
  const std::string after = field("master_replid");
  EXPECT_NE(before, after);
  EXPECT_TRUE(std::regex_match(after, std::regex("[0-9a-f]{40}"))) << after;
  EXPECT_EQ(field("master_replid2"), std::string(40, '0'));
  EXPECT_EQ(field("second_repl_offset"), "-1");
}

}  // namespace
}  // namespace setd::testing

// Keyspace commands over real sockets: the command metadata and the
// key-independent replies compared with redis-server itself, the SCAN
// guarantee while other clients add and delete keys, and active expiry of
// keys nobody touches.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

const std::vector<std::string> kKeyCommands = {
    "del",   "unlink", "exists",  "type",       "rename",     "renamenx",
    "copy",  "move",   "swapdb",  "keys",       "scan",       "randomkey",
    "touch", "object", "expire",  "pexpire",    "expireat",   "pexpireat",
    "ttl",   "pttl",   "persist", "expiretime", "pexpiretime"};

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

class KeysSetd : public SetdSuite {};

// Creates `key` with some command setd has on this build (SADD from the set
// family or SET from the string family); false if neither exists yet.
bool create_key(Client& c, const std::string& key) {
  auto r = c.call({"SADD", key, "m"});
  if (r.kind == RespValue::Kind::kInteger) return true;
  r = c.call({"SET", key, "v"});
  return r.kind == RespValue::Kind::kSimple;
}

// Redis lists a container's subcommands in its hash table's order, which
// changes from one process to the next: put them in a canonical order.
RespValue canonical(RespValue v, bool docs) {
  if (docs) {
    // [name, {..., "subcommands", {name: doc, ...}}]
    if (v.elements.size() != 2) return v;
    auto& fields = v.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "subcommands") continue;
      auto& subs = fields[i + 1].elements;
      std::vector<std::pair<std::string, std::pair<RespValue, RespValue>>> pairs;
      for (size_t j = 0; j + 1 < subs.size(); j += 2)
        pairs.push_back({subs[j].str, {subs[j], subs[j + 1]}});
      std::sort(pairs.begin(), pairs.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      subs.clear();
      for (auto& p : pairs) {
        subs.push_back(p.second.first);
        subs.push_back(p.second.second);
      }
    }
  } else if (v.elements.size() == 1 && v.elements[0].elements.size() == 10) {
    auto& subs = v.elements[0].elements[9].elements;
    std::sort(subs.begin(), subs.end(), [](const RespValue& a, const RespValue& b) {
      return a.elements[0].str < b.elements[0].str;
    });
  }
  return v;
}

TEST(KeysVsRedis, CommandInfoAndDocsMatch) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  for (int proto = 2; proto <= 3; ++proto) {
    s.call({"HELLO", std::to_string(proto)});
    r.call({"HELLO", std::to_string(proto)});
    for (const auto& name : kKeyCommands) {
      for (const char* what : {"INFO", "DOCS"}) {
        const bool docs = std::string_view(what) == "DOCS";
        const auto mine = canonical(s.call({"COMMAND", what, name}), docs).to_string();
        const auto theirs = canonical(r.call({"COMMAND", what, name}), docs).to_string();
        EXPECT_EQ(mine, theirs) << "RESP" << proto << " COMMAND " << what << " " << name;
      }
    }
  }
}

TEST(KeysVsRedis, KeyIndependentRepliesMatch) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  const std::vector<std::vector<std::string>> script = {
      {"DEL", "a", "b"},
      {"UNLINK", "a"},
      {"EXISTS", "a", "a"},
      {"TYPE", "a"},
      {"TOUCH", "a", "b"},
      {"RENAME", "a", "b"},
      {"RENAME", "a", "a"},
      {"RENAMENX", "a", "b"},
      {"COPY", "a", "b"},
      {"COPY", "a", "a"},
      {"COPY", "a", "a", "DB", "1"},
      {"COPY", "a", "b", "DB"},
      {"COPY", "a", "b", "DB", "x"},
      {"COPY", "a", "b", "DB", "16"},
      {"COPY", "a", "b", "DB", "99999999999"},
      {"COPY", "a", "b", "REPLACE", "FOO"},
      {"MOVE", "a", "0"},
      {"MOVE", "a", "1"},
      {"MOVE", "a", "16"},
      {"MOVE", "a", "-1"},
      {"MOVE", "a", "x"},
      {"MOVE", "a", "2147483648"},
      {"SWAPDB", "0", "0"},
      {"SWAPDB", "0", "1"},
      {"SWAPDB", "x", "1"},
      {"SWAPDB", "0", "y"},
      {"SWAPDB", "0", "16"},
      {"SWAPDB", "-1", "0"},
      {"KEYS", "*"},
      {"KEYS", "[a"},
      {"SCAN", "0"},
      {"SCAN", ""},
      {"SCAN", "-1"},
      {"SCAN", " 0"},
      {"SCAN", "0 "},
      {"SCAN", "abc"},
      {"SCAN", "18446744073709551616"},
      {"SCAN", "0", "COUNT", "0"},
      {"SCAN", "0", "COUNT", "-5"},
      {"SCAN", "0", "COUNT", "x"},
      {"SCAN", "0", "COUNT"},
      {"SCAN", "0", "MATCH", "*", "TYPE", "set", "COUNT", "100"},
      {"SCAN", "0", "BOGUS", "x"},
      {"RANDOMKEY"},
      {"OBJECT", "HELP"},
      {"OBJECT", "ENCODING", "a"},
      {"OBJECT", "REFCOUNT", "a"},
      {"OBJECT", "IDLETIME", "a"},
      {"OBJECT", "FREQ", "a"},
      {"OBJECT", "NOPE", "a"},
      {"OBJECT", "ENCODING"},
      {"OBJECT"},
      {"EXPIRE", "a", "10"},
      {"EXPIRE", "a", "x"},
      {"EXPIRE", "a", "10", "NX", "XX"},
      {"EXPIRE", "a", "10", "GT", "LT"},
      {"EXPIRE", "a", "10", "LT", "NX"},
      {"EXPIRE", "a", "x", "WHAT"},
      {"EXPIRE", "a", "10", "bad\r\nopt"},
      {"EXPIRE", "a", "9223372036854775"},
      {"EXPIRE", "a", "-9223372036854776"},
      {"PEXPIRE", "a", "9223372036854775807"},
      {"EXPIREAT", "a", "9223372036854776"},
      {"PEXPIREAT", "a", "9223372036854775807"},
      {"TTL", "a"},
      {"PTTL", "a"},
      {"EXPIRETIME", "a"},
      {"PEXPIRETIME", "a"},
      {"PERSIST", "a"},
      {"DEL"},
      {"TTL"},
      {"EXPIRE", "a"},
      {"HELLO", "3"},
      {"OBJECT", "ENCODING", "a"},
      {"RANDOMKEY"},
      {"SCAN", "0"},
      {"KEYS", "*"},
  };
  Client s(setd.port()), r(redis.port());
  for (const auto& cmd : script) {
    std::string shown;
    for (const auto& a : cmd) shown += a + " ";
    if (cmd[0] == "HELLO") {  // server facts differ; only switch both to RESP3
      s.call(cmd);
      r.call(cmd);
      continue;
    }
    EXPECT_EQ(s.call(cmd).to_string(), r.call(cmd).to_string()) << shown;
  }
}

TEST_F(KeysSetd, ScanGuaranteeWhileOtherClientsWrite) {
  Client c(port());
  if (!create_key(c, "probe")) GTEST_SKIP() << "no SADD/SET in this build yet";
  c.call({"FLUSHALL"});
  // Pipeline the initial keys.
  std::string batch;
  const bool use_sadd = c.call({"SADD", "probe", "m"}).kind == RespValue::Kind::kInteger;
  auto make = [&](const std::string& k) {
    return use_sadd ? Client::encode({"SADD", k, "m"}) : Client::encode({"SET", k, "v"});
  };
  std::set<std::string> stable;
  for (int i = 0; i < 2000; ++i) {
    batch += make("stable:" + std::to_string(i));
    stable.insert("stable:" + std::to_string(i));
    batch += make("tmp:" + std::to_string(i));
  }
  c.send_raw(batch);
  for (int i = 0; i < 4000; ++i) ASSERT_TRUE(c.read().has_value());
  c.call({"DEL", "probe"});

  Client writer(port());
  std::set<std::string> seen;
  std::string cursor = "0";
  int step = 0, added = 0;
  do {
    auto v = c.call({"SCAN", cursor, "COUNT", "25"});
    ASSERT_EQ(v.elements.size(), 2u);
    cursor = v.elements[0].str;
    for (const auto& e : v.elements[1].elements) seen.insert(e.str);
    // Another client grows the table, then deletes the temporary keys.
    std::string w;
    if (step % 2 == 0) {
      for (int i = 0; i < 100; ++i) w += make("new:" + std::to_string(added++));
    } else {
      for (int i = 0; i < 100; ++i)
        w += Client::encode({"DEL", "tmp:" + std::to_string((step * 50 + i) % 2000)});
    }
    writer.send_raw(w);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer.read().has_value());
    ++step;
  } while (cursor != "0" && step < 100000);
  for (const auto& k : stable) ASSERT_TRUE(seen.count(k)) << k << " missed";

  // redis-cli --scan walks the whole keyspace through SCAN too.
  const std::string out = shell("redis-cli -p " + std::to_string(port()) +
                                " --scan --pattern 'stable:*' | sort -u | wc -l");
  EXPECT_EQ(out, "2000\n");
  c.call({"FLUSHALL"});
}

TEST_F(KeysSetd, ActiveExpiryReclaimsUntouchedKeys) {
  Client c(port());
  auto probe = c.call({"SET", "probe", "v", "PX", "100000"});
  if (probe.kind != RespValue::Kind::kSimple) GTEST_SKIP() << "SET ... PX not available yet";
  c.call({"FLUSHALL"});
  c.call({"CONFIG", "RESETSTAT"});
  std::string batch;
  for (int i = 0; i < 10000; ++i)
    batch +=
        Client::encode({"SET", "k:" + std::to_string(i), "v", "PX", std::to_string(100 + i % 201)});
  c.send_raw(batch);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(c.read().has_value());
  c.call({"SET", "keeper", "v"});
  // Only DBSIZE and INFO from now on: nothing looks the keys up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  long long size = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    size = c.call({"DBSIZE"}).integer;
    if (size == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(size, 1);
  const std::string info = c.call({"INFO", "stats"}).str;
  EXPECT_NE(info.find("expired_keys:10000\r\n"), std::string::npos) << info;
  const std::string keyspace = c.call({"INFO", "keyspace"}).str;
  EXPECT_NE(keyspace.find("db0:keys=1,expires=0,"), std::string::npos) << keyspace;
  c.call({"FLUSHALL"});
}

TEST_F(KeysSetd, ExpiryOfKeysThroughCommands) {
  Client c(port());
  if (!create_key(c, "t")) GTEST_SKIP() << "no SADD/SET in this build yet";
  EXPECT_EQ(c.call({"PEXPIRE", "t", "150"}).integer, 1);
  const long long pttl = c.call({"PTTL", "t"}).integer;
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 150);
  EXPECT_EQ(c.call({"PERSIST", "t"}).integer, 1);
  EXPECT_EQ(c.call({"TTL", "t"}).integer, -1);
  EXPECT_EQ(c.call({"PEXPIRE", "t", "50"}).integer, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(c.call({"EXISTS", "t"}).integer, 0);
}

}  // namespace
}  // namespace setd::testing

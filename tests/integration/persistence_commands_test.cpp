// Persistence commands against redis-server 7.0: DUMP / RESTORE payloads in
// both directions with every option and error, DEBUG RELOAD / LOADAOF, the
// counters of implicit saves, and INFO persistence's fields.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "differential.hpp"
#include "server_process.hpp"
#include "setd/persist/crc64.hpp"

namespace setd::testing {
namespace {

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

// The value of `key` as a comparable text: its type, value or sorted
// members, and its encoding.
std::string value_of(Client& c, const std::string& key) {
  const std::string type = c.call({"TYPE", key}).str;
  std::string out = type + " " + c.call({"OBJECT", "ENCODING", key}).to_string() + " ";
  if (type == "set") {
    auto members = c.call({"SMEMBERS", key}).elements;
    std::vector<std::string> sorted;
    for (const auto& m : members) sorted.push_back(m.str);
    std::sort(sorted.begin(), sorted.end());
    out += std::to_string(sorted.size()) + ":";
    for (const auto& m : sorted) out += m + ",";
  } else {
    out += c.call({"GET", key}).to_string();
  }
  return out;
}

// `body` + RDB version 10 + CRC-64: a DUMP payload with a valid footer.
std::string with_footer(std::string body) {
  body += std::string("\x0a\x00", 2);
  const uint64_t crc = persist::crc64(0, body);
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return body;
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE
// ---------------------------------------------------------------------------

TEST(PersistDumpVsRedis, PayloadsMoveBothWaysForEveryValueKind) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), as_redis70({}));
  ServerProcess redis("redis-server");
  Client s(setd.port(), 20000), r(redis.port(), 20000);
  fill_sample_dataset(s, 20000);
  fill_sample_dataset(r, 20000);
  const Dataset sample = capture_dataset(r);
  ASSERT_EQ(dataset_diff(sample, capture_dataset(s), {.expire_times = false}), "")
      << "the sample differs before any DUMP";
  size_t checked = 0;
  for (const auto& [db, keys] : sample) {
    for (Client* c : {&s, &r}) c->call({"SELECT", std::to_string(db)});
    for (const auto& [key, st] : keys) {
      const RespValue from_redis = r.call({"DUMP", key});
      const RespValue from_setd = s.call({"DUMP", key});
      ASSERT_EQ(from_redis.kind, RespValue::Kind::kBulk) << key;
      ASSERT_EQ(from_setd.kind, RespValue::Kind::kBulk) << key << ": " << from_setd.to_string();
      // Strings and intsets serialize to the same bytes; hashtable sets list
      // their members in each server's own order.
      if (st.encoding != "hashtable") {
        EXPECT_EQ(from_setd.str, from_redis.str) << "DUMP payload of " << printable(key);
      }
      // redis -> setd and setd -> redis, with REPLACE over a scratch key.
      const std::string copy = "copy:" + key;
      for (Client* c : {&s, &r}) c->call({"SET", copy, "old"});
      EXPECT_EQ(s.call({"RESTORE", copy, "0", from_redis.str, "REPLACE"}).to_string(), "OK")
          << printable(key);
      EXPECT_EQ(r.call({"RESTORE", copy, "0", from_setd.str, "REPLACE"}).to_string(), "OK")
          << printable(key);
      const std::string original = value_of(r, key);
      EXPECT_EQ(value_of(s, copy), original) << "redis DUMP -> setd RESTORE of " << printable(key);
      EXPECT_EQ(value_of(r, copy), original) << "setd DUMP -> redis RESTORE of " << printable(key);
      EXPECT_EQ(s.call({"PTTL", copy}).integer, -1);
      ++checked;
    }
  }
  EXPECT_EQ(checked, dataset_size(sample));
  // A type setd does not hold is refused (Redis takes it, of course).
  r.call({"SELECT", "0"});
  s.call({"SELECT", "0"});
  r.call({"HSET", "hash", "f", "v"});
  const RespValue hash = s.call({"RESTORE", "hash", "0", r.call({"DUMP", "hash"}).str});
  EXPECT_TRUE(hash.is_error()) << hash.to_string();
  EXPECT_EQ(s.call({"EXISTS", "hash"}).integer, 0);
  EXPECT_TRUE(s.call({"DUMP", "missing"}).is_null());
}

TEST(PersistDumpVsRedis, RestoreOptionsAndErrorsMatchRedis) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Differential d(1);
  Client& r = d.redis();
  Client& s = d.setd();
  d.run({"SET", "src", "hello"});
  d.run({"SADD", "srcset", "1", "2", "3"});
  const std::string str = r.call({"DUMP", "src"}).str;
  const std::string set = r.call({"DUMP", "srcset"}).str;
  std::string bad_crc = str;
  bad_crc.back() = static_cast<char>(bad_crc.back() ^ 0x01);
  std::string bad_body = str;
  bad_body[2] = static_cast<char>(bad_body[2] ^ 0x20);
  std::string new_version = str;
  new_version[new_version.size() - 10] = 99;  // RDB version 99
  // A good footer around a string that claims 200 bytes and has 2 (and
  // the footer).
  const std::string bad_format = with_footer(std::string("\x00\x40\xc8", 3) + "ab");
  const std::string future = std::to_string(unix_ms() + 10000000);

  const std::vector<std::vector<std::string>> cmds = {
      {"RESTORE", "k", "0", str},
      {"RESTORE", "k", "0", str},
      {"RESTORE", "k", "abc", str},  // BUSYKEY is checked first
      {"RESTORE", "k", "0", set, "REPLACE"},
      {"TYPE", "k"},
      {"RESTORE", "k", "-1", str, "REPLACE"},
      {"RESTORE", "k", "abc", str, "REPLACE"},
      {"RESTORE", "k", "0", str, "REPLACE", "EXTRA"},
      {"RESTORE", "k", "0", str, "FREQ", "256", "REPLACE"},
      {"RESTORE", "k", "0", str, "FREQ", "-1", "REPLACE"},
      {"RESTORE", "k", "0", str, "FREQ", "x", "REPLACE"},
      {"RESTORE", "k", "0", str, "REPLACE", "FREQ"},
      {"RESTORE", "k", "0", str, "IDLETIME", "-1", "REPLACE"},
      {"RESTORE", "k", "0", str, "IDLETIME", "1", "FREQ", "1", "REPLACE"},
      {"RESTORE", "k", "0", str, "FREQ", "1", "IDLETIME", "1", "REPLACE"},
      {"RESTORE", "k", "0", str, "FREQ", "255", "REPLACE"},
      {"RESTORE", "k2", "0", bad_crc},
      {"RESTORE", "k2", "0", bad_body},
      {"RESTORE", "k2", "0", new_version},
      {"RESTORE", "k2", "0", "short"},
      {"RESTORE", "k2", "0", ""},
      {"RESTORE", "k2", "0", bad_format},
      {"EXISTS", "k2"},
      {"RESTORE", "k2", "0"},
      // TTL in the past: OK, and no key (a replaced one is deleted).
      {"RESTORE", "past", "1", str, "ABSTTL"},
      {"EXISTS", "past"},
      {"RESTORE", "k", "1", str, "ABSTTL", "REPLACE"},
      {"EXISTS", "k"},
      // Absolute and relative TTLs.
      {"RESTORE", "abs", future, str, "ABSTTL"},
      {"PEXPIRETIME", "abs"},
      {"RESTORE", "rel", "100000", set},
      {"RESTORE", "idle", "0", str, "IDLETIME", "1000"},
      {"OBJECT", "FREQ", "idle"},
      {"RESTORE", "freq", "0", set, "FREQ", "100"},
      {"SMEMBERS", "freq"},
      {"DUMP", "nothing"},
  };
  for (const auto& cmd : cmds)
    d.run(cmd, cmd[0] == "SMEMBERS" ? Compare::kUnordered : Compare::kExact);
  const long long pttl = s.call({"PTTL", "rel"}).integer;
  EXPECT_GT(pttl, 95000);
  EXPECT_LE(pttl, 100000);
  const long long idle = s.call({"OBJECT", "IDLETIME", "idle"}).integer;
  EXPECT_GE(idle, 1000) << "IDLETIME 1000";
  EXPECT_LE(idle, 1005);
  EXPECT_EQ(d.mismatches(), 0u);
}

// ---------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------

TEST(PersistDebugVsRedis, RefusedByDefaultWithRedisText) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Differential d(2);
  d.run({"SET", "k", "v"});
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"DEBUG", "RELOAD"}, {"DEBUG", "LOADAOF"}, {"DEBUG", "SLEEP", "0"}, {"DEBUG", "HELP"}})
    d.run(cmd);
  const auto [mine, theirs] = d.run({"DEBUG", "RELOAD"});
  EXPECT_TRUE(mine.str.starts_with(
      "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "))
      << mine.str;
  d.run({"GET", "k"});
  EXPECT_EQ(d.mismatches(), 0u);
}

TEST(PersistDebugVsRedis, ReloadKeepsDataAndItsOptionsBehaveLikeRedis) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), as_redis70({"--enable-debug-command", "yes"}));
  ServerProcess redis("redis-server", {"--enable-debug-command", "yes"});
  Client s(setd.port(), 20000), r(redis.port(), 20000);
  fill_sample_dataset(s, 3000);
  const Dataset original = capture_dataset(s);
  // Both servers hold the same data with the same expiry instants.
  for (const auto& [db, keys] : original) {
    r.call({"SELECT", std::to_string(db)});
    s.call({"SELECT", std::to_string(db)});
    for (const auto& [key, st] : keys) {
      ASSERT_EQ(r.call({"RESTORE", key, std::to_string(st.pexpiretime < 0 ? 0 : st.pexpiretime),
                        s.call({"DUMP", key}).str, "ABSTTL"})
                    .to_string(),
                "OK");
    }
  }
  r.call({"SELECT", "0"});
  s.call({"SELECT", "0"});
  ASSERT_EQ(dataset_diff(original, capture_dataset(r), {.encodings = false}), "");

  auto both = [&](const std::vector<std::string>& cmd) {
    const RespValue a = s.call(cmd), b = r.call(cmd);
    EXPECT_EQ(a.to_string(), b.to_string()) << cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "");
    return a;
  };
  auto same_data = [&](const std::string& when) {
    const Dataset mine = capture_dataset(s);
    EXPECT_EQ(dataset_diff(capture_dataset(r), mine), "") << "setd vs redis " << when;
    return mine;
  };

  EXPECT_EQ(both({"DEBUG", "RELOAD"}).to_string(), "OK");
  EXPECT_EQ(dataset_diff(original, same_data("after DEBUG RELOAD")), "") << "DEBUG RELOAD";

  // NOSAVE: back to what the dump holds.
  both({"SET", "str:short", "changed"});
  both({"SADD", "new-set", "x"});
  both({"DEL", "set:ht"});
  EXPECT_EQ(both({"DEBUG", "RELOAD", "NOSAVE"}).to_string(), "OK");
  EXPECT_EQ(dataset_diff(original, same_data("after DEBUG RELOAD NOSAVE")), "")
      << "DEBUG RELOAD NOSAVE";

  // NOFLUSH MERGE: the dump's keys replace the ones in memory, the others stay.
  both({"SET", "str:short", "changed"});
  both({"SADD", "new-set", "x"});
  both({"SELECT", "3"});
  both({"SET", "db3-key", "y"});
  both({"SELECT", "0"});
  EXPECT_EQ(both({"DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"}).to_string(), "OK");
  const Dataset merged = same_data("after DEBUG RELOAD NOSAVE NOFLUSH MERGE");
  EXPECT_EQ(s.call({"GET", "str:short"}).str, "hello world");
  EXPECT_EQ(s.call({"SMEMBERS", "new-set"}).to_string(), "[\"x\"]");
  EXPECT_EQ(dataset_size(merged), dataset_size(original) + 2);

  both({"DEBUG", "RELOAD", "BADOPTION"});
  both({"DEBUG", "RELOAD", "NOSAVE", "MERGE", "BAD"});
  both({"DEBUG", "NOSUCHSUBCOMMAND"});
  EXPECT_EQ(both({"DEBUG", "SLEEP", "0"}).to_string(), "OK");
}

TEST(PersistDebugVsRedis, LoadaofReloadsTheAof) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  const std::vector<std::string> opts = {
      "--enable-debug-command", "yes", "--appendonly", "yes", "--dir", dir.path()};
  Dataset before;
  {
    ServerProcess setd(setd_binary(), as_redis70(opts));
    ServerProcess redis("redis-server", {"--enable-debug-command", "yes", "--appendonly", "yes"});
    Client s(setd.port()), r(redis.port());
    for (Client* c : {&s, &r}) {
      fill_sample_dataset(*c, 2000);
      c->call({"SPOP", "set:ht"});
      c->call({"INCRBYFLOAT", "str:int32", "0.5"});
    }
    before = capture_dataset(s);
    // Twice: DEBUG LOADAOF is no write of its own, it must not end up in
    // the AOF it reloads.
    for (int i = 0; i < 2; ++i) {
      s.send({"DEBUG", "LOADAOF"});
      const auto mine = s.read();
      ASSERT_TRUE(mine.has_value() && setd.running())
          << "setd died on DEBUG LOADAOF #" << i + 1 << " (wait status " << setd.stop() << ")";
      EXPECT_EQ(mine->to_string(), r.call({"DEBUG", "LOADAOF"}).to_string())
          << "DEBUG LOADAOF #" << i + 1;
      EXPECT_EQ(dataset_diff(before, capture_dataset(s)), "") << "after DEBUG LOADAOF #" << i + 1;
      EXPECT_EQ(info_value(s, "rdb_changes_since_last_save"),
                info_value(r, "rdb_changes_since_last_save"));
    }
    // The AOF is still appended to afterwards.
    s.call({"SET", "after-loadaof", "1"});
    before = capture_dataset(s);
  }
  // setd must start again on that AOF.
  const ServerRun run = run_server(setd_binary(), opts, 5000);
  ASSERT_TRUE(run.answered) << "restart on the AOF after DEBUG LOADAOF: " << run.describe();
  ServerProcess setd(setd_binary(), as_redis70(opts));
  Client s(setd.port());
  EXPECT_EQ(dataset_diff(before, capture_dataset(s)), "") << "after a restart";
}

// ---------------------------------------------------------------------------
// Counters of saves and INFO persistence
// ---------------------------------------------------------------------------

// Saves Redis makes on its own (FLUSHALL with save points, DEBUG RELOAD)
// count as Redis counts them.
TEST(PersistInfoVsRedis, ImplicitSavesCountLikeRedis) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  const std::vector<std::string> opts = {"--save", "3600 1", "--enable-debug-command", "yes"};
  ServerProcess setd(setd_binary(), as_redis70(opts));
  ServerProcess redis("redis-server", opts);
  Client s(setd.port()), r(redis.port());
  auto compare = [&](const std::string& when) {
    for (const char* f : {"rdb_changes_since_last_save", "rdb_saves", "rdb_last_bgsave_status"})
      EXPECT_EQ(info_value(s, f), info_value(r, f)) << f << " after " << when;
  };
  for (Client* c : {&s, &r}) {
    c->call({"SET", "a", "1"});
    c->call({"SADD", "s", "x", "y"});
  }
  compare("writes");
  for (Client* c : {&s, &r}) c->call({"FLUSHALL"});
  compare("FLUSHALL");
  for (Client* c : {&s, &r}) c->call({"SET", "b", "1"});
  for (Client* c : {&s, &r}) c->call({"DEBUG", "RELOAD"});
  compare("DEBUG RELOAD");
  for (Client* c : {&s, &r}) c->call({"SAVE"});
  compare("SAVE");
}

TEST(PersistInfoVsRedis, PersistenceFieldsInRedisOrder) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  for (const char* aof : {"no", "yes"}) {
    ServerProcess setd(setd_binary(), as_redis70({"--appendonly", aof}));
    ServerProcess redis("redis-server", {"--appendonly", aof});
    Client s(setd.port()), r(redis.port());
    std::vector<std::string> mine, theirs;
    for (const auto& [k, v] : info_fields(s, "persistence")) mine.push_back(k);
    for (const auto& [k, v] : info_fields(r, "persistence")) theirs.push_back(k);
    EXPECT_EQ(mine, theirs) << "appendonly " << aof;
    EXPECT_EQ(info_value(s, "aof_enabled"), std::string(aof) == "yes" ? "1" : "0");
    // The section header too.
    EXPECT_TRUE(s.call({"INFO", "persistence"}).str.starts_with("# Persistence\r\n"));
  }
}

}  // namespace
}  // namespace setd::testing

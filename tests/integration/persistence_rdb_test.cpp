// RDB persistence of a running setd over real sockets: SAVE / BGSAVE and
// restart on the same directory, the INFO persistence counters, dumps moving
// between setd and redis-server 7.0 in both directions, point-in-time
// BGSAVE while clients write, and what SHUTDOWN, SIGTERM and FLUSHALL save.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataset.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

bool have_redis_tools() {
  return !shell("command -v redis-server").empty() && !shell("command -v redis-check-rdb").empty();
}

// The keys=/expires= part of each db line of INFO keyspace.
std::map<std::string, std::string> keyspace_counts(Client& c) {
  std::map<std::string, std::string> out;
  for (const auto& [db, v] : info_fields(c, "keyspace")) out[db] = v.substr(0, v.find(",avg_ttl"));
  return out;
}

// Runs redis-check-rdb on `path`: "" when it accepts the file, else its
// exit status and output.
std::string redis_check_rdb(const std::string& path) {
  const std::string out = shell("redis-check-rdb '" + path + "' 2>&1; echo \"exit=$?\"");
  if (out.ends_with("exit=0\n")) return "";
  return out;
}

// ---------------------------------------------------------------------------
// SAVE / BGSAVE and restart
// ---------------------------------------------------------------------------

TEST(PersistRdb, SaveThenRestartRestoresEveryKeyValueTtlAndEncoding) {
  TempDir dir;
  Dataset before;
  std::map<std::string, std::string> counts_before;
  long long saved_at = 0;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port(), 20000);
    fill_sample_dataset(c);
    // From the first PTTL read: a loaded machine may take seconds to SAVE.
    saved_at = unix_ms();
    before = capture_dataset(c);
    counts_before = keyspace_counts(c);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
    ASSERT_TRUE(file_exists(dir.file("dump.rdb")));
    // No save points: SIGTERM does not save again, the restart reads SAVE's dump.
    c.call({"SET", "written-after-save", "x"});
  }
  // The sample itself: 37 keys in db 0, 3 in db 1, 200 in db 5, 2 in db 15.
  ASSERT_EQ(dataset_size(before), 37u + 3 + 200 + 2);
  ServerProcess setd(setd_binary(), {"--dir", dir.path()});
  Client c(setd.port(), 20000);
  const Dataset after = capture_dataset(c);
  // PTTL may only have gone down, by the time the restart took (and more).
  const long long elapsed = unix_ms() - saved_at + 1000;
  EXPECT_EQ(dataset_diff(before, after, {.pttl_slack = elapsed}), "");
  for (const auto& [db, keys] : after) {
    for (const auto& [k, st] : keys) {
      if (st.pttl < 0) continue;
      EXPECT_LE(st.pttl, before.at(db).at(k).pttl) << k;
    }
  }
  EXPECT_EQ(keyspace_counts(c), counts_before);
  EXPECT_EQ(c.call({"EXISTS", "written-after-save"}).integer, 0);
  EXPECT_EQ(info_value(c, "rdb_last_load_keys_loaded"), std::to_string(dataset_size(before)));
  EXPECT_EQ(info_value(c, "rdb_last_load_keys_expired"), "0");
}

// Keys created or changed after a first snapshot, by every kind of write,
// are in the next one (SAVE, then BGSAVE).
TEST(PersistRdb, WritesAfterAnEarlierSnapshotAreInTheNextOne) {
  TempDir dir;
  Dataset before;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port(), 20000);
    fill_sample_dataset(c, 5000);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
    apply_write_effects(c);
    before = capture_dataset(c);
    ASSERT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
    ASSERT_TRUE(wait_persistence_idle(c));
    ASSERT_EQ(info_value(c, "rdb_last_bgsave_status"), "ok");
  }
  ServerProcess setd(setd_binary(), {"--dir", dir.path()});
  Client c(setd.port(), 20000);
  // A load re-encodes (a hashtable set left with integers becomes an intset).
  EXPECT_EQ(dataset_diff(before, capture_dataset(c), {.encodings = false}), "");
}

TEST(PersistRdb, BgsaveInfoCountersAndLastsaveMatchRedis) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary(), as_redis70({}));
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  // Same writes, same counters.
  for (Client* c : {&s, &r}) {
    std::vector<std::vector<std::string>> cmds;
    for (int i = 0; i < 1500; ++i) cmds.push_back({"SET", "k" + std::to_string(i), "v"});
    cmds.push_back({"SADD", "set", "a", "b", "c"});
    cmds.push_back({"SADD", "set", "a", "d"});
    cmds.push_back({"DEL", "k0", "k1", "missing"});
    cmds.push_back({"SREM", "set", "zz"});
    call_pipelined(*c, cmds);
  }
  const std::vector<std::string> counters = {"rdb_changes_since_last_save", "rdb_saves",
                                             "rdb_bgsave_in_progress", "rdb_last_bgsave_status"};
  auto compare = [&](const std::string& when) {
    for (const auto& f : counters)
      EXPECT_EQ(info_value(s, f), info_value(r, f)) << f << " " << when;
  };
  compare("after the writes");
  EXPECT_EQ(info_value(s, "rdb_changes_since_last_save"), "1506") << "1500 SET, 4 SADD, 2 DEL";
  const long long lastsave0 = s.call({"LASTSAVE"}).integer;
  EXPECT_EQ(std::to_string(lastsave0), info_value(s, "rdb_last_save_time"));

  // A BGSAVE of at least 1.5 s: 1 ms per key.
  for (Client* c : {&s, &r}) {
    ASSERT_EQ(c->call({"CONFIG", "SET", "rdb-key-save-delay", "1000"}).str, "OK");
    ASSERT_EQ(c->call({"BGSAVE"}).str, "Background saving started");
  }
  EXPECT_EQ(info_value(s, "rdb_bgsave_in_progress"), "1");
  compare("while BGSAVE runs");
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"BGSAVE"}, {"BGSAVE", "SCHEDULE"}, {"SAVE"}, {"BGSAVE", "NOW"}}) {
    EXPECT_EQ(s.call(cmd).to_string(), r.call(cmd).to_string()) << cmd[0] << " during BGSAVE";
  }
  EXPECT_EQ(s.call({"SET", "during", "1"}).str, "OK");  // writes go on meanwhile
  r.call({"SET", "during", "1"});
  ASSERT_TRUE(wait_persistence_idle(s)) << "BGSAVE never finished";
  ASSERT_TRUE(wait_persistence_idle(r));
  compare("after BGSAVE");
  EXPECT_EQ(info_value(s, "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(info_value(s, "rdb_changes_since_last_save"), "1") << "the SET made during BGSAVE";
  EXPECT_EQ(info_value(s, "rdb_saves"), "1");
  const long long lastsave1 = s.call({"LASTSAVE"}).integer;
  EXPECT_GT(lastsave1, lastsave0) << "a BGSAVE of more than 1.5 s changes LASTSAVE";
  EXPECT_EQ(std::to_string(lastsave1), info_value(s, "rdb_last_save_time"));
  EXPECT_NE(info_value(s, "rdb_last_bgsave_time_sec"), "-1");
  EXPECT_EQ(redis_check_rdb(setd.dir() + "/dump.rdb"), "");

  // SAVE: counted too, and the counter of changes goes back to 0.
  for (Client* c : {&s, &r}) {
    c->call({"CONFIG", "SET", "rdb-key-save-delay", "0"});
    EXPECT_EQ(c->call({"SAVE"}).str, "OK");
  }
  compare("after SAVE");
  EXPECT_EQ(info_value(s, "rdb_changes_since_last_save"), "0");
  EXPECT_EQ(info_value(s, "rdb_saves"), "2");
}

// ---------------------------------------------------------------------------
// setd <-> redis-server 7.0
// ---------------------------------------------------------------------------

TEST(PersistRdbVsRedis, RedisCheckRdbAcceptsAndRedisLoadsSetdDump) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  Dataset from_setd;
  {
    ServerProcess setd(setd_binary(), as_redis70({"--dir", dir.path()}));
    Client c(setd.port(), 20000);
    fill_sample_dataset(c);
    from_setd = capture_dataset(c);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  }
  EXPECT_EQ(redis_check_rdb(dir.file("dump.rdb")), "");
  ServerProcess redis("redis-server", {"--dir", dir.path()});
  Client c(redis.port(), 20000);
  EXPECT_EQ(dataset_diff(from_setd, capture_dataset(c)), "");
}

// How many keys of `d` have encoding `enc`.
size_t count_encoding(const Dataset& d, const std::string& enc) {
  size_t n = 0;
  for (const auto& [db, keys] : d)
    for (const auto& [k, st] : keys) n += st.encoding == enc ? 1 : 0;
  return n;
}

// setd's default listpack sets are saved as plain RDB sets: redis-check-rdb
// accepts the dump and redis-server 7.0 loads every member (with its own
// encodings); setd loads its listpacks back.
TEST(PersistRdbVsRedis, RedisLoadsSetdDumpWithListpacks) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  Dataset from_setd;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port(), 20000);
    fill_sample_dataset(c);
    from_setd = capture_dataset(c);
    ASSERT_GT(count_encoding(from_setd, "listpack"), 10u);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  }
  EXPECT_EQ(redis_check_rdb(dir.file("dump.rdb")), "");
  {
    ServerProcess redis("redis-server", {"--dir", dir.path()});
    Client c(redis.port(), 20000);
    const Dataset in_redis = capture_dataset(c);
    EXPECT_EQ(dataset_diff(from_setd, in_redis, {.encodings = false}), "");
    EXPECT_EQ(count_encoding(in_redis, "listpack"), 0u);
  }
  ServerProcess setd(setd_binary(), {"--dir", dir.path()});
  Client c(setd.port(), 20000);
  EXPECT_EQ(dataset_diff(from_setd, capture_dataset(c)), "");
}

TEST(PersistRdbVsRedis, SetdLoadsRedisDump) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  Dataset from_redis;
  {
    ServerProcess redis("redis-server", {"--dir", dir.path()});
    Client c(redis.port(), 20000);
    fill_sample_dataset(c);
    from_redis = capture_dataset(c);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  }
  ServerProcess setd(setd_binary(), as_redis70({"--dir", dir.path()}));
  Client c(setd.port(), 20000);
  EXPECT_EQ(dataset_diff(from_redis, capture_dataset(c)), "");
  EXPECT_EQ(info_value(c, "rdb_last_load_keys_loaded"), std::to_string(dataset_size(from_redis)));
}

TEST(PersistRdbVsRedis, UnsupportedTypesStopStartUpUnlessSkipped) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  // One dump per unsupported type (each in its small and its big encoding),
  // then one with all of them.
  struct Case {
    std::string type;
    std::vector<std::vector<std::string>> commands;
  };
  std::vector<std::string> big_hash{"HSET", "hash:key"}, big_list{"RPUSH", "list:key"},
      big_zset{"ZADD", "zset:key"};
  for (int i = 0; i < 600; ++i) {
    big_hash.insert(big_hash.end(), {"f" + std::to_string(i), std::string(70, 'v')});
    big_list.push_back(std::string(70, 'e') + std::to_string(i));
    big_zset.insert(big_zset.end(), {std::to_string(i), std::string(70, 'm') + std::to_string(i)});
  }
  const std::vector<Case> cases = {
      {"hash", {{"HSET", "hash:key", "f", "v"}}},  {"hash", {big_hash}},
      {"list", {{"RPUSH", "list:key", "a", "b"}}}, {"list", {big_list}},
      {"zset", {{"ZADD", "zset:key", "1", "a"}}},  {"zset", {big_zset}},
  };
  auto make_dump = [&](const std::string& dir, const std::vector<std::vector<std::string>>& extra,
                       Dataset* supported) {
    ServerProcess redis("redis-server", {"--dir", dir});
    Client c(redis.port());
    c.call({"SET", "str", "kept"});
    c.call({"SADD", "set", "1", "2"});
    c.call({"SADD", "set2", "a", "b"});
    c.call({"SELECT", "3"});
    c.call({"SET", "str3", "kept too"});
    c.call({"SELECT", "0"});
    if (supported) *supported = capture_dataset(c);
    for (const auto& cmd : extra) ASSERT_FALSE(c.call(cmd).is_error()) << cmd[0];
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  };
  for (const auto& tc : cases) {
    TempDir dir;
    make_dump(dir.path(), tc.commands, nullptr);
    const std::string key = tc.commands[0][1];
    const ServerRun run = run_server(setd_binary(), {"--dir", dir.path()});
    EXPECT_TRUE(run.refused()) << tc.type << ": " << run.describe();
    EXPECT_NE(run.output.find(key), std::string::npos)
        << "the message names the key '" << key << "': " << run.output;
    EXPECT_NE(run.output.find(tc.type), std::string::npos)
        << "the message names the type " << tc.type << ": " << run.output;
    EXPECT_NE(run.output.find("rdb-skip-unsupported-types"), std::string::npos) << run.output;
  }
  // Everything at once, skipped: only the sets and strings are there.
  TempDir dir;
  Dataset supported;
  std::vector<std::vector<std::string>> all;
  for (const auto& tc : cases) all.push_back(tc.commands[0]);
  all.push_back({"HSET", "h2", "x", "y"});
  make_dump(dir.path(), all, &supported);
  ServerProcess setd(setd_binary(),
                     as_redis70({"--dir", dir.path(), "--rdb-skip-unsupported-types", "yes"}));
  Client c(setd.port());
  EXPECT_EQ(dataset_diff(supported, capture_dataset(c)), "");
}

// ---------------------------------------------------------------------------
// Point-in-time BGSAVE while clients write
// ---------------------------------------------------------------------------

// The writes of the test below, against a BGSAVE in progress.
struct MidSnapshotWriter {
  Client& c;
  std::mt19937_64 rng{20240611};
  size_t ops = 0;

  std::string pick(const char* prefix, int n) {
    return std::string(prefix) + std::to_string(std::uniform_int_distribution<int>(0, n - 1)(rng));
  }
  void run(const std::vector<std::string>& cmd) {
    const RespValue r = c.call(cmd);
    // RENAME of a key an earlier round deleted is the only expected error.
    if (r.is_error() && !(cmd[0] == "RENAME" && r.str == "ERR no such key"))
      ADD_FAILURE() << cmd[0] << " " << cmd[1] << ": " << r.str;
    ++ops;
  }
  // One round of changes in the current database (0, 2 or 3), keys named as
  // the test fills them.
  void round(int keys) {
    run({"SADD", pick("set:", keys), "marker:" + std::to_string(ops)});
    run({"SET", pick("str:", keys), "overwritten:" + std::to_string(ops)});
    run({"DEL", pick("set:", keys)});
    run({"DEL", pick("str:", keys)});
    run({"EXPIRE", pick("str:", keys), "5"});
    run({"PERSIST", pick("ttl:", keys)});
    run({"SREM", pick("set:", keys), "m0"});
    run({"SET", "after:" + std::to_string(ops), "new"});
    run({"SADD", "after:set:" + std::to_string(ops), "new"});
    run({"RENAME", pick("str:", keys), "after:renamed:" + std::to_string(ops)});
  }
};

TEST(PersistRdb, BgsaveIsAPointInTimeImageWhileClientsWrite) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  ServerProcess setd(setd_binary(), {"--dir", dir.path()});
  Client c(setd.port(), 20000);
  // db 0: 12000 keys; db 1 (flushed midway), 2 and 3 (swapped midway):
  // 2400 each. Sets, strings, integer strings and TTLs.
  const std::map<int, int> sizes = {{0, 4000}, {1, 800}, {2, 800}, {3, 800}};
  for (const auto& [db, n] : sizes) {
    std::vector<std::vector<std::string>> cmds{{"SELECT", std::to_string(db)}};
    for (int i = 0; i < n; ++i) {
      const std::string id = std::to_string(i);
      cmds.push_back({"SADD", "set:" + id, "m0", "m1", "db" + std::to_string(db) + ":" + id});
      cmds.push_back({"SET", "str:" + id, i % 2 ? id : "value:" + id});
      cmds.push_back({"SET", "ttl:" + id, "t", "PX", std::to_string(3600000 + i)});
    }
    cmds.push_back({"SELECT", "0"});
    for (const auto& r : call_pipelined(c, cmds)) ASSERT_FALSE(r.is_error()) << r.str;
  }
  const Dataset at_bgsave = capture_dataset(c);
  ASSERT_EQ(dataset_size(at_bgsave), 3u * (4000 + 800 * 3));

  // ~19k keys at 100 us each: about 2 s of snapshot.
  ASSERT_EQ(c.call({"CONFIG", "SET", "rdb-key-save-delay", "100"}).str, "OK");
  ASSERT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
  Client w(setd.port());
  MidSnapshotWriter writer{w};
  size_t ops_in_progress = 0;
  bool flushed = false, swapped = false;
  for (int round = 0; info_value(c, "rdb_bgsave_in_progress") == "1"; ++round) {
    ops_in_progress = writer.ops;
    if (round == 20) {
      w.call({"SELECT", "1"});
      EXPECT_EQ(w.call({"FLUSHDB"}).str, "OK");
      flushed = true;
      writer.run({"SET", "after:flush", "x"});
      writer.run({"SADD", "set:1", "after-flush"});
    }
    if (round == 40) {
      EXPECT_EQ(w.call({"SWAPDB", "2", "3"}).str, "OK");
      swapped = true;
    }
    for (int db : {0, 2, 3}) {
      if (db != 0 && round % 4 != 0) continue;
      w.call({"SELECT", std::to_string(db)});
      writer.round(db == 0 ? 4000 : 800);
    }
    w.call({"SELECT", "0"});
  }
  ASSERT_TRUE(wait_persistence_idle(c));
  ASSERT_TRUE(flushed && swapped) << "the snapshot ended after " << ops_in_progress
                                  << " writes, before FLUSHDB and SWAPDB";
  ASSERT_GE(ops_in_progress, 500u) << "too few writes while the snapshot ran";
  EXPECT_EQ(info_value(c, "rdb_last_bgsave_status"), "ok");
  // The live data did change.
  const Dataset live = capture_dataset(c);
  EXPECT_NE(dataset_diff(at_bgsave, live, {.max_lines = 1}), "");
  EXPECT_EQ(c.call({"DBSIZE"}).integer > 0, true);

  // The dump holds the data as it was when BGSAVE was acknowledged: loaded
  // by redis-server, then by a fresh setd.
  EXPECT_EQ(redis_check_rdb(dir.file("dump.rdb")), "");
  TempDir copy;
  std::filesystem::copy_file(dir.file("dump.rdb"), copy.file("dump.rdb"));
  {
    ServerProcess redis("redis-server", {"--dir", copy.path()});
    Client rc(redis.port(), 20000);
    EXPECT_EQ(dataset_diff(at_bgsave, capture_dataset(rc), {.encodings = false}), "")
        << "redis-server loading the dump";
  }
  ServerProcess again(setd_binary(), {"--dir", copy.path()});
  Client sc(again.port(), 20000);
  EXPECT_EQ(dataset_diff(at_bgsave, capture_dataset(sc)), "") << "setd loading the dump";
}

// ---------------------------------------------------------------------------
// SHUTDOWN, SIGTERM and FLUSHALL
// ---------------------------------------------------------------------------

// The number of keys a setd started on `dir` finds (-1 if it fails).
long long keys_after_restart(const std::string& dir) {
  ServerProcess setd(setd_binary(), {"--dir", dir});
  Client c(setd.port());
  long long n = 0;
  for (int db = 0; db < 16; ++db) {
    c.call({"SELECT", std::to_string(db)});
    n += c.call({"DBSIZE"}).integer;
  }
  return n;
}

TEST(PersistRdb, SigtermSavesWhenSavePointsAreSet) {
  TempDir dir;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path(), "--save", "3600 1"});
    Client c(setd.port());
    c.call({"SET", "a", "1"});
    c.call({"SADD", "s", "x", "y"});
    c.call({"SELECT", "2"});
    c.call({"SET", "b", "2"});
    EXPECT_FALSE(file_exists(dir.file("dump.rdb"))) << "no save point was reached yet";
    const int status = setd.stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  }
  ASSERT_TRUE(file_exists(dir.file("dump.rdb"))) << "SIGTERM with save points saves";
  EXPECT_EQ(redis_check_rdb(dir.file("dump.rdb")), "");
  EXPECT_EQ(keys_after_restart(dir.path()), 3);
}

TEST(PersistRdb, ShutdownNosaveDoesNotSave) {
  TempDir dir;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path(), "--save", "3600 1"});
    Client c(setd.port());
    c.call({"SET", "a", "1"});
    c.send({"SHUTDOWN", "NOSAVE"});
    EXPECT_TRUE(c.closed_by_peer(5000));
    EXPECT_TRUE(wait_until([&] { return !setd.running(); }, 5000)) << "SHUTDOWN NOSAVE exits";
  }
  EXPECT_FALSE(file_exists(dir.file("dump.rdb")));
  EXPECT_EQ(keys_after_restart(dir.path()), 0);
}

TEST(PersistRdb, ShutdownSaveSavesWithoutSavePointsAndPlainShutdownDoesNot) {
  TempDir dir;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port());
    c.call({"SET", "a", "1"});
    c.send({"SHUTDOWN"});
    EXPECT_TRUE(c.closed_by_peer(5000));
    EXPECT_TRUE(wait_until([&] { return !setd.running(); }, 5000));
  }
  EXPECT_FALSE(file_exists(dir.file("dump.rdb"))) << "plain SHUTDOWN with save \"\" saves nothing";
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port());
    c.call({"SET", "a", "1"});
    c.call({"SADD", "s", "1"});
    c.send({"SHUTDOWN", "SAVE"});
    EXPECT_TRUE(c.closed_by_peer(5000));
    EXPECT_TRUE(wait_until([&] { return !setd.running(); }, 5000));
  }
  EXPECT_TRUE(file_exists(dir.file("dump.rdb"))) << "SHUTDOWN SAVE saves";
  EXPECT_EQ(keys_after_restart(dir.path()), 2);
}

TEST(PersistRdb, FlushallWithSavePointsWritesAnEmptyDumpAtOnce) {
  TempDir dir;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path(), "--save", "3600 1"});
    Client c(setd.port());
    c.call({"SET", "a", "1"});
    c.call({"SADD", "s", "x"});
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
    const std::string full = file_bytes(dir.file("dump.rdb"));
    c.call({"SELECT", "4"});
    c.call({"SET", "b", "2"});
    ASSERT_EQ(c.call({"FLUSHALL"}).str, "OK");
    const std::string empty = file_bytes(dir.file("dump.rdb"));
    EXPECT_NE(empty, full) << "FLUSHALL rewrote the dump";
    EXPECT_EQ(redis_check_rdb(dir.file("dump.rdb")), "");
    // A crash now must not bring the flushed keys back.
    setd.stop(SIGKILL);
  }
  EXPECT_EQ(keys_after_restart(dir.path()), 0);
}

}  // namespace
}  // namespace setd::testing

// The append-only file of a running setd: replay after a restart (the
// effects of random and time-dependent commands included), the multi-part
// layout as redis-server 7.0 writes it (redis-check-aof, redis-server on
// setd's files and setd on Redis's, BGREWRITEAOF, CONFIG SET appendonly),
// damaged files (truncated, corrupt manifest, garbage), and no loss of
// acknowledged writes on kill -9 with appendfsync always.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataset.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

bool have_redis_tools() {
  return !shell("command -v redis-server").empty() && !shell("command -v redis-check-aof").empty();
}

const char kManifest[] = "appendonlydir/appendonly.aof.manifest";

// The manifest's "file <name> seq <n> type <t>" entries as (type, name).
std::vector<std::pair<std::string, std::string>> manifest_entries(const std::string& dir) {
  const std::string text = file_bytes(dir + "/" + kManifest);
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    char name[256] = {}, type[8] = {};
    long long seq = 0;
    if (std::sscanf(line.c_str(), "file %255s seq %lld type %7s", name, &seq, type) == 3)
      out.emplace_back(type, name);
  }
  return out;
}

// The path of the last INCR file the manifest lists ("" if none).
std::string last_incr(const std::string& dir) {
  std::string name;
  for (const auto& [type, n] : manifest_entries(dir))
    if (type == "i") name = n;
  return name.empty() ? "" : dir + "/appendonlydir/" + name;
}

// redis-check-aof on the manifest: "" when it accepts everything.
std::string redis_check_aof(const std::string& dir) {
  const std::string out =
      shell("redis-check-aof '" + dir + "/" + kManifest + "' 2>&1; echo \"exit=$?\"");
  if (out.ends_with("exit=0\n") && out.find("valid") != std::string::npos) return "";
  return out;
}

// The commands of an AOF file of commands, one per line (readable diffs).
std::string aof_commands(const std::string& bytes) {
  std::string out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t used = 0;
    const auto v = proto::read_reply(std::string_view(bytes).substr(pos), used);
    if (!v) return out + "<incomplete: " + printable(bytes.substr(pos)) + ">\n";
    out += v->to_string() + "\n";
    pos += used;
  }
  return out;
}

void copy_dir(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// ---------------------------------------------------------------------------
// Replay, and the files as Redis reads and writes them
// ---------------------------------------------------------------------------

TEST(PersistAof, RestartReplaysEveryEffect) {
  TempDir dir;
  const std::vector<std::string> opts = {"--appendonly", "yes", "--dir", dir.path()};
  Dataset before;
  {
    ServerProcess setd(setd_binary(), opts);
    Client c(setd.port(), 20000);
    fill_sample_dataset(c, 20000);
    apply_write_effects(c);
    before = capture_dataset(c);
  }
  ASSERT_TRUE(file_exists(dir.file(kManifest)));
  ServerProcess setd(setd_binary(), opts);
  Client c(setd.port(), 20000);
  EXPECT_EQ(dataset_diff(before, capture_dataset(c)), "");
  EXPECT_EQ(info_value(c, "aof_enabled"), "1");
}

TEST(PersistAofVsRedis, RedisChecksAndLoadsSetdAof) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  Dataset before;
  {
    ServerProcess setd(setd_binary(), as_redis70({"--appendonly", "yes", "--dir", dir.path()}));
    Client c(setd.port(), 20000);
    fill_sample_dataset(c, 20000);
    apply_write_effects(c);
    before = capture_dataset(c);
  }
  EXPECT_EQ(redis_check_aof(dir.path()), "");
  ServerProcess redis("redis-server", {"--appendonly", "yes", "--dir", dir.path()});
  Client c(redis.port(), 20000);
  EXPECT_EQ(dataset_diff(before, capture_dataset(c)), "");
}

// The same with setd's default listpack sets (the RDB preamble writes them
// as plain sets): redis-server 7.0 loads every member.
TEST(PersistAofVsRedis, RedisChecksAndLoadsSetdAofWithListpacks) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  Dataset before;
  {
    ServerProcess setd(setd_binary(), {"--appendonly", "yes", "--dir", dir.path()});
    Client c(setd.port(), 20000);
    fill_sample_dataset(c, 20000);
    EXPECT_EQ(c.call({"BGREWRITEAOF"}).kind, RespValue::Kind::kSimple);  // a preamble
    ASSERT_TRUE(wait_persistence_idle(c));
    apply_write_effects(c);
    before = capture_dataset(c);
    EXPECT_EQ(c.call({"OBJECT", "ENCODING", "set:mixed"}).str, "listpack");
  }
  EXPECT_EQ(redis_check_aof(dir.path()), "");
  ServerProcess redis("redis-server", {"--appendonly", "yes", "--dir", dir.path()});
  Client c(redis.port(), 20000);
  EXPECT_EQ(dataset_diff(before, capture_dataset(c), {.encodings = false}), "");
}

// Deterministic commands (no randomness, no clock): the INCR file must hold
// exactly what redis-server 7.0 writes for them: writes as sent, nothing for
// reads, no-ops and commands that only save or reload (SAVE, BGSAVE, DEBUG
// RELOAD reset the changes counter, which is not a change).
TEST(PersistAofVsRedis, IncrFileLogsExactlyWhatRedisLogs) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir setd_dir, redis_dir;
  const std::vector<std::string> opts = {"--appendonly", "yes", "--enable-debug-command", "yes"};
  auto with_dir = [&](const TempDir& d) {
    std::vector<std::string> o = opts;
    o.insert(o.end(), {"--dir", d.path()});
    return o;
  };
  Dataset live;
  {
    ServerProcess setd(setd_binary(), as_redis70(with_dir(setd_dir)));
    ServerProcess redis("redis-server", with_dir(redis_dir));
    Client s(setd.port()), r(redis.port());
    const std::vector<std::vector<std::string>> cmds = {
        {"SET", "a", "1"},
        {"SADD", "s", "1", "2"},
        {"SAVE"},
        {"SET", "b", "1"},
        {"DEBUG", "RELOAD"},
        {"SET", "c", "1"},
        {"GET", "a"},
        {"SMEMBERS", "s"},
        {"DEL", "nothing"},
        {"SREM", "s", "9"},
        {"SADD", "s", "1"},
        {"EXPIRE", "nothing", "10"},
        {"PING"},
        {"LASTSAVE"},
        {"DBSIZE"},
        {"CONFIG", "SET", "rdbcompression", "yes"},
        {"MULTI"},
        {"GET", "a"},
        {"EXEC"},
        {"MULTI"},
        {"SET", "d", "1"},
        {"SADD", "s", "3"},
        {"EXEC"},
        {"SELECT", "3"},
        {"SET", "e", "1"},
        {"SUNIONSTORE", "u", "nothing"},
        {"SELECT", "0"},
        {"RENAME", "a", "a2"},
        {"SAVE"},
        {"SET", "f", "1"},
    };
    for (const auto& cmd : cmds)
      EXPECT_EQ(s.call(cmd).to_string(), r.call(cmd).to_string()) << cmd[0];
    for (Client* c : {&s, &r}) {
      EXPECT_EQ(c->call({"BGSAVE"}).str, "Background saving started");
      ASSERT_TRUE(wait_persistence_idle(*c));
      c->call({"SET", "g", "1"});
    }
    const std::string mine = file_bytes(last_incr(setd_dir.path()));
    // Redis with appendfsync everysec may postpone its write() while a
    // background fsync runs (up to 2 s): wait until its file has caught up.
    std::string theirs;
    wait_until(
        [&] {
          theirs = file_bytes(last_incr(redis_dir.path()));
          return aof_commands(theirs) == aof_commands(mine);
        },
        3000);
    EXPECT_EQ(aof_commands(mine), aof_commands(theirs));
    if (aof_commands(mine) == aof_commands(theirs)) {
      EXPECT_TRUE(mine == theirs) << "same commands, different bytes";
    }
    live = capture_dataset(s);
  }
  // And it replays to the same data (no SAVE or DEBUG run while loading).
  const std::string dump = file_bytes(setd_dir.file("dump.rdb"));
  ServerProcess setd(setd_binary(), as_redis70(with_dir(setd_dir)));
  Client c(setd.port());
  EXPECT_EQ(dataset_diff(live, capture_dataset(c)), "");
  EXPECT_TRUE(file_bytes(setd_dir.file("dump.rdb")) == dump)
      << "loading the AOF rewrote dump.rdb (it replayed a SAVE)";
}

TEST(PersistAofVsRedis, SetdLoadsRedisAofWithAndWithoutRdbPreamble) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  for (const char* preamble : {"yes", "no"}) {
    TempDir dir;
    Dataset from_redis;
    {
      ServerProcess redis("redis-server", {"--appendonly", "yes", "--aof-use-rdb-preamble",
                                           preamble, "--dir", dir.path()});
      Client c(redis.port(), 20000);
      fill_sample_dataset(c, 20000);
      // Half in the BASE, half in the INCR file.
      ASSERT_EQ(c.call({"BGREWRITEAOF"}).str, "Background append only file rewriting started");
      ASSERT_TRUE(wait_persistence_idle(c));
      apply_write_effects(c);
      from_redis = capture_dataset(c);
    }
    const auto entries = manifest_entries(dir.path());
    ASSERT_EQ(entries.size(), 2u) << file_bytes(dir.file(kManifest));
    EXPECT_TRUE(
        entries[0].second.ends_with(std::string(preamble) == "yes" ? ".base.rdb" : ".base.aof"));
    ServerProcess setd(setd_binary(), as_redis70({"--appendonly", "yes", "--dir", dir.path()}));
    Client c(setd.port(), 20000);
    EXPECT_EQ(dataset_diff(from_redis, capture_dataset(c)), "")
        << "aof-use-rdb-preamble " << preamble;
  }
}

TEST(PersistAofVsRedis, RewriteSwitchesFilesLikeRedisAndKeepsTheData) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir setd_dir, redis_dir;
  Dataset before;
  {
    ServerProcess setd(setd_binary(),
                       as_redis70({"--appendonly", "yes", "--dir", setd_dir.path()}));
    ServerProcess redis("redis-server", {"--appendonly", "yes", "--dir", redis_dir.path()});
    Client s(setd.port(), 20000), r(redis.port(), 20000);
    for (Client* c : {&s, &r}) fill_sample_dataset(*c, 5000);
    EXPECT_EQ(list_dir(setd_dir.file("appendonlydir")), list_dir(redis_dir.file("appendonlydir")));
    for (Client* c : {&s, &r})
      EXPECT_EQ(c->call({"BGREWRITEAOF"}).str, "Background append only file rewriting started");
    ASSERT_TRUE(wait_persistence_idle(s));
    ASSERT_TRUE(wait_persistence_idle(r));
    // Same files (BASE and INCR of sequence 2; those of 1 deleted), same manifest.
    EXPECT_EQ(list_dir(setd_dir.file("appendonlydir")),
              (std::vector<std::string>{"appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof",
                                        "appendonly.aof.manifest"}));
    EXPECT_EQ(list_dir(setd_dir.file("appendonlydir")), list_dir(redis_dir.file("appendonlydir")));
    EXPECT_EQ(file_bytes(setd_dir.file(kManifest)), file_bytes(redis_dir.file(kManifest)));
    for (const char* f : {"aof_rewrites", "aof_last_bgrewrite_status", "aof_rewrite_in_progress"})
      EXPECT_EQ(info_value(s, f), info_value(r, f)) << f;
    // Writes after the rewrite land in the new INCR file.
    apply_write_effects(s);
    before = capture_dataset(s);
  }
  EXPECT_EQ(redis_check_aof(setd_dir.path()), "");
  ServerProcess setd(setd_binary(), as_redis70({"--appendonly", "yes", "--dir", setd_dir.path()}));
  Client c(setd.port(), 20000);
  EXPECT_EQ(dataset_diff(before, capture_dataset(c)), "");
}

TEST(PersistAofVsRedis, ConfigSetAppendonlyWritesTheCurrentData) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir setd_dir, redis_dir;
  Dataset before;
  {
    ServerProcess setd(setd_binary(), as_redis70({"--dir", setd_dir.path()}));
    ServerProcess redis("redis-server", {"--dir", redis_dir.path()});
    Client s(setd.port(), 20000), r(redis.port(), 20000);
    for (Client* c : {&s, &r}) {
      fill_sample_dataset(*c, 5000);
      EXPECT_EQ(c->call({"CONFIG", "SET", "appendonly", "yes"}).str, "OK");
      // Writes while the first rewrite runs, and after it.
      c->call({"SADD", "during-rewrite", "1"});
    }
    ASSERT_TRUE(wait_persistence_idle(s));
    ASSERT_TRUE(wait_persistence_idle(r));
    EXPECT_EQ(list_dir(setd_dir.file("appendonlydir")), list_dir(redis_dir.file("appendonlydir")));
    EXPECT_EQ(file_bytes(setd_dir.file(kManifest)), file_bytes(redis_dir.file(kManifest)));
    EXPECT_EQ(info_value(s, "aof_enabled"), "1");
    apply_write_effects(s);
    before = capture_dataset(s);
    // Off and on again: the sequence numbers go on as in Redis.
    for (Client* c : {&s, &r}) {
      EXPECT_EQ(c->call({"CONFIG", "SET", "appendonly", "no"}).str, "OK");
      EXPECT_EQ(c->call({"CONFIG", "SET", "appendonly", "yes"}).str, "OK");
    }
    ASSERT_TRUE(wait_persistence_idle(s));
    ASSERT_TRUE(wait_persistence_idle(r));
    EXPECT_EQ(file_bytes(setd_dir.file(kManifest)), file_bytes(redis_dir.file(kManifest)));
    EXPECT_EQ(list_dir(setd_dir.file("appendonlydir")), list_dir(redis_dir.file("appendonlydir")));
  }
  // Everything is in the last BASE (an RDB): encodings are those of a load.
  ServerProcess setd(setd_binary(), as_redis70({"--appendonly", "yes", "--dir", setd_dir.path()}));
  Client c(setd.port(), 20000);
  EXPECT_EQ(dataset_diff(before, capture_dataset(c), {.encodings = false}), "");
}

// ---------------------------------------------------------------------------
// Damaged AOF files
// ---------------------------------------------------------------------------

// An AOF directory holding k:0 .. k:99 (and a set), as setd leaves it.
void make_aof(const std::string& dir) {
  ServerProcess setd(setd_binary(), {"--appendonly", "yes", "--dir", dir});
  Client c(setd.port());
  c.call({"SADD", "set", "a", "b"});
  for (int i = 0; i < 100; ++i)
    c.call({"SET", "k:" + std::to_string(i), "value" + std::to_string(i)});
}

TEST(PersistAofVsRedis, TruncatedLastIncrFileLoadsUpToTheLastWholeCommand) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir base;
  const std::string dir = base.file("orig");
  std::filesystem::create_directory(dir);
  make_aof(dir);
  const std::string incr = last_incr(dir);
  const std::string bytes = file_bytes(incr);
  const std::string last_cmd = Client::encode({"SET", "k:99", "value99"});
  ASSERT_TRUE(bytes.ends_with(last_cmd)) << "unexpected INCR file:\n" << printable(bytes);
  const size_t whole = bytes.size() - last_cmd.size();
  std::filesystem::resize_file(incr, whole + last_cmd.size() / 2);
  for (const char* copy : {"setd-yes", "setd-no", "redis-yes", "redis-no"})
    copy_dir(dir, base.file(copy));
  auto incr_in = [&](const std::string& d) { return base.file(d) + incr.substr(dir.size()); };

  // aof-load-truncated no: both refuse, setd saying why.
  const ServerRun refused = run_server(
      setd_binary(),
      {"--appendonly", "yes", "--aof-load-truncated", "no", "--dir", base.file("setd-no")}, 8000);
  EXPECT_TRUE(refused.refused()) << refused.describe();
  EXPECT_NE(refused.output.find(std::filesystem::path(incr).filename().string()), std::string::npos)
      << "names the file: " << refused.output;
  EXPECT_NE(refused.output.find("aof-load-truncated"), std::string::npos) << refused.output;
  const ServerRun redis_refused = run_server("redis-server",
                                             {"--appendonly", "yes", "--aof-load-truncated", "no",
                                              "--dir", base.file("redis-no"), "--logfile", ""},
                                             8000);
  EXPECT_TRUE(redis_refused.refused()) << "redis-server: " << redis_refused.describe();
  EXPECT_EQ(file_bytes(incr_in("setd-no")).size(), whole + last_cmd.size() / 2)
      << "a refused file is left as it was";

  // aof-load-truncated yes: the data up to k:98, the file cut there.
  Dataset from_redis;
  {
    ServerProcess redis("redis-server", {"--appendonly", "yes", "--aof-load-truncated", "yes",
                                         "--dir", base.file("redis-yes")});
    Client r(redis.port());
    from_redis = capture_dataset(r);
  }
  ServerProcess setd(setd_binary(), as_redis70({"--appendonly", "yes", "--aof-load-truncated",
                                                "yes", "--dir", base.file("setd-yes")}));
  Client c(setd.port());
  const Dataset mine = capture_dataset(c);
  EXPECT_EQ(dataset_size(mine), 100u) << "the set and k:0 .. k:98";
  EXPECT_EQ(c.call({"EXISTS", "k:98", "k:99"}).integer, 1);
  EXPECT_EQ(dataset_diff(from_redis, mine), "");
  EXPECT_EQ(file_bytes(incr_in("setd-yes")).size(), whole) << "truncated to the last whole command";
  EXPECT_EQ(file_bytes(incr_in("setd-yes")).size(), file_bytes(incr_in("redis-yes")).size());
  // And it goes on from there.
  c.call({"SET", "k:99", "again"});
  EXPECT_EQ(c.call({"GET", "k:99"}).str, "again");
}

// setd and redis-server both refuse the AOF directory in `dir`; setd's
// message holds each of `words`.
void expect_both_refuse(const TempDir& base, const std::string& what,
                        const std::vector<std::string>& words) {
  const std::string a = base.file(what + "-setd"), b = base.file(what + "-redis");
  const ServerRun mine = run_server(setd_binary(), {"--appendonly", "yes", "--dir", a}, 8000);
  EXPECT_TRUE(mine.refused()) << what << ": " << mine.describe();
  for (const auto& w : words)
    EXPECT_NE(mine.output.find(w), std::string::npos)
        << what << ": the message says '" << w << "': " << mine.output;
  const ServerRun theirs =
      run_server("redis-server", {"--appendonly", "yes", "--dir", b, "--logfile", ""}, 8000);
  EXPECT_TRUE(theirs.refused()) << what
                                << " (redis-server, to check the damage): " << theirs.describe();
}

TEST(PersistAofVsRedis, CorruptManifestOrGarbageStopsStartUp) {
  if (!have_redis_tools()) GTEST_SKIP() << "redis-server not installed";
  TempDir base;
  const std::string dir = base.file("orig");
  std::filesystem::create_directory(dir);
  make_aof(dir);
  const std::string manifest = file_bytes(dir + "/" + kManifest);
  const std::string incr_name = std::filesystem::path(last_incr(dir)).filename().string();
  const std::string incr = file_bytes(last_incr(dir));
  auto damaged = [&](const std::string& what, const std::string& file, const std::string& bytes) {
    for (const char* who : {"-setd", "-redis"}) {
      copy_dir(dir, base.file(what + who));
      put_file_bytes(base.file(what + who) + "/appendonlydir/" + file, bytes);
    }
  };
  damaged("garbage-manifest", "appendonly.aof.manifest", "this is not a manifest\n");
  expect_both_refuse(base, "garbage-manifest", {"manifest"});
  damaged("bad-seq", "appendonly.aof.manifest",
          std::regex_replace(manifest, std::regex("seq 1 type i"), "seq x type i"));
  expect_both_refuse(base, "bad-seq", {"manifest"});
  damaged("missing-file", "appendonly.aof.manifest",
          manifest + "file appendonly.aof.7.incr.aof seq 7 type i\n");
  expect_both_refuse(base, "missing-file", {"appendonly.aof.7.incr.aof"});

  // Garbage between two commands, and a bad length inside one.
  const size_t middle = incr.find("*3\r\n$3\r\nSET\r\n$4\r\nk:50\r\n");
  ASSERT_NE(middle, std::string::npos);
  damaged("garbage-incr", incr_name,
          incr.substr(0, middle) + "garbage in the middle\r\n" + incr.substr(middle));
  expect_both_refuse(base, "garbage-incr", {"Bad file format", incr_name});
  damaged("bad-length", incr_name,
          incr.substr(0, middle) + "*3\r\n$x\r\nSET\r\n" + incr.substr(middle + 13));
  expect_both_refuse(base, "bad-length", {"Bad file format", incr_name});
}

// ---------------------------------------------------------------------------
// appendfsync always: kill -9 loses nothing acknowledged
// ---------------------------------------------------------------------------

TEST(PersistAof, AcknowledgedWritesSurviveKill9WithAppendfsyncAlways) {
  std::random_device seed;
  std::mt19937 rng(seed());
  for (int trial = 0; trial < 3; ++trial) {
    TempDir dir;
    const std::vector<std::string> opts = {"--appendonly", "yes",   "--appendfsync",
                                           "always",       "--dir", dir.path()};
    const int delay_ms = std::uniform_int_distribution<int>(300, 1000)(rng);
    constexpr int kWriters = 4;
    std::vector<std::vector<long long>> acked(kWriters);
    {
      ServerProcess setd(setd_binary(), opts);
      std::vector<std::thread> writers;
      for (int t = 0; t < kWriters; ++t) {
        writers.emplace_back([&, t] {
          try {
            Client c(setd.port(), 3000);
            for (long long i = 0;; ++i) {
              c.send({"SADD", "w" + std::to_string(t), std::to_string(i)});
              const auto r = c.read();
              if (!r || r->integer != 1) return;  // killed (or a wrong reply: caught below)
              acked[t].push_back(i);
            }
          } catch (const std::exception&) {
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      setd.stop(SIGKILL);
      for (auto& w : writers) w.join();
    }
    ServerProcess setd(setd_binary(), opts);
    Client c(setd.port());
    for (int t = 0; t < kWriters; ++t) {
      ASSERT_GT(acked[t].size(), 10u) << "trial " << trial << ": writer " << t << " barely ran";
      const RespValue members = c.call({"SMEMBERS", "w" + std::to_string(t)});
      std::set<long long> have;
      for (const auto& m : members.elements) have.insert(std::stoll(m.str));
      size_t lost = 0;
      long long first_lost = -1;
      for (const long long i : acked[t]) {
        if (have.count(i)) continue;
        if (lost++ == 0) first_lost = i;
      }
      EXPECT_EQ(lost, 0u) << "trial " << trial << " (kill after " << delay_ms << " ms): writer "
                          << t << " lost " << lost << " of " << acked[t].size()
                          << " acknowledged members, first " << first_lost;
      // Nothing beyond what was sent: at most the one in flight.
      EXPECT_LE(have.size(), acked[t].size() + 1) << "trial " << trial << " writer " << t;
    }
  }
}

}  // namespace
}  // namespace setd::testing

// Persistence when things go wrong: a BGSAVE or SAVE that cannot write
// (MISCONF, as redis-server 7.0 answers it, and the way back), protected
// configs, and dumps that are truncated or corrupt (setd must refuse to
// start, say where, and never crash or start with part of the data).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "dataset.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

// A setd and a redis-server side by side, each in a directory of its own
// under one TempDir (`<name>-work`), with the same options.
struct Pair {
  TempDir base;
  std::unique_ptr<ServerProcess> setd, redis;
  std::unique_ptr<Client> s, r;

  explicit Pair(const std::vector<std::string>& opts) {
    for (const char* name : {"setd", "redis"}) std::filesystem::create_directory(work(name));
    auto with_dir = [&](const std::string& name) {
      std::vector<std::string> o = opts;
      o.insert(o.end(), {"--dir", work(name)});
      return o;
    };
    setd = std::make_unique<ServerProcess>(setd_binary(), as_redis70(with_dir("setd")));
    redis = std::make_unique<ServerProcess>("redis-server", with_dir("redis"));
    s = std::make_unique<Client>(setd->port());
    r = std::make_unique<Client>(redis->port());
  }
  // SIGKILL: with save points and no directory, SIGTERM's final save fails
  // and both servers keep running (as they should), for ServerProcess to
  // wait 5 s each.
  ~Pair() {
    setd->stop(SIGKILL);
    redis->stop(SIGKILL);
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  std::string work(const std::string& name) const { return base.file(name + "-work"); }
  // Both servers lose their working directory: files can no longer be created there.
  void delete_work_dirs() {
    for (const char* name : {"setd", "redis"}) std::filesystem::remove_all(work(name));
  }
  // Sends `cmd` to both, expects the same reply, returns setd's.
  RespValue both(const std::vector<std::string>& cmd) {
    const RespValue a = s->call(cmd), b = r->call(cmd);
    EXPECT_EQ(a.to_string(), b.to_string())
        << "reply to " << cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "");
    return a;
  }
  void expect_same_info(const std::string& field, const std::string& when) {
    EXPECT_EQ(info_value(*s, field), info_value(*r, field)) << field << " " << when;
  }
};

const char kMisconf[] =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";

// A small tmpfs: a disk that fills up. Needs the right to mount (root, as
// in CI); tests skip where it is refused.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    ok_ =
        std::system(("mount -t tmpfs -o size=" + size + " tmpfs '" + dir_.path() + "' 2>/dev/null")
                        .c_str()) == 0;
  }
  ~SmallDisk() {
    if (ok_) {
      const int rc = std::system(("umount -l '" + dir_.path() + "' 2>/dev/null").c_str());
      (void)rc;
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return ok_; }
  const std::string& path() const { return dir_.path(); }
  bool resize(const std::string& size) {
    return std::system(("mount -o remount,size=" + size + " '" + dir_.path() + "'").c_str()) == 0;
  }

 private:
  TempDir dir_;
  bool ok_ = false;
};

// A full disk fails BGSAVE with status err, writes are refused with MISCONF,
// the server keeps running, and once there is room a save lifts it.
TEST(PersistFaults, FullDiskFailsBgsaveUntilThereIsRoom) {
  SmallDisk disk("256k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  ServerProcess server(setd_binary(), {"--dir", disk.path(), "--save", "3600 1"});
  Client c(server.port());
  // Incompressible values: LZF would squeeze repeated bytes into the disk.
  for (int i = 0; i < 40; ++i)
    c.call({"SET", "k" + std::to_string(i), noise(20000, static_cast<uint32_t>(i))});
  EXPECT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
  ASSERT_TRUE(wait_persistence_idle(c));
  EXPECT_EQ(info_value(c, "rdb_last_bgsave_status"), "err");
  EXPECT_EQ(c.call({"SET", "more", "x"}).str, kMisconf);
  EXPECT_EQ(c.call({"GET", "k1"}).str.size(), 20000u);  // reads go on
  EXPECT_TRUE(list_dir(disk.path()).empty()) << "a failed save leaves no file behind";
  ASSERT_TRUE(disk.resize("64m"));
  EXPECT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
  ASSERT_TRUE(wait_persistence_idle(c));
  EXPECT_EQ(info_value(c, "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(c.call({"SET", "more", "x"}).str, "OK");
  EXPECT_TRUE(file_exists(disk.path() + "/dump.rdb"));
}

// The AOF on a full disk (appendfsync everysec): writes are refused with
// Redis's "Errors writing to the AOF file" MISCONF until the write retried
// by the cron succeeds; nothing acknowledged is missing after a restart.
TEST(PersistFaults, FullDiskRefusesWritesWhileTheAofCannotGrow) {
  SmallDisk disk("512k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  std::vector<std::string> acked;
  {
    ServerProcess server(setd_binary(), {"--dir", disk.path(), "--appendonly", "yes"});
    Client c(server.port());
    std::string refusal;
    for (int i = 0; i < 200 && refusal.empty(); ++i) {
      const std::string key = "k" + std::to_string(i);
      const auto r = c.call({"SET", key, noise(8000, static_cast<uint32_t>(i))});
      if (r.str == "OK")
        acked.push_back(key);
      else
        refusal = r.str;
    }
    EXPECT_EQ(refusal, "MISCONF Errors writing to the AOF file: No space left on device");
    EXPECT_EQ(info_value(c, "aof_last_write_status"), "err");
    ASSERT_TRUE(disk.resize("64m"));
    EXPECT_TRUE(wait_until([&] { return c.call({"SET", "after", "z"}).str == "OK"; }, 5000));
    acked.push_back("after");
    EXPECT_EQ(info_value(c, "aof_last_write_status"), "ok");
    server.stop(SIGKILL);
  }
  ServerProcess again(setd_binary(), {"--dir", disk.path(), "--appendonly", "yes"});
  Client c(again.port());
  for (const auto& key : acked) EXPECT_EQ(c.call({"EXISTS", key}).integer, 1) << key;
}

// ---------------------------------------------------------------------------
// MISCONF
// ---------------------------------------------------------------------------

TEST(PersistFaultsVsRedis, FailedBgsaveRefusesWritesWithMisconfUntilASaveSucceeds) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Pair p({"--save", "3600 1", "--enable-protected-configs", "yes"});
  p.both({"SET", "k", "v"});
  p.both({"SADD", "s", "1", "2"});  // an intset: SMEMBERS in one order
  // A transaction queued before the failure, executed after it.
  Client ts(p.setd->port()), tr(p.redis->port());
  for (Client* c : {&ts, &tr}) {
    c->call({"MULTI"});
    EXPECT_EQ(c->call({"SET", "queued", "1"}).str, "QUEUED");
  }

  p.delete_work_dirs();
  EXPECT_EQ(p.both({"BGSAVE"}).to_string(), "Background saving started");
  ASSERT_TRUE(wait_persistence_idle(*p.s));
  ASSERT_TRUE(wait_persistence_idle(*p.r));
  EXPECT_EQ(info_value(*p.s, "rdb_last_bgsave_status"), "err");
  p.expect_same_info("rdb_last_bgsave_status", "after the failed BGSAVE");

  // Writes (and PING) are refused with Redis's text; reads work.
  EXPECT_EQ(p.both({"SET", "k2", "v"}).str, kMisconf);
  p.both({"SADD", "s", "3"});
  p.both({"DEL", "k"});
  p.both({"PING"});
  EXPECT_EQ(p.both({"GET", "k"}).str, "v");
  p.both({"SMEMBERS", "s"});
  p.both({"DBSIZE"});
  // The queued transaction is aborted at EXEC, naming the reason.
  const RespValue exec = ts.call({"EXEC"});
  EXPECT_EQ(exec.to_string(), tr.call({"EXEC"}).to_string());
  EXPECT_EQ(exec.str, std::string("EXECABORT Transaction discarded because of: ") + kMisconf);
  // A write inside MULTI is refused at once; EXEC then aborts.
  for (Client* c : {&ts, &tr}) c->call({"MULTI"});
  EXPECT_EQ(ts.call({"SET", "x", "1"}).to_string(), tr.call({"SET", "x", "1"}).to_string());
  EXPECT_EQ(ts.call({"EXEC"}).to_string(), tr.call({"EXEC"}).to_string());
  // A read-only transaction runs.
  for (Client* c : {&ts, &tr}) c->call({"MULTI"});
  ts.call({"GET", "k"});
  tr.call({"GET", "k"});
  EXPECT_EQ(ts.call({"EXEC"}).to_string(), tr.call({"EXEC"}).to_string());
  EXPECT_TRUE(p.setd->running());

  // A new directory, a successful BGSAVE: writes are back.
  const std::string setd_new = p.base.file("setd-new"), redis_new = p.base.file("redis-new");
  std::filesystem::create_directory(setd_new);
  std::filesystem::create_directory(redis_new);
  EXPECT_EQ(p.s->call({"CONFIG", "SET", "dir", setd_new}).to_string(), "OK");
  EXPECT_EQ(p.r->call({"CONFIG", "SET", "dir", redis_new}).to_string(), "OK");
  EXPECT_EQ(p.both({"BGSAVE"}).to_string(), "Background saving started");
  ASSERT_TRUE(wait_persistence_idle(*p.s));
  ASSERT_TRUE(wait_persistence_idle(*p.r));
  EXPECT_EQ(info_value(*p.s, "rdb_last_bgsave_status"), "ok");
  p.expect_same_info("rdb_last_bgsave_status", "after the good BGSAVE");
  EXPECT_TRUE(file_exists(setd_new + "/dump.rdb"));
  EXPECT_EQ(p.both({"SET", "k2", "v"}).to_string(), "OK");
  EXPECT_EQ(p.both({"PING"}).to_string(), "PONG");
}

TEST(PersistFaultsVsRedis, FailedSaveAnswersLikeRedis) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Pair p({"--save", "3600 1"});
  p.both({"SET", "k", "v"});
  p.delete_work_dirs();
  EXPECT_TRUE(p.both({"SAVE"}).is_error());
  p.expect_same_info("rdb_last_bgsave_status", "after a failed SAVE");
  p.both({"SET", "k2", "v"});
  p.both({"PING"});
  EXPECT_TRUE(p.setd->running());
}

// A final save that fails keeps the server running (SHUTDOWN errs,
// SIGTERM is logged and ignored) unless SHUTDOWN FORCE / NOSAVE.
TEST(PersistFaultsVsRedis, ShutdownWhoseSaveFailsKeepsTheServerRunning) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Pair p({"--save", "3600 1"});
  p.both({"SET", "k", "v"});
  p.delete_work_dirs();
  EXPECT_TRUE(p.both({"SHUTDOWN"}).is_error());
  EXPECT_TRUE(p.both({"SHUTDOWN", "SAVE"}).is_error());
  ::kill(p.setd->pid(), SIGTERM);
  ::kill(p.redis->pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(p.setd->running()) << "SIGTERM whose save fails must not stop setd";
  EXPECT_TRUE(p.redis->running());
  EXPECT_EQ(p.both({"GET", "k"}).str, "v");
  for (Client* c : {p.s.get(), p.r.get()}) {
    c->send({"SHUTDOWN", "FORCE"});
    EXPECT_TRUE(c->closed_by_peer(5000));
  }
  EXPECT_TRUE(wait_until([&] { return !p.setd->running(); }, 5000)) << "SHUTDOWN FORCE exits";
  EXPECT_TRUE(wait_until([&] { return !p.redis->running(); }, 5000));
}

TEST(PersistFaultsVsRedis, WritesGoOnWithStopWritesOnBgsaveErrorNo) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Pair p({"--save", "3600 1", "--stop-writes-on-bgsave-error", "no"});
  p.both({"SET", "k", "v"});
  p.delete_work_dirs();
  p.both({"BGSAVE"});
  ASSERT_TRUE(wait_persistence_idle(*p.s));
  ASSERT_TRUE(wait_persistence_idle(*p.r));
  EXPECT_EQ(info_value(*p.s, "rdb_last_bgsave_status"), "err");
  EXPECT_EQ(p.both({"SET", "k2", "v"}).to_string(), "OK");
  EXPECT_EQ(p.both({"PING"}).to_string(), "PONG");
  // Switching it on at run time refuses writes at once.
  EXPECT_EQ(p.both({"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"}).to_string(), "OK");
  EXPECT_EQ(p.both({"SET", "k3", "v"}).str, kMisconf);
}

TEST(PersistFaultsVsRedis, DirAndDbfilenameAreProtectedConfigs) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  Pair p({});
  const RespValue dir = p.both({"CONFIG", "SET", "dir", "/tmp"});
  EXPECT_TRUE(dir.str.ends_with("can't set protected config")) << dir.str;
  p.both({"CONFIG", "SET", "dbfilename", "other.rdb"});
  p.both({"CONFIG", "GET", "dbfilename"});
  EXPECT_EQ(info_value(*p.s, "rdb_last_bgsave_status"), "ok");
}

// ---------------------------------------------------------------------------
// Corrupt and truncated dumps
// ---------------------------------------------------------------------------

// setd refuses to start on `bytes` as its dump: it exits by itself with an
// error code (no signal, no hang), without ever answering, and its log names
// the file and an offset.
void expect_refused(const std::string& bytes, const std::string& what) {
  TempDir dir;
  put_file_bytes(dir.file("dump.rdb"), bytes);
  const ServerRun run = run_server(setd_binary(), {"--dir", dir.path()}, 8000);
  EXPECT_TRUE(run.refused()) << what << ": " << run.describe();
  EXPECT_NE(run.output.find("dump.rdb"), std::string::npos)
      << what << ": the log names the file: " << run.output;
  EXPECT_TRUE(std::regex_search(run.output, std::regex("offset [0-9]+")))
      << what << ": the log names an offset: " << run.output;
}

TEST(PersistFaults, TruncatedOrCorruptDumpStopsStartUp) {
  TempDir dir;
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port());
    fill_sample_dataset(c, 3000);
    ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  }
  const std::string good = file_bytes(dir.file("dump.rdb"));
  ASSERT_GT(good.size(), 100000u);
  // The good file loads (so the failures below are the damage's doing).
  {
    ServerProcess setd(setd_binary(), {"--dir", dir.path()});
    Client c(setd.port());
    EXPECT_GT(c.call({"DBSIZE"}).integer, 0);
  }
  const size_t n = good.size();
  for (const size_t cut :
       {size_t{0}, size_t{5}, size_t{9}, size_t{30}, n / 3, n / 2, n - 200, n - 9, n - 8, n - 1}) {
    expect_refused(good.substr(0, cut),
                   "cut at " + std::to_string(cut) + " of " + std::to_string(n));
  }
  // A flipped bit in a string's bytes (the 1 MB of 'z' compress to a run of
  // LZF back-references; the noise string is stored as is): only the
  // checksum can tell.
  const size_t noise_at = good.find(noise(500, 7).substr(100, 32));
  ASSERT_NE(noise_at, std::string::npos);
  std::string flipped = good;
  flipped[noise_at + 10] = static_cast<char>(flipped[noise_at + 10] ^ 0x04);
  expect_refused(flipped, "a flipped bit inside a value");
  // A flipped bit in the checksum itself.
  flipped = good;
  flipped[n - 3] = static_cast<char>(flipped[n - 3] ^ 0x80);
  expect_refused(flipped, "a flipped bit in the checksum");
}

}  // namespace
}  // namespace setd::testing

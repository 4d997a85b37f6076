// Replication seen from one side, with the other played by hand (a fake
// master from tests/support/fake_peer.hpp, or a replica that stops
// reading): the handshake setd sends compared with redis-server's, the
// stream's effects (offsets, ACKs, expiry left to the master), and the
// faults the issue lists: a corrupt image, bad protocol, a master that
// vanishes mid-transfer, a replica too slow for its output buffer, a
// master that is down with replica-serve-stale-data no. Each ends in a log
// line and a retry, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_peer.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Plays a master's side of the handshake: answers PING, AUTH and REPLCONF
// with `reply`, and returns every command received up to and including
// PSYNC (the listening port replaced by "<port>").
std::vector<std::string> handshake(PeerConn& m, int replica_port) {
  std::vector<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    auto cmd = m.read_command();
    if (cmd.empty()) break;
    if (cmd.size() == 3 && cmd[1] == "listening-port" && cmd[2] == std::to_string(replica_port))
      cmd[2] = "<port>";
    seen.push_back(join(cmd));
    if (cmd[0] == "PSYNC") break;
    m.send_raw(cmd[0] == "PING" ? "+PONG\r\n" : "+OK\r\n");
  }
  return seen;
}

// A replica of a fake master, with a log to read.
struct FakeMasterSetup {
  TempDir dir;
  Listener master;
  std::string log = dir.path() + "/setd.log";
  std::unique_ptr<ServerProcess> replica;
  explicit FakeMasterSetup(std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--replicaof", "127.0.0.1 " + std::to_string(master.port()),
                               "--save", "", "--dir", dir.path()});
    replica = std::make_unique<ServerProcess>(setd_binary(), extra, "", log);
  }
  // Accepts the replica's connection and runs the handshake to PSYNC.
  std::unique_ptr<PeerConn> connect() {
    auto m = master.accept(5000);
    if (!m) return nullptr;
    const auto seen = handshake(*m, replica->port());
    if (seen.empty() || !seen.back().starts_with("PSYNC")) return nullptr;
    return m;
  }
  // Sends +FULLRESYNC and an empty image; the replica is then streaming.
  std::unique_ptr<PeerConn> connect_streaming(const std::string& replid, long long offset) {
    auto m = connect();
    if (!m) return nullptr;
    const std::string rdb = empty_rdb();
    m->send_raw("+FULLRESYNC " + replid + " " + std::to_string(offset) + "\r\n$" +
                std::to_string(rdb.size()) + "\r\n" + rdb);
    return m;
  }
  bool log_has(const std::string& text) { return read_file(log).find(text) != std::string::npos; }
};

const std::string kReplid = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

TEST(ReplicationHandshake, SetdSendsWhatRedisSends) {
  for (const bool with_auth : {false, true}) {
    std::vector<std::string> got[2];
    for (int i = 0; i < 2; ++i) {
      Listener master;
      std::vector<std::string> extra = {"--replicaof",
                                        "127.0.0.1 " + std::to_string(master.port())};
      if (with_auth) extra.insert(extra.end(), {"--masteruser", "repl", "--masterauth", "pw"});
      ServerProcess replica(i == 0 ? setd_binary() : "redis-server", extra);
      auto m = master.accept(5000);
      ASSERT_TRUE(m) << "no connection from " << (i == 0 ? "setd" : "redis-server");
      got[i] = handshake(*m, replica.port());
    }
    EXPECT_EQ(got[0], got[1]) << "auth " << with_auth;
    ASSERT_FALSE(got[0].empty());
    EXPECT_EQ(got[0].back(), "PSYNC ? -1");
  }
}

TEST(ReplicationFromFakeMaster, StreamMovesTheOffsetAndGetackIsAnswered) {
  FakeMasterSetup s;
  auto m = s.connect_streaming(kReplid, 1000);
  ASSERT_TRUE(m);
  // After loading, the replica ACKs at once with the offset it was given.
  auto ack = m->read_command();
  ASSERT_EQ(join(ack), "REPLCONF ACK 1000");
  const std::string set = Client::encode({"SELECT", "2"}) + Client::encode({"SADD", "s", "a", "b"});
  const std::string getack = Client::encode({"REPLCONF", "GETACK", "*"});
  m->send_raw(set + getack);
  // The ACK counts what came before the GETACK (as Redis's).
  for (int i = 0; i < 5; ++i) {
    ack = m->read_command();
    if (join(ack) != "REPLCONF ACK 1000") break;
  }
  EXPECT_EQ(join(ack), "REPLCONF ACK " + std::to_string(1000 + set.size()));
  Client c(s.replica->port());
  c.call({"SELECT", "2"});
  EXPECT_EQ(c.call({"SCARD", "s"}).integer, 2);
  EXPECT_EQ(info_value(c, "master_repl_offset", "replication"),
            std::to_string(1000 + set.size() + getack.size()));
  EXPECT_EQ(info_value(c, "master_replid", "replication"), kReplid);
  EXPECT_EQ(info_value(c, "master_link_status", "replication"), "up");
  EXPECT_EQ(c.call({"SADD", "s", "c"}).str,
            "READONLY You can't write against a read only replica.");
  const auto role = c.call({"ROLE"});
  ASSERT_EQ(role.elements.size(), 5u);
  EXPECT_EQ(role.elements[0].str, "slave");
  EXPECT_EQ(role.elements[3].str, "connected");
}

TEST(ReplicationFromFakeMaster, ExpiredKeysWaitForTheMastersDel) {
  FakeMasterSetup s;
  auto m = s.connect_streaming(kReplid, 0);
  ASSERT_TRUE(m);
  const long long soon = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         200;
  m->send_raw(Client::encode({"SELECT", "0"}) + Client::encode({"SADD", "k", "m"}) +
              Client::encode({"PEXPIREAT", "k", std::to_string(soon)}));
  Client c(s.replica->port());
  ASSERT_TRUE(wait_until([&] { return c.call({"EXISTS", "k"}).integer == 1; }, 3000));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // Expired: reads say it is gone, but only the master's DEL removes it.
  EXPECT_EQ(c.call({"EXISTS", "k"}).integer, 0);
  EXPECT_EQ(c.call({"SCARD", "k"}).integer, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the active expiry cycle
  EXPECT_EQ(c.call({"DBSIZE"}).integer, 1);
  m->send_raw(Client::encode({"DEL", "k"}));
  EXPECT_TRUE(wait_until([&] { return c.call({"DBSIZE"}).integer == 0; }, 3000));
}

TEST(ReplicationFromFakeMaster, CorruptImageIsLoggedAndRetried) {
  FakeMasterSetup s;
  auto m = s.connect();
  ASSERT_TRUE(m);
  const std::string junk = "REDIS0010this is not an RDB file at all";
  m->send_raw("+FULLRESYNC " + kReplid + " 0\r\n$" + std::to_string(junk.size()) + "\r\n" + junk);
  // The replica drops the link and comes back for another try.
  auto again = s.master.accept(8000);
  ASSERT_TRUE(again) << read_file(s.log);
  EXPECT_TRUE(s.log_has("Failed trying to load the MASTER synchronization DB from disk"))
      << read_file(s.log);
  Client c(s.replica->port());
  EXPECT_EQ(info_value(c, "master_link_status", "replication"), "down");
  EXPECT_TRUE(s.replica->running());
}

TEST(ReplicationFromFakeMaster, BadProtocolIsLoggedAndRetried) {
  FakeMasterSetup s;
  auto m = s.connect();
  ASSERT_TRUE(m);
  m->send_raw("+FULLRESYNC " + kReplid + " 0\r\n*3\r\n");
  auto again = s.master.accept(8000);
  ASSERT_TRUE(again);
  EXPECT_TRUE(s.log_has("Bad protocol from MASTER, the first byte is not '$'")) << read_file(s.log);
}

TEST(ReplicationFromFakeMaster, MasterVanishingMidTransferKeepsTheOldData) {
  FakeMasterSetup s;
  auto m = s.connect_streaming(kReplid, 0);
  ASSERT_TRUE(m);
  m->send_raw(Client::encode({"SADD", "old", "x"}));
  Client c(s.replica->port());
  ASSERT_TRUE(wait_until([&] { return c.call({"EXISTS", "old"}).integer == 1; }, 3000));
  m.reset();  // the link drops
  auto m2 = s.master.accept(8000);
  ASSERT_TRUE(m2);
  // It asks to continue where it was (PSYNC2), then a full sync starts and
  // the master goes away half-way through the image.
  const auto seen = handshake(*m2, s.replica->port());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "PSYNC " + kReplid + " " +
                             std::to_string(1 + Client::encode({"SADD", "old", "x"}).size()));
  m2->send_raw("+FULLRESYNC bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 0\r\n$1000\r\nREDIS0010");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(info_value(c, "master_sync_in_progress", "replication"), "1");
  m2.reset();
  // Still serving what it had; trying again.
  auto m3 = s.master.accept(8000);
  ASSERT_TRUE(m3);
  EXPECT_EQ(c.call({"SISMEMBER", "old", "x"}).integer, 1);
  EXPECT_EQ(info_value(c, "master_link_status", "replication"), "down");
  EXPECT_TRUE(s.replica->running());
}

TEST(ReplicationFromFakeMaster, StaleDataRefusedWhenAskedTo) {
  FakeMasterSetup s({"--replica-serve-stale-data", "no"});
  Client c(s.replica->port());
  EXPECT_EQ(c.call({"SMEMBERS", "x"}).str,
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  EXPECT_EQ(c.call({"PING"}).str,
            "MASTERDOWN Link with MASTER is down and "
            "replica-serve-stale-data is set to 'no'.");
  EXPECT_EQ(c.call({"INFO", "replication"}).is_error(), false);  // stale-flagged commands run
  auto m = s.connect_streaming(kReplid, 0);
  ASSERT_TRUE(m);
  ASSERT_TRUE(wait_until([&] { return c.call({"PING"}).str == "PONG"; }, 3000));
}

TEST(ReplicationToSlowReplica, OutputBufferLimitCutsItOff) {
  TempDir dir;
  const std::string log = dir.path() + "/setd.log";
  ServerProcess master(setd_binary(),
                       {"--dir", dir.path(), "--save", "", "--repl-diskless-sync-delay", "0",
                        "--client-output-buffer-limit", "replica 1mb 256kb 1"},
                       "", log);
  Client replica(master.port());
  replica.send({"REPLCONF", "capa", "eof", "capa", "psync2"});
  ASSERT_EQ(replica.read()->str, "OK");
  replica.send({"PSYNC", "?", "-1"});
  // It reads the image, then stops reading while the master writes a lot.
  const std::string head = replica.read_bytes(120);
  ASSERT_TRUE(head.starts_with("+FULLRESYNC ")) << head;
  Client c(master.port());
  ASSERT_TRUE(
      wait_until([&] { return info_value(c, "connected_slaves", "replication") == "1"; }, 3000));
  const std::string big(64 * 1024, 'x');
  for (int i = 0; i < 200 && info_value(c, "connected_slaves", "replication") == "1"; ++i)
    c.call({"SET", "k" + std::to_string(i), big});
  EXPECT_TRUE(
      wait_until([&] { return info_value(c, "connected_slaves", "replication") == "0"; }, 5000));
  EXPECT_NE(read_file(log).find("for overcoming of output buffer limits"), std::string::npos)
      << read_file(log);
  EXPECT_EQ(info_value(c, "client_output_buffer_limit_disconnections", "stats"), "1");
}

// A replica that stops reading in the middle of its image is dropped after
// repl-timeout, and the snapshot it held back ends, so that BGSAVE works.
TEST(ReplicationToSlowReplica, StalledFullSyncTimesOut) {
  TempDir dir;
  const std::string log = dir.path() + "/setd.log";
  ServerProcess master(
      setd_binary(),
      {"--dir", dir.path(), "--save", "", "--repl-diskless-sync-delay", "0", "--repl-timeout", "2"},
      "", log);
  Client c(master.port());
  // 30 MB that LZF cannot shrink.
  std::string big(100 * 1024, ' ');
  uint32_t x = 12345;
  for (auto& ch : big) ch = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  for (int i = 0; i < 300; ++i) c.send({"SET", "k" + std::to_string(i), big});
  for (int i = 0; i < 300; ++i) ASSERT_EQ(c.read()->str, "OK");
  Client replica(master.port());
  replica.send({"REPLCONF", "capa", "eof", "capa", "psync2"});
  ASSERT_EQ(replica.read()->str, "OK");
  replica.send({"PSYNC", "?", "-1"});
  // It never reads: the image cannot drain.
  EXPECT_TRUE(wait_until(
      [&] {
        return read_file(log).find("Disconnecting timedout replica (full sync)") !=
               std::string::npos;
      },
      10000))
      << read_file(log);
  EXPECT_TRUE(wait_until(
      [&] { return info_value(c, "rdb_bgsave_in_progress", "persistence") == "0"; }, 5000));
  EXPECT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
}

// redis-cli's own replication clients: --rdb (REPLCONF rdb-only: the image,
// then the connection closes) and --replica (rdb-filter-only: an image
// without data, then the stream).
TEST(ReplicationToRedisCli, RdbAndReplicaModes) {
  TempDir dir;
  ServerProcess master(setd_binary(), {"--save", "", "--repl-diskless-sync-delay", "0"});
  Client c(master.port());
  c.call({"SADD", "s", "a", "b"});
  c.call({"SET", "k", "v"});
  const std::string port = std::to_string(master.port());
  const std::string rdb = dir.path() + "/x.rdb";
  const std::string out = shell("timeout 10 redis-cli -p " + port + " --rdb " + rdb + " 2>&1");
  EXPECT_NE(out.find("Transfer finished with success"), std::string::npos) << out;
  const std::string check = shell("redis-check-rdb " + rdb + " 2>&1");
  EXPECT_NE(check.find("2 keys read"), std::string::npos) << check;
  EXPECT_NE(check.find("RDB looks OK"), std::string::npos) << check;

  const std::string log = dir.path() + "/replica.out";
  shell("(timeout 3 redis-cli -p " + port + " --replica > " + log + " 2>&1 &)");
  ASSERT_TRUE(
      wait_until([&] { return read_file(log).find("SYNC done") != std::string::npos; }, 3000))
      << read_file(log);
  c.call({"SADD", "s", "c"});
  EXPECT_TRUE(wait_until(
      [&] { return read_file(log).find("\"SADD\",\"s\",\"c\"") != std::string::npos; }, 3000))
      << read_file(log);
  EXPECT_EQ(c.call({"REPLCONF", "rdb-filter-only", "keys"}).str,
            "ERR Unsupported rdb-filter-only option: keys");
  EXPECT_EQ(c.call({"REPLCONF", "rdb-only", "2"}).str,
            "ERR value is out of range, value must between 0 and 1");
}

// REPLICAOF, WAIT and CONFIG REWRITE answer as redis-server does.
TEST(ReplicationCommands, RepliesMatchRedis) {
  const int nobody = free_port();
  const std::vector<std::vector<std::string>> script = {
      {"WAIT", "0", "0"},
      {"WAIT", "1", "10"},
      {"WAIT", "-1", "0"},
      {"WAIT", "x", "0"},
      {"WAIT", "0", "-1"},
      {"WAIT", "0", "x"},
      {"REPLICAOF", "127.0.0.1", "70000"},
      {"REPLICAOF", "127.0.0.1", "x"},
      {"REPLICAOF", "no", "one"},
      {"ROLE"},
      {"REPLCONF", "listening-port"},
      {"REPLCONF", "nope", "1"},
      {"REPLCONF", "listening-port", "x"},
      {"REPLCONF", "listening-port", "1234", "capa", "eof"},
      {"REPLICAOF", "127.0.0.1", std::to_string(nobody)},
      {"REPLICAOF", "127.0.0.1", std::to_string(nobody)},
      {"WAIT", "0", "0"},
      {"SADD", "s", "a"},
      {"CONFIG", "GET", "replicaof"},
      {"SLAVEOF", "NO", "ONE"},
      {"CONFIG", "GET", "slaveof"},
      {"SADD", "s", "a"},
      {"MULTI"},
      {"WAIT", "0", "100"},
      {"EXEC"},
  };
  std::vector<std::string> replies[2];
  for (int i = 0; i < 2; ++i) {
    ServerProcess s(i == 0 ? setd_binary() : "redis-server");
    Client c(s.port());
    for (const auto& cmd : script) {
      RespValue r = c.call(cmd);
      replies[i].push_back(join(cmd) + " -> " + r.to_string());
    }
  }
  for (size_t k = 0; k < script.size(); ++k) {
    if (script[k][0] == "ROLE") {
      // "master", offset (differs), no replicas.
      continue;
    }
    EXPECT_EQ(replies[0][k], replies[1][k]);
  }
}

TEST(ReplicationCommands, ConfigRewriteKeepsTheRole) {
  TempDir dir;
  const std::string conf = dir.path() + "/setd.conf";
  { std::ofstream(conf) << "save \"\"\nreplicaof 127.0.0.1 1\n"; }
  ServerProcess s(setd_binary(), {"--dir", dir.path()}, conf);
  Client c(s.port());
  const int other = free_port();
  c.call({"REPLICAOF", "127.0.0.1", std::to_string(other)});
  ASSERT_EQ(c.call({"CONFIG", "REWRITE"}).str, "OK");
  EXPECT_NE(read_file(conf).find("replicaof 127.0.0.1 " + std::to_string(other) + "\n"),
            std::string::npos)
      << read_file(conf);
  c.call({"REPLICAOF", "NO", "ONE"});
  ASSERT_EQ(c.call({"CONFIG", "REWRITE"}).str, "OK");
  EXPECT_EQ(read_file(conf).find("replicaof"), std::string::npos) << read_file(conf);
}

}  // namespace
}  // namespace setd::testing

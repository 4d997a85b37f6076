// Replication (PSYNC2) between setd and redis-server 7.0, in the four
// pairings (master, replica): redis->redis (which validates the tests
// themselves), setd->setd, setd->redis and redis->setd. Full sync, disk
// based and diskless; a random write stream; partial resync after the link
// drops (CLIENT KILL on either side, a proxy cut); master restarts; a cut in
// the middle of a full sync; ROLE, INFO replication, WAIT, read-only
// replicas, expired keys, min-replicas-to-write, masterauth; REPLICAOF
// misuse. Every expectation is what redis-server 7.0 does (the redis->redis
// rows pass); the deadlines are a few seconds so that a node that does not
// replicate fails fast.
#include "replication.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "dataset.hpp"
#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

struct Pairing {
  NodeKind master;
  NodeKind replica;
};

// "RedisToSetd": a redis-server master, a setd replica.
std::string pairing_name(const Pairing& p) {
  auto cap = [](NodeKind k) { return k == NodeKind::kRedis ? "Redis" : "Setd"; };
  return std::string(cap(p.master)) + "To" + cap(p.replica);
}

void PrintTo(const Pairing& p, std::ostream* os) { *os << pairing_name(p); }

const Pairing kPairings[] = {{NodeKind::kRedis, NodeKind::kRedis},
                             {NodeKind::kSetd, NodeKind::kSetd},
                             {NodeKind::kSetd, NodeKind::kRedis},
                             {NodeKind::kRedis, NodeKind::kSetd}};

// An error reply's text, or a description of what came instead.
std::string err(const RespValue& r) {
  return r.is_error() ? r.str : "<not an error: " + r.to_string() + ">";
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

std::string replid(Node& n) { return field(info_map(n.client(), "replication"), "master_replid"); }

// Waits until the master has accepted more partial resyncs than `before`.
::testing::AssertionResult wait_partial_resync(Node& master, Node& replica, const SyncStats& before,
                                               int ms = 4000) {
  SyncStats now;
  if (wait_until(
          [&] {
            now = sync_stats(master);
            return now.partial_ok > before.partial_ok || now.full > before.full;
          },
          repl_ms(ms)) &&
      now.full == before.full)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no partial resync: before " << before.str() << ", now "
                                       << now.str() << replication_report(master, replica);
}

// Keys with a short TTL (PX 50 in the stream) are gone after this.
void let_short_ttls_expire() { sleep_ms(120); }

class Replication : public ::testing::TestWithParam<Pairing> {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  }
  // A master; diskless sync starts at once (7.0 waits 5 s by default).
  std::unique_ptr<Node> make_master(Directives d = {}) {
    d.insert(d.begin(), {"repl-diskless-sync-delay", "0"});
    return std::make_unique<Node>(GetParam().master, d);
  }
  std::unique_ptr<Node> make_replica(Directives d = {}) {
    return std::make_unique<Node>(GetParam().replica, d);
  }

  void full_sync(bool diskless);
  void cut_during_full_sync(bool diskless);
};

// ---------------------------------------------------------------------------
// Full sync
// ---------------------------------------------------------------------------

void Replication::full_sync(bool diskless) {
  auto m = make_master({{"repl-diskless-sync", diskless ? "yes" : "no"}});
  auto r = make_replica();
  fill_sample_dataset(m->client(), 20000);
  // What the replica held before goes away.
  ASSERT_EQ(r->call({"SET", "replica-only", "x"}).str, "OK");
  ASSERT_EQ(r->call({"SELECT", "9"}).str, "OK");
  ASSERT_EQ(r->call({"SADD", "replica-only-set", "1"}).integer, 1);
  ASSERT_EQ(r->call({"SELECT", "0"}).str, "OK");

  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r, 10000));
  // Everything, with encodings and exact expiry times (the RDB carries
  // absolute times).
  const Dataset want = capture_dataset(m->client());
  const Dataset got = capture_dataset(r->client());
  EXPECT_EQ(dataset_size(want), 242u);
  EXPECT_EQ(dataset_diff(want, got), "");
  EXPECT_TRUE(same_digest(*m, *r));
  const SyncStats s = sync_stats(*m);
  EXPECT_EQ(s.full, 1) << s.str();
  EXPECT_EQ(s.partial_ok, 0) << s.str();
  // A node turned replica by REPLICAOF asks PSYNC <its own replid>
  // <its offset + 1> (not "PSYNC ? -1"): the master counts one failed
  // partial resync before the full one.
  EXPECT_EQ(s.partial_err, 1) << s.str();
  EXPECT_EQ(replid(*r), replid(*m));
  EXPECT_EQ(field(info_map(r->client(), "replication"), "master_host"), "127.0.0.1");
  EXPECT_EQ(field(info_map(r->client(), "replication"), "master_port"), std::to_string(m->port()));
}

TEST_P(Replication, FullSyncDiskBased) { full_sync(false); }
TEST_P(Replication, FullSyncDiskless) { full_sync(true); }

// The replica keeps up with a random write stream (sets of both
// encodings, strings, TTLs, transactions, three databases, FLUSHDB,
// big sets, keys that expire at once).
TEST_P(Replication, WriteStreamCatchesUp) {
  auto m = make_master();
  auto r = make_replica();
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  WriteStream ws(1);
  ws.run(m->client(), 5000);
  EXPECT_EQ(ws.unexpected_error(), "");
  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_TRUE(same_digest(*m, *r));
  // The stream really wrote to three databases.
  const InfoMap ks = info_map(m->client(), "keyspace");
  EXPECT_TRUE(ks.count("db0") && ks.count("db1") && ks.count("db2")) << info_text(ks);
  EXPECT_EQ(sync_stats(*m).full, 1);
}

// ---------------------------------------------------------------------------
// Partial resync
// ---------------------------------------------------------------------------

// After the link drops, the replica reconnects at once (7.0 does not wait
// for its once-a-second cron) and continues from the backlog: the
// master's sync_partial_ok goes up by one, sync_full does not.
TEST_P(Replication, PartialResyncAfterReplicaKillsMasterLink) {
  auto m = make_master();
  auto r = make_replica();
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  WriteStream ws(2);
  ws.run(m->client(), 1000);
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats before = sync_stats(*m);
  EXPECT_EQ(kill_master_link(*r), 1);
  ws.run(m->client(), 1000);
  ASSERT_TRUE(wait_partial_resync(*m, *r, before));
  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats after = sync_stats(*m);
  EXPECT_EQ(after.partial_ok, before.partial_ok + 1) << after.str();
  EXPECT_EQ(after.full, before.full) << after.str();
  EXPECT_TRUE(same_digest(*m, *r));
}

TEST_P(Replication, PartialResyncAfterMasterKillsReplicaLink) {
  auto m = make_master();
  auto r = make_replica();
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  WriteStream ws(3);
  ws.run(m->client(), 1000);
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats before = sync_stats(*m);
  EXPECT_EQ(kill_replica_links(*m), 1);
  ws.run(m->client(), 1000);
  ASSERT_TRUE(wait_partial_resync(*m, *r, before));
  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats after = sync_stats(*m);
  EXPECT_EQ(after.partial_ok, before.partial_ok + 1) << after.str();
  EXPECT_EQ(after.full, before.full) << after.str();
  EXPECT_TRUE(same_digest(*m, *r));
}

// A network cut: the proxy closes the link and refuses the replica's
// attempts for a while, during which the master takes writes (they wait in
// its backlog); then the replica gets through and resyncs partially.
TEST_P(Replication, PartialResyncAfterProxyCut) {
  auto m = make_master();
  auto r = make_replica();
  LinkProxy proxy(m->port());
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_synced(*m, *r));
  WriteStream ws(4);
  ws.run(m->client(), 1000);
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats before = sync_stats(*m);
  proxy.refuse(true);
  proxy.cut();
  ASSERT_TRUE(wait_link(*m, *r, "down"));
  ws.run(m->client(), 2000);
  // The replica tries again (at once, then once a second) and is refused.
  ASSERT_TRUE(wait_until([&] { return proxy.refused() >= 2; }, repl_ms(3000)))
      << "refused " << proxy.refused() << replication_report(*m, *r);
  EXPECT_EQ(sync_stats(*m).partial_ok, before.partial_ok);
  proxy.refuse(false);
  ASSERT_TRUE(wait_partial_resync(*m, *r, before));
  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats after = sync_stats(*m);
  EXPECT_EQ(after.partial_ok, before.partial_ok + 1) << after.str();
  EXPECT_EQ(after.full, before.full) << after.str();
  EXPECT_TRUE(same_digest(*m, *r));
}

// A link cut inside a command, and one inside a MULTI/EXEC block: the
// replica's offset counts only whole commands, and none of a transaction
// until its EXEC, so its PSYNC asks for the cut command (the whole
// transaction) again. (Byte counts: *3 $4 SADD $1 k $1 m is 28 bytes,
// MULTI 15, EXEC 14.)
TEST_P(Replication, CutInsideCommandAndTransactionResendsThem) {
  auto m = make_master();
  auto r = make_replica();
  LinkProxy proxy(m->port());
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_streaming(*m, *r));  // and the stream is in db 0
  auto offset = [&] { return info_int(m->client(), "master_repl_offset", "replication"); };
  const long long start = offset();

  // A transaction with one write goes out as that write alone.
  auto c = m->connect();
  ASSERT_EQ(c->call({"MULTI"}).str, "OK");
  ASSERT_EQ(c->call({"SADD", "o", "1"}).str, "QUEUED");
  ASSERT_EQ(c->call({"SCARD", "o"}).str, "QUEUED");
  ASSERT_EQ(c->call({"EXEC"}).to_string(), "[(integer) 1, (integer) 1]");
  EXPECT_EQ(offset(), start + 28);
  ASSERT_TRUE(wait_synced(*m, *r));

  // Cut 12 bytes into a command.
  const SyncStats before = sync_stats(*m);
  proxy.cut_after_more(12);
  ASSERT_EQ(m->call({"SADD", "c", "1"}).integer, 1);
  ASSERT_TRUE(wait_partial_resync(*m, *r, before));
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(proxy.cuts(), 1u);
  EXPECT_EQ(r->call({"SMEMBERS", "c"}).to_string(), "[\"1\"]");
  EXPECT_EQ(offset(), start + 28 + 28);

  // Cut 10 bytes into the first write of a transaction of two.
  const SyncStats middle = sync_stats(*m);
  proxy.cut_after_more(15 + 10);
  ASSERT_EQ(c->call({"MULTI"}).str, "OK");
  ASSERT_EQ(c->call({"SADD", "t", "1"}).str, "QUEUED");
  ASSERT_EQ(c->call({"SADD", "t", "2"}).str, "QUEUED");
  ASSERT_EQ(c->call({"EXEC"}).to_string(), "[(integer) 1, (integer) 1]");
  ASSERT_TRUE(wait_partial_resync(*m, *r, middle));
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(proxy.cuts(), 2u);
  EXPECT_EQ(r->call({"SCARD", "t"}).integer, 2);
  EXPECT_EQ(offset(), start + 28 + 28 + 15 + 28 + 28 + 14);

  // Cut inside the EXEC: nothing of the transaction is applied before the
  // replica has its EXEC, and all of it after.
  const SyncStats late = sync_stats(*m);
  proxy.cut_after_more(15 + 28 + 28 + 5);
  ASSERT_EQ(c->call({"MULTI"}).str, "OK");
  ASSERT_EQ(c->call({"SADD", "u", "1"}).str, "QUEUED");
  ASSERT_EQ(c->call({"SADD", "u", "2"}).str, "QUEUED");
  ASSERT_EQ(c->call({"EXEC"}).to_string(), "[(integer) 1, (integer) 1]");
  ASSERT_TRUE(wait_partial_resync(*m, *r, late));
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(proxy.cuts(), 3u);
  EXPECT_EQ(r->call({"SCARD", "u"}).integer, 2);
  const SyncStats after = sync_stats(*m);
  EXPECT_EQ(after.partial_ok, before.partial_ok + 3) << after.str();
  EXPECT_EQ(after.full, before.full) << after.str();
  EXPECT_TRUE(same_digest(*m, *r));
}

// ---------------------------------------------------------------------------
// Master restarts
// ---------------------------------------------------------------------------

// A master restarted without a dump has a new replication ID and an empty
// dataset: the replica's PSYNC <old id> fails and a full sync follows,
// which empties the replica too.
TEST_P(Replication, MasterRestartWithoutDumpForcesFullSync) {
  auto m = make_master();
  auto r = make_replica();
  ASSERT_EQ(m->call({"SADD", "before-restart", "1", "2", "x"}).integer, 3);
  ASSERT_EQ(m->call({"SET", "str-before", "v"}).str, "OK");
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  const std::string old_id = replid(*m);
  m->restart();
  EXPECT_NE(replid(*m), old_id);
  EXPECT_EQ(m->call({"DBSIZE"}).integer, 0);
  ASSERT_EQ(m->call({"SADD", "after-restart", "7"}).integer, 1);
  // (The master takes yet another ID when the replica's sync creates its
  // backlog.)
  ASSERT_TRUE(wait_until([&] { return sync_stats(*m).full == 1; }, repl_ms(5000)))
      << replication_report(*m, *r);
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_NE(replid(*m), old_id);
  EXPECT_EQ(replid(*r), replid(*m));
  const SyncStats s = sync_stats(*m);
  EXPECT_EQ(s.full, 1) << s.str();
  EXPECT_EQ(s.partial_ok, 0) << s.str();
  EXPECT_EQ(s.partial_err, 1) << s.str();  // the replica asked for the old ID
  EXPECT_EQ(r->call({"EXISTS", "before-restart", "str-before"}).integer, 0);
  EXPECT_EQ(r->call({"SISMEMBER", "after-restart", "7"}).integer, 1);
  EXPECT_TRUE(same_digest(*m, *r));
}

// Redis 7.0 keeps its replication history across a restart from the dump
// it saves when it shuts down (save points set, SIGTERM): the dump's
// repl-id becomes master_replid2, with second_repl_offset = the dump's
// offset + 1, and a fresh master_replid; the replica continues with a
// partial resync. (A dump saved earlier would not do: on SIGTERM the
// master first sends its replicas REPLCONF GETACK, which moves the offset
// past the dump's, and the replica's PSYNC then asks for more than the
// restarted master has.)
TEST_P(Replication, MasterRestartFromDumpAllowsPartialResync) {
  auto m = make_master({{"save", "3600 1"}});
  auto r = make_replica();
  // No short TTLs: a key expiring after SAVE would move the offset past
  // the dump's.
  StreamOptions o;
  o.short_ttl = 0;
  WriteStream ws(5, o);
  ws.run(m->client(), 500);
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  ws.run(m->client(), 500);
  ASSERT_TRUE(wait_synced(*m, *r));
  const InfoMap before = info_map(m->client(), "replication");
  m->restart();
  ASSERT_TRUE(file_exists(m->dir() + "/dump.rdb"));
  const InfoMap after = info_map(m->client(), "replication");
  EXPECT_NE(field(after, "master_replid"), field(before, "master_replid"));
  EXPECT_EQ(field(after, "master_replid2"), field(before, "master_replid"));
  EXPECT_GE(std::stoll(field(after, "master_repl_offset")),
            std::stoll(field(before, "master_repl_offset")));
  EXPECT_EQ(field(after, "second_repl_offset"),
            std::to_string(std::stoll(field(after, "master_repl_offset")) + 1));
  EXPECT_EQ(field(after, "repl_backlog_histlen"), "0");
  ws.run(m->client(), 300);
  ASSERT_TRUE(
      wait_until([&] { return replid(*r) == field(after, "master_replid"); }, repl_ms(5000)))
      << replication_report(*m, *r);
  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(*m, *r));
  const SyncStats s = sync_stats(*m);
  EXPECT_EQ(s.partial_ok, 1) << s.str() << replication_report(*m, *r);
  EXPECT_EQ(s.full, 0) << s.str();
  EXPECT_EQ(field(info_map(r->client(), "replication"), "master_replid2"),
            field(before, "master_replid"));
  EXPECT_TRUE(same_digest(*m, *r));
}

// ---------------------------------------------------------------------------
// A cut in the middle of a full sync
// ---------------------------------------------------------------------------

// The proxy cuts the link after 512 KB of a transfer of about 2.5 MB; the
// replica keeps its old data (disk-based loading), tries again at once,
// and a second full sync completes.
void Replication::cut_during_full_sync(bool diskless) {
  auto m = make_master({{"repl-diskless-sync", diskless ? "yes" : "no"}});
  auto r = make_replica();
  fill_sample_dataset(m->client(), 100000);
  ASSERT_EQ(r->call({"SET", "replica-only", "x"}).str, "OK");
  LinkProxy proxy(m->port());
  proxy.cut_after(512 * 1024);
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_until([&] { return proxy.cuts() == 1; }, repl_ms(5000)))
      << "the transfer never reached 512 KB: " << proxy.bytes_down() << " bytes"
      << replication_report(*m, *r);
  ASSERT_TRUE(wait_synced(*m, *r, 15000));
  EXPECT_GE(proxy.accepted(), 2u);
  EXPECT_GT(proxy.bytes_down(), 2u * 1024 * 1024);
  const SyncStats s = sync_stats(*m);
  EXPECT_EQ(s.full, 2) << s.str();
  EXPECT_EQ(s.partial_ok, 0) << s.str();
  // Both attempts ask PSYNC <the replica's own old replid> 1: a replica
  // drops that history only once a new dataset is loaded.
  EXPECT_EQ(s.partial_err, 2) << s.str();
  EXPECT_EQ(dataset_diff(capture_dataset(m->client()), capture_dataset(r->client())), "");
  EXPECT_TRUE(same_digest(*m, *r));
}

TEST_P(Replication, CutDuringDiskBasedFullSync) { cut_during_full_sync(false); }
TEST_P(Replication, CutDuringDisklessFullSync) { cut_during_full_sync(true); }

// ---------------------------------------------------------------------------
// ROLE and INFO replication
// ---------------------------------------------------------------------------

TEST_P(Replication, RoleOnBothSides) {
  auto m = make_master();
  auto r = make_replica();
  // A master without replicas: ["master", 0, []].
  RespValue role = m->call({"ROLE"});
  ASSERT_EQ(role.to_string(), "[\"master\", (integer) 0, []]");

  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  ASSERT_EQ(m->call({"SADD", "s", "1"}).integer, 1);
  // The master: ["master", offset, [[ip, port, acked offset], ...]], the
  // port and offset of each replica as bulk strings; the replica:
  // ["slave", host, port, "connected", processed offset]. Compared once
  // the replica has acked everything (its REPLCONF ACK comes once a
  // second) and both sides agree (a PING may move the offset meanwhile).
  long long offset = -1;
  RespValue replica_role;
  ASSERT_TRUE(wait_until(
      [&] {
        offset = info_int(m->client(), "master_repl_offset", "replication");
        role = m->call({"ROLE"});
        replica_role = r->call({"ROLE"});
        const std::string off = std::to_string(offset);
        return role.elements.size() == 3 && role.elements[1].integer == offset &&
               role.elements[2].elements.size() == 1 &&
               role.elements[2].elements[0].elements.size() == 3 &&
               role.elements[2].elements[0].elements[2].str == off &&
               replica_role.elements.size() == 5 && replica_role.elements[4].integer == offset;
      },
      repl_ms(3000)))
      << "master_repl_offset " << offset << ", master " << role.to_string() << ", replica "
      << replica_role.to_string();
  EXPECT_GT(offset, 0);
  EXPECT_EQ(role.to_string(), "[\"master\", (integer) " + std::to_string(offset) +
                                  ", [[\"127.0.0.1\", \"" + std::to_string(r->port()) + "\", \"" +
                                  std::to_string(offset) + "\"]]]");
  role = replica_role;
  EXPECT_EQ(role.to_string(), "[\"slave\", \"127.0.0.1\", (integer) " + std::to_string(m->port()) +
                                  ", \"connected\", (integer) " + std::to_string(offset) + "]");
  EXPECT_EQ(role.elements[1].kind, RespValue::Kind::kBulk);
  EXPECT_EQ(role.elements[3].kind, RespValue::Kind::kBulk);

  // A replica of a port nobody listens on: state "connect", offset -1.
  const int dead = free_port();
  ASSERT_TRUE(replicaof(*r, dead));
  ASSERT_TRUE(wait_until(
      [&] {
        role = r->call({"ROLE"});
        return role.elements.size() == 5 && role.elements[3].str == "connect";
      },
      repl_ms(2000)))
      << role.to_string();
  EXPECT_EQ(role.to_string(), "[\"slave\", \"127.0.0.1\", (integer) " + std::to_string(dead) +
                                  ", \"connect\", (integer) -1]");
  // The master forgets the replica.
  ASSERT_TRUE(
      wait_until([&] { return m->call({"ROLE"}).elements.at(2).elements.empty(); }, repl_ms(2000)));
  ASSERT_TRUE(replicaof_no_one(*r));
  EXPECT_EQ(r->call({"ROLE"}).elements.at(0).str, "master");
}

std::vector<std::string> names(const std::vector<std::pair<std::string, std::string>>& f) {
  std::vector<std::string> out;
  for (const auto& [k, v] : f) out.push_back(k);
  return out;
}

// Every field of INFO replication, in Redis 7.0's order, on a master with
// one replica, on that replica, and on a replica whose link is down.
TEST_P(Replication, InfoReplicationFields) {
  auto m = make_master({{"repl-backlog-size", "2mb"}});
  auto r = make_replica();
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  ASSERT_EQ(m->call({"SET", "k", "v"}).str, "OK");
  ASSERT_TRUE(wait_synced(*m, *r));

  const auto mf = info_fields(m->client(), "replication");
  EXPECT_EQ(names(mf),
            (std::vector<std::string>{
                "role", "connected_slaves", "slave0", "master_failover_state", "master_replid",
                "master_replid2", "master_repl_offset", "second_repl_offset", "repl_backlog_active",
                "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen"}));
  const InfoMap mi(mf.begin(), mf.end());
  EXPECT_EQ(field(mi, "role"), "master");
  EXPECT_EQ(field(mi, "connected_slaves"), "1");
  EXPECT_TRUE(std::regex_match(field(mi, "slave0"),
                               std::regex("ip=127\\.0\\.0\\.1,port=" + std::to_string(r->port()) +
                                          ",state=online,offset=[0-9]+,lag=[0-9]+")))
      << field(mi, "slave0");
  EXPECT_EQ(field(mi, "master_failover_state"), "no-failover");
  EXPECT_TRUE(std::regex_match(field(mi, "master_replid"), std::regex("[0-9a-f]{40}")));
  EXPECT_EQ(field(mi, "master_replid2"), std::string(40, '0'));
  EXPECT_EQ(field(mi, "second_repl_offset"), "-1");
  EXPECT_EQ(field(mi, "repl_backlog_active"), "1");
  EXPECT_EQ(field(mi, "repl_backlog_size"), "2097152");
  EXPECT_EQ(field(mi, "repl_backlog_first_byte_offset"), "1");
  EXPECT_EQ(field(mi, "repl_backlog_histlen"), field(mi, "master_repl_offset"));

  const auto rf = info_fields(r->client(), "replication");
  const std::vector<std::string> replica_fields{"role",
                                                "master_host",
                                                "master_port",
                                                "master_link_status",
                                                "master_last_io_seconds_ago",
                                                "master_sync_in_progress",
                                                "slave_read_repl_offset",
                                                "slave_repl_offset",
                                                "slave_priority",
                                                "slave_read_only",
                                                "replica_announced",
                                                "connected_slaves",
                                                "master_failover_state",
                                                "master_replid",
                                                "master_replid2",
                                                "master_repl_offset",
                                                "second_repl_offset",
                                                "repl_backlog_active",
                                                "repl_backlog_size",
                                                "repl_backlog_first_byte_offset",
                                                "repl_backlog_histlen"};
  EXPECT_EQ(names(rf), replica_fields);
  const InfoMap ri(rf.begin(), rf.end());
  EXPECT_EQ(field(ri, "role"), "slave");
  EXPECT_EQ(field(ri, "master_host"), "127.0.0.1");
  EXPECT_EQ(field(ri, "master_port"), std::to_string(m->port()));
  EXPECT_EQ(field(ri, "master_link_status"), "up");
  EXPECT_EQ(field(ri, "master_sync_in_progress"), "0");
  EXPECT_EQ(field(ri, "slave_read_repl_offset"), field(mi, "master_repl_offset"));
  EXPECT_EQ(field(ri, "slave_repl_offset"), field(mi, "master_repl_offset"));
  EXPECT_EQ(field(ri, "slave_priority"), "100");
  EXPECT_EQ(field(ri, "slave_read_only"), "1");
  EXPECT_EQ(field(ri, "replica_announced"), "1");
  EXPECT_EQ(field(ri, "connected_slaves"), "0");
  EXPECT_EQ(field(ri, "master_replid"), field(mi, "master_replid"));
  EXPECT_EQ(field(ri, "master_repl_offset"), field(mi, "master_repl_offset"));
  EXPECT_EQ(field(ri, "repl_backlog_active"), "1");
  EXPECT_EQ(field(ri, "repl_backlog_size"), "1048576");
  // The replica's backlog starts after the offset of its full sync.
  EXPECT_EQ(field(ri, "repl_backlog_first_byte_offset"), "1");

  // Link down: master_link_down_since_seconds after slave_repl_offset,
  // master_last_io_seconds_ago -1.
  m->stop();
  ASSERT_TRUE(wait_link(*m, *r, "down"));
  const auto df = info_fields(r->client(), "replication");
  std::vector<std::string> down_fields = replica_fields;
  down_fields.insert(down_fields.begin() + 8, "master_link_down_since_seconds");
  EXPECT_EQ(names(df), down_fields);
  const InfoMap di(df.begin(), df.end());
  EXPECT_EQ(field(di, "master_last_io_seconds_ago"), "-1");
  EXPECT_TRUE(std::regex_match(field(di, "master_link_down_since_seconds"), std::regex("[0-9]+")));
}

// ---------------------------------------------------------------------------
// WAIT
// ---------------------------------------------------------------------------

TEST_P(Replication, WaitCountsReplicas) {
  auto m = make_master();
  auto r1 = make_replica();
  auto r2 = make_replica();
  ASSERT_TRUE(replicaof(*r1, *m));
  ASSERT_TRUE(replicaof(*r2, *m));
  ASSERT_TRUE(wait_streaming(*m, *r1));
  ASSERT_TRUE(wait_synced(*m, *r2));  // the warm-up write reached it too
  auto c = m->connect();
  ASSERT_EQ(c->call({"SET", "k", "1"}).str, "OK");
  // The master asks for acks (REPLCONF GETACK) at once: no waiting.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c->call({"WAIT", "2", "5000"}).integer, 2);
  EXPECT_LT(elapsed_ms(t0), 1000);
  // Inside MULTI WAIT does not block: the number of replicas that have
  // acked the client's offset, now. (In 7.0 every command, even a read,
  // sets its client's offset to the master's current one; the REPLCONF
  // GETACK of a blocking WAIT moves that on, and the replicas cover it only
  // with their next once-a-second REPLCONF ACK: until then an immediate
  // WAIT answers 0. So first wait for those acks.)
  ASSERT_TRUE(wait_acked(*m, 2));
  ASSERT_EQ(c->call({"MULTI"}).str, "OK");
  ASSERT_EQ(c->call({"WAIT", "3", "0"}).str, "QUEUED");
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c->call({"EXEC"}).to_string(), "[(integer) 2]");
  EXPECT_LT(elapsed_ms(t0), 1000);
  EXPECT_EQ(c->call({"WAIT", "0", "0"}).integer, 2);
  // More replicas than there are: the timeout, then the count.
  ASSERT_EQ(c->call({"SET", "k", "2"}).str, "OK");
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c->call({"WAIT", "3", "300"}).integer, 2);
  EXPECT_GE(elapsed_ms(t0), 290);
  EXPECT_EQ(err(c->call({"WAIT", "1", "-1"})), "ERR timeout is negative");
  EXPECT_EQ(err(c->call({"WAIT", "x", "0"})), "ERR value is not an integer or out of range");
  EXPECT_EQ(err(c->call({"WAIT", "1"})), "ERR wrong number of arguments for 'wait' command");
  // On a replica.
  EXPECT_EQ(err(r1->call({"WAIT", "1", "100"})),
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis "
            "4.0 if a replica is configured to be writable (which is not the default) writes to "
            "replicas are just local and are not propagated.");
  // One replica leaves.
  ASSERT_TRUE(replicaof_no_one(*r2));
  ASSERT_EQ(c->call({"SET", "k", "3"}).str, "OK");
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c->call({"WAIT", "2", "300"}).integer, 1);
  EXPECT_GE(elapsed_ms(t0), 290);
  EXPECT_EQ(r1->call({"GET", "k"}).str, "3");
}

// ---------------------------------------------------------------------------
// Read-only replicas
// ---------------------------------------------------------------------------

TEST_P(Replication, ReplicaRefusesWrites) {
  auto m = make_master();
  auto r = make_replica();
  ASSERT_EQ(m->call({"SADD", "s", "1", "2"}).integer, 2);
  ASSERT_TRUE(replicaof(*r, *m));
  ASSERT_TRUE(wait_synced(*m, *r));
  const std::string ro = "READONLY You can't write against a read only replica.";
  EXPECT_EQ(err(r->call({"SET", "k", "v"})), ro);
  EXPECT_EQ(err(r->call({"SADD", "s", "3"})), ro);
  EXPECT_EQ(err(r->call({"DEL", "s"})), ro);
  EXPECT_EQ(err(r->call({"FLUSHDB"})), ro);
  EXPECT_EQ(err(r->call({"SINTERSTORE", "d", "s"})), ro);
  // In a transaction: refused when queued, and EXEC aborts.
  EXPECT_EQ(r->call({"MULTI"}).str, "OK");
  EXPECT_EQ(err(r->call({"SADD", "s", "3"})), ro);
  EXPECT_EQ(r->call({"SCARD", "s"}).str, "QUEUED");
  EXPECT_EQ(err(r->call({"EXEC"})), "EXECABORT Transaction discarded because of previous errors.");
  // Reads work.
  EXPECT_EQ(r->call({"SCARD", "s"}).integer, 2);
  EXPECT_EQ(r->call({"SISMEMBER", "s", "1"}).integer, 1);
  EXPECT_EQ(field(info_map(r->client(), "replication"), "slave_read_only"), "1");
  // replica-read-only no: local writes, not sent anywhere.
  ASSERT_EQ(r->call({"CONFIG", "SET", "replica-read-only", "no"}).str, "OK");
  EXPECT_EQ(field(info_map(r->client(), "replication"), "slave_read_only"), "0");
  EXPECT_EQ(r->call({"SADD", "local", "x"}).integer, 1);
  EXPECT_EQ(m->call({"EXISTS", "local"}).integer, 0);
  EXPECT_EQ(m->call({"SADD", "s", "3"}).integer, 1);
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(r->call({"SCARD", "s"}).integer, 3);
}

// ---------------------------------------------------------------------------
// Expired keys
// ---------------------------------------------------------------------------

// A replica never deletes an expired key itself: it answers as if the key
// were gone (GET nil, EXISTS 0, TTL -2, not in KEYS or SCAN), but DBSIZE
// counts it until the master's DEL arrives. The proxy freezes the link so
// that the DEL waits.
TEST_P(Replication, ExpiredKeysReachReplicaAsDel) {
  auto m = make_master();
  auto r = make_replica();
  LinkProxy proxy(m->port());
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_streaming(*m, *r));
  ASSERT_EQ(m->call({"DEL", "warm-up"}).integer, 1);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(m->call({"SET", "e", "v", "PX", "1000"}).str, "OK");
  ASSERT_EQ(m->call({"SADD", "es", "a", "1"}).integer, 2);
  ASSERT_EQ(m->call({"PEXPIRE", "es", "1000"}).integer, 1);
  ASSERT_EQ(m->call({"SET", "keep", "1"}).str, "OK");
  ASSERT_TRUE(wait_synced(*m, *r));
  proxy.freeze(true);
  ASSERT_LT(elapsed_ms(t0), 800) << "too slow for the 1000 ms TTLs";
  EXPECT_EQ(r->call({"GET", "e"}).str, "v");
  EXPECT_EQ(r->call({"DBSIZE"}).integer, 3);
  sleep_ms(1300 - static_cast<int>(elapsed_ms(t0)));
  // The master has deleted them (now at the latest) and sent DELs.
  EXPECT_TRUE(m->call({"GET", "e"}).is_null());
  EXPECT_EQ(m->call({"DBSIZE"}).integer, 1);
  EXPECT_GE(info_int(m->client(), "expired_keys", "stats"), 2);
  // The replica has not seen the DELs yet.
  EXPECT_TRUE(r->call({"GET", "e"}).is_null());
  EXPECT_EQ(r->call({"EXISTS", "e", "es"}).integer, 0);
  EXPECT_EQ(r->call({"TTL", "e"}).integer, -2);
  EXPECT_EQ(r->call({"PTTL", "es"}).integer, -2);
  EXPECT_EQ(r->call({"TYPE", "es"}).str, "none");
  EXPECT_EQ(r->call({"SCARD", "es"}).integer, 0);
  EXPECT_EQ(r->call({"SISMEMBER", "es", "a"}).integer, 0);
  EXPECT_EQ(r->call({"KEYS", "*"}).to_string(), "[\"keep\"]");
  EXPECT_EQ(r->call({"SCAN", "0", "COUNT", "100"}).to_string(), "[\"0\", [\"keep\"]]");
  EXPECT_EQ(r->call({"DBSIZE"}).integer, 3);
  EXPECT_EQ(r->call({"DBSIZE"}).integer, 3);  // reading did not delete them
  EXPECT_EQ(info_int(r->client(), "expired_keys", "stats"), 0);

  proxy.freeze(false);
  EXPECT_TRUE(wait_until([&] { return r->call({"DBSIZE"}).integer == 1; }, repl_ms(3000)))
      << "DBSIZE " << r->call({"DBSIZE"}).integer;
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_TRUE(same_digest(*m, *r));
}

// A replica that applies its master's writes late (the link was frozen, or
// the writes came from the backlog after a reconnect) applies them to keys
// whose TTL has passed on its clock as if they were alive: the master
// wrote to live keys. A PEXPIREAT (or SET ... PXAT) that arrives after its
// time does not delete the key either. Only the master's DEL removes a key.
TEST_P(Replication, ReplicaAppliesLateWritesToKeysPastTheirTtl) {
  auto m = make_master();
  auto r = make_replica();
  LinkProxy proxy(m->port());
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_streaming(*m, *r));
  ASSERT_EQ(m->call({"DEL", "warm-up"}).integer, 1);
  const auto t0 = std::chrono::steady_clock::now();
  for (const char* k : {"p", "s", "u", "n", "w"})
    ASSERT_EQ(m->call({"SADD", k, "1", "2"}).integer, 2);
  ASSERT_EQ(m->call({"SET", "r", "a"}).str, "OK");
  ASSERT_EQ(m->call({"SET", "i", "5"}).str, "OK");
  for (const char* k : {"p", "s", "u", "n", "r", "i"})
    ASSERT_EQ(m->call({"PEXPIRE", k, "1500"}).integer, 1);
  ASSERT_TRUE(wait_synced(*m, *r));
  proxy.freeze(true);
  // On the master all of these keys are alive.
  EXPECT_EQ(m->call({"PERSIST", "p"}).integer, 1);
  EXPECT_EQ(m->call({"APPEND", "r", "b"}).integer, 2);
  EXPECT_EQ(m->call({"PERSIST", "r"}).integer, 1);
  EXPECT_EQ(m->call({"INCR", "i"}).integer, 6);
  EXPECT_EQ(m->call({"PERSIST", "i"}).integer, 1);
  EXPECT_EQ(m->call({"SMOVE", "s", "t", "1"}).integer, 1);
  EXPECT_EQ(m->call({"SUNIONSTORE", "v", "u"}).integer, 2);
  EXPECT_EQ(m->call({"SADD", "n", "3"}).integer, 1);
  // These expiry times are past when the replica gets them.
  EXPECT_EQ(m->call({"PEXPIRE", "w", "1500"}).integer, 1);
  EXPECT_EQ(m->call({"PERSIST", "w"}).integer, 1);
  EXPECT_EQ(m->call({"SET", "x", "v", "PX", "1500"}).str, "OK");
  EXPECT_EQ(m->call({"PERSIST", "x"}).integer, 1);
  ASSERT_LT(elapsed_ms(t0), 1200) << "too slow for the 1500 ms TTLs";
  // The rest expire on the master (DELs wait in the frozen link), and all
  // six TTLs pass on the replica's clock before it sees any of this.
  sleep_ms(1800 - static_cast<int>(elapsed_ms(t0)));
  EXPECT_EQ(m->call({"EXISTS", "s", "u", "n"}).integer, 0);
  proxy.freeze(false);
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(r->call({"SMEMBERS", "p"}).to_string(), "[\"1\", \"2\"]");
  EXPECT_EQ(r->call({"PTTL", "p"}).integer, -1);
  EXPECT_EQ(r->call({"GET", "r"}).str, "ab");
  EXPECT_EQ(r->call({"GET", "i"}).str, "6");
  EXPECT_EQ(r->call({"SMEMBERS", "t"}).to_string(), "[\"1\"]");
  EXPECT_EQ(r->call({"SCARD", "v"}).integer, 2);
  EXPECT_EQ(r->call({"SMEMBERS", "w"}).to_string(), "[\"1\", \"2\"]");
  EXPECT_EQ(r->call({"GET", "x"}).str, "v");
  EXPECT_EQ(r->call({"DBSIZE"}).integer, 7);
  EXPECT_TRUE(same_digest(*m, *r));
}

// ---------------------------------------------------------------------------
// min-replicas-to-write
// ---------------------------------------------------------------------------

TEST_P(Replication, MinReplicasToWrite) {
  auto m = make_master({{"min-replicas-to-write", "1"}, {"min-replicas-max-lag", "10"}});
  auto r = make_replica();
  const std::string no = "NOREPLICAS Not enough good replicas to write.";
  EXPECT_EQ(err(m->call({"SET", "k", "v"})), no);
  EXPECT_EQ(err(m->call({"SADD", "s", "1"})), no);
  EXPECT_TRUE(m->call({"GET", "k"}).is_null());  // reads work
  EXPECT_EQ(m->call({"MULTI"}).str, "OK");
  EXPECT_EQ(err(m->call({"SET", "k", "v"})), no);
  EXPECT_EQ(err(m->call({"EXEC"})), "EXECABORT Transaction discarded because of previous errors.");

  LinkProxy proxy(m->port());
  ASSERT_TRUE(replicaof(*r, proxy.port()));
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_TRUE(wait_until([&] { return m->call({"SET", "k", "v"}).str == "OK"; }, repl_ms(3000)));
  ASSERT_EQ(m->call({"CONFIG", "SET", "min-replicas-to-write", "2"}).str, "OK");
  EXPECT_EQ(err(m->call({"SET", "k", "v"})), no);
  ASSERT_EQ(m->call({"CONFIG", "SET", "min-replicas-to-write", "1"}).str, "OK");
  EXPECT_EQ(m->call({"SET", "k", "v2"}).str, "OK");

  // A replica whose acks stop coming counts no more after
  // min-replicas-max-lag seconds.
  ASSERT_EQ(m->call({"CONFIG", "SET", "min-replicas-max-lag", "1"}).str, "OK");
  proxy.freeze(true);
  EXPECT_TRUE(wait_until([&] { return m->call({"SET", "k", "v3"}).is_error(); }, repl_ms(5000)));
  EXPECT_EQ(err(m->call({"SET", "k", "v4"})), no);
  proxy.freeze(false);
  EXPECT_TRUE(wait_until([&] { return m->call({"SET", "k", "v5"}).str == "OK"; }, repl_ms(5000)));
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(r->call({"GET", "k"}).str, "v5");

  // A replica that leaves counts no more at once.
  ASSERT_TRUE(replicaof_no_one(*r));
  EXPECT_TRUE(wait_until([&] { return m->call({"SET", "k", "v6"}).is_error(); }, repl_ms(2000)));
  EXPECT_EQ(err(m->call({"SET", "k", "v7"})), no);
}

// ---------------------------------------------------------------------------
// masterauth
// ---------------------------------------------------------------------------

TEST_P(Replication, MasterAuth) {
  auto m = make_master({{"requirepass", "s3cret"}});
  auto r = make_replica({{"masterauth", "wrong"}});
  ASSERT_EQ(m->call({"AUTH", "s3cret"}).str, "OK");
  ASSERT_EQ(m->call({"SADD", "s", "1"}).integer, 1);
  ASSERT_TRUE(replicaof(*r, *m));
  // A wrong password: the link stays down.
  sleep_ms(1200);
  EXPECT_EQ(field(info_map(r->client(), "replication"), "master_link_status"), "down");
  EXPECT_EQ(sync_stats(*m).full, 0);
  ASSERT_EQ(r->call({"CONFIG", "SET", "masterauth", "s3cret"}).str, "OK");
  ASSERT_TRUE(wait_synced(*m, *r));
  EXPECT_EQ(r->call({"SISMEMBER", "s", "1"}).integer, 1);
}

INSTANTIATE_TEST_SUITE_P(Pairings, Replication, ::testing::ValuesIn(kPairings),
                         [](const auto& param_info) { return pairing_name(param_info.param); });

// ---------------------------------------------------------------------------
// A fresh master's stream
// ---------------------------------------------------------------------------

class FreshMaster : public ::testing::TestWithParam<NodeKind> {
 protected:
  void SetUp() override {
    if (GetParam() == NodeKind::kRedis && !redis_server_installed())
      GTEST_SKIP() << "redis-server not installed";
  }
};

// Until its first write a master's stream holds only a ping every
// repl-ping-replica-period seconds (10) from start-up: none in the second
// it started, even when a replica attached within it (Redis's first
// replicationCron runs before any replica can attach). So the offset of a
// master that got no write is still 0 once that second is over. The
// replica has to attach before the master's first cron tick: tried thrice.
TEST_P(FreshMaster, NoPingInTheSecondOfStartUp) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    Node m(GetParam(), {{"repl-diskless-sync-delay", "0"}});
    Node r(GetParam(), {{"replicaof", "127.0.0.1 " + std::to_string(m.port())}});
    ASSERT_TRUE(wait_synced(m, r));
    ASSERT_TRUE(wait_until([&] { return info_int(m.client(), "uptime_in_seconds", "server") >= 1; },
                           repl_ms(3000)));
    EXPECT_EQ(info_int(m.client(), "master_repl_offset", "replication"), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FreshMaster, ::testing::Values(NodeKind::kRedis, NodeKind::kSetd),
                         [](const auto& param_info) {
                           return std::string(kind_name(param_info.param));
                         });

// ---------------------------------------------------------------------------
// Listpack sets (setd's default encodings)
// ---------------------------------------------------------------------------

// A setd master with listpack sets: a setd replica gets them as listpacks
// (the RDB carries plain sets, loaded by Redis 7.2's rules), redis-server
// 7.0 gets every member; the write stream that follows too.
TEST(ReplicationListpack, FullSyncAndStreamCarryListpackSets) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  const Directives listpack{{"set-max-listpack-entries", "128"}};
  Node m(NodeKind::kSetd, listpack);
  Node setd_replica(NodeKind::kSetd, listpack);
  Node redis_replica(NodeKind::kRedis);
  fill_sample_dataset(m.client(), 2000);
  ASSERT_EQ(m.call({"OBJECT", "ENCODING", "set:mixed"}).str, "listpack");
  for (Node* r : {&setd_replica, &redis_replica}) {
    ASSERT_TRUE(replicaof(*r, m));
    ASSERT_TRUE(wait_synced(m, *r, 10000));
  }
  apply_write_effects(m.client());
  ASSERT_EQ(m.call({"SADD", "late", "a", "1"}).integer, 2);
  for (Node* r : {&setd_replica, &redis_replica}) ASSERT_TRUE(wait_synced(m, *r, 10000));
  const Dataset want = capture_dataset(m.client());
  EXPECT_EQ(dataset_diff(want, capture_dataset(setd_replica.client())), "");
  EXPECT_EQ(dataset_diff(want, capture_dataset(redis_replica.client()), {.encodings = false}), "");
  EXPECT_EQ(setd_replica.call({"OBJECT", "ENCODING", "set:mixed"}).str, "listpack");
  EXPECT_EQ(setd_replica.call({"OBJECT", "ENCODING", "late"}).str, "listpack");
  EXPECT_EQ(redis_replica.call({"OBJECT", "ENCODING", "late"}).str, "hashtable");
}

// ---------------------------------------------------------------------------
// Consistency: random streams with a link cut in the middle
// ---------------------------------------------------------------------------

class ReplicationConsistency : public ::testing::TestWithParam<std::tuple<Pairing, uint64_t>> {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  }
};

// A writer streams 4000 random commands to the master; a third of the way
// in, the proxy freezes the link (the master keeps writing into it), half
// way it cuts it; the rest of the stream goes to the master while the
// replica reconnects. The replica resyncs partially and ends up with the
// master's data.
TEST_P(ReplicationConsistency, StreamWithLinkCut) {
  const auto [pairing, seed] = GetParam();
  Node m(pairing.master, {{"repl-diskless-sync-delay", "0"}, {"repl-backlog-size", "16mb"}});
  Node r(pairing.replica);
  WriteStream ws(seed * 1000 + 7);
  ws.run(m.client(), 300);
  LinkProxy proxy(m.port());
  ASSERT_TRUE(replicaof(r, proxy.port()));
  ASSERT_TRUE(wait_synced(m, r));
  const SyncStats before = sync_stats(m);

  // The writer's own thread freezes and cuts the link between two bursts
  // of its pipeline, so both happen mid-stream whatever the speed.
  constexpr size_t kCommands = 4000;
  bool frozen = false, cut = false;
  uint64_t down_at_freeze = 0, down_at_cut = 0;
  std::string writer_error;
  std::thread writer([&] {
    try {
      auto c = m.connect(10000);
      ws.run(*c, kCommands, [&](size_t done) {
        if (!frozen && done >= kCommands / 3) {
          frozen = true;
          proxy.freeze(true);
          down_at_freeze = proxy.bytes_down();
        }
        if (!cut && done >= kCommands / 2) {
          cut = true;
          down_at_cut = proxy.bytes_down();
          proxy.cut();
          proxy.freeze(false);
        }
      });
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
  });
  writer.join();
  ASSERT_EQ(writer_error, "");
  EXPECT_EQ(ws.unexpected_error(), "");
  EXPECT_TRUE(frozen && cut);
  EXPECT_EQ(proxy.cuts(), 1u);
  EXPECT_EQ(down_at_cut, down_at_freeze);  // nothing moved while frozen

  let_short_ttls_expire();
  ASSERT_TRUE(wait_synced(m, r, 8000));
  const SyncStats after = sync_stats(m);
  EXPECT_EQ(after.full, before.full) << after.str();
  EXPECT_EQ(after.partial_ok, before.partial_ok + 1) << after.str();
  EXPECT_TRUE(same_digest(m, r)) << "seed " << ws.seed();
}

INSTANTIATE_TEST_SUITE_P(Pairings, ReplicationConsistency,
                         ::testing::Combine(::testing::ValuesIn(kPairings),
                                            ::testing::Values(1u, 2u, 3u)),
                         [](const auto& param_info) {
                           return pairing_name(std::get<0>(param_info.param)) + "_Seed" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

// ---------------------------------------------------------------------------
// REPLICAOF, REPLCONF and WAIT misuse on one node
// ---------------------------------------------------------------------------

class ReplicaofCommand : public ::testing::TestWithParam<NodeKind> {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  }
};

TEST_P(ReplicaofCommand, Errors) {
  Node n(GetParam());
  Client& c = n.client();
  const std::string arity = "ERR wrong number of arguments for 'replicaof' command";
  EXPECT_EQ(err(c.call({"REPLICAOF", "127.0.0.1"})), arity);
  EXPECT_EQ(err(c.call({"REPLICAOF", "NO", "ONE", "x"})), arity);
  EXPECT_EQ(err(c.call({"SLAVEOF", "127.0.0.1"})),
            "ERR wrong number of arguments for 'slaveof' command");
  for (const char* port : {"notaport", "70000", "-1", "65536", "1.5", ""})
    EXPECT_EQ(err(c.call({"REPLICAOF", "127.0.0.1", port})), "ERR Invalid master port") << port;
  // Already a master: fine.
  EXPECT_EQ(c.call({"REPLICAOF", "NO", "ONE"}).str, "OK");
  EXPECT_EQ(c.call({"REPLICAOF", "no", "one"}).str, "OK");
  EXPECT_EQ(c.call({"ROLE"}).to_string(), "[\"master\", (integer) 0, []]");
  // Port 0 and 65535 pass the check.
  EXPECT_EQ(c.call({"REPLICAOF", "localhost", "0"}).str, "OK");
  RespValue role;
  EXPECT_TRUE(wait_until(
      [&] {
        role = c.call({"ROLE"});
        return role.to_string() ==
               "[\"slave\", \"localhost\", (integer) 0, \"connect\", (integer) -1]";
      },
      repl_ms(2000)))
      << role.to_string();
  EXPECT_EQ(c.call({"REPLICAOF", "NO", "ONE"}).str, "OK");

  // The same master again: a status reply of its own (SLAVEOF too).
  const int dead = free_port();
  EXPECT_EQ(c.call({"REPLICAOF", "127.0.0.1", std::to_string(dead)}).str, "OK");
  EXPECT_EQ(c.call({"REPLICAOF", "127.0.0.1", std::to_string(dead)}).str,
            "OK Already connected to specified master");
  EXPECT_EQ(c.call({"SLAVEOF", "127.0.0.1", std::to_string(dead)}).str,
            "OK Already connected to specified master");
  // REPLICAOF is allowed in a transaction.
  EXPECT_EQ(c.call({"MULTI"}).str, "OK");
  EXPECT_EQ(c.call({"REPLICAOF", "127.0.0.1", std::to_string(dead)}).str, "QUEUED");
  EXPECT_EQ(c.call({"EXEC"}).to_string(), "[OK Already connected to specified master]");
  EXPECT_EQ(c.call({"REPLICAOF", "NO", "ONE"}).str, "OK");

  // A replica of itself: accepted, but the link never comes up (its own
  // PSYNC gets -NOMASTERLINK).
  EXPECT_EQ(c.call({"REPLICAOF", "127.0.0.1", std::to_string(n.port())}).str, "OK");
  sleep_ms(1200);
  const InfoMap info = info_map(c, "replication");
  EXPECT_EQ(field(info, "role"), "slave");
  EXPECT_EQ(field(info, "master_link_status"), "down");
  const RespValue self = c.call({"ROLE"});
  ASSERT_EQ(self.elements.size(), 5u) << self.to_string();
  EXPECT_NE(self.elements[3].str, "connected");
  // PSYNC / SYNC from a normal client while not connected to a master.
  EXPECT_EQ(err(c.call({"PSYNC", "?", "-1"})),
            "NOMASTERLINK Can't SYNC while not connected with my master");
  EXPECT_EQ(c.call({"REPLICAOF", "NO", "ONE"}).str, "OK");

  // PSYNC and SYNC are refused in a transaction.
  EXPECT_EQ(c.call({"MULTI"}).str, "OK");
  EXPECT_EQ(err(c.call({"PSYNC", "?", "-1"})), "ERR Command not allowed inside a transaction");
  EXPECT_EQ(err(c.call({"SYNC"})), "ERR Command not allowed inside a transaction");
  EXPECT_EQ(err(c.call({"EXEC"})), "EXECABORT Transaction discarded because of previous errors.");

  // REPLCONF from a normal client.
  EXPECT_EQ(err(c.call({"REPLCONF", "foo", "bar"})), "ERR Unrecognized REPLCONF option: foo");
  EXPECT_EQ(err(c.call({"REPLCONF", "a"})), "ERR syntax error");
  EXPECT_EQ(c.call({"REPLCONF"}).str, "OK");
  EXPECT_EQ(c.call({"REPLCONF", "listening-port", "1"}).str, "OK");
  EXPECT_EQ(err(c.call({"REPLCONF", "listening-port", "x"})),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(c.call({"REPLCONF", "capa", "eof", "capa", "psync2"}).str, "OK");
  // ACK and GETACK get no reply.
  c.send({"REPLCONF", "ACK", "5"});
  c.send({"REPLCONF", "GETACK", "*"});
  EXPECT_EQ(c.call({"PING"}).str, "PONG");

  // WAIT on a master without replicas.
  EXPECT_EQ(c.call({"WAIT", "0", "0"}).integer, 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.call({"WAIT", "1", "100"}).integer, 0);
  EXPECT_GE(elapsed_ms(t0), 90);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ReplicaofCommand,
                         ::testing::Values(NodeKind::kRedis, NodeKind::kSetd),
                         [](const auto& param_info) {
                           return std::string(param_info.param == NodeKind::kRedis ? "Redis"
                                                                                   : "Setd");
                         });

}  // namespace
}  // namespace setd::testing

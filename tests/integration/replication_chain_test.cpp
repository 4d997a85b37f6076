// Replication between setd servers where the stream's history matters: a
// replica of a replica (the image carries the database the stream is in),
// a replica restarted from its own dump (it continues with PSYNC instead of
// loading a full copy), and promotion with PSYNC2 (the old ID stays valid).
// Each also runs with redis-server in the middle or at the end, since the
// image's AUX fields and the IDs are Redis's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

std::string bin(bool setd) { return setd ? setd_binary() : std::string("redis-server"); }

// Waits until `replica` is up and has processed everything `master` has.
bool caught_up(Client& master, Client& replica, int ms = 10000) {
  return wait_until(
      [&] {
        return info_value(replica, "master_link_status", "replication") == "up" &&
               info_value(replica, "slave_repl_offset", "replication") ==
                   info_value(master, "master_repl_offset", "replication");
      },
      ms);
}

std::vector<std::string> members(Client& c, int db, const std::string& key) {
  c.call({"SELECT", std::to_string(db)});
  std::vector<std::string> out;
  for (const auto& e : c.call({"SMEMBERS", key}).elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string> kFast = {"--save", "", "--repl-diskless-sync-delay", "0"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// M -> R1 -> R2, where R2 attaches while M's stream is in database 3: what
// follows (no SELECT repeated) must land in database 3 on R2 too.
TEST(ReplicationChain, SubReplicaContinuesInTheStreamsDatabase) {
  for (const bool middle_is_setd : {true, false}) {
    for (const bool leaf_is_setd : {true, false}) {
      if (!middle_is_setd && !leaf_is_setd) continue;  // no setd at all
      SCOPED_TRACE("middle " + bin(middle_is_setd) + ", leaf " + bin(leaf_is_setd));
      ServerProcess m(setd_binary(), kFast);
      ServerProcess r1(bin(middle_is_setd),
                       with(kFast, {"--replicaof", "127.0.0.1 " + std::to_string(m.port())}));
      Client cm(m.port()), c1(r1.port());
      cm.call({"SELECT", "3"});
      cm.call({"SADD", "s", "before"});
      ASSERT_TRUE(caught_up(cm, c1));
      ServerProcess r2(bin(leaf_is_setd),
                       with(kFast, {"--replicaof", "127.0.0.1 " + std::to_string(r1.port())}));
      Client c2(r2.port());
      ASSERT_TRUE(caught_up(c1, c2));
      cm.call({"SADD", "s", "after"});  // still in database 3, no new SELECT
      ASSERT_TRUE(caught_up(cm, c1));
      ASSERT_TRUE(caught_up(c1, c2));
      EXPECT_EQ(members(c2, 3, "s"), (std::vector<std::string>{"after", "before"}));
      EXPECT_EQ(members(c2, 0, "s"), std::vector<std::string>{});
    }
  }
}

// A replica that restarts from its own dump asks to continue where the dump
// was taken, and gets only what it missed.
TEST(ReplicationChain, RestartedReplicaContinuesFromItsDump) {
  for (const bool master_is_setd : {true, false}) {
    SCOPED_TRACE("master " + bin(master_is_setd));
    ServerProcess m(bin(master_is_setd), kFast);
    TempDir dir;
    const std::vector<std::string> replica_args =
        with(kFast, {"--dir", dir.path(), "--replicaof", "127.0.0.1 " + std::to_string(m.port())});
    Client cm(m.port());
    cm.call({"SELECT", "5"});
    cm.call({"SADD", "s", "a", "b"});
    {
      ServerProcess r(setd_binary(), replica_args);
      Client cr(r.port());
      ASSERT_TRUE(caught_up(cm, cr));
      ASSERT_EQ(cr.call({"SAVE"}).str, "OK");
      r.stop(SIGKILL);
    }
    cm.call({"SADD", "s", "c"});  // missed while it was down
    const std::string full_before = info_value(cm, "sync_full", "stats");
    const std::string partial_before = info_value(cm, "sync_partial_ok", "stats");
    ServerProcess r(setd_binary(), replica_args);
    Client cr(r.port());
    ASSERT_TRUE(caught_up(cm, cr));
    EXPECT_EQ(info_value(cm, "sync_full", "stats"), full_before);
    EXPECT_EQ(std::stoi(info_value(cm, "sync_partial_ok", "stats")), std::stoi(partial_before) + 1);
    EXPECT_EQ(members(cr, 5, "s"), (std::vector<std::string>{"a", "b", "c"}));
  }
}

// REPLICAOF NO ONE keeps the old ID as the second one: the other replica
// continues with the promoted one (+CONTINUE with the new ID), and so does
// the old master once it follows the new one, if it wrote nothing more.
TEST(ReplicationChain, PromotionKeepsHistoryForPsync2) {
  for (const bool other_is_setd : {true, false}) {
    SCOPED_TRACE("other replica " + bin(other_is_setd));
    ServerProcess m(setd_binary(), kFast);
    ServerProcess a(setd_binary(),
                    with(kFast, {"--replicaof", "127.0.0.1 " + std::to_string(m.port())}));
    ServerProcess b(bin(other_is_setd),
                    with(kFast, {"--replicaof", "127.0.0.1 " + std::to_string(m.port())}));
    Client cm(m.port()), ca(a.port()), cb(b.port());
    cm.call({"SADD", "s", "1"});
    ASSERT_TRUE(caught_up(cm, ca));
    ASSERT_TRUE(caught_up(cm, cb));
    const std::string old_id = info_value(ca, "master_replid", "replication");
    // Promote a; b and the old master follow it.
    ASSERT_EQ(ca.call({"REPLICAOF", "NO", "ONE"}).str, "OK");
    EXPECT_EQ(info_value(ca, "master_replid2", "replication"), old_id);
    EXPECT_NE(info_value(ca, "master_replid", "replication"), old_id);
    ASSERT_EQ(cb.call({"REPLICAOF", "127.0.0.1", std::to_string(a.port())}).str, "OK");
    ASSERT_EQ(cm.call({"REPLICAOF", "127.0.0.1", std::to_string(a.port())}).str, "OK");
    ASSERT_TRUE(caught_up(ca, cb));
    ASSERT_TRUE(caught_up(ca, cm));
    EXPECT_EQ(info_value(ca, "sync_full", "stats"), "0");
    EXPECT_EQ(info_value(ca, "sync_partial_ok", "stats"), "2");
    ca.call({"SADD", "s", "2"});
    ASSERT_TRUE(caught_up(ca, cb));
    ASSERT_TRUE(caught_up(ca, cm));
    EXPECT_EQ(members(cb, 0, "s"), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(members(cm, 0, "s"), (std::vector<std::string>{"1", "2"}));
  }
}

}  // namespace
}  // namespace setd::testing

// What call() propagates (AOF, replicas): effects, not commands, exactly
// where Redis 7.0 does (server.c call(), t_set.c, t_string.c, expire.c).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "runner.hpp"

namespace setd::testing {
namespace {

using Capture = PropagationCapture;

class Propagation : public ::testing::Test {
 protected:
  Propagation() { r.state().add_propagation_sink(server::kToAll, &sink); }
  ~Propagation() override { r.state().remove_propagation_sink(&sink); }
  std::vector<std::string> after(std::initializer_list<std::string_view> args) {
    sink.take();
    r.run(args);
    return sink.take();
  }
  using V = std::vector<std::string>;
  Runner r;
  Capture sink;
};

TEST_F(Propagation, WritesThatChangeSomethingPropagateTheirArguments) {
  EXPECT_EQ(after({"SADD", "s", "a", "b"}), (V{"0: SADD s a b"}));
  EXPECT_EQ(after({"SADD", "s", "a"}), V{});  // nothing new
  EXPECT_EQ(after({"SREM", "s", "zz"}), V{});
  EXPECT_EQ(after({"SMEMBERS", "s"}), V{});
  EXPECT_EQ(after({"GET", "missing"}), V{});
  r.run({"SELECT", "3"});
  EXPECT_EQ(after({"SET", "k", "v"}), (V{"3: SET k v"}));
}

TEST_F(Propagation, SpopPropagatesAsSremOrDel) {
  r.run({"SADD", "s", "a"});
  const auto one = after({"SPOP", "s"});
  EXPECT_EQ(one, (V{"0: SREM s a"}));
  r.run({"SADD", "s", "a", "b", "c", "d", "e"});
  const auto two = after({"SPOP", "s", "2"});
  ASSERT_EQ(two.size(), 4u);
  EXPECT_EQ(two[0], "0: MULTI");
  EXPECT_TRUE(two[1].starts_with("0: SREM s ")) << two[1];
  EXPECT_TRUE(two[2].starts_with("0: SREM s ")) << two[2];
  EXPECT_EQ(two[3], "0: EXEC");
  EXPECT_EQ(after({"SPOP", "s", "10"}), (V{"0: DEL s"}));
  EXPECT_EQ(after({"SPOP", "s", "0"}), V{});
}

TEST_F(Propagation, RelativeTimesBecomeAbsolute) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto set = after({"SET", "k", "v", "EX", "100", "GET"});
  ASSERT_EQ(set.size(), 1u);
  ASSERT_TRUE(set[0].starts_with("0: SET k v PXAT ")) << set[0];
  const long long at = std::stoll(set[0].substr(std::string("0: SET k v PXAT ").size()));
  EXPECT_NEAR(static_cast<double>(at), static_cast<double>(now + 100000), 2000);
  EXPECT_EQ(after({"SET", "k", "v", "PXAT", "99999999999999"}),
            (V{"0: SET k v PXAT 99999999999999"}));
  const auto setex = after({"SETEX", "k", "10", "v"});
  ASSERT_EQ(setex.size(), 1u);
  EXPECT_TRUE(setex[0].starts_with("0: SET k v PXAT ")) << setex[0];
  const auto exp = after({"EXPIRE", "k", "100", "GT"});
  ASSERT_EQ(exp.size(), 1u);
  EXPECT_TRUE(exp[0].starts_with("0: PEXPIREAT k ")) << exp[0];
  EXPECT_TRUE(exp[0].ends_with(" GT")) << exp[0];
  EXPECT_EQ(after({"PEXPIREAT", "k", "99999999999999"}), (V{"0: PEXPIREAT k 99999999999999"}));
  const auto getex = after({"GETEX", "k", "PX", "5000"});
  ASSERT_EQ(getex.size(), 1u);
  EXPECT_TRUE(getex[0].starts_with("0: PEXPIREAT k ")) << getex[0];
  EXPECT_EQ(after({"GETEX", "k", "PERSIST"}), (V{"0: PERSIST k"}));
  EXPECT_EQ(after({"GETEX", "k", "PERSIST"}), V{});  // no TTL left: no change
  EXPECT_EQ(after({"EXPIRE", "k", "-1"}), (V{"0: DEL k"}));
}

TEST_F(Propagation, ResultsRatherThanRecipes) {
  r.run({"SET", "f", "1.5"});
  EXPECT_EQ(after({"INCRBYFLOAT", "f", "0.25"}), (V{"0: SET f 1.75 KEEPTTL"}));
  EXPECT_EQ(after({"GETSET", "f", "x"}), (V{"0: SET f x"}));
  EXPECT_EQ(after({"GETDEL", "f"}), (V{"0: DEL f"}));
  EXPECT_EQ(after({"GETDEL", "f"}), V{});
}

TEST_F(Propagation, TransactionsAreWrappedWhenTheyWriteMoreThanOnce) {
  r.run({"MULTI"});
  r.run({"SADD", "a", "1"});
  r.run({"SCARD", "a"});
  r.run({"SADD", "b", "2"});
  EXPECT_EQ(after({"EXEC"}), (V{"0: MULTI", "0: SADD a 1", "0: SADD b 2", "0: EXEC"}));
  r.run({"MULTI"});
  r.run({"SADD", "a", "3"});
  r.run({"SCARD", "a"});
  EXPECT_EQ(after({"EXEC"}), (V{"0: SADD a 3"}));
}

TEST_F(Propagation, FlushesAlwaysPropagate) {
  EXPECT_EQ(after({"FLUSHALL"}), (V{"0: FLUSHALL"}));
  EXPECT_EQ(after({"FLUSHDB", "ASYNC"}), (V{"0: FLUSHDB ASYNC"}));
}

TEST_F(Propagation, ExpiredKeysGoOutAsDelBeforeTheCommand) {
  r.run({"SET", "k", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(after({"GET", "k"}), (V{"0: DEL k"}));
  r.run({"SET", "k", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(after({"SADD", "k", "m"}), (V{"0: MULTI", "0: DEL k", "0: SADD k m", "0: EXEC"}));
}

TEST_F(Propagation, DirtyCountsChanges) {
  const uint64_t before = r.state().dirty;
  r.run({"SADD", "s", "a", "b", "c"});
  EXPECT_EQ(r.state().dirty - before, 3u);
  r.run({"SREM", "s", "a", "b"});
  EXPECT_EQ(r.state().dirty - before, 5u);
}

TEST_F(Propagation, BitCommandsPropagateThemselvesWhenTheyChangeSomething) {
  EXPECT_EQ(after({"SETBIT", "b", "3", "1"}), (V{"0: SETBIT b 3 1"}));
  EXPECT_EQ(after({"SETBIT", "b", "3", "1"}), V{});  // already set
  EXPECT_EQ(after({"SETBIT", "b", "3", "0"}), (V{"0: SETBIT b 3 0"}));
  EXPECT_EQ(after({"SETBIT", "b", "30", "0"}), (V{"0: SETBIT b 30 0"}));  // grows
  EXPECT_EQ(after({"GETBIT", "b", "3"}), V{});
  EXPECT_EQ(after({"BITCOUNT", "b"}), V{});
  EXPECT_EQ(after({"BITPOS", "b", "1"}), V{});
  EXPECT_EQ(after({"BITFIELD", "b", "GET", "u8", "0"}), V{});
  EXPECT_EQ(after({"BITFIELD", "b", "SET", "u8", "0", "7", "GET", "u8", "0"}),
            (V{"0: BITFIELD b SET u8 0 7 GET u8 0"}));
  EXPECT_EQ(after({"BITFIELD", "b", "SET", "u8", "0", "7"}), V{});  // same value
  EXPECT_EQ(after({"BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"}), V{});
  EXPECT_EQ(after({"BITFIELD_RO", "b", "GET", "u8", "0"}), V{});
  EXPECT_EQ(after({"BITOP", "OR", "d", "b"}), (V{"0: BITOP OR d b"}));
  EXPECT_EQ(after({"BITOP", "OR", "d", "nokey"}), (V{"0: BITOP OR d nokey"}));  // deletes d
  EXPECT_EQ(after({"BITOP", "OR", "d", "nokey"}), V{});
  EXPECT_EQ(after({"LCS", "b", "b"}), V{});
}

TEST_F(Propagation, BitfieldCountsEveryChange) {
  const uint64_t before = r.state().dirty;
  r.run({"BITFIELD", "f", "SET", "u8", "0", "1", "SET", "u8", "8", "1", "GET", "u8", "0"});
  EXPECT_EQ(r.state().dirty - before, 2u);
  r.run({"BITFIELD", "f", "SET", "u8", "0", "1", "INCRBY", "u8", "8", "1"});
  EXPECT_EQ(r.state().dirty - before, 3u);
}

TEST_F(Propagation, SortPropagatesOnlyADeletingStore) {
  r.run({"SADD", "s", "3", "1", "2"});
  EXPECT_EQ(after({"SORT", "s"}), V{});
  EXPECT_EQ(after({"SORT_RO", "s", "LIMIT", "0", "1"}), V{});
  EXPECT_EQ(after({"SORT", "nokey", "STORE", "dst"}), V{});  // nothing to delete
  r.run({"SET", "dst", "x"});
  EXPECT_EQ(after({"SORT", "nokey", "STORE", "dst"}), (V{"0: SORT nokey STORE dst"}));
  EXPECT_EQ(after({"SORT", "s", "STORE", "dst"}), V{});  // refused: no lists
}

}  // namespace
}  // namespace setd::testing

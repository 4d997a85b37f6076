// Function libraries outlive the server as in Redis 7.0: saved in the dump
// (RDB_OPCODE_FUNCTION2) and in the AOF (FUNCTION LOAD in the stream, the
// library records in the base, with or without the RDB preamble), loaded at
// start-up, carried to a replica by a full sync and by the stream; a dump
// setd writes is accepted by redis-check-rdb and loaded by redis-server 7.0,
// and setd loads redis-server's. EVAL scripts are effects: only their
// commands reach the AOF.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "differential.hpp"
#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

const std::string kLib =
    "#!lua name=tags\n"
    "redis.register_function('tag', function(keys, args) return redis.call('sadd', keys[1], "
    "args[1]) end)\n"
    "redis.register_function{function_name = 'count', callback = function(keys) return "
    "redis.call('scard', keys[1]) end, flags = {'no-writes'}, description = 'members'}\n";

// The library works on `n`: tag then count.
void expect_library_works(Node& n, const std::string& member, long long count) {
  EXPECT_EQ(n.call({"FCALL", "tag", "1", "post:1", member}).to_string(), "(integer) 1")
      << n.log_tail();
  EXPECT_EQ(n.call({"FCALL_RO", "count", "1", "post:1"}).to_string(),
            "(integer) " + std::to_string(count));
}

std::string library_code(Node& n) {
  const RespValue v = n.call({"FUNCTION", "LIST", "WITHCODE"});
  if (v.elements.size() != 1) return v.to_string();
  const auto& lib = v.elements[0].elements;
  for (size_t i = 0; i + 1 < lib.size(); i += 2)
    if (lib[i].str == "library_code") return lib[i + 1].str;
  return v.to_string();
}

TEST(ScriptingPersistence, LibrariesSurviveARestartThroughTheDump) {
  Node n(NodeKind::kSetd, {{"save", ""}, {"appendonly", "no"}});
  ASSERT_EQ(n.call({"FUNCTION", "LOAD", kLib}).str, "tags");
  expect_library_works(n, "a", 1);
  ASSERT_EQ(n.call({"SAVE"}).str, "OK");
  n.restart();
  EXPECT_EQ(library_code(n), kLib);
  expect_library_works(n, "b", 2);
  // redis-check-rdb accepts the dump with its library.
  if (!shell("command -v redis-check-rdb").empty()) {
    ASSERT_EQ(n.call({"SAVE"}).str, "OK");
    const std::string path = n.dir() + "/dump.rdb";
    const int status = std::system(("redis-check-rdb " + path + " >/dev/null 2>&1").c_str());
    EXPECT_EQ(WEXITSTATUS(status), 0) << shell("redis-check-rdb " + path);
  }
}

TEST(ScriptingPersistence, LibrariesSurviveARestartThroughTheAof) {
  for (const char* preamble : {"yes", "no"}) {
    SCOPED_TRACE(std::string("aof-use-rdb-preamble ") + preamble);
    Node n(NodeKind::kSetd,
           {{"save", ""}, {"appendonly", "yes"}, {"aof-use-rdb-preamble", preamble}});
    ASSERT_EQ(n.call({"FUNCTION", "LOAD", kLib}).str, "tags");
    expect_library_works(n, "a", 1);
    // The stream: FUNCTION LOAD, then the effects.
    n.restart();
    EXPECT_EQ(library_code(n), kLib);
    expect_library_works(n, "b", 2);
    // The base after a rewrite holds the library.
    ASSERT_FALSE(n.call({"BGREWRITEAOF"}).is_error());
    ASSERT_TRUE(wait_until(
        [&] { return info_int(n.client(), "aof_rewrite_in_progress", "persistence") == 0; },
        10000));
    n.restart();
    EXPECT_EQ(library_code(n), kLib);
    expect_library_works(n, "c", 3);
  }
}

TEST(ScriptingPersistence, DumpsCrossBetweenSetdAndRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  // setd's dump into redis-server.
  Node s(NodeKind::kSetd, {{"save", ""}});
  ASSERT_EQ(s.call({"FUNCTION", "LOAD", kLib}).str, "tags");
  expect_library_works(s, "a", 1);
  ASSERT_EQ(s.call({"SAVE"}).str, "OK");
  {
    Node r(NodeKind::kRedis, {{"save", ""}, {"dir", s.dir()}});
    EXPECT_EQ(library_code(r), kLib) << r.log_tail();
    expect_library_works(r, "b", 2);
    ASSERT_EQ(r.call({"SAVE"}).str, "OK");
  }
  // And redis-server's back into setd.
  s.restart();
  EXPECT_EQ(library_code(s), kLib);
  expect_library_works(s, "c", 3);
}

TEST(ScriptingPersistence, AReplicaGetsLibrariesByFullSyncAndByTheStream) {
  Node master(NodeKind::kSetd, {{"repl-diskless-sync-delay", "0"}});
  ASSERT_EQ(master.call({"FUNCTION", "LOAD", kLib}).str, "tags");
  Node replica(NodeKind::kSetd);
  // The replica's own library goes: the master's image replaces it.
  ASSERT_EQ(replica
                .call({"FUNCTION", "LOAD",
                       "#!lua name=mine\nredis.register_function('mine', function() end)"})
                .str,
            "mine");
  ASSERT_TRUE(replicaof(replica, master));
  ASSERT_TRUE(wait_synced(master, replica));
  EXPECT_EQ(library_code(replica), kLib);
  // Functions run on the master propagate their effects; FUNCTION DELETE
  // and LOAD go down the stream.
  expect_library_works(master, "a", 1);
  EXPECT_TRUE(wait_until(
      [&] {
        return replica.call({"SCARD", "post:1"}).to_string() == "(integer) 1";
      },
      5000));
  ASSERT_EQ(master.call({"FUNCTION", "DELETE", "tags"}).str, "OK");
  EXPECT_TRUE(wait_until(
      [&] {
        return replica.call({"FUNCTION", "LIST"}).elements.empty();
      },
      5000));
  ASSERT_EQ(master.call({"FUNCTION", "LOAD", kLib}).str, "tags");
  EXPECT_TRUE(wait_until([&] { return library_code(replica) == kLib; }, 5000));
  // The replica runs read-only functions; a write one is refused.
  EXPECT_EQ(replica.call({"FCALL_RO", "count", "1", "post:1"}).to_string(), "(integer) 1");
  const auto w = replica.call({"FCALL", "tag", "1", "post:1", "z"});
  ASSERT_TRUE(w.is_error());
  EXPECT_EQ(w.str, "READONLY Can not run script with write flag on readonly replica");
}

}  // namespace
}  // namespace setd::testing

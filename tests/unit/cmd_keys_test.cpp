// Keyspace commands through the in-process runner: DEL, UNLINK, EXISTS, TYPE,
// RENAME(NX), COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, the
// EXPIRE family, TTL family, PERSIST. Expected replies, errors and keyspace
// events were taken from redis-server 7.0.15. The clock is pinned so TTL
// arithmetic is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/base/clock.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

constexpr int64_t kT0 = 1'700'000'000'000;  // the pinned "now" (ms)

class Keys : public ::testing::Test {
 protected:
  void SetUp() override { base::pin_now(kT0); }
  void TearDown() override { base::pin_now(-1); }

  // Stores a string value directly (no string commands on this branch).
  void str(std::string_view key, std::string value, int db = 0) {
    r.state().db(db).set(key, db::Object::string(std::move(value)));
  }
  // Stores a set with the given members, encoded as SADD would.
  void set(std::string_view key, std::vector<std::string> members, int db = 0) {
    auto s = ds::SetObject::create_for(members.front(), members.size(), ds::SetLimits{});
    for (const auto& m : members) s.add(m, ds::SetLimits{});
    r.state().db(db).set(key, db::Object::set(std::move(s)));
  }
  void ttl_ms(std::string_view key, int64_t ms, int db = 0) {
    r.state().db(db).set_expire(key, kT0 + ms);
  }
  void advance(int64_t ms) {
    now_ += ms;
    base::pin_now(now_);
  }
  // Turns keyspace events on and subscribes a second client to all of them.
  server::Client& listen() {
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", "KEA"})), "OK");
    return subscribe("__keyevent@*__:*");
  }
  // A second client subscribed to `pattern` (through the hub: the pub/sub
  // commands live in another family).
  server::Client& subscribe(std::string_view pattern) {
    auto& sub = r.new_client();
    r.state().hub().psubscribe(&sub, pattern);
    return sub;
  }
  // The events received since the last call, as "channel key".
  std::vector<std::string> events(server::Client& sub) {
    std::vector<std::string> out;
    for (const auto& v : r.drain(sub))
      if (v.elements.size() == 4 && v.elements[0].str == "pmessage")
        out.push_back(v.elements[2].str + " " + v.elements[3].str);
    return out;
  }
  std::vector<std::string> sorted(const RespValue& v) {
    std::vector<std::string> out;
    for (const auto& e : v.elements) out.push_back(e.str);
    std::sort(out.begin(), out.end());
    return out;
  }
  uint64_t hits() { return r.state().stats().keyspace_hits; }
  uint64_t misses() { return r.state().stats().keyspace_misses; }

  Runner r;
  int64_t now_ = kT0;
};

using V = std::vector<std::string>;

// --- DEL / UNLINK / EXISTS / TYPE / TOUCH -------------------------------------

TEST_F(Keys, DelAndUnlinkCountDeletedKeys) {
  str("a", "1");
  set("s", {"x", "y"});
  str("b", "2");
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"DEL", "a", "s", "nokey", "a"})), "(integer) 2");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:del a", "__keyevent@0__:del s"}));
  EXPECT_EQ(S(r.run({"UNLINK", "b", "b"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:del b"}));
  EXPECT_EQ(r.state().db(0).size(), 0u);
  EXPECT_EQ(S(r.run({"DEL"})), "(error) ERR wrong number of arguments for 'del' command");
  EXPECT_EQ(S(r.run({"UNLINK"})), "(error) ERR wrong number of arguments for 'unlink' command");
  // No hit/miss accounting for DEL.
  EXPECT_EQ(hits() + misses(), 0u);
}

TEST_F(Keys, DelOfAnExpiredKeyReportsExpiredNotDel) {
  str("e", "v");
  ttl_ms("e", 100);
  auto& sub = listen();
  advance(100);
  EXPECT_EQ(S(r.run({"DEL", "e"})), "(integer) 0");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired e"}));
  EXPECT_EQ(r.state().stats().expired_keys, 1u);
}

TEST_F(Keys, DelTouchesWatchedKeys) {
  str("a", "1");
  auto& watcher = r.new_client();
  r.state().watch_key(watcher, 0, "a");
  r.state().watch_key(watcher, 0, "missing");
  EXPECT_EQ(S(r.run({"DEL", "missing"})), "(integer) 0");
  EXPECT_FALSE(watcher.dirty_cas);
  EXPECT_EQ(S(r.run({"DEL", "a"})), "(integer) 1");
  EXPECT_TRUE(watcher.dirty_cas);
}

TEST_F(Keys, ExistsCountsRepeatsAndHitsMisses) {
  str("a", "1");
  set("s", {"1"});
  EXPECT_EQ(S(r.run({"EXISTS", "a", "a", "s", "n"})), "(integer) 3");
  EXPECT_EQ(hits(), 3u);
  EXPECT_EQ(misses(), 1u);
  ttl_ms("a", 5);
  advance(5);
  EXPECT_EQ(S(r.run({"EXISTS", "a"})), "(integer) 0");
}

TEST_F(Keys, TypeNamesBothValueTypes) {
  str("a", "hello");
  set("s", {"x"});
  EXPECT_EQ(S(r.run({"TYPE", "a"})), "string");
  EXPECT_EQ(r.run({"TYPE", "a"}).kind, K::kSimple);
  EXPECT_EQ(S(r.run({"TYPE", "s"})), "set");
  EXPECT_EQ(S(r.run({"TYPE", "n"})), "none");
  ttl_ms("s", 1);
  advance(1);
  EXPECT_EQ(S(r.run({"TYPE", "s"})), "none");
  EXPECT_EQ(S(r.run({"TYPE", "a", "b"})),
            "(error) ERR wrong number of arguments for 'type' command");
}

TEST_F(Keys, TouchCountsExistingKeysAndRefreshesIdleTime) {
  str("a", "x");
  set("s", {"m"});
  advance(5000);
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "a"})), "(integer) 5");
  EXPECT_EQ(S(r.run({"TOUCH", "a", "s", "n"})), "(integer) 2");
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "a"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "s"})), "(integer) 0");
}

TEST_F(Keys, KeyMissEventOnReadLookupsOnly) {
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", "Em"})), "OK");
  auto& sub = subscribe("__keyevent@*__:*");
  r.run({"EXISTS", "n1"});
  r.run({"TYPE", "n2"});
  r.run({"TTL", "n3"});
  r.run({"OBJECT", "ENCODING", "n4"});  // LOOKUP_NONOTIFY
  r.run({"DEL", "n5"});                 // not a read lookup
  r.run({"EXPIRE", "n6", "10"});        // write lookup
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:keymiss n1", "__keyevent@0__:keymiss n2",
                            "__keyevent@0__:keymiss n3"}));
}

TEST_F(Keys, LazyExpiryEventsLikeRedis) {
  // Each step: an expired key "e" meets a command; the events are those
  // redis-server 7.0.15 emits with active expiry off (flags KEAm).
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", "KEAm"})), "OK");
  auto& sub = subscribe("__keyevent@*__:*");
  str("a", "1");
  auto expired_e = [&] {
    str("e", "hello");
    ttl_ms("e", now_ - kT0 + 1);
    advance(1);
  };
  const std::string ex = "__keyevent@0__:expired e";
  expired_e();
  EXPECT_EQ(S(r.run({"KEYS", "*"})), "[\"a\"]");
  EXPECT_EQ(S(r.run({"DBSIZE"})), "(integer) 2");
  EXPECT_EQ(S(r.run({"SCAN", "0", "MATCH", "zz*"})), "[\"0\", []]");
  EXPECT_TRUE(events(sub).empty());
  EXPECT_EQ(S(r.run({"SCAN", "0"})), "[\"0\", [\"a\"]]");
  EXPECT_EQ(events(sub), (V{ex}));
  expired_e();
  EXPECT_EQ(S(r.run({"MOVE", "e", "1"})), "(integer) 0");
  EXPECT_EQ(events(sub), (V{ex}));
  expired_e();
  EXPECT_EQ(S(r.run({"COPY", "a", "e"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{ex, "__keyevent@0__:copy_to e"}));
  r.run({"DEL", "e"});
  events(sub);
  expired_e();
  EXPECT_EQ(S(r.run({"RANDOMKEY"})), "\"a\"");
  // "e" was reclaimed if the draw met it first.
  const auto after_random = events(sub);
  EXPECT_TRUE(after_random.empty() || after_random == V{ex});
  expired_e();
  EXPECT_EQ(S(r.run({"EXPIRE", "e", "10", "NX"})), "(integer) 0");
  expired_e();
  EXPECT_EQ(S(r.run({"TTL", "e"})), "(integer) -2");
  expired_e();
  EXPECT_EQ(S(r.run({"OBJECT", "FREQ", "e"})), "(nil)");
  EXPECT_EQ(events(sub), (V{ex, ex, "__keyevent@0__:keymiss e", ex}));
}

// --- RENAME / RENAMENX ----------------------------------------------------------

TEST_F(Keys, RenameCopyMoveAnnounceTheNewKey) {
  // Redis re-adds the key under its new name (dbAdd), so class n reports
  // "new" first, even over an existing destination (redis-server 7.0.15).
  str("a", "1");
  str("b", "2");
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", "KEAn"})), "OK");
  EXPECT_EQ(S(r.run({"RENAME", "a", "b"})), "OK");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:new b", "__keyevent@0__:rename_from a",
                            "__keyevent@0__:rename_to b"}));
  EXPECT_EQ(S(r.run({"COPY", "b", "c"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:new c", "__keyevent@0__:copy_to c"}));
  EXPECT_EQ(S(r.run({"COPY", "b", "c", "REPLACE"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:new c", "__keyevent@0__:copy_to c"}));
  EXPECT_EQ(S(r.run({"MOVE", "c", "2"})), "(integer) 1");
  EXPECT_EQ(events(sub),
            (V{"__keyevent@2__:new c", "__keyevent@0__:move_from c", "__keyevent@2__:move_to c"}));
}

TEST_F(Keys, RenameMovesValueAndTtl) {
  set("s", {"a", "b"});
  ttl_ms("s", 10'000);
  str("dst", "old");
  ttl_ms("dst", 99'000);
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"RENAME", "s", "dst"})), "OK");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:rename_from s", "__keyevent@0__:rename_to dst"}));
  EXPECT_EQ(S(r.run({"TYPE", "dst"})), "set");
  EXPECT_EQ(S(r.run({"PTTL", "dst"})), "(integer) 10000");
  EXPECT_EQ(S(r.run({"EXISTS", "s"})), "(integer) 0");
  // Without a TTL the destination's old TTL does not survive.
  str("x", "1");
  str("y", "2");
  ttl_ms("y", 5000);
  EXPECT_EQ(S(r.run({"RENAME", "x", "y"})), "OK");
  EXPECT_EQ(S(r.run({"TTL", "y"})), "(integer) -1");
  EXPECT_EQ(r.state().db(0).expires_size(), 1u);
}

TEST_F(Keys, RenameErrorsAndSameKey) {
  str("a", "1");
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"RENAME", "nokey", "x"})), "(error) ERR no such key");
  EXPECT_EQ(S(r.run({"RENAME", "nokey", "nokey"})), "(error) ERR no such key");
  EXPECT_EQ(S(r.run({"RENAMENX", "nokey", "nokey"})), "(error) ERR no such key");
  EXPECT_EQ(S(r.run({"RENAME", "a", "a"})), "OK");
  EXPECT_EQ(S(r.run({"RENAMENX", "a", "a"})), "(integer) 0");
  EXPECT_TRUE(events(sub).empty());
  EXPECT_EQ(S(r.run({"RENAME", "a"})),
            "(error) ERR wrong number of arguments for 'rename' command");
  EXPECT_EQ(hits() + misses(), 0u);
}

TEST_F(Keys, RenameOfExpiredSourceIsNoSuchKey) {
  str("a", "1");
  ttl_ms("a", 10);
  auto& sub = listen();
  advance(10);
  EXPECT_EQ(S(r.run({"RENAME", "a", "b"})), "(error) ERR no such key");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired a"}));
}

TEST_F(Keys, RenameNxOnlyWhenDestinationMissing) {
  str("a", "1");
  set("b", {"x"});
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"RENAMENX", "a", "b"})), "(integer) 0");
  EXPECT_TRUE(events(sub).empty());
  EXPECT_EQ(S(r.run({"RENAMENX", "a", "c"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:rename_from a", "__keyevent@0__:rename_to c"}));
  // An expired destination does not block RENAMENX.
  ttl_ms("b", 1);
  advance(1);
  EXPECT_EQ(S(r.run({"RENAMENX", "c", "b"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired b", "__keyevent@0__:rename_from c",
                            "__keyevent@0__:rename_to b"}));
  EXPECT_EQ(S(r.run({"TYPE", "b"})), "string");
}

TEST_F(Keys, RenameSignalsBothKeysToWatchers) {
  str("a", "1");
  auto& w1 = r.new_client();
  auto& w2 = r.new_client();
  r.state().watch_key(w1, 0, "a");
  r.state().watch_key(w2, 0, "b");
  EXPECT_EQ(S(r.run({"RENAME", "a", "b"})), "OK");
  EXPECT_TRUE(w1.dirty_cas);
  EXPECT_TRUE(w2.dirty_cas);
}

// --- COPY ------------------------------------------------------------------------

TEST_F(Keys, CopyIsDeepAndKeepsTtl) {
  set("s", {"a", "b", "c"});
  ttl_ms("s", 4000);
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"COPY", "s", "t"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:copy_to t"}));
  EXPECT_EQ(S(r.run({"PTTL", "t"})), "(integer) 4000");
  // Changing the source leaves the copy alone.
  r.state().db(0).find("s")->as_set().add("zzz", ds::SetLimits::redis70());
  r.state().db(0).find("s")->as_set().remove("a");
  EXPECT_EQ(r.state().db(0).find("t")->as_set().size(), 3u);
  EXPECT_TRUE(r.state().db(0).find("t")->as_set().contains("a"));
  EXPECT_FALSE(r.state().db(0).find("t")->as_set().contains("zzz"));
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "t"})), "\"listpack\"");
}

TEST_F(Keys, CopyKeepsEncodings) {
  set("is", {"1", "2", "3"});
  set("lp", {"a", "1"});
  str("int", "12");
  str("emb", "hello");
  str("raw", std::string(50, 'r'));
  r.state().db(0).set("app", db::Object::string("abc", db::StringEncoding::kRaw));
  for (const char* k : {"is", "lp", "int", "emb", "raw", "app"})
    EXPECT_EQ(S(r.run({"COPY", k, std::string(k) + "2"})), "(integer) 1") << k;
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "is2"})), "\"intset\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "lp2"})), "\"listpack\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "int2"})), "\"int\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "emb2"})), "\"embstr\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "raw2"})), "\"raw\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "app2"})), "\"raw\"");
  // A copied small integer is a private object in Redis: refcount 1.
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "int"})), "(integer) 2147483647");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "int2"})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).find("emb2")->as_string().bytes, "hello");
}

TEST_F(Keys, CopyOptionsAndErrors) {
  str("a", "1");
  str("b", "2");
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"COPY", "a", "a"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"COPY", "a", "a", "DB", "0"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"COPY", "nokey", "nokey"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "DB"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "FOO"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "DB", "x"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "DB", "99999999999"})),
            "(error) ERR value is out of range, value must between -2147483648 and 2147483647");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "DB", "16"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "DB", "-1"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"COPY", "a"})), "(error) ERR wrong number of arguments for 'copy' command");
  EXPECT_TRUE(events(sub).empty());
  EXPECT_EQ(S(r.run({"COPY", "nokey", "b"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"COPY", "a", "b"})), "(integer) 0");  // exists, no REPLACE
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "replace"})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).find("b")->as_string().bytes, "1");
  EXPECT_EQ(S(r.run({"COPY", "a", "a", "DB", "1"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:copy_to b", "__keyevent@1__:copy_to a"}));
  EXPECT_TRUE(r.state().db(1).find("a") != nullptr);
  // Options repeat; the last DB wins.
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "REPLACE", "REPLACE", "DB", "0", "DB", "2"})),
            "(integer) 1");
  EXPECT_TRUE(r.state().db(2).find("b") != nullptr);
}

TEST_F(Keys, CopyReplaceDropsTheDestinationTtlAndCountsSourceLookup) {
  str("a", "1");
  str("b", "2");
  ttl_ms("b", 1000);
  EXPECT_EQ(S(r.run({"COPY", "a", "b", "REPLACE"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"TTL", "b"})), "(integer) -1");
  r.state().stats().reset();
  r.run({"COPY", "a", "c"});
  r.run({"COPY", "n", "c"});
  EXPECT_EQ(hits(), 1u);
  EXPECT_EQ(misses(), 1u);
}

// --- MOVE ------------------------------------------------------------------------

TEST_F(Keys, MoveBetweenDatabases) {
  set("s", {"1", "2"});
  ttl_ms("s", 7000);
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"MOVE", "s", "3"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:move_from s", "__keyevent@3__:move_to s"}));
  EXPECT_EQ(r.state().db(0).size(), 0u);
  EXPECT_EQ(r.state().db(3).expire_at("s"), kT0 + 7000);
  EXPECT_EQ(r.state().db(3).find("s")->as_set().size(), 2u);
  // The target already has the key: nothing happens.
  str("s", "again");
  EXPECT_EQ(S(r.run({"MOVE", "s", "3"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"MOVE", "nokey", "3"})), "(integer) 0");
  EXPECT_TRUE(events(sub).empty());
}

TEST_F(Keys, MoveErrors) {
  str("a", "1");
  EXPECT_EQ(S(r.run({"MOVE", "a", "0"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"MOVE", "nokey", "0"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"MOVE", "a", "16"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"MOVE", "a", "x"})), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"MOVE", "a", "99999999999"})),
            "(error) ERR value is out of range, value must between -2147483648 and 2147483647");
  r.run({"SELECT", "5"});
  EXPECT_EQ(S(r.run({"MOVE", "a", "5"})),
            "(error) ERR source and destination objects are the same");
  EXPECT_EQ(S(r.run({"MOVE", "a", "0"})), "(integer) 0");
}

TEST_F(Keys, MoveOverAnExpiredTargetKey) {
  str("k", "src");
  str("k", "old", 1);
  ttl_ms("k", 10, 1);
  advance(10);
  EXPECT_EQ(S(r.run({"MOVE", "k", "1"})), "(integer) 1");
  EXPECT_EQ(r.state().db(1).find("k")->as_string().bytes, "src");
  EXPECT_EQ(r.state().db(1).expire_at("k"), -1);
}

// --- SWAPDB ----------------------------------------------------------------------

TEST_F(Keys, SwapdbSwapsContents) {
  str("a", "0");
  set("b", {"x"}, 1);
  ttl_ms("b", 100, 1);
  EXPECT_EQ(S(r.run({"SWAPDB", "0", "1"})), "OK");
  EXPECT_EQ(S(r.run({"TYPE", "b"})), "set");
  EXPECT_EQ(S(r.run({"PTTL", "b"})), "(integer) 100");
  EXPECT_EQ(S(r.run({"EXISTS", "a"})), "(integer) 0");
  EXPECT_TRUE(r.state().db(1).find("a") != nullptr);
}

TEST_F(Keys, SwapdbErrorsAndSelfSwap) {
  str("k", "1");
  auto& watcher = r.new_client();
  r.state().watch_key(watcher, 0, "k");
  EXPECT_EQ(S(r.run({"SWAPDB", "0", "0"})), "OK");
  EXPECT_FALSE(watcher.dirty_cas);  // a self-swap touches nothing
  EXPECT_EQ(S(r.run({"SWAPDB", "x", "0"})), "(error) ERR invalid first DB index");
  EXPECT_EQ(S(r.run({"SWAPDB", "0", "x"})), "(error) ERR invalid second DB index");
  EXPECT_EQ(S(r.run({"SWAPDB", "99999999999", "0"})), "(error) ERR invalid first DB index");
  EXPECT_EQ(S(r.run({"SWAPDB", "0", "16"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"SWAPDB", "-1", "0"})), "(error) ERR DB index is out of range");
  EXPECT_FALSE(watcher.dirty_cas);
  EXPECT_EQ(S(r.run({"SWAPDB", "0", "1"})), "OK");
  EXPECT_TRUE(watcher.dirty_cas);
}

// --- KEYS ------------------------------------------------------------------------

TEST_F(Keys, KeysMatchesPatternsAndSkipsExpired) {
  for (const char* k : {"user:1", "user:2", "admin", "", "x"}) str(k, "v");
  set("user:set", {"m"});
  ttl_ms("x", 10);
  advance(10);
  EXPECT_EQ(sorted(r.run({"KEYS", "*"})), (V{"", "admin", "user:1", "user:2", "user:set"}));
  EXPECT_EQ(sorted(r.run({"KEYS", "user:?"})), (V{"user:1", "user:2"}));
  EXPECT_EQ(sorted(r.run({"KEYS", "*[a]*"})), (V{"admin"}));
  EXPECT_EQ(sorted(r.run({"KEYS", "nomatch*"})), V{});
  EXPECT_EQ(r.run({"KEYS", "nomatch*"}).kind, K::kArray);
  // "**" is a real pattern: it does not match the empty key.
  EXPECT_EQ(sorted(r.run({"KEYS", "**"})), (V{"admin", "user:1", "user:2", "user:set"}));
  // KEYS does not reclaim the expired key.
  EXPECT_EQ(r.state().db(0).size(), 6u);
  EXPECT_EQ(r.state().stats().expired_keys, 0u);
}

// --- SCAN ------------------------------------------------------------------------

TEST_F(Keys, ScanArgumentErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"SCAN", "x"},
      {"SCAN", " 1"},
      {"SCAN", "1 "},
      {"SCAN", "0x"},
      {"SCAN", "18446744073709551616"},
      {"SCAN", "x", "COUNT", "0"},
  };
  for (const auto& c : cases) EXPECT_EQ(S(r.run(c)), "(error) ERR invalid cursor") << c[1];
  EXPECT_EQ(S(r.run({"SCAN", "0", "COUNT", "0"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN", "0", "COUNT", "-1"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN", "0", "COUNT", "x"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"SCAN", "0", "COUNT"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN", "0", "MATCH"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN", "0", "TYPE"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN", "0", "FOO", "bar"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"SCAN"})), "(error) ERR wrong number of arguments for 'scan' command");
}

TEST_F(Keys, ScanCursorParsesLikeStrtoul) {
  str("a", "1");
  // "" and "+0" are cursor 0; "-1" wraps to the largest cursor; bytes after
  // a NUL are ignored.
  EXPECT_EQ(S(r.run({"SCAN", ""})), "[\"0\", [\"a\"]]");
  EXPECT_EQ(S(r.run({"SCAN", "+0"})), "[\"0\", [\"a\"]]");
  // (Which keys the last bucket holds depends on the hash.)
  const auto last = r.run({"SCAN", "18446744073709551615"});
  EXPECT_EQ(last.elements[0].str, "0");
  EXPECT_EQ(S(r.run({"SCAN", "-1"})), S(last));
  EXPECT_EQ(S(r.run({"SCAN", std::string("0\0junk", 6)})), "[\"0\", [\"a\"]]");
}

TEST_F(Keys, ScanEmptyDatabase) {
  EXPECT_EQ(S(r.run({"SCAN", "0"})), "[\"0\", []]");
  EXPECT_EQ(S(r.run({"SCAN", "12345"})), "[\"0\", []]");
}

// Runs a whole SCAN iteration with the given extra arguments.
std::vector<std::string> full_scan(Runner& r, std::vector<std::string> extra,
                                   int* calls = nullptr) {
  std::vector<std::string> out;
  std::string cursor = "0";
  int n = 0;
  do {
    std::vector<std::string> cmd{"SCAN", cursor};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    auto v = r.run(cmd);
    EXPECT_EQ(v.kind, K::kArray);
    if (v.elements.size() != 2) return out;
    cursor = v.elements[0].str;
    for (const auto& e : v.elements[1].elements) out.push_back(e.str);
    ++n;
  } while (cursor != "0" && n < 100000);
  if (calls) *calls = n;
  return out;
}

TEST_F(Keys, ScanReturnsEveryKeyWithCountHint) {
  std::set<std::string> all;
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "key:" + std::to_string(i);
    if (i % 2)
      str(k, "v");
    else
      set(k, {"m"});
    all.insert(k);
  }
  int calls = 0;
  auto got = full_scan(r, {}, &calls);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), all);
  EXPECT_GT(calls, 50);  // default COUNT is 10
  auto big = full_scan(r, {"COUNT", "5000"}, &calls);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(big.size(), 1000u);
  // COUNT 1 still makes progress.
  auto ones = full_scan(r, {"COUNT", "1"});
  EXPECT_EQ(std::set<std::string>(ones.begin(), ones.end()).size(), 1000u);
}

TEST_F(Keys, ScanMatchAndType) {
  for (int i = 0; i < 50; ++i) {
    str("str:" + std::to_string(i), "v");
    set("set:" + std::to_string(i), {"m"});
  }
  auto strs = full_scan(r, {"TYPE", "string"});
  EXPECT_EQ(strs.size(), 50u);
  for (const auto& k : strs) EXPECT_EQ(k.rfind("str:", 0), 0u);
  EXPECT_EQ(full_scan(r, {"TYPE", "SET", "COUNT", "7"}).size(), 50u);
  EXPECT_EQ(full_scan(r, {"TYPE", "bogus"}).size(), 0u);
  EXPECT_EQ(full_scan(r, {"TYPE", std::string("set\0x", 5)}).size(), 50u);
  EXPECT_EQ(full_scan(r, {"MATCH", "*:1?"}).size(), 20u);
  EXPECT_EQ(full_scan(r, {"MATCH", "set:1*", "TYPE", "string"}).size(), 0u);
  EXPECT_EQ(full_scan(r, {"MATCH", "*", "COUNT", "3"}).size(), 100u);
  // TYPE looks every candidate up (counted as hits); MATCH alone does not.
  r.state().stats().reset();
  full_scan(r, {"MATCH", "str:*"});
  EXPECT_EQ(hits(), 0u);
  full_scan(r, {"MATCH", "str:*", "TYPE", "string"});
  EXPECT_EQ(hits(), 50u);
}

TEST_F(Keys, ScanSkipsAndReclaimsExpiredKeys) {
  str("live", "v");
  str("dead", "v");
  ttl_ms("dead", 10);
  auto& sub = listen();
  advance(10);
  EXPECT_EQ(full_scan(r, {}), (V{"live"}));
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired dead"}));
  EXPECT_EQ(r.state().db(0).size(), 1u);
}

TEST_F(Keys, ScanTypeNoneReturnsAnExpiredKeyLikeRedis) {
  // Redis 7.0's TYPE filter looks the key up first, which reclaims it; the
  // expiry check that follows no longer sees it, so "none" matches.
  str("live", "v");
  str("dead", "v");
  ttl_ms("dead", 10);
  advance(10);
  EXPECT_EQ(full_scan(r, {"TYPE", "none"}), (V{"dead"}));
  EXPECT_EQ(r.state().db(0).size(), 1u);
  EXPECT_EQ(misses(), 1u);
}

TEST_F(Keys, ScanGuaranteeWhileKeysComeAndGo) {
  // Every key present for the whole iteration is returned at least once,
  // even though the table grows and shrinks between calls.
  auto& db = r.state().db(0);
  std::set<std::string> stable;
  for (int i = 0; i < 500; ++i) {
    str("stable:" + std::to_string(i), "v");
    stable.insert("stable:" + std::to_string(i));
  }
  for (int i = 0; i < 500; ++i) str("gone:" + std::to_string(i), "v");
  std::set<std::string> seen;
  std::string cursor = "0";
  int step = 0, added = 0, removed = 0;
  do {
    auto v = r.run({"SCAN", cursor, "COUNT", "20"});
    ASSERT_EQ(v.elements.size(), 2u);
    cursor = v.elements[0].str;
    for (const auto& e : v.elements[1].elements) seen.insert(e.str);
    // Grow hard in the first phase, then shrink.
    if (step < 15) {
      for (int i = 0; i < 300; ++i) str("new:" + std::to_string(added++), "v");
    } else {
      for (int i = 0; i < 200 && removed < added; ++i) db.erase("new:" + std::to_string(removed++));
      for (int i = 0; i < 40; ++i) db.erase("gone:" + std::to_string((step * 40 + i) % 500));
    }
    ++step;
  } while (cursor != "0" && step < 100000);
  for (const auto& k : stable) EXPECT_TRUE(seen.count(k)) << k;
  EXPECT_GT(step, 10);
}

// --- RANDOMKEY -------------------------------------------------------------------

TEST_F(Keys, RandomKey) {
  EXPECT_EQ(S(r.run({"RANDOMKEY"})), "(nil)");
  str("only", "v");
  EXPECT_EQ(S(r.run({"RANDOMKEY"})), "\"only\"");
  set("s", {"x"});
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(r.run({"RANDOMKEY"}).str);
  EXPECT_EQ(seen, (std::set<std::string>{"only", "s"}));
  EXPECT_EQ(S(r.run({"RANDOMKEY", "x"})),
            "(error) ERR wrong number of arguments for 'randomkey' command");
}

TEST_F(Keys, RandomKeyReclaimsExpiredKeysUntilALiveOne) {
  for (int i = 0; i < 500; ++i) {
    str("dead:" + std::to_string(i), "v");
    ttl_ms("dead:" + std::to_string(i), 10);
  }
  str("live", "v");
  advance(10);
  EXPECT_EQ(S(r.run({"RANDOMKEY"})), "\"live\"");
  // All expired: nil, and they are gone.
  r.state().db(0).erase("live");
  for (int i = 0; i < 300; ++i) {
    str("d2:" + std::to_string(i), "v");
    ttl_ms("d2:" + std::to_string(i), 5);
  }
  advance(5);
  const size_t before = r.state().db(0).size();
  EXPECT_GT(before, 0u);
  EXPECT_EQ(S(r.run({"RANDOMKEY"})), "(nil)");
  EXPECT_EQ(r.state().db(0).size(), 0u);
}

// --- OBJECT ----------------------------------------------------------------------

TEST_F(Keys, ObjectEncoding) {
  str("i", "123");
  str("e", "hello");
  str("r", std::string(45, 'x'));
  set("is", {"1", "2"});
  set("lp", {"a"});
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("m" + std::to_string(i));
  set("hs", many);
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "i"})), "\"int\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "e"})), "\"embstr\"");
  EXPECT_EQ(S(r.run({"OBJECT", "encoding", "r"})), "\"raw\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "is"})), "\"intset\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "lp"})), "\"listpack\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "hs"})), "\"hashtable\"");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "nokey"})), "(nil)");
  EXPECT_EQ(r.run({"OBJECT", "ENCODING", "nokey"}).kind, K::kNull);
}

TEST_F(Keys, ObjectRefcountFollowsRedisSharedIntegers) {
  str("zero", "0");
  str("small", "9999");
  str("big", "10000");
  str("neg", "-1");
  str("text", "abc");
  set("s", {"1"});
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "zero"})), "(integer) 2147483647");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "small"})), "(integer) 2147483647");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "big"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "neg"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "text"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "s"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "nokey"})), "(nil)");
  // RENAME and MOVE keep the (shared) object.
  EXPECT_EQ(S(r.run({"RENAME", "zero", "z"})), "OK");
  EXPECT_EQ(S(r.run({"OBJECT", "REFCOUNT", "z"})), "(integer) 2147483647");
}

TEST_F(Keys, ObjectIdletimeDoesNotTouch) {
  set("s", {"x"});
  advance(3500);
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "s"})), "(integer) 3");
  EXPECT_EQ(S(r.run({"OBJECT", "ENCODING", "s"})), "\"listpack\"");
  EXPECT_EQ(S(r.run({"TYPE", "s"})), "set");
  EXPECT_EQ(S(r.run({"EXISTS", "s"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"TTL", "s"})), "(integer) -1");
  advance(1000);
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "s"})), "(integer) 4");
  // Write lookups touch.
  EXPECT_EQ(S(r.run({"PERSIST", "s"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "s"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"OBJECT", "IDLETIME", "nokey"})), "(nil)");
}

TEST_F(Keys, ObjectCountsHitsButEmitsNoKeymiss) {
  str("a", "1");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", "Em"})), "OK");
  auto& sub = subscribe("*");
  r.run({"OBJECT", "ENCODING", "a"});
  r.run({"OBJECT", "ENCODING", "n"});
  EXPECT_EQ(hits(), 1u);
  EXPECT_EQ(misses(), 1u);
  EXPECT_TRUE(events(sub).empty());
}

TEST_F(Keys, ObjectFreqHelpAndErrors) {
  str("a", "1");
  EXPECT_EQ(S(r.run({"OBJECT", "FREQ", "a"})),
            "(error) ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
            "Please note that when switching between policies at runtime LRU and LFU data will "
            "take some time to adjust.");
  EXPECT_EQ(S(r.run({"OBJECT", "FREQ", "nokey"})), "(nil)");
  auto help = r.run({"OBJECT", "HELP"});
  ASSERT_EQ(help.elements.size(), 15u);
  EXPECT_EQ(help.elements[0].str,
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(help.elements[1].str, "ENCODING <key>");
  EXPECT_EQ(help.elements[12].str, "    <key>.");
  EXPECT_EQ(help.elements[14].str, "    Prints this help.");
  EXPECT_EQ(S(r.run({"OBJECT", "foo"})), "(error) ERR unknown subcommand 'foo'. Try OBJECT HELP.");
  EXPECT_EQ(S(r.run({"OBJECT", "encoding"})),
            "(error) ERR wrong number of arguments for 'object|encoding' command");
  EXPECT_EQ(S(r.run({"OBJECT"})), "(error) ERR wrong number of arguments for 'object' command");
  EXPECT_EQ(S(r.run({"OBJECT", "help", "x"})),
            "(error) ERR wrong number of arguments for 'object|help' command");
}

// --- EXPIRE family ---------------------------------------------------------------

TEST_F(Keys, ExpireSetsTtlInEachUnit) {
  str("a", "1");
  set("s", {"x"});
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "100"})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).expire_at("a"), kT0 + 100'000);
  EXPECT_EQ(S(r.run({"PEXPIRE", "a", "1500"})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).expire_at("a"), kT0 + 1500);
  EXPECT_EQ(S(r.run({"EXPIREAT", "s", std::to_string(kT0 / 1000 + 60)})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).expire_at("s"), kT0 + 60'000);
  EXPECT_EQ(S(r.run({"PEXPIREAT", "s", std::to_string(kT0 + 1)})), "(integer) 1");
  EXPECT_EQ(r.state().db(0).expire_at("s"), kT0 + 1);
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expire a", "__keyevent@0__:expire a",
                            "__keyevent@0__:expire s", "__keyevent@0__:expire s"}));
  EXPECT_EQ(S(r.run({"EXPIRE", "nokey", "100"})), "(integer) 0");
  EXPECT_TRUE(events(sub).empty());
  // Lazy expiry once the time passes.
  advance(1);
  EXPECT_EQ(S(r.run({"EXISTS", "s"})), "(integer) 0");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired s"}));
}

TEST_F(Keys, ExpireInThePastDeletes) {
  str("a", "1");
  str("b", "1");
  str("c", "1");
  str("d", "1");
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "0"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PEXPIRE", "b", "-5"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"EXPIREAT", "c", "1"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PEXPIREAT", "d", std::to_string(kT0)})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:del a", "__keyevent@0__:del b", "__keyevent@0__:del c",
                            "__keyevent@0__:del d"}));
  EXPECT_EQ(r.state().db(0).size(), 0u);
  EXPECT_EQ(r.state().stats().expired_keys, 0u);
}

TEST_F(Keys, ExpireOptionErrors) {
  str("a", "1");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "x"})), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "10", "FOO"})), "(error) ERR Unsupported option FOO");
  // Options are checked before the time.
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "x", "FOO"})), "(error) ERR Unsupported option FOO");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "10", "FOO\r\nbar"})),
            "(error) ERR Unsupported option FOO  bar");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "10", std::string("FO\0O", 4)})),
            "(error) ERR Unsupported option FO");
  const std::string nx_err =
      "(error) ERR NX and XX, GT or LT options at the same time are not compatible";
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "10", "NX", "XX"})), nx_err);
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "10", "nx", "gt"})), nx_err);
  EXPECT_EQ(S(r.run({"PEXPIRE", "a", "10", "LT", "NX"})), nx_err);
  EXPECT_EQ(S(r.run({"EXPIREAT", "a", "10", "GT", "LT"})),
            "(error) ERR GT and LT options at the same time are not compatible");
  EXPECT_EQ(S(r.run({"EXPIRE", "a"})),
            "(error) ERR wrong number of arguments for 'expire' command");
  EXPECT_EQ(r.state().db(0).expire_at("a"), -1);
}

TEST_F(Keys, ExpireOverflowIsInvalidExpireTime) {
  str("a", "1");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "9223372036854776"})),
            "(error) ERR invalid expire time in 'expire' command");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "9223372036854775"})),
            "(error) ERR invalid expire time in 'expire' command");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "-9223372036854776"})),
            "(error) ERR invalid expire time in 'expire' command");
  EXPECT_EQ(S(r.run({"PEXPIRE", "a", "9223372036854775807"})),
            "(error) ERR invalid expire time in 'pexpire' command");
  EXPECT_EQ(S(r.run({"EXPIREAT", "a", "9223372036854776"})),
            "(error) ERR invalid expire time in 'expireat' command");
  EXPECT_EQ(S(r.run({"EXPIREAT", "a", "9223372036854775"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PEXPIREAT", "a", "9223372036854775807"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PEXPIRETIME", "a"})), "(integer) 9223372036854775807");
  EXPECT_EQ(S(r.run({"EXPIRE", "a", "-9223372036854775"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"EXISTS", "a"})), "(integer) 0");
}

TEST_F(Keys, ExpireConditions) {
  str("k", "v");
  // No TTL yet: NX sets, XX/GT refuse, LT sets (no TTL counts as infinite).
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "100", "XX"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "100", "GT"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "100", "XX", "GT"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "100", "NX"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "50", "NX"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) 100");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "100", "GT"})), "(integer) 0");  // equal: not greater
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "200", "GT"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "200", "LT"})), "(integer) 0");  // equal: not less
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "150", "LT", "XX"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) 150");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "300", "XX"})), "(integer) 1");
  str("n", "v");
  EXPECT_EQ(S(r.run({"EXPIRE", "n", "10", "LT"})), "(integer) 1");
  // LT with a time in the past deletes the key.
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "-1", "LT"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"EXISTS", "k"})), "(integer) 0");
  // Conditions on a missing key: 0.
  EXPECT_EQ(S(r.run({"EXPIRE", "missing", "10", "NX"})), "(integer) 0");
}

TEST_F(Keys, ExpireOnExpiredKeyIsZero) {
  str("e", "v");
  ttl_ms("e", 10);
  auto& sub = listen();
  advance(10);
  EXPECT_EQ(S(r.run({"EXPIRE", "e", "10"})), "(integer) 0");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:expired e"}));
}

TEST_F(Keys, TtlFamilyRoundsLikeRedis) {
  str("k", "v");
  set("s", {"1"});
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) -1");
  EXPECT_EQ(S(r.run({"PTTL", "k"})), "(integer) -1");
  EXPECT_EQ(S(r.run({"EXPIRETIME", "k"})), "(integer) -1");
  EXPECT_EQ(S(r.run({"PEXPIRETIME", "k"})), "(integer) -1");
  EXPECT_EQ(S(r.run({"TTL", "nokey"})), "(integer) -2");
  EXPECT_EQ(S(r.run({"PTTL", "nokey"})), "(integer) -2");
  EXPECT_EQ(S(r.run({"EXPIRETIME", "nokey"})), "(integer) -2");
  EXPECT_EQ(S(r.run({"PEXPIRETIME", "nokey"})), "(integer) -2");
  ttl_ms("k", 1499);
  ttl_ms("s", 1500);
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"TTL", "s"})), "(integer) 2");
  EXPECT_EQ(S(r.run({"PTTL", "k"})), "(integer) 1499");
  // kT0 + 1499 ms rounds to kT0/1000 + 1; +1500 to +2.
  EXPECT_EQ(S(r.run({"EXPIRETIME", "k"})), "(integer) " + std::to_string(kT0 / 1000 + 1));
  EXPECT_EQ(S(r.run({"EXPIRETIME", "s"})), "(integer) " + std::to_string(kT0 / 1000 + 2));
  EXPECT_EQ(S(r.run({"PEXPIRETIME", "s"})), "(integer) " + std::to_string(kT0 + 1500));
  advance(1000);
  EXPECT_EQ(S(r.run({"PTTL", "k"})), "(integer) 499");
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) 0");
  advance(499);
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) -2");
  r.state().stats().reset();
  r.run({"TTL", "s"});
  r.run({"PTTL", "nokey"});
  EXPECT_EQ(hits(), 1u);
  EXPECT_EQ(misses(), 1u);
}

TEST_F(Keys, PersistRemovesTtl) {
  str("k", "v");
  set("s", {"1"});
  ttl_ms("k", 5000);
  auto& sub = listen();
  EXPECT_EQ(S(r.run({"PERSIST", "s"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"PERSIST", "nokey"})), "(integer) 0");
  EXPECT_TRUE(events(sub).empty());
  EXPECT_EQ(S(r.run({"PERSIST", "k"})), "(integer) 1");
  EXPECT_EQ(events(sub), (V{"__keyevent@0__:persist k"}));
  EXPECT_EQ(S(r.run({"TTL", "k"})), "(integer) -1");
  EXPECT_EQ(S(r.run({"PERSIST", "k"})), "(integer) 0");
  EXPECT_EQ(r.state().db(0).expires_size(), 0u);
}

TEST_F(Keys, ExpireAndPersistTouchWatchedKeys) {
  str("k", "v");
  auto& w = r.new_client();
  r.state().watch_key(w, 0, "k");
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "10", "XX"})), "(integer) 0");
  EXPECT_FALSE(w.dirty_cas);
  EXPECT_EQ(S(r.run({"EXPIRE", "k", "10"})), "(integer) 1");
  EXPECT_TRUE(w.dirty_cas);
  // A dirty client stops watching (as Redis's touchWatchedKey): watch again.
  EXPECT_TRUE(w.watched.empty());
  w.dirty_cas = false;
  r.state().watch_key(w, 0, "k");
  EXPECT_EQ(S(r.run({"PERSIST", "k"})), "(integer) 1");
  EXPECT_TRUE(w.dirty_cas);
}

TEST_F(Keys, Resp3Replies) {
  r.run({"HELLO", "3"});
  str("a", "1");
  EXPECT_EQ(r.run({"OBJECT", "ENCODING", "nokey"}).kind, K::kNull);
  EXPECT_EQ(r.run({"RANDOMKEY"}).kind, K::kBulk);
  EXPECT_EQ(S(r.run({"SCAN", "0"})), "[\"0\", [\"a\"]]");
  EXPECT_EQ(S(r.run({"KEYS", "*"})), "[\"a\"]");
  EXPECT_EQ(S(r.run({"TYPE", "a"})), "string");
}

// --- active expiry ----------------------------------------------------------------

TEST_F(Keys, ActiveExpiryReclaimsUntouchedKeys) {
  auto& db = r.state().db(0);
  for (int i = 0; i < 10000; ++i) {
    const std::string k = "k:" + std::to_string(i);
    str(k, "v");
    ttl_ms(k, 100 + i % 200);
  }
  str("forever", "v");
  set("later", {"x"});
  ttl_ms("later", 60'000);
  r.state().cron();
  EXPECT_EQ(db.size(), 10002u);  // nothing due yet
  advance(300);
  int ticks = 0;
  while (db.size() > 2 && ticks < 1000) {
    r.state().cron();
    ++ticks;
  }
  EXPECT_EQ(db.size(), 2u) << "after " << ticks << " cron ticks";
  EXPECT_EQ(r.state().stats().expired_keys, 10000u);
  EXPECT_EQ(db.expires_size(), 1u);
}

// --- metadata ---------------------------------------------------------------------

TEST_F(Keys, CommandDocsCarryHistoryAndArgumentSince) {
  auto v = r.run({"COMMAND", "DOCS", "expire"});
  EXPECT_EQ(S(v),
            "[\"expire\", [\"summary\", \"Set a key's time to live in seconds\", \"since\", "
            "\"1.0.0\", \"group\", \"generic\", \"complexity\", \"O(1)\", \"history\", "
            "[[\"7.0.0\", \"Added options: `NX`, `XX`, `GT` and `LT`.\"]], \"arguments\", "
            "[[\"name\", \"key\", \"type\", \"key\", \"key_spec_index\", (integer) 0], [\"name\", "
            "\"seconds\", \"type\", \"integer\"], [\"name\", \"condition\", \"type\", \"oneof\", "
            "\"since\", \"7.0.0\", \"flags\", [optional], \"arguments\", [[\"name\", \"nx\", "
            "\"type\", \"pure-token\", \"token\", \"NX\"], [\"name\", \"xx\", \"type\", "
            "\"pure-token\", \"token\", \"XX\"], [\"name\", \"gt\", \"type\", \"pure-token\", "
            "\"token\", \"GT\"], [\"name\", \"lt\", \"type\", \"pure-token\", \"token\", "
            "\"LT\"]]]]]]");
  auto info = r.run({"COMMAND", "INFO", "renamenx"});
  EXPECT_EQ(S(info),
            "[[\"renamenx\", (integer) 3, [write, fast], (integer) 1, (integer) 2, (integer) 1, "
            "[@keyspace, @write, @fast], [], [[\"flags\", [RW, access, delete], "
            "\"begin_search\", [\"type\", \"index\", \"spec\", [\"index\", (integer) 1]], "
            "\"find_keys\", [\"type\", \"range\", \"spec\", [\"lastkey\", (integer) 0, "
            "\"keystep\", (integer) 1, \"limit\", (integer) 0]]], [\"flags\", [OW, insert], "
            "\"begin_search\", [\"type\", \"index\", \"spec\", [\"index\", (integer) 2]], "
            "\"find_keys\", [\"type\", \"range\", \"spec\", [\"lastkey\", (integer) 0, "
            "\"keystep\", (integer) 1, \"limit\", (integer) 0]]]], []]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "COPY", "a", "b", "DB", "1"})), "[\"a\", \"b\"]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"})), "[\"k\"]");
}

}  // namespace
}  // namespace setd::testing

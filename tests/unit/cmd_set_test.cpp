// The set command family through the in-process runner: replies and error
// texts (checked against redis-server 7.0.15), every encoding (intset,
// listpack, hashtable; Redis 7.0's rules with set-max-listpack-entries 0,
// Redis 7.2's by default), emptiness deletion, *STORE overwrites,
// random-member strategies by their properties, SSCAN guarantees, keyspace
// notifications and set.* events.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/db/value.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

const char* kWrongType =
    "(error) WRONGTYPE Operation against a key holding the wrong kind of value";

// The members of an aggregate reply, sorted.
std::vector<std::string> members(const RespValue& v) {
  std::vector<std::string> out;
  for (const auto& e : v.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string encoding(Runner& r, std::string_view key) {
  const db::Value* v = r.state().db(0).find(key);
  if (v == nullptr) return "(missing)";
  if (v->type() != db::Type::kSet) return "string";
  return std::string(v->as_set().encoding_name());
}
bool exists(Runner& r, std::string_view key) { return r.state().db(0).find(key) != nullptr; }
void make_string(Runner& r, std::string_view key) {
  r.state().db(0).set(key, db::Object::string("x"));
}

// Redis 7.0's encoding rules: no listpack.
void redis70(Runner& r) {
  EXPECT_EQ(S(r.run({"config", "set", "set-max-listpack-entries", "0"})), "OK");
}

// SADD key with `n` members named prefix+i (prefix "" gives integers).
void fill(Runner& r, const std::string& key, int n, const std::string& prefix = "", int from = 0) {
  std::vector<std::string> args{"sadd", key};
  for (int i = from; i < from + n; ++i) args.push_back(prefix + std::to_string(i));
  r.run(args);
}

// Every encoding: integer members (intset), string members with Redis
// 7.0's rules (hashtable) and with the default listpack limits (listpack:
// the sets of these tests have at most 100 short members).
struct EncParam {
  const char* prefix;    // member names: prefix + i ("" gives integers)
  const char* encoding;  // what the sets of the test are encoded as
  bool listpack;         // set-max-listpack-entries: 128 (true) or 0
};
class SetEnc : public ::testing::TestWithParam<EncParam> {
 protected:
  void SetUp() override {
    if (!GetParam().listpack) redis70(r);
  }
  std::string m(int i) const { return std::string(GetParam().prefix) + std::to_string(i); }
  std::string expected_encoding() const { return GetParam().encoding; }
  const char* prefix() const { return GetParam().prefix; }
  Runner r;
};
INSTANTIATE_TEST_SUITE_P(Encodings, SetEnc,
                         ::testing::Values(EncParam{"", "intset", true},
                                           EncParam{"m", "hashtable", false},
                                           EncParam{"m", "listpack", true}),
                         [](const auto& p) { return std::string(p.param.encoding); });

// --- SADD / SREM / SCARD / SISMEMBER / SMISMEMBER / SMEMBERS --------------

TEST_P(SetEnc, AddRemoveCountMembers) {
  EXPECT_EQ(S(r.run({"sadd", "k", m(1), m(2), m(3), m(2)})), "(integer) 3");
  EXPECT_EQ(encoding(r, "k"), expected_encoding());
  EXPECT_EQ(S(r.run({"sadd", "k", m(3), m(4)})), "(integer) 1");
  EXPECT_EQ(S(r.run({"sadd", "k", m(4)})), "(integer) 0");
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 4");
  EXPECT_EQ(S(r.run({"sismember", "k", m(1)})), "(integer) 1");
  EXPECT_EQ(S(r.run({"sismember", "k", m(9)})), "(integer) 0");
  EXPECT_EQ(S(r.run({"smismember", "k", m(1), m(9), m(4)})),
            "[(integer) 1, (integer) 0, (integer) 1]");
  EXPECT_EQ(members(r.run({"smembers", "k"})), sorted({m(1), m(2), m(3), m(4)}));
  EXPECT_EQ(S(r.run({"srem", "k", m(1), m(9), m(1)})), "(integer) 1");
  EXPECT_EQ(S(r.run({"srem", "k", m(9)})), "(integer) 0");
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 3");
  // Removing the last members deletes the key at once.
  EXPECT_EQ(S(r.run({"srem", "k", m(2), m(3), m(4), m(5)})), "(integer) 3");
  EXPECT_FALSE(exists(r, "k"));
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 0");
}

TEST(SetCommands, MissingKeyIsTheEmptySet) {
  Runner r;
  EXPECT_EQ(S(r.run({"scard", "no"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sismember", "no", "a"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"smismember", "no", "a", "b"})), "[(integer) 0, (integer) 0]");
  EXPECT_EQ(S(r.run({"smembers", "no"})), "[]");
  EXPECT_EQ(S(r.run({"srem", "no", "a"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"srandmember", "no"})), "(nil)");
  EXPECT_EQ(S(r.run({"srandmember", "no", "5"})), "[]");
  EXPECT_EQ(S(r.run({"srandmember", "no", "-5"})), "[]");
  EXPECT_EQ(S(r.run({"srandmember", "no", "-9223372036854775807"})), "[]");
  EXPECT_EQ(S(r.run({"spop", "no"})), "(nil)");
  EXPECT_EQ(S(r.run({"spop", "no", "3"})), "[]");
  EXPECT_EQ(S(r.run({"sinter", "no", "no2"})), "[]");
  EXPECT_EQ(S(r.run({"sunion", "no", "no2"})), "[]");
  EXPECT_EQ(S(r.run({"sdiff", "no", "no2"})), "[]");
  EXPECT_EQ(S(r.run({"sintercard", "2", "no", "no2"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sunioncard", "1", "no"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sunioncard", "1", "no", "APPROX"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sdiffcard", "1", "no"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sscan", "no", "0"})), "[\"0\", []]");
  EXPECT_EQ(S(r.run({"smove", "no", "d", "a"})), "(integer) 0");
  EXPECT_FALSE(exists(r, "d"));
  EXPECT_EQ(r.state().db(0).size(), 0u);
}

TEST(SetCommands, EncodingFollowsRedis70Rules) {
  Runner r;
  redis70(r);
  r.run({"sadd", "i", "1", "-5", "9223372036854775807", "-9223372036854775808"});
  EXPECT_EQ(encoding(r, "i"), "intset");
  r.run({"sadd", "i", "007"});  // not canonical: converts
  EXPECT_EQ(encoding(r, "i"), "hashtable");
  EXPECT_EQ(S(r.run({"sismember", "i", "7"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sismember", "i", "007"})), "(integer) 1");
  r.run({"sadd", "h", "a"});
  EXPECT_EQ(encoding(r, "h"), "hashtable");
  r.run({"sadd", "h2", "x", "1"});  // created for the first member
  EXPECT_EQ(encoding(r, "h2"), "hashtable");
  // "007" is never a member of an intset holding 7.
  r.run({"sadd", "seven", "7"});
  EXPECT_EQ(S(r.run({"sismember", "seven", "007"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"srem", "seven", "007"})), "(integer) 0");
  // Past set-max-intset-entries an intset converts.
  EXPECT_EQ(S(r.run({"config", "set", "set-max-intset-entries", "4"})), "OK");
  fill(r, "big", 4);
  EXPECT_EQ(encoding(r, "big"), "intset");
  r.run({"sadd", "big", "4"});
  EXPECT_EQ(encoding(r, "big"), "hashtable");
  r.run({"srem", "big", "0", "1", "2"});  // never converts back
  EXPECT_EQ(encoding(r, "big"), "hashtable");
}

TEST(SetCommands, ArityAndWrongType) {
  Runner r;
  make_string(r, "s");
  r.run({"sadd", "set", "a"});
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"sadd", "s", "a"},
           {"srem", "s", "a"},
           {"smembers", "s"},
           {"sismember", "s", "a"},
           {"smismember", "s", "a"},
           {"scard", "s"},
           {"srandmember", "s"},
           {"srandmember", "s", "2"},
           {"spop", "s"},
           {"spop", "s", "0"},
           {"smove", "s", "set", "a"},
           {"smove", "set", "s", "a"},
           {"sinter", "no", "s"},
           {"sinter", "s", "no"},
           {"sinterstore", "d", "no", "s"},
           {"sintercard", "2", "no", "s"},
           {"sunion", "set", "s"},
           {"sunionstore", "d", "set", "s"},
           {"sdiff", "no", "s"},
           {"sdiff", "set", "s"},
           {"sdiffstore", "d", "set", "s"},
           {"sscan", "s", "0"},
           {"sscan", "s", "0", "COUNT", "0"},
           {"sunioncard", "2", "set", "s"},
           {"sunioncard", "2", "set", "s", "APPROX"},
           {"sdiffcard", "2", "no", "s"},
       })
    EXPECT_EQ(S(r.run(args)), kWrongType) << args[0];
  EXPECT_FALSE(exists(r, "d"));
  EXPECT_EQ(S(r.run({"smove", "no", "s", "a"})), "(integer) 0");  // missing source: 0 first
  const std::map<std::string, std::vector<std::string>> arity = {
      {"sadd", {"sadd", "k"}},
      {"srem", {"srem", "k"}},
      {"smembers", {"smembers"}},
      {"sismember", {"sismember", "k"}},
      {"smismember", {"smismember", "k"}},
      {"scard", {"scard", "k", "x"}},
      {"srandmember", {"srandmember"}},
      {"spop", {"spop"}},
      {"smove", {"smove", "a", "b"}},
      {"sinter", {"sinter"}},
      {"sinterstore", {"sinterstore", "d"}},
      {"sintercard", {"sintercard", "1"}},
      {"sunion", {"sunion"}},
      {"sunionstore", {"sunionstore", "d"}},
      {"sdiff", {"sdiff"}},
      {"sdiffstore", {"sdiffstore", "d"}},
      {"sscan", {"sscan", "k"}},
      {"sunioncard", {"sunioncard", "1"}},
      {"sdiffcard", {"sdiffcard", "1"}},
  };
  for (const auto& [name, args] : arity)
    EXPECT_EQ(S(r.run(args)), "(error) ERR wrong number of arguments for '" + name + "' command");
  EXPECT_EQ(S(r.run({"srandmember", "set", "1", "2"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"spop", "set", "1", "2"})), "(error) ERR syntax error");
}

TEST(SetCommands, Resp3UsesSetTypeWhereRedisDoes) {
  Runner r;
  r.run({"hello", "3"});
  fill(r, "a", 5);
  fill(r, "b", 5, "", 3);
  EXPECT_EQ(r.run({"smembers", "a"}).kind, K::kSet);
  EXPECT_EQ(r.run({"smembers", "none"}).kind, K::kSet);
  EXPECT_EQ(r.run({"sinter", "a", "b"}).kind, K::kSet);
  EXPECT_EQ(r.run({"sinter", "a", "none"}).kind, K::kSet);
  EXPECT_EQ(r.run({"sunion", "a", "b"}).kind, K::kSet);
  EXPECT_EQ(r.run({"sdiff", "a", "b"}).kind, K::kSet);
  EXPECT_EQ(r.run({"spop", "a", "1"}).kind, K::kSet);  // Redis 7.0: "~" for SPOP count
  EXPECT_EQ(r.run({"spop", "a", "0"}).kind, K::kSet);
  EXPECT_EQ(r.run({"spop", "none", "2"}).kind, K::kSet);
  EXPECT_EQ(r.run({"srandmember", "b", "2"}).kind, K::kArray);
  EXPECT_EQ(r.run({"srandmember", "b", "-2"}).kind, K::kArray);
  EXPECT_EQ(r.run({"srandmember", "b", "0"}).kind, K::kArray);
  EXPECT_EQ(r.run({"srandmember", "none", "2"}).kind, K::kArray);
  EXPECT_EQ(r.run({"smismember", "b", "3"}).kind, K::kArray);
  const auto scan = r.run({"sscan", "b", "0"});
  EXPECT_EQ(scan.kind, K::kArray);
  EXPECT_EQ(scan.elements[1].kind, K::kArray);
  EXPECT_EQ(r.run({"srandmember", "none"}).kind, K::kNull);
  EXPECT_EQ(r.run({"spop", "none"}).kind, K::kNull);
  EXPECT_EQ(r.run({"sintercard", "2", "a", "b"}).kind, K::kInteger);
}

// --- SRANDMEMBER ------------------------------------------------------------

TEST_P(SetEnc, SrandmemberCountVariants) {
  std::vector<std::string> all;
  std::vector<std::string> args{"sadd", "k"};
  for (int i = 0; i < 100; ++i) {
    all.push_back(m(i));
    args.push_back(m(i));
  }
  r.run(args);
  EXPECT_EQ(encoding(r, "k"), expected_encoding());
  const std::set<std::string> universe(all.begin(), all.end());
  auto check_distinct = [&](const RespValue& v, size_t n) {
    ASSERT_EQ(v.kind, K::kArray);
    ASSERT_EQ(v.elements.size(), n);
    std::set<std::string> seen;
    for (const auto& e : v.elements) {
      EXPECT_TRUE(universe.count(e.str)) << e.str;
      EXPECT_TRUE(seen.insert(e.str).second) << "repeated " << e.str;
    }
  };
  // Case 4 (count * 3 <= size), case 3 (count * 3 > size), case 2 (>= size).
  for (int n : {1, 2, 10, 33, 34, 50, 99, 100})
    check_distinct(r.run({"srandmember", "k", std::to_string(n)}), static_cast<size_t>(n));
  check_distinct(r.run({"srandmember", "k", "101"}), 100);
  check_distinct(r.run({"srandmember", "k", "9223372036854775807"}), 100);
  EXPECT_EQ(S(r.run({"srandmember", "k", "0"})), "[]");
  // Negative: exactly |count| members, repeats allowed.
  const auto neg = r.run({"srandmember", "k", "-1000"});
  ASSERT_EQ(neg.elements.size(), 1000u);
  std::set<std::string> seen;
  for (const auto& e : neg.elements) {
    EXPECT_TRUE(universe.count(e.str));
    seen.insert(e.str);
  }
  EXPECT_LT(seen.size(), 1000u);  // repeats happen
  EXPECT_GT(seen.size(), 90u);    // and it covers the set
  // Without count: one member.
  EXPECT_TRUE(universe.count(r.run({"srandmember", "k"}).str));
  // Nothing was modified.
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 100");
}

TEST_P(SetEnc, SrandmemberIsRoughlyUniform) {
  fill(r, "k", 10, prefix());
  std::map<std::string, int> hits;
  for (int round = 0; round < 400; ++round)
    for (const auto& e : r.run({"srandmember", "k", "3"}).elements) ++hits[e.str];
  for (int round = 0; round < 400; ++round)
    for (const auto& e : r.run({"srandmember", "k", "5"}).elements) ++hits[e.str];
  ASSERT_EQ(hits.size(), 10u);
  for (const auto& [member, n] : hits) {  // expected 320 each
    EXPECT_GT(n, 220) << member;
    EXPECT_LT(n, 420) << member;
  }
}

TEST(SetCommands, SrandmemberErrors) {
  Runner r;
  r.run({"sadd", "k", "a"});
  EXPECT_EQ(S(r.run({"srandmember", "k", "-9223372036854775808"})),
            "(error) ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807");
  EXPECT_EQ(S(r.run({"srandmember", "no", "-9223372036854775808"})),
            "(error) ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807");
  EXPECT_EQ(S(r.run({"srandmember", "k", "9223372036854775808"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"srandmember", "k", "abc"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"srandmember", "no", "1.5"})),
            "(error) ERR value is not an integer or out of range");
  // Redis would try to build a reply of 2^63 elements; setd refuses.
  EXPECT_EQ(S(r.run({"srandmember", "k", "-9223372036854775807"})),
            "(error) ERR value is out of range, count is too large for one reply");
  EXPECT_EQ(S(r.run({"srandmember", "k", "9223372036854775807"})), "[\"a\"]");
}

TEST(SetCommands, SrandmemberReplyIsBoundedByProtoMaxBulkLen) {
  Runner r;
  auto& sub = r.new_client();
  r.state().hub().psubscribe(&sub, "set.*");
  r.run({"sadd", "k", std::string(100, 'x')});
  r.drain(sub);
  EXPECT_EQ(S(r.run({"config", "set", "proto-max-bulk-len", "1mb"})), "OK");
  // 20000 x 107 bytes > 1 MiB: an error instead of the reply, no event.
  EXPECT_EQ(S(r.run({"srandmember", "k", "-20000"})),
            "(error) ERR value is out of range, count is too large for one reply");
  EXPECT_FALSE(r.client().killed);
  EXPECT_TRUE(r.drain(sub).empty());
  EXPECT_EQ(r.run({"srandmember", "k", "-9000"}).elements.size(), 9000u);
  EXPECT_EQ(r.drain(sub).size(), 1u);
}

TEST(SetCommands, SrandmemberStopsAtTheOutputLimit) {
  Runner r;
  r.run({"sadd", "k", "a", "b"});
  EXPECT_EQ(S(r.run({"config", "set", "client-output-buffer-limit", "normal 100kb 0 0"})), "OK");
  EXPECT_EQ(r.run({"srandmember", "k", "-1000000"}).kind, K::kNull);  // no reply: closed
  EXPECT_TRUE(r.client().killed);
  EXPECT_TRUE(r.client().out.empty());
}

// --- SPOP -------------------------------------------------------------------

TEST_P(SetEnc, SpopSingleAndCount) {
  fill(r, "k", 20, prefix());
  std::set<std::string> left;
  for (int i = 0; i < 20; ++i) left.insert(m(i));
  const auto one = r.run({"spop", "k"});
  ASSERT_EQ(one.kind, K::kBulk);
  EXPECT_EQ(left.erase(one.str), 1u);
  // Case 2: a few popped one by one.
  auto popped = r.run({"spop", "k", "3"});
  ASSERT_EQ(popped.elements.size(), 3u);
  for (const auto& e : popped.elements) EXPECT_EQ(left.erase(e.str), 1u) << e.str;
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 16");
  EXPECT_EQ(S(r.run({"spop", "k", "0"})), "[]");
  // Case 3: most of the set goes (remaining * 5 <= count).
  popped = r.run({"spop", "k", "14"});
  ASSERT_EQ(popped.elements.size(), 14u);
  for (const auto& e : popped.elements) EXPECT_EQ(left.erase(e.str), 1u) << e.str;
  EXPECT_EQ(members(r.run({"smembers", "k"})), std::vector<std::string>(left.begin(), left.end()));
  EXPECT_EQ(encoding(r, "k"), expected_encoding());
  // Case 1: count >= size returns everything and deletes the key.
  popped = r.run({"spop", "k", "1000"});
  EXPECT_EQ(members(popped), std::vector<std::string>(left.begin(), left.end()));
  EXPECT_FALSE(exists(r, "k"));
  // The last single pop deletes the key too.
  r.run({"sadd", "k", m(1)});
  EXPECT_EQ(r.run({"spop", "k"}).str, m(1));
  EXPECT_FALSE(exists(r, "k"));
}

TEST(SetCommands, SpopCountStrategyEncodingAndTtlRedis70) {
  Runner r;
  redis70(r);
  // A hashtable of integers (over set-max-intset-entries) whose few
  // survivors are re-created as an intset, like Redis's case 3.
  fill(r, "k", 1000);
  EXPECT_EQ(encoding(r, "k"), "hashtable");
  r.state().db(0).set_expire("k", 4102444800000);
  EXPECT_EQ(r.run({"spop", "k", "900"}).elements.size(), 900u);
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 100");
  EXPECT_EQ(encoding(r, "k"), "intset");
  EXPECT_EQ(r.state().db(0).expire_at("k"), 4102444800000);  // the TTL stays
  // Case 2 never changes the encoding.
  fill(r, "h", 1000);
  r.run({"spop", "h", "100"});
  EXPECT_EQ(encoding(r, "h"), "hashtable");
  // Survivors that are not all integers stay a hashtable.
  fill(r, "s", 100, "m");
  r.run({"spop", "s", "90"});
  EXPECT_EQ(encoding(r, "s"), "hashtable");
  EXPECT_EQ(S(r.run({"scard", "s"})), "(integer) 10");
}

TEST(SetCommands, SpopErrors) {
  Runner r;
  r.run({"sadd", "k", "a"});
  for (const char* bad : {"-1", "abc", "1.0", "9223372036854775808"})
    EXPECT_EQ(S(r.run({"spop", "k", bad})), "(error) ERR value is out of range, must be positive")
        << bad;
  EXPECT_EQ(S(r.run({"spop", "no", "-1"})), "(error) ERR value is out of range, must be positive");
  EXPECT_EQ(S(r.run({"spop", "k", "9223372036854775807"})), "[\"a\"]");
}

// --- SMOVE ------------------------------------------------------------------

TEST(SetCommands, SmoveRedis70) {
  Runner r;
  redis70(r);
  r.run({"sadd", "src", "1", "2", "a"});
  // Destination created as SADD would create it for the member.
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "1"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d1"), "intset");
  EXPECT_EQ(S(r.run({"smove", "src", "d2", "a"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d2"), "hashtable");
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "a"})), "(integer) 0");  // not a member
  // A string member moved into an intset converts it.
  r.run({"sadd", "src", "x"});
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "x"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d1"), "hashtable");
  // Already in the destination: still 1, and the source loses it.
  r.run({"sadd", "d1", "2"});
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "2"})), "(integer) 1");
  EXPECT_FALSE(exists(r, "src"));  // emptied: deleted
  EXPECT_EQ(members(r.run({"smembers", "d1"})), sorted({"1", "2", "x"}));
  // Onto itself: membership answer, nothing changes.
  EXPECT_EQ(S(r.run({"smove", "d1", "d1", "x"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"smove", "d1", "d1", "nope"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"scard", "d1"})), "(integer) 3");
  // Wrong types: source missing answers 0 before looking at types.
  make_string(r, "str");
  EXPECT_EQ(S(r.run({"smove", "missing", "str", "x"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"smove", "d1", "str", "x"})), kWrongType);
  EXPECT_EQ(S(r.run({"smove", "str", "d1", "x"})), kWrongType);
  EXPECT_EQ(S(r.run({"scard", "d1"})), "(integer) 3");
}

// --- SINTER / SUNION / SDIFF and their STORE / CARD forms ------------------

TEST_P(SetEnc, AlgebraOnBothEncodings) {
  std::vector<std::string> a_args{"sadd", "a"}, b_args{"sadd", "b"}, c_args{"sadd", "c"};
  for (int i = 0; i < 30; ++i) a_args.push_back(m(i));
  for (int i = 20; i < 60; ++i) b_args.push_back(m(i));
  for (int i = 25; i < 27; ++i) c_args.push_back(m(i));
  r.run(a_args);
  r.run(b_args);
  r.run(c_args);
  auto range = [&](int from, int to) {
    std::vector<std::string> v;
    for (int i = from; i < to; ++i) v.push_back(m(i));
    return sorted(v);
  };
  EXPECT_EQ(members(r.run({"sinter", "a", "b"})), range(20, 30));
  EXPECT_EQ(members(r.run({"sinter", "b", "a", "c"})), range(25, 27));
  EXPECT_EQ(members(r.run({"sinter", "a", "a"})), range(0, 30));
  EXPECT_EQ(S(r.run({"sintercard", "2", "a", "b"})), "(integer) 10");
  EXPECT_EQ(S(r.run({"sintercard", "2", "a", "b", "LIMIT", "4"})), "(integer) 4");
  EXPECT_EQ(S(r.run({"sintercard", "2", "a", "b", "limit", "0"})), "(integer) 10");
  EXPECT_EQ(S(r.run({"sintercard", "2", "a", "b", "LIMIT", "100"})), "(integer) 10");
  EXPECT_EQ(members(r.run({"sunion", "a", "b", "c", "none"})), range(0, 60));
  EXPECT_EQ(S(r.run({"sunioncard", "3", "a", "b", "c"})), "(integer) 60");
  EXPECT_EQ(S(r.run({"sunioncard", "3", "a", "b", "c", "LIMIT", "45"})), "(integer) 45");
  EXPECT_EQ(S(r.run({"sunioncard", "3", "c", "b", "a", "LIMIT", "5"})), "(integer) 5");
  EXPECT_EQ(S(r.run({"sunioncard", "2", "a", "b", "APPROX"})), "(integer) 60");
  EXPECT_EQ(S(r.run({"sunioncard", "2", "a", "b", "APPROX", "LIMIT", "7"})), "(integer) 7");
  EXPECT_EQ(members(r.run({"sdiff", "a", "b"})), range(0, 20));
  EXPECT_EQ(members(r.run({"sdiff", "b", "a", "c"})), range(30, 60));
  EXPECT_EQ(members(r.run({"sdiff", "a", "none"})), range(0, 30));
  EXPECT_EQ(S(r.run({"sdiff", "a", "c", "a"})), "[]");
  EXPECT_EQ(S(r.run({"sdiff", "none", "a"})), "[]");
  EXPECT_EQ(S(r.run({"sdiffcard", "2", "a", "b"})), "(integer) 20");
  EXPECT_EQ(S(r.run({"sdiffcard", "3", "b", "a", "c"})), "(integer) 30");
  EXPECT_EQ(S(r.run({"sdiffcard", "2", "a", "b", "LIMIT", "3"})), "(integer) 3");
  EXPECT_EQ(S(r.run({"sdiffcard", "2", "a", "a"})), "(integer) 0");
  // Both SDIFF algorithms: a small first set (1) and a big first set (2).
  EXPECT_EQ(members(r.run({"sdiff", "c", "b"})), std::vector<std::string>{});
  EXPECT_EQ(members(r.run({"sdiff", "b", "c"})), [&] {
    auto v = range(20, 60);
    std::erase(v, m(25));
    std::erase(v, m(26));
    return v;
  }());
  EXPECT_EQ(S(r.run({"sdiffcard", "2", "b", "c"})), "(integer) 38");
  // STORE forms.
  EXPECT_EQ(S(r.run({"sinterstore", "d", "a", "b"})), "(integer) 10");
  EXPECT_EQ(members(r.run({"smembers", "d"})), range(20, 30));
  EXPECT_EQ(encoding(r, "d"), expected_encoding());
  EXPECT_EQ(S(r.run({"sunionstore", "d", "a", "b"})), "(integer) 60");
  EXPECT_EQ(members(r.run({"smembers", "d"})), range(0, 60));
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "b", "a"})), "(integer) 30");
  EXPECT_EQ(members(r.run({"smembers", "d"})), range(30, 60));
  // A source may be the destination.
  EXPECT_EQ(S(r.run({"sunionstore", "d", "d", "c"})), "(integer) 32");
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "d", "c"})), "(integer) 30");
  EXPECT_EQ(S(r.run({"sinterstore", "d", "d", "b"})), "(integer) 30");
}

TEST(SetCommands, StoreOverwritesAndDeletes) {
  Runner r;
  r.run({"sadd", "a", "1", "2"});
  r.run({"sadd", "b", "2", "3"});
  for (const char* cmd : {"sinterstore", "sunionstore", "sdiffstore"}) {
    make_string(r, "dst");
    r.state().db(0).set_expire("dst", 4102444800000);
    EXPECT_EQ(r.run({cmd, "dst", "a", "b"}).integer, std::string(cmd) == "sunionstore" ? 3 : 1);
    EXPECT_EQ(encoding(r, "dst"), "intset") << cmd;
    EXPECT_EQ(r.state().db(0).expire_at("dst"), -1) << cmd;  // the TTL goes
    // An empty result deletes the destination and replies 0.
    EXPECT_EQ(S(r.run({cmd, "dst", "none", "none2"})), "(integer) 0") << cmd;
    EXPECT_FALSE(exists(r, "dst")) << cmd;
    EXPECT_EQ(S(r.run({cmd, "dst", "none"})), "(integer) 0") << cmd;
    EXPECT_FALSE(exists(r, "dst")) << cmd;
  }
  make_string(r, "dst");
  EXPECT_EQ(S(r.run({"sinterstore", "dst", "a", "none"})), "(integer) 0");
  EXPECT_FALSE(exists(r, "dst"));
  make_string(r, "dst");
  EXPECT_EQ(S(r.run({"sdiffstore", "dst", "a", "a"})), "(integer) 0");
  EXPECT_FALSE(exists(r, "dst"));
  // A string source is WRONGTYPE and the destination is untouched.
  r.run({"sadd", "dst", "z"});
  make_string(r, "s");
  EXPECT_EQ(S(r.run({"sunionstore", "dst", "a", "s"})), kWrongType);
  EXPECT_EQ(members(r.run({"smembers", "dst"})), std::vector<std::string>{"z"});
}

TEST(SetCommands, StoreDestinationEncodingAsRedis70) {
  Runner r;
  redis70(r);
  r.run({"config", "set", "set-max-intset-entries", "4"});
  fill(r, "h", 5);  // hashtable of integers
  r.run({"srem", "h", "4"});
  EXPECT_EQ(encoding(r, "h"), "hashtable");
  // Redis adds the members to a new intset: 4 integers fit.
  EXPECT_EQ(S(r.run({"sunionstore", "d", "h"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "h", "none"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  EXPECT_EQ(S(r.run({"sinterstore", "d", "h", "h"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  fill(r, "i", 3, "", 10);
  EXPECT_EQ(S(r.run({"sunionstore", "d", "h", "i"})), "(integer) 7");
  EXPECT_EQ(encoding(r, "d"), "hashtable");
  r.run({"sadd", "s", "x"});
  EXPECT_EQ(S(r.run({"sunionstore", "d", "i", "s"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "hashtable");
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "s", "i"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d"), "hashtable");
}

// --- Redis 7.2's listpack rules (the default) -----------------------------

TEST(SetCommands, EncodingFollowsRedis72Rules) {
  Runner r;
  // A non-integer in a small intset makes a listpack (ascending integers,
  // then the new member), not a hashtable.
  r.run({"sadd", "i", "1", "-5", "9223372036854775807", "-9223372036854775808"});
  EXPECT_EQ(encoding(r, "i"), "intset");
  r.run({"sadd", "i", "007"});
  EXPECT_EQ(encoding(r, "i"), "listpack");
  EXPECT_EQ(S(r.run({"sismember", "i", "7"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"sismember", "i", "007"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"sismember", "i", "-5"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"smembers", "i"})),
            "[\"-9223372036854775808\", \"-5\", \"1\", \"9223372036854775807\", \"007\"]");
  r.run({"sadd", "h", "a"});
  EXPECT_EQ(encoding(r, "h"), "listpack");
  r.run({"sadd", "h2", "x", "1"});
  EXPECT_EQ(encoding(r, "h2"), "listpack");
  // Integers added to a listpack stay there (as text); SREM never converts.
  r.run({"sadd", "h2", "2", "3"});
  r.run({"srem", "h2", "x"});
  EXPECT_EQ(encoding(r, "h2"), "listpack");
  // A listpack converts past set-max-listpack-entries...
  EXPECT_EQ(S(r.run({"config", "set", "set-max-listpack-entries", "4"})), "OK");
  r.run({"sadd", "lp", "a", "b", "c", "d"});
  EXPECT_EQ(encoding(r, "lp"), "listpack");
  EXPECT_EQ(S(r.run({"sadd", "lp", "d"})), "(integer) 0");
  EXPECT_EQ(encoding(r, "lp"), "listpack");
  r.run({"sadd", "lp", "e"});
  EXPECT_EQ(encoding(r, "lp"), "hashtable");
  r.run({"srem", "lp", "a", "b", "c", "d"});  // never back
  EXPECT_EQ(encoding(r, "lp"), "hashtable");
  // ... or with a member longer than set-max-listpack-value.
  const std::string v64(64, 'v'), v65(65, 'v');
  r.run({"sadd", "lv", "a", v64});
  EXPECT_EQ(encoding(r, "lv"), "listpack");
  r.run({"sadd", "lv", v65});
  EXPECT_EQ(encoding(r, "lv"), "hashtable");
  r.run({"sadd", "lv2", v65});  // created as a listpack, converted by the add
  EXPECT_EQ(encoding(r, "lv2"), "hashtable");
  // An intset of set-max-listpack-entries members cannot become a listpack.
  r.run({"sadd", "i4", "1", "2", "3", "4"});
  r.run({"sadd", "i4", "x"});
  EXPECT_EQ(encoding(r, "i4"), "hashtable");
  r.run({"sadd", "i3", "1", "2", "3"});
  r.run({"sadd", "i3", "x"});
  EXPECT_EQ(encoding(r, "i3"), "listpack");
  // Nor one whose smallest or largest integer is too long as text.
  EXPECT_EQ(S(r.run({"config", "set", "set-max-listpack-value", "5"})), "OK");
  r.run({"sadd", "w", "1", "-1234"});  // "-1234": 5 characters
  r.run({"sadd", "w", "x"});
  EXPECT_EQ(encoding(r, "w"), "listpack");
  r.run({"sadd", "w6", "1", "123456"});
  r.run({"sadd", "w6", "x"});
  EXPECT_EQ(encoding(r, "w6"), "hashtable");
  r.run({"sadd", "w7", "1"});
  r.run({"sadd", "w7", "abcdef"});  // the new member itself too long
  EXPECT_EQ(encoding(r, "w7"), "hashtable");
  // Past set-max-intset-entries an intset becomes a hashtable directly.
  EXPECT_EQ(S(r.run({"config", "set", "set-max-intset-entries", "4"})), "OK");
  EXPECT_EQ(S(r.run({"config", "set", "set-max-listpack-entries", "128"})), "OK");
  fill(r, "big", 4);
  EXPECT_EQ(encoding(r, "big"), "intset");
  r.run({"sadd", "big", "4"});
  EXPECT_EQ(encoding(r, "big"), "hashtable");
}

TEST(SetCommands, SaddSizeHintsRedis72) {
  Runner r;
  r.run({"config", "set", "set-max-intset-entries", "4"});
  r.run({"config", "set", "set-max-listpack-entries", "4"});
  // setTypeCreate(first member, number of members given).
  r.run({"sadd", "a", "1", "2", "3", "4"});
  EXPECT_EQ(encoding(r, "a"), "intset");
  r.run({"sadd", "b", "1", "1", "1", "1", "1"});  // 5 given: not an intset
  EXPECT_EQ(encoding(r, "b"), "hashtable");
  EXPECT_EQ(S(r.run({"scard", "b"})), "(integer) 1");
  r.run({"sadd", "c", "x", "x", "x", "x"});
  EXPECT_EQ(encoding(r, "c"), "listpack");
  r.run({"sadd", "d", "x", "x", "x", "x", "x"});
  EXPECT_EQ(encoding(r, "d"), "hashtable");
  r.run({"config", "set", "set-max-intset-entries", "10"});
  r.run({"sadd", "e", "1", "2", "3", "4", "5", "6"});  // too many for a listpack: fine
  EXPECT_EQ(encoding(r, "e"), "intset");
  // setTypeMaybeConvert: an existing set given more members than its
  // encoding may hold converts first, even if they are all present.
  r.run({"sadd", "c", "x", "x", "x", "x", "x"});
  EXPECT_EQ(encoding(r, "c"), "hashtable");
  r.run({"sadd", "f", "1"});
  std::vector<std::string> ones{"sadd", "f"};
  for (int i = 0; i < 11; ++i) ones.push_back("1");
  EXPECT_EQ(S(r.run(ones)), "(integer) 0");
  EXPECT_EQ(encoding(r, "f"), "hashtable");
  // Redis 7.0 has no such hints: the same commands keep the small encodings.
  redis70(r);
  r.run({"sadd", "b70", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1"});
  EXPECT_EQ(encoding(r, "b70"), "intset");
  r.run({"sadd", "f70", "1"});
  ones[1] = "f70";
  r.run(ones);
  EXPECT_EQ(encoding(r, "f70"), "intset");
}

TEST(SetCommands, SpopCountStrategyEncodingRedis72) {
  Runner r;
  // Case 3 from a hashtable: the survivors go to a new listpack (even when
  // they are all integers, unlike Redis 7.0's intset).
  fill(r, "k", 1000);
  EXPECT_EQ(encoding(r, "k"), "hashtable");
  r.state().db(0).set_expire("k", 4102444800000);
  EXPECT_EQ(r.run({"spop", "k", "900"}).elements.size(), 900u);
  EXPECT_EQ(S(r.run({"scard", "k"})), "(integer) 100");
  EXPECT_EQ(encoding(r, "k"), "listpack");
  EXPECT_EQ(r.state().db(0).expire_at("k"), 4102444800000);  // the TTL stays
  // ... which converts when they do not fit one.
  fill(r, "h", 1000, "m");
  r.run({"spop", "h", "850"});
  EXPECT_EQ(S(r.run({"scard", "h"})), "(integer) 150");
  EXPECT_EQ(encoding(r, "h"), "hashtable");
  // From an intset: an intset.
  fill(r, "i", 300);
  r.run({"spop", "i", "290"});
  EXPECT_EQ(encoding(r, "i"), "intset");
  // From a listpack: case 2 and case 3 both keep a listpack.
  fill(r, "l", 100, "m");
  EXPECT_EQ(encoding(r, "l"), "listpack");
  r.run({"spop", "l", "3"});
  EXPECT_EQ(encoding(r, "l"), "listpack");
  EXPECT_EQ(S(r.run({"scard", "l"})), "(integer) 97");
  const auto popped = r.run({"spop", "l", "90"});
  EXPECT_EQ(popped.elements.size(), 90u);
  EXPECT_EQ(encoding(r, "l"), "listpack");
  EXPECT_EQ(S(r.run({"scard", "l"})), "(integer) 7");
  for (const auto& e : popped.elements)
    EXPECT_EQ(S(r.run({"sismember", "l", e.str})), "(integer) 0") << e.str;
}

TEST(SetCommands, SmoveRedis72) {
  Runner r;
  r.run({"sadd", "src", "1", "2", "a", "x"});
  EXPECT_EQ(encoding(r, "src"), "listpack");
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "1"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d1"), "intset");  // setTypeCreate(member, 1)
  EXPECT_EQ(S(r.run({"smove", "src", "d2", "a"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d2"), "listpack");
  EXPECT_EQ(S(r.run({"smove", "src", "d1", "x"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d1"), "listpack");  // intset -> listpack
  EXPECT_EQ(members(r.run({"smembers", "d1"})), sorted({"1", "x"}));
  EXPECT_EQ(members(r.run({"smembers", "src"})), sorted({"2"}));
  r.run({"config", "set", "set-max-intset-entries", "0"});
  EXPECT_EQ(S(r.run({"smove", "src", "d3", "2"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d3"), "listpack");  // an integer, but no intset allowed
}

TEST(SetCommands, StoreDestinationEncodingRedis72) {
  Runner r;
  r.run({"config", "set", "set-max-intset-entries", "4"});
  fill(r, "h", 5);  // 5 members given: created as a listpack
  EXPECT_EQ(encoding(r, "h"), "listpack");
  r.run({"del", "h"});
  fill(r, "h", 4);  // an intset that overflows: a hashtable of integers
  r.run({"sadd", "h", "4"});
  r.run({"srem", "h", "4"});
  EXPECT_EQ(encoding(r, "h"), "hashtable");
  // Added to a new intset: 4 integers fit.
  EXPECT_EQ(S(r.run({"sunionstore", "d", "h"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "h", "none"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  // SINTERSTORE starts a listpack for a hashtable input; integers only:
  // maybeConvertToIntset.
  EXPECT_EQ(S(r.run({"sinterstore", "d", "h", "h"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "intset");
  fill(r, "i", 3, "", 10);
  EXPECT_EQ(S(r.run({"sunionstore", "d", "h", "i"})), "(integer) 7");
  EXPECT_EQ(encoding(r, "d"), "hashtable");  // 7 integers > 4
  r.run({"sadd", "s", "x"});
  EXPECT_EQ(S(r.run({"sunionstore", "d", "i", "s"})), "(integer) 4");
  EXPECT_EQ(encoding(r, "d"), "listpack");  // intset of 3 + a string
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "s", "i"})), "(integer) 1");
  EXPECT_EQ(encoding(r, "d"), "listpack");
  // Listpack inputs.
  r.run({"sadd", "la", "a", "b", "1", "2"});
  r.run({"sadd", "lb", "a", "1", "2", "z"});
  EXPECT_EQ(S(r.run({"sinterstore", "d", "la", "lb"})), "(integer) 3");
  EXPECT_EQ(encoding(r, "d"), "listpack");
  r.run({"srem", "lb", "a"});
  EXPECT_EQ(S(r.run({"sinterstore", "d", "la", "lb"})), "(integer) 2");
  EXPECT_EQ(encoding(r, "d"), "intset");  // only integers left
  // Big inputs: a big result is a hashtable, a small one a listpack.
  fill(r, "ha", 300, "m");
  fill(r, "hb", 300, "m", 100);
  EXPECT_EQ(S(r.run({"sinterstore", "d", "ha", "hb"})), "(integer) 200");
  EXPECT_EQ(encoding(r, "d"), "hashtable");
  fill(r, "hc", 300, "m", 295);
  EXPECT_EQ(S(r.run({"sinterstore", "d", "ha", "hc"})), "(integer) 5");
  EXPECT_EQ(encoding(r, "d"), "listpack");
  EXPECT_EQ(S(r.run({"sunionstore", "d", "hc", "s"})), "(integer) 301");
  EXPECT_EQ(encoding(r, "d"), "hashtable");
  EXPECT_EQ(S(r.run({"sdiffstore", "d", "ha", "hb"})), "(integer) 100");
  EXPECT_EQ(encoding(r, "d"), "listpack");  // algorithm 1 adds the 100
}

TEST(SetCommands, SscanListpackReturnsEverythingInOrder) {
  Runner r;
  fill(r, "k", 100, "m");
  EXPECT_EQ(encoding(r, "k"), "listpack");
  const auto v = r.run({"sscan", "k", "12345", "COUNT", "1"});
  EXPECT_EQ(v.elements[0].str, "0");
  ASSERT_EQ(v.elements[1].elements.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v.elements[1].elements[i].str, "m" + std::to_string(i));
  const auto m = r.run({"sscan", "k", "0", "MATCH", "m1?"});
  EXPECT_EQ(S(m.elements[1]),
            "[\"m10\", \"m11\", \"m12\", \"m13\", \"m14\", \"m15\", \"m16\", \"m17\", "
            "\"m18\", \"m19\"]");
}

TEST(SetCommands, CardErrors) {
  Runner r;
  r.run({"sadd", "s", "a"});
  for (const char* cmd : {"sintercard", "sunioncard", "sdiffcard"}) {
    SCOPED_TRACE(cmd);
    for (const char* n : {"0", "-1", "abc", "9223372036854775808"})
      EXPECT_EQ(S(r.run({cmd, n, "s"})), "(error) ERR numkeys should be greater than 0");
    EXPECT_EQ(S(r.run({cmd, "3", "s"})),
              "(error) ERR Number of keys can't be greater than number of args");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "LIMIT", "-1"})), "(error) ERR LIMIT can't be negative");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "LIMIT", "x"})), "(error) ERR LIMIT can't be negative");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "LIMIT"})), "(error) ERR syntax error");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "foo"})), "(error) ERR syntax error");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "LIMIT", "5", "limit", "0"})), "(integer) 1");
    EXPECT_EQ(S(r.run({cmd, "1", "s", "LIMIT", "1"})), "(integer) 1");
  }
  EXPECT_EQ(S(r.run({"sintercard", "1", "s", "APPROX"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sdiffcard", "1", "s", "APPROX"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sunioncard", "1", "s", "approx", "APPROX"})), "(integer) 1");
  // Keys are keys, even when they look like options.
  r.run({"sadd", "LIMIT", "b"});
  EXPECT_EQ(S(r.run({"sunioncard", "2", "s", "LIMIT"})), "(integer) 2");
}

TEST(SetCommands, SunioncardApproxWithinTwoPercent) {
  Runner r;
  // Two 60k sets overlapping by 20k: union 100k.
  for (int start : {0, 40000}) {
    const std::string key = start ? "b" : "a";
    for (int base = start; base < start + 60000; base += 1000) {
      std::vector<std::string> args{"sadd", key};
      for (int i = base; i < base + 1000; ++i) args.push_back("member:" + std::to_string(i));
      r.run(args);
    }
  }
  EXPECT_EQ(S(r.run({"sunioncard", "2", "a", "b"})), "(integer) 100000");
  const long long approx = r.run({"sunioncard", "2", "a", "b", "APPROX"}).integer;
  EXPECT_NEAR(static_cast<double>(approx), 100000.0, 2000.0);
  EXPECT_EQ(S(r.run({"sdiffcard", "2", "a", "b"})), "(integer) 40000");
  EXPECT_EQ(S(r.run({"sintercard", "2", "a", "b"})), "(integer) 20000");
}

// --- SSCAN ------------------------------------------------------------------

// Follows the cursor to 0; returns every member reported.
std::vector<std::string> full_scan(Runner& r, const std::vector<std::string>& options,
                                   size_t* calls = nullptr) {
  std::vector<std::string> out;
  std::string cursor = "0";
  size_t n = 0;
  do {
    std::vector<std::string> args{"sscan", "k", cursor};
    args.insert(args.end(), options.begin(), options.end());
    const auto v = r.run(args);
    EXPECT_EQ(v.elements.size(), 2u) << S(v);
    if (v.elements.size() != 2) break;
    cursor = v.elements[0].str;
    for (const auto& e : v.elements[1].elements) out.push_back(e.str);
    ++n;
  } while (cursor != "0" && n < 100000);
  if (calls) *calls = n;
  return out;
}

TEST(SetCommands, SscanIntsetReturnsEverything) {
  Runner r;
  fill(r, "k", 300);
  const auto v = r.run({"sscan", "k", "12345", "COUNT", "1"});
  EXPECT_EQ(v.elements[0].str, "0");
  EXPECT_EQ(v.elements[1].elements.size(), 300u);
  EXPECT_EQ(v.elements[1].elements[0].str, "0");  // ascending, like Redis's intset
  EXPECT_EQ(v.elements[1].elements[299].str, "299");
  const auto m = r.run({"sscan", "k", "0", "MATCH", "1?"});
  EXPECT_EQ(S(m.elements[1]),
            "[\"10\", \"11\", \"12\", \"13\", \"14\", \"15\", \"16\", \"17\", "
            "\"18\", \"19\"]");
}

TEST(SetCommands, SscanHashtableVisitsEveryMember) {
  Runner r;
  fill(r, "k", 5000, "m");
  size_t calls = 0;
  auto got = full_scan(r, {}, &calls);
  std::set<std::string> unique(got.begin(), got.end());
  EXPECT_EQ(unique.size(), 5000u);
  EXPECT_EQ(got.size(), 5000u);  // a stable set: nothing twice
  EXPECT_GT(calls, 50u);         // about COUNT (10) at a time
  got = full_scan(r, {"COUNT", "1000"}, &calls);
  EXPECT_EQ(got.size(), 5000u);
  EXPECT_LT(calls, 20u);
  // MATCH filters after COUNT is applied.
  got = full_scan(r, {"MATCH", "m1*", "COUNT", "50"});
  EXPECT_EQ(got.size(), 1111u);
  for (const auto& g : got) EXPECT_EQ(g.rfind("m1", 0), 0u);
  // Members present throughout are reported even when the set changes
  // between calls.
  std::string cursor = "0";
  std::set<std::string> seen;
  int step = 0;
  do {
    const auto v = r.run({"sscan", "k", cursor});
    cursor = v.elements[0].str;
    for (const auto& e : v.elements[1].elements) seen.insert(e.str);
    fill(r, "k", 20, "new", step * 20);  // grow: forces rehashing
    ++step;
  } while (cursor != "0");
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(seen.count("m" + std::to_string(i))) << i;
}

TEST(SetCommands, SscanOptionsAndErrors) {
  Runner r;
  r.run({"sadd", "k", "", "a", "b"});
  // "*" is no filter at all: even the empty member comes back.
  EXPECT_EQ(r.run({"sscan", "k", "0", "MATCH", "*"}).elements[1].elements.size(), 3u);
  EXPECT_EQ(members(r.run({"sscan", "k", "0", "MATCH", "?"}).elements[1]), sorted({"a", "b"}));
  EXPECT_EQ(S(r.run({"sscan", "k", "abc"})), "(error) ERR invalid cursor");
  EXPECT_EQ(S(r.run({"sscan", "k", " 1"})), "(error) ERR invalid cursor");
  EXPECT_EQ(S(r.run({"sscan", "k", "18446744073709551616"})), "(error) ERR invalid cursor");
  EXPECT_EQ(S(r.run({"sscan", "k", "+"})), "(error) ERR invalid cursor");
  EXPECT_EQ(S(r.run({"sscan", "no", "abc"})), "(error) ERR invalid cursor");
  for (const char* ok : {"", "+0", "-1", "18446744073709551615", "007"})
    EXPECT_EQ(r.run({"sscan", "k", ok}).elements.size(), 2u) << ok;
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "COUNT", "0"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "COUNT", "-3"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "COUNT", "x"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "MATCH"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "TYPE", "set"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"sscan", "k", "0", "count", "9223372036854775807"})).substr(0, 6), "[\"0\", ");
  // A missing key answers before the options are looked at, as Redis does.
  EXPECT_EQ(S(r.run({"sscan", "no", "0", "COUNT", "0"})), "[\"0\", []]");
  EXPECT_EQ(S(r.run({"sscan", "no", "0", "bogus"})), "[\"0\", []]");
}

// --- keyspace notifications and WATCH --------------------------------------

// Collects "event key" for every keyevent notification.
class KeyEvents {
 public:
  explicit KeyEvents(Runner& r) : r_(r), sub_(r.new_client()) {
    r.run({"config", "set", "notify-keyspace-events", "KEA"});
    r.state().hub().psubscribe(&sub_, "__keyevent@*");
  }
  std::string take() {
    std::string out;
    for (const auto& v : r_.drain(sub_)) {
      if (!out.empty()) out += ' ';
      out += v.elements[2].str.substr(v.elements[2].str.find(':') + 1) + ":" + v.elements[3].str;
    }
    return out;
  }

 private:
  Runner& r_;
  server::Client& sub_;
};

using EventSteps = std::vector<std::pair<std::vector<std::string>, std::string>>;

// Runs each command and checks the events it produced (KeyEvents::take form).
void expect_events(Runner& r, KeyEvents& ev, const EventSteps& steps) {
  for (const auto& [args, expected] : steps) {
    r.run(args);
    EXPECT_EQ(ev.take(), expected) << args[0] << " " << args[1];
  }
}

TEST(SetCommands, KeyspaceNotificationsAsRedis) {
  // Expected sequences recorded from redis-server 7.0.15 (KEA).
  Runner r;
  KeyEvents ev(r);
  const EventSteps steps = {
      {{"sadd", "s", "1", "2", "3"}, "sadd:s"},
      {{"sadd", "s", "1"}, ""},
      {{"srem", "s", "9"}, ""},
      {{"srem", "s", "1", "2", "3"}, "srem:s del:s"},
      {{"sadd", "s", "1", "2", "3"}, "sadd:s"},
      {{"spop", "s"}, "spop:s"},
      {{"spop", "s", "0"}, ""},
      {{"spop", "s", "5"}, "spop:s del:s"},
      {{"sadd", "s", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, "sadd:s"},
      {{"spop", "s", "1"}, "spop:s"},
      {{"spop", "s", "8"}, "spop:s"},
      {{"spop", "nokey"}, ""},
      {{"spop", "nokey", "3"}, ""},
      {{"sadd", "s", "1"}, "sadd:s"},
      {{"smove", "s", "d", "1"}, "srem:s sadd:d"},
      {{"smove", "s", "d", "1"}, ""},
      {{"sadd", "d", "x"}, "sadd:d"},
      {{"smove", "d", "d", "x"}, ""},
      {{"smove", "d", "s", "x"}, "srem:d sadd:s"},
      {{"sadd", "t", "5"}, "sadd:t"},
      {{"smove", "d", "t", "1"}, "srem:d del:d sadd:t"},
      {{"sadd", "s", "1"}, "sadd:s"},
      {{"smove", "s", "t", "1"}, "srem:s"},  // already there: no sadd
      {{"sadd", "a", "1", "2"}, "sadd:a"},
      {{"sadd", "b", "2", "3"}, "sadd:b"},
      {{"sinterstore", "dst", "a", "b"}, "sinterstore:dst"},
      {{"sinterstore", "dst", "a", "nokey"}, "del:dst"},
      {{"sinterstore", "dst", "a", "nokey"}, ""},
      {{"sunionstore", "dst", "a", "b"}, "sunionstore:dst"},
      {{"sdiffstore", "dst", "a", "a"}, "del:dst"},
      {{"sdiffstore", "dst", "a", "b"}, "sdiffstore:dst"},
      {{"sunionstore", "dst", "nokey"}, "del:dst"},
      {{"sinter", "nokey"}, ""},
      {{"srandmember", "nokey"}, ""},
      {{"smembers", "a"}, ""},
      {{"srem", "a", "1", "2"}, "srem:a del:a"},
  };
  expect_events(r, ev, steps);
}

TEST(SetCommands, NewKeyEventsAsRedis) {
  // Class n: a key created by SADD, SMOVE or a *STORE is announced with
  // "new" before the command's own event (recorded from redis-server 7.0.15
  // with KEAn); an existing destination gets none.
  Runner r;
  KeyEvents ev(r);
  r.run({"config", "set", "notify-keyspace-events", "KEAn"});
  const EventSteps steps = {
      {{"sadd", "s", "a", "b"}, "new:s sadd:s"},
      {{"sadd", "s", "c"}, "sadd:s"},
      {{"sadd", "i", "1", "2"}, "new:i sadd:i"},
      {{"smove", "s", "d", "a"}, "srem:s new:d sadd:d"},
      {{"smove", "s", "d", "b"}, "srem:s sadd:d"},
      {{"smove", "s", "e", "c"}, "srem:s del:s new:e sadd:e"},
      {{"sunionstore", "u", "d", "e"}, "new:u sunionstore:u"},
      {{"sunionstore", "u", "d"}, "sunionstore:u"},
      {{"sinterstore", "u", "d", "nokey"}, "del:u"},
      {{"sdiffstore", "x", "d", "nokey"}, "new:x sdiffstore:x"},
      {{"set", "str", "v"}, "new:str set:str"},
      {{"sinterstore", "str", "d"}, "sinterstore:str"},
  };
  expect_events(r, ev, steps);
}

TEST(SetCommands, StoreSourcesAreReadLookups) {
  // Redis 7.0 reads the sources of SINTERSTORE/SUNIONSTORE/SDIFFSTORE with
  // lookupKeyRead: a missing one emits "keymiss" and every one is counted
  // (redis-server 7.0.15: these steps give 5 hits and 5 misses).
  Runner r;
  KeyEvents ev(r);
  r.run({"sadd", "u", "1"});
  r.run({"set", "str", "x"});
  r.run({"config", "set", "notify-keyspace-events", "Em"});
  ev.take();  // the set-up's own events
  const auto hits = r.state().stats().keyspace_hits;
  const auto misses = r.state().stats().keyspace_misses;
  r.run({"sinterstore", "d", "u", "nokey"});
  EXPECT_EQ(ev.take(), "keymiss:nokey");
  r.run({"sunionstore", "d", "u", "u", "nokey", "nokey"});
  EXPECT_EQ(ev.take(), "keymiss:nokey keymiss:nokey");
  r.run({"sdiffstore", "d", "nokey", "u"});
  EXPECT_EQ(ev.take(), "keymiss:nokey");
  EXPECT_EQ(S(r.run({"sunionstore", "d2", "str"})),
            "(error) WRONGTYPE Operation against a key holding the wrong kind of value");
  r.run({"sinterstore", "u", "nokey2"});
  EXPECT_EQ(ev.take(), "keymiss:nokey2");
  EXPECT_EQ(r.state().stats().keyspace_hits - hits, 5u);
  EXPECT_EQ(r.state().stats().keyspace_misses - misses, 5u);
}

TEST(SetCommands, WritesSignalWatchers) {
  Runner r;
  auto& watcher = r.new_client();
  auto watching = [&](const std::vector<std::string>& args, const char* key) {
    watcher.dirty_cas = false;
    r.state().watch_key(watcher, 0, key);
    r.run(args);
    const bool dirty = watcher.dirty_cas;
    r.state().unwatch_all(watcher);
    return dirty;
  };
  r.run({"sadd", "k", "a"});
  EXPECT_TRUE(watching({"sadd", "k", "b"}, "k"));
  EXPECT_FALSE(watching({"sadd", "k", "b"}, "k"));
  EXPECT_FALSE(watching({"srem", "k", "zz"}, "k"));
  EXPECT_TRUE(watching({"srem", "k", "b"}, "k"));
  EXPECT_FALSE(watching({"smembers", "k"}, "k"));
  EXPECT_TRUE(watching({"smove", "k", "d", "a"}, "k"));
  EXPECT_TRUE(watching({"smove", "d", "k", "a"}, "k"));
  EXPECT_TRUE(watching({"spop", "k"}, "k"));
  r.run({"sadd", "k", "a", "b"});
  EXPECT_TRUE(watching({"spop", "k", "1"}, "k"));
  EXPECT_FALSE(watching({"spop", "k", "0"}, "k"));
  EXPECT_TRUE(watching({"sunionstore", "dst", "k"}, "dst"));
  EXPECT_TRUE(watching({"sinterstore", "dst", "none"}, "dst"));   // deleted
  EXPECT_FALSE(watching({"sinterstore", "dst", "none"}, "dst"));  // nothing to delete
  EXPECT_TRUE(watching({"sdiffstore", "dst", "k"}, "dst"));
}

// --- set.* events -----------------------------------------------------------

class SetEvents : public ::testing::Test {
 protected:
  SetEvents() : sub_(r.new_client()) { r.state().hub().psubscribe(&sub_, "set.*"); }
  // "channel payload" of every event published since the last call.
  std::vector<std::string> take() {
    std::vector<std::string> out;
    for (const auto& v : r.drain(sub_)) out.push_back(v.elements[2].str + " " + v.elements[3].str);
    return out;
  }
  std::string one() {
    auto v = take();
    EXPECT_EQ(v.size(), 1u);
    return v.empty() ? "" : v[0];
  }
  Runner r;
  server::Client& sub_;
};

using Strings = std::vector<std::string>;

TEST_F(SetEvents, WritePayloads) {
  r.run({"sadd", "k", "a", "b", "a"});
  EXPECT_EQ(
      one(),
      R"(set.added {"event":"set.added","db":0,"key":"k","new_members_count":2,"total_cardinality":2})");
  r.run({"srem", "k", "a", "zz"});
  EXPECT_EQ(
      one(),
      R"(set.removed {"event":"set.removed","db":0,"key":"k","removed_count":1,"remaining_cardinality":1})");
  r.run({"sadd", "k", "c", "d"});
  take();
  r.run({"spop", "k"});
  EXPECT_EQ(
      one(),
      R"(set.popped {"event":"set.popped","db":0,"key":"k","count_popped":1,"remaining_cardinality":2})");
  r.run({"spop", "k", "5"});
  EXPECT_EQ(
      one(),
      R"(set.popped {"event":"set.popped","db":0,"key":"k","count_popped":2,"remaining_cardinality":0})");
  r.run({"sadd", "src", "m"});
  take();
  r.run({"smove", "src", "dst", "m"});
  EXPECT_EQ(
      one(),
      R"(set.moved {"event":"set.moved","db":0,"source":"src","destination":"dst","member":"m"})");
  r.run({"sadd", "a", "1", "2", "3"});
  r.run({"sadd", "b", "2", "3", "4"});
  take();
  r.run({"sinterstore", "d", "a", "b"});
  EXPECT_EQ(
      one(),
      R"(set.intersection_stored {"event":"set.intersection_stored","db":0,"destination":"d","result_cardinality":2})");
  r.run({"sunionstore", "d", "a", "b"});
  EXPECT_EQ(
      one(),
      R"(set.union_stored {"event":"set.union_stored","db":0,"destination":"d","result_cardinality":4})");
  r.run({"sdiffstore", "d", "a", "b"});
  EXPECT_EQ(
      one(),
      R"(set.difference_stored {"event":"set.difference_stored","db":0,"destination":"d","result_cardinality":1})");
  // *STORE always publishes, also for an empty result.
  r.run({"sinterstore", "d", "a", "none"});
  EXPECT_EQ(
      one(),
      R"(set.intersection_stored {"event":"set.intersection_stored","db":0,"destination":"d","result_cardinality":0})");
  r.run({"sunionstore", "d", "none"});
  EXPECT_EQ(
      one(),
      R"(set.union_stored {"event":"set.union_stored","db":0,"destination":"d","result_cardinality":0})");
  r.run({"sdiffstore", "d", "a", "a"});
  EXPECT_EQ(
      one(),
      R"(set.difference_stored {"event":"set.difference_stored","db":0,"destination":"d","result_cardinality":0})");
}

TEST_F(SetEvents, ReadPayloads) {
  r.run({"select", "3"});
  r.run({"sadd", "a", "1", "2", "3"});
  r.run({"sadd", "b", "2", "3", "4"});
  take();
  r.run({"smembers", "a"});
  EXPECT_EQ(one(),
            R"(set.members_read {"event":"set.members_read","db":3,"key":"a","cardinality":3})");
  r.run({"sismember", "a", "2"});
  EXPECT_EQ(
      one(),
      R"(set.ismember_check {"event":"set.ismember_check","db":3,"key":"a","member":"2","is_member":1})");
  r.run({"sismember", "a", "9"});
  EXPECT_EQ(
      one(),
      R"(set.ismember_check {"event":"set.ismember_check","db":3,"key":"a","member":"9","is_member":0})");
  r.run({"smismember", "a", "1", "9", "3"});
  EXPECT_EQ(
      one(),
      R"(set.mismember_check {"event":"set.mismember_check","db":3,"key":"a","members_count":3,"matches_count":2})");
  r.run({"scard", "a"});
  EXPECT_EQ(one(),
            R"(set.cardinality {"event":"set.cardinality","db":3,"key":"a","cardinality":3})");
  r.run({"srandmember", "a"});
  EXPECT_EQ(one(),
            R"(set.random_draw {"event":"set.random_draw","db":3,"key":"a","count_returned":1})");
  r.run({"srandmember", "a", "10"});
  EXPECT_EQ(one(),
            R"(set.random_draw {"event":"set.random_draw","db":3,"key":"a","count_returned":3})");
  r.run({"srandmember", "a", "-10"});
  EXPECT_EQ(one(),
            R"(set.random_draw {"event":"set.random_draw","db":3,"key":"a","count_returned":10})");
  r.run({"sinter", "a", "b"});
  EXPECT_EQ(
      one(),
      R"(set.intersection {"event":"set.intersection","db":3,"keys_input":["a","b"],"result_cardinality":2})");
  r.run({"sintercard", "2", "a", "b", "LIMIT", "1"});
  EXPECT_EQ(
      one(),
      R"(set.intercard {"event":"set.intercard","db":3,"keys_input":["a","b"],"cardinality_result":1})");
  r.run({"sunion", "a", "b", "none"});
  EXPECT_EQ(
      one(),
      R"(set.union {"event":"set.union","db":3,"keys_input":["a","b","none"],"result_cardinality":4})");
  r.run({"sdiff", "a", "b", "none"});
  EXPECT_EQ(
      one(),
      R"(set.difference {"event":"set.difference","db":3,"first_key":"a","other_keys":["b","none"],"result_cardinality":1})");
  r.run({"sdiff", "a"});
  EXPECT_EQ(
      one(),
      R"(set.difference {"event":"set.difference","db":3,"first_key":"a","other_keys":[],"result_cardinality":3})");
  r.run({"sscan", "a", "0"});
  EXPECT_EQ(
      one(),
      R"(set.scan {"event":"set.scan","db":3,"key":"a","cursor":"0","pattern":null,"count_returned":3})");
  r.run({"sscan", "a", "007", "MATCH", "[12]", "COUNT", "5"});
  EXPECT_EQ(
      one(),
      R"(set.scan {"event":"set.scan","db":3,"key":"a","cursor":"007","pattern":"[12]","count_returned":2})");
  r.run({"sunioncard", "2", "a", "b"});
  EXPECT_EQ(
      one(),
      R"(set.unioncard {"event":"set.unioncard","db":3,"keys_input":["a","b"],"cardinality_result":4})");
  r.run({"sunioncard", "2", "a", "b", "APPROX", "LIMIT", "3"});
  EXPECT_EQ(
      one(),
      R"(set.unioncard {"event":"set.unioncard","db":3,"keys_input":["a","b"],"cardinality_result":3})");
  r.run({"sdiffcard", "2", "b", "a"});
  EXPECT_EQ(
      one(),
      R"(set.diffcard {"event":"set.diffcard","db":3,"keys_input":["b","a"],"cardinality_result":1})");
}

TEST_F(SetEvents, ReadsOfMissingKeysPublish) {
  for (const auto& args : std::vector<Strings>{{"smembers", "no"},
                                               {"sismember", "no", "x"},
                                               {"smismember", "no", "x"},
                                               {"scard", "no"},
                                               {"srandmember", "no"},
                                               {"srandmember", "no", "-3"},
                                               {"sinter", "no", "no2"},
                                               {"sintercard", "1", "no"},
                                               {"sunion", "no"},
                                               {"sdiff", "no", "x"},
                                               {"sscan", "no", "0"},
                                               {"sunioncard", "1", "no"},
                                               {"sdiffcard", "1", "no"}})
    r.run(args);
  EXPECT_EQ(
      take(),
      (Strings{
          R"(set.members_read {"event":"set.members_read","db":0,"key":"no","cardinality":0})",
          R"(set.ismember_check {"event":"set.ismember_check","db":0,"key":"no","member":"x","is_member":0})",
          R"(set.mismember_check {"event":"set.mismember_check","db":0,"key":"no","members_count":1,"matches_count":0})",
          R"(set.cardinality {"event":"set.cardinality","db":0,"key":"no","cardinality":0})",
          R"(set.random_draw {"event":"set.random_draw","db":0,"key":"no","count_returned":0})",
          R"(set.random_draw {"event":"set.random_draw","db":0,"key":"no","count_returned":0})",
          R"(set.intersection {"event":"set.intersection","db":0,"keys_input":["no","no2"],"result_cardinality":0})",
          R"(set.intercard {"event":"set.intercard","db":0,"keys_input":["no"],"cardinality_result":0})",
          R"(set.union {"event":"set.union","db":0,"keys_input":["no"],"result_cardinality":0})",
          R"(set.difference {"event":"set.difference","db":0,"first_key":"no","other_keys":["x"],"result_cardinality":0})",
          R"(set.scan {"event":"set.scan","db":0,"key":"no","cursor":"0","pattern":null,"count_returned":0})",
          R"(set.unioncard {"event":"set.unioncard","db":0,"keys_input":["no"],"cardinality_result":0})",
          R"(set.diffcard {"event":"set.diffcard","db":0,"keys_input":["no"],"cardinality_result":0})",
      }));
}

TEST_F(SetEvents, NoChangeNoErrorNoEvent) {
  r.run({"sadd", "k", "a"});
  r.run({"sadd", "s2", "b"});
  take();
  make_string(r, "str");
  for (const auto& args : std::vector<Strings>{{"sadd", "k", "a"},
                                               {"srem", "k", "zz"},
                                               {"srem", "none", "a"},
                                               {"smove", "k", "s2", "zz"},
                                               {"smove", "none", "s2", "a"},
                                               {"smove", "k", "k", "a"},
                                               {"spop", "none"},
                                               {"spop", "none", "2"},
                                               {"spop", "k", "0"},
                                               {"smembers", "str"},
                                               {"sadd", "str", "x"},
                                               {"sinterstore", "d", "k", "str"},
                                               {"srandmember", "k", "abc"},
                                               {"sscan", "k", "bad"},
                                               {"sscan", "k", "0", "COUNT", "0"},
                                               {"sintercard", "0", "k"},
                                               {"sunioncard", "1", "k", "LIMIT", "-1"}})
    r.run(args);
  EXPECT_EQ(take(), Strings{});
}

TEST_F(SetEvents, EventPrecedesReplyOnTheSameConnection) {
  // A RESP3 client subscribed to its own events sees the push first.
  r.run({"hello", "3"});
  r.state().hub().psubscribe(&r.client(), "set.*");
  r.run({"sadd", "a", "1", "2"});
  const auto reply = r.run({"sinter", "a"});
  EXPECT_EQ(reply.kind, K::kSet);
  const auto pushes = r.drain(r.client());
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[1].elements[2].str, "set.intersection");
  EXPECT_EQ(reply.elements.size(), 2u);
}

TEST_F(SetEvents, JsonEscapingOfKeysAndMembers) {
  const std::string key("q\"b\\s\n\x01\xff\xc3\xa9", 10);
  r.run({"sadd", key, std::string("\t\0z", 3)});
  take();
  r.run({"sismember", key, std::string("\t\0z", 3)});
  EXPECT_EQ(
      one(),
      R"(set.ismember_check {"event":"set.ismember_check","db":0,"key":"q\"b\\s\n\u0001\u00ffé","member":"\t\u0000z","is_member":1})");
  r.run({"sadd", "7", "8"});
  take();
  r.run({"scard", "7"});  // keys and members are always JSON strings
  EXPECT_EQ(one(),
            R"(set.cardinality {"event":"set.cardinality","db":0,"key":"7","cardinality":1})");
}

TEST_F(SetEvents, SetEventsConfig) {
  EXPECT_EQ(S(r.run({"config", "set", "set-events", "writes"})), "OK");
  r.run({"sadd", "k", "a"});
  r.run({"scard", "k"});
  r.run({"smembers", "k"});
  r.run({"sunionstore", "d", "k"});
  auto got = take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].substr(0, 10), "set.added ");
  EXPECT_EQ(got[1].substr(0, 16), "set.union_stored");
  EXPECT_EQ(S(r.run({"config", "set", "set-events", "none"})), "OK");
  r.run({"sadd", "k", "b"});
  r.run({"scard", "k"});
  EXPECT_EQ(take(), Strings{});
  EXPECT_EQ(S(r.run({"config", "set", "set-events", "all"})), "OK");
  r.run({"scard", "k"});
  EXPECT_EQ(take().size(), 1u);
}

// --- command table ------------------------------------------------------------

TEST(SetCommands, CommandInfoMatchesRedis) {
  Runner r;
  // Rendered from redis-server 7.0.15's COMMAND INFO.
  EXPECT_EQ(S(r.run({"command", "info", "smove"})),
            "[[\"smove\", (integer) 4, [write, fast], (integer) 1, (integer) 2, (integer) 1, "
            "[@write, @set, @fast], [], [[\"flags\", [RW, access, delete], \"begin_search\", "
            "[\"type\", \"index\", \"spec\", [\"index\", (integer) 1]], \"find_keys\", "
            "[\"type\", \"range\", \"spec\", [\"lastkey\", (integer) 0, \"keystep\", "
            "(integer) 1, \"limit\", (integer) 0]]], [\"flags\", [RW, insert], \"begin_search\", "
            "[\"type\", \"index\", \"spec\", [\"index\", (integer) 2]], \"find_keys\", "
            "[\"type\", \"range\", \"spec\", [\"lastkey\", (integer) 0, \"keystep\", "
            "(integer) 1, \"limit\", (integer) 0]]]], []]]");
  const auto card = r.run({"command", "info", "sintercard"});
  EXPECT_EQ(S(card.elements[0].elements[2]), "[readonly, movablekeys]");
  EXPECT_EQ(S(r.run({"command", "getkeys", "sintercard", "2", "a", "b", "LIMIT", "1"})),
            "[\"a\", \"b\"]");
  EXPECT_EQ(S(r.run({"command", "getkeys", "sunioncard", "2", "a", "b", "APPROX"})),
            "[\"a\", \"b\"]");
  EXPECT_EQ(S(r.run({"command", "getkeys", "sinterstore", "d", "a", "b"})),
            "[\"d\", \"a\", \"b\"]");
}

}  // namespace
}  // namespace setd::testing

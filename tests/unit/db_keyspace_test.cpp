// The compact keyspace (db/keyspace.hpp, db/value.hpp): entry layouts
// (embedded, raw and set values, TTL slots, long keys), reallocation when a
// TTL comes or goes or a value is replaced, the TTL index, and a random
// model check of all of it.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "setd/base/random.hpp"
#include "setd/db/database.hpp"
#include "setd/db/keyspace.hpp"

namespace {

using setd::db::Keyspace;
using setd::db::Object;
using setd::db::StringEncoding;
using setd::db::Type;
using setd::db::Value;

Object set_of(std::initializer_list<std::string_view> ms) {
  setd::ds::SetObject s;
  for (auto m : ms) s.add(m, setd::ds::SetLimits::redis70());
  return Object::set(std::move(s));
}

TEST(DbKeyspace, EmbeddedRawAndSetValues) {
  Keyspace ks;
  ks.insert("int", Object::string("12345"), -1, false);
  ks.insert("emb", Object::string("hello"), -1, false);
  ks.insert("raw", Object::string(std::string(100, 'x')), -1, false);
  ks.insert("forced", Object::string("ab", StringEncoding::kRaw), -1, false);
  ks.insert("set", set_of({"a", "b", "c"}), -1, false);
  ks.insert("", Object::string(""), -1, false);  // empty key, empty value
  EXPECT_EQ(ks.size(), 6u);
  EXPECT_EQ(ks.find("int")->str(), "12345");
  EXPECT_STREQ(ks.find("int")->encoding_name(), "int");
  EXPECT_EQ(ks.find("emb")->str(), "hello");
  EXPECT_STREQ(ks.find("emb")->encoding_name(), "embstr");
  EXPECT_EQ(ks.find("raw")->str(), std::string(100, 'x'));
  EXPECT_STREQ(ks.find("raw")->encoding_name(), "raw");
  EXPECT_STREQ(ks.find("forced")->encoding_name(), "raw");
  EXPECT_EQ(ks.find("forced")->str(), "ab");
  EXPECT_EQ(ks.find("set")->type(), Type::kSet);
  EXPECT_EQ(ks.find("set")->as_set().size(), 3u);
  EXPECT_TRUE(ks.find("set")->as_set().contains("b"));
  EXPECT_EQ(ks.find("")->str(), "");
  EXPECT_EQ(ks.find("set")->key(), "set");
  EXPECT_EQ(ks.find("nope"), nullptr);
}

TEST(DbKeyspace, LongKeysAndBinaryBytes) {
  Keyspace ks;
  const std::string k254(254, 'k'), k255(255, 'K'), k70000(70000, 'z');
  const std::string bin("a\0b\r\n\xff", 6);
  ks.insert(k254, Object::string("v1"), -1, false);
  ks.insert(k255, Object::string("v2"), 5, false);
  ks.insert(k70000, Object::string(bin), -1, false);
  ks.insert(bin, set_of({"x"}), 7, false);
  EXPECT_EQ(ks.find(k254)->key(), k254);
  EXPECT_EQ(ks.find(k255)->key(), k255);
  EXPECT_EQ(ks.find(k255)->expire_ms(), 5);
  EXPECT_EQ(ks.find(k70000)->str(), bin);
  EXPECT_EQ(ks.find(bin)->key(), bin);
  EXPECT_EQ(ks.find(bin)->expire_ms(), 7);
  // Gaining and losing a TTL keeps the key and value intact.
  ks.set_expire(*ks.find(k70000), 99);
  EXPECT_EQ(ks.find(k70000)->expire_ms(), 99);
  EXPECT_EQ(ks.find(k70000)->str(), bin);
  ks.set_expire(*ks.find(k255), -1);
  EXPECT_EQ(ks.find(k255)->expire_ms(), -1);
  EXPECT_EQ(ks.find(k255)->str(), "v2");
  EXPECT_EQ(ks.expires_size(), 2u);
}

TEST(DbKeyspace, AnInlineListpackSetMovesWithItsEntry) {
  Keyspace ks;
  setd::ds::SetObject so = setd::ds::SetObject::empty_listpack();
  so.add("m7", setd::ds::SetLimits{});
  ASSERT_TRUE(so.as_listpack()->is_inline());
  Value& v = ks.insert("k", Object::set(std::move(so)), -1, false);
  Value& w = ks.set_expire(v, 5000);  // the entry (and the word) move
  EXPECT_EQ(w.as_set().encoding_name(), "listpack");
  EXPECT_TRUE(w.as_set().contains("m7"));
  Value& x = ks.set_expire(w, -1);
  EXPECT_TRUE(x.as_set().contains("m7"));
  auto taken = ks.take("k");
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(taken->first.as_set().contains("m7"));
  EXPECT_EQ(taken->first.as_set().size(), 1u);
}

TEST(DbKeyspace, TtlMovesTheEntryButKeepsEverything) {
  Keyspace ks;
  Value& v = ks.insert("s", set_of({"1", "2"}), -1, true);
  v.set_lru(12345);
  v.set_freq(9);
  const void* members = v.as_set().as_intset()->allocation();
  Value& w = ks.set_expire(v, 1000);
  EXPECT_EQ(w.expire_ms(), 1000);
  // The SetObject (one word) moves with the entry; what it owns does not.
  EXPECT_EQ(w.as_set().as_intset()->allocation(), members);
  EXPECT_EQ(w.as_set().size(), 2u);
  EXPECT_EQ(w.lru(), 12345u);
  EXPECT_EQ(w.freq(), 9);
  EXPECT_TRUE(w.snap_mark());
  EXPECT_EQ(ks.find("s"), &w);
  Value& x = ks.set_expire(w, 2000);  // already has a slot: in place
  EXPECT_EQ(&x, &w);
  EXPECT_EQ(x.expire_ms(), 2000);
  EXPECT_EQ(ks.expires_size(), 1u);
  Value& y = ks.set_expire(x, -1);
  EXPECT_EQ(y.expire_ms(), -1);
  EXPECT_EQ(ks.expires_size(), 0u);
  EXPECT_EQ(y.as_set().size(), 2u);
}

TEST(DbKeyspace, ReplaceOverwritesInPlaceWhenTheShapeFits) {
  Keyspace ks;
  Value& a = ks.insert("k", Object::string("abc"), -1, false);
  Value& b = ks.replace(a, Object::string("xyz"), -1, false);
  EXPECT_EQ(&a, &b);  // same embedded length: no new entry
  EXPECT_EQ(b.str(), "xyz");
  Value& c = ks.replace(b, Object::string("123"), -1, false);
  EXPECT_EQ(&c, &b);
  EXPECT_STREQ(c.encoding_name(), "int");
  Value& d = ks.replace(c, Object::string("longer"), -1, false);
  EXPECT_EQ(d.str(), "longer");
  Value& e = ks.replace(d, Object::string("t", StringEncoding::kRaw), 50, false);
  EXPECT_EQ(e.expire_ms(), 50);
  EXPECT_EQ(ks.expires_size(), 1u);
  char* p = e.raw_resize(5);
  EXPECT_EQ(std::string(p, 5), std::string("t\0\0\0\0", 5));
  EXPECT_EQ(e.str().size(), 5u);
  Value& f = ks.replace(e, Object::string("uvwxy", StringEncoding::kRaw), 60, false);
  EXPECT_EQ(&f, &e);  // both raw, same TTL slot
  EXPECT_EQ(f.str(), "uvwxy");
  EXPECT_EQ(f.expire_ms(), 60);
  Value& g = ks.replace(f, set_of({"m"}), -1, false);
  EXPECT_EQ(g.type(), Type::kSet);
  EXPECT_EQ(ks.expires_size(), 0u);
  Value& h = ks.replace(g, Object::string("back"), 70, false);
  EXPECT_EQ(h.str(), "back");
  EXPECT_EQ(h.expire_ms(), 70);
  EXPECT_EQ(ks.expires_size(), 1u);
  EXPECT_EQ(ks.size(), 1u);
}

TEST(DbKeyspace, TakeHandsTheValueBack) {
  Keyspace ks;
  Value& v = ks.insert("k", Object::string("7"), 42, false);
  v.set_freq(3);
  ks.insert("s", set_of({"a"}), -1, false);
  auto t = ks.take("k");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->second, 42);
  EXPECT_EQ(t->first.as_string().bytes, "7");
  EXPECT_EQ(t->first.as_string().encoding, StringEncoding::kInt);
  EXPECT_EQ(t->first.freq, 3);
  EXPECT_EQ(ks.expires_size(), 0u);
  auto s = ks.take("s");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->first.as_set().contains("a"));
  EXPECT_FALSE(ks.take("s"));
  EXPECT_TRUE(ks.empty());
}

TEST(DbKeyspace, ExpiryCycleWalksTheWholeKeyspace) {
  // 20000 keys, of which 200 have a TTL that has passed and 200 one that
  // has not: steps of the expiry cycle reclaim every expired key within one
  // pass and never touch the others.
  setd::db::Database db(0);
  for (int i = 0; i < 20000; ++i) {
    const int64_t ttl = i % 100 == 0 ? 1 : i % 100 == 1 ? 4000000000000 : -1;
    db.add("k" + std::to_string(i), Object::string("v"), ttl);
  }
  ASSERT_EQ(db.expires_size(), 400u);
  size_t steps = 0, expired = 0, sampled = 0;
  while (db.expires_size() > 200 && steps < 1000) {
    auto [s, e] = db.expire_cycle_step(20);
    sampled += s;
    expired += e;
    ++steps;
  }
  EXPECT_EQ(expired, 200u);
  EXPECT_EQ(db.size(), 19800u);
  EXPECT_EQ(db.expires_size(), 200u);
  // A step stops after 20 keys with a TTL or 2000 keys in all: 20000 keys
  // with 400 TTLs need at least 10 steps for a pass and at most ~21.
  EXPECT_GE(steps, 10u);
  EXPECT_LE(steps, 25u);
  EXPECT_LE(sampled, 400u + 20u);
  EXPECT_GT(db.avg_ttl(), 0);
  // A replica leaves expired keys to its master.
  setd::db::ExpiryControl replica{setd::db::ExpiryMode::kReportOnly};
  db.set_expiry_control(&replica);
  db.add("gone", Object::string("v"), 1);
  EXPECT_EQ(db.expire_cycle_step(20), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(db.size(), 19801u);
}

// A random mix of every operation against a std::map model; the TTL index
// must always list exactly the keys with a TTL.
TEST(DbKeyspace, RandomOperationsMatchModel) {
  struct M {
    std::string str;
    bool is_set = false;
    int64_t ttl = -1;
  };
  Keyspace ks;
  std::map<std::string, M> model;
  setd::base::Rng rng(99);
  const auto check = [&] {
    ASSERT_EQ(ks.size(), model.size());
    size_t with_ttl = 0;
    for (const auto& [k, m] : model) {
      const Value* v = ks.find(k);
      ASSERT_NE(v, nullptr) << k;
      ASSERT_EQ(v->key(), k);
      ASSERT_EQ(v->expire_ms(), m.ttl) << k;
      if (m.ttl >= 0) ++with_ttl;
      if (m.is_set) {
        ASSERT_EQ(v->type(), Type::kSet);
        ASSERT_TRUE(v->as_set().contains(m.str));
      } else {
        ASSERT_EQ(v->str(), m.str) << k;
      }
    }
    ASSERT_EQ(ks.expires_size(), with_ttl);
  };
  for (int step = 0; step < 30000; ++step) {
    const std::string k =
        (rng.below(10) == 0 ? std::string(300, 'L') : "key") + std::to_string(rng.below(400));
    const auto op = rng.below(6);
    Value* v = ks.find(k);
    ASSERT_EQ(v != nullptr, model.count(k) == 1);
    const int64_t ttl = rng.below(2) ? static_cast<int64_t>(rng.below(1000)) : -1;
    const std::string val = rng.below(3) == 0   ? std::string(rng.below(80), 'r')
                            : rng.below(2) == 0 ? std::to_string(rng.below(100000))
                                                : "s" + std::to_string(rng.below(1000));
    const bool as_set = rng.below(4) == 0;
    Object o = as_set ? set_of({val}) : Object::string(val);
    if (!as_set && rng.below(5) == 0) o = Object::string(val, StringEncoding::kRaw);
    if (op <= 1) {  // set (insert or replace)
      if (v)
        ks.replace(*v, std::move(o), ttl, false);
      else
        ks.insert(k, std::move(o), ttl, false);
      model[k] = M{val, as_set, ttl};
    } else if (op == 2 && v) {
      ks.set_expire(*v, ttl);
      model[k].ttl = ttl;
    } else if (op == 3) {
      EXPECT_EQ(ks.erase(k), model.erase(k) == 1);
    } else if (op == 4 && v) {
      auto t = ks.take(k);
      ASSERT_TRUE(t);
      EXPECT_EQ(t->second, model[k].ttl);
      model.erase(k);
    } else if (op == 5 && v && v->type() == Type::kString &&
               v->string_encoding() == StringEncoding::kRaw) {
      const size_t n = rng.below(200);
      std::string& m = model[k].str;
      m.resize(n, '\0');
      ks.find(k)->raw_resize(n);
    }
    if (step % 1000 == 0) check();
    if (::testing::Test::HasFatalFailure()) return;
  }
  check();
  ks.clear();
  EXPECT_EQ(ks.size(), 0u);
  EXPECT_EQ(ks.expires_size(), 0u);
}

// Database-level: lazy expiry through the TTL in the entry, and SET with a
// TTL on an existing key without one (the entry grows a TTL slot).
TEST(DbKeyspace, DatabaseExpiresThroughTheEntry) {
  setd::db::Database db(0);
  db.add("k", Object::string("v"));
  db.set("k", Object::string("w"), false, 1);  // long past
  EXPECT_EQ(db.expires_size(), 1u);
  EXPECT_EQ(db.find("k"), nullptr);
  EXPECT_EQ(db.size(), 0u);
  EXPECT_EQ(db.expires_size(), 0u);
  db.add("a", Object::string("1"), 4000000000000);
  db.set("a", Object::string("2"), true);  // KEEPTTL
  EXPECT_EQ(db.expire_at("a"), 4000000000000);
  db.set("a", Object::string("3"));
  EXPECT_EQ(db.expire_at("a"), -1);
  EXPECT_EQ(db.expires_size(), 0u);
}

}  // namespace

namespace {
// Found by the keyspace differential test: an empty string given a TTL by
// SET, renamed, then overwritten without one.
TEST(DbKeyspace, EmptyStringWithTtlRenamedThenOverwritten) {
  setd::db::Database db(0);
  db.add("k5", Object::string("11"));
  db.add("ka", Object::string("46"));
  db.set("k5", Object::string(""), false, 4000000000000);
  auto taken = db.take("k5");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->second, 4000000000000);
  db.add("k2", std::move(taken->first), taken->second);
  EXPECT_EQ(db.expires_size(), 1u);
  db.add("k3", Object::string("97"));
  db.set("k2", Object::string("1e3"));
  EXPECT_EQ(db.expires_size(), 0u);
  EXPECT_EQ(db.find("k2")->str(), "1e3");
}
}  // namespace

// Unit tests for setd::ds::SetObject and the integer rules (int_parse.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/int_parse.hpp"
#include "setd/ds/set_object.hpp"

namespace setd::ds {
namespace {

using Enc = SetObject::Encoding;
// Redis 7.0 rules (no listpack), default set-max-intset-entries 512.
constexpr SetLimits k70 = SetLimits::redis70();

std::multiset<std::string> members_of(const SetObject& s) {
  std::multiset<std::string> out;
  s.for_each([&](std::string_view m) { out.emplace(m); });
  return out;
}

TEST(IntParse, WhatCountsAsAnInteger) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("1"), 1);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("123456"), 123456);
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
  for (std::string_view bad : {"",
                               "007",
                               "00",
                               "01",
                               "+1",
                               "-0",
                               "-00",
                               "-01",
                               " 1",
                               "1 ",
                               "1a",
                               "a1",
                               "-",
                               "+",
                               "1.0",
                               "1e3",
                               "0x10",
                               "9223372036854775808",
                               "-9223372036854775809",
                               "18446744073709551616",
                               "99999999999999999999",
                               "000000000000000000001"}) {
    EXPECT_FALSE(parse_int64(bad).has_value()) << '"' << bad << '"';
  }
  EXPECT_FALSE(parse_int64(std::string_view("1\0", 2)).has_value());
}

TEST(IntParse, FormatRoundTrips) {
  char buf[kInt64DecimalBufSize];
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{42}, INT64_MAX, INT64_MIN}) {
    const std::string_view s = format_int64(v, buf);
    EXPECT_EQ(parse_int64(s), v) << s;
  }
  EXPECT_EQ(format_int64(INT64_MIN, buf), "-9223372036854775808");
  EXPECT_EQ(format_int64(-7, buf), "-7");
}

TEST(SetObject, DefaultIsEmptyIntset) {
  SetObject s;
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_EQ(s.encoding_name(), "intset");
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.empty());
}

TEST(SetObject, CreateForPicksEncoding) {
  EXPECT_EQ(SetObject::create_for("123", 1, k70).encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("-9223372036854775808", 1, k70).encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("9223372036854775808", 1, k70).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("007", 1, k70).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("-0", 1, k70).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("+1", 1, k70).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("", 1, k70).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("abc", 1, k70).encoding_name(), "hashtable");
  EXPECT_EQ(SetObject::create_for("abc", 1, k70).size(), 0u);  // the member is not added
}

TEST(SetObject, ConvertsExactlyAfterMaxIntsetEntries) {
  SetObject s = SetObject::create_for("0", 1, k70);
  for (int i = 0; i < 512; ++i) ASSERT_TRUE(s.add(std::to_string(i), k70));
  EXPECT_EQ(s.size(), 512u);
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_FALSE(s.add("17", k70));  // duplicate: no conversion
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_TRUE(s.add("512", k70));  // the 513th member converts
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(s.encoding_name(), "hashtable");
  EXPECT_EQ(s.size(), 513u);
  for (int i = 0; i <= 512; ++i) ASSERT_TRUE(s.contains(std::to_string(i))) << i;
  EXPECT_FALSE(s.contains("513"));
  // Never converts back, even when shrinking far below the limit.
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(s.remove(std::to_string(i)));
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(s.size(), 13u);
}

TEST(SetObject, SmallMaxIntsetEntries) {
  SetObject s;
  EXPECT_TRUE(s.add("1", SetLimits::redis70(0)));  // size 1 > 0: converts immediately, like Redis
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  SetObject t;
  EXPECT_TRUE(t.add("1", SetLimits::redis70(1)));
  EXPECT_EQ(t.encoding(), Enc::kIntSet);
  EXPECT_TRUE(t.add("2", SetLimits::redis70(1)));
  EXPECT_EQ(t.encoding(), Enc::kHashTable);
}

TEST(SetObject, NonIntegerConverts) {
  SetObject s = SetObject::create_for("1", 1, k70);
  s.add("1", k70);
  s.add("-5", k70);
  s.add("7", k70);
  EXPECT_FALSE(s.contains("007"));  // "007" is not the integer 7
  EXPECT_FALSE(s.remove("007"));
  EXPECT_FALSE(s.remove("abc"));
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_TRUE(s.add("007", k70));
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_TRUE(s.contains("7"));
  EXPECT_TRUE(s.contains("007"));
  EXPECT_TRUE(s.contains("-5"));
  EXPECT_EQ(members_of(s), (std::multiset<std::string>{"1", "-5", "7", "007"}));
  EXPECT_FALSE(s.add("7", k70));
}

TEST(SetObject, ExplicitConversionKeepsMembers) {
  SetObject s;
  for (int64_t v : {INT64_MIN, int64_t{-1}, int64_t{0}, INT64_MAX}) {
    s.add(std::to_string(v), k70);
  }
  s.convert_to_hashtable();
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  s.convert_to_hashtable();  // no-op
  EXPECT_EQ(members_of(s),
            (std::multiset<std::string>{"-9223372036854775808", "-1", "0", "9223372036854775807"}));
}

TEST(SetObject, IntsetIterationAndScan) {
  SetObject s;
  for (const char* m : {"10", "-3", "2", "-9223372036854775808"}) s.add(m, k70);
  std::vector<std::string> order;
  s.for_each([&](std::string_view m) { order.emplace_back(m); });
  EXPECT_EQ(order, (std::vector<std::string>{"-9223372036854775808", "-3", "2", "10"}));
  std::vector<std::string> scanned;
  EXPECT_EQ(s.scan(0, [&](std::string_view m) { scanned.emplace_back(m); }), 0u);
  EXPECT_EQ(scanned, order);
  const IntSet* is = s.as_intset();
  ASSERT_NE(is, nullptr);
  EXPECT_EQ(s.as_hash_set(), nullptr);
  if (is != nullptr) {
    EXPECT_EQ(is->width(), IntSet::Width::k64);
  }
  EXPECT_EQ(s.memory_bytes(), IntSet::kHeaderBytes + 4u * 8);
}

TEST(SetObject, HashtableScanVisitsAll) {
  SetObject s = SetObject::create_for("x", 1, k70);
  std::multiset<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    s.add("x" + std::to_string(i), k70);
    expected.insert("x" + std::to_string(i));
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = s.scan(cursor, [&](std::string_view m) { seen.emplace(m); });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(members_of(s), expected);
  EXPECT_GT(s.memory_bytes(), 5000u * 5);
}

TEST(SetObject, RandomAndPopBothEncodings) {
  base::Rng rng(9);
  for (bool ints : {true, false}) {
    SetObject s = SetObject::create_for(ints ? "1" : "a", 1, k70);
    std::set<std::string> all;
    for (int i = 0; i < 100; ++i) {
      const std::string m = ints ? std::to_string(i * 3 - 50) : "a" + std::to_string(i);
      s.add(m, k70);
      all.insert(m);
    }
    EXPECT_EQ(s.encoding(), ints ? Enc::kIntSet : Enc::kHashTable);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(all.count(s.random_member(rng)));
    std::set<std::string> popped;
    while (!s.empty()) {
      const std::string m = s.pop_random(rng);
      ASSERT_TRUE(all.count(m)) << m;
      ASSERT_TRUE(popped.insert(m).second) << m;
      ASSERT_FALSE(s.contains(m));
    }
    EXPECT_EQ(popped, all);
  }
}

TEST(SetObject, IntsetRandomChiSquare) {
  SetObject s;
  for (int i = 0; i < 50; ++i) s.add(std::to_string(i), k70);
  base::Rng rng(123);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) ++hist[static_cast<size_t>(std::stoi(s.random_member(rng)))];
  double chi2 = 0;
  const double e = kDraws / 50.0;
  for (int h : hist) chi2 += (h - e) * (h - e) / e;
  EXPECT_LT(chi2, 85.35);  // 49 degrees of freedom, p = 0.001
}

TEST(SetObject, FromIntsetAndEmptyHashtable) {
  const std::vector<int64_t> vals = {-3, 10, 70000};
  SetObject a = SetObject::from_intset(IntSet::from_sorted_unique(vals));
  EXPECT_EQ(a.encoding(), Enc::kIntSet);
  EXPECT_EQ(members_of(a), (std::multiset<std::string>{"-3", "10", "70000"}));
  EXPECT_TRUE(a.add("x", k70));  // converts as any intset would
  EXPECT_EQ(a.encoding(), Enc::kHashTable);
  SetObject h = SetObject::empty_hashtable(1000);
  EXPECT_EQ(h.encoding(), Enc::kHashTable);
  EXPECT_TRUE(h.empty());
  ASSERT_NE(h.as_hash_set(), nullptr);
  EXPECT_GE(h.as_hash_set()->bucket_count() * HashSet::kResizeTargetLoad, 1000u);
  EXPECT_TRUE(h.add("1", k70));  // an integer in a hashtable set stays there
  EXPECT_EQ(h.encoding(), Enc::kHashTable);
  EXPECT_FALSE(h.add("1", k70));
}

TEST(SetObject, CloneAndMove) {
  SetObject a = SetObject::create_for("1", 1, k70);
  a.add("1", k70);
  SetObject b = a.clone();
  b.add("x", k70);
  EXPECT_EQ(a.encoding(), Enc::kIntSet);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.encoding(), Enc::kHashTable);
  SetObject c = b.clone();
  EXPECT_EQ(members_of(c), members_of(b));
  c.remove("x");
  EXPECT_TRUE(b.contains("x"));
  SetObject d = std::move(c);
  EXPECT_EQ(d.size(), 1u);
}

// --- Redis 7.2's rules (set-max-listpack-entries > 0) ------------------------

constexpr SetLimits k72{};  // 512 / 128 / 64

std::vector<std::string> in_order(const SetObject& s) {
  std::vector<std::string> out;
  s.for_each([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

TEST(SetObject, IsOneWord) {
  static_assert(sizeof(SetObject) == 8);
  SetObject a;
  SetObject b = SetObject::empty_listpack();
  SetObject c = SetObject::empty_hashtable(0);
  EXPECT_EQ(a.encoding_name(), "intset");
  EXPECT_EQ(b.encoding_name(), "listpack");
  EXPECT_EQ(c.encoding_name(), "hashtable");
  EXPECT_TRUE(a.empty() && b.empty() && c.empty());
  EXPECT_EQ(a.memory_bytes(), 0u);
  EXPECT_EQ(b.memory_bytes(), 0u);
  EXPECT_GE(c.memory_bytes(), sizeof(HashSet));
}

// setTypeCreate(value, size_hint).
TEST(SetObject, CreateForRedis72) {
  EXPECT_EQ(SetObject::create_for("1", 1, k72).encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("1", 512, k72).encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("1", 513, k72).encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("x", 1, k72).encoding(), Enc::kListPack);
  EXPECT_EQ(SetObject::create_for("x", 128, k72).encoding(), Enc::kListPack);
  const SetObject big = SetObject::create_for("x", 129, k72);
  EXPECT_EQ(big.encoding(), Enc::kHashTable);
  EXPECT_GE(big.as_hash_set()->bucket_count() * HashSet::kResizeTargetLoad, 129u);  // pre-sized
  EXPECT_TRUE(big.empty());
  // An integer over set-max-intset-entries but within the listpack limit.
  const SetLimits small{.max_intset_entries = 2, .max_listpack_entries = 4};
  EXPECT_EQ(SetObject::create_for("1", 3, small).encoding(), Enc::kListPack);
  EXPECT_EQ(SetObject::create_for("1", 5, small).encoding(), Enc::kHashTable);
  // Redis 7.0: the hint means nothing.
  EXPECT_EQ(SetObject::create_for("1", 100000, k70).encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("x", 1, k70).encoding(), Enc::kHashTable);
}

// setTypeMaybeConvert(set, size_hint).
TEST(SetObject, MaybeConvertRedis72) {
  const SetLimits lim{.max_intset_entries = 3, .max_listpack_entries = 2};
  SetObject is;
  is.add("1", lim);
  is.maybe_convert(3, lim);
  EXPECT_EQ(is.encoding(), Enc::kIntSet);
  is.maybe_convert(4, lim);
  EXPECT_EQ(is.encoding(), Enc::kHashTable);
  EXPECT_TRUE(is.contains("1"));
  SetObject lp = SetObject::empty_listpack();
  lp.add("a", lim);
  lp.maybe_convert(2, lim);
  EXPECT_EQ(lp.encoding(), Enc::kListPack);
  lp.maybe_convert(3, lim);
  EXPECT_EQ(lp.encoding(), Enc::kHashTable);
  EXPECT_EQ(in_order(lp), (std::vector<std::string>{"a"}));
  SetObject is70;
  is70.add("1", k70);
  is70.maybe_convert(100000, k70);  // Redis 7.0 has no such step
  EXPECT_EQ(is70.encoding(), Enc::kIntSet);
}

// setTypeAddAux, intset branch: a non-integer.
TEST(SetObject, IntsetToListpackOnNonInteger) {
  SetObject s;
  EXPECT_TRUE(s.add("x", k72));  // an empty intset: a listpack at once
  EXPECT_EQ(s.encoding(), Enc::kListPack);
  SetObject t;
  for (const char* m : {"5", "-3", "9223372036854775807"}) t.add(m, k72);
  EXPECT_TRUE(t.add("abc", k72));
  EXPECT_EQ(t.encoding(), Enc::kListPack);
  // The integers in ascending order, then the new member.
  EXPECT_EQ(in_order(t), (std::vector<std::string>{"-3", "5", "9223372036854775807", "abc"}));
  EXPECT_TRUE(t.contains("5"));
  EXPECT_FALSE(t.contains("05"));
  EXPECT_FALSE(t.add("5", k72));
  // Not when the intset already has set-max-listpack-entries members...
  const SetLimits four{.max_listpack_entries = 4};
  SetObject u;
  for (const char* m : {"1", "2", "3", "4"}) u.add(m, four);
  u.add("x", four);
  EXPECT_EQ(u.encoding(), Enc::kHashTable);
  SetObject v;
  for (const char* m : {"1", "2", "3"}) v.add(m, four);
  v.add("x", four);
  EXPECT_EQ(v.encoding(), Enc::kListPack);
  // ... nor when the new member, or the minimum's or maximum's text, is
  // longer than set-max-listpack-value.
  const SetLimits five{.max_listpack_value = 5};
  auto after = [&](std::vector<const char*> ints, const char* m) {
    SetObject w;
    for (const char* i : ints) w.add(i, five);
    EXPECT_EQ(w.encoding(), Enc::kIntSet);
    w.add(m, five);
    return w.encoding();
  };
  EXPECT_EQ(after({"1", "-1234"}, "x"), Enc::kListPack);
  EXPECT_EQ(after({"1", "-12345"}, "x"), Enc::kHashTable);  // 6 characters
  EXPECT_EQ(after({"1", "99999"}, "x"), Enc::kListPack);
  EXPECT_EQ(after({"1", "100000"}, "x"), Enc::kHashTable);
  EXPECT_EQ(after({"-1", "1"}, "abcde"), Enc::kListPack);
  EXPECT_EQ(after({"-1", "1"}, "abcdef"), Enc::kHashTable);
  // Redis 7.0: always a hashtable.
  SetObject h;
  h.add("1", k70);
  h.add("x", k70);
  EXPECT_EQ(h.encoding(), Enc::kHashTable);
}

// maybeConvertIntset: over set-max-intset-entries, a hashtable (never a
// listpack), with Redis's 2^30 cap on the limit.
TEST(SetObject, IntsetOverflowIsAHashtable) {
  const SetLimits lim{.max_intset_entries = 3};
  SetObject s;
  for (const char* m : {"1", "2", "3"}) s.add(m, lim);
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_FALSE(s.add("3", lim));
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  s.add("4", lim);
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(SetLimits{.max_intset_entries = SIZE_MAX}.intset_cap(), size_t{1} << 30);
  EXPECT_EQ(SetLimits{.max_intset_entries = 7}.intset_cap(), 7u);
}

// setTypeAddAux, listpack branch.
TEST(SetObject, ListpackToHashtable) {
  const SetLimits lim{.max_listpack_entries = 3, .max_listpack_value = 4};
  SetObject s = SetObject::create_for("a", 1, lim);
  ASSERT_EQ(s.encoding(), Enc::kListPack);
  for (const char* m : {"a", "bb", "1"}) EXPECT_TRUE(s.add(m, lim));
  EXPECT_FALSE(s.add("bb", lim));
  EXPECT_EQ(s.encoding(), Enc::kListPack);
  EXPECT_EQ(in_order(s), (std::vector<std::string>{"a", "bb", "1"}));
  EXPECT_TRUE(s.add("c", lim));  // a 4th member
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(members_of(s), (std::multiset<std::string>{"a", "bb", "1", "c"}));
  SetObject t = SetObject::create_for("a", 1, lim);
  t.add("abcd", lim);
  EXPECT_EQ(t.encoding(), Enc::kListPack);
  t.add("abcde", lim);  // too long
  EXPECT_EQ(t.encoding(), Enc::kHashTable);
  // Removing never converts back.
  t.remove("abcde");
  t.remove("abcd");
  EXPECT_EQ(t.encoding(), Enc::kHashTable);
  SetObject u = SetObject::create_for("x", 1, lim);
  u.add("x", lim);
  u.add("1", lim);
  u.remove("x");
  EXPECT_EQ(u.encoding(), Enc::kListPack);  // integers only, still a listpack
}

// maybeConvertToIntset.
TEST(SetObject, MaybeConvertToIntset) {
  const SetLimits lim{.max_intset_entries = 3};
  SetObject s = SetObject::empty_listpack();
  for (const char* m : {"3", "-1", "2"}) s.add(m, lim);
  EXPECT_TRUE(s.maybe_convert_to_intset(lim));
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_EQ(in_order(s), (std::vector<std::string>{"-1", "2", "3"}));
  EXPECT_TRUE(s.maybe_convert_to_intset(lim));  // already one
  SetObject t = SetObject::empty_listpack();
  for (const char* m : {"3", "-1", "2", "7"}) t.add(m, lim);
  EXPECT_FALSE(t.maybe_convert_to_intset(lim));  // too many
  EXPECT_EQ(t.encoding(), Enc::kListPack);
  SetObject u = SetObject::empty_listpack();
  for (const char* m : {"3", "x"}) u.add(m, lim);
  EXPECT_FALSE(u.maybe_convert_to_intset(lim));  // not all integers: unchanged
  EXPECT_EQ(in_order(u), (std::vector<std::string>{"3", "x"}));
  SetObject h = SetObject::empty_hashtable(0);
  for (const char* m : {"10", "20"}) h.add(m, lim);
  EXPECT_TRUE(h.maybe_convert_to_intset(lim));
  EXPECT_EQ(in_order(h), (std::vector<std::string>{"10", "20"}));
}

TEST(SetObject, ListpackOperations) {
  SetObject s = SetObject::create_for("b", 3, k72);
  for (const char* m : {"b", "a", "", "1"}) EXPECT_TRUE(s.add(m, k72));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_TRUE(s.contains(""));
  EXPECT_TRUE(s.contains("1"));
  EXPECT_FALSE(s.contains("01"));
  EXPECT_EQ(in_order(s), (std::vector<std::string>{"b", "a", "", "1"}));
  std::vector<std::string> scanned;
  EXPECT_EQ(s.scan(77, [&](std::string_view m) { scanned.emplace_back(m); }), 0u);
  EXPECT_EQ(scanned, in_order(s));
  EXPECT_EQ(s.memory_bytes(), 2u + 2 + 1 + 2);  // entries; the count is in the word
  EXPECT_NE(s.as_listpack(), nullptr);
  EXPECT_EQ(s.as_intset(), nullptr);
  EXPECT_EQ(s.as_hash_set(), nullptr);
  SetObject c = s.clone();
  EXPECT_EQ(c.encoding(), Enc::kListPack);
  c.remove("a");
  EXPECT_TRUE(s.contains("a"));
  SetObject m = std::move(c);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(c.encoding(), Enc::kIntSet);  // NOLINT(bugprone-use-after-move): documented
  EXPECT_TRUE(c.empty());
  c = std::move(m);
  EXPECT_EQ(in_order(c), (std::vector<std::string>{"b", "", "1"}));
  base::Rng rng(4);
  std::set<std::string> popped;
  while (!c.empty()) popped.insert(c.pop_random(rng));
  EXPECT_EQ(popped, (std::set<std::string>{"b", "", "1"}));
  c.convert_to_hashtable();
  s.convert_to_hashtable(100);
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(members_of(s), (std::multiset<std::string>{"b", "a", "", "1"}));
  // Moves between every pair of encodings leave nothing behind (ASan).
  std::vector<SetObject> v;
  v.push_back(SetObject::from_intset(IntSet::from_sorted_unique(std::vector<int64_t>{1, 2})));
  v.push_back(s.clone());
  v.push_back(SetObject::create_for("q", 1, k72));
  v.back().add("q", k72);
  for (auto& a : v)
    for (auto& b : v)
      if (&a != &b) {
        SetObject tmp = a.clone();
        tmp = b.clone();
        EXPECT_EQ(tmp.encoding(), b.encoding());
      }
}

TEST(SetObject, ListpackRandomChiSquare) {
  SetObject s = SetObject::empty_listpack();
  for (int i = 0; i < 50; ++i) s.add("p" + std::to_string(i), k72);
  base::Rng rng(321);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i)
    ++hist[static_cast<size_t>(std::stoi(s.random_member(rng).substr(1)))];
  double chi2 = 0;
  const double e = kDraws / 50.0;
  for (int h : hist) chi2 += (h - e) * (h - e) / e;
  EXPECT_LT(chi2, 85.35);  // 49 degrees of freedom, p = 0.001
}

}  // namespace
}  // namespace setd::ds

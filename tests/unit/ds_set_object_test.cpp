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
constexpr size_t kMaxIntset = 512;  // Redis's default set-max-intset-entries

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
  EXPECT_EQ(SetObject::create_for("123").encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("-9223372036854775808").encoding(), Enc::kIntSet);
  EXPECT_EQ(SetObject::create_for("9223372036854775808").encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("007").encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("-0").encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("+1").encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("").encoding(), Enc::kHashTable);
  EXPECT_EQ(SetObject::create_for("abc").encoding_name(), "hashtable");
  EXPECT_EQ(SetObject::create_for("abc").size(), 0u);  // the member is not added
}

TEST(SetObject, ConvertsExactlyAfterMaxIntsetEntries) {
  SetObject s = SetObject::create_for("0");
  for (int i = 0; i < 512; ++i) ASSERT_TRUE(s.add(std::to_string(i), kMaxIntset));
  EXPECT_EQ(s.size(), 512u);
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_FALSE(s.add("17", kMaxIntset));  // duplicate: no conversion
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_TRUE(s.add("512", kMaxIntset));  // the 513th member converts
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
  EXPECT_TRUE(s.add("1", 0));  // size 1 > 0: converts immediately, like Redis
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  SetObject t;
  EXPECT_TRUE(t.add("1", 1));
  EXPECT_EQ(t.encoding(), Enc::kIntSet);
  EXPECT_TRUE(t.add("2", 1));
  EXPECT_EQ(t.encoding(), Enc::kHashTable);
}

TEST(SetObject, NonIntegerConverts) {
  SetObject s = SetObject::create_for("1");
  s.add("1", kMaxIntset);
  s.add("-5", kMaxIntset);
  s.add("7", kMaxIntset);
  EXPECT_FALSE(s.contains("007"));  // "007" is not the integer 7
  EXPECT_FALSE(s.remove("007"));
  EXPECT_FALSE(s.remove("abc"));
  EXPECT_EQ(s.encoding(), Enc::kIntSet);
  EXPECT_TRUE(s.add("007", kMaxIntset));
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_TRUE(s.contains("7"));
  EXPECT_TRUE(s.contains("007"));
  EXPECT_TRUE(s.contains("-5"));
  EXPECT_EQ(members_of(s), (std::multiset<std::string>{"1", "-5", "7", "007"}));
  EXPECT_FALSE(s.add("7", kMaxIntset));
}

TEST(SetObject, ExplicitConversionKeepsMembers) {
  SetObject s;
  for (int64_t v : {INT64_MIN, int64_t{-1}, int64_t{0}, INT64_MAX}) {
    s.add(std::to_string(v), kMaxIntset);
  }
  s.convert_to_hashtable();
  EXPECT_EQ(s.encoding(), Enc::kHashTable);
  s.convert_to_hashtable();  // no-op
  EXPECT_EQ(members_of(s),
            (std::multiset<std::string>{"-9223372036854775808", "-1", "0", "9223372036854775807"}));
}

TEST(SetObject, IntsetIterationAndScan) {
  SetObject s;
  for (const char* m : {"10", "-3", "2", "-9223372036854775808"}) s.add(m, kMaxIntset);
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
  SetObject s = SetObject::create_for("x");
  std::multiset<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    s.add("x" + std::to_string(i), kMaxIntset);
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
    SetObject s = SetObject::create_for(ints ? "1" : "a");
    std::set<std::string> all;
    for (int i = 0; i < 100; ++i) {
      const std::string m = ints ? std::to_string(i * 3 - 50) : "a" + std::to_string(i);
      s.add(m, kMaxIntset);
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
  for (int i = 0; i < 50; ++i) s.add(std::to_string(i), kMaxIntset);
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
  EXPECT_TRUE(a.add("x", kMaxIntset));  // converts as any intset would
  EXPECT_EQ(a.encoding(), Enc::kHashTable);
  SetObject h = SetObject::empty_hashtable(1000);
  EXPECT_EQ(h.encoding(), Enc::kHashTable);
  EXPECT_TRUE(h.empty());
  ASSERT_NE(h.as_hash_set(), nullptr);
  EXPECT_GE(h.as_hash_set()->bucket_count() * 3, 1000u);
  EXPECT_TRUE(h.add("1", kMaxIntset));  // an integer in a hashtable set stays there
  EXPECT_EQ(h.encoding(), Enc::kHashTable);
  EXPECT_FALSE(h.add("1", kMaxIntset));
}

TEST(SetObject, CloneAndMove) {
  SetObject a = SetObject::create_for("1");
  a.add("1", kMaxIntset);
  SetObject b = a.clone();
  b.add("x", kMaxIntset);
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

}  // namespace
}  // namespace setd::ds

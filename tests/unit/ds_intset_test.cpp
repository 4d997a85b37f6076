// Unit tests for setd::ds::IntSet.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/intset.hpp"

namespace setd::ds {
namespace {

using W = IntSet::Width;
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

std::vector<int64_t> contents(const IntSet& s) {
  std::vector<int64_t> out;
  s.for_each([&](int64_t v) { out.push_back(v); });
  return out;
}

TEST(IntSet, EmptySet) {
  IntSet s;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.width(), W::k16);
  EXPECT_FALSE(s.contains(0));
  EXPECT_FALSE(s.erase(0));
  EXPECT_EQ(s.memory_bytes(), 0u);
}

TEST(IntSet, InsertKeepsSortedUniqueOrder) {
  IntSet s;
  EXPECT_TRUE(s.insert(5));
  EXPECT_TRUE(s.insert(-3));
  EXPECT_TRUE(s.insert(10));
  EXPECT_TRUE(s.insert(0));
  EXPECT_FALSE(s.insert(5));
  EXPECT_FALSE(s.insert(-3));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(contents(s), (std::vector<int64_t>{-3, 0, 5, 10}));
  EXPECT_EQ(s.at(0), -3);
  EXPECT_EQ(s.at(3), 10);
  EXPECT_TRUE(s.contains(0));
  EXPECT_FALSE(s.contains(1));
  EXPECT_FALSE(s.contains(11));
  EXPECT_FALSE(s.contains(-4));
}

TEST(IntSet, WidthBoundaries) {
  EXPECT_EQ(IntSet::width_for(32767), W::k16);
  EXPECT_EQ(IntSet::width_for(-32768), W::k16);
  EXPECT_EQ(IntSet::width_for(32768), W::k32);
  EXPECT_EQ(IntSet::width_for(-32769), W::k32);
  EXPECT_EQ(IntSet::width_for(2147483647), W::k32);
  EXPECT_EQ(IntSet::width_for(-2147483648LL), W::k32);
  EXPECT_EQ(IntSet::width_for(2147483648LL), W::k64);
  EXPECT_EQ(IntSet::width_for(-2147483649LL), W::k64);
  EXPECT_EQ(IntSet::width_for(kI64Min), W::k64);
  EXPECT_EQ(IntSet::width_for(kI64Max), W::k64);
}

TEST(IntSet, UpgradeAppendsAndPrependsPreservingValues) {
  IntSet s;
  for (int64_t v : {1, -1, 300, -300, 32767, -32768}) ASSERT_TRUE(s.insert(v));
  EXPECT_EQ(s.width(), W::k16);
  EXPECT_EQ(s.memory_bytes(), IntSet::kHeaderBytes + 6u * 2);

  ASSERT_TRUE(s.insert(32768));  // larger than all: appended on upgrade
  EXPECT_EQ(s.width(), W::k32);
  EXPECT_EQ(contents(s), (std::vector<int64_t>{-32768, -300, -1, 1, 300, 32767, 32768}));
  EXPECT_EQ(s.memory_bytes(), IntSet::kHeaderBytes + 7u * 4);

  ASSERT_TRUE(s.insert(-5000000000LL));  // smaller than all: prepended on upgrade
  EXPECT_EQ(s.width(), W::k64);
  EXPECT_EQ(contents(s),
            (std::vector<int64_t>{-5000000000LL, -32768, -300, -1, 1, 300, 32767, 32768}));
  ASSERT_TRUE(s.insert(kI64Max));
  ASSERT_TRUE(s.insert(kI64Min));
  EXPECT_EQ(s.at(0), kI64Min);
  EXPECT_EQ(s.at(s.size() - 1), kI64Max);
  EXPECT_TRUE(s.contains(kI64Min));
  EXPECT_TRUE(s.contains(-32768));
  EXPECT_EQ(s.memory_bytes(), IntSet::kHeaderBytes + s.size() * 8);
}

TEST(IntSet, DirectUpgradeFrom16To64WithNegative) {
  IntSet s;
  s.insert(7);
  s.insert(-7);
  ASSERT_TRUE(s.insert(kI64Min));
  EXPECT_EQ(s.width(), W::k64);
  EXPECT_EQ(contents(s), (std::vector<int64_t>{kI64Min, -7, 7}));
}

TEST(IntSet, EraseNeverDowngrades) {
  IntSet s;
  s.insert(1);
  s.insert(1LL << 40);
  ASSERT_EQ(s.width(), W::k64);
  EXPECT_TRUE(s.erase(1LL << 40));
  EXPECT_FALSE(s.erase(1LL << 40));
  EXPECT_EQ(s.width(), W::k64);
  EXPECT_EQ(contents(s), (std::vector<int64_t>{1}));
  EXPECT_TRUE(s.erase(1));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.width(), W::k64);
  EXPECT_TRUE(s.insert(2));  // still usable after becoming empty
  EXPECT_EQ(s.width(), W::k64);
}

TEST(IntSet, EraseWiderValueThanWidthIsNoop) {
  IntSet s;
  s.insert(3);
  EXPECT_FALSE(s.erase(1LL << 33));
  EXPECT_FALSE(s.contains(1LL << 33));
  EXPECT_EQ(s.size(), 1u);
}

TEST(IntSet, MatchesStdSetUnderRandomOperations) {
  base::Rng rng(12345);
  IntSet s;
  std::set<int64_t> model;
  for (int i = 0; i < 20000; ++i) {
    int64_t v = 0;
    switch (rng.below(4)) {
      case 0:
        v = static_cast<int64_t>(rng.below(200)) - 100;
        break;
      case 1:
        v = static_cast<int64_t>(rng.below(100000)) - 50000;
        break;
      case 2:
        v = static_cast<int64_t>(rng.below(1ULL << 40)) - (1LL << 39);
        break;
      default:
        v = static_cast<int64_t>(rng.next());
        break;
    }
    if (rng.below(3) == 0) {
      EXPECT_EQ(s.erase(v), model.erase(v) == 1);
    } else {
      EXPECT_EQ(s.insert(v), model.insert(v).second);
    }
  }
  ASSERT_EQ(s.size(), model.size());
  EXPECT_EQ(contents(s), std::vector<int64_t>(model.begin(), model.end()));
  for (int64_t v : model) EXPECT_TRUE(s.contains(v));
}

TEST(IntSet, CopyAndMove) {
  IntSet a;
  for (int64_t v = 0; v < 100; ++v) a.insert(v * 1000);
  IntSet b = a;
  b.insert(-1);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(b.size(), 101u);
  IntSet c = std::move(b);
  EXPECT_EQ(c.size(), 101u);
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): documented state
  b.insert(4);
  EXPECT_TRUE(b.contains(4));
  a = c;
  EXPECT_EQ(contents(a), contents(c));
}

TEST(IntSet, FromSortedUniqueKeepsTheWiderOfMinimumAndNeededWidth) {
  const std::vector<int64_t> small = {-5, 0, 7, 32767};
  IntSet a = IntSet::from_sorted_unique(small);
  EXPECT_EQ(a.width(), W::k16);
  EXPECT_EQ(contents(a), small);
  IntSet b = IntSet::from_sorted_unique(small, W::k64);  // the width it was saved with
  EXPECT_EQ(b.width(), W::k64);
  EXPECT_EQ(b.memory_bytes(), IntSet::kHeaderBytes + small.size() * 8);
  EXPECT_EQ(contents(b), small);
  EXPECT_TRUE(b.contains(32767));
  EXPECT_TRUE(b.insert(8));  // still a normal set afterwards
  EXPECT_EQ(b.width(), W::k64);
  const std::vector<int64_t> wide = {-40000, 1, 40000};
  EXPECT_EQ(IntSet::from_sorted_unique(wide, W::k16).width(), W::k32);
  const std::vector<int64_t> widest = {1, kI64Max};
  EXPECT_EQ(IntSet::from_sorted_unique(widest, W::k32).width(), W::k64);
  EXPECT_EQ(contents(IntSet::from_sorted_unique(widest)), widest);
  EXPECT_TRUE(IntSet::from_sorted_unique({}, W::k64).empty());
}

TEST(IntSet, FromSortedUniqueRefusesUnsortedOrDuplicateValues) {
  const std::vector<int64_t> dup = {1, 2, 2};
  const std::vector<int64_t> down = {3, 1};
  EXPECT_THROW(IntSet::from_sorted_unique(dup), std::invalid_argument);
  EXPECT_THROW(IntSet::from_sorted_unique(down), std::invalid_argument);
}

TEST(IntSet, RandomIsUniform) {
  IntSet s;
  for (int64_t v = 0; v < 50; ++v) s.insert(v * 7 - 100);
  base::Rng rng(42);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t v = s.random(rng);
    ASSERT_TRUE(s.contains(v));
    ++hist[static_cast<size_t>((v + 100) / 7)];
  }
  const double expected = kDraws / 50.0;
  double chi2 = 0;
  for (int h : hist) chi2 += (h - expected) * (h - expected) / expected;
  EXPECT_LT(chi2, 85.35);  // chi-square, 49 degrees of freedom, p = 0.001
}

}  // namespace
}  // namespace setd::ds

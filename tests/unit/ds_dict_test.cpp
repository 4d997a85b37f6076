#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/dict.hpp"
#include "setd/ds/hash.hpp"

using setd::base::Rng;
using setd::ds::Dict;
using namespace std::string_literals;

namespace {

std::string key_of(int i) { return "key:" + std::to_string(i); }

// Runs a whole SCAN and returns how often each key was reported.
template <class D>
std::map<std::string, int> full_scan(D& d) {
  std::map<std::string, int> seen;
  uint64_t cursor = 0;
  do {
    cursor = d.scan(cursor, [&](std::string_view k, auto&) { ++seen[std::string(k)]; });
  } while (cursor != 0);
  return seen;
}

TEST(DsDict, EmptyDict) {
  Dict<int> d;
  EXPECT_EQ(d.size(), 0u);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.bucket_count(), 0u);
  EXPECT_EQ(d.find("x"), nullptr);
  EXPECT_FALSE(d.erase("x"));
  EXPECT_EQ(d.take("x"), std::nullopt);
  EXPECT_EQ(d.scan(0, [](std::string_view, int&) { FAIL(); }), 0u);
  Rng rng(1);
  EXPECT_EQ(d.random_entry(rng), nullptr);
  EXPECT_EQ(d.sample(rng, 10, [](std::string_view, int&) { FAIL(); }), 0u);
  EXPECT_FALSE(d.rehash_step(10));
  d.clear();
  EXPECT_TRUE(d.empty());
}

TEST(DsDict, BasicOperations) {
  Dict<int> d;
  auto [v, added] = d.insert("a", 1);
  ASSERT_TRUE(added);
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.bucket_count(), Dict<int>::kInitialBuckets);

  // insert never overwrites; it returns the existing value.
  auto [v2, added2] = d.insert("a", 2);
  EXPECT_FALSE(added2);
  EXPECT_EQ(v2, v);
  EXPECT_EQ(*v2, 1);

  EXPECT_EQ(d.upsert("a", 3), 3);
  EXPECT_EQ(*d.find("a"), 3);
  EXPECT_EQ(d.upsert("b", 4), 4);
  EXPECT_EQ(d.size(), 2u);

  auto [v3, added3] = d.try_emplace("c", 5);
  EXPECT_TRUE(added3);
  EXPECT_EQ(*v3, 5);
  EXPECT_TRUE(d.contains("c"));
  EXPECT_FALSE(d.contains("d"));

  const Dict<int>& cd = d;
  ASSERT_NE(cd.find("b"), nullptr);
  EXPECT_EQ(*cd.find("b"), 4);
  EXPECT_EQ(cd.find("zz"), nullptr);

  EXPECT_TRUE(d.erase("a"));
  EXPECT_FALSE(d.erase("a"));
  EXPECT_EQ(d.find("a"), nullptr);
  EXPECT_EQ(d.take("b"), std::optional<int>(4));
  EXPECT_EQ(d.take("b"), std::nullopt);
  EXPECT_EQ(d.size(), 1u);
  d.clear();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.find("c"), nullptr);
  EXPECT_EQ(d.bucket_count(), 0u);
  d.insert("c", 6);
  EXPECT_EQ(*d.find("c"), 6);
}

TEST(DsDict, BinarySafeKeys) {
  Dict<int> d;
  d.insert("", 1);
  d.insert("\0"s, 2);
  d.insert("\0\0"s, 3);
  d.insert("a\0b"s, 4);
  d.insert("a", 5);
  d.insert(std::string(100000, 'x'), 6);
  EXPECT_EQ(d.size(), 6u);
  EXPECT_EQ(*d.find(""), 1);
  EXPECT_EQ(*d.find("\0"s), 2);
  EXPECT_EQ(*d.find("\0\0"s), 3);
  EXPECT_EQ(*d.find("a\0b"s), 4);
  EXPECT_EQ(*d.find("a"), 5);
  EXPECT_EQ(*d.find(std::string(100000, 'x')), 6);
  EXPECT_EQ(d.find("a\0"s), nullptr);
  auto* e = d.find_entry("a\0b"s);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->key(), "a\0b"s);
  EXPECT_EQ(e->first, "a\0b"s);
  EXPECT_EQ(e->second, 4);
  EXPECT_EQ(e->value(), 4);
}

TEST(DsDict, GrowsAndShrinksWithIncrementalRehash) {
  Dict<int> d;
  bool saw_rehash = false;
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) {
    d.insert(key_of(i), i);
    if (d.rehashing()) {
      saw_rehash = true;
      // Mid-rehash every key must be findable, in either table.
      if (i % 997 == 0) {
        for (int j = 0; j <= i; j += 7) ASSERT_NE(d.find(key_of(j)), nullptr) << j;
      }
    }
  }
  EXPECT_TRUE(saw_rehash);
  EXPECT_EQ(d.size(), static_cast<size_t>(kN));
  while (d.rehash_step(100)) {
  }
  EXPECT_FALSE(d.rehashing());
  // Load factor <= 1 after growth finished: buckets is the power of two >= n.
  EXPECT_EQ(d.bucket_count(), 32768u);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(*d.find(key_of(i)), i);

  // Shrink: erase all but 100.
  bool saw_shrink_rehash = false;
  for (int i = 100; i < kN; ++i) {
    ASSERT_TRUE(d.erase(key_of(i)));
    if (d.rehashing()) saw_shrink_rehash = true;
  }
  EXPECT_TRUE(saw_shrink_rehash);
  for (int k = 0; k < 1000 && d.rehash_step(100); ++k) {
  }
  EXPECT_FALSE(d.rehashing());
  EXPECT_EQ(d.size(), 100u);
  EXPECT_LE(d.bucket_count(), 1024u);  // 100 * 8 < buckets would shrink again
  EXPECT_GE(d.bucket_count(), 128u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
  for (int i = 100; i < kN; i += 13) ASSERT_EQ(d.find(key_of(i)), nullptr);

  // Erasing the last entry frees the tables.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(d.erase(key_of(i)));
  EXPECT_EQ(d.bucket_count(), 0u);
  EXPECT_FALSE(d.rehashing());
}

TEST(DsDict, HugeShrinkCascades) {
  Dict<int> d;
  for (int i = 0; i < 300000; ++i) d.insert(key_of(i), i);
  while (d.rehash_step(1000)) {
  }
  const size_t big = d.bucket_count();
  EXPECT_EQ(big, 524288u);
  for (int i = 10; i < 300000; ++i) d.erase(key_of(i));
  // Shrinks by at most 64x per resize; driving the rehash cascades down.
  while (d.rehash_step(1000)) {
  }
  EXPECT_EQ(d.size(), 10u);
  EXPECT_EQ(d.bucket_count(), 32u);  // next_pow2(2 * 10)
  for (int i = 0; i < 10; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
}

TEST(DsDict, EachOperationDoesBoundedRehashWork) {
  Dict<int> d;
  for (int i = 0; i < 4096; ++i) d.insert(key_of(i), i);
  while (d.rehash_step(100)) {
  }
  ASSERT_EQ(d.bucket_count(), 4096u);
  d.insert("one more", 0);  // 4097 > 4096: a doubling starts
  ASSERT_TRUE(d.rehashing());
  // One step per operation: the doubling needs many operations to finish.
  int ops = 0;
  while (d.rehashing()) {
    d.find("nothing");
    ++ops;
  }
  EXPECT_GT(ops, 100);
  EXPECT_LE(ops, 4096);
  EXPECT_EQ(d.bucket_count(), 8192u);
}

TEST(DsDict, ReserveAndRehashStep) {
  Dict<int> d;
  d.reserve(1000);
  EXPECT_EQ(d.bucket_count(), 1024u);
  EXPECT_FALSE(d.rehashing());
  for (int i = 0; i < 1000; ++i) d.insert(key_of(i), i);
  EXPECT_EQ(d.bucket_count(), 1024u);  // no growth was needed
  d.reserve(5000);
  EXPECT_TRUE(d.rehashing());
  EXPECT_TRUE(d.rehash_step(1));
  EXPECT_FALSE(d.rehash_step(SIZE_MAX));
  EXPECT_EQ(d.bucket_count(), 8192u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
}

TEST(DsDict, EntriesAndKeyViewsAreStable) {
  Dict<int> d;
  std::vector<std::pair<std::string_view, int*>> held;
  for (int i = 0; i < 200; ++i) {
    auto [e, added] = d.try_emplace_entry(key_of(i), i);
    ASSERT_TRUE(added);
    held.emplace_back(e->key(), &e->second);
  }
  for (int i = 200; i < 100000; ++i) d.insert(key_of(i), i);  // many resizes
  for (int i = 1000; i < 100000; ++i) d.erase(key_of(i));     // and shrinks
  while (d.rehash_step(100)) {
  }
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(held[i].first, key_of(i));
    EXPECT_EQ(*held[i].second, i);
    EXPECT_EQ(d.find(key_of(i)), held[i].second);
  }
  // Moving the Dict keeps them valid too.
  Dict<int> moved(std::move(d));
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(moved.find(key_of(5)), held[5].second);
  EXPECT_EQ(held[5].first, key_of(5));
}

TEST(DsDict, EraseAndTakeByOwnKeyView) {
  Dict<std::string> d;
  for (int i = 0; i < 50; ++i) d.insert(key_of(i), "v" + std::to_string(i));
  auto* e = d.find_entry(key_of(7));
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(d.erase(e->key()));  // the view points into the erased entry
  EXPECT_EQ(d.find(key_of(7)), nullptr);
  auto* f = d.find_entry(key_of(8));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(d.take(f->first), std::optional<std::string>("v8"));
  EXPECT_EQ(d.size(), 48u);
  // Inserting under a key viewed from another entry.
  auto* g = d.find_entry(key_of(9));
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(d.insert(g->key(), "x").second);
}

TEST(DsDict, ForEach) {
  Dict<int> d;
  for (int i = 0; i < 1000; ++i) d.insert(key_of(i), i);
  std::map<std::string, int> seen;
  d.for_each([&](std::string_view k, int& v) {
    seen[std::string(k)] = v;
    v += 1;
  });
  EXPECT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[key_of(i)], i);
  const Dict<int>& cd = d;
  long long sum = 0;
  cd.for_each([&](std::string_view, const int& v) { sum += v; });
  EXPECT_EQ(sum, 1000LL * 999 / 2 + 1000);
}

TEST(DsDict, ForEachWhileRehashingSeesEveryEntryOnce) {
  Dict<int> d;
  for (int i = 0; i < 5000; ++i) d.insert(key_of(i), i);
  d.reserve(100000);
  d.rehash_step(100);
  ASSERT_TRUE(d.rehashing());
  std::map<std::string, int> seen;
  d.for_each([&](std::string_view k, int&) { ++seen[std::string(k)]; });
  EXPECT_EQ(seen.size(), 5000u);
  for (auto& [k, n] : seen) EXPECT_EQ(n, 1) << k;
}

TEST(DsDict, ScanWithoutResizeReportsEachKeyOnce) {
  Dict<int> d;
  for (int i = 0; i < 5000; ++i) d.insert(key_of(i), i);
  while (d.rehash_step(100)) {
  }
  auto seen = full_scan(d);
  EXPECT_EQ(seen.size(), 5000u);
  for (auto& [k, n] : seen) EXPECT_EQ(n, 1) << k;
  const Dict<int>& cd = d;
  EXPECT_EQ(full_scan(cd).size(), 5000u);
}

TEST(DsDict, ScanWhileRehashing) {
  Dict<int> d;
  for (int i = 0; i < 5000; ++i) d.insert(key_of(i), i);
  d.reserve(70000);  // a big incremental growth, left half done
  d.rehash_step(3000);
  ASSERT_TRUE(d.rehashing());
  auto seen = full_scan(d);  // scan never rehashes
  ASSERT_TRUE(d.rehashing());
  EXPECT_EQ(seen.size(), 5000u);
  for (auto& [k, n] : seen) EXPECT_EQ(n, 1) << k;
}

// The dictScan guarantee: keys present for the whole scan are reported at
// least once even though the table grows (many times, and mid-rehash) between
// the calls.
TEST(DsDict, ScanGuaranteeUnderGrowth) {
  for (int seed = 0; seed < 3; ++seed) {
    Dict<int> d;
    constexpr int kStable = 3000;
    for (int i = 0; i < kStable; ++i) d.insert(key_of(i), i);
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int next = 1000000;
    int calls = 0;
    bool saw_mid_rehash = false;
    do {
      cursor = d.scan(cursor, [&](std::string_view k, int&) { seen.emplace(k); });
      ++calls;
      saw_mid_rehash |= d.rehashing();
      // Grow fast early in the scan (several doublings), then stop growing
      // so the scan can finish (a table growing faster than SCAN walks it
      // postpones the end, in Redis too).
      if (next < 1000000 + 60000) {
        for (int j = 0; j < 20 + seed * 20; ++j) d.insert(key_of(next++), 0);
      }
    } while (cursor != 0);
    EXPECT_TRUE(saw_mid_rehash);
    EXPECT_GT(d.size(), 10u * kStable);  // grew several times during the scan
    for (int i = 0; i < kStable; ++i) ASSERT_TRUE(seen.count(key_of(i))) << key_of(i);
  }
}

TEST(DsDict, ScanGuaranteeUnderShrink) {
  Dict<int> d;
  constexpr int kStable = 500;
  constexpr int kExtra = 60000;
  for (int i = 0; i < kStable; ++i) d.insert(key_of(i), i);
  for (int i = 0; i < kExtra; ++i) d.insert("extra:" + std::to_string(i), i);
  while (d.rehash_step(100)) {
  }
  const size_t start_buckets = d.bucket_count();
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int erased = 0;
  bool saw_mid_rehash = false;
  do {
    cursor = d.scan(cursor, [&](std::string_view k, int&) { seen.emplace(k); });
    saw_mid_rehash |= d.rehashing();
    for (int j = 0; j < 200 && erased < kExtra; ++j) {
      ASSERT_TRUE(d.erase("extra:" + std::to_string(erased++)));
    }
  } while (cursor != 0);
  EXPECT_TRUE(saw_mid_rehash);
  EXPECT_LT(d.bucket_count(), start_buckets / 8);
  for (int i = 0; i < kStable; ++i) ASSERT_TRUE(seen.count(key_of(i))) << key_of(i);
}

TEST(DsDict, ScanGuaranteeUnderRandomChurn) {
  Rng rng(42);
  for (int round = 0; round < 20; ++round) {
    Dict<int> d;
    const int stable = 50 + static_cast<int>(rng.below(2000));
    for (int i = 0; i < stable; ++i) d.insert(key_of(i), i);
    std::vector<std::string> extras;
    const int pre = static_cast<int>(rng.below(20000));
    for (int i = 0; i < pre; ++i) extras.push_back("x" + std::to_string(i));
    for (const auto& k : extras) d.insert(k, 0);
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int serial = pre;
    do {
      cursor = d.scan(cursor, [&](std::string_view k, int&) { seen.emplace(k); });
      // Randomly grow (with a cap, so the scan terminates) or shrink.
      const auto n = rng.below(300);
      if (rng.below(2) == 0 && serial < pre + 40000) {
        for (uint64_t j = 0; j < n; ++j) {
          extras.push_back("x" + std::to_string(serial++));
          d.insert(extras.back(), 0);
        }
      } else {
        for (uint64_t j = 0; j < n && !extras.empty(); ++j) {
          const size_t pick = rng.below(extras.size());
          ASSERT_TRUE(d.erase(extras[pick]));
          extras[pick] = extras.back();
          extras.pop_back();
        }
      }
      if (rng.below(4) == 0) d.rehash_step(rng.below(50));
    } while (cursor != 0);
    for (int i = 0; i < stable; ++i) ASSERT_TRUE(seen.count(key_of(i))) << round << " " << i;
  }
}

TEST(DsDict, ScanAcceptsAnyCursor) {
  Dict<int> d;
  for (int i = 0; i < 100; ++i) d.insert(key_of(i), i);
  uint64_t cursor = 0xDEADBEEFCAFEF00DULL;
  int calls = 0;
  do {
    cursor = d.scan(cursor, [](std::string_view, int&) {});
  } while (cursor != 0 && ++calls < 10000);
  EXPECT_EQ(cursor, 0u);
}

TEST(DsDict, SampleReturnsDistinctLiveEntries) {
  Dict<int> d;
  Rng rng(7);
  for (int i = 0; i < 10000; ++i) d.insert(key_of(i), i);
  std::set<std::string> ever;
  for (int round = 0; round < 2000; ++round) {
    std::set<std::string> got;
    const size_t n = d.sample(rng, 20, [&](std::string_view k, int& v) {
      EXPECT_EQ(key_of(v), k);
      EXPECT_TRUE(got.emplace(k).second) << "duplicate " << k;
    });
    EXPECT_EQ(n, got.size());
    EXPECT_LE(n, 20u);
    EXPECT_GE(n, 1u);
    ever.insert(got.begin(), got.end());
  }
  EXPECT_GT(ever.size(), 9000u);  // 40000 draws reach nearly every key

  // More than size(): at most size() distinct entries.
  Dict<int> small;
  for (int i = 0; i < 5; ++i) small.insert(key_of(i), i);
  std::set<std::string> got;
  const size_t n =
      small.sample(rng, 100, [&](std::string_view k, int&) { EXPECT_TRUE(got.emplace(k).second); });
  EXPECT_LE(n, 5u);
  EXPECT_GE(n, 1u);
  EXPECT_EQ(small.sample(rng, 0, [](std::string_view, int&) { FAIL(); }), 0u);
}

TEST(DsDict, SampleWhileRehashingAndThenErase) {
  Dict<int> d;
  Rng rng(9);
  for (int i = 0; i < 3000; ++i) d.insert(key_of(i), i);
  d.reserve(50000);
  ASSERT_TRUE(d.rehashing());
  // Active-expiry style: collect views, then erase them.
  size_t erased = 0;
  int rounds = 0;
  while (!d.empty() && ++rounds < 100000) {
    std::vector<std::string_view> due;
    // A sparse table (here: mid-growth to 65536 buckets) may yield nothing.
    d.sample(rng, 20, [&](std::string_view k, int&) { due.push_back(k); });
    for (auto k : due) {
      ASSERT_TRUE(d.erase(k));
      ++erased;
    }
  }
  EXPECT_EQ(erased, 3000u);
  EXPECT_EQ(d.bucket_count(), 0u);
  EXPECT_LT(rounds, 5000);
}

TEST(DsDict, RandomEntryIsUniform) {
  Dict<int> d;
  Rng rng(123);
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) d.insert(key_of(i), i);
  std::vector<int> hits(kN);
  constexpr int kDraws = kN * 1000;
  for (int t = 0; t < kDraws; ++t) {
    auto* e = d.random_entry(rng);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->first, key_of(e->second));
    ++hits[e->second];
  }
  const double expected = static_cast<double>(kDraws) / kN;
  for (int i = 0; i < kN; ++i) {
    // 1000 expected hits: 4.5 standard deviations is about +-140.
    EXPECT_GT(hits[i], expected * 0.85) << i;
    EXPECT_LT(hits[i], expected * 1.15) << i;
  }
}

TEST(DsDict, RandomEntryWhileRehashingAndSparse) {
  Rng rng(5);
  Dict<int> d;
  for (int i = 0; i < 100000; ++i) d.insert(key_of(i), i);
  while (d.rehash_step(1000)) {
  }
  for (int i = 3; i < 100000; ++i) d.erase(key_of(i));
  ASSERT_EQ(d.size(), 3u);
  std::set<int> seen;
  for (int t = 0; t < 300; ++t) {
    auto* e = d.random_entry(rng);
    ASSERT_NE(e, nullptr);
    seen.insert(e->second);
  }
  EXPECT_EQ(seen.size(), 3u);

  Dict<int> r;
  for (int i = 0; i < 1000; ++i) r.insert(key_of(i), i);
  r.reserve(100000);
  ASSERT_TRUE(r.rehashing());
  for (int t = 0; t < 100; ++t) {
    auto* e = r.random_entry(rng);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->first, key_of(e->second));
  }
}

// Counts live instances to check that every value is destroyed exactly once.
struct Tracked {
  static inline int live = 0;
  explicit Tracked(int v) : value(std::make_unique<int>(v)) { ++live; }
  Tracked(Tracked&& o) noexcept : value(std::move(o.value)) { ++live; }
  Tracked& operator=(Tracked&& o) noexcept {
    value = std::move(o.value);
    return *this;
  }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { --live; }
  std::unique_ptr<int> value;
};

TEST(DsDict, MoveOnlyValues) {
  {
    Dict<std::unique_ptr<int>> d;
    d.insert("a", std::make_unique<int>(1));
    auto [p, added] = d.insert("a", std::make_unique<int>(2));
    EXPECT_FALSE(added);
    EXPECT_EQ(**p, 1);
    d.upsert("a", std::make_unique<int>(3));
    EXPECT_EQ(**d.find("a"), 3);
    d.try_emplace("b", new int(4));
    auto taken = d.take("b");
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(**taken, 4);
  }
  {
    Dict<Tracked> d;
    for (int i = 0; i < 5000; ++i) d.try_emplace(key_of(i), i);
    EXPECT_EQ(Tracked::live, 5000);
    for (int i = 0; i < 5000; i += 2) d.erase(key_of(i));
    EXPECT_EQ(Tracked::live, 2500);
    {
      auto t = d.take(key_of(1));
      ASSERT_TRUE(t.has_value());
      EXPECT_EQ(*t->value, 1);
    }
    EXPECT_EQ(Tracked::live, 2499);
    d.upsert(key_of(3), Tracked(33));
    EXPECT_EQ(*d.find(key_of(3))->value, 33);
    EXPECT_EQ(Tracked::live, 2499);
    Dict<Tracked> other;
    other.try_emplace("x", 1);
    other = std::move(d);
    EXPECT_EQ(Tracked::live, 2499);
  }
  EXPECT_EQ(Tracked::live, 0);
}

struct alignas(64) OverAligned {
  explicit OverAligned(int v) : value(v) {}
  int value;
};

TEST(DsDict, OverAlignedValues) {
  Dict<OverAligned> d;
  for (int i = 0; i < 1000; ++i) d.try_emplace(key_of(i), i);
  for (int i = 0; i < 1000; ++i) {
    OverAligned* v = d.find(key_of(i));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v) % 64, 0u);
    EXPECT_EQ(v->value, i);
  }
}

struct ThrowingValue {
  explicit ThrowingValue(int v) {
    if (v < 0) throw std::runtime_error("no");
  }
};

TEST(DsDict, ThrowingConstructorLeavesDictUnchanged) {
  Dict<ThrowingValue> d;
  d.try_emplace("a", 1);
  EXPECT_THROW(d.try_emplace("b", -1), std::runtime_error);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.find("b"), nullptr);
  EXPECT_NE(d.find("a"), nullptr);
}

TEST(DsDict, SwapAndMoveAssign) {
  Dict<int> a;
  Dict<int> b;
  a.insert("x", 1);
  b.insert("y", 2);
  b.insert("z", 3);
  std::swap(a, b);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(*a.find("y"), 2);
  EXPECT_EQ(*b.find("x"), 1);
  swap(a, b);
  EXPECT_EQ(*a.find("x"), 1);
  b = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(*b.find("x"), 1);
  a.insert("again", 4);  // a moved-from Dict is reusable
  EXPECT_EQ(*a.find("again"), 4);
}

TEST(DsDict, SeedIsCapturedPerTable) {
  const uint64_t saved = setd::ds::hash_seed();
  setd::ds::set_hash_seed(111);
  Dict<int> d;
  for (int i = 0; i < 1000; ++i) d.insert(key_of(i), i);
  setd::ds::set_hash_seed(222);  // does not disturb a populated Dict
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
  for (int i = 1000; i < 3000; ++i) d.insert(key_of(i), i);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
  d.clear();
  for (int i = 0; i < 100; ++i) d.insert(key_of(i), i);  // now under seed 222
  for (int i = 0; i < 100; ++i) ASSERT_EQ(*d.find(key_of(i)), i);
  setd::ds::set_hash_seed(saved);
}

// A model-based check of every mutating operation against std::unordered_map.
TEST(DsDict, RandomOperationsMatchModel) {
  Rng rng(2024);
  Dict<int> d;
  std::unordered_map<std::string, int> model;
  for (int op = 0; op < 200000; ++op) {
    const std::string k = "k" + std::to_string(rng.below(op < 100000 ? 20000 : 500));
    const int v = static_cast<int>(rng.below(1000000));
    switch (rng.below(6)) {
      case 0: {
        auto [p, added] = d.insert(k, v);
        auto [it, madded] = model.emplace(k, v);
        ASSERT_EQ(added, madded);
        ASSERT_EQ(*p, it->second);
        break;
      }
      case 1:
        d.upsert(k, v);
        model[k] = v;
        break;
      case 2:
        ASSERT_EQ(d.erase(k), model.erase(k) == 1);
        break;
      case 3: {
        auto t = d.take(k);
        auto it = model.find(k);
        ASSERT_EQ(t.has_value(), it != model.end());
        if (t) {
          ASSERT_EQ(*t, it->second);
          model.erase(it);
        }
        break;
      }
      case 4: {
        int* p = d.find(k);
        auto it = model.find(k);
        ASSERT_EQ(p != nullptr, it != model.end());
        if (p) {
          ASSERT_EQ(*p, it->second);
        }
        break;
      }
      default:
        if (rng.below(10) == 0) d.rehash_step(rng.below(20));
        break;
    }
    ASSERT_EQ(d.size(), model.size());
  }
  size_t n = 0;
  d.for_each([&](std::string_view k, int& v) {
    ++n;
    auto it = model.find(std::string(k));
    ASSERT_NE(it, model.end());
    EXPECT_EQ(it->second, v);
  });
  EXPECT_EQ(n, model.size());
}

}  // namespace

// Unit tests for setd::ds::HashSet.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/hash.hpp"
#include "setd/ds/hash_set.hpp"

namespace setd::ds {
namespace {

// Fixes the process-wide hash seed for one test and restores it afterwards,
// so layouts (and thus the fixed-seed statistics) are reproducible.
class SeedGuard {
 public:
  explicit SeedGuard(uint64_t seed) : saved_(hash_seed()) { set_hash_seed(seed); }
  ~SeedGuard() { set_hash_seed(saved_); }
  SeedGuard(const SeedGuard&) = delete;
  SeedGuard& operator=(const SeedGuard&) = delete;

 private:
  uint64_t saved_;
};

std::string key(size_t i) { return "m:" + std::to_string(i); }

std::unordered_set<std::string> members_of(const HashSet& s) {
  std::unordered_set<std::string> out;
  size_t calls = 0;
  s.for_each([&](std::string_view m) {
    ++calls;
    out.emplace(m);
  });
  EXPECT_EQ(calls, out.size()) << "for_each reported a member twice";
  return out;
}

// Members whose hash has its `bits` low bits zero: they all share bucket 0
// of any table with at most 2^bits buckets.
std::vector<std::string> colliding_members(size_t n, int bits) {
  std::vector<std::string> out;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (uint64_t i = 0; out.size() < n; ++i) {
    std::string s = "c:" + std::to_string(i);
    if ((hash_bytes(s) & mask) == 0) out.push_back(std::move(s));
  }
  return out;
}

double chi_square(const std::vector<int>& hist, double expected) {
  double chi2 = 0;
  for (int h : hist) chi2 += (h - expected) * (h - expected) / expected;
  return chi2;
}

TEST(HashSet, EmptySet) {
  HashSet s;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains("x"));
  EXPECT_FALSE(s.erase("x"));
  EXPECT_EQ(s.scan(0, [](std::string_view) { FAIL(); }), 0u);
  EXPECT_EQ(s.bucket_count(), 0u);
  EXPECT_EQ(s.memory_bytes(), 0u);
  EXPECT_EQ(s.max_bucket_size(), 0u);
}

TEST(HashSet, InsertEraseContains) {
  HashSet s;
  EXPECT_TRUE(s.insert("a"));
  EXPECT_TRUE(s.insert("b"));
  EXPECT_FALSE(s.insert("a"));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_TRUE(s.contains("a"));
  EXPECT_TRUE(s.contains("b"));
  EXPECT_FALSE(s.contains("c"));
  EXPECT_FALSE(s.contains("ab"));
  EXPECT_TRUE(s.erase("a"));
  EXPECT_FALSE(s.erase("a"));
  EXPECT_FALSE(s.contains("a"));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.erase("b"));
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bucket_count(), 0u);  // an emptied set frees its tables
  EXPECT_TRUE(s.insert("a"));
  EXPECT_TRUE(s.contains("a"));
}

TEST(HashSet, BinaryMembers) {
  const std::string nul1("a\0b", 3);
  const std::string nul2("a\0c", 3);
  const std::string zeros(5, '\0');
  const std::string empty;
  std::string m254(254, 'x');
  std::string m255(255, 'x');
  std::string m300(300, 'y');
  m300[150] = '\0';
  std::string m300b = m300;
  m300b[299] = 'z';
  std::string big(100 * 1024, 'q');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i);
  std::string big2 = big;
  big2[big2.size() - 1] ^= 1;

  HashSet s;
  for (const std::string* m :
       std::vector<const std::string*>{&nul1, &zeros, &empty, &m254, &m255, &m300, &big}) {
    EXPECT_TRUE(s.insert(*m));
    EXPECT_FALSE(s.insert(*m));
  }
  EXPECT_EQ(s.size(), 7u);
  EXPECT_TRUE(s.contains(nul1));
  EXPECT_FALSE(s.contains(nul2));
  EXPECT_FALSE(s.contains("a"));
  EXPECT_TRUE(s.contains(zeros));
  EXPECT_FALSE(s.contains(std::string(4, '\0')));
  EXPECT_TRUE(s.contains(empty));
  EXPECT_TRUE(s.contains(m254));
  EXPECT_TRUE(s.contains(m255));
  EXPECT_FALSE(s.contains(std::string(256, 'x')));
  EXPECT_TRUE(s.contains(m300));
  EXPECT_FALSE(s.contains(m300b));
  EXPECT_TRUE(s.contains(big));
  EXPECT_FALSE(s.contains(big2));
  EXPECT_GE(s.memory_bytes(), big.size() + m300.size() + m255.size());

  const auto all = members_of(s);
  EXPECT_EQ(all.size(), 7u);
  EXPECT_TRUE(all.count(big));
  EXPECT_TRUE(all.count(empty));
  EXPECT_TRUE(all.count(nul1));

  // Long members survive growth (their stubs move, their bytes do not).
  for (size_t i = 0; i < 5000; ++i) s.insert(key(i));
  s.rehash_step(SIZE_MAX);
  EXPECT_TRUE(s.contains(big));
  EXPECT_TRUE(s.contains(m300));
  EXPECT_TRUE(s.contains(empty));
  EXPECT_TRUE(s.erase(big));
  EXPECT_FALSE(s.contains(big));
  EXPECT_TRUE(s.erase(empty));
  EXPECT_FALSE(s.contains(empty));
  EXPECT_TRUE(s.erase(m300));
  EXPECT_TRUE(s.erase(m255));
  EXPECT_TRUE(s.contains(m254));
  EXPECT_EQ(s.size(), 5000u + 3);
}

TEST(HashSet, MatchesModelUnderRandomOperations) {
  SeedGuard seed(7);
  base::Rng rng(99);
  HashSet s;
  std::unordered_set<std::string> model;
  auto random_member_string = [&]() {
    const uint64_t kind = rng.below(10);
    std::string m;
    if (kind < 7) {
      m = key(rng.below(3000));
    } else if (kind < 9) {
      m.assign(rng.below(20), '\0');
      for (char& c : m) c = static_cast<char>(rng.below(3));
    } else {
      m.assign(250 + rng.below(20), 'L');  // straddles the inline/out-of-line limit
      m += std::to_string(rng.below(50));
    }
    return m;
  };
  for (int i = 0; i < 60000; ++i) {
    const std::string m = random_member_string();
    switch (rng.below(5)) {
      case 0:
      case 1:
        ASSERT_EQ(s.erase(m), model.erase(m) == 1) << i;
        break;
      case 2:
        ASSERT_EQ(s.contains(m), model.count(m) == 1) << i;
        break;
      default:
        ASSERT_EQ(s.insert(m), model.insert(m).second) << i;
    }
    ASSERT_EQ(s.size(), model.size());
    if (i % 5000 == 0) {
      ASSERT_EQ(members_of(s), model);
    }
  }
  EXPECT_EQ(members_of(s), model);
  // pop_random drains the set, returning every member exactly once.
  std::unordered_set<std::string> popped;
  while (!s.empty()) {
    const std::string m = s.pop_random(rng);
    ASSERT_TRUE(model.count(m)) << m;
    ASSERT_TRUE(popped.insert(m).second) << "popped twice: " << m;
    ASSERT_FALSE(s.contains(m));
  }
  EXPECT_EQ(popped, model);
  EXPECT_EQ(s.bucket_count(), 0u);
  EXPECT_EQ(s.memory_bytes(), 0u);
}

TEST(HashSet, GrowToOneMillionAndShrinkBack) {
  constexpr size_t kN = 1000000;
  HashSet s;
  for (size_t i = 0; i < kN; ++i) ASSERT_TRUE(s.insert(key(i)));
  EXPECT_EQ(s.size(), kN);
  EXPECT_FALSE(s.insert(key(123456)));
  for (size_t i = 0; i < kN; i += 997) ASSERT_TRUE(s.contains(key(i)));
  EXPECT_FALSE(s.contains(key(kN)));
  // Load factor stays within the documented bounds (at most
  // kMaxLoadFactor per bucket of the main table).
  EXPECT_LE(s.size(), HashSet::kMaxLoadFactor * s.bucket_count());
  EXPECT_GE(s.size() * 4, s.bucket_count());
  // Lean memory: the design target is <= 24 bytes per short member.
  EXPECT_LT(static_cast<double>(s.memory_bytes()) / kN, 24.0);
  const size_t big_buckets = s.bucket_count();

  for (size_t i = 0; i < kN - 100; ++i) ASSERT_TRUE(s.erase(key(i)));
  EXPECT_EQ(s.size(), 100u);
  s.rehash_step(SIZE_MAX);
  EXPECT_LE(s.bucket_count(), 128u);  // shrank back
  EXPECT_LT(s.bucket_count(), big_buckets);
  for (size_t i = kN - 100; i < kN; ++i) ASSERT_TRUE(s.contains(key(i)));
  for (size_t i = 0; i < 1000; ++i) ASSERT_FALSE(s.contains(key(i)));
  EXPECT_LT(s.memory_bytes(), 100u * 64);
}

TEST(HashSet, RehashIsIncremental) {
  HashSet s;
  size_t i = 0;
  // Insert until a doubling of a >= 1024-bucket table has started.
  do {
    s.insert(key(i++));
  } while (!(s.is_rehashing() && s.bucket_count() >= 3 * 1024));
  const size_t old_buckets = s.bucket_count() / 3;  // old + new (2 * old)
  // One step migrates one non-empty bucket: many single steps are needed.
  size_t steps = 0;
  while (s.rehash_step(1)) ++steps;
  EXPECT_GE(steps, old_buckets / 11);
  EXPECT_EQ(s.bucket_count(), 2 * old_buckets);
  for (size_t j = 0; j < i; ++j) ASSERT_TRUE(s.contains(key(j)));
  EXPECT_EQ(s.size(), i);
}

TEST(HashSet, HeaderEscapeForHugeBuckets) {
  SeedGuard seed(11);
  // 300 members that share bucket 0 of every table of <= 4096 buckets: one
  // blob with a 5-byte header (count >= 255).
  const auto col = colliding_members(300, 12);
  HashSet s;
  for (const auto& m : col) ASSERT_TRUE(s.insert(m));
  s.rehash_step(SIZE_MAX);
  EXPECT_EQ(s.max_bucket_size(), 300u);
  for (const auto& m : col) ASSERT_TRUE(s.contains(m));
  // Erase across the 255 boundary, checking each time.
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(s.erase(col[i]));
    ASSERT_FALSE(s.contains(col[i]));
    for (size_t j = i + 1; j < col.size(); j += 37) ASSERT_TRUE(s.contains(col[j]));
  }
  s.rehash_step(SIZE_MAX);
  EXPECT_EQ(s.max_bucket_size(), 200u);
  EXPECT_EQ(members_of(s), std::unordered_set<std::string>(col.begin() + 100, col.end()));
}

TEST(HashSet, CloneIsDeepAndMoveLeavesEmpty) {
  HashSet a;
  const std::string longm(1000, 'z');
  a.insert(longm);
  for (size_t i = 0; i < 1000; ++i) a.insert(key(i));
  HashSet b = a.clone();
  EXPECT_EQ(members_of(a), members_of(b));
  EXPECT_TRUE(b.erase(longm));
  EXPECT_TRUE(a.contains(longm));
  b.insert("only-b");
  EXPECT_FALSE(a.contains("only-b"));
  HashSet c = std::move(b);
  EXPECT_TRUE(c.contains("only-b"));
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_FALSE(b.contains("only-b"));
  b.insert("again");
  EXPECT_TRUE(b.contains("again"));
  a = std::move(c);
  EXPECT_TRUE(a.contains("only-b"));
  EXPECT_FALSE(a.contains(longm));
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.memory_bytes(), 0u);
}

TEST(HashSet, ReservePresizes) {
  HashSet s;
  s.reserve(513);
  EXPECT_GE(s.bucket_count() * HashSet::kResizeTargetLoad, 513u);  // the load after reserve
  const size_t buckets = s.bucket_count();
  for (size_t i = 0; i < 513; ++i) s.insert(key(i));
  EXPECT_EQ(s.bucket_count(), buckets);  // no resize needed
  s.reserve(100000);                     // enlarging a populated set
  s.rehash_step(SIZE_MAX);
  EXPECT_GE(s.bucket_count() * HashSet::kResizeTargetLoad, 100000u);
  for (size_t i = 0; i < 513; ++i) ASSERT_TRUE(s.contains(key(i)));
}

// ---------------------------------------------------------------------------
// SCAN guarantee
// ---------------------------------------------------------------------------

// Runs a full scan, calling mutate(call_index) between calls, and returns
// every reported member with the number of calls and of calls that started
// mid-rehash.
struct ScanResult {
  std::unordered_map<std::string, int> seen;
  size_t calls = 0;
  size_t rehashing_calls = 0;
};

template <class Mutate>
ScanResult full_scan(const HashSet& s, Mutate&& mutate) {
  ScanResult r;
  uint64_t cursor = 0;
  do {
    if (s.is_rehashing()) ++r.rehashing_calls;
    cursor = s.scan(cursor, [&](std::string_view m) { ++r.seen[std::string(m)]; });
    ++r.calls;
    mutate(r.calls);
    if (r.calls > 50000000) {
      ADD_FAILURE() << "scan does not terminate";
      break;
    }
  } while (cursor != 0);
  return r;
}

TEST(HashSetScan, StableSetReportsEveryMemberExactlyOnce) {
  HashSet s;
  for (size_t i = 0; i < 20000; ++i) s.insert(key(i));
  s.rehash_step(SIZE_MAX);
  const auto r = full_scan(s, [](size_t) {});
  EXPECT_EQ(r.seen.size(), 20000u);
  for (const auto& [m, n] : r.seen) ASSERT_EQ(n, 1) << m;
  EXPECT_EQ(r.calls, s.bucket_count());
}

TEST(HashSetScan, GuaranteeUnderGrowth) {
  for (uint64_t seed : {1, 2, 3}) {
    SeedGuard guard(seed);
    HashSet s;
    for (size_t i = 0; i < 3000; ++i) s.insert(key(i));
    size_t next = 3000;
    const auto r = full_scan(s, [&](size_t call) {
      if (call < 4000) {
        for (int k = 0; k < 60; ++k) s.insert("new:" + std::to_string(next++));
      }
    });
    EXPECT_GT(s.size(), 200000u);
    EXPECT_GT(r.rehashing_calls, 0u);
    for (size_t i = 0; i < 3000; ++i) ASSERT_TRUE(r.seen.count(key(i))) << key(i);
  }
}

TEST(HashSetScan, GuaranteeUnderShrink) {
  for (uint64_t seed : {4, 5, 6}) {
    SeedGuard guard(seed);
    HashSet s;
    constexpr size_t kN = 200000;
    for (size_t i = 0; i < kN; ++i) s.insert(key(i));
    s.rehash_step(SIZE_MAX);
    const size_t start_buckets = s.bucket_count();
    // Stable members: every 100th. The rest are erased during the scan.
    size_t next_victim = 0;
    const auto r = full_scan(s, [&](size_t call) {
      if (call < 20) return;  // let the cursor get going on the big table
      for (int k = 0; k < 400 && next_victim < kN; ++next_victim) {
        if (next_victim % 100 == 0) continue;
        s.erase(key(next_victim));
        ++k;
      }
    });
    EXPECT_EQ(s.size(), kN / 100);
    s.rehash_step(SIZE_MAX);
    EXPECT_LE(s.bucket_count(), start_buckets / 16);
    EXPECT_GT(r.rehashing_calls, 0u);
    for (size_t i = 0; i < kN; i += 100) ASSERT_TRUE(r.seen.count(key(i))) << key(i);
  }
}

TEST(HashSetScan, GuaranteeUnderRandomGrowAndShrink) {
  for (uint64_t seed : {10, 11, 12, 13}) {
    SeedGuard guard(seed);
    base::Rng rng(seed);
    HashSet s;
    std::vector<std::string> stable;
    for (size_t i = 0; i < 2000; ++i) {
      stable.push_back("stable:" + std::to_string(i));
      s.insert(stable.back());
    }
    std::vector<std::string> volatile_members;
    size_t next = 0;
    const auto r = full_scan(s, [&](size_t call) {
      if (call > 3000) return;
      // Phases of growth and shrink so both directions happen mid-scan.
      const bool grow = (call / 300) % 2 == 0;
      const int ops = static_cast<int>(rng.below(200));
      for (int k = 0; k < ops; ++k) {
        if (grow || volatile_members.empty()) {
          volatile_members.push_back("v:" + std::to_string(next++));
          s.insert(volatile_members.back());
        } else {
          const size_t idx = rng.below(volatile_members.size());
          s.erase(volatile_members[idx]);
          volatile_members[idx] = std::move(volatile_members.back());
          volatile_members.pop_back();
        }
      }
    });
    EXPECT_GT(r.rehashing_calls, 0u);
    for (const auto& m : stable) ASSERT_TRUE(r.seen.count(m)) << m << " seed " << seed;
  }
}

TEST(HashSetScan, ScanDuringIncrementalRehash) {
  HashSet s;
  // Fill right up to the growth threshold of a 16384-bucket table, then
  // trigger the doubling: the rehash stays pending (table > 64 buckets).
  size_t n = 0;
  while (s.bucket_count() < 16384) {
    s.insert(key(n++));
    s.rehash_step(SIZE_MAX);
  }
  while (s.size() < HashSet::kMaxLoadFactor * s.bucket_count()) s.insert(key(n++));
  ASSERT_FALSE(s.is_rehashing());
  s.insert(key(n++));  // size > 4 * buckets: the doubling starts
  ASSERT_TRUE(s.is_rehashing());
  // Scan while single rehash steps happen between calls.
  const auto r = full_scan(s, [&](size_t) { s.rehash_step(1); });
  EXPECT_GT(r.rehashing_calls, 100u);
  EXPECT_FALSE(s.is_rehashing());
  EXPECT_EQ(r.seen.size(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(r.seen.count(key(i))) << key(i);

  // And a scan performed entirely while frozen mid-rehash reports each
  // member exactly once (no resize between calls: no duplicates).
  HashSet t;
  size_t m = 0;
  while (t.bucket_count() < 16384) {
    t.insert(key(m++));
    t.rehash_step(SIZE_MAX);
  }
  while (!t.is_rehashing()) t.insert(key(m++));
  ASSERT_TRUE(t.is_rehashing());
  t.rehash_step(500);  // part-way
  ASSERT_TRUE(t.is_rehashing());
  const auto r2 = full_scan(t, [](size_t) {});
  EXPECT_EQ(r2.seen.size(), m);
  for (const auto& [member, count] : r2.seen) ASSERT_EQ(count, 1) << member;
}

TEST(HashSetScan, ShrinkMidRehashDuringScan) {
  // A shrink rehash that is in progress while the scan runs (and members are
  // erased), exercising the "small table is the new one" branch.
  HashSet s;
  constexpr size_t kN = 100000;
  for (size_t i = 0; i < kN; ++i) s.insert(key(i));
  s.rehash_step(SIZE_MAX);
  size_t victim = 0;
  // Erase down to just below the shrink threshold (every 20th member stays:
  // 5000, under buckets / 2 at any maximum load up to 10).
  while (!s.is_rehashing() && victim < kN) {
    if (victim % 20 != 0) s.erase(key(victim));
    ++victim;
  }
  ASSERT_TRUE(s.is_rehashing());
  const auto r = full_scan(s, [&](size_t) {
    for (int k = 0; k < 3 && victim < kN; ++victim) {
      if (victim % 20 == 0) continue;
      s.erase(key(victim));
      ++k;
    }
  });
  EXPECT_GT(r.rehashing_calls, 10u);
  for (size_t i = 0; i < kN; i += 20) ASSERT_TRUE(r.seen.count(key(i))) << key(i);
}

TEST(HashSetScan, CursorFromDifferentTableSizeIsSafe) {
  HashSet s;
  for (size_t i = 0; i < 100; ++i) s.insert(key(i));
  // Arbitrary cursors never crash and always terminate.
  for (uint64_t c : {uint64_t{1}, uint64_t{12345}, ~uint64_t{0}, uint64_t{1} << 63}) {
    uint64_t cursor = c;
    size_t calls = 0;
    do {
      cursor = s.scan(cursor, [](std::string_view) {});
    } while (cursor != 0 && ++calls < 100000);
    EXPECT_EQ(cursor, 0u);
  }
}

// ---------------------------------------------------------------------------
// Fairness of random_member / pop_random
// ---------------------------------------------------------------------------

constexpr double kChi2Crit49 = 85.35;  // chi-square, 49 degrees of freedom, p = 0.001

TEST(HashSetRandom, RandomMemberChiSquare) {
  SeedGuard guard(2024);
  HashSet s;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < 50; ++i) {
    s.insert(key(i));
    index[key(i)] = i;
  }
  base::Rng rng(1);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) ++hist[index.at(std::string(s.random_member(rng)))];
  for (int h : hist) EXPECT_GT(h, 0);
  EXPECT_LT(chi_square(hist, kDraws / 50.0), kChi2Crit49);
}

TEST(HashSetRandom, RandomMemberNotBiasedByBucketSize) {
  // 25 members crammed into one bucket plus 25 spread out: a naive
  // "random bucket, then random member" would favour the spread ones 25:1.
  SeedGuard guard(77);
  const auto col = colliding_members(25, 12);
  HashSet s;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < 25; ++i) {
    s.insert(col[i]);
    index[col[i]] = i;
  }
  for (size_t i = 0; i < 25; ++i) {
    s.insert(key(i));
    index[key(i)] = 25 + i;
  }
  s.rehash_step(SIZE_MAX);
  ASSERT_GE(s.max_bucket_size(), 25u);
  base::Rng rng(2);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) ++hist[index.at(std::string(s.random_member(rng)))];
  EXPECT_LT(chi_square(hist, kDraws / 50.0), kChi2Crit49);
}

TEST(HashSetRandom, PopRandomChiSquare) {
  SeedGuard guard(5);
  HashSet s;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < 50; ++i) {
    s.insert(key(i));
    index[key(i)] = i;
  }
  base::Rng rng(3);
  std::vector<int> hist(50, 0);
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const std::string m = s.pop_random(rng);
    ASSERT_EQ(s.size(), 49u);
    ASSERT_FALSE(s.contains(m));
    ++hist[index.at(m)];
    s.insert(m);  // put it back: every draw is from the same 50 members
  }
  EXPECT_LT(chi_square(hist, kDraws / 50.0), kChi2Crit49);
}

TEST(HashSetRandom, RandomMemberUniformWhileRehashing) {
  HashSet s;
  size_t n = 0;
  while (s.bucket_count() < 512) {
    s.insert(key(n++));
    s.rehash_step(SIZE_MAX);
  }
  while (!s.is_rehashing()) s.insert(key(n++));
  s.rehash_step(100);
  ASSERT_TRUE(s.is_rehashing());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[key(i)] = i;
  base::Rng rng(4);
  std::vector<int> hist(n, 0);
  const int draws = static_cast<int>(n) * 50;
  for (int i = 0; i < draws; ++i) ++hist[index.at(std::string(s.random_member(rng)))];
  // df = n - 1 (~2050); critical value at p = 0.001 via the Wilson-Hilferty
  // normal approximation: df * (1 - 2/(9 df) + 3.09 sqrt(2/(9 df)))^3.
  const double df = static_cast<double>(n - 1);
  const double z = 1 - 2 / (9 * df) + 3.09 * std::sqrt(2 / (9 * df));
  EXPECT_LT(chi_square(hist, 50.0), df * z * z * z);
}

}  // namespace
}  // namespace setd::ds

// --- walks: a point-in-time view of one set, paid for a bucket at a time ----

namespace setd::ds {
namespace {

class CollectWalk final : public HashSet::WalkSink {
 public:
  void member(std::string_view m) override { seen.emplace_back(m); }
  void relocated(HashSet* now) override { where = now; }
  void ended() override { over = true; }
  std::vector<std::string> seen;
  HashSet* where = nullptr;
  bool over = false;
};

std::vector<std::string> sorted_members(const HashSet& s) {
  std::vector<std::string> out;
  s.for_each([&](std::string_view m) { out.emplace_back(m); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(HashSetWalk, ReportsEveryMemberOnceWhileTheSetChanges) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    HashSet s;
    const int n = 1 + static_cast<int>(rng() % 5000);
    for (int i = 0; i < n; ++i) s.insert("m" + std::to_string(i));
    if (round % 3 == 0) {  // begin in the middle of an incremental rehash
      for (int i = n; i < n + 2000; ++i) s.insert("m" + std::to_string(i));
    }
    const auto at_start = sorted_members(s);
    CollectWalk w;
    s.begin_walk(&w);
    base::Rng r(round);
    int next = 1000000;
    while (!s.walk_step(1 + rng() % 7)) {
      for (int ops = static_cast<int>(rng() % 12); ops > 0 && s.size() > 0; --ops) {
        switch (rng() % 4) {
          case 0:
            s.insert("new" + std::to_string(next++));
            break;
          case 1:
            s.erase("m" + std::to_string(rng() % (n + 2000)));
            break;
          case 2:
            s.pop_random(r);
            break;
          default:
            s.insert("m" + std::to_string(rng() % (n + 2000)));  // maybe re-added
            break;
        }
      }
    }
    EXPECT_TRUE(w.over);
    EXPECT_FALSE(s.walking());
    std::sort(w.seen.begin(), w.seen.end());
    ASSERT_EQ(w.seen, at_start) << "round " << round;
    // Resizing resumes afterwards: the set stays consistent.
    for (int i = 0; i < 20000; ++i) s.insert("after" + std::to_string(i));
    EXPECT_LE(s.size(), s.bucket_count() * HashSet::kMaxLoadFactor + 1);
  }
}

TEST(HashSetWalk, TheRestIsReportedWhenTheSetGoes) {
  CollectWalk w;
  std::vector<std::string> at_start;
  {
    HashSet s;
    for (int i = 0; i < 3000; ++i) s.insert("x" + std::to_string(i));
    at_start = sorted_members(s);
    s.begin_walk(&w);
    s.walk_step(10);
    s.erase("x1");
    s.insert("late");
  }  // destroyed mid-walk
  EXPECT_TRUE(w.over);
  std::sort(w.seen.begin(), w.seen.end());
  EXPECT_EQ(w.seen, at_start);
}

TEST(HashSetWalk, MovesCarryTheWalkAlong) {
  CollectWalk w;
  HashSet a;
  for (int i = 0; i < 500; ++i) a.insert("y" + std::to_string(i));
  const auto at_start = sorted_members(a);
  a.begin_walk(&w);
  a.walk_step(3);
  HashSet b(std::move(a));
  EXPECT_EQ(w.where, &b);
  EXPECT_FALSE(a.walking());
  HashSet c;
  c = std::move(b);
  EXPECT_EQ(w.where, &c);
  c.erase("y7");
  while (!c.walk_step(5)) {
  }
  std::sort(w.seen.begin(), w.seen.end());
  EXPECT_EQ(w.seen, at_start);
}

TEST(HashSetWalk, AbandonedWalkReportsNothingMore) {
  CollectWalk w;
  HashSet s;
  for (int i = 0; i < 500; ++i) s.insert("z" + std::to_string(i));
  s.begin_walk(&w);
  s.walk_step(2);
  const size_t reported = w.seen.size();
  s.abandon_walk();
  s.erase("z1");
  s.clear();
  EXPECT_EQ(w.seen.size(), reported);
  EXPECT_FALSE(w.over);
}

}  // namespace
}  // namespace setd::ds

// set_ops: algebra against a std::set model on random inputs of every
// encoding (Redis 7.0 mode and listpack mode), the SDIFF algorithm choice,
// sampling and popping strategies, and the HyperLogLog's accuracy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/set_ops.hpp"

namespace setd::ds {
namespace {

using Model = std::set<std::string>;

// Redis 7.0's rules (no listpack) and Redis 7.2's defaults.
constexpr SetLimits k70 = SetLimits::redis70();
constexpr SetLimits k72{};

SetObject make(const Model& m, const SetLimits& limits = k70) {
  SetObject s = m.empty() ? SetObject() : SetObject::create_for(*m.begin(), 1, limits);
  for (const auto& x : m) s.add(x, limits);
  return s;
}

Model model_of(const SetObject& s) {
  Model m;
  s.for_each([&](std::string_view x) { m.insert(std::string(x)); });
  return m;
}

// A random model: integers only (intset-able when small), or mixed.
Model random_model(base::Rng& rng, size_t max_size, bool ints_only, int universe) {
  Model m;
  const size_t n = rng.below(max_size + 1);
  for (size_t i = 0; i < n; ++i) {
    const auto v = static_cast<int>(rng.below(static_cast<uint64_t>(universe)));
    m.insert(ints_only || v % 3 ? std::to_string(v) : "s" + std::to_string(v));
  }
  return m;
}

TEST(SetOps, AlgebraMatchesModel) {
  base::Rng rng(42);
  for (int round = 0; round < 800; ++round) {
    const SetLimits limits = round % 2 ? k72 : k70;
    const size_t nsets = 1 + rng.below(4);
    std::vector<Model> models;
    std::vector<SetObject> objs;
    for (size_t i = 0; i < nsets; ++i) {
      const bool big = rng.below(4) == 0;
      models.push_back(random_model(rng, big ? 900 : 40, rng.below(2) == 0, big ? 2000 : 60));
      objs.push_back(make(models.back(), limits));
    }
    std::vector<const SetObject*> ptrs;
    for (size_t i = 0; i < nsets; ++i)
      ptrs.push_back(rng.below(8) == 0 ? nullptr : &objs[i]);  // nullptr: a missing key
    if (nsets > 1 && rng.below(6) == 0) ptrs[1] = ptrs[0];     // the same key twice
    auto model_at = [&](size_t i) { return ptrs[i] ? model_of(*ptrs[i]) : Model{}; };

    Model inter = model_at(0), uni, diff = model_at(0);
    for (size_t i = 0; i < nsets; ++i) {
      const Model m = model_at(i);
      Model tmp;
      std::set_intersection(inter.begin(), inter.end(), m.begin(), m.end(),
                            std::inserter(tmp, tmp.end()));
      inter = tmp;
      uni.insert(m.begin(), m.end());
      if (i > 0)
        for (const auto& x : m) diff.erase(x);
    }
    SCOPED_TRACE("round " + std::to_string(round));
    auto p = ptrs;
    Model got;
    EXPECT_EQ(intersect(p, 0, [&](std::string_view x) { got.insert(std::string(x)); }),
              inter.size());
    EXPECT_EQ(got, inter);
    p = ptrs;
    EXPECT_EQ(model_of(intersection(p, limits)), inter);
    p = ptrs;
    EXPECT_EQ(intersect(p, 3, [](std::string_view) {}), std::min<size_t>(inter.size(), 3));
    EXPECT_EQ(model_of(set_union(ptrs, limits)), uni);
    EXPECT_EQ(union_cardinality(ptrs, 0), uni.size());
    EXPECT_EQ(union_cardinality(ptrs, 5), std::min<size_t>(uni.size(), 5));
    EXPECT_NEAR(static_cast<double>(union_cardinality_approx(ptrs)),
                static_cast<double>(uni.size()), 2 + 0.02 * static_cast<double>(uni.size()));
    p = ptrs;
    EXPECT_EQ(model_of(set_difference(p, limits)), diff);
    EXPECT_EQ(difference_cardinality(ptrs, 0), diff.size());
    EXPECT_EQ(difference_cardinality(ptrs, 2), std::min<size_t>(diff.size(), 2));
  }
}

// With set-max-intset-entries >= set-max-listpack-entries (or no listpack)
// the encoding of a set built by adding members depends only on the
// members: every result must have that encoding.
TEST(SetOps, ResultEncodingIsWhatAddingGives) {
  base::Rng rng(7);
  for (int round = 0; round < 400; ++round) {
    const size_t imax = 1 + rng.below(40);
    const SetLimits max =
        round % 2 ? SetLimits::redis70(imax)
                  : SetLimits{imax, 1 + rng.below(imax), 1 + rng.below(4)};  // short values
    std::vector<SetObject> objs;
    for (int i = 0; i < 3; ++i) {
      Model m = random_model(rng, 60, rng.below(3) != 0, 80);
      SetObject s = m.empty() ? SetObject() : SetObject::create_for(*m.begin(), 1, max);
      for (const auto& x : m) s.add(x, max);
      // Sometimes shrink a hashtable of integers below the limit.
      if (rng.below(2) && !m.empty()) {
        for (const auto& x : m)
          if (s.size() > imax / 2) s.remove(x);
      }
      objs.push_back(std::move(s));
    }
    std::vector<const SetObject*> ptrs{&objs[0], &objs[1], &objs[2]};
    auto reference = [&](const SetObject& result) {
      SetObject r;
      result.for_each([&](std::string_view x) { r.add(x, max); });
      return r.encoding();
    };
    const SetObject u = set_union(ptrs, max);
    EXPECT_EQ(u.encoding(), reference(u)) << round;
    auto p = ptrs;
    const SetObject d = set_difference(p, max);
    // SDIFF's algorithm 2 adds all of the first set, then removes: the
    // encoding is that of the first set's members (removing never converts).
    const bool copied = choose_diff_algorithm(ptrs) == DiffAlgorithm::kCopyAndRemove;
    if (!d.empty()) {
      EXPECT_EQ(d.encoding(), reference(copied ? objs[0] : d)) << round;
    }
    p = ptrs;
    const SetObject i = intersection(p, max);
    EXPECT_EQ(i.encoding(), reference(i)) << round;
  }
}

TEST(SetOps, DiffAlgorithmChoiceAsRedis) {
  Model small{"a"}, big;
  for (int i = 0; i < 100; ++i) big.insert("m" + std::to_string(i));
  const SetObject s = make(small), b = make(big);
  // |first| * inputs / 2 <= sum of sizes -> algorithm 1.
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{&s, &b}),
            DiffAlgorithm::kIterateFirst);
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{&b, &s}),
            DiffAlgorithm::kIterateFirst);  // 100 * 2 / 2 = 100 <= 101
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{&b, &s, &s}),
            DiffAlgorithm::kCopyAndRemove);  // 300 / 2 = 150 > 102
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{&b, &s, nullptr, &s}),
            DiffAlgorithm::kCopyAndRemove);  // 300 / 2 = 150 > 102
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{&b, &s, &b}),
            DiffAlgorithm::kEmpty);
  EXPECT_EQ(choose_diff_algorithm(std::vector<const SetObject*>{nullptr, &s}),
            DiffAlgorithm::kEmpty);
}

TEST(SetOps, SampleDistinctStrategies) {
  base::Rng rng(1);
  for (bool ints : {true, false}) {
    Model m;
    for (int i = 0; i < 300; ++i) m.insert(ints ? std::to_string(i) : "x" + std::to_string(i));
    const SetObject s = make(m);
    ASSERT_EQ(s.encoding() == SetObject::Encoding::kIntSet, ints);
    for (uint64_t count : {1u, 5u, 99u, 100u, 101u, 250u, 299u, 300u, 301u, 100000u}) {
      Model got;
      size_t emitted = 0;
      const size_t n = sample_distinct(s, count, rng, [&](std::string_view x) {
        ++emitted;
        got.insert(std::string(x));
      });
      EXPECT_EQ(n, std::min<uint64_t>(count, 300));
      EXPECT_EQ(emitted, n);
      EXPECT_EQ(got.size(), n);  // distinct
      EXPECT_TRUE(std::includes(m.begin(), m.end(), got.begin(), got.end()));
    }
  }
}

TEST(SetOps, SampleDistinctIsUniformInBothStrategies) {
  base::Rng rng(3);
  Model m;
  for (int i = 0; i < 30; ++i) m.insert("k" + std::to_string(i));
  const SetObject s = make(m);
  for (uint64_t count : {4u, 20u}) {  // draws (4 * 3 <= 30) and subset (20 * 3 > 30)
    std::map<std::string, int> hits;
    const int rounds = 3000;
    for (int r = 0; r < rounds; ++r)
      sample_distinct(s, count, rng, [&](std::string_view x) { ++hits[std::string(x)]; });
    const double expected = static_cast<double>(rounds) * static_cast<double>(count) / 30.0;
    for (const auto& [k, h] : hits) EXPECT_NEAR(h, expected, expected * 0.2) << k << " " << count;
  }
}

TEST(SetOps, PopMembersStrategies) {
  base::Rng rng(5);
  for (bool ints : {true, false}) {
    for (uint64_t count : {1u, 10u, 50u, 83u, 84u, 99u, 100u, 500u}) {
      Model m;
      for (int i = 0; i < 100; ++i) m.insert(ints ? std::to_string(i) : "p" + std::to_string(i));
      SetObject s = make(m);
      Model popped;
      const size_t n = pop_members(s, count, k70, rng,
                                   [&](std::string_view x) { popped.insert(std::string(x)); });
      EXPECT_EQ(n, std::min<uint64_t>(count, 100));
      EXPECT_EQ(popped.size(), n);
      const Model rest = model_of(s);
      EXPECT_EQ(rest.size(), 100 - n);
      Model all = rest;
      all.insert(popped.begin(), popped.end());
      EXPECT_EQ(all, m);
    }
  }
  // Case 3 re-creates the survivors as SADD would: integers -> intset.
  Model m;
  for (int i = 0; i < 1000; ++i) m.insert(std::to_string(i));
  SetObject s = make(m);
  ASSERT_EQ(s.encoding(), SetObject::Encoding::kHashTable);
  pop_members(s, 950, k70, rng, [](std::string_view) {});
  EXPECT_EQ(s.size(), 50u);
  EXPECT_EQ(s.encoding(), SetObject::Encoding::kIntSet);
}

TEST(SetOps, RandomMemberView) {
  base::Rng rng(9);
  const SetObject a = make({"1", "2", "3"});
  const SetObject b = make({"x"});
  char buf[kInt64DecimalBufSize];
  for (int i = 0; i < 50; ++i) {
    const std::string v(random_member_view(a, rng, buf));
    EXPECT_TRUE(v == "1" || v == "2" || v == "3") << v;
    EXPECT_EQ(random_member_view(b, rng, buf), "x");
  }
}

TEST(HyperLogLog, AccuracyAcrossCardinalities) {
  for (size_t n : {0u, 1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u}) {
    HyperLogLog h;
    for (size_t i = 0; i < n; ++i) h.add("member:" + std::to_string(i));
    for (size_t i = 0; i < n; i += 7) h.add("member:" + std::to_string(i));  // repeats
    const auto est = static_cast<double>(h.estimate());
    const double tolerance = std::max(1.0, static_cast<double>(n) * 0.02);
    EXPECT_NEAR(est, static_cast<double>(n), tolerance) << n;
  }
}

TEST(HyperLogLog, IntegersHashLikeTheirText) {
  HyperLogLog a, b;
  const SetObject ints = make({"1", "2", "300"});
  const SetObject strs = make({"1", "2", "300", "x"});
  ASSERT_EQ(ints.encoding(), SetObject::Encoding::kIntSet);
  a.add_set(ints);
  b.add_set(strs);
  a.add("x");
  EXPECT_EQ(a.estimate(), b.estimate());
  EXPECT_EQ(a.estimate(), 4u);
}

TEST(SetOps, UnionApproxOnLargeInputs) {
  SetObject sa = SetObject::create_for("u", 1, k72);
  SetObject sb = SetObject::create_for("u", 1, k72);
  for (int i = 0; i < 150000; ++i) sa.add("u" + std::to_string(i), k72);
  for (int i = 100000; i < 250000; ++i) sb.add("u" + std::to_string(i), k72);
  const std::vector<const SetObject*> p{&sa, &sb, &sa};
  EXPECT_EQ(union_cardinality(p, 0), 250000u);
  EXPECT_NEAR(static_cast<double>(union_cardinality_approx(p)), 250000.0, 5000.0);
  EXPECT_EQ(union_cardinality_approx(std::vector<const SetObject*>{&sa, &sa}), 150000u);
}

// --- listpack (Redis 7.2) -----------------------------------------------------

// Chi-square statistic of `counts` against a uniform expectation.
double chi_square(const std::map<std::string, int>& counts, double expected) {
  double chi2 = 0;
  for (const auto& [k, h] : counts) chi2 += (h - expected) * (h - expected) / expected;
  return chi2;
}

// The members of a subset, as one key ("a,c,d").
std::string subset_key(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string k;
  for (const auto& x : v) k += x + ",";
  return k;
}

SetObject listpack_of(int n, const char* prefix = "l") {
  SetObject s = SetObject::empty_listpack();
  for (int i = 0; i < n; ++i) s.add(prefix + std::to_string(i), k72);
  return s;
}

TEST(SetOps, PickPositionsIsUniformOverSubsets) {
  base::Rng rng(11);
  // 6 positions, 3 picked: 20 subsets equally likely.
  std::map<std::string, int> hits;
  constexpr int kRounds = 40000;
  for (int r = 0; r < kRounds; ++r) {
    const auto picked = pick_positions(6, 3, rng);
    std::string k;
    size_t n = 0;
    for (size_t i = 0; i < 6; ++i) {
      k += picked[i] ? '1' : '0';
      n += picked[i] ? 1 : 0;
    }
    ASSERT_EQ(n, 3u);
    ++hits[k];
  }
  ASSERT_EQ(hits.size(), 20u);
  EXPECT_LT(chi_square(hits, kRounds / 20.0), 43.82);  // 19 degrees of freedom, p = 0.001
  EXPECT_EQ(pick_positions(5, 0, rng), std::vector<bool>(5, false));
  EXPECT_EQ(pick_positions(5, 5, rng), std::vector<bool>(5, true));
}

TEST(SetOps, SampleDistinctListpackIsUniformOverSubsets) {
  base::Rng rng(12);
  const SetObject s = listpack_of(6);
  ASSERT_EQ(s.encoding(), SetObject::Encoding::kListPack);
  std::map<std::string, int> hits;
  constexpr int kRounds = 40000;
  for (int r = 0; r < kRounds; ++r) {
    std::vector<std::string> got;
    EXPECT_EQ(sample_distinct(s, 3, rng, [&](std::string_view x) { got.emplace_back(x); }), 3u);
    // Emitted in the listpack's order.
    ASSERT_TRUE(std::is_sorted(got.begin(), got.end()));
    ++hits[subset_key(got)];
  }
  ASSERT_EQ(hits.size(), 20u);
  EXPECT_LT(chi_square(hits, kRounds / 20.0), 43.82);
  // Larger: every member equally often.
  const SetObject big = listpack_of(100);
  std::map<std::string, int> each;
  for (int r = 0; r < 2000; ++r)
    sample_distinct(big, 10, rng, [&](std::string_view x) { ++each[std::string(x)]; });
  ASSERT_EQ(each.size(), 100u);
  EXPECT_LT(chi_square(each, 200.0), 148.23);  // 99 degrees of freedom, p = 0.001
}

TEST(SetOps, RandomDrawsListpackIsUniform) {
  base::Rng rng(13);
  const SetObject s = listpack_of(30);
  const RandomDraws draws(s);
  char buf[kInt64DecimalBufSize];
  std::map<std::string, int> hits;
  constexpr int kDraws = 60000;
  for (int i = 0; i < kDraws; ++i) ++hits[std::string(draws.draw(rng, buf))];
  ASSERT_EQ(hits.size(), 30u);
  EXPECT_LT(chi_square(hits, kDraws / 30.0), 59.70);  // 29 degrees of freedom, p = 0.001
  // Other encodings draw through random_member_view.
  const SetObject is = make({"1", "2", "3"});
  const RandomDraws int_draws(is);
  for (int i = 0; i < 30; ++i) {
    const std::string v(int_draws.draw(rng, buf));
    EXPECT_TRUE(v == "1" || v == "2" || v == "3") << v;
  }
}

// Both SPOP strategies on a listpack pop a uniformly random subset.
TEST(SetOps, PopMembersListpackIsUniformOverSubsets) {
  base::Rng rng(14);
  for (uint64_t count : {2u, 5u}) {  // 6 members: 4 * 5 > 2 (case 2); 1 * 5 <= 5 (case 3)
    std::map<std::string, int> hits;
    const int subsets = count == 2 ? 15 : 6;
    const int rounds = 2000 * subsets;
    for (int r = 0; r < rounds; ++r) {
      SetObject s = listpack_of(6);
      std::vector<std::string> got;
      EXPECT_EQ(pop_members(s, count, k72, rng, [&](std::string_view x) { got.emplace_back(x); }),
                count);
      ASSERT_EQ(s.encoding(), SetObject::Encoding::kListPack);
      ASSERT_EQ(s.size(), 6 - count);
      for (const auto& g : got) ASSERT_FALSE(s.contains(g)) << g;
      ++hits[subset_key(got)];
    }
    ASSERT_EQ(hits.size(), static_cast<size_t>(subsets)) << count;
    // 14 or 5 degrees of freedom, p = 0.001.
    EXPECT_LT(chi_square(hits, 2000.0), count == 2 ? 36.12 : 20.52) << count;
  }
}

TEST(SetOps, PopMembersEncodingsRedis72) {
  base::Rng rng(15);
  auto popped_to = [&](SetObject s, uint64_t count, const SetLimits& limits) {
    const size_t before = s.size();
    Model all = model_of(s), popped;
    pop_members(s, count, limits, rng, [&](std::string_view x) { popped.insert(std::string(x)); });
    EXPECT_EQ(s.size(), before - popped.size());
    Model rest = model_of(s);
    rest.insert(popped.begin(), popped.end());
    EXPECT_EQ(rest, all);
    return s.encoding();
  };
  Model ints;
  for (int i = 0; i < 1000; ++i) ints.insert(std::to_string(i));
  // Case 3 from a hashtable of integers: a listpack in 7.2, an intset in 7.0.
  EXPECT_EQ(popped_to(make(ints, k72), 950, k72), SetObject::Encoding::kListPack);
  EXPECT_EQ(popped_to(make(ints, k70), 950, k70), SetObject::Encoding::kIntSet);
  // Too many survivors for a listpack: it converts.
  EXPECT_EQ(popped_to(make(ints, k72), 840, k72), SetObject::Encoding::kHashTable);
  // From an intset: an intset.
  Model few;
  for (int i = 0; i < 300; ++i) few.insert(std::to_string(i));
  EXPECT_EQ(popped_to(make(few, k72), 290, k72), SetObject::Encoding::kIntSet);
  // From a listpack: a listpack, both cases.
  EXPECT_EQ(popped_to(listpack_of(100), 90, k72), SetObject::Encoding::kListPack);
  EXPECT_EQ(popped_to(listpack_of(100), 10, k72), SetObject::Encoding::kListPack);
}

TEST(SetOps, IntersectionEncodingRedis72) {
  auto inter = [](std::vector<const SetObject*> sets, const SetLimits& limits) {
    return intersection(sets, limits);
  };
  const SetObject is = make({"1", "2", "3"}, k72);
  const SetObject lp = make({"1", "2", "a", "b"}, k72);
  const SetObject lp2 = make({"a", "b", "c", "d", "e"}, k72);
  ASSERT_EQ(is.encoding(), SetObject::Encoding::kIntSet);
  ASSERT_EQ(lp.encoding(), SetObject::Encoding::kListPack);
  EXPECT_EQ(inter({&is, &lp}, k72).encoding(), SetObject::Encoding::kIntSet);
  EXPECT_EQ(inter({&lp, &lp2}, k72).encoding(), SetObject::Encoding::kListPack);
  // A listpack first, integers only in the result: an intset in the end.
  const SetObject lp3 = make({"1", "2", "z"}, k72);
  const SetObject r = inter({&lp3, &lp}, k72);
  EXPECT_EQ(r.encoding(), SetObject::Encoding::kIntSet);
  EXPECT_EQ(model_of(r), (Model{"1", "2"}));
  // ... unless there are too many for an intset.
  const SetLimits two{.max_intset_entries = 1};
  EXPECT_EQ(inter({&lp3, &lp}, two).encoding(), SetObject::Encoding::kListPack);
  // Big hashtables: a big result is a hashtable, a small one a listpack.
  Model a, b, c;
  for (int i = 0; i < 300; ++i) a.insert("m" + std::to_string(i));
  for (int i = 100; i < 400; ++i) b.insert("m" + std::to_string(i));
  for (int i = 295; i < 600; ++i) c.insert("m" + std::to_string(i));
  const SetObject ha = make(a, k72), hb = make(b, k72), hc = make(c, k72);
  EXPECT_EQ(inter({&ha, &hb}, k72).encoding(), SetObject::Encoding::kHashTable);
  EXPECT_EQ(inter({&ha, &hc}, k72).encoding(), SetObject::Encoding::kListPack);
  // Redis 7.0: an intset destination from the start.
  EXPECT_EQ(inter({&ha, &hc}, k70).encoding(), SetObject::Encoding::kHashTable);
  EXPECT_EQ(inter({&lp3, &lp}, k70).encoding(), SetObject::Encoding::kIntSet);
}

// With set-max-intset-entries below set-max-listpack-entries, the encoding
// of a union depends on the order in which members arrive: set_union adds
// the inputs in Redis's order then.
TEST(SetOps, UnionFollowsRedisOrderWhenItMatters) {
  const SetLimits lim{.max_intset_entries = 2, .max_listpack_entries = 128};
  const SetObject ints = make({"1", "2", "3"}, lim);  // an overflowed intset
  const SetObject str = make({"x"}, lim);
  ASSERT_EQ(ints.encoding(), SetObject::Encoding::kHashTable);
  ASSERT_EQ(str.encoding(), SetObject::Encoding::kListPack);
  // Integers first: intset, overflow, hashtable. A string first: listpack.
  EXPECT_EQ(set_union(std::vector<const SetObject*>{&ints, &str}, lim).encoding(),
            SetObject::Encoding::kHashTable);
  EXPECT_EQ(set_union(std::vector<const SetObject*>{&str, &ints}, lim).encoding(),
            SetObject::Encoding::kListPack);
  EXPECT_EQ(model_of(set_union(std::vector<const SetObject*>{&str, &ints, nullptr}, lim)),
            (Model{"1", "2", "3", "x"}));
}

}  // namespace
}  // namespace setd::ds

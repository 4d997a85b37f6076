// set_ops: algebra against a std::set model on random inputs of both
// encodings, the SDIFF algorithm choice, sampling and popping strategies,
// and the HyperLogLog's accuracy.
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

constexpr size_t kMaxIntset = 512;

SetObject make(const Model& m) {
  SetObject s = m.empty() ? SetObject() : SetObject::create_for(*m.begin());
  for (const auto& x : m) s.add(x, kMaxIntset);
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
  for (int round = 0; round < 400; ++round) {
    const size_t nsets = 1 + rng.below(4);
    std::vector<Model> models;
    std::vector<SetObject> objs;
    for (size_t i = 0; i < nsets; ++i) {
      const bool big = rng.below(4) == 0;
      models.push_back(random_model(rng, big ? 900 : 40, rng.below(2) == 0, big ? 2000 : 60));
      objs.push_back(make(models.back()));
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
    EXPECT_EQ(model_of(intersection(p, kMaxIntset)), inter);
    p = ptrs;
    EXPECT_EQ(intersect(p, 3, [](std::string_view) {}), std::min<size_t>(inter.size(), 3));
    EXPECT_EQ(model_of(set_union(ptrs, kMaxIntset)), uni);
    EXPECT_EQ(union_cardinality(ptrs, 0), uni.size());
    EXPECT_EQ(union_cardinality(ptrs, 5), std::min<size_t>(uni.size(), 5));
    EXPECT_NEAR(static_cast<double>(union_cardinality_approx(ptrs)),
                static_cast<double>(uni.size()), 2 + 0.02 * static_cast<double>(uni.size()));
    p = ptrs;
    EXPECT_EQ(model_of(set_difference(p, kMaxIntset)), diff);
    EXPECT_EQ(difference_cardinality(ptrs, 0), diff.size());
    EXPECT_EQ(difference_cardinality(ptrs, 2), std::min<size_t>(diff.size(), 2));
  }
}

TEST(SetOps, ResultEncodingIsWhatAddingGives) {
  base::Rng rng(7);
  for (int round = 0; round < 200; ++round) {
    const size_t max = 1 + rng.below(40);
    std::vector<SetObject> objs;
    for (int i = 0; i < 3; ++i) {
      Model m = random_model(rng, 60, rng.below(3) != 0, 80);
      SetObject s = m.empty() ? SetObject() : SetObject::create_for(*m.begin());
      for (const auto& x : m) s.add(x, max);
      // Sometimes shrink a hashtable of integers below the limit.
      if (rng.below(2) && !m.empty()) {
        for (const auto& x : m)
          if (s.size() > max / 2) s.remove(x);
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
    EXPECT_EQ(d.encoding(), reference(d)) << round;
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
      const size_t n = pop_members(s, count, kMaxIntset, rng,
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
  pop_members(s, 950, kMaxIntset, rng, [](std::string_view) {});
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
  SetObject sa = SetObject::create_for("u");
  SetObject sb = SetObject::create_for("u");
  for (int i = 0; i < 150000; ++i) sa.add("u" + std::to_string(i), kMaxIntset);
  for (int i = 100000; i < 250000; ++i) sb.add("u" + std::to_string(i), kMaxIntset);
  const std::vector<const SetObject*> p{&sa, &sb, &sa};
  EXPECT_EQ(union_cardinality(p, 0), 250000u);
  EXPECT_NEAR(static_cast<double>(union_cardinality_approx(p)), 250000.0, 5000.0);
  EXPECT_EQ(union_cardinality_approx(std::vector<const SetObject*>{&sa, &sa}), 150000u);
}

}  // namespace
}  // namespace setd::ds

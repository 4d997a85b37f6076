// Micro-benchmarks of the ds module's set structures (Google Benchmark;
// linked with benchmark_main). Times are per operation.
#include <benchmark/benchmark.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/hash.hpp"
#include "setd/ds/hash_set.hpp"
#include "setd/ds/intset.hpp"
#include "setd/ds/set_object.hpp"

namespace {

using setd::base::Rng;
using setd::ds::HashSet;
using setd::ds::IntSet;

constexpr size_t kMillion = 1000000;

std::vector<std::string> make_keys(size_t n, const char* prefix) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

const std::vector<std::string>& member_keys() {
  static const std::vector<std::string> keys = make_keys(kMillion, "m:");
  return keys;
}

// A 1M-member set built once and shared by the read-only benchmarks.
const HashSet& million_set() {
  static const HashSet set = [] {
    setd::ds::set_hash_seed(0x1234abcdULL);
    HashSet s;
    for (const auto& k : member_keys()) s.insert(k);
    s.rehash_step(SIZE_MAX);
    return s;
  }();
  return set;
}

// Formats prefix + i into buf (like a member arriving in a request buffer:
// the key bytes are hot, the set is not).
std::string_view format_key(char* buf, const char* prefix, uint32_t i) {
  const size_t p = std::strlen(prefix);
  std::memcpy(buf, prefix, p);
  const auto r = std::to_chars(buf + p, buf + 32, i);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

// Random probe order so lookups miss the cache like a real workload.
std::vector<uint32_t> shuffled_indices(size_t n, uint64_t seed) {
  std::vector<uint32_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
  Rng rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
  return idx;
}

// ---------------------------------------------------------------------------
// IntSet (Redis's default max size is 512 members)
// ---------------------------------------------------------------------------

void BM_IntSetInsert512(benchmark::State& state) {
  Rng rng(1);
  std::vector<int64_t> values(512);
  for (auto& v : values) v = static_cast<int64_t>(rng.below(1000000));
  for (auto _ : state) {
    IntSet s;
    for (int64_t v : values) s.insert(v);
    benchmark::DoNotOptimize(s.size());
  }
  state.SetItemsProcessed(state.iterations() * 512);
}
BENCHMARK(BM_IntSetInsert512);

void BM_IntSetContains512(benchmark::State& state) {
  Rng rng(2);
  IntSet s;
  while (s.size() < 512) s.insert(static_cast<int64_t>(rng.below(1000000)));
  std::vector<int64_t> probes(4096);
  for (size_t i = 0; i < probes.size(); ++i) {
    probes[i] = i % 2 ? s.at(rng.below(512)) : static_cast<int64_t>(rng.below(1000000));
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.contains(probes[i++ & 4095]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IntSetContains512);

// ---------------------------------------------------------------------------
// HashSet at 1M members
// ---------------------------------------------------------------------------

// Building a 1M set from empty (includes all growth and rehashing).
void BM_HashSetInsert1M(benchmark::State& state) {
  const auto& keys = member_keys();
  for (auto _ : state) {
    HashSet s;
    for (const auto& k : keys) s.insert(k);
    benchmark::DoNotOptimize(s.size());
    state.PauseTiming();
    s.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(keys.size()));
}
BENCHMARK(BM_HashSetInsert1M)->Unit(benchmark::kMillisecond);

void BM_HashSetContainsHit1M(benchmark::State& state) {
  const HashSet& s = million_set();
  const auto order = shuffled_indices(kMillion, 3);
  char buf[32];
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.contains(format_key(buf, "m:", order[i])));
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashSetContainsHit1M);

void BM_HashSetContainsMiss1M(benchmark::State& state) {
  const HashSet& s = million_set();
  const auto order = shuffled_indices(kMillion, 4);
  char buf[32];
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.contains(format_key(buf, "x:", order[i])));
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashSetContainsMiss1M);

void BM_HashSetRandomMember1M(benchmark::State& state) {
  const HashSet& s = million_set();
  Rng rng(5);
  for (auto _ : state) benchmark::DoNotOptimize(s.random_member(rng).size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashSetRandomMember1M);

// Insert + erase of fresh members into a 1M set (steady state, no growth).
void BM_HashSetInsertErase1M(benchmark::State& state) {
  HashSet s = million_set().clone();
  const auto order = shuffled_indices(kMillion, 6);
  char buf[32];
  size_t i = 0;
  for (auto _ : state) {
    const std::string_view k = format_key(buf, "x:", order[i]);
    benchmark::DoNotOptimize(s.insert(k));
    benchmark::DoNotOptimize(s.erase(k));
    if (++i == order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashSetInsertErase1M);

void BM_HashSetPopRandom1M(benchmark::State& state) {
  HashSet s = million_set().clone();
  Rng rng(7);
  for (auto _ : state) {
    std::string m = s.pop_random(rng);
    state.PauseTiming();
    s.insert(m);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HashSetPopRandom1M)->Iterations(200000);

// ---------------------------------------------------------------------------
// SetObject: SADD-like path including the integer check
// ---------------------------------------------------------------------------

void BM_SetObjectAddSmallInts(benchmark::State& state) {
  for (auto _ : state) {
    setd::ds::SetObject s;
    for (int i = 0; i < 512; ++i) s.add(std::to_string(i * 7), setd::ds::SetLimits::redis70());
    benchmark::DoNotOptimize(s.size());
  }
  state.SetItemsProcessed(state.iterations() * 512);
}
BENCHMARK(BM_SetObjectAddSmallInts);

}  // namespace

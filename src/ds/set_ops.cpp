#include "setd/ds/set_ops.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "setd/base/random.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace setd::ds {

namespace {

// The per-member callbacks of the set algebra: inlined into each encoding's
// walk (GCC otherwise stopped inlining them once a walk had three encodings
// to serve: a call per member, 14% of SINTERCARD of two 10k sets), and
// Probe::in into them.
#define SETD_INLINE_CALLBACK __attribute__((always_inline))

// One member being looked up in several sets. It starts from either its
// integer value (intset iteration) or its bytes (listpack or hashtable
// iteration) and computes the other form at most once, on demand.
class Probe {
 public:
  explicit Probe(int64_t v) noexcept : int_(v), int_state_(kIsInt), has_str_(false) {}
  explicit Probe(std::string_view s) noexcept : str_(s), int_state_(kUnknown), has_str_(true) {}
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // The member's bytes (an intset value formatted in canonical decimal).
  std::string_view str() noexcept {
    if (!has_str_) {
      str_ = format_int64(int_, buf_);
      has_str_ = true;
    }
    return str_;
  }

  // Is the member in `s`? An intset can only hold canonical integers.
  SETD_INLINE_CALLBACK bool in(const SetObject& s) noexcept {
    if (const IntSet* is = s.as_intset()) {
      if (int_state_ == kUnknown) {
        const auto v = parse_int64(str_);
        int_state_ = v ? kIsInt : kNotInt;
        if (v) int_ = *v;
      }
      return int_state_ == kIsInt && is->contains(int_);
    }
    if (const ListPack* lp = s.as_listpack()) return lp->contains(str());
    const HashSet* hs = s.as_hash_set();
    return hs != nullptr && hs->contains(str());
  }

 private:
  enum : uint8_t { kUnknown, kIsInt, kNotInt };
  std::string_view str_;
  int64_t int_ = 0;
  uint8_t int_state_;
  bool has_str_;
  char buf_[kInt64DecimalBufSize];
};

// Calls fn(Probe&) -> bool for each member of `s` until it returns false.
// Returns false if stopped early.
template <class F>
bool for_each_probe_while(const SetObject& s, F&& fn) {
  if (const IntSet* is = s.as_intset()) {
    const size_t n = is->size();
    for (size_t i = 0; i < n; ++i) {
      Probe p(is->at(i));
      if (!fn(p)) return false;
    }
    return true;
  }
  auto probe = [&](std::string_view m) SETD_INLINE_CALLBACK {
    Probe p(m);
    return fn(p);
  };
  if (const ListPack* lp = s.as_listpack()) return lp->for_each_while(probe);
  const HashSet* hs = s.as_hash_set();
  return hs == nullptr || hs->for_each_while(probe);
}

// Whether the encoding a set gets by adding members to an empty intset
// depends only on WHICH members were added, not on their order. It does
// unless an intset may overflow into a hashtable while a listpack would
// still hold everything (set-max-intset-entries below
// set-max-listpack-entries): then integers first make a hashtable, a
// string first a listpack.
bool order_free(const SetLimits& limits) {
  return !limits.listpack_enabled() || limits.intset_cap() >= limits.max_listpack_entries;
}

// Would clone() of `s` be exactly what Redis gets by adding all of s's
// members (in s's order) to an empty intset, also after more members are
// added? intset: yes while it is within the limit (ascending integers make
// that intset); hashtable: yes when it is over both limits (any result at
// least that large is a hashtable). A listpack is small: its members are
// re-added.
bool clone_is_as_added(const SetObject& s, const SetLimits& limits) {
  switch (s.encoding()) {
    case SetObject::Encoding::kIntSet:
      return s.size() <= limits.intset_cap();
    case SetObject::Encoding::kHashTable:
      return s.size() > std::max(limits.intset_cap(), limits.max_listpack_entries);
    case SetObject::Encoding::kListPack:
      break;
  }
  return false;
}

// A copy of `s` with the encoding Redis's "add every member to a new intset"
// gives.
SetObject copy_as_added(const SetObject& s, const SetLimits& limits) {
  if (clone_is_as_added(s, limits)) return s.clone();
  SetObject out;
  s.for_each([&](std::string_view m) { out.add(m, limits); });
  return out;
}

// The distinct non-null inputs other than `except`, in order.
std::vector<const SetObject*> distinct_others(std::span<const SetObject* const> sets,
                                              const SetObject* except) {
  std::vector<const SetObject*> out;
  for (const SetObject* s : sets) {
    if (s == nullptr || s == except || s->empty()) continue;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

const SetObject* largest_of(std::span<const SetObject* const> sets) {
  const SetObject* largest = nullptr;
  for (const SetObject* s : sets)
    if (s != nullptr && !s->empty() && (largest == nullptr || s->size() > largest->size()))
      largest = s;
  return largest;
}

// Open-addressing set of 64-bit keys (never UINT64_MAX) for de-duplicating
// random draws. Fixed capacity: at least twice the number of inserts the
// caller will make, so probing stays short and it never fills up.
class DrawSet {
 public:
  explicit DrawSet(size_t max_inserts) {
    size_t cap = 16;
    while (cap < 2 * max_inserts) cap <<= 1;
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
  }
  // Returns true if `key` was not present.
  bool insert(uint64_t key) {
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask_;
    while (slots_[i] != kEmpty) {
      if (slots_[i] == key) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = key;
    return true;
  }

 private:
  static constexpr uint64_t kEmpty = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

// Redis's hllSigma / hllTau (Ertl, "New cardinality estimation algorithms
// for HyperLogLog sketches").
double hll_sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  double z_prev;
  do {
    x *= x;
    z_prev = z;
    z += x * y;
    y += y;
  } while (z_prev != z);
  return z;
}

double hll_tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  double z_prev;
  do {
    x = std::sqrt(x);
    z_prev = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z_prev != z);
  return z / 3.0;
}

constexpr uint64_t kHllSeed = 0x5e7d5e7d0f1e2d3cULL;

}  // namespace

// --- intersection -----------------------------------------------------------

size_t intersect(std::span<const SetObject*> sets, size_t limit, MemberFn emit) {
  if (sets.empty()) return 0;
  for (const SetObject* s : sets)
    if (s == nullptr || s->empty()) return 0;
  std::sort(sets.begin(), sets.end(),
            [](const SetObject* a, const SetObject* b) { return a->size() < b->size(); });
  const SetObject* first = sets[0];
  const auto others = sets.subspan(1);
  size_t n = 0;
  for_each_probe_while(*first, [&](Probe& p) SETD_INLINE_CALLBACK {
    for (const SetObject* o : others) {
      if (o == first) continue;
      if (!p.in(*o)) return true;
    }
    emit(p.str());
    ++n;
    return limit == 0 || n < limit;
  });
  return n;
}

SetObject intersection(std::span<const SetObject*> sets, const SetLimits& limits) {
  // Redis 7.2 sinterGenericCommand: the destination starts as an intset
  // when the smallest input is one (Redis 7.0: always), else as a listpack;
  // members are added with the usual conversions, and a result of integers
  // only ends as an intset if it fits one (maybeConvertToIntset).
  SetObject out;
  bool started = false;
  bool only_integers = true;
  intersect(sets, 0, [&](std::string_view m) {
    if (!started) {  // sets[] is sorted by now: sets[0] is the smallest
      started = true;
      if (limits.listpack_enabled() && sets[0]->encoding() != SetObject::Encoding::kIntSet)
        out = SetObject::empty_listpack();
    }
    if (only_integers && !parse_int64(m)) only_integers = false;
    out.add(m, limits);
  });
  if (only_integers && !out.empty()) out.maybe_convert_to_intset(limits);
  return out;
}

// --- union ------------------------------------------------------------------

SetObject set_union(std::span<const SetObject* const> sets, const SetLimits& limits) {
  if (!order_free(limits)) {  // Redis's order: every input in turn
    SetObject out;
    for (const SetObject* s : distinct_others(sets, nullptr))
      s->for_each([&](std::string_view m) { out.add(m, limits); });
    return out;
  }
  const SetObject* largest = largest_of(sets);
  if (largest == nullptr) return SetObject();
  SetObject out = copy_as_added(*largest, limits);
  for (const SetObject* s : distinct_others(sets, largest))
    s->for_each([&](std::string_view m) { out.add(m, limits); });
  return out;
}

size_t union_cardinality(std::span<const SetObject* const> sets, size_t limit) {
  const SetObject* largest = largest_of(sets);
  if (largest == nullptr) return 0;
  size_t n = largest->size();
  if (limit != 0 && n >= limit) return limit;
  const auto others = distinct_others(sets, largest);
  HashSet seen;  // members outside `largest` counted so far
  const bool dedupe = others.size() > 1;
  for (const SetObject* s : others) {
    const bool done = !for_each_probe_while(*s, [&](Probe& p) SETD_INLINE_CALLBACK {
      if (p.in(*largest)) return true;
      if (dedupe && !seen.insert(p.str())) return true;
      ++n;
      return limit == 0 || n < limit;
    });
    if (done) break;
  }
  return n;
}

uint64_t union_cardinality_approx(std::span<const SetObject* const> sets) {
  const SetObject* largest = largest_of(sets);
  if (largest == nullptr) return 0;
  const auto others = distinct_others(sets, largest);
  if (others.empty()) return largest->size();
  HyperLogLog hll;
  hll.add_set(*largest);
  for (const SetObject* s : others) hll.add_set(*s);
  return hll.estimate();
}

// --- difference -------------------------------------------------------------

DiffAlgorithm choose_diff_algorithm(std::span<const SetObject* const> sets) {
  if (sets.empty() || sets[0] == nullptr) return DiffAlgorithm::kEmpty;
  for (size_t j = 1; j < sets.size(); ++j)
    if (sets[j] == sets[0]) return DiffAlgorithm::kEmpty;
  uint64_t algo_one_work = 0;
  uint64_t algo_two_work = 0;
  for (const SetObject* s : sets) {
    if (s == nullptr) continue;
    algo_one_work += sets[0]->size();
    algo_two_work += s->size();
  }
  algo_one_work /= 2;  // fewer constant costs: Redis gives algorithm 1 an edge
  return algo_one_work <= algo_two_work ? DiffAlgorithm::kIterateFirst
                                        : DiffAlgorithm::kCopyAndRemove;
}

SetObject set_difference(std::span<const SetObject*> sets, const SetLimits& limits) {
  const DiffAlgorithm algo = choose_diff_algorithm(sets);
  if (algo == DiffAlgorithm::kEmpty) return SetObject();
  const SetObject& first = *sets[0];
  const auto others = sets.subspan(1);
  SetObject out;
  if (algo == DiffAlgorithm::kIterateFirst) {
    // Larger sets first: members found in common are found sooner.
    std::sort(others.begin(), others.end(), [](const SetObject* a, const SetObject* b) {
      return (a ? a->size() : 0) > (b ? b->size() : 0);
    });
    for_each_probe_while(first, [&](Probe& p) SETD_INLINE_CALLBACK {
      for (const SetObject* o : others)
        if (o != nullptr && p.in(*o)) return true;
      out.add(p.str(), limits);
      return true;
    });
    return out;
  }
  out = copy_as_added(first, limits);
  for (const SetObject* o : others) {
    if (o == nullptr) continue;
    for_each_probe_while(*o, [&](Probe& p) SETD_INLINE_CALLBACK {
      out.remove(p.str());
      return !out.empty();
    });
    if (out.empty()) break;
  }
  return out;
}

size_t difference_cardinality(std::span<const SetObject* const> sets, size_t limit) {
  const DiffAlgorithm algo = choose_diff_algorithm(sets);
  if (algo == DiffAlgorithm::kEmpty) return 0;
  const SetObject& first = *sets[0];
  const auto others = distinct_others(sets.subspan(1), nullptr);
  size_t n = 0;
  if (algo == DiffAlgorithm::kIterateFirst) {
    for_each_probe_while(first, [&](Probe& p) SETD_INLINE_CALLBACK {
      for (const SetObject* o : others)
        if (p.in(*o)) return true;
      ++n;
      return limit == 0 || n < limit;
    });
    return n;
  }
  // Count the members of `first` that some other set holds.
  size_t hits = 0;
  HashSet found;
  const bool dedupe = others.size() > 1;
  for (const SetObject* o : others) {
    const bool all_found = !for_each_probe_while(*o, [&](Probe& p) SETD_INLINE_CALLBACK {
      if (!p.in(first)) return true;
      if (dedupe && !found.insert(p.str())) return true;
      return ++hits < first.size();
    });
    if (all_found) break;
  }
  n = first.size() - hits;
  return limit != 0 && n > limit ? limit : n;
}

// --- random members ---------------------------------------------------------

std::string_view random_member_view(const SetObject& s, base::Rng& rng, char* buf) {
  if (const IntSet* is = s.as_intset()) return format_int64(is->at(rng.below(is->size())), buf);
  if (const ListPack* lp = s.as_listpack()) return lp->random(rng);
  return s.as_hash_set()->random_member(rng);
}

RandomDraws::RandomDraws(const SetObject& s) : s_(&s) {
  if (const ListPack* lp = s.as_listpack()) {
    members_.reserve(lp->size());
    lp->for_each([&](std::string_view m) { members_.push_back(m); });
  }
}

std::string_view RandomDraws::draw(base::Rng& rng, char* buf) const {
  if (!members_.empty()) return members_[rng.below(members_.size())];
  return random_member_view(*s_, rng, buf);
}

std::vector<bool> pick_positions(size_t n, size_t k, base::Rng& rng) {
  std::vector<bool> picked(n, false);
  for (size_t i = 0; i < n && k > 0; ++i) {
    if (rng.below(n - i) < k) {  // k of the n - i positions left are wanted
      picked[i] = true;
      --k;
    }
  }
  return picked;
}

size_t sample_distinct(const SetObject& s, uint64_t count, base::Rng& rng, MemberFn emit) {
  const size_t size = s.size();
  if (count == 0 || size == 0) return 0;
  if (count >= size) {
    s.for_each(emit);
    return size;
  }
  const auto n = static_cast<size_t>(count);
  if (const ListPack* lp = s.as_listpack()) {
    // Redis 7.2's "case 2.5": one pass choosing n positions (a uniformly
    // random subset, emitted in the listpack's order).
    const std::vector<bool> picked = pick_positions(size, n, rng);
    size_t i = 0;
    lp->for_each([&](std::string_view m) {
      if (picked[i++]) emit(m);
    });
    return n;
  }
  const IntSet* is = s.as_intset();
  char buf[kInt64DecimalBufSize];
  if (n * 3 > size) {
    // A uniformly random n-subset: partial Fisher-Yates over all positions.
    if (is != nullptr) {
      std::vector<uint32_t> pos(size);
      std::iota(pos.begin(), pos.end(), 0u);
      for (size_t i = 0; i < n; ++i) {
        std::swap(pos[i], pos[i + rng.below(size - i)]);
        emit(format_int64(is->at(pos[i]), buf));
      }
    } else {
      std::vector<std::string_view> all;
      all.reserve(size);
      s.for_each([&](std::string_view m) { all.push_back(m); });
      for (size_t i = 0; i < n; ++i) {
        std::swap(all[i], all[i + rng.below(size - i)]);
        emit(all[i]);
      }
    }
    return n;
  }
  // Large set, few members wanted: draw until n distinct ones were seen.
  // Hashtable members are identified by the address of their bytes, stable
  // while the set is not modified.
  DrawSet seen(n);
  size_t emitted = 0;
  while (emitted < n) {
    if (is != nullptr) {
      const uint64_t i = rng.below(size);
      if (!seen.insert(i)) continue;
      emit(format_int64(is->at(static_cast<size_t>(i)), buf));
    } else {
      const std::string_view m = s.as_hash_set()->random_member(rng);
      if (!seen.insert(reinterpret_cast<uintptr_t>(m.data()))) continue;
      emit(m);
    }
    ++emitted;
  }
  return n;
}

size_t pop_members(SetObject& s, uint64_t count, const SetLimits& limits, base::Rng& rng,
                   MemberFn emit) {
  const size_t size = s.size();
  if (count == 0 || size == 0) return 0;
  if (count >= size) {
    s.for_each(emit);
    s = SetObject();
    return size;
  }
  const auto n = static_cast<size_t>(count);
  size_t remaining = size - n;
  if (ListPack* lp = s.as_listpack()) {
    // Redis 7.2's listpack paths: one pass choosing positions (uniformly),
    // the chosen members emitted in the listpack's order.
    if (remaining * 5 > n) {  // the n popped ones
      const std::vector<bool> popped = pick_positions(size, n, rng);
      size_t i = 0;
      lp->for_each([&](std::string_view m) {
        if (popped[i++]) emit(m);
      });
      lp->erase_if([&](size_t index, std::string_view) { return popped[index]; });
      return n;
    }
    // The survivors, into a new listpack (as setTypeAddAux would add them).
    const std::vector<bool> kept = pick_positions(size, remaining, rng);
    SetObject survivors = SetObject::empty_listpack();
    size_t i = 0;
    lp->for_each([&](std::string_view m) {
      if (kept[i++]) survivors.add(m, limits);
    });
    i = 0;
    lp->for_each([&](std::string_view m) {
      if (!kept[i++]) emit(m);
    });
    s = std::move(survivors);
    return n;
  }
  if (remaining * 5 > n) {
    for (size_t i = 0; i < n; ++i) emit(s.pop_random(rng));
    return n;
  }
  // Most of the set goes: move the few survivors into a new set instead.
  // Redis 7.2 starts it as an intset for an intset, else as a listpack;
  // Redis 7.0 as SADD would create it for the first survivor.
  const bool from_intset = s.encoding() == SetObject::Encoding::kIntSet;
  SetObject survivors;
  bool created = false;
  while (remaining-- > 0) {
    const std::string m = s.pop_random(rng);
    if (!created) {
      if (!limits.listpack_enabled())
        survivors = SetObject::create_for(m, 1, limits);
      else if (!from_intset)
        survivors = SetObject::empty_listpack();
      created = true;
    }
    survivors.add(m, limits);
  }
  s.for_each(emit);
  s = std::move(survivors);
  return n;
}

// --- HyperLogLog ------------------------------------------------------------

void HyperLogLog::add(std::string_view member) noexcept {
  const uint64_t h = XXH3_64bits_withSeed(member.data(), member.size(), kHllSeed);
  const size_t index = static_cast<size_t>(h & (kRegisters - 1));
  // The remaining 64 - p bits with a guard bit on top: rank in 1 .. 51.
  const uint64_t rest = (h >> kPrecision) | (uint64_t{1} << (64 - kPrecision));
  const auto rank = static_cast<uint8_t>(std::countr_zero(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void HyperLogLog::add_set(const SetObject& s) noexcept {
  s.for_each([&](std::string_view m) { add(m); });
}

uint64_t HyperLogLog::estimate() const noexcept {
  constexpr int kQ = 64 - kPrecision;
  std::array<uint32_t, kQ + 2> histo{};
  for (uint8_t r : registers_) ++histo[r];
  const auto m = static_cast<double>(kRegisters);
  double z = m * hll_tau((m - histo[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histo[static_cast<size_t>(j)];
    z *= 0.5;
  }
  z += m * hll_sigma(histo[0] / m);
  constexpr double kAlphaInf = 0.721347520444481703680;  // 1 / (2 ln 2)
  if (std::isinf(z)) return 0;
  return static_cast<uint64_t>(std::llround(kAlphaInf * m * m / z));
}

}  // namespace setd::ds

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

// One member being looked up in several sets. It starts from either its
// integer value (intset iteration) or its bytes (hashtable iteration) and
// computes the other form at most once, on demand.
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
  bool in(const SetObject& s) noexcept {
    if (const IntSet* is = s.as_intset()) {
      if (int_state_ == kUnknown) {
        const auto v = parse_int64(str_);
        int_state_ = v ? kIsInt : kNotInt;
        if (v) int_ = *v;
      }
      return int_state_ == kIsInt && is->contains(int_);
    }
    return s.as_hash_set()->contains(str());
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
  return s.as_hash_set()->for_each_while([&](std::string_view m) {
    Probe p(m);
    return fn(p);
  });
}

// Would clone() of `s` have the encoding Redis gets by adding all of s's
// members (and possibly more) to an empty intset? intset: yes while it is
// within the limit; hashtable: yes when it is over the limit (any result at
// least that large is a hashtable). Otherwise members must be re-added.
bool clone_keeps_encoding(const SetObject& s, size_t max_intset_entries) {
  if (s.encoding() == SetObject::Encoding::kIntSet) return s.size() <= max_intset_entries;
  return s.size() > max_intset_entries;
}

// A copy of `s` with the encoding Redis's "add every member to a new intset"
// would give.
SetObject copy_as_added(const SetObject& s, size_t max_intset_entries) {
  if (clone_keeps_encoding(s, max_intset_entries)) return s.clone();
  SetObject out;
  s.for_each([&](std::string_view m) { out.add(m, max_intset_entries); });
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
  for_each_probe_while(*first, [&](Probe& p) {
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

SetObject intersection(std::span<const SetObject*> sets, size_t max_intset_entries) {
  SetObject out;
  intersect(sets, 0, [&](std::string_view m) { out.add(m, max_intset_entries); });
  return out;
}

// --- union ------------------------------------------------------------------

SetObject set_union(std::span<const SetObject* const> sets, size_t max_intset_entries) {
  const SetObject* largest = largest_of(sets);
  if (largest == nullptr) return SetObject();
  SetObject out = copy_as_added(*largest, max_intset_entries);
  for (const SetObject* s : distinct_others(sets, largest))
    s->for_each([&](std::string_view m) { out.add(m, max_intset_entries); });
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
    const bool done = !for_each_probe_while(*s, [&](Probe& p) {
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

SetObject set_difference(std::span<const SetObject*> sets, size_t max_intset_entries) {
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
    for_each_probe_while(first, [&](Probe& p) {
      for (const SetObject* o : others)
        if (o != nullptr && p.in(*o)) return true;
      out.add(p.str(), max_intset_entries);
      return true;
    });
    return out;
  }
  out = copy_as_added(first, max_intset_entries);
  for (const SetObject* o : others) {
    if (o == nullptr) continue;
    for_each_probe_while(*o, [&](Probe& p) {
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
    for_each_probe_while(first, [&](Probe& p) {
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
    const bool all_found = !for_each_probe_while(*o, [&](Probe& p) {
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
  return s.as_hash_set()->random_member(rng);
}

size_t sample_distinct(const SetObject& s, uint64_t count, base::Rng& rng, MemberFn emit) {
  const size_t size = s.size();
  if (count == 0 || size == 0) return 0;
  if (count >= size) {
    s.for_each(emit);
    return size;
  }
  const auto n = static_cast<size_t>(count);
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

size_t pop_members(SetObject& s, uint64_t count, size_t max_intset_entries, base::Rng& rng,
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
  if (remaining * 5 > n) {
    for (size_t i = 0; i < n; ++i) emit(s.pop_random(rng));
    return n;
  }
  // Most of the set goes: move the few survivors into a new set instead.
  SetObject survivors;
  bool created = false;
  while (remaining-- > 0) {
    const std::string m = s.pop_random(rng);
    if (!created) {
      survivors = SetObject::create_for(m);
      created = true;
    }
    survivors.add(m, max_intset_entries);
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
  if (const IntSet* is = s.as_intset()) {
    char buf[kInt64DecimalBufSize];
    is->for_each([&](int64_t v) { add(format_int64(v, buf)); });
  } else {
    s.as_hash_set()->for_each([&](std::string_view m) { add(m); });
  }
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

// Set algebra and sampling over SetObjects, with Redis's algorithm choices
// (t_set.c; 7.2's listpack paths and destination encodings, 7.0's without
// listpack): intersection from the smallest set, the two SDIFF algorithms
// picked by cost, SRANDMEMBER's and SPOP's count strategies; plus
// the cardinality-only variants (SINTERCARD, SUNIONCARD, SDIFFCARD) and a
// fixed-memory HyperLogLog for SUNIONCARD APPROX.
//
// Everything here is server-agnostic: operations take SetObjects and return
// results (counts, new SetObjects) or hand members to a callback; they never
// write replies. Inputs are spans of `const SetObject*` in which nullptr
// stands for a missing key, i.e. the empty set.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "setd/ds/int_parse.hpp"
#include "setd/ds/set_object.hpp"

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

// A non-owning reference to a callable `void(std::string_view member)`.
// Contract: the referenced callable must outlive every call through the
// MemberFn (pass a lambda directly as the argument). The view handed to the
// callable is valid only during the call.
class MemberFn {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, MemberFn>) MemberFn(F&& f)
  noexcept  // NOLINT(google-explicit-constructor): used like a lambda
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::string_view m) {
          (*static_cast<std::remove_reference_t<F>*>(o))(m);
        }) {}
  void operator()(std::string_view m) const { call_(obj_, m); }

 private:
  void* obj_;
  void (*call_)(void*, std::string_view);
};

// ---------------------------------------------------------------------------
// Intersection (SINTER, SINTERSTORE, SINTERCARD)
// ---------------------------------------------------------------------------

// Calls emit(member) for every member of the intersection of `sets`, and
// returns how many it emitted. Like Redis: the result is empty at once if any
// input is nullptr (or empty); otherwise `sets` is REORDERED by ascending
// size and the members of the smallest set are checked against the others
// (an input identical to the smallest one, i.e. the same key given twice,
// is skipped). With limit > 0 it stops after `limit` members (SINTERCARD
// LIMIT); limit == 0 means no limit.
size_t intersect(std::span<const SetObject*> sets, size_t limit, MemberFn emit);

// The intersection as a new set, built the way SINTERSTORE builds its
// destination, so that its encoding is Redis's: Redis 7.2 starts from an
// intset when the smallest input is one, else from a listpack, adds the
// members (converting as SetObject::add does) and makes a result of only
// integers an intset if it fits (maybeConvertToIntset); Redis 7.0 (no
// listpack) starts from an intset. Reorders `sets` as intersect() does.
SetObject intersection(std::span<const SetObject*> sets, const SetLimits& limits);

// ---------------------------------------------------------------------------
// Union (SUNION, SUNIONSTORE, SUNIONCARD)
// ---------------------------------------------------------------------------

// The union as a new set whose encoding is the one Redis's SUNION(STORE)
// gives (an intset destination to which every member is added). As an
// optimization the largest input is cloned instead of re-inserted when that
// yields the same encoding; when the encoding may depend on the order of
// the additions (set-max-intset-entries < set-max-listpack-entries) the
// inputs are added in Redis's order instead.
SetObject set_union(std::span<const SetObject* const> sets, const SetLimits& limits);

// |union of sets|, exactly. limit > 0: stops counting once `limit` is
// reached and returns min(|union|, limit); 0 means no limit. Memory: a
// temporary set of the members not in the largest input.
size_t union_cardinality(std::span<const SetObject* const> sets, size_t limit);

// HyperLogLog estimate of |union of sets| in fixed memory (HyperLogLog's
// 16 KiB of registers; standard error about 0.81%). Exact when at most one
// distinct non-empty input is given.
uint64_t union_cardinality_approx(std::span<const SetObject* const> sets);

// ---------------------------------------------------------------------------
// Difference (SDIFF, SDIFFSTORE, SDIFFCARD)
// ---------------------------------------------------------------------------

// Redis 7.0's choice between its two SDIFF algorithms for `sets`
// (sets[0] minus the others):
//   kEmpty          sets[0] is nullptr, or the same set appears again among
//                   the others: the result is empty;
//   kIterateFirst   (algorithm 1) for each member of sets[0], check the
//                   others; cost |sets[0]| * (non-null inputs), halved;
//   kCopyAndRemove  (algorithm 2) copy sets[0], remove every member of the
//                   others; cost: sum of the input sizes.
// Algorithm 1 is chosen when its cost is <= algorithm 2's.
enum class DiffAlgorithm : uint8_t { kEmpty, kIterateFirst, kCopyAndRemove };
DiffAlgorithm choose_diff_algorithm(std::span<const SetObject* const> sets);

// sets[0] minus the union of the others, as a new set built the way Redis
// builds SDIFF's result (so its encoding matches). With algorithm 1 the
// other inputs (sets[1..]) are REORDERED by decreasing size, as Redis does.
SetObject set_difference(std::span<const SetObject*> sets, const SetLimits& limits);

// |sets[0] minus the others|, choosing between the same two strategies by
// the same cost (algorithm 2 here counts the members of sets[0] found in the
// others instead of copying sets[0]). limit > 0 caps the result (and lets
// algorithm 1 stop early); 0 means no limit.
size_t difference_cardinality(std::span<const SetObject* const> sets, size_t limit);

// ---------------------------------------------------------------------------
// Random members (SRANDMEMBER, SPOP)
// ---------------------------------------------------------------------------

// A uniformly random member without allocating: an intset member is
// formatted into `buf` (kInt64DecimalBufSize bytes); a listpack or
// hashtable member is a view into the set, valid until the set is modified.
// O(size) for a listpack (a walk). Precondition: !s.empty().
std::string_view random_member_view(const SetObject& s, base::Rng& rng, char* buf);

// Independent uniform draws from one set (SRANDMEMBER with a negative
// count, Redis 7.2's lpRandomEntries for a listpack): a listpack's members
// are indexed once (O(size) views), so that each draw is O(1). The set must
// not change while draws are made.
class RandomDraws {
 public:
  explicit RandomDraws(const SetObject& s);
  // One member (as random_member_view()). Precondition: !s.empty().
  std::string_view draw(base::Rng& rng, char* buf) const;

 private:
  const SetObject* s_;
  std::vector<std::string_view> members_;  // a listpack's, in order
};

// k of the positions 0..n-1, each k-subset equally likely, chosen in one
// ascending pass (Knuth's selection sampling, as Redis's lpNextRandom):
// position i is taken with probability (still wanted) / (n - i).
// Precondition: k <= n.
std::vector<bool> pick_positions(size_t n, size_t k, base::Rng& rng);

// SRANDMEMBER with a positive count: emits min(count, s.size()) DISTINCT
// members, a uniformly random subset, and returns that number. Strategies
// (Redis's cases 2-4): count >= size: every member; a listpack: positions
// chosen by pick_positions(), members emitted in the listpack's order
// (7.2's case 2.5); count * 3 > size: a random subset picked from all
// members (partial Fisher-Yates over member positions); otherwise random
// draws, skipping repeats, until `count` distinct members were found.
// Temporary memory is O(min(count, size)) views / positions (O(size) bits
// for a listpack), never a copy of the members. count == 0 emits nothing.
size_t sample_distinct(const SetObject& s, uint64_t count, base::Rng& rng, MemberFn emit);

// SPOP with a count > 0: removes min(count, s.size()) uniformly random
// members, emitting each, and returns that number. Strategies as Redis's:
//   count >= size        every member is emitted and `s` becomes empty;
//   a listpack (7.2)     remaining * 5 > count: `count` positions chosen by
//                        pick_positions() are emitted (in order) and erased
//                        in one pass; otherwise `remaining` positions are
//                        chosen as survivors, added to a new listpack, the
//                        others emitted, and `s` replaced by the new set;
//   remaining * 5 > count  `count` members are popped one by one;
//   otherwise            the `remaining` survivors are popped into a new set
//                        (Redis 7.2: an intset for an intset, else a
//                        listpack; Redis 7.0: created for the first survivor
//                        as SADD would, so a hashtable of integers may become
//                        an intset), the rest of the old set is emitted, and
//                        `s` is replaced by the new set.
size_t pop_members(SetObject& s, uint64_t count, const SetLimits& limits, base::Rng& rng,
                   MemberFn emit);

// ---------------------------------------------------------------------------
// HyperLogLog
// ---------------------------------------------------------------------------

// A dense HyperLogLog with 2^14 six-bit registers (stored one per byte,
// 16 KiB) over XXH3-64 under a FIXED seed (so estimates are reproducible,
// independent of the process-wide hash seed). Estimation uses Ertl's
// improved raw estimator (as Redis's PFCOUNT), accurate from 0 up: typical
// relative error 1.04 / sqrt(16384) ~= 0.81%.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;

  HyperLogLog() { registers_.fill(0); }

  // Adds a member (its bytes; integers must be added in canonical decimal
  // form so that "5" from an intset and "5" from a hashtable coincide).
  void add(std::string_view member) noexcept;
  // Adds every member of `s`.
  void add_set(const SetObject& s) noexcept;

  // The cardinality estimate (0 for an empty sketch).
  uint64_t estimate() const noexcept;

 private:
  std::array<uint8_t, kRegisters> registers_;
};

}  // namespace setd::ds

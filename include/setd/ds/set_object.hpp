// SetObject: a set value with Redis's three set encodings and Redis 7.2's
// exact conversion rules (t_set.c's setType* layer, not the commands):
//
//   intset    — every member is an integer in canonical decimal form
//               (parse_int64 / Redis string2ll) and there are at most
//               set-max-intset-entries of them (capped at 2^30, as Redis);
//   listpack  — at most set-max-listpack-entries members (default 128) of
//               at most set-max-listpack-value bytes (default 64) each
//               (ds::ListPack);
//   hashtable — anything else (ds::HashSet). A hashtable never converts
//               back; an intset or listpack converts when a member that
//               does not fit arrives.
//
// With set-max-listpack-entries 0 (SetLimits::listpack_enabled() false) no
// listpack is ever made and every rule is exactly Redis 7.0's: there are
// no size hints (Redis 7.2's setTypeCreate / setTypeMaybeConvert hints
// would make a 7.0 intset a hashtable when SADD repeats members).
//
// The object is ONE word (sizeof == 8): the intset blob's address (even,
// or null for the empty intset: tag 0), the ListPack's word (its blob
// address plus one: tag 1), or the address of a heap-allocated HashSet
// with 2 added (tag 2). A small set therefore costs 8 bytes plus one
// exactly sized blob (an empty intset or listpack: no blob at all).
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "setd/ds/hash_set.hpp"
#include "setd/ds/int_parse.hpp"
#include "setd/ds/intset.hpp"
#include "setd/ds/listpack.hpp"

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

// The encoding thresholds (server settings of the same names).
struct SetLimits {
  // Redis's intsetMaxEntries(): set-max-intset-entries is capped here.
  static constexpr size_t kIntsetEntriesCap = size_t{1} << 30;

  size_t max_intset_entries = 512;    // set-max-intset-entries
  size_t max_listpack_entries = 128;  // set-max-listpack-entries (0: Redis 7.0 rules)
  size_t max_listpack_value = 64;     // set-max-listpack-value

  // Redis 7.0's rules: no listpack.
  static constexpr SetLimits redis70(size_t max_intset = 512) noexcept {
    return {max_intset, 0, 64};
  }

  bool listpack_enabled() const noexcept { return max_listpack_entries > 0; }
  // The intset limit as Redis applies it when converting.
  size_t intset_cap() const noexcept { return std::min(max_intset_entries, kIntsetEntriesCap); }
};

class SetObject {
 public:
  // The values are the tags in the low bits of the object's word.
  enum class Encoding : uint8_t { kIntSet = 0, kListPack = 1, kHashTable = 2 };

  // An empty intset-encoded set (what Redis's SUNIONSTORE/SDIFFSTORE start
  // their destination as).
  SetObject() noexcept : is_() {}
  ~SetObject() { destroy(); }

  // The empty set Redis 7.2's setTypeCreate(first_member, size_hint) makes:
  // an intset if first_member is an integer and size_hint <=
  // set-max-intset-entries; else a listpack if size_hint <=
  // set-max-listpack-entries; else a hashtable pre-sized for size_hint.
  // Without listpack (Redis 7.0): intset if first_member is an integer,
  // hashtable otherwise, whatever the hint. The member is NOT added.
  static SetObject create_for(std::string_view first_member, size_t size_hint,
                              const SetLimits& limits);

  // An intset-encoded set holding `members` (no size check: the caller
  // decides the encoding).
  static SetObject from_intset(IntSet members);

  // A listpack-encoded set holding `members` (no limit check).
  static SetObject from_listpack(ListPack members);
  static SetObject empty_listpack() { return from_listpack(ListPack()); }

  // An empty hashtable-encoded set pre-sized for `expected` members
  // (HashSet::reserve), for loaders that know the size up front.
  static SetObject empty_hashtable(size_t expected);

  // Move-only (HashSet is); clone() deep-copies, keeping the encoding.
  // A moved-from SetObject is an empty intset.
  SetObject(SetObject&& other) noexcept;
  SetObject& operator=(SetObject&& other) noexcept;
  SetObject(const SetObject&) = delete;
  SetObject& operator=(const SetObject&) = delete;
  SetObject clone() const;

  // Adds `m`; returns true if it was not present. Redis 7.2 setTypeAddAux:
  //   hashtable -> insert;
  //   listpack  -> if absent: append when the set has fewer than
  //                max_listpack_entries members and m is at most
  //                max_listpack_value bytes, else convert to a hashtable
  //                (pre-sized for size + 1) and insert there;
  //   intset    -> an integer is inserted, and if the set now has more than
  //                intset_cap() members it converts to a hashtable
  //                (maybeConvertIntset); a non-integer converts the set to a
  //                listpack (members in ascending order, then m) when it has
  //                fewer than max_listpack_entries members and m as well as
  //                the decimal forms of its minimum and maximum are at most
  //                max_listpack_value bytes, else to a hashtable.
  // `m` must not point into this set.
  bool add(std::string_view m, const SetLimits& limits);

  // Redis 7.2 setTypeMaybeConvert, before adding up to `size_hint` members
  // (SADD): a listpack with size_hint > max_listpack_entries, or an intset
  // with size_hint > max_intset_entries, becomes a hashtable pre-sized for
  // size_hint. Nothing without listpack (Redis 7.0 has no such step).
  void maybe_convert(size_t size_hint, const SetLimits& limits);

  // Redis 7.2 maybeConvertToIntset, for a set known to hold only integers:
  // a listpack or hashtable of at most intset_cap() members becomes an
  // intset. Returns true if the set is an intset afterwards. (If a member
  // turns out not to be an integer nothing changes.)
  bool maybe_convert_to_intset(const SetLimits& limits);

  // Removes `m`; returns true if it was present. Never changes the encoding.
  bool remove(std::string_view m);

  // True if `m` is a member. For an intset, non-integers are never members
  // ("007" is not 7).
  bool contains(std::string_view m) const noexcept;

  size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }

  Encoding encoding() const noexcept { return static_cast<Encoding>(word() & kTagMask); }
  // "intset", "listpack" or "hashtable" (OBJECT ENCODING).
  std::string_view encoding_name() const noexcept {
    switch (encoding()) {
      case Encoding::kIntSet:
        return "intset";
      case Encoding::kListPack:
        return "listpack";
      case Encoding::kHashTable:
        break;
    }
    return "hashtable";
  }

  // Converts to a hashtable with the same members, pre-sized for
  // max(size(), expected) (no-op if already a hashtable).
  void convert_to_hashtable(size_t expected = 0);

  // Calls fn(std::string_view) once per member. intset: ascending numeric
  // order, each integer formatted in decimal into a stack buffer (the view
  // is valid only during the call); listpack: insertion order; hashtable:
  // unspecified order. fn must not modify this set.
  template <class F>
  void for_each(F&& fn) const {
    switch (encoding()) {
      case Encoding::kIntSet: {
        char buf[kInt64DecimalBufSize];
        is_.for_each([&](int64_t v) { fn(format_int64(v, buf)); });
        return;
      }
      case Encoding::kListPack:
        lp_.for_each(fn);
        return;
      case Encoding::kHashTable:
        hash()->for_each(fn);
        return;
    }
  }

  // SSCAN step. intset and listpack: reports every member and returns 0
  // (Redis returns a small encoding whole, whatever the cursor). hashtable:
  // HashSet::scan.
  uint64_t scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const;

  // A uniformly random member, formatted. Precondition: size() > 0.
  std::string random_member(base::Rng& rng) const;

  // Removes and returns a uniformly random member. Precondition: size() > 0.
  std::string pop_random(base::Rng& rng);

  // Heap bytes owned: the intset or listpack blob, or the HashSet object
  // and its tables (HashSet::memory_bytes()).
  size_t memory_bytes() const noexcept;

  // Direct access for command-layer fast paths; nullptr if the encoding
  // differs. The pointers are invalidated by add() (conversion), by moves
  // (intset, listpack) and by the set's destruction.
  const IntSet* as_intset() const noexcept {
    return encoding() == Encoding::kIntSet ? &is_ : nullptr;
  }
  const ListPack* as_listpack() const noexcept {
    return encoding() == Encoding::kListPack ? &lp_ : nullptr;
  }
  // The listpack itself, to remove members in place (ListPack::erase_if);
  // adding through it would bypass the limits.
  ListPack* as_listpack() noexcept { return encoding() == Encoding::kListPack ? &lp_ : nullptr; }
  const HashSet* as_hash_set() const noexcept {
    return encoding() == Encoding::kHashTable ? hash() : nullptr;
  }
  // The hashtable itself, to walk it (HashSet::begin_walk). It lives on
  // the heap: moving the SetObject does not move it.
  HashSet* as_hash_set() noexcept { return encoding() == Encoding::kHashTable ? hash() : nullptr; }

 private:
  static constexpr uintptr_t kTagMask = 3;
  static constexpr uintptr_t kHashTag = 2;

  // The object's word, whichever member is active (all are one word at
  // offset 0).
  uintptr_t word() const noexcept {
    uintptr_t w;
    std::memcpy(&w, static_cast<const void*>(this), sizeof w);
    return w;
  }
  HashSet* hash() const noexcept { return reinterpret_cast<HashSet*>(hs_ & ~kTagMask); }
  // Ends the active member's life, leaving no member active.
  void destroy() noexcept;
  // Makes `hs` (owned from now on) the representation; the previous one
  // must have been destroyed.
  void adopt_hash(HashSet* hs) noexcept { hs_ = reinterpret_cast<uintptr_t>(hs) | kHashTag; }
  // Replaces the representation by a hashtable / intset / listpack.
  void become(HashSet* hs) noexcept;
  void become(IntSet&& is) noexcept;
  void become(ListPack&& lp) noexcept;

  union {
    IntSet is_;     // tag 0
    ListPack lp_;   // tag 1 (ListPack's word is odd)
    uintptr_t hs_;  // tag 2: HashSet* | kHashTag
  };
};

static_assert(sizeof(IntSet) == sizeof(void*) && sizeof(ListPack) == sizeof(void*));
static_assert(sizeof(SetObject) == 8, "a set value is one word");
static_assert(sizeof(uintptr_t) == sizeof(void*));

}  // namespace setd::ds

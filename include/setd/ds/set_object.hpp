// SetObject: a set value with Redis 7.0's two encodings and its exact
// conversion rules (t_set.c's setType* layer, not the commands).
//
//   intset    — every member is an integer in canonical decimal form
//               (parse_int64 / Redis string2ll) and there are at most
//               max_intset_entries of them;
//   hashtable — anything else. A set never converts back to intset.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "setd/ds/hash_set.hpp"
#include "setd/ds/int_parse.hpp"
#include "setd/ds/intset.hpp"

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

class SetObject {
 public:
  enum class Encoding : uint8_t { kIntSet, kHashTable };

  // An empty intset-encoded set (what Redis's SINTERSTORE/SUNIONSTORE/
  // SDIFFSTORE start their destination as).
  SetObject() = default;

  // The empty set Redis's SADD would create for `first_member`: intset if
  // parse_int64(first_member) succeeds, hashtable otherwise. The member is
  // NOT added.
  static SetObject create_for(std::string_view first_member);

  // An intset-encoded set holding `members` (no size check against
  // set-max-intset-entries: the caller decides the encoding).
  static SetObject from_intset(IntSet members);

  // An empty hashtable-encoded set pre-sized for `expected` members
  // (HashSet::reserve), for loaders that know the size up front.
  static SetObject empty_hashtable(size_t expected);

  // Move-only (HashSet is); clone() deep-copies, keeping the encoding.
  SetObject(SetObject&&) noexcept = default;
  SetObject& operator=(SetObject&&) noexcept = default;
  SetObject(const SetObject&) = delete;
  SetObject& operator=(const SetObject&) = delete;
  SetObject clone() const;

  // Adds `m`; returns true if it was not present. Redis 7.0 setTypeAdd:
  // hashtable -> insert. intset -> if m is an integer, insert it and, if the
  // set now has more than max_intset_entries members, convert to hashtable;
  // if m is not an integer, convert to hashtable (pre-sized for the current
  // members) and insert it there.
  bool add(std::string_view m, size_t max_intset_entries);

  // Removes `m`; returns true if it was present. Never changes the encoding.
  bool remove(std::string_view m);

  // True if `m` is a member. For an intset, non-integers are never members
  // ("007" is not 7).
  bool contains(std::string_view m) const noexcept;

  size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }

  Encoding encoding() const noexcept {
    return rep_.index() == 0 ? Encoding::kIntSet : Encoding::kHashTable;
  }
  // "intset" or "hashtable" (OBJECT ENCODING).
  std::string_view encoding_name() const noexcept {
    return encoding() == Encoding::kIntSet ? "intset" : "hashtable";
  }

  // Converts an intset to a hashtable with the same members (no-op if
  // already a hashtable).
  void convert_to_hashtable();

  // Calls fn(std::string_view) once per member. intset: ascending numeric
  // order, each integer formatted in decimal into a stack buffer (the view
  // is valid only during the call); hashtable: unspecified order. fn must
  // not modify this set.
  template <class F>
  void for_each(F&& fn) const {
    if (const IntSet* is = std::get_if<IntSet>(&rep_)) {
      char buf[kInt64DecimalBufSize];
      is->for_each([&](int64_t v) { fn(format_int64(v, buf)); });
    } else {
      std::get<HashSet>(rep_).for_each(fn);
    }
  }

  // SSCAN step. intset: reports every member and returns 0 (Redis returns a
  // small encoding whole, whatever the cursor). hashtable: HashSet::scan.
  uint64_t scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const;

  // A uniformly random member, formatted. Precondition: size() > 0.
  std::string random_member(base::Rng& rng) const;

  // Removes and returns a uniformly random member. Precondition: size() > 0.
  std::string pop_random(base::Rng& rng);

  // Approximate heap bytes owned (IntSet/HashSet::memory_bytes()).
  size_t memory_bytes() const noexcept;

  // Direct access for command-layer fast paths; nullptr if the encoding
  // differs. The pointers are invalidated by add() (conversion) and moves.
  const IntSet* as_intset() const noexcept { return std::get_if<IntSet>(&rep_); }
  const HashSet* as_hash_set() const noexcept { return std::get_if<HashSet>(&rep_); }
  // The hashtable itself, to walk it (HashSet::begin_walk).
  HashSet* as_hash_set() noexcept { return std::get_if<HashSet>(&rep_); }

 private:
  std::variant<IntSet, HashSet> rep_;
};

}  // namespace setd::ds

// IntSet: a sorted array of unique int64 values stored at the narrowest
// element width (16, 32 or 64 bits) able to hold every member — the compact
// encoding of small all-integer sets, like Redis's intset.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

// Memory layout: one malloc'd buffer of exactly size() * width() bytes, the
// elements in ascending order in host byte order. The object itself is 16
// bytes. Inserting a value that needs a wider width re-encodes the whole
// array at the new width (an "upgrade"); erasing never narrows it again
// (Redis never downgrades either). Lookup is a binary search; insert/erase
// are O(size) because of the memmove, fine for the small sizes this encoding
// is used at (set-max-intset-entries, default 512).
//
// Copyable (deep copy) and movable; a moved-from IntSet is empty.
class IntSet {
 public:
  enum class Width : uint8_t { k16 = 2, k32 = 4, k64 = 8 };

  IntSet() noexcept = default;
  ~IntSet();
  IntSet(const IntSet& other);
  IntSet& operator=(const IntSet& other);
  IntSet(IntSet&& other) noexcept;
  IntSet& operator=(IntSet&& other) noexcept;

  // A set holding exactly `values`, which must be strictly ascending, stored
  // at `min_width` or the narrowest width holding every value, whichever is
  // wider (a loaded RDB intset keeps the width it was saved with). One
  // allocation. Throws std::invalid_argument if `values` is not strictly
  // ascending, std::length_error past 2^32-1 values, std::bad_alloc.
  static IntSet from_sorted_unique(std::span<const int64_t> values, Width min_width = Width::k16);

  // Adds `v`. Returns true if it was added, false if already present.
  // May upgrade width(); throws std::bad_alloc on allocation failure and
  // std::length_error past 2^32-1 members (the set is unchanged then).
  bool insert(int64_t v);

  // Removes `v`. Returns true if it was present. Never narrows width().
  bool erase(int64_t v);

  // True if `v` is a member. O(log size).
  bool contains(int64_t v) const noexcept;

  // Number of members.
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // The i-th smallest member. Precondition: i < size().
  int64_t at(size_t i) const noexcept;

  // Current element width (k16 for a new set).
  Width width() const noexcept { return width_; }

  // Heap bytes owned: the element buffer (size() * width()), excluding the
  // object itself and malloc's per-allocation overhead.
  size_t memory_bytes() const noexcept { return size_ * static_cast<size_t>(width_); }

  // A uniformly random member. Precondition: size() > 0.
  int64_t random(base::Rng& rng) const noexcept;

  // Removes every member; the width is kept (as Redis does).
  void clear() noexcept;

  // Calls fn(int64_t) for every member in ascending order. fn must not
  // modify this set.
  template <class F>
  void for_each(F&& fn) const {
    for (size_t i = 0; i < size_; ++i) fn(at(i));
  }

  // The narrowest width that can hold `v`.
  static Width width_for(int64_t v) noexcept;

 private:
  // Index of the first element >= v (lower bound); *found tells if equal.
  size_t lower_bound(int64_t v, bool* found) const noexcept;
  void store(size_t i, int64_t v) noexcept;
  // Grows the buffer to hold `n` elements of width `w` (realloc).
  void resize_buffer(size_t n, Width w);
  void upgrade_and_insert(int64_t v, Width w);

  unsigned char* data_ = nullptr;
  uint32_t size_ = 0;
  Width width_ = Width::k16;
};

}  // namespace setd::ds

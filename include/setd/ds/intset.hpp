// IntSet: a sorted array of unique int64 values stored at the narrowest
// element width (16, 32 or 64 bits) able to hold every member — the compact
// encoding of small all-integer sets, like Redis's intset.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

// Memory layout: the object is ONE pointer (8 bytes; SetObject keeps it as
// is, with no tag of its own), to one malloc'd blob sized exactly:
//
//   blob := width (1 byte: 2, 4 or 8) count (uint32, unaligned)
//           element[count] (width bytes each, host byte order, ascending)
//
// so a set of n members owns 5 + n * width() bytes (a 1-member set of a
// small integer: 7 bytes, one 8-byte size class of mimalloc or jemalloc).
// The pointer is null for an empty set of width k16; a set emptied by
// erase() or clear() keeps a 5-byte header-only blob when its width is
// wider, because the width never narrows. Addresses come from malloc, so
// the pointer's low bits are clear (SetObject relies on that).
// Inserting a value that needs a wider width re-encodes the whole
// array at the new width (an "upgrade"); erasing never narrows it again
// (Redis never downgrades either). Lookup is a binary search; insert/erase
// are O(size) because of the memmove, fine for the small sizes this encoding
// is used at (set-max-intset-entries, default 512). At most 2^32 - 1
// members.
//
// Copyable (deep copy) and movable; a moved-from IntSet is empty (k16).
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
  size_t size() const noexcept { return blob_ == nullptr ? 0 : load_count(blob_); }
  bool empty() const noexcept { return size() == 0; }

  // The i-th smallest member. Precondition: i < size().
  int64_t at(size_t i) const noexcept;

  // Current element width (k16 for a new set).
  Width width() const noexcept {
    return blob_ == nullptr ? Width::k16 : static_cast<Width>(blob_[0]);
  }

  // Heap bytes owned: the blob (kHeaderBytes + size() * width(), 0 without
  // one), excluding malloc's rounding and the object itself.
  size_t memory_bytes() const noexcept {
    return blob_ == nullptr ? 0 : kHeaderBytes + size() * static_cast<size_t>(width());
  }

  // The blob's allocation (for malloc_usable_size), nullptr without one.
  const void* allocation() const noexcept { return blob_; }

  // A uniformly random member. Precondition: size() > 0.
  int64_t random(base::Rng& rng) const noexcept;

  // Removes every member; the width is kept (as Redis does).
  void clear() noexcept;

  // Calls fn(int64_t) for every member in ascending order. fn must not
  // modify this set.
  template <class F>
  void for_each(F&& fn) const {
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) fn(at(i));
  }

  // The narrowest width that can hold `v`.
  static Width width_for(int64_t v) noexcept;

  // Bytes of the blob header (width byte and count).
  static constexpr size_t kHeaderBytes = 5;

 private:
  static uint32_t load_count(const unsigned char* blob) noexcept {
    uint32_t n;
    std::memcpy(&n, blob + 1, sizeof n);
    return n;
  }
  void set_count(uint32_t n) noexcept { std::memcpy(blob_ + 1, &n, sizeof n); }
  const unsigned char* data() const noexcept { return blob_ + kHeaderBytes; }
  unsigned char* data() noexcept { return blob_ + kHeaderBytes; }
  // Index of the first element >= v (lower bound); *found tells if equal.
  size_t lower_bound(int64_t v, bool* found) const noexcept;
  void store(size_t i, int64_t v) noexcept;
  // Resizes the blob to hold `n` elements of width `w` (realloc; the
  // header's width byte is set to `w`, the count is left as it was).
  void resize_buffer(size_t n, Width w);
  void upgrade_and_insert(int64_t v, Width w);

  unsigned char* blob_ = nullptr;
};

}  // namespace setd::ds

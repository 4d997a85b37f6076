// ListPack: a small set of binary-safe strings packed into ONE exactly
// sized allocation, the "listpack" encoding of small sets (Redis 7.2+ keeps
// such sets in a listpack; this is setd's own, more compact layout, with
// the same role and thresholds).
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Layout
// ------
//   blob  := count entry*
//   count := n (1 byte, when n < 255)
//          | 0xFF n (uint32, unaligned)                 (n >= 255: rare)
//   entry := len (1 byte, 0..254) bytes[len]
//          | 0xFF len (uint32, unaligned) bytes[len]   (member of >= 255 bytes)
//
// No total length, no terminator, no per-entry back-length: a member of
// L < 255 bytes costs 1 + L bytes and the set one more byte. The blob is
// resized with realloc on every insert and erase (exactly count + entries
// bytes), so a set of a few short members is one 16-48 byte allocation.
// Members are kept in insertion order (an erase closes the gap); integers
// are stored as their text (canonical decimal), like any other member.
// Every operation walks the entries (O(size), with a length-byte check
// before each memcmp), which is what the encoding is for: sets of at most
// set-max-listpack-entries (default 128) members of at most
// set-max-listpack-value (default 64) bytes; SetObject converts beyond.
//
// Heap bytes, measured by tests/unit/ds_listpack_test.cpp
// (MemoryOfTheDocumentedShapes: the blob's exact size, and what
// malloc_usable_size says under glibc for a block of that size; mimalloc's
// 8-byte size classes up to 64 bytes, then 4 per doubling, computed):
//
//   shape                        blob  usable: glibc  mimalloc  per member
//   1 member "user:12345"          12            24        16     24 / 16
//   5 tags (red green blue         28            40        32    8.0 / 6.4
//     urgent done)
//   50 members "m:0".."m:49"      241           248       256   4.96 / 5.12
//   50 members "m:<7 digits>"     501           504       512  10.08 / 10.24
//
// plus the SetObject word (8 bytes) in the key's value. A HashSet costs
// 16-18 bytes per member plus its object and tables. (glibc's realloc may
// leave a block that grew in place larger than a fresh one of its size;
// mimalloc's keeps a block only while the size stays within its class.)
//
// The object is one pointer: the blob's address PLUS ONE (so it is always
// odd; an empty set points into a static, never-freed header). SetObject
// keeps that word as is and tells a listpack from an intset (whose blob
// address is even, or null) and a hashtable (tagged 2) by its low bits.
//
// Copyable (deep copy) and movable; a moved-from ListPack is empty.
// Allocation failure: insert/copy throw std::bad_alloc and leave the set
// unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

namespace detail {
// The header of every empty ListPack (count 0). 8-aligned so that its
// address plus one is odd; never written to, never freed.
alignas(8) inline unsigned char kEmptyListPackBlob[8] = {};
}  // namespace detail

class ListPack {
 public:
  // Escape byte of a 5-byte count or length.
  static constexpr unsigned char kEscape = 0xFF;

  ListPack() noexcept : p_(detail::kEmptyListPackBlob + 1) {}
  ~ListPack();
  ListPack(const ListPack& other);
  ListPack& operator=(const ListPack& other);
  ListPack(ListPack&& other) noexcept : p_(other.p_) { other.p_ = empty_word(); }
  ListPack& operator=(ListPack&& other) noexcept;

  size_t size() const noexcept {
    const unsigned char c = p_[-1];
    if (c != kEscape) return c;
    uint32_t n;
    std::memcpy(&n, p_, sizeof n);
    return n;
  }
  bool empty() const noexcept { return p_[-1] == 0; }

  // True if `m` is a member.
  bool contains(std::string_view m) const noexcept { return find(m) != nullptr; }

  // Adds `m` at the end unless present; returns true if it was added.
  bool insert(std::string_view m);

  // Adds `m` at the end WITHOUT looking for it first. Precondition: `m` is
  // not a member (the caller knows: a conversion, a loader that checked).
  void append(std::string_view m);

  // Removes `m`; returns true if it was present. Keeps the others' order.
  bool erase(std::string_view m);

  // The i-th member (insertion order). O(i). Precondition: i < size().
  // Views stay valid until the set is modified.
  std::string_view at(size_t i) const noexcept;

  // A uniformly random member. Precondition: size() > 0.
  std::string_view random(base::Rng& rng) const;

  // Removes and returns a uniformly random member. Precondition: size() > 0.
  std::string pop_random(base::Rng& rng);

  // Removes, in one pass and one realloc, every member for which
  // pred(size_t index, std::string_view member) returns true (index: its
  // position before the call). Returns how many were removed. pred must not
  // modify the set.
  template <class Pred>
  size_t erase_if(Pred&& pred) {
    const size_t n = size();
    unsigned char* q = entries();
    unsigned char* out = q;
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* next;
      const std::string_view m = decode(q, &next);
      const auto len = static_cast<size_t>(next - q);
      if (!pred(i, m)) {
        if (out != q) std::memmove(out, q, len);
        out += len;
        ++kept;
      }
      q = const_cast<unsigned char*>(next);
    }
    if (kept != n) rebuild_after_compaction(out, kept);
    return n - kept;
  }

  // Calls fn(std::string_view) for every member in order. fn must not
  // modify this set.
  template <class F>
  void for_each(F&& fn) const {
    const size_t n = size();
    const unsigned char* q = entries();
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* next;
      fn(decode(q, &next));
      q = next;
    }
  }

  // Like for_each(), but fn returns bool and the walk stops at the first
  // false. Returns false if it stopped early.
  template <class F>
  bool for_each_while(F&& fn) const {
    const size_t n = size();
    const unsigned char* q = entries();
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* next;
      if (!fn(decode(q, &next))) return false;
      q = next;
    }
    return true;
  }

  // Heap bytes owned: the blob (0 when empty), malloc's rounding excluded.
  size_t memory_bytes() const noexcept;

  // The blob's allocation (for malloc_usable_size), nullptr when empty.
  const void* allocation() const noexcept { return is_static() ? nullptr : base(); }

  // Removes every member and frees the blob.
  void clear() noexcept;

  // Bytes an entry of a member of `len` bytes takes.
  static constexpr size_t entry_bytes(size_t len) noexcept {
    return len < kEscape ? 1 + len : 5 + len;
  }

 private:
  static unsigned char* empty_word() noexcept { return detail::kEmptyListPackBlob + 1; }
  bool is_static() const noexcept { return p_ == empty_word(); }
  // Start of the allocation.
  unsigned char* base() const noexcept { return p_ - 1; }
  // Bytes of the count header beyond its first byte (0 or 4).
  size_t count_extra() const noexcept { return p_[-1] == kEscape ? 4 : 0; }
  unsigned char* entries() const noexcept { return p_ + count_extra(); }
  // One past the last entry.
  unsigned char* end() const noexcept;

  // Decodes the entry at `q`; *next is the following entry.
  static std::string_view decode(const unsigned char* q, const unsigned char** next) noexcept {
    size_t len = q[0];
    const unsigned char* d = q + 1;
    if (len == kEscape) {
      uint32_t l;
      std::memcpy(&l, q + 1, sizeof l);
      len = l;
      d = q + 5;
    }
    *next = d + len;
    return {reinterpret_cast<const char*>(d), len};
  }
  static unsigned char* encode(unsigned char* q, std::string_view m) noexcept;

  // The entry holding `m`, or nullptr.
  unsigned char* find(std::string_view m) const noexcept;
  // Removes the entry at `q` (inside this blob).
  void erase_entry(unsigned char* q) noexcept;
  // Writes the count `n` into a header currently sized for `old_n` entries
  // whose entries occupy [entries(), entries_end); moves the entries when
  // the header size changes. Returns the new blob size.
  size_t recount(size_t n, unsigned char* entries_end) noexcept;
  // After erase_if compacted the entries to end at `out`: fixes the count
  // and shrinks the blob (or frees it when `kept` is 0).
  void rebuild_after_compaction(unsigned char* out, size_t kept) noexcept;
  // Shrinks the allocation to `bytes` (realloc; keeps the old block if the
  // shrink fails).
  void shrink_to(size_t bytes) noexcept;

  unsigned char* p_;
};

}  // namespace setd::ds

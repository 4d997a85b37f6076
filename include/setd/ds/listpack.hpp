// ListPack: a small set of binary-safe strings packed into ONE exactly
// sized allocation, the "listpack" encoding of small sets (Redis 7.2+ keeps
// such sets in a listpack; this is setd's own, more compact layout, with
// the same role and thresholds).
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Layout
// ------
// The set is one word, w_, and at most one heap block:
//
//   inline (blobs of at most kInlineBytes = 7 bytes, the empty set too):
//     w_    := tag (byte 0: kInlineTag, 5) count (byte 1) entry* (bytes 2..7)
//   heap:
//     w_    := address + 1 (bits 0..47) | c (bits 48..63)
//     block := n (uint32, unaligned; only when c == 0xFFFF) entry*
//   c     := n, the number of members, when n < 0xFFFF (kWordCountMax + 1)
//          | 0xFFFF (the count is the block's first 4 bytes: rare)
//   entry := len (1 byte, 0..254) bytes[len]
//          | 0xFF len (uint32, unaligned) bytes[len]   (member of >= 255 bytes)
//
// No total length, no terminator, no per-entry back-length, and the count
// rides in the word's unused top 16 bits (user-space addresses on x86-64 and
// AArch64 Linux fit in 48 bits unless a program asks mmap for more, which
// malloc never does; set_heap() checks): a heap block is the members and
// nothing else, a member of L < 255 bytes costing 1 + L bytes. The block is
// resized with realloc on every insert and erase (exactly the entries'
// bytes), so a set of a few short members is one 16-48 byte allocation.
// Members are kept in insertion order (an erase closes the gap); integers
// are stored as their text (canonical decimal), like any other member.
// Every operation walks the entries (O(size), with a length-byte check
// before each memcmp), which is what the encoding is for: sets of at most
// set-max-listpack-entries (default 128) members of at most
// set-max-listpack-value (default 64) bytes; SetObject converts beyond.
//
// Heap bytes, measured by tests/unit/ds_listpack_test.cpp
// (MemoryOfTheDocumentedShapes: the block's exact size, and what
// malloc_usable_size says under glibc for a block of that size; mimalloc's
// 8-byte size classes up to 64 bytes, then 4 per doubling, computed):
//
//   shape                        block  usable: glibc  mimalloc  per member
//   1 member "user:12345"           11            24        16     24 / 16
//   5 tags (red green blue          27            40        32    8.0 / 6.4
//     urgent done)
//   50 members "m:0".."m:49"       240           248       256   4.96 / 5.12
//   50 members "m:<7 digits>"      500           504       512  10.08 / 10.24
//
// plus the SetObject word (8 bytes) in the key's value. A HashSet costs
// 16-18 bytes per member plus its object and tables. (glibc's realloc may
// leave a block that grew in place larger than a fresh one of its size;
// mimalloc's keeps a block only while the size stays within its class.)
// Moving the count out of the block matters where a 1-byte header pushed
// it over a malloc size class: glibc's chunks step from 24 usable bytes to
// 40, so five short tags of 24 entry bytes cost 32 bytes instead of 48.
//
// An inline set allocates nothing (measured: 1M one-member sets of 4-byte
// members cost no block at all instead of a 24-byte glibc chunk each). The
// word is odd either way (a heap address + 1 has low bits 001, the inline
// tag 101), and SetObject tells a listpack from an intset (an even address,
// or null) and a hashtable (tagged 2) by its low two bits. A set that
// shrinks back to kInlineBytes moves into the word. The word holds no
// pointer to itself, so a ListPack is trivially relocatable (SetObject
// copies it as bytes); but a view of a member of an inline set points into
// the word and is invalidated when the word moves (a key's entry is
// reallocated, a SetObject is moved), as any view is by a modification.
//
// Copyable (deep copy) and movable; a moved-from ListPack is empty.
// Allocation failure: insert/copy throw std::bad_alloc and leave the set
// unchanged.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

class ListPack {
 public:
  // Escape byte of a 5-byte count or length.
  static constexpr unsigned char kEscape = 0xFF;

  // Blobs of at most this many bytes live in the object's word.
  static constexpr size_t kInlineBytes = sizeof(uintptr_t) - 1;
  // The low byte of a word holding its blob (low bits 101: odd, and unlike
  // a heap blob's address + 1, whose low bits are 001).
  static constexpr uintptr_t kInlineTag = 5;

  ListPack() noexcept : w_(kInlineTag) {}
  ~ListPack();
  ListPack(const ListPack& other);
  ListPack& operator=(const ListPack& other);
  ListPack(ListPack&& other) noexcept : w_(other.w_) { other.w_ = kInlineTag; }
  ListPack& operator=(ListPack&& other) noexcept;

  size_t size() const noexcept {
    if (is_inline()) return static_cast<unsigned char>(w_ >> 8);
    const uintptr_t c = w_ >> kAddrBits;
    if (c != kCountInBlock) return c;
    uint32_t n;
    std::memcpy(&n, block(), sizeof n);
    return n;
  }
  bool empty() const noexcept { return size() == 0; }

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

  // The blob's allocation (for malloc_usable_size), nullptr when the blob
  // is in the word.
  const void* allocation() const noexcept { return is_inline() ? nullptr : block(); }
  // True when the blob lives in the object's word (nothing allocated).
  bool is_inline() const noexcept { return (w_ & 7) == kInlineTag; }

  // Removes every member and frees the blob.
  void clear() noexcept;

  // Bytes an entry of a member of `len` bytes takes.
  static constexpr size_t entry_bytes(size_t len) noexcept {
    return len < kEscape ? 1 + len : 5 + len;
  }

 private:
  static constexpr unsigned kAddrBits = 48;
  static constexpr uintptr_t kAddrMask = (uintptr_t{1} << kAddrBits) - 1;
  // The largest count the word holds; beyond, c is kCountInBlock.
  static constexpr size_t kWordCountMax = 0xFFFE;
  static constexpr uintptr_t kCountInBlock = 0xFFFF;

  // The heap block (precondition: !is_inline()).
  unsigned char* block() const noexcept {
    return reinterpret_cast<unsigned char*>((w_ & kAddrMask) - 1);
  }
  // Bytes of the heap block before its first entry: its 4-byte count when
  // the word cannot hold it, else (and for an inline set) 0.
  size_t header_bytes() const noexcept {
    if (is_inline()) return 0;
    return (w_ >> kAddrBits) == kCountInBlock ? sizeof(uint32_t) : 0;
  }
  unsigned char* entries() const noexcept {
    if (is_inline()) return reinterpret_cast<unsigned char*>(const_cast<uintptr_t*>(&w_)) + 2;
    return block() + header_bytes();
  }
  // Bytes of the heap block's count header for a set of `n` members.
  static constexpr size_t heap_header_bytes(size_t n) noexcept {
    return n <= kWordCountMax ? 0 : sizeof(uint32_t);
  }
  // Makes `b` (entries at b + heap_header_bytes(n)) the heap block of a set
  // of `n` members: writes the count into the word or the block.
  void set_heap(unsigned char* b, size_t n) noexcept;
  // Makes the set inline from `len` entry bytes at `src` (len + 1 <=
  // kInlineBytes; src may not point into the word).
  void set_inline(const unsigned char* src, size_t len, size_t n) noexcept;
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
  // After erase_if compacted the entries to end at `out`: fixes the count
  // and shrinks the block, into the word when it fits (or frees it when
  // `kept` is 0).
  void rebuild_after_compaction(unsigned char* out, size_t kept) noexcept;

  uintptr_t w_;
};

static_assert(std::endian::native == std::endian::little,
              "an inline set's count is the word's byte 1, after the tag byte");
static_assert(sizeof(uintptr_t) == 8, "the count rides in the top 16 bits of a 64-bit word");

}  // namespace setd::ds

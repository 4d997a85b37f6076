#include "setd/ds/hash_set.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "setd/base/random.hpp"
#include "setd/ds/bytes_equal.hpp"
#include "setd/ds/hash.hpp"

// Header-only XXH3 so that hashing a short member inlines into lookups. Same
// function and seed as ds::hash_bytes().
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace setd::ds {

namespace {

using detail::BlobHeader;
using detail::kBlobEscape;
using detail::read_blob_header;

constexpr size_t kPtrBytes = sizeof(void*);
constexpr size_t kLongEntryBytes = 1 + kPtrBytes;  // escape byte + pointer
constexpr size_t kMaxInlineLen = 254;              // longer members go out of line
constexpr size_t kShrinkLoadDenominator = 2;       // shrink when size < buckets / 2
constexpr size_t kEagerRehashBuckets = 64;         // rehash tables this small at once
constexpr size_t kEmptyVisitsPerStep = 10;         // like Redis's empty_visits = n * 10
constexpr int kRandomProbes = 1024;                // before the exact O(n) fallback
                                                   // (a multiple of the batch size)
constexpr size_t kNotFound = std::numeric_limits<size_t>::max();
constexpr size_t kMaxTableSize = size_t{1} << 58;

inline uint64_t hash_of(std::string_view s) noexcept {
  return XXH3_64bits_withSeed(s.data(), s.size(), detail::g_hash_seed);
}

// Bytes glibc malloc really consumes for an n-byte request: 8 bytes of chunk
// header, rounded up to 16, at least 32. Used only for memory_bytes().
size_t malloc_cost(size_t n) noexcept {
  if (n == 0) return 0;
  const size_t c = (n + 8 + 15) & ~size_t{15};
  return c < 32 ? 32 : c;
}

size_t header_bytes(uint64_t count) noexcept { return count < kBlobEscape ? 1 : 5; }

void write_header(unsigned char* blob, uint32_t count) noexcept {
  if (count < kBlobEscape) {
    blob[0] = static_cast<unsigned char>(count);
  } else {
    blob[0] = kBlobEscape;
    std::memcpy(blob + 1, &count, sizeof count);
  }
}

size_t entry_bytes_for(size_t len) noexcept {
  return len <= kMaxInlineLen ? 1 + len : kLongEntryBytes;
}

size_t entry_size_at(const unsigned char* p) noexcept {
  return p[0] == kBlobEscape ? kLongEntryBytes : 1 + size_t{p[0]};
}

const unsigned char* long_ptr(const unsigned char* entry) noexcept {
  const unsigned char* ext;
  std::memcpy(&ext, entry + 1, sizeof ext);
  return ext;
}

size_t long_len(const unsigned char* ext) noexcept {
  size_t n;
  std::memcpy(&n, ext, sizeof n);
  return n;
}

bool entry_equals(const unsigned char* p, std::string_view key) noexcept {
  const unsigned char len = p[0];
  if (len != kBlobEscape) return len == key.size() && detail::bytes_equal(p + 1, key.data(), len);
  if (key.size() <= kMaxInlineLen) return false;
  const unsigned char* ext = long_ptr(p);
  return long_len(ext) == key.size() &&
         detail::bytes_equal(ext + sizeof(size_t), key.data(), key.size());
}

// Byte offset of `key`'s entry in `blob`, or kNotFound; in the latter case
// *end receives the blob's length in bytes.
inline size_t blob_find(const unsigned char* blob, std::string_view key, size_t* end) noexcept {
  // A bucket of ~8 members spans two cache lines: ask for the second while
  // the first is read (a prefetch past the block's end is harmless).
  __builtin_prefetch(blob + 64);
  const BlobHeader h = read_blob_header(blob);
  size_t off = h.bytes;
  for (uint32_t i = 0; i < h.count; ++i) {
    if (entry_equals(blob + off, key)) return off;
    off += entry_size_at(blob + off);
  }
  *end = off;
  return kNotFound;
}

size_t blob_length(const unsigned char* blob) noexcept {
  const BlobHeader h = read_blob_header(blob);
  size_t off = h.bytes;
  for (uint32_t i = 0; i < h.count; ++i) off += entry_size_at(blob + off);
  return off;
}

// Offset of the slot-th entry (slot < count).
size_t entry_offset(const unsigned char* blob, size_t slot) noexcept {
  size_t off = read_blob_header(blob).bytes;
  for (size_t i = 0; i < slot; ++i) off += entry_size_at(blob + off);
  return off;
}

std::string_view member_at(const unsigned char* blob, size_t offset) noexcept {
  const unsigned char* next;
  return detail::decode_entry(blob + offset, &next);
}

unsigned char* xrealloc(unsigned char* p, size_t n) {
  void* q = std::realloc(p, n);
  if (q == nullptr) throw std::bad_alloc();
  return static_cast<unsigned char*>(q);
}

unsigned char** alloc_slots(size_t n) {
  void* p = std::calloc(n, kPtrBytes);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<unsigned char**>(p);
}

// Reverses the 64 bits of v (bit 0 <-> bit 63).
uint64_t reverse_bits(uint64_t v) noexcept {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

template <class F>
void emit_bucket(const unsigned char* blob, const F& fn) {
  if (blob != nullptr) detail::for_each_in_blob(blob, fn);
}

}  // namespace

// ---------------------------------------------------------------------------
// Lifetime
// ---------------------------------------------------------------------------

HashSet::~HashSet() { free_all(); }

HashSet::HashSet(HashSet&& other) noexcept
    : count_(std::exchange(other.count_, 0)),
      rehash_idx_(std::exchange(other.rehash_idx_, 0)),
      blob_bytes_(std::exchange(other.blob_bytes_, 0)),
      long_count_(std::exchange(other.long_count_, 0)),
      max_bucket_(std::exchange(other.max_bucket_, 0)),
      hist_(std::move(other.hist_)),
      walk_(std::move(other.walk_)) {
  t_[0] = std::exchange(other.t_[0], Table{});
  t_[1] = std::exchange(other.t_[1], Table{});
  other.hist_.clear();
  if (walk_) walk_->sink->relocated(this);
}

HashSet& HashSet::operator=(HashSet&& other) noexcept {
  if (this != &other) {
    free_all();  // reports what a walk of ours has not yet
    walk_ = std::move(other.walk_);
    if (walk_) walk_->sink->relocated(this);
    t_[0] = std::exchange(other.t_[0], Table{});
    t_[1] = std::exchange(other.t_[1], Table{});
    count_ = std::exchange(other.count_, 0);
    rehash_idx_ = std::exchange(other.rehash_idx_, 0);
    blob_bytes_ = std::exchange(other.blob_bytes_, 0);
    long_count_ = std::exchange(other.long_count_, 0);
    max_bucket_ = std::exchange(other.max_bucket_, 0);
    hist_ = std::move(other.hist_);
    other.hist_.clear();
  }
  return *this;
}

HashSet HashSet::clone() const {
  HashSet c;
  c.count_ = count_;
  c.rehash_idx_ = rehash_idx_;
  c.blob_bytes_ = blob_bytes_;
  c.long_count_ = long_count_;  // makes c's destructor look for long stubs
  c.max_bucket_ = max_bucket_;
  c.hist_ = hist_;
  for (int t = 0; t < 2; ++t) {
    if (t_[t].slots == nullptr) continue;
    c.t_[t].slots = alloc_slots(t_[t].size);
    c.t_[t].size = t_[t].size;
    for (size_t i = 0; i < t_[t].size; ++i) {
      const unsigned char* src = t_[t].slots[i];
      if (src == nullptr) continue;
      const size_t len = blob_length(src);
      unsigned char* dst = xrealloc(nullptr, len);
      std::memcpy(dst, src, len);
      if (long_count_ > 0) {
        // Deep-copy the long members; on failure undo this blob's copies so
        // that c never holds a stub pointing at *this's memory.
        const BlobHeader h = read_blob_header(dst);
        size_t off = h.bytes;
        uint32_t done = 0;
        try {
          for (; done < h.count; ++done) {
            if (dst[off] == kBlobEscape) {
              const unsigned char* ext = long_ptr(src + off);
              const size_t n = sizeof(size_t) + long_len(ext);
              unsigned char* copy = xrealloc(nullptr, n);
              std::memcpy(copy, ext, n);
              std::memcpy(dst + off + 1, &copy, sizeof copy);
            }
            off += entry_size_at(dst + off);
          }
        } catch (...) {
          size_t o = h.bytes;
          for (uint32_t j = 0; j < done; ++j) {
            if (dst[o] == kBlobEscape) std::free(const_cast<unsigned char*>(long_ptr(dst + o)));
            o += entry_size_at(dst + o);
          }
          std::free(dst);
          throw;
        }
      }
      c.t_[t].slots[i] = dst;
    }
  }
  return c;
}

void HashSet::free_blob(unsigned char* blob) noexcept {
  if (long_count_ > 0) {
    const BlobHeader h = read_blob_header(blob);
    size_t off = h.bytes;
    for (uint32_t i = 0; i < h.count; ++i) {
      if (blob[off] == kBlobEscape) std::free(const_cast<unsigned char*>(long_ptr(blob + off)));
      off += entry_size_at(blob + off);
    }
  }
  std::free(blob);
}

void HashSet::free_all() noexcept {
  if (walk_) finish_walk();  // the members present at its start, before they go
  for (Table& t : t_) {
    if (t.slots == nullptr) continue;
    if (count_ > 0) {
      for (size_t i = 0; i < t.size; ++i) {
        if (t.slots[i] != nullptr) free_blob(t.slots[i]);
      }
    }
    std::free(t.slots);
    t = Table{};
  }
  count_ = 0;
  rehash_idx_ = 0;
  blob_bytes_ = 0;
  long_count_ = 0;
  max_bucket_ = 0;
  std::vector<size_t>().swap(hist_);  // an empty set owns no memory
}

void HashSet::clear() noexcept { free_all(); }

// ---------------------------------------------------------------------------
// Bucket-size histogram (exact max bucket size for fair random sampling)
// ---------------------------------------------------------------------------

void HashSet::hist_reserve(size_t count) {
  // std::vector grows geometrically, so this is amortised O(1); a small
  // set's histogram stays a few words.
  if (count >= hist_.size()) hist_.resize(count + 1, 0);
}

// A bucket's size changes from `from` to `to` (0 = empty/absent). Adding
// before removing keeps the downward search for the new maximum short.
void HashSet::hist_change(size_t from, size_t to) noexcept {
  if (to > 0) {
    ++hist_[to];
    if (to > max_bucket_) max_bucket_ = to;
  }
  if (from > 0) {
    --hist_[from];
    while (max_bucket_ > 0 && hist_[max_bucket_] == 0) --max_bucket_;
  }
}

// ---------------------------------------------------------------------------
// Blob editing
// ---------------------------------------------------------------------------

void HashSet::blob_append(unsigned char** slot, size_t end, std::string_view member) {
  const size_t esize = entry_bytes_for(member.size());
  // Allocate everything first so a failure leaves the set untouched.
  unsigned char* ext = nullptr;
  if (member.size() > kMaxInlineLen) {
    ext = xrealloc(nullptr, sizeof(size_t) + member.size());
    const size_t n = member.size();
    std::memcpy(ext, &n, sizeof n);
    std::memcpy(ext + sizeof n, member.data(), n);
  }
  unsigned char* blob = *slot;
  const BlobHeader old = blob ? read_blob_header(blob) : BlobHeader{0, 0};
  const uint32_t count = old.count + 1;
  const size_t hdr = header_bytes(count);
  const size_t body = blob ? end - old.bytes : 0;
  const size_t new_len = hdr + body + esize;
  try {
    hist_reserve(count);
    blob = xrealloc(blob, new_len);
  } catch (...) {
    std::free(ext);
    throw;
  }
  if (old.count > 0 && hdr != old.bytes) std::memmove(blob + hdr, blob + old.bytes, body);
  write_header(blob, count);
  unsigned char* p = blob + hdr + body;
  if (ext == nullptr) {
    p[0] = static_cast<unsigned char>(member.size());
    if (!member.empty()) std::memcpy(p + 1, member.data(), member.size());
  } else {
    p[0] = kBlobEscape;
    std::memcpy(p + 1, &ext, sizeof ext);
    ++long_count_;
    blob_bytes_ += malloc_cost(sizeof(size_t) + member.size());
  }
  blob_bytes_ += malloc_cost(new_len) - malloc_cost(old.count > 0 ? end : 0);
  *slot = blob;
  hist_change(old.count, count);
}

void HashSet::blob_remove(unsigned char** slot, size_t offset) noexcept {
  unsigned char* blob = *slot;
  const BlobHeader old = read_blob_header(blob);
  const size_t end = blob_length(blob);
  const size_t esize = entry_size_at(blob + offset);
  if (blob[offset] == kBlobEscape) {
    unsigned char* ext = const_cast<unsigned char*>(long_ptr(blob + offset));
    blob_bytes_ -= malloc_cost(sizeof(size_t) + long_len(ext));
    std::free(ext);
    --long_count_;
  }
  const uint32_t count = old.count - 1;
  blob_bytes_ -= malloc_cost(end);
  hist_change(old.count, count);
  if (count == 0) {
    std::free(blob);
    *slot = nullptr;
    return;
  }
  std::memmove(blob + offset, blob + offset + esize, end - offset - esize);
  size_t new_len = end - esize;
  const size_t hdr = header_bytes(count);
  if (hdr != old.bytes) {
    std::memmove(blob + hdr, blob + old.bytes, new_len - old.bytes);
    new_len = new_len - old.bytes + hdr;
  }
  write_header(blob, count);
  // Shrinking realloc: keep the old block if it (improbably) fails.
  if (void* q = std::realloc(blob, new_len); q != nullptr) blob = static_cast<unsigned char*>(q);
  *slot = blob;
  blob_bytes_ += malloc_cost(new_len);
}

void HashSet::blob_append_raw(unsigned char** slot, const unsigned char* src, const Piece* pieces,
                              size_t npieces, uint32_t k) noexcept {
  unsigned char* blob = *slot;
  const BlobHeader old = blob ? read_blob_header(blob) : BlobHeader{0, 0};
  const size_t end = blob ? blob_length(blob) : 0;
  const size_t body = blob ? end - old.bytes : 0;
  size_t add = 0;
  for (size_t i = 0; i < npieces; ++i) add += pieces[i].length;
  const uint32_t count = old.count + k;
  const size_t hdr = header_bytes(count);
  const size_t new_len = hdr + body + add;
  hist_reserve(count);  // noexcept context: OOM terminates
  blob = xrealloc(blob, new_len);
  if (old.count > 0 && hdr != old.bytes) std::memmove(blob + hdr, blob + old.bytes, body);
  write_header(blob, count);
  unsigned char* p = blob + hdr + body;
  for (size_t i = 0; i < npieces; ++i) {
    std::memcpy(p, src + pieces[i].offset, pieces[i].length);
    p += pieces[i].length;
  }
  blob_bytes_ += malloc_cost(new_len) - malloc_cost(end);
  *slot = blob;
  hist_change(old.count, count);
}

// ---------------------------------------------------------------------------
// Resizing and incremental rehash
// ---------------------------------------------------------------------------

void HashSet::start_resize(size_t new_size) {
  unsigned char** slots = alloc_slots(new_size);
  if (count_ == 0) {
    std::free(t_[0].slots);
    t_[0] = Table{slots, new_size};
    return;
  }
  t_[1] = Table{slots, new_size};
  rehash_idx_ = 0;
  if (t_[0].size <= kEagerRehashBuckets) rehash_step(std::numeric_limits<size_t>::max());
}

void HashSet::finish_rehash() noexcept {
  std::free(t_[0].slots);
  t_[0] = t_[1];
  t_[1] = Table{};
  rehash_idx_ = 0;
}

bool HashSet::rehash_step(size_t buckets) noexcept {
  if (!is_rehashing()) return false;
  if (walk_) return true;  // buckets stay put while a walk runs
  size_t empty_budget = buckets > std::numeric_limits<size_t>::max() / kEmptyVisitsPerStep
                            ? std::numeric_limits<size_t>::max()
                            : buckets * kEmptyVisitsPerStep;
  const size_t old_size = t_[0].size;
  while (buckets > 0 && rehash_idx_ < old_size) {
    if (t_[0].slots[rehash_idx_] == nullptr) {
      if (empty_budget == 0) break;
      --empty_budget;
    } else {
      migrate_bucket(rehash_idx_);
      --buckets;
    }
    ++rehash_idx_;
  }
  if (rehash_idx_ == old_size) {
    finish_rehash();
  } else if (const unsigned char* next = t_[0].slots[rehash_idx_]) {
    __builtin_prefetch(next);  // the next step's blob: hide its cache miss
  }
  return is_rehashing();
}

// Moves every member of old bucket `index` into the new table. A shrink
// sends the whole bucket to one new bucket (index & new_mask), so the blob is
// adopted as is or concatenated — no hashing. A growth splits the bucket
// over the new buckets congruent to `index`; members are grouped by
// destination so each destination blob is resized once.
void HashSet::migrate_bucket(size_t index) noexcept {
  unsigned char* blob = t_[0].slots[index];
  t_[0].slots[index] = nullptr;
  const BlobHeader h = read_blob_header(blob);
  const size_t new_mask = t_[1].size - 1;
  const size_t end = blob_length(blob);

  if (t_[1].size <= t_[0].size) {
    unsigned char** dst = &t_[1].slots[index & new_mask];
    if (*dst == nullptr) {
      *dst = blob;  // adopt: same bytes, same histogram entry
      return;
    }
    const Piece body{h.bytes, end - h.bytes};
    blob_append_raw(dst, blob, &body, 1, h.count);
    hist_change(h.count, 0);
    blob_bytes_ -= malloc_cost(end);
    std::free(blob);  // stubs of long members now live in *dst
    return;
  }

  struct Item {
    size_t dest;
    size_t offset;
    size_t length;
  };
  constexpr size_t kInline = 64;
  Item inline_items[kInline];
  std::vector<Item> heap_items;  // only for pathological buckets
  Item* items = inline_items;
  if (h.count > kInline) {
    heap_items.resize(h.count);
    items = heap_items.data();
  }
  size_t off = h.bytes;
  size_t first_dest = kNotFound;
  bool single_dest = true;
  for (uint32_t i = 0; i < h.count; ++i) {
    const size_t len = entry_size_at(blob + off);
    const std::string_view m = member_at(blob, off);
    const size_t dest = static_cast<size_t>(hash_of(m)) & new_mask;
    if (i == 0) first_dest = dest;
    single_dest = single_dest && dest == first_dest;
    items[i] = Item{dest, off, len};
    off += len;
  }
  if (single_dest && t_[1].slots[first_dest] == nullptr) {
    t_[1].slots[first_dest] = blob;  // adopt
    return;
  }
  // std::sort never allocates (std::stable_sort would).
  std::sort(items, items + h.count, [](const Item& a, const Item& b) {
    return a.dest != b.dest ? a.dest < b.dest : a.offset < b.offset;
  });
  // The largest group whose destination is still empty keeps the old blob
  // (compacted in place) — one allocation and one free fewer per bucket.
  uint32_t keep_begin = 0;
  uint32_t keep_end = 0;
  for (uint32_t i = 0; i < h.count;) {
    uint32_t j = i;
    while (j < h.count && items[j].dest == items[i].dest) ++j;
    if (t_[1].slots[items[i].dest] == nullptr && j - i > keep_end - keep_begin) {
      keep_begin = i;
      keep_end = j;
    }
    i = j;
  }
  Piece pieces_inline[kInline];
  std::vector<Piece> heap_pieces;
  Piece* pieces = pieces_inline;
  if (h.count > kInline) {
    heap_pieces.resize(h.count);
    pieces = heap_pieces.data();
  }
  for (uint32_t i = 0; i < h.count;) {
    uint32_t j = i;
    while (j < h.count && items[j].dest == items[i].dest) {
      pieces[j - i] = Piece{items[j].offset, items[j].length};
      ++j;
    }
    if (i != keep_begin || keep_end == keep_begin) {
      blob_append_raw(&t_[1].slots[items[i].dest], blob, pieces, j - i, j - i);
    }
    i = j;
  }
  if (keep_end == keep_begin) {  // every destination was occupied
    hist_change(h.count, 0);
    blob_bytes_ -= malloc_cost(end);
    std::free(blob);
    return;
  }
  // Compact the kept entries to the front. Sources are visited in ascending
  // offset order and the write position never passes the read position
  // (the new header is not longer than the old one), so nothing unread is
  // overwritten.
  const uint32_t kept = keep_end - keep_begin;
  size_t w = header_bytes(kept);
  for (uint32_t i = keep_begin; i < keep_end; ++i) {
    std::memmove(blob + w, blob + items[i].offset, items[i].length);
    w += items[i].length;
  }
  write_header(blob, kept);
  if (void* q = std::realloc(blob, w); q != nullptr) blob = static_cast<unsigned char*>(q);
  t_[1].slots[items[keep_begin].dest] = blob;
  blob_bytes_ += malloc_cost(w) - malloc_cost(end);
  hist_change(h.count, kept);
}

void HashSet::reserve(size_t n) {
  const size_t buckets = std::max<size_t>(1, (n + kResizeTargetLoad - 1) / kResizeTargetLoad);
  if (buckets > kMaxTableSize) throw std::length_error("HashSet::reserve: too large");
  const size_t want = std::bit_ceil(buckets);
  if (walk_) return;  // no resizing while a walk runs
  if (is_rehashing()) rehash_step(std::numeric_limits<size_t>::max());
  if (want <= t_[0].size) return;
  start_resize(want);
}

void HashSet::after_erase() noexcept {
  if (count_ == 0) {
    free_all();  // every blob is gone; drop the tables too
    return;
  }
  if (walk_ || is_rehashing() || t_[0].size <= 1) return;
  if (count_ * kShrinkLoadDenominator >= t_[0].size) return;
  const size_t want = std::bit_ceil((count_ + kResizeTargetLoad - 1) / kResizeTargetLoad);
  try {
    start_resize(want);
  } catch (const std::bad_alloc&) {
    // Shrinking is an optimisation; try again on a later erase.
  }
}

// ---------------------------------------------------------------------------
// Lookup and mutation
// ---------------------------------------------------------------------------

bool HashSet::contains(std::string_view member) const noexcept {
  if (count_ == 0) return false;
  const uint64_t h = hash_of(member);
  size_t end;
  const unsigned char* b0 = t_[0].slots[h & (t_[0].size - 1)];
  if (b0 != nullptr && blob_find(b0, member, &end) != kNotFound) return true;
  if (!is_rehashing()) return false;
  const unsigned char* b1 = t_[1].slots[h & (t_[1].size - 1)];
  return b1 != nullptr && blob_find(b1, member, &end) != kNotFound;
}

bool HashSet::insert(std::string_view member) {
  if (is_rehashing()) rehash_step(1);
  if (t_[0].slots == nullptr) {
    t_[0] = Table{alloc_slots(1), 1};
  }
  const uint64_t h = hash_of(member);
  unsigned char** s0 = &t_[0].slots[h & (t_[0].size - 1)];
  size_t end = 0;
  if (*s0 != nullptr && blob_find(*s0, member, &end) != kNotFound) return false;
  if (is_rehashing()) {
    const size_t b1 = h & (t_[1].size - 1);
    unsigned char** s1 = &t_[1].slots[b1];
    end = 0;
    if (*s1 != nullptr && blob_find(*s1, member, &end) != kNotFound) return false;
    walk_touch(1, b1);
    blob_append(s1, end, member);
  } else {
    walk_touch(0, h & (t_[0].size - 1));
    blob_append(s0, end, member);
  }
  ++count_;
  if (!walk_ && !is_rehashing() && count_ > kMaxLoadFactor * t_[0].size &&
      t_[0].size < kMaxTableSize) {
    try {
      start_resize(t_[0].size * 2);
    } catch (const std::bad_alloc&) {
      // The member is in; growing is retried on the next insert.
    }
  }
  return true;
}

bool HashSet::erase(std::string_view member) {
  if (count_ == 0) return false;
  if (is_rehashing()) rehash_step(1);
  const uint64_t h = hash_of(member);
  for (int ti = 0; ti < 2; ++ti) {
    Table& t = t_[ti];
    if (t.slots == nullptr) continue;
    const size_t bucket = h & (t.size - 1);
    unsigned char** slot = &t.slots[bucket];
    size_t end;
    if (*slot == nullptr) continue;
    const size_t off = blob_find(*slot, member, &end);
    if (off == kNotFound) continue;
    walk_touch(ti, bucket);
    blob_remove(slot, off);
    --count_;
    after_erase();
    return true;
  }
  return false;
}

size_t HashSet::memory_bytes() const noexcept {
  return malloc_cost(t_[0].size * kPtrBytes) + malloc_cost(t_[1].size * kPtrBytes) + blob_bytes_ +
         hist_.capacity() * sizeof(size_t);
}

// ---------------------------------------------------------------------------
// Walks
// ---------------------------------------------------------------------------

void HashSet::begin_walk(WalkSink* sink) {
  walk_ = std::make_unique<Walk>();
  walk_->sink = sink;
  walk_->done.assign(t_[0].size + t_[1].size, false);
}

void HashSet::walk_report(size_t pos) {
  Walk& w = *walk_;
  if (pos < w.next || w.done[pos]) return;
  w.done[pos] = true;
  const int table = pos < t_[0].size ? 0 : 1;
  const size_t bucket = table == 0 ? pos : pos - t_[0].size;
  if (const unsigned char* blob = t_[table].slots ? t_[table].slots[bucket] : nullptr) {
    auto report = [&](std::string_view m) { w.sink->member(m); };
    detail::for_each_in_blob(blob, report);
  }
}

bool HashSet::walk_step(size_t buckets) {
  if (!walk_) return true;
  Walk& w = *walk_;
  const size_t total = w.done.size();
  size_t looks = buckets > std::numeric_limits<size_t>::max() / 16
                     ? std::numeric_limits<size_t>::max()
                     : buckets * 16;
  while (w.next < total && buckets > 0 && looks > 0) {
    const size_t pos = w.next;
    --looks;
    if (!w.done[pos]) {
      const int table = pos < t_[0].size ? 0 : 1;
      const size_t bucket = table == 0 ? pos : pos - t_[0].size;
      const unsigned char* blob = t_[table].slots ? t_[table].slots[bucket] : nullptr;
      if (blob != nullptr) {
        if (w.next + 8 < total) {
          const size_t ahead = w.next + 8;
          const int at = ahead < t_[0].size ? 0 : 1;
          if (t_[at].slots) __builtin_prefetch(t_[at].slots[at == 0 ? ahead : ahead - t_[0].size]);
        }
        auto report = [&](std::string_view m) { w.sink->member(m); };
        detail::for_each_in_blob(blob, report);
        --buckets;
      }
    }
    ++w.next;
  }
  if (w.next < total) return false;
  WalkSink* sink = w.sink;
  walk_.reset();  // resizing may resume; the sink may go away in ended()
  sink->ended();
  return true;
}

void HashSet::finish_walk() {
  while (!walk_step(std::numeric_limits<size_t>::max())) {
  }
}

// ---------------------------------------------------------------------------
// Fair random
// ---------------------------------------------------------------------------
//
// View the tables as a grid: one row per bucket that can hold members (all
// of t_[1], and t_[0] from rehash_idx_ on — buckets below it are migrated,
// hence empty), and M = max_bucket_ columns. Every member occupies exactly
// one cell (its bucket, its slot in the blob), and M is the exact maximum so
// every member's cell exists. Drawing a cell uniformly and retrying on empty
// cells therefore returns each member with probability exactly 1/size():
// buckets with few members are not favoured, unlike "pick a bucket, then a
// member in it". The acceptance rate is size() / (rows * M), about 1/4 at
// 1M members (load ~3.8, M = 16). After kRandomProbes rejections we pick
// the k-th member (k uniform) by walking the tables: the fallback is
// triggered by an event that does not depend on which member would be chosen,
// so the mixture stays exactly uniform.
HashSet::Location HashSet::pick_random(base::Rng& rng) const {
  const size_t lo0 = is_rehashing() ? rehash_idx_ : 0;
  const size_t rows0 = t_[0].size - lo0;
  const size_t rows = rows0 + t_[1].size;
  const size_t cols = max_bucket_;
  // Probes are drawn in batches of kBatch so their cache misses overlap
  // (prefetch every slot, then every blob); the batch is then examined in
  // draw order and the first accepted probe wins. That is exactly
  // sequential rejection sampling: the probes are i.i.d. and the ones drawn
  // after the winner are simply discarded.
  constexpr int kBatch = 4;
  for (int round = 0; round < kRandomProbes / kBatch; ++round) {
    unsigned char* const* slot[kBatch];
    size_t col[kBatch];
    Location loc[kBatch];
    for (int j = 0; j < kBatch; ++j) {
      const size_t row = rng.below(rows);
      col[j] = cols == 1 ? 0 : rng.below(cols);
      const int t = row < rows0 ? 0 : 1;
      loc[j] = Location{t, t == 0 ? lo0 + row : row - rows0, 0};
      slot[j] = &t_[t].slots[loc[j].bucket];
      __builtin_prefetch(slot[j]);
    }
    for (int j = 0; j < kBatch; ++j) {
      if (*slot[j] != nullptr) __builtin_prefetch(*slot[j]);
    }
    for (int j = 0; j < kBatch; ++j) {
      const unsigned char* blob = *slot[j];
      if (blob == nullptr || col[j] >= read_blob_header(blob).count) continue;
      loc[j].offset = entry_offset(blob, col[j]);
      return loc[j];
    }
  }
  size_t k = rng.below(count_);
  for (int t = 0; t < 2; ++t) {
    for (size_t i = 0; i < t_[t].size; ++i) {
      const unsigned char* blob = t_[t].slots[i];
      if (blob == nullptr) continue;
      const size_t c = read_blob_header(blob).count;
      if (k < c) return Location{t, i, entry_offset(blob, k)};
      k -= c;
    }
  }
  std::abort();  // unreachable: count_ is the sum of the bucket counts
}

std::string_view HashSet::random_member(base::Rng& rng) const {
  const Location loc = pick_random(rng);
  return member_at(t_[loc.table].slots[loc.bucket], loc.offset);
}

std::string HashSet::pop_random(base::Rng& rng) {
  if (is_rehashing()) rehash_step(1);
  const Location loc = pick_random(rng);
  walk_touch(loc.table, loc.bucket);
  unsigned char** slot = &t_[loc.table].slots[loc.bucket];
  std::string out(member_at(*slot, loc.offset));
  blob_remove(slot, loc.offset);
  --count_;
  after_erase();
  return out;
}

// ---------------------------------------------------------------------------
// SCAN
// ---------------------------------------------------------------------------
//
// Why the reverse-binary cursor returns every member that stays in the set
// for the whole scan, whatever resizes happen between calls.
//
// 1. Where a member can be. A member with hash h lives in bucket h & m of a
//    table with mask m = 2^k - 1: only its k low hash bits matter. Tables
//    are powers of two, so bucket b of a 2^j table "expands" into the
//    buckets of a 2^k table (k > j) whose low j bits equal b, and every
//    member of bucket b is in one of those expansions after a grow (and
//    conversely a shrink folds all the expansions back into b).
//
// 2. What the cursor counts. Read the cursor's bits reversed, R = rev64(v).
//    Incrementing "v |= ~m; v = rev(v); v++; v = rev(v)" sets the bits
//    outside the mask, then adds one to R: those bits, now the low bits of R,
//    overflow to zero and the carry lands on the lowest masked position. So
//    after each step R = X * 2^(64-k): a k-bit counter X in R's top bits,
//    zeros below, and v has no bits above the mask. The buckets are visited
//    in increasing order of their reversed index — bucket 0, then the one
//    whose top hash bit (of the k used) is set, and so on.
//
// 3. The invariant. Call the scan's progress T = rev64(v), the cursor about
//    to be used. Claim: every member present throughout the scan so far
//    whose rev64(h) < T has already been reported. Note that this statement
//    mentions no table size: that is why resizes cannot break it.
//    - Initially T = 0: vacuous.
//    - Not rehashing, table mask m (k bits): the call visits bucket v & m,
//      which holds exactly the members whose k low hash bits equal v's, i.e.
//      whose rev64(h) lies in [T', T' + 2^(64-k)) with T' = T rounded down to
//      a multiple of 2^(64-k); the new cursor is T' + 2^(64-k). Everything
//      below T' was covered before (T' <= T), everything in the range now.
//      If the table grew since the last call (k larger than before), T is
//      already a multiple of 2^(64-k) because the old cursor had zeros below
//      its top bits, so T' = T: no member is skipped and none repeated. If
//      it shrank, T' < T: the part [T', T) is reported again (duplicates,
//      as Redis allows) but nothing is missed.
//    - Rehashing, small mask m0 (k0 bits) and large mask m1 (k1 bits):
//      a member in the block of bucket v & m0 is either still in that small-
//      table bucket or already in one of its expansions in the large table.
//      The call reports the small bucket, then walks the large-table
//      expansions, incrementing the reversed cursor under m1, until the bits
//      in m1 ^ m0 wrap to zero — that is when the carry has advanced the k0-
//      bit prefix, so the new T is T0' + 2^(64-k0), the end of the block.
//      Starting mid-block (cursor from a larger table earlier) only skips
//      expansions whose range lies below T, covered before. Both halves of
//      the block's range were inspected in both places a member can be, at
//      one instant (a const call cannot interleave with a migration).
// 4. Termination: T only grows (except for the shrink round-down, which
//    never goes below a previously reported block) and the scan ends when
//    the counter overflows, i.e. v returns to 0 — after every block, so the
//    invariant holds for all of [0, 2^64): all stable members reported.
//
// Cost per call: one small bucket plus 2^(k1-k0) large buckets while
// rehashing (2 for a doubling), one bucket otherwise.
uint64_t HashSet::scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const {
  if (count_ == 0) return 0;
  uint64_t v = cursor;
  if (!is_rehashing()) {
    const uint64_t m0 = t_[0].size - 1;
    emit_bucket(t_[0].slots[v & m0], fn);
    v |= ~m0;
    v = reverse_bits(v);
    ++v;
    return reverse_bits(v);
  }
  const Table* small = &t_[0];
  const Table* large = &t_[1];
  if (small->size > large->size) std::swap(small, large);
  const uint64_t m0 = small->size - 1;
  const uint64_t m1 = large->size - 1;
  emit_bucket(small->slots[v & m0], fn);
  do {
    emit_bucket(large->slots[v & m1], fn);
    v |= ~m1;
    v = reverse_bits(v);
    ++v;
    v = reverse_bits(v);
  } while ((v & (m0 ^ m1)) != 0);
  return v;
}

}  // namespace setd::ds

// Dict<V>: the keyspace hash table (key -> value object, key -> expiry),
// modelled on Redis 7.0's dict.c. std::unordered_map lacks what the keyspace
// needs: a SCAN cursor that survives resizes, random and sampled entries for
// RANDOMKEY / active expiry, and resizing whose cost is spread over many
// operations instead of one big pause.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Design
// ------
// * Chained hashing over power-of-two bucket arrays. Every entry is ONE heap
//   allocation: the Entry header (next pointer, cached 64-bit hash, key view,
//   value; 32 + sizeof(V) bytes, padded) immediately followed by the key
//   bytes. Entries never move, so Entry*, V* and Entry::key() stay valid
//   until that entry is erased (or the Dict is cleared or destroyed) --
//   across inserts, resizes and rehashing, and even across moving or
//   swapping the Dict itself.
// * Hash: XXH3-64 (detail::dict_hash) under the process-wide seed of
//   ds/hash.hpp. The seed is read when the Dict allocates its first table
//   (and again whenever it becomes empty and starts over), so a Dict built
//   before the server seeds the process still picks up the seed, and
//   changing the seed never corrupts a populated Dict.
// * Thresholds: the first insert allocates kInitialBuckets (4) buckets.
//   Growth: inserting a new key when size() >= buckets (load 1) doubles the
//   table (not while a rehash is in progress, as in Redis). Shrink: after an erase, when size() * 8
//   < buckets (load < 1/8) and buckets > 4, the table shrinks to the smallest power of two >= 2 *
//   size() (load <= 1/2 afterwards, so growth is not immediately due again), but by at most a
//   factor of kMaxShrinkFactor (64) per resize; a further shrink is considered whenever a shrink
//   completes. When the last entry goes, all tables are freed.
// * Incremental rehash, like Redis: a resize allocates the new table and
//   then every find/insert/upsert/erase/take/random_entry/sample moves ONE
//   non-empty bucket from the old table to the new one (skipping at most
//   10 x (old buckets / new buckets) empty buckets, i.e. <= 640), so no single
//   operation pays for the whole resize. While rehashing, lookups check both
//   tables and new keys go to the new table. rehash_step(n) does extra work
//   on demand (e.g. from a cron). Const operations never rehash.
//
// Thread safety: none, like the std containers (concurrent const calls are
// fine). Allocation failure: inserts throw std::bad_alloc leaving the
// contents unchanged (a resize may have started). Callbacks (for_each, scan, sample) must not
// modify the Dict.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/ds/hash.hpp"

namespace setd::ds {

namespace detail {

// XXH3_64bits_withSeed(key, seed). Out of line so that xxhash.h stays out of
// this header.
uint64_t dict_hash(std::string_view key, uint64_t seed) noexcept;

// Reverses the bits of a 64-bit word (for SCAN cursors).
constexpr uint64_t reverse_bits(uint64_t v) noexcept {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

}  // namespace detail

template <class V>
class Dict {
 public:
  // One key/value pair. Shaped like std::unordered_map's value_type so that
  // `e->first` is the key and `e->second` the value; key()/value() say the
  // same thing by name.
  class Entry {
   public:
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    // The key bytes, stored inside the entry's own allocation. Valid until
    // this entry is erased.
    std::string_view key() const noexcept { return first; }
    V& value() noexcept { return second; }
    const V& value() const noexcept { return second; }

   private:
    friend class Dict;
    template <class... Args>
    Entry(uint64_t hash, std::string_view stored_key, Args&&... args)
        : hash_(hash), first(stored_key), second(std::forward<Args>(args)...) {}
    ~Entry() = default;

    Entry* next_ = nullptr;
    uint64_t hash_;

   public:
    const std::string_view first;
    V second;
  };

  static constexpr size_t kInitialBuckets = 4;
  static constexpr size_t kMaxShrinkFactor = 64;

  // An empty Dict; allocates nothing until the first insert.
  Dict() noexcept = default;
  ~Dict() { clear(); }

  // Move-only. Moving transfers every entry (no entry is reallocated, so
  // outstanding Entry*/V*/key views stay valid and now belong to the
  // destination); the source is left empty and reusable.
  Dict(Dict&& other) noexcept { swap(other); }
  Dict& operator=(Dict&& other) noexcept {
    if (this != &other) {
      clear();
      swap(other);
    }
    return *this;
  }
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;

  // Exchanges the contents of two Dicts in O(1); entries do not move.
  void swap(Dict& other) noexcept {
    std::swap(t_[0], other.t_[0]);
    std::swap(t_[1], other.t_[1]);
    std::swap(rehash_idx_, other.rehash_idx_);
    std::swap(count_, other.count_);
    std::swap(seed_, other.seed_);
  }
  friend void swap(Dict& a, Dict& b) noexcept { a.swap(b); }

  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // Buckets allocated over both tables (for tests and INFO-like stats).
  size_t bucket_count() const noexcept { return t_[0].size + t_[1].size; }
  // True while an incremental resize is in progress (two tables exist).
  bool rehashing() const noexcept { return t_[1].size != 0; }

  // The value stored under `key`, or nullptr. The non-const overload may
  // perform one rehash step; the const one never modifies anything.
  V* find(std::string_view key) {
    Entry* e = find_entry(key);
    return e != nullptr ? &e->second : nullptr;
  }
  const V* find(std::string_view key) const {
    const Entry* e = find_entry(key);
    return e != nullptr ? &e->second : nullptr;
  }

  // The entry for `key` (gives the stable key view too), or nullptr. Same
  // rehash behaviour as find().
  Entry* find_entry(std::string_view key) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    return lookup(key, hash(key));
  }
  const Entry* find_entry(std::string_view key) const {
    if (count_ == 0) return nullptr;
    return lookup(key, hash(key));
  }

  bool contains(std::string_view key) const { return find_entry(key) != nullptr; }

  // Adds key -> value unless `key` is present. Returns the stored value and
  // true, or the existing value (unchanged; `value` is dropped) and false.
  std::pair<V*, bool> insert(std::string_view key, V value) {
    auto [e, added] = try_emplace_entry(key, std::move(value));
    return {&e->second, added};
  }

  // Like insert() but constructs the value from `args` only if `key` is
  // absent (nothing is constructed or moved from otherwise).
  template <class... Args>
  std::pair<V*, bool> try_emplace(std::string_view key, Args&&... args) {
    auto [e, added] = try_emplace_entry(key, std::forward<Args>(args)...);
    return {&e->second, added};
  }

  // try_emplace() returning the entry (for callers that keep the key view).
  template <class... Args>
  std::pair<Entry*, bool> try_emplace_entry(std::string_view key, Args&&... args) {
    if (t_[0].size == 0) seed_ = hash_seed();  // empty Dict: (re)read the seed
    if (rehashing()) rehash_step(1);
    const uint64_t h = hash(key);
    if (Entry* e = lookup(key, h)) return {e, false};
    grow_if_needed(count_ + 1);
    Entry* e = make_entry(h, key, std::forward<Args>(args)...);
    Table& t = rehashing() ? t_[1] : t_[0];
    Entry*& head = t.slots[h & t.mask()];
    e->next_ = head;
    head = e;
    ++t.used;
    ++count_;
    return {e, true};
  }

  // operator[]-like: stores `value` under `key`, replacing (move-assigning
  // over) any existing value; returns the stored value.
  V& upsert(std::string_view key, V value) {
    auto [e, added] = try_emplace_entry(key, std::move(value));
    if (!added) e->second = std::move(value);
    return e->second;
  }

  // Removes `key`. Returns true if it was present. May perform one rehash
  // step and start a shrink; removing the last entry frees the tables.
  bool erase(std::string_view key) {
    Entry* e = unlink(key);
    if (e == nullptr) return false;
    destroy_entry(e);
    after_erase();
    return true;
  }

  // Removes `key` and returns its value (moved out), or nullopt.
  std::optional<V> take(std::string_view key) {
    Entry* e = unlink(key);
    if (e == nullptr) return std::nullopt;
    std::optional<V> out(std::move(e->second));
    destroy_entry(e);
    after_erase();
    return out;
  }

  // Removes every entry and frees all memory. The next insert re-reads the
  // hash seed.
  void clear() noexcept {
    for (Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        Entry* e = t.slots[i];
        while (e != nullptr) {
          Entry* next = e->next_;
          destroy_entry(e);
          e = next;
        }
      }
      t = Table{};
    }
    rehash_idx_ = 0;
    count_ = 0;
  }

  // Makes room for `n` entries at load <= 1 without further growth. Finishes
  // any ongoing rehash first (O(buckets) then); never shrinks. On a
  // non-empty Dict the enlargement is itself an incremental rehash.
  void reserve(size_t n) {
    if (n <= t_[0].size + t_[1].size && !rehashing()) return;
    while (rehashing()) rehash_step(SIZE_MAX);
    if (n > t_[0].size) start_resize(next_pow2(n));  // reads the seed if empty
  }

  // Performs up to `n` incremental rehash steps; each moves one non-empty
  // bucket of the old table (visiting at most 10 x old/new-size-ratio empty
  // buckets per step; that budget is shared by the n steps). Returns true if
  // a rehash is still in progress afterwards. When a shrink completes and the
  // table is still under 1/8 full, the next shrink starts at once, and this
  // call continues with it as long as steps remain.
  bool rehash_step(size_t n) noexcept {
    while (rehashing() && n > 0) {
      const size_t ratio = t_[0].size > t_[1].size ? t_[0].size / t_[1].size : 1;
      size_t empty_visits = saturating_mul(saturating_mul(n, 10), ratio);
      Table& from = t_[0];
      Table& to = t_[1];
      bool budget_left = true;
      while (n > 0 && from.used != 0) {
        // from.used != 0 guarantees a non-empty bucket at or after rehash_idx_.
        while (from.slots[rehash_idx_] == nullptr) {
          ++rehash_idx_;
          if (--empty_visits == 0) {
            budget_left = false;
            break;
          }
        }
        if (!budget_left) break;
        Entry* e = from.slots[rehash_idx_];
        while (e != nullptr) {
          Entry* next = e->next_;
          Entry*& head = to.slots[e->hash_ & to.mask()];
          e->next_ = head;
          head = e;
          --from.used;
          ++to.used;
          e = next;
        }
        from.slots[rehash_idx_] = nullptr;
        ++rehash_idx_;
        --n;
      }
      if (from.used != 0) return true;
      const bool was_shrink = to.size < from.size;
      t_[0] = std::move(t_[1]);
      t_[1] = Table{};
      rehash_idx_ = 0;
      // Continue the cascade of a big shrink, one (<= 64x) resize at a time.
      // (Not after a growth: that would undo reserve().)
      if (was_shrink) maybe_shrink();
    }
    return rehashing();
  }

  // Calls fn(std::string_view key, V& value) once per entry, in no
  // particular order. fn may modify values but not the Dict.
  template <class F>
  void for_each(F&& fn) {
    for (Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        for (Entry* e = t.slots[i]; e != nullptr; e = e->next_) fn(e->first, e->second);
      }
    }
  }
  template <class F>
  void for_each(F&& fn) const {
    for (const Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        for (const Entry* e = t.slots[i]; e != nullptr; e = e->next_) fn(e->first, e->second);
      }
    }
  }

  // One step of a SCAN iteration, exactly Redis's dictScan cursor. Pass 0 to
  // start; returns the cursor for the next call, 0 when done. Calls
  // fn(std::string_view key, V& value) for every entry of the bucket the
  // cursor designates (while rehashing: that bucket of the smaller table and
  // all of its expansions in the larger one). fn must not modify the Dict.
  // Never rehashes.
  //
  // Guarantee: every entry present from the first call to the last is
  // reported at least once, no matter how the Dict grows, shrinks or
  // rehashes between the calls. Entries added or removed meanwhile may or may
  // not be reported; an entry may be reported more than once (only after the
  // table shrank). Any cursor value is safe to pass.
  //
  // Why this works. With 2^k buckets, an entry lives in bucket hash & mask:
  // only the low k bits of the hash matter. The cursor's low k bits name the
  // bucket to visit, but the cursor is advanced by incrementing its bits in
  // *reversed* order (v |= ~mask sets the bits above the mask so the carry
  // runs off the top, then rev(rev(v) + 1)). So if R_k(b) is bucket b's
  // index with its k bits reversed, the buckets visited so far are exactly
  // those with R_k(b) < R_k(cursor): an ordering that looks at the lowest
  // hash bit first. Now resize the table:
  //  * Growing to 2^(k+1): bucket b splits into b and b + 2^k, i.e. one more
  //    (high) hash bit, which becomes the *least* significant bit of the
  //    reversed index: R_{k+1}(b') = 2 * R_k(b) + bit_k. Hence the big-table
  //    buckets with R_{k+1} < R_{k+1}(cursor) are precisely the expansions of
  //    the small-table buckets already visited: nothing is skipped and
  //    nothing is visited twice. (Same for growing by several powers.)
  //  * Shrinking to 2^(k-1): the cursor loses its top bit, i.e. the lowest
  //    bit of its reversed value, R_{k-1}(cursor') = floor(R_k(cursor) / 2).
  //    Every small bucket with a smaller reversed index was fully covered by
  //    big-table visits already, and the next small bucket merges two big
  //    buckets, of which one may have been visited: duplicates, never misses.
  //  * Mid-rehash both tables hold entries. The call visits bucket c of the
  //    smaller table and then every bucket of the larger table whose low bits
  //    equal c (its expansions), iterating the extra high bits with the same
  //    reversed increment, which finally carries into the small-mask bits
  //    and so advances the cursor by exactly one small-table step. An entry
  //    is therefore found whichever of the two tables it sits in at that
  //    moment, and the argument above applies to each table separately.
  // A plain increasing cursor would fail: after growth, bucket b's new twin
  // b + 2^k lies ahead of entries already reported and behind ones not yet,
  // so it would revisit half the table or skip half of it.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return scan_impl(*this, cursor, fn);
  }
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    return scan_impl(*this, cursor, fn);
  }

  // A random entry, or nullptr when empty; may perform one rehash step.
  // Uniform -- better than Redis's dictGetFairRandomKey(), whose
  // sample-of-15 walk favours entries that follow empty buckets (measured: a
  // 2-8x spread between keys). Method: draw a bucket uniformly (over both
  // tables while rehashing, minus the old table's already-moved prefix) and
  // a slot s uniformly in [0, 8); return the chain's entry at index s if it
  // has one, otherwise draw again. Each entry then has the same chance per
  // draw, so the result is exactly uniform while no chain exceeds 8 entries
  // (at load <= 1 with a good hash, practically never; slot 7 of a longer
  // chain picks uniformly among its entries 7..L-1, slightly under-weighting
  // those). Expected draws: 8 x buckets / size(), i.e. 8-64 at the load
  // factors this table keeps. After 1024 misses (only in a very sparse table,
  // e.g. right after reserve()) it falls back to a uniform pick within a
  // random non-empty bucket (Redis's dictGetRandomKey()).
  Entry* random_entry(base::Rng& rng) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    constexpr uint64_t kSlots = 8;
    const size_t lo = rehashing() ? rehash_idx_ : 0;
    const size_t total = t_[0].size + t_[1].size;
    for (int attempt = 0; attempt < 1024; ++attempt) {
      const size_t b = lo + rng.below(total - lo);
      Entry* e = b < t_[0].size ? t_[0].slots[b] : t_[1].slots[b - t_[0].size];
      if (e == nullptr) continue;
      uint64_t s = rng.below(kSlots);
      if (s == kSlots - 1) {
        // The last slot stands for "index 7 or beyond".
        size_t len = 0;
        for (Entry* c = e; c != nullptr; c = c->next_) ++len;
        if (len < kSlots) continue;
        s = kSlots - 1 + rng.below(len - (kSlots - 1));
      }
      for (; s > 0 && e != nullptr; --s) e = e->next_;
      if (e != nullptr) return e;
    }
    return random_entry_in_random_bucket(rng);
  }

  // Redis dictGetSomeKeys(): reports up to `n` distinct entries found by
  // walking consecutive buckets from a random start (jumping to a new random
  // bucket after a run of empty ones), calling fn(std::string_view key,
  // V& value) for each; returns how many were reported. Fast (at most
  // 10 x n buckets are looked at) but not uniform: neighbours come in groups,
  // and in a sparse table (mid-resize, or just after reserve()) it may report
  // fewer than n entries, even none, like Redis. Intended for active expiry
  // and eviction-style sampling. May perform up to
  // n rehash steps first. fn must not modify the Dict; collect keys (the
  // views stay valid until those entries are erased) and act afterwards.
  template <class F>
  size_t sample(base::Rng& rng, size_t n, F&& fn) {
    n = std::min(n, count_);
    if (n == 0) return 0;
    std::vector<Entry*> picked(n);
    const size_t got = gather(rng, n, picked.data());
    for (size_t i = 0; i < got; ++i) fn(picked[i]->first, picked[i]->second);
    return got;
  }

 private:
  struct Table {
    std::unique_ptr<Entry*[]> slots;
    size_t size = 0;  // 0 or a power of two
    size_t used = 0;
    size_t mask() const noexcept { return size - 1; }
  };

  static constexpr bool kOverAligned = alignof(Entry) > __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  static size_t saturating_mul(size_t a, size_t b) noexcept {
    return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
  }

  static size_t next_pow2(size_t n) noexcept {
    size_t s = kInitialBuckets;
    while (s < n) s <<= 1;
    return s;
  }

  uint64_t hash(std::string_view key) const noexcept { return detail::dict_hash(key, seed_); }

  template <class... Args>
  static Entry* make_entry(uint64_t h, std::string_view key, Args&&... args) {
    const size_t bytes = sizeof(Entry) + key.size();
    void* mem;
    if constexpr (kOverAligned) {
      mem = ::operator new (bytes, std::align_val_t{alignof(Entry)});
    } else {
      mem = ::operator new(bytes);
    }
    char* key_bytes = static_cast<char*>(mem) + sizeof(Entry);
    if (!key.empty()) std::memcpy(key_bytes, key.data(), key.size());
    try {
      return ::new (mem)
          Entry(h, std::string_view(key_bytes, key.size()), std::forward<Args>(args)...);
    } catch (...) {
      deallocate(mem);
      throw;
    }
  }

  static void deallocate(void* mem) noexcept {
    if constexpr (kOverAligned) {
      ::operator delete (mem, std::align_val_t{alignof(Entry)});
    } else {
      ::operator delete(mem);
    }
  }

  static void destroy_entry(Entry* e) noexcept {
    e->~Entry();
    deallocate(e);
  }

  Entry* lookup(std::string_view key, uint64_t h) const noexcept {
    for (int ti = 0; ti < (rehashing() ? 2 : 1); ++ti) {
      const Table& t = t_[ti];
      if (t.size == 0) continue;
      for (Entry* e = t.slots[h & t.mask()]; e != nullptr; e = e->next_) {
        if (e->hash_ == h && e->first == key) return e;
      }
    }
    return nullptr;
  }

  // Finds `key` and detaches its entry from the table (counts updated).
  Entry* unlink(std::string_view key) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    const uint64_t h = hash(key);
    for (int ti = 0; ti < (rehashing() ? 2 : 1); ++ti) {
      Table& t = t_[ti];
      if (t.size == 0) continue;
      Entry** link = &t.slots[h & t.mask()];
      while (*link != nullptr) {
        Entry* e = *link;
        if (e->hash_ == h && e->first == key) {
          *link = e->next_;
          --t.used;
          --count_;
          return e;
        }
        link = &e->next_;
      }
    }
    return nullptr;
  }

  void after_erase() noexcept {
    if (count_ == 0) {
      clear();  // frees both tables (all buckets are empty)
    } else if (!rehashing()) {
      maybe_shrink();
    }
  }

  // Starts a resize (or allocates the first table) so that `wanted` entries
  // fit at load <= 1. Only when not rehashing, as in Redis.
  void grow_if_needed(size_t wanted) {
    if (rehashing()) return;
    if (t_[0].size == 0) {
      start_resize(kInitialBuckets);
    } else if (wanted > t_[0].size) {
      start_resize(next_pow2(wanted));
    }
  }

  void maybe_shrink() noexcept {
    if (rehashing() || t_[0].size <= kInitialBuckets || count_ * 8 >= t_[0].size) return;
    size_t target = next_pow2(count_ * 2);
    target = std::max(target, t_[0].size / kMaxShrinkFactor);
    if (target >= t_[0].size) return;
    try {
      start_resize(target);
    } catch (const std::bad_alloc&) {
      // Shrinking is an optimisation: keep the big table if memory is short.
    }
  }

  void start_resize(size_t buckets) {
    Table t;
    t.slots = std::make_unique<Entry*[]>(buckets);  // value-initialised: nullptrs
    t.size = buckets;
    if (t_[0].size == 0) {
      seed_ = hash_seed();  // first table of an empty Dict
      t_[0] = std::move(t);
    } else {
      t_[1] = std::move(t);
      rehash_idx_ = 0;
    }
  }

  // dictGetSomeKeys: fills out[0, result) with distinct entries.
  size_t gather(base::Rng& rng, size_t count, Entry** out) {
    count = std::min(count, count_);
    if (count == 0) return 0;
    for (size_t j = 0; j < count && rehashing(); ++j) rehash_step(1);
    const int tables = rehashing() ? 2 : 1;
    size_t max_mask = t_[0].mask();
    if (tables == 2) max_mask = std::max(max_mask, t_[1].mask());
    size_t i = rng.next() & max_mask;
    size_t empty_run = 0;
    size_t stored = 0;
    for (size_t steps = saturating_mul(count, 10); stored < count && steps > 0; --steps) {
      for (int ti = 0; ti < tables && stored < count; ++ti) {
        // Buckets of the old table below rehash_idx_ are already empty.
        if (tables == 2 && ti == 0 && i < rehash_idx_) {
          if (i >= t_[1].size) {
            i = rehash_idx_;  // beyond the new table too: jump ahead
          } else {
            continue;
          }
        }
        if (i >= t_[ti].size) continue;
        Entry* e = t_[ti].slots[i];
        if (e == nullptr) {
          ++empty_run;
          if (empty_run >= 5 && empty_run > count) {
            i = rng.next() & max_mask;
            empty_run = 0;
          }
          continue;
        }
        empty_run = 0;
        for (; e != nullptr && stored < count; e = e->next_) out[stored++] = e;
      }
      i = (i + 1) & max_mask;
    }
    // Wrapping around or jumping can meet a bucket twice; report each entry
    // once (callers may erase what they were given).
    std::sort(out, out + stored, std::less<Entry*>());
    return static_cast<size_t>(std::unique(out, out + stored) - out);
  }

  // dictGetRandomKey: a random non-empty bucket, then a uniform chain entry.
  Entry* random_entry_in_random_bucket(base::Rng& rng) {
    Entry* head = nullptr;
    if (rehashing()) {
      // Old-table buckets below rehash_idx_ are empty: draw from the rest.
      const size_t total = t_[0].size + t_[1].size;
      do {
        const size_t h = rehash_idx_ + rng.below(total - rehash_idx_);
        head = h >= t_[0].size ? t_[1].slots[h - t_[0].size] : t_[0].slots[h];
      } while (head == nullptr);
    } else {
      do {
        head = t_[0].slots[rng.next() & t_[0].mask()];
      } while (head == nullptr);
    }
    size_t len = 0;
    for (Entry* e = head; e != nullptr; e = e->next_) ++len;
    for (size_t k = rng.below(len); k > 0; --k) head = head->next_;
    return head;
  }

  template <class Self, class F>
  static uint64_t scan_impl(Self& self, uint64_t v, F& fn) {
    if (self.count_ == 0) return 0;
    const auto emit = [&fn](const Table& t, size_t idx) {
      for (Entry* e = t.slots[idx]; e != nullptr;) {
        Entry* next = e->next_;
        if constexpr (std::is_const_v<Self>) {
          fn(e->first, static_cast<const V&>(e->second));
        } else {
          fn(e->first, e->second);
        }
        e = next;
      }
    };
    if (!self.rehashing()) {
      const Table& t = self.t_[0];
      const uint64_t m = t.mask();
      emit(t, v & m);
      v |= ~m;  // so the reversed increment carries only through masked bits
      return detail::reverse_bits(detail::reverse_bits(v) + 1);
    }
    const Table* small = &self.t_[0];
    const Table* large = &self.t_[1];
    if (small->size > large->size) std::swap(small, large);
    const uint64_t m0 = small->mask();
    const uint64_t m1 = large->mask();
    emit(*small, v & m0);
    // Visit every expansion of that bucket in the larger table.
    do {
      emit(*large, v & m1);
      v |= ~m1;
      v = detail::reverse_bits(detail::reverse_bits(v) + 1);
    } while ((v & (m0 ^ m1)) != 0);
    return v;
  }

  Table t_[2];
  size_t rehash_idx_ = 0;  // next bucket of t_[0] to move while rehashing
  size_t count_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace setd::ds

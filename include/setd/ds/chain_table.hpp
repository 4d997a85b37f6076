// ChainTable<Traits>: an intrusive chained hash table of caller-allocated
// nodes keyed by byte strings, modelled on Redis 7.0's dict.c. It is the
// engine under Dict<V> (a map that allocates its own entries) and under the
// keyspace (db/keyspace.hpp, whose entries are variable-size blobs). It
// offers what std::unordered_map lacks: a SCAN cursor that survives resizes,
// random and sampled nodes, and resizing spread over many operations.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Traits
// ------
//   using Node = ...;                                // the node type
//   static Node*& next(Node& n);                     // the chain link
//   static std::string_view key(const Node& n);      // the node's key
// The table never allocates, moves or frees nodes: insert() links one,
// unlink() hands one back, relink() puts a reallocated copy in the place of
// the original, clear() passes each to a disposer. Nodes keep their address
// for as long as they are linked.
//
// Design
// ------
// * Chained hashing over power-of-two bucket arrays (8 bytes per bucket).
//   Hashes are not stored in nodes (8 bytes per key saved): lookups compare
//   keys (chains hold ~1 node) and rehashing recomputes the hash of each node
//   it moves (XXH3 of a short key: a few ns, and the node's cache line is
//   read anyway to follow its link).
// * Hash: XXH3-64 (detail::dict_hash) under the process-wide seed of
//   ds/hash.hpp, read when the table allocates its first bucket array (and
//   again whenever it becomes empty and starts over), so a table built before
//   the server seeds the process still picks up the seed, and changing the
//   seed never corrupts a populated table.
// * Thresholds: the first insert allocates kInitialBuckets (4) buckets.
//   Growth: inserting when size() >= buckets (load 1) doubles the table (not
//   while a rehash is in progress, as in Redis). Shrink: after an unlink,
//   when size() * 8 < buckets (load < 1/8) and buckets > 4, the table shrinks
//   to the smallest power of two >= 2 * size() (load <= 1/2 afterwards), but
//   by at most a factor of kMaxShrinkFactor (64) per resize; a further shrink
//   is considered whenever a shrink completes. When the last node goes, the
//   bucket arrays are freed.
// * Incremental rehash, like Redis: a resize allocates the new array and then
//   every find/insert/unlink/random_node/sample moves ONE non-empty bucket
//   from the old array to the new one (skipping at most 10 x (old buckets /
//   new buckets) empty buckets, i.e. <= 640), so no single operation pays for
//   the whole resize. While rehashing, lookups check both arrays and new keys
//   go to the new one. rehash_step(n) does extra work on demand. Const
//   operations never rehash.
//
// Thread safety: none, like the std containers (concurrent const calls are
// fine). Allocation failure: insert() throws std::bad_alloc leaving the
// contents unchanged (a resize may have started). Callbacks (for_each, scan,
// sample) must not modify the table.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string_view>
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

template <class Traits>
class ChainTable {
 public:
  using Node = typename Traits::Node;

  static constexpr size_t kInitialBuckets = 4;
  static constexpr size_t kMaxShrinkFactor = 64;

  // An empty table; allocates nothing until the first insert.
  ChainTable() noexcept = default;
  // The table does not own its nodes: clear(disposer) them first.
  ~ChainTable() = default;

  // Move-only. Moving transfers every node (none is touched); the source is
  // left empty and reusable.
  ChainTable(ChainTable&& other) noexcept { swap(other); }
  ChainTable& operator=(ChainTable&& other) noexcept {
    if (this != &other) {
      release();
      swap(other);
    }
    return *this;
  }
  ChainTable(const ChainTable&) = delete;
  ChainTable& operator=(const ChainTable&) = delete;

  // Exchanges the contents of two tables in O(1).
  void swap(ChainTable& other) noexcept {
    std::swap(t_[0], other.t_[0]);
    std::swap(t_[1], other.t_[1]);
    std::swap(rehash_idx_, other.rehash_idx_);
    std::swap(count_, other.count_);
    std::swap(seed_, other.seed_);
  }

  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // Buckets allocated over both arrays (for tests and memory figures).
  size_t bucket_count() const noexcept { return t_[0].size + t_[1].size; }
  // True while an incremental resize is in progress (two arrays exist).
  bool rehashing() const noexcept { return t_[1].size != 0; }

  // The node for `key`, or nullptr. The non-const overload may perform one
  // rehash step; the const one never modifies anything.
  Node* find(std::string_view key) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    return lookup(key, hash(key));
  }
  const Node* find(std::string_view key) const {
    if (count_ == 0) return nullptr;
    return lookup(key, hash(key));
  }

  // Links `n`, whose key must not be present (callers have just looked it
  // up). Throws std::bad_alloc (nothing linked) if a first bucket array
  // cannot be allocated.
  void insert(Node* n) {
    if (t_[0].size == 0) seed_ = hash_seed();  // empty table: (re)read the seed
    if (rehashing()) rehash_step(1);
    grow_if_needed(count_ + 1);
    const uint64_t h = hash(Traits::key(*n));
    Table& t = rehashing() ? t_[1] : t_[0];
    Node*& head = t.slots[h & t.mask()];
    Traits::next(*n) = head;
    head = n;
    ++t.used;
    ++count_;
  }

  // Finds `key` and detaches its node (which the caller now owns), or
  // returns nullptr. May perform one rehash step and start a shrink;
  // detaching the last node frees the bucket arrays.
  Node* unlink(std::string_view key) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    Node** link = find_link(key, hash(key));
    if (link == nullptr) return nullptr;
    Node* n = *link;
    *link = Traits::next(*n);
    --count_;
    --table_of_link_->used;
    after_unlink();
    return n;
  }

  // Puts `fresh` in the place of the linked node `old` (same key; e.g. a
  // reallocated copy). Never rehashes, so `old` is where it was found.
  void relink(Node* old, Node* fresh) noexcept {
    const uint64_t h = hash(Traits::key(*old));
    for (int ti = 0; ti < (rehashing() ? 2 : 1); ++ti) {
      Table& t = t_[ti];
      if (t.size == 0) continue;
      for (Node** link = &t.slots[h & t.mask()]; *link != nullptr; link = &Traits::next(**link)) {
        if (*link == old) {
          Traits::next(*fresh) = Traits::next(*old);
          *link = fresh;
          return;
        }
      }
    }
  }

  // Detaches every node, passing each to dispose(Node*), and frees all
  // memory. The next insert re-reads the hash seed.
  template <class D>
  void clear(D&& dispose) noexcept {
    for (Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        Node* n = t.slots[i];
        while (n != nullptr) {
          Node* next = Traits::next(*n);
          dispose(n);
          n = next;
        }
      }
    }
    release();
  }

  // Makes room for `n` nodes at load <= 1 without further growth. Finishes
  // any ongoing rehash first (O(buckets) then); never shrinks. On a
  // non-empty table the enlargement is itself an incremental rehash.
  void reserve(size_t n) {
    if (n <= t_[0].size + t_[1].size && !rehashing()) return;
    while (rehashing()) rehash_step(SIZE_MAX);
    if (n > t_[0].size) start_resize(next_pow2(n));  // reads the seed if empty
  }

  // Performs up to `n` incremental rehash steps; each moves one non-empty
  // bucket of the old array (visiting at most 10 x old/new-size-ratio empty
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
        Node* e = from.slots[rehash_idx_];
        while (e != nullptr) {
          Node* next = Traits::next(*e);
          Node*& head = to.slots[hash(Traits::key(*e)) & to.mask()];
          Traits::next(*e) = head;
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

  // Calls fn(Node&) once per node, in no particular order. fn must not
  // modify the table.
  template <class F>
  void for_each(F&& fn) const {
    for (const Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        for (Node* e = t.slots[i]; e != nullptr;) {
          Node* next = Traits::next(*e);
          fn(*e);
          e = next;
        }
      }
    }
  }

  // One step of a SCAN iteration, exactly Redis's dictScan cursor. Pass 0 to
  // start; returns the cursor for the next call, 0 when done. Calls
  // fn(Node&) for every node of the bucket the cursor designates (while
  // rehashing: that bucket of the smaller array and all of its expansions in
  // the larger one). fn must not modify the table. Never rehashes.
  //
  // Guarantee: every node present from the first call to the last is
  // reported at least once, no matter how the table grows, shrinks or
  // rehashes between the calls. Nodes added or removed meanwhile may or may
  // not be reported; a node may be reported more than once (only after the
  // table shrank). Any cursor value is safe to pass.
  //
  // Why this works. With 2^k buckets, a node lives in bucket hash & mask:
  // only the low k bits of the hash matter. The cursor's low k bits name the
  // bucket to visit, but the cursor is advanced by incrementing its bits in
  // *reversed* order (v |= ~mask sets the bits above the mask so the carry
  // runs off the top, then rev(rev(v) + 1)). So if R_k(b) is bucket b's
  // index with its k bits reversed, the buckets visited so far are exactly
  // those with R_k(b) < R_k(cursor): an ordering that looks at the lowest
  // hash bit first. Now resize the table:
  //  * Growing to 2^(k+1): bucket b splits into b and b + 2^k, i.e. one more
  //    (high) hash bit, which becomes the *least* significant bit of the
  //    reversed index: R_{k+1}(b') = 2 * R_k(b) + bit_k. Hence the big-array
  //    buckets with R_{k+1} < R_{k+1}(cursor) are precisely the expansions of
  //    the small-array buckets already visited: nothing is skipped and
  //    nothing is visited twice. (Same for growing by several powers.)
  //  * Shrinking to 2^(k-1): the cursor loses its top bit, i.e. the lowest
  //    bit of its reversed value, R_{k-1}(cursor') = floor(R_k(cursor) / 2).
  //    Every small bucket with a smaller reversed index was fully covered by
  //    big-array visits already, and the next small bucket merges two big
  //    buckets, of which one may have been visited: duplicates, never misses.
  //  * Mid-rehash both arrays hold nodes. The call visits bucket c of the
  //    smaller array and then every bucket of the larger one whose low bits
  //    equal c (its expansions), iterating the extra high bits with the same
  //    reversed increment, which finally carries into the small-mask bits
  //    and so advances the cursor by exactly one small-array step. A node
  //    is therefore found whichever of the two arrays it sits in at that
  //    moment, and the argument above applies to each array separately.
  // A plain increasing cursor would fail: after growth, bucket b's new twin
  // b + 2^k lies ahead of nodes already reported and behind ones not yet,
  // so it would revisit half the table or skip half of it.
  template <class F>
  uint64_t scan(uint64_t v, F&& fn) const {
    if (count_ == 0) return 0;
    const auto emit = [&fn](const Table& t, size_t idx) {
      for (Node* e = t.slots[idx]; e != nullptr;) {
        Node* next = Traits::next(*e);
        fn(*e);
        e = next;
      }
    };
    if (!rehashing()) {
      const Table& t = t_[0];
      const uint64_t m = t.mask();
      emit(t, v & m);
      v |= ~m;  // so the reversed increment carries only through masked bits
      return detail::reverse_bits(detail::reverse_bits(v) + 1);
    }
    const Table* small = &t_[0];
    const Table* large = &t_[1];
    if (small->size > large->size) std::swap(small, large);
    const uint64_t m0 = small->mask();
    const uint64_t m1 = large->mask();
    emit(*small, v & m0);
    // Visit every expansion of that bucket in the larger array.
    do {
      emit(*large, v & m1);
      v |= ~m1;
      v = detail::reverse_bits(detail::reverse_bits(v) + 1);
    } while ((v & (m0 ^ m1)) != 0);
    return v;
  }

  // A random node, or nullptr when empty; may perform one rehash step.
  // Uniform -- better than Redis's dictGetFairRandomKey(), whose
  // sample-of-15 walk favours nodes that follow empty buckets (measured: a
  // 2-8x spread between keys). Method: draw a bucket uniformly (over both
  // arrays while rehashing, minus the old array's already-moved prefix) and
  // a slot s uniformly in [0, 8); return the chain's node at index s if it
  // has one, otherwise draw again. Each node then has the same chance per
  // draw, so the result is exactly uniform while no chain exceeds 8 nodes
  // (at load <= 1 with a good hash, practically never; slot 7 of a longer
  // chain picks uniformly among its nodes 7..L-1, slightly under-weighting
  // those). Expected draws: 8 x buckets / size(), i.e. 8-64 at the load
  // factors this table keeps. After 1024 misses (only in a very sparse table,
  // e.g. right after reserve()) it falls back to a uniform pick within a
  // random non-empty bucket (Redis's dictGetRandomKey()).
  Node* random_node(base::Rng& rng) {
    if (count_ == 0) return nullptr;
    if (rehashing()) rehash_step(1);
    constexpr uint64_t kSlots = 8;
    const size_t lo = rehashing() ? rehash_idx_ : 0;
    const size_t total = t_[0].size + t_[1].size;
    for (int attempt = 0; attempt < 1024; ++attempt) {
      const size_t b = lo + rng.below(total - lo);
      Node* e = b < t_[0].size ? t_[0].slots[b] : t_[1].slots[b - t_[0].size];
      if (e == nullptr) continue;
      uint64_t s = rng.below(kSlots);
      if (s == kSlots - 1) {
        // The last slot stands for "index 7 or beyond".
        size_t len = 0;
        for (Node* c = e; c != nullptr; c = Traits::next(*c)) ++len;
        if (len < kSlots) continue;
        s = kSlots - 1 + rng.below(len - (kSlots - 1));
      }
      for (; s > 0 && e != nullptr; --s) e = Traits::next(*e);
      if (e != nullptr) return e;
    }
    return random_node_in_random_bucket(rng);
  }

  // Redis dictGetSomeKeys(): reports up to `n` distinct nodes found by
  // walking consecutive buckets from a random start (jumping to a new random
  // bucket after a run of empty ones), calling fn(Node&) for each; returns
  // how many were reported. Fast (at most 10 x n buckets are looked at) but
  // not uniform: neighbours come in groups, and in a sparse table (mid-resize,
  // or just after reserve()) it may report fewer than n nodes, even none,
  // like Redis. May perform up to n rehash steps first. fn must not modify
  // the table; collect and act afterwards.
  template <class F>
  size_t sample(base::Rng& rng, size_t n, F&& fn) {
    n = std::min(n, count_);
    if (n == 0) return 0;
    std::vector<Node*> picked(n);
    const size_t got = gather(rng, n, picked.data());
    for (size_t i = 0; i < got; ++i) fn(*picked[i]);
    return got;
  }

 private:
  struct Table {
    std::unique_ptr<Node*[]> slots;
    size_t size = 0;  // 0 or a power of two
    size_t used = 0;
    size_t mask() const noexcept { return size - 1; }
  };

  static size_t saturating_mul(size_t a, size_t b) noexcept {
    return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
  }

  static size_t next_pow2(size_t n) noexcept {
    size_t s = kInitialBuckets;
    while (s < n) s <<= 1;
    return s;
  }

  uint64_t hash(std::string_view key) const noexcept { return detail::dict_hash(key, seed_); }

  void release() noexcept {
    t_[0] = Table{};
    t_[1] = Table{};
    rehash_idx_ = 0;
    count_ = 0;
  }

  Node* lookup(std::string_view key, uint64_t h) const noexcept {
    for (int ti = 0; ti < (rehashing() ? 2 : 1); ++ti) {
      const Table& t = t_[ti];
      if (t.size == 0) continue;
      for (Node* e = t.slots[h & t.mask()]; e != nullptr; e = Traits::next(*e)) {
        if (Traits::key(*e) == key) return e;
      }
    }
    return nullptr;
  }

  // The link (bucket head or a node's next) that points at `key`'s node,
  // or nullptr; table_of_link_ tells which array it is in.
  Node** find_link(std::string_view key, uint64_t h) noexcept {
    for (int ti = 0; ti < (rehashing() ? 2 : 1); ++ti) {
      Table& t = t_[ti];
      if (t.size == 0) continue;
      Node** link = &t.slots[h & t.mask()];
      while (*link != nullptr) {
        if (Traits::key(**link) == key) {
          table_of_link_ = &t;
          return link;
        }
        link = &Traits::next(**link);
      }
    }
    return nullptr;
  }

  void after_unlink() noexcept {
    if (count_ == 0) {
      release();  // frees both arrays (all buckets are empty)
    } else if (!rehashing()) {
      maybe_shrink();
    }
  }

  // Starts a resize (or allocates the first array) so that `wanted` nodes
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
      // Shrinking is an optimisation: keep the big array if memory is short.
    }
  }

  void start_resize(size_t buckets) {
    Table t;
    t.slots = std::make_unique<Node*[]>(buckets);  // value-initialised: nullptrs
    t.size = buckets;
    if (t_[0].size == 0) {
      seed_ = hash_seed();  // first array of an empty table
      t_[0] = std::move(t);
    } else {
      t_[1] = std::move(t);
      rehash_idx_ = 0;
    }
  }

  // dictGetSomeKeys: fills out[0, result) with distinct nodes.
  size_t gather(base::Rng& rng, size_t count, Node** out) {
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
        // Buckets of the old array below rehash_idx_ are already empty.
        if (tables == 2 && ti == 0 && i < rehash_idx_) {
          if (i >= t_[1].size) {
            i = rehash_idx_;  // beyond the new array too: jump ahead
          } else {
            continue;
          }
        }
        if (i >= t_[ti].size) continue;
        Node* e = t_[ti].slots[i];
        if (e == nullptr) {
          ++empty_run;
          if (empty_run >= 5 && empty_run > count) {
            i = rng.next() & max_mask;
            empty_run = 0;
          }
          continue;
        }
        empty_run = 0;
        for (; e != nullptr && stored < count; e = Traits::next(*e)) out[stored++] = e;
      }
      i = (i + 1) & max_mask;
    }
    // Wrapping around or jumping can meet a bucket twice; report each node
    // once (callers may erase what they were given).
    std::sort(out, out + stored, std::less<Node*>());
    return static_cast<size_t>(std::unique(out, out + stored) - out);
  }

  // dictGetRandomKey: a random non-empty bucket, then a uniform chain node.
  Node* random_node_in_random_bucket(base::Rng& rng) {
    Node* head = nullptr;
    if (rehashing()) {
      // Old-array buckets below rehash_idx_ are empty: draw from the rest.
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
    for (Node* e = head; e != nullptr; e = Traits::next(*e)) ++len;
    for (size_t k = rng.below(len); k > 0; --k) head = Traits::next(*head);
    return head;
  }

  Table t_[2];
  Table* table_of_link_ = nullptr;  // set by find_link()
  size_t rehash_idx_ = 0;           // next bucket of t_[0] to move while rehashing
  size_t count_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace setd::ds

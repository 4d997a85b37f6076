// HashSet: a set of binary-safe byte strings, built for low memory per
// member and one-or-two cache misses per lookup.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Design
// ------
// * A power-of-two array of bucket pointers. A bucket is either null (empty)
//   or ONE malloc'd "blob" holding all of its members packed back to back:
//
//     blob  := header entry*
//     header:= count (1 byte, when count < 255)
//            | 0xFF count (uint32, unaligned)        (count >= 255: rare)
//     entry := len (1 byte, 0..254) bytes[len]         (short member, inline)
//            | 0xFF ptr (8 bytes, unaligned)            (member of >= 255 bytes)
//     *ptr  := size_t len, bytes[len]                   (one allocation)
//
//   A short member therefore costs 1 + len bytes and no allocation of its
//   own; a long member is never copied when its bucket's blob is realloc'd
//   or rehashed (only the 9-byte stub moves). Blobs are sized exactly and
//   resized with realloc (glibc rounds chunks to 16 bytes anyway, 8 bytes of
//   overhead each, so a bucket of 2-4 short members is one 32-64 byte chunk).
// * Load: the table doubles when size() > 8 * buckets (so the load factor
//   lives in (4, 8] while growing) and shrinks when size() < buckets / 2
//   (load < 1/16 of the maximum) to the smallest power of two giving a load
//   of at most 4. A bucket of ~4-8 short members is one 48-96 byte chunk and
//   lookups compare them inline (no memcmp call for lengths <= 16). For
//   1,000,000 members like "m:123456" (load 7.6) this is 13.5 bytes of RSS
//   per member (1 of bucket pointer, the rest blob); ~17 just after a
//   doubling (load 4). The maximum was 6 until the compact-memory work:
//   at 8, bench/micro's HashSetContainsHit1M / Miss1M / Insert1M measured
//   no slower (interleaved runs, 2-core VM: 390-470 ns against 440-520 ns
//   per lookup), a bucket's members sharing one or two cache lines.
// * Hash: XXH3-64 seeded with the process-wide seed (ds/hash.hpp); bucket =
//   hash & (buckets - 1). Hashes are not stored; rehashing recomputes them.
// * Incremental rehash, as in Redis's dict: a resize allocates a second
//   table and every insert/erase/pop then migrates one non-empty old bucket
//   (visiting at most 10 empty ones), so no single operation moves more than
//   one bucket's members. New members go to the new table while rehashing.
//   Shrinking merges blobs (pointer moves, no hashing). Tables of at most 64
//   buckets are rehashed at once. A doubling always finishes before the next
//   one is due (n old buckets, >= 8n inserts until the next doubling).
// * Exact uniform random: rejection sampling over (bucket, slot) pairs with
//   slot < max bucket size, the maximum being maintained exactly through a
//   histogram of bucket sizes (see random_member()).
//
// Thread safety: none; like std containers (concurrent const calls are fine).
// Allocation failure: insert/reserve/clone throw std::bad_alloc and leave the
// set unchanged; an allocation failure while migrating a bucket during a
// rehash step terminates the process (like Redis's out-of-memory abort).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace setd::base {
class Rng;  // setd/base/random.hpp
}  // namespace setd::base

namespace setd::ds {

namespace detail {

// Length byte that marks an out-of-line (long) member, and the escape byte
// of a 5-byte blob header.
inline constexpr unsigned char kBlobEscape = 0xFF;

struct BlobHeader {
  uint32_t count;  // members in the blob
  uint32_t bytes;  // header length: 1 or 5
};

inline BlobHeader read_blob_header(const unsigned char* blob) noexcept {
  if (blob[0] != kBlobEscape) return {blob[0], 1};
  uint32_t count;
  std::memcpy(&count, blob + 1, sizeof count);
  return {count, 5};
}

// Decodes the entry starting at `p`; stores the start of the next entry in
// *next and returns the member's bytes (valid while the blob is unchanged).
inline std::string_view decode_entry(const unsigned char* p, const unsigned char** next) noexcept {
  const unsigned char len = p[0];
  if (len != kBlobEscape) {
    *next = p + 1 + len;
    return {reinterpret_cast<const char*>(p + 1), len};
  }
  const unsigned char* ext;
  std::memcpy(&ext, p + 1, sizeof ext);
  *next = p + 1 + sizeof ext;
  size_t n;
  std::memcpy(&n, ext, sizeof n);
  return {reinterpret_cast<const char*>(ext + sizeof n), n};
}

template <class F>
void for_each_in_blob(const unsigned char* blob, F& fn) {
  const BlobHeader h = read_blob_header(blob);
  const unsigned char* p = blob + h.bytes;
  for (uint32_t i = 0; i < h.count; ++i) {
    const unsigned char* next;
    const std::string_view m = decode_entry(p, &next);
    fn(m);
    p = next;
  }
}

}  // namespace detail

class HashSet {
 public:
  // Growth threshold: the table doubles when size() > kMaxLoadFactor * buckets.
  static constexpr size_t kMaxLoadFactor = 8;
  // The load a shrink or reserve() leaves: at most half the maximum.
  static constexpr size_t kResizeTargetLoad = kMaxLoadFactor / 2;
  // How many buckets ahead for_each() prefetches.
  static constexpr size_t kForEachPrefetch = 8;

  // An empty set; allocates nothing until the first insert.
  HashSet() noexcept = default;
  ~HashSet();

  // Move-only; a moved-from set is empty and reusable. Use clone() to copy.
  HashSet(HashSet&& other) noexcept;
  HashSet& operator=(HashSet&& other) noexcept;
  HashSet(const HashSet&) = delete;
  HashSet& operator=(const HashSet&) = delete;

  // Deep copy (same members; table layout and rehash state copied as is).
  // Throws std::bad_alloc.
  HashSet clone() const;

  // Adds `member` (any bytes, any length). Returns true if it was not
  // present. May perform one incremental rehash step and start a resize.
  bool insert(std::string_view member);

  // Removes `member`. Returns true if it was present. May perform one rehash
  // step and start a shrink; an emptied set frees its tables.
  bool erase(std::string_view member);

  // True if `member` is present. Never rehashes (const).
  bool contains(std::string_view member) const noexcept;

  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }

  // Pre-sizes the table so that `n` members fit at a load factor of at most
  // 3 (used when converting an intset of n members). Finishes an ongoing
  // rehash first (O(buckets) then). Never shrinks. On a non-empty set the
  // enlargement is itself an incremental rehash.
  void reserve(size_t n);

  // Calls fn(std::string_view) exactly once per member, in no particular
  // order. fn must not modify this set. Views are valid during the call.
  // The blob kForEachPrefetch buckets ahead is prefetched, so a walk over a
  // set much larger than the cache (an RDB snapshot of 1M members) does not
  // wait for one cache miss per bucket while fn runs.
  template <class F>
  void for_each(F&& fn) const {
    for (const Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        if (i + kForEachPrefetch < t.size) __builtin_prefetch(t.slots[i + kForEachPrefetch]);
        if (const unsigned char* blob = t.slots[i]) detail::for_each_in_blob(blob, fn);
      }
    }
  }

  // Like for_each(), but fn(std::string_view) returns bool and the walk
  // stops as soon as it returns false. Returns false if it stopped early,
  // true if every member was visited. fn must not modify this set.
  template <class F>
  bool for_each_while(F&& fn) const {
    for (const Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        const unsigned char* blob = t.slots[i];
        if (blob == nullptr) continue;
        const detail::BlobHeader h = detail::read_blob_header(blob);
        const unsigned char* p = blob + h.bytes;
        for (uint32_t k = 0; k < h.count; ++k) {
          const unsigned char* next;
          if (!fn(detail::decode_entry(p, &next))) return false;
          p = next;
        }
      }
    }
    return true;
  }

  // One step of a Redis-style SCAN. Pass 0 to start; returns the cursor for
  // the next call, 0 when the iteration is complete. Calls fn for every
  // member of the bucket(s) the cursor designates (the whole expansion of
  // the bucket in the larger table while rehashing), so one call reports at
  // least 0 and typically 1-8 members.
  // Guarantee: every member present from the first call to the last is
  // reported at least once, even if the set grows, shrinks or rehashes
  // between calls; members added or removed meanwhile may or may not be
  // reported, and a member may be reported more than once (after a
  // shrink). Any cursor value is safe to pass (garbage in: no crash, it just
  // continues from there). fn must not modify this set.
  uint64_t scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const;

  // A member chosen uniformly at random (exactly: every member has
  // probability 1/size()). Precondition: size() > 0. The view is valid until
  // the next mutation of this set. Expected cost: buckets * max_bucket_size()
  // / size() probes (about 4 at 1M members, issued 4 at a time so their
  // cache misses overlap); falls back to an O(buckets) walk
  // after 1024 rejected probes (only possible in a degenerate sparse table),
  // which keeps the result exactly uniform.
  std::string_view random_member(base::Rng& rng) const;

  // Removes and returns a uniformly random member (as random_member).
  // Precondition: size() > 0.
  std::string pop_random(base::Rng& rng);

  // Approximate heap bytes owned: bucket arrays, blobs and long members,
  // each rounded as glibc malloc would (16-byte chunks, 8 bytes overhead),
  // plus the bucket-size histogram. Excludes sizeof(HashSet).
  size_t memory_bytes() const noexcept;

  // Removes every member and frees all memory.
  void clear() noexcept;

  // Performs up to `buckets` incremental rehash steps (each migrates one
  // non-empty bucket; up to 10 empty buckets are skipped per step). Returns
  // true if a rehash is still in progress afterwards. rehash_step(SIZE_MAX)
  // completes any rehash.
  bool rehash_step(size_t buckets) noexcept;

  // True while two tables exist (an incremental resize is in progress).
  bool is_rehashing() const noexcept { return t_[1].slots != nullptr; }

  // Total buckets over both tables (0 for an empty set).
  size_t bucket_count() const noexcept { return t_[0].size + t_[1].size; }

  // Members in the fullest bucket (exact; 0 when empty).
  size_t max_bucket_size() const noexcept { return max_bucket_; }

  // --- walks ---------------------------------------------------------------
  // A walk reports every member present when it begins exactly once, while
  // the set keeps changing: the point-in-time snapshot of one set, paid for
  // a bucket at a time. While a walk runs the set neither resizes nor
  // rehashes (inserts may take the load above kMaxLoadFactor; nothing moves
  // between buckets), so a bucket keeps its place; before insert, erase or
  // pop_random changes a bucket the walk has not reached, that bucket's
  // members are reported first ("save a bucket before a write touches it").
  // walk_step() reports the rest in bucket order. Ending the set's life
  // (destructor, clear(), being moved over) reports whatever is left first;
  // moving the set moves the walk and tells the sink where the set is now.
  // Resizing resumes with the first insert or erase after the walk. One walk
  // at a time; clone() does not copy it.
  class WalkSink {
   public:
    virtual ~WalkSink() = default;
    // A member that was in the set when the walk began (view valid during
    // the call).
    virtual void member(std::string_view m) = 0;
    // The set object moved; the walk goes on from `now`.
    virtual void relocated(HashSet* now) = 0;
    // Every member has been reported; the set will not call again.
    virtual void ended() = 0;
  };
  void begin_walk(WalkSink* sink);
  // Reports up to `buckets` more non-empty buckets (looking at most at 16
  // times as many); returns true once the walk is over (ended() was called).
  bool walk_step(size_t buckets);
  bool walking() const noexcept { return walk_ != nullptr; }
  // Reports everything not reported yet.
  void finish_walk();
  // Stops the walk without reporting the rest (nor calling ended()).
  void abandon_walk() noexcept { walk_.reset(); }

 private:
  struct Table {
    unsigned char** slots = nullptr;
    size_t size = 0;  // power of two, or 0 when slots == nullptr
  };
  struct Location {
    int table;
    size_t bucket;
    size_t offset;  // byte offset of the entry inside the blob
  };

  struct Walk {
    WalkSink* sink;
    size_t next = 0;         // buckets below this position have been reported
    std::vector<bool> done;  // buckets at or above `next` reported early
  };
  // Position of a bucket in walking order: t_[0], then t_[1].
  size_t walk_pos(int table, size_t bucket) const noexcept {
    return table == 0 ? bucket : t_[0].size + bucket;
  }
  // Before a write to (table, bucket): reports it if the walk has not.
  void walk_touch(int table, size_t bucket) {
    if (walk_ != nullptr) walk_report(walk_pos(table, bucket));
  }
  void walk_report(size_t pos);

  Location pick_random(base::Rng& rng) const;
  void start_resize(size_t new_size);
  void finish_rehash() noexcept;
  void migrate_bucket(size_t index) noexcept;
  void after_erase() noexcept;
  void free_blob(unsigned char* blob) noexcept;
  void free_all() noexcept;
  // Appends one new member to *slot (allocating the blob when null);
  // `end` is the current blob length (0 when null).
  void blob_append(unsigned char** slot, size_t end, std::string_view member);
  // Removes the entry at byte `offset` of *slot.
  void blob_remove(unsigned char** slot, size_t offset) noexcept;
  // Appends `k` raw entries (byte ranges of `src`) to *slot; the members'
  // ownership (long stubs) moves with the bytes.
  struct Piece {
    size_t offset;
    size_t length;
  };
  void blob_append_raw(unsigned char** slot, const unsigned char* src, const Piece* pieces,
                       size_t npieces, uint32_t k) noexcept;
  void hist_reserve(size_t count);
  void hist_change(size_t from, size_t to) noexcept;

  Table t_[2];                  // t_[0] main table; t_[1] the target while rehashing
  size_t count_ = 0;            // members
  size_t rehash_idx_ = 0;       // next t_[0] bucket to migrate (while rehashing)
  size_t blob_bytes_ = 0;       // malloc-rounded bytes of blobs and long members
  size_t long_count_ = 0;       // members stored out of line
  size_t max_bucket_ = 0;       // exact max over hist_
  std::vector<size_t> hist_;    // hist_[k] = number of buckets holding k members
  std::unique_ptr<Walk> walk_;  // a walk in progress, or null
};

}  // namespace setd::ds

// Keyspace: one database's keys, values and TTLs in compact entries.
//
// Dependency rule (module db): ds and base only; no protocol, no server.
//
// Every key is ONE allocation (db/value.hpp gives the entry layout): chain
// link, an 8-byte header, the value word, the TTL when there is one, the key
// and, for short strings, the string itself. The entries hang in a
// ds::ChainTable (Redis's dict: incremental rehash, resize-proof SCAN
// cursor, uniform random key), so a key costs its entry plus ~8-16 bytes of
// bucket array.
//
// TTLs live in their entries, not in a second table. For active expiry's
// sampling the keyspace also keeps a TTL index: an array of pointers to the
// entries that have a TTL (chunks of 4096, so it never copies itself when
// it grows), each entry knowing its position (ttl_index) so that removal is
// a swap with the last. Sampling draws positions uniformly: every key with a
// TTL has the same chance, however sparse such keys are. 12 bytes per TTL in
// the entry and 8 in the index, against Redis's ~40 for an expires-dict
// entry and its bucket.
//
// Reallocation: giving a key a TTL, taking it away, or replacing the value
// builds a new entry and puts it in the old one's place in its chain (and
// in the TTL index), so Value references to that key are invalid
// afterwards; every other operation leaves entries where they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/chain_table.hpp"

namespace setd::db {

class Keyspace {
 public:
  Keyspace() = default;
  ~Keyspace() { clear(); }
  Keyspace(Keyspace&& o) noexcept { swap(o); }
  Keyspace& operator=(Keyspace&& o) noexcept {
    if (this != &o) {
      clear();
      swap(o);
    }
    return *this;
  }
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;
  void swap(Keyspace& o) noexcept {
    table_.swap(o.table_);
    ttl_.swap(o.ttl_);
  }

  size_t size() const noexcept { return table_.size(); }
  bool empty() const noexcept { return table_.empty(); }
  // Keys with a TTL.
  size_t expires_size() const noexcept { return ttl_.size(); }
  size_t bucket_count() const noexcept { return table_.bucket_count(); }

  // The value of `key`, or nullptr. May perform one rehash step (non-const).
  Value* find(std::string_view key) {
    Entry* e = table_.find(key);
    return e ? &e->value : nullptr;
  }
  const Value* find(std::string_view key) const {
    const Entry* e = table_.find(key);
    return e ? &e->value : nullptr;
  }

  // Stores `o` under `key`, which must be absent, with TTL `expire_ms` (-1:
  // none). Consumes `o` (its set moves in; its string is copied).
  Value& insert(std::string_view key, Object&& o, int64_t expire_ms, bool snap_mark);
  // Replaces the value of the existing `v` by `o`, keeping its key, with TTL
  // `expire_ms` (-1: none). Returns the stored value: `v` itself when a
  // string of the same shape could be overwritten in place, else a new
  // entry's (`v` is gone).
  Value& replace(Value& v, Object&& o, int64_t expire_ms, bool snap_mark);
  // Gives the existing `v` the TTL `expire_ms`, or (-1) removes its TTL.
  // Returns the value, which may have moved.
  Value& set_expire(Value& v, int64_t expire_ms);

  // Removes `key`. True if it existed.
  bool erase(std::string_view key);
  // Removes `key` and returns its value and TTL (-1 for none).
  std::optional<std::pair<Object, int64_t>> take(std::string_view key);
  // Removes every key and frees all memory.
  void clear() noexcept;

  // SCAN over keys (ds::ChainTable::scan guarantees): fn(Value&); the key is
  // v.key(). fn must not modify the keyspace.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return table_.scan(cursor, [&](Entry& e) { fn(e.value); });
  }
  template <class F>
  void for_each(F&& fn) {
    table_.for_each([&](Entry& e) { fn(e.value); });
  }
  template <class F>
  void for_each(F&& fn) const {
    table_.for_each([&](const Entry& e) { fn(static_cast<const Value&>(e.value)); });
  }

  // A uniformly random key's value, or nullptr when empty.
  Value* random(base::Rng& rng) {
    Entry* e = table_.random_node(rng);
    return e ? &e->value : nullptr;
  }
  // A uniformly random key with a TTL, or nullptr when there is none.
  Value* random_with_ttl(base::Rng& rng) {
    if (ttl_.size() == 0) return nullptr;
    return &ttl_.at(rng.below(ttl_.size()))->value;
  }

  bool rehash_step(size_t n) noexcept { return table_.rehash_step(n); }
  void reserve(size_t n) { table_.reserve(n); }

  // Bytes of the bucket arrays and of the TTL index (for memory figures).
  size_t overhead_bytes() const noexcept {
    return table_.bucket_count() * sizeof(void*) + ttl_.capacity_bytes();
  }

 private:
  struct Entry {
    Entry* next;
    Value value;
  };
  struct Traits {
    using Node = Entry;
    static Entry*& next(Entry& e) noexcept { return e.next; }
    static std::string_view key(const Entry& e) noexcept { return e.value.key(); }
  };

  // Pointers to the entries with a TTL, in chunks that never move.
  class TtlIndex {
   public:
    static constexpr size_t kChunk = 4096;
    size_t size() const noexcept { return n_; }
    Entry*& at(size_t i) noexcept { return chunks_[i / kChunk][i % kChunk]; }
    // Appends `e`; returns its position.
    uint32_t push(Entry* e);
    // Removes position i (the last entry moves into it; its index is set).
    void remove(uint32_t i) noexcept;
    void swap(TtlIndex& o) noexcept {
      chunks_.swap(o.chunks_);
      std::swap(n_, o.n_);
    }
    void clear() noexcept {
      chunks_.clear();
      n_ = 0;
    }
    size_t capacity_bytes() const noexcept { return chunks_.size() * kChunk * sizeof(Entry*); }

   private:
    std::vector<std::unique_ptr<Entry*[]>> chunks_;
    size_t n_ = 0;
  };

  static Entry* entry_of(Value& v) noexcept {
    return reinterpret_cast<Entry*>(reinterpret_cast<char*>(&v) - offsetof(Entry, value));
  }
  // Allocates an entry for key/o (TTL slot if expire_ms >= 0; the caller
  // registers it in the TTL index). Consumes o.
  static Entry* make(std::string_view key, Object&& o, int64_t expire_ms, bool snap_mark);
  // A copy of `old` with the same key and value but a TTL slot or not.
  static Entry* remake(Entry* old, bool with_ttl);
  // Destroys what the value owns and frees the entry.
  static void destroy(Entry* e) noexcept;
  static void set_ttl_index(Entry* e, uint32_t i) noexcept;
  static uint32_t ttl_index(const Entry* e) noexcept;
  static void set_expire_field(Entry* e, int64_t ms) noexcept;
  static Object to_object(Entry* e);
  // replace() without reallocating, when `o` is a string that fits `v`'s
  // layout (same embedded length, or both raw) and the TTL slot stays.
  bool overwrite(Value& v, Object& o, int64_t expire_ms, bool snap_mark);

  ds::ChainTable<Traits> table_;
  TtlIndex ttl_;
};

}  // namespace setd::db

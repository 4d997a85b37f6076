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
// TTLs live in their entries (8 bytes, only in entries that have one), not
// in a second table: against Redis's ~40 bytes of expires-dict entry and
// bucket per TTL. Active expiry therefore walks the keyspace itself with a
// SCAN cursor (Database::expire_cycle_step), as Redis 7.0 walks its expires
// dict with one: every key is visited once per pass, whatever its TTL.
//
// Reallocation: giving a key a TTL, taking it away, or replacing the value
// builds a new entry and puts it in the old one's place in its chain (and
// in the TTL index), so Value references to that key are invalid
// afterwards; every other operation leaves entries where they are.
#pragma once

#include <cstddef>
#include <cstdint>
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
    std::swap(expires_, o.expires_);
  }

  size_t size() const noexcept { return table_.size(); }
  bool empty() const noexcept { return table_.empty(); }
  // Keys with a TTL.
  size_t expires_size() const noexcept { return expires_; }
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

  // Up to n values from consecutive buckets at a random start (Redis's
  // dictGetSomeKeys; see ds::ChainTable::sample). fn must not modify the
  // keyspace.
  template <class F>
  size_t sample(base::Rng& rng, size_t n, F&& fn) {
    return table_.sample(rng, n, [&](Entry& e) { fn(e.value); });
  }

  bool rehash_step(size_t n) noexcept { return table_.rehash_step(n); }
  bool rehashing() const noexcept { return table_.rehashing(); }
  void reserve(size_t n) { table_.reserve(n); }

  // What the keyspace spends beyond keys and values (MEMORY STATS'
  // overhead.hashtable.main, as Redis counts its dict's buckets, entries and
  // robj headers): the bucket arrays and, in every entry, the chain link,
  // the header and the TTL slot when there is one.
  size_t overhead_bytes() const noexcept {
    return table_.bucket_count() * sizeof(void*) +
           table_.size() * (sizeof(Entry*) + sizeof(Value)) + expires_ * sizeof(int64_t);
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

  static Entry* entry_of(Value& v) noexcept {
    return reinterpret_cast<Entry*>(reinterpret_cast<char*>(&v) - offsetof(Entry, value));
  }
  // Allocates an entry for key/o (TTL slot if expire_ms >= 0). Consumes o.
  static Entry* make(std::string_view key, Object&& o, int64_t expire_ms, bool snap_mark);
  // A copy of `old` with the same key and value but a TTL slot or not.
  static Entry* remake(Entry* old, bool with_ttl);
  // Destroys what the value owns and frees the entry.
  static void destroy(Entry* e) noexcept;
  static void set_expire_field(Entry* e, int64_t ms) noexcept;
  static Object to_object(Entry* e);
  // replace() without reallocating, when `o` is a string that fits `v`'s
  // layout (same embedded length, or both raw) and the TTL slot stays.
  bool overwrite(Value& v, Object& o, int64_t expire_ms, bool snap_mark);

  ds::ChainTable<Traits> table_;
  size_t expires_ = 0;  // entries with a TTL
};

}  // namespace setd::db

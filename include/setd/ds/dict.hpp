// Dict<V>: a hash map from byte-string keys to V that allocates its own
// entries, on the ChainTable engine (ds/chain_table.hpp: Redis dict.c's
// incremental rehash, resize-proof SCAN cursor, uniform random entry and
// dictGetSomeKeys sampling -- read the design there).
//
// Dependency rule (module ds): std, xxHash, setd/base only.
//
// Every entry is ONE heap allocation: the Entry header (next pointer, key
// view, value; 24 + sizeof(V) bytes, padded) immediately followed by the key
// bytes. Entries never move, so Entry*, V* and Entry::key() stay valid until
// that entry is erased (or the Dict is cleared or destroyed) -- across
// inserts, resizes and rehashing, and even across moving or swapping the
// Dict itself. Inserts throw std::bad_alloc leaving the contents unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "setd/base/random.hpp"
#include "setd/ds/chain_table.hpp"

namespace setd::ds {

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
    explicit Entry(std::string_view stored_key, Args&&... args)
        : first(stored_key), second(std::forward<Args>(args)...) {}
    ~Entry() = default;

    Entry* next_ = nullptr;

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
  void swap(Dict& other) noexcept { t_.swap(other.t_); }
  friend void swap(Dict& a, Dict& b) noexcept { a.swap(b); }

  size_t size() const noexcept { return t_.size(); }
  bool empty() const noexcept { return t_.empty(); }
  // Buckets allocated over both tables (for tests and INFO-like stats).
  size_t bucket_count() const noexcept { return t_.bucket_count(); }
  // True while an incremental resize is in progress (two tables exist).
  bool rehashing() const noexcept { return t_.rehashing(); }

  // The value stored under `key`, or nullptr. The non-const overload may
  // perform one rehash step; the const one never modifies anything.
  V* find(std::string_view key) {
    Entry* e = t_.find(key);
    return e != nullptr ? &e->second : nullptr;
  }
  const V* find(std::string_view key) const {
    const Entry* e = t_.find(key);
    return e != nullptr ? &e->second : nullptr;
  }

  // The entry for `key` (gives the stable key view too), or nullptr. Same
  // rehash behaviour as find().
  Entry* find_entry(std::string_view key) { return t_.find(key); }
  const Entry* find_entry(std::string_view key) const { return t_.find(key); }

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
    if (Entry* e = t_.find(key)) return {e, false};
    Entry* e = make_entry(key, std::forward<Args>(args)...);
    try {
      t_.insert(e);
    } catch (...) {
      destroy_entry(e);
      throw;
    }
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
    Entry* e = t_.unlink(key);
    if (e == nullptr) return false;
    destroy_entry(e);
    return true;
  }

  // Removes `key` and returns its value (moved out), or nullopt.
  std::optional<V> take(std::string_view key) {
    Entry* e = t_.unlink(key);
    if (e == nullptr) return std::nullopt;
    std::optional<V> out(std::move(e->second));
    destroy_entry(e);
    return out;
  }

  // Removes every entry and frees all memory. The next insert re-reads the
  // hash seed.
  void clear() noexcept {
    t_.clear([](Entry* e) { destroy_entry(e); });
  }

  // ChainTable::reserve / rehash_step.
  void reserve(size_t n) { t_.reserve(n); }
  bool rehash_step(size_t n) noexcept { return t_.rehash_step(n); }

  // Calls fn(std::string_view key, V& value) once per entry, in no
  // particular order. fn may modify values but not the Dict.
  template <class F>
  void for_each(F&& fn) {
    t_.for_each([&](Entry& e) { fn(e.first, e.second); });
  }
  template <class F>
  void for_each(F&& fn) const {
    t_.for_each([&](const Entry& e) { fn(e.first, static_cast<const V&>(e.second)); });
  }

  // ChainTable::scan, calling fn(std::string_view key, V& value).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return t_.scan(cursor, [&](Entry& e) { fn(e.first, e.second); });
  }
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) const {
    return t_.scan(cursor, [&](const Entry& e) { fn(e.first, static_cast<const V&>(e.second)); });
  }

  // ChainTable::random_node: a uniformly random entry, or nullptr.
  Entry* random_entry(base::Rng& rng) { return t_.random_node(rng); }

  // ChainTable::sample, calling fn(std::string_view key, V& value); the key
  // views stay valid until those entries are erased.
  template <class F>
  size_t sample(base::Rng& rng, size_t n, F&& fn) {
    return t_.sample(rng, n, [&](Entry& e) { fn(e.first, e.second); });
  }

 private:
  struct Traits {
    using Node = Entry;
    static Entry*& next(Entry& e) noexcept { return e.next_; }
    static std::string_view key(const Entry& e) noexcept { return e.first; }
  };

  static constexpr bool kOverAligned = alignof(Entry) > __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  template <class... Args>
  static Entry* make_entry(std::string_view key, Args&&... args) {
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
          Entry(std::string_view(key_bytes, key.size()), std::forward<Args>(args)...);
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

  ChainTable<Traits> t_;
};

}  // namespace setd::ds

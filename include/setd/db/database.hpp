// One numbered database: the keyspace (key -> Value) and the expiry table
// (key -> unix time in ms).
//
// Dependency rule (module db): ds and base only. Lookups apply lazy expiry:
// a key whose time has come is deleted when it is next looked up, and the
// `on_expired` hook is told (so the server can count it and notify).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "setd/base/random.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/dict.hpp"

namespace setd::db {

class Database {
 public:
  explicit Database(int id) : id_(id) {}
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  int id() const { return id_; }

  // The live value of `key`, or nullptr when missing or expired (an expired
  // key is deleted on the way).
  Value* find(std::string_view key);
  // Like find() but never deletes: an expired key reads as missing.
  const Value* peek(std::string_view key) const;
  bool exists(std::string_view key) { return find(key) != nullptr; }

  // Stores `v` under `key`, replacing any value. The TTL is dropped unless
  // keep_ttl is set. Stamps the value's LRU clock (a new object's access
  // time, as Redis's createObject). Returns the stored value.
  Value& set(std::string_view key, Value v, bool keep_ttl = false);
  // Stores `v` under `key`, which must not exist (callers have just looked
  // it up). Stamps the LRU clock like set(). Returns the stored value.
  Value& add(std::string_view key, Value v);
  // Removes `key` (and its TTL). True if it existed (and was not expired).
  bool erase(std::string_view key);
  // Removes `key` and returns its value and TTL (-1 for none).
  std::optional<std::pair<Value, int64_t>> take(std::string_view key);

  size_t size() const { return keys_.size(); }
  size_t expires_size() const { return expires_.size(); }
  void clear();

  // Expiry. expire_at returns -1 when the key has no TTL (or is missing).
  int64_t expire_at(std::string_view key) const;
  // Sets the TTL of an existing key.
  void set_expire(std::string_view key, int64_t when_ms);
  // Drops the TTL; true if there was one.
  bool persist(std::string_view key);
  // True if `key` exists with a TTL that has passed (not yet reclaimed).
  bool is_expired(std::string_view key) const;

  // SCAN over keys (dictScan guarantees). fn(std::string_view key, Value&).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return keys_.scan(cursor, [&](std::string_view k, Value& v) { fn(k, v); });
  }
  template <class F>
  void for_each(F&& fn) {
    keys_.for_each([&](std::string_view k, Value& v) { fn(k, v); });
  }

  // A random live key (expired ones met on the way are reclaimed), or
  // nullopt if the database is empty.
  std::optional<std::string> random_key(base::Rng& rng);

  // One round of active expiry: samples up to `samples` keys with a TTL and
  // deletes the expired ones. Returns (sampled, expired).
  std::pair<size_t, size_t> expire_cycle_step(base::Rng& rng, size_t samples);

  // Average TTL of sampled keys in ms (INFO keyspace avg_ttl).
  long long avg_ttl() const { return avg_ttl_; }

  // SWAPDB: exchanges contents (keys, TTLs, statistics), not ids or hooks.
  void swap_contents(Database& other);

  // Called after a key is deleted because its time passed.
  std::function<void(Database&, std::string_view key)> on_expired;

 private:
  bool expire_if_needed(std::string_view key);

  int id_;
  ds::Dict<Value> keys_;
  ds::Dict<int64_t> expires_;
  long long avg_ttl_ = 0;
};

}  // namespace setd::db

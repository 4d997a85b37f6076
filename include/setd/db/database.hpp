// One numbered database: its keyspace (key -> Value, each with its TTL; see
// db/keyspace.hpp) and the rules around it: lazy expiry, who expires keys,
// and the hooks of point-in-time snapshots.
//
// Dependency rule (module db): ds and base only. Lookups apply lazy expiry:
// a key whose time has come is deleted when it is next looked up, and the
// `on_expired` hook is told (so the server can count it and notify).
//
// Point-in-time snapshots without fork: while a SnapshotObserver is
// attached, every change to a key that the snapshot has not saved yet is
// preceded by observer->save_before_change(), which saves the old value
// (and TTL) and marks it saved; keys created meanwhile are born marked, so
// the snapshot skips them. "Saved" is Value::snap_mark() == snapshot_mark();
// the mark flips with each snapshot, which must therefore visit (mark) every
// key before the next one starts. Changes are: find_for_write() (a handler
// about to modify a value in place), set() over an existing key, erase(),
// take(), set_expire(), persist(), lazy and active expiry; clear() and
// swap_contents() tell the observer first (it may take the contents away).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "setd/base/random.hpp"
#include "setd/db/keyspace.hpp"
#include "setd/db/value.hpp"

namespace setd::db {

class Database;

// Who expires keys. A master deletes keys whose time has come (kActive). A
// replica leaves that to its master's DELs: an expired key reads as missing
// but stays (kReportOnly), and the master's own commands see it as it is
// (kSuspended), as Redis's expireIfNeeded on a replica. One control is
// shared by all of a server's databases.
enum class ExpiryMode : uint8_t { kActive, kReportOnly, kSuspended };
struct ExpiryControl {
  ExpiryMode mode = ExpiryMode::kActive;
};

// How deleted values are freed (Redis's lazyfree-lazy-expire and
// lazyfree-lazy-server-del): with the matching flag on, an expired value, or
// one deleted or overwritten implicitly (erase(), set() over a key), goes
// to `lazy_free` with the bytes it holds, which frees it (in the background
// when big) and notes the bytes freed. One control is shared by all of a
// server's databases.
struct FreeControl {
  bool lazy_expire = false;
  bool lazy_server_del = false;
  std::function<void(Object&&, size_t bytes)> lazy_free;
};

// What a point-in-time snapshot needs to hear from a Database.
class SnapshotObserver {
 public:
  virtual ~SnapshotObserver() = default;
  // `key` (value `v`, TTL `expire_ms` or -1) is about to change or go and
  // has not been saved yet: save it now. The Database marks it saved after.
  // The observer may start a walk of a big set (ds::HashSet::begin_walk),
  // which changes nothing the database sees.
  virtual void save_before_change(Database& db, std::string_view key, Value& v,
                                  int64_t expire_ms) = 0;
  // `db` is about to be emptied: whatever is unsaved must be kept (e.g.
  // with take_contents()).
  virtual void before_clear(Database& db) = 0;
  // The contents of `a` and `b` are about to be exchanged.
  virtual void before_swap(Database& a, Database& b) = 0;
};

class Database {
 public:
  explicit Database(int id) : id_(id) {}
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  int id() const { return id_; }

  // The live value of `key`, or nullptr when missing or expired (an expired
  // key is deleted on the way).
  Value* find(std::string_view key);
  // find() for a caller about to modify the value in place: a running
  // snapshot saves it first.
  Value* find_for_write(std::string_view key);
  // Like find() but never deletes: an expired key reads as missing.
  const Value* peek(std::string_view key) const;
  bool exists(std::string_view key) { return find(key) != nullptr; }

  // Stores `o` under `key`, replacing any value. The TTL is dropped unless
  // keep_ttl is set; expire_ms >= 0 sets that TTL instead. Stamps the value's
  // LRU clock (a new object's access time, as Redis's createObject). Returns
  // the stored value; a Value& to the key's previous value is invalid
  // afterwards.
  Value& set(std::string_view key, Object o, bool keep_ttl = false, int64_t expire_ms = -1);
  // Stores `o` under `key`, which must not exist (callers have just looked
  // it up), with TTL `expire_ms` (-1: none). Stamps the LRU clock like set()
  // unless keep_lru. Returns the stored value.
  Value& add(std::string_view key, Object o, int64_t expire_ms = -1, bool keep_lru = false);
  // Removes `key` (and its TTL). True if it existed (and was not expired).
  // An implicit delete (Redis's dbDelete): the value goes to the
  // FreeControl's lazy_free when lazy_server_del is on.
  bool erase(std::string_view key);
  // The same, always freeing the value here (DEL: Redis's dbSyncDelete).
  bool erase_sync(std::string_view key);
  // Deletes `key` whether or not its TTL has passed (maxmemory eviction,
  // Redis's dbSyncDelete); false if absent. Unlike erase(), it does not
  // note the bytes freed (base::note_freed): the caller measures them.
  bool evict(std::string_view key);
  // The same, handing the value back (to be freed elsewhere: lazyfree).
  std::optional<Object> evict_take(std::string_view key);
  // Removes `key` and returns its value and TTL (-1 for none).
  std::optional<std::pair<Object, int64_t>> take(std::string_view key);

  size_t size() const { return keys_.size(); }
  size_t expires_size() const { return keys_.expires_size(); }
  void clear();

  // Expiry. expire_at returns -1 when the key has no TTL (or is missing).
  int64_t expire_at(std::string_view key) const;
  // Sets the TTL of an existing key. A Value& to that key is invalid
  // afterwards (the entry may move); the new one is returned.
  Value* set_expire(std::string_view key, int64_t when_ms);
  // Drops the TTL; true if there was one. A Value& to the key is invalid
  // afterwards.
  bool persist(std::string_view key);
  // True if `key` exists with a TTL that has passed (not yet reclaimed).
  bool is_expired(std::string_view key) const;

  // SCAN over keys (dictScan guarantees). fn(std::string_view key, Value&).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return keys_.scan(cursor, [&](Value& v) { fn(v.key(), v); });
  }
  template <class F>
  void for_each(F&& fn) {
    keys_.for_each([&](Value& v) { fn(v.key(), v); });
  }

  // A random live key (expired ones met on the way are reclaimed), or
  // nullopt if the database is empty.
  std::optional<std::string> random_key(base::Rng& rng);

  // One round of active expiry, as Redis 7.0's activeExpireCycle loop: goes
  // on walking the keyspace with the database's expiry cursor (whole SCAN
  // buckets) until `samples` keys with a TTL were seen, or kVisitsPerSample
  // times as many keys in all, and deletes the expired ones. A pass over the
  // keyspace visits every key once. Returns (keys with a TTL seen, expired).
  std::pair<size_t, size_t> expire_cycle_step(size_t samples);
  static constexpr size_t kVisitsPerSample = 100;

  // Average TTL of sampled keys in ms (INFO keyspace avg_ttl).
  long long avg_ttl() const { return avg_ttl_; }

  // SWAPDB: exchanges contents (keys, TTLs, statistics), not ids or hooks.
  void swap_contents(Database& other);

  // Called after a key is deleted because its time passed.
  std::function<void(Database&, std::string_view key)> on_expired;
  // How long deleting the latest expired key took (µs), for on_expired
  // (the latency monitor's "expire-del").
  int64_t last_expire_delete_us() const { return last_expire_delete_us_; }

  // While set (loading a dump or an AOF), keys never expire: lookups see
  // them and nothing is deleted (Redis does not expire while loading).
  void set_expiry_suspended(bool suspended) { expiry_suspended_ = suspended; }
  // The control that says who expires keys (nullptr: this database does).
  void set_expiry_control(const ExpiryControl* c) { expiry_control_ = c; }
  // How deleted values are freed (nullptr: here, at once).
  void set_free_control(const FreeControl* c) { free_control_ = c; }

  // Active rehashing (Redis's incrementallyRehash): rehash steps of 100
  // buckets until the keyspace table is rehashed or `budget_us` passed.
  // True if there was rehashing to do.
  bool rehash_for(int64_t budget_us);

  // --- point-in-time snapshots (see the top of this file) ---
  // Attaches `o` (nullptr detaches) and sets the mark meaning "saved".
  void set_snapshot_observer(SnapshotObserver* o, bool mark) {
    observer_ = o;
    mark_ = mark;
  }
  SnapshotObserver* snapshot_observer() const { return observer_; }
  bool snapshot_mark() const { return mark_; }
  // Saves `key` now if a snapshot runs and has not saved it (a write is
  // coming that the database cannot see, e.g. through a pointer).
  void prepare_write(std::string_view key);
  // The keyspace, for a snapshot's scan (callbacks must not modify it).
  Keyspace& key_table() { return keys_; }
  // Moves every key and TTL out, leaving the database empty (a snapshot
  // keeps what a FLUSH would destroy, to save it later).
  Keyspace take_contents();
  // Bytes the keyspace spends beyond keys and values (Keyspace::overhead_bytes).
  size_t overhead_bytes() const { return keys_.overhead_bytes(); }

 private:
  bool expire_if_needed(std::string_view key);
  // The snapshot hook for an existing entry.
  void before_change(std::string_view key, Value& v) {
    if (observer_ != nullptr && v.snap_mark() != mark_) {
      observer_->save_before_change(*this, key, v, v.expire_ms());
      v.set_snap_mark(mark_);
    }
  }

  int id_;
  Keyspace keys_;
  long long avg_ttl_ = 0;
  uint64_t expire_cursor_ = 0;  // active expiry's place in the keyspace
  int64_t last_expire_delete_us_ = 0;
  SnapshotObserver* observer_ = nullptr;
  bool mark_ = false;  // Value::snap_mark() of saved (and new) keys
  bool expiry_suspended_ = false;
  const ExpiryControl* expiry_control_ = nullptr;
  const FreeControl* free_control_ = nullptr;
  // Frees the value `key` holds, lazily if `lazy` (and a lazy_free is set),
  // and removes the key.
  bool remove(std::string_view key, Value& v, bool lazy);
  ExpiryMode expiry_mode() const {
    return expiry_suspended_ ? ExpiryMode::kSuspended
           : expiry_control_ ? expiry_control_->mode
                             : ExpiryMode::kActive;
  }
};

}  // namespace setd::db
